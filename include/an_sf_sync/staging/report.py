"""The sync report's data: per run, what moved per object and direction, its rejects, its conflicts.

It reads the staging Postgres (connection ``an_sf_staging``, else the embedded server) and never
writes to it, not even a migration: a table or column the database does not have yet — a fresh
database, or one migrated before the reconcile tables or the reject status — reads as empty (or
every reject as open), so the report renders from the first minute. Runs that extracted data but
never finished show as ``incomplete``. Rejects are split by :mod:`an_sf_sync.reasons` into
problems and records that are simply not in the sync's scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row

from an_sf_sync.plan import Action, Direction, Step
from an_sf_sync.reasons import NOT_PROBLEMS, NOTE, OUT_OF_SCOPE, reason

Connection = psycopg.Connection[DictRow]  # the report reads rows as dicts

TABLES = ("sync.runs", "staging.extracts", "staging.plan", "sync.rejects", "sync.conflicts", "sync.settings")
REJECT_STATUS = "sync.rejects.status"  # a pseudo-table: the reject status column exists
LIST_LIMIT = 50
DETAIL_LIMIT = 200
SAMPLE_SIZE = 5
HISTORY_DAYS = 7

# How an admin calls the records, by the ``object`` of plan rows and rejects
GROUPS = {"person": "People", "contact": "People", "subscription": "People",
          "campaign": "Campaigns", "action": "Campaigns",
          "member": "Campaign members", "campaign member": "Campaign members", "participation": "Campaign members",
          "opportunity": "Donations", "donation": "Donations", "contact_role": "Donations", "contact role": "Donations"}
GROUP_ORDER = ("People", "Campaigns", "Campaign members", "Donations")
# ... and the extract counts that are records read, by (source, key)
READ_GROUPS = {("actionnetwork", "people"): "People", ("actionnetwork", "actions"): "Campaigns",
               ("actionnetwork", "participations"): "Campaign members", ("actionnetwork", "donations"): "Donations",
               ("salesforce", "contacts"): "People", ("salesforce", "campaigns"): "Campaigns",
               ("salesforce", "campaign_members"): "Campaign members", ("salesforce", "opportunities"): "Donations"}
DIRECTION_OF_SOURCE = {"actionnetwork": Direction.TO_SALESFORCE, "salesforce": Direction.TO_ACTIONNETWORK}
# plan actions -> the report's columns
ACTION_COLUMNS = {Action.CREATE: "created", Action.UPDATE: "updated", Action.LINK: "linked", Action.RESTORE: "linked",
                  Action.MOVE: "linked",
                  Action.RETIRE: "unlinked", Action.SUBSCRIBE: "subscribed", Action.UNSUBSCRIBE: "unsubscribed"}
COLUMNS = ("read", "created", "updated", "linked", "unlinked", "subscribed", "unsubscribed", "waiting",
           "noted", "not_in_scope", "skipped", "failed")
SCOPES = ("problems", "not_in_scope", "all")
# sync.settings keys the extract tasks keep current -> the system whose records they open
LINK_SETTINGS = {"salesforce_instance_url": "salesforce", "actionnetwork_api_url": "actionnetwork"}


def group_of(obj: str) -> str:
    return GROUPS.get(obj, obj.replace("_", " ").capitalize())


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    status: str  # succeeded | failed | running (from sync.runs) | incomplete (extracted only)
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, Any]  # sync.runs.summary, or {"extracted": {source: counts}} for an incomplete run
    rejects: int = 0  # open problems
    conflicts: int = 0
    not_in_scope: int = 0
    moved: int = 0  # records written to either side
    dry_run: bool = False

    @property
    def read(self) -> int:
        return sum(n for (source, key), _ in READ_GROUPS.items()
                   if isinstance(n := self.counts.get("extracted", {}).get(source, {}).get(key), int))


@dataclass
class ObjectRow:
    group: str
    direction: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))


@dataclass(frozen=True)
class RejectFilter:
    reason: str | None = None
    object: str | None = None
    scope: str = "problems"

    def sql(self, has_status: bool) -> tuple[str, dict[str, Any]]:
        """The WHERE clause (after ``run_id``) and its parameters."""
        where = ["run_id = %(run_id)s"]
        if has_status:
            where.append("status = 'open'")
        if self.scope == "problems":
            where.append("reason_code <> ALL(%(not_problems)s)")
        elif self.scope == "not_in_scope":
            where.append("reason_code = ANY(%(out_of_scope)s)")
        if self.reason:
            where.append("reason_code = %(reason)s")
        if self.object:
            where.append("object = %(object)s")
        return " AND ".join(where), {"not_problems": sorted(NOT_PROBLEMS), "out_of_scope": sorted(OUT_OF_SCOPE),
                                     "reason": self.reason, "object": self.object}


PROBLEMS = RejectFilter()  # the default view: open rejects someone has to fix


@dataclass
class RunDetail:
    run: RunSummary
    objects: list[ObjectRow] = field(default_factory=list)
    reject_reasons: list[dict[str, Any]] = field(default_factory=list)  # object, reason_code, records, open
    rejects: list[dict[str, Any]] = field(default_factory=list)  # the open ones matching the filter
    matching: int = 0  # how many rejects match the filter (``rejects`` holds the first DETAIL_LIMIT)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)  # dry run: object, direction, action, records, sample
    links: dict[str, str] = field(default_factory=dict)  # salesforce / actionnetwork record URL bases
    pruned: bool = False  # retention removed its staged copies and plan: only the summary and rejects remain


def connect() -> Connection:
    from an_sf_sync.staging.db import resolve_conninfo

    return psycopg.connect(resolve_conninfo(), row_factory=dict_row)


def existing_tables(conn: Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NOT NULL",
                        (list(TABLES),)).fetchall()
    found = {row["name"] for row in rows}
    if "sync.rejects" in found and conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = 'sync' AND table_name = 'rejects'"
            " AND column_name = 'status'").fetchone():
        found.add(REJECT_STATUS)
    return found


def _runs_query(tables: set[str]) -> str | None:
    """The union of finished runs and extract-only runs, over the tables that exist."""
    parts = []
    if "sync.runs" in tables:
        parts.append("SELECT run_id, status, started_at, finished_at, summary, dry_run FROM sync.runs")
    if "staging.extracts" in tables:
        unfinished = ("WHERE NOT EXISTS (SELECT 1 FROM sync.runs r WHERE r.run_id = e.run_id)"
                      if "sync.runs" in tables else "")
        parts.append("SELECT e.run_id, 'incomplete', min(e.extracted_at), NULL::timestamptz,"
                     " jsonb_build_object('extracted', jsonb_object_agg(e.source, e.counts)), false"
                     f" FROM staging.extracts e {unfinished} GROUP BY e.run_id")
    return " UNION ALL ".join(parts) or None


def _count(conn: Connection, sql: str, params: Any) -> int:
    row = conn.execute(sql, params).fetchone()
    return row["n"] if row else 0


def _per_run(conn: Connection, sql: str, run_ids: list[str], **params: Any) -> dict[str, int]:
    if not run_ids:
        return {}
    return {row["run_id"]: row["n"] for row in conn.execute(sql, {"ids": run_ids, **params}).fetchall()}


def runs(conn: Connection, run_id: str | None = None, limit: int = LIST_LIMIT,
         since: datetime | None = None) -> list[RunSummary]:
    """The latest runs, newest first (or just ``run_id``; or those since ``since``), with their counts."""
    tables = existing_tables(conn)
    union = _runs_query(tables)
    if union is None:
        return []
    rows = conn.execute(
        f"SELECT * FROM ({union}) AS r(run_id, status, started_at, finished_at, summary, dry_run)"
        " WHERE (%(run_id)s::text IS NULL OR run_id = %(run_id)s)"
        " AND (%(since)s::timestamptz IS NULL OR coalesce(finished_at, started_at) >= %(since)s)"
        " ORDER BY coalesce(finished_at, started_at) DESC NULLS LAST, run_id DESC LIMIT %(limit)s",
        {"run_id": run_id, "limit": limit, "since": since}).fetchall()
    ids = [row["run_id"] for row in rows]
    problems = not_in_scope = conflicts = moved = {}
    if "sync.rejects" in tables:
        open_only = "AND status = 'open'" if REJECT_STATUS in tables else ""
        count = "SELECT run_id, count(*) AS n FROM sync.rejects WHERE run_id = ANY(%(ids)s)"
        problems = _per_run(conn, f"{count} AND reason_code <> ALL(%(scope)s) {open_only} GROUP BY run_id", ids,
                            scope=sorted(NOT_PROBLEMS))
        not_in_scope = _per_run(conn, f"{count} AND reason_code = ANY(%(scope)s) GROUP BY run_id", ids,
                                scope=sorted(OUT_OF_SCOPE))
    if "sync.conflicts" in tables:
        conflicts = _per_run(conn, "SELECT run_id, count(*) AS n FROM sync.conflicts WHERE run_id = ANY(%(ids)s)"
                                   " GROUP BY run_id", ids)
    if "staging.plan" in tables:
        moved = _per_run(conn, MOVED, ids, local=Direction.LOCAL)
    return [RunSummary(row["run_id"], row["status"], row["started_at"], row["finished_at"], row["summary"] or {},
                       problems.get(row["run_id"], 0), conflicts.get(row["run_id"], 0),
                       not_in_scope.get(row["run_id"], 0),
                       # a run whose plan retention removed: the count its summary recorded
                       moved.get(row["run_id"], (row["summary"] or {}).get("moved", 0)), bool(row["dry_run"]))
            for row in rows]


def history(conn: Connection, now: datetime, days: int = HISTORY_DAYS) -> list[RunSummary]:
    """The runs of the last ``days`` days, oldest first: the all-runs chart."""
    return list(reversed(runs(conn, since=now - timedelta(days=days), limit=24 * days * 2)))


# Records written to either side, per run: a record created and subscribed is one record moved.
MOVED = ("SELECT run_id, count(DISTINCT (object, direction, coalesce(an_id, ''), coalesce(sf_id, ''))) AS n"
         " FROM staging.plan WHERE run_id = ANY(%(ids)s) AND status = 'done' AND direction <> %(local)s"
         " GROUP BY run_id")
# Plan rows per kind; a local "link" row is a new pair unless the pair was linked by an earlier run.
_PLAN_COUNTS = (
    "SELECT object, direction, action, status, count(*) AS n, action = %(link)s AND (an_id IS NULL OR sf_id IS NULL"
    " OR NOT EXISTS (SELECT 1 FROM sync.contact_links l WHERE l.an_id = p.an_id AND l.linked_run <> p.run_id))"
    " AS new_pair FROM staging.plan p WHERE run_id = %(run)s GROUP BY 1, 2, 3, 4, 6")


def object_rows(conn: Connection, run: RunSummary, tables: set[str]) -> list[ObjectRow]:
    """Per object group and direction: read, written by kind, waiting, not in scope, skipped, failed."""
    rows: dict[tuple[str, str], ObjectRow] = {}

    def row(group: str, direction: str) -> ObjectRow:
        return rows.setdefault((group, direction), ObjectRow(group, direction))

    for source, counts in run.counts.get("extracted", {}).items():
        for key, n in (counts or {}).items():
            if (source, key) in READ_GROUPS and isinstance(n, int):
                row(READ_GROUPS[source, key], DIRECTION_OF_SOURCE[source]).counts["read"] += n
    if "staging.plan" in tables:
        for r in conn.execute(_PLAN_COUNTS, {"run": run.run_id, "link": Action.LINK}):
            if r["action"] == Action.LINK and not r["new_pair"]:
                continue  # an existing pair's last synced values, recorded again: bookkeeping, not news
            written = r["status"] == "done" or (run.dry_run and r["status"] == "pending")
            column = (ACTION_COLUMNS.get(r["action"], "updated") if written
                      else "waiting" if r["status"] in ("pending", "attempting") else None)
            if column:  # a failed row is counted by its reject
                row(group_of(r["object"]), r["direction"]).counts[column] += r["n"]
    if "sync.rejects" in tables:
        for r in conn.execute("SELECT source, object, reason_code, payload->>'step' = ANY(%s) AS load,"
                              " count(*) AS n FROM sync.rejects WHERE run_id = %s GROUP BY 1, 2, 3, 4",
                              (list(Step), run.run_id)):
            kind = reason(r["reason_code"]).kind
            column = ("not_in_scope" if r["reason_code"] in OUT_OF_SCOPE else "noted" if kind == NOTE
                      else "failed" if r["load"] else "skipped")
            row(group_of(r["object"]), DIRECTION_OF_SOURCE.get(r["source"], Direction.LOCAL)).counts[column] += r["n"]

    def order(key: tuple[str, str]) -> tuple[int, str, int]:
        group, direction = key
        rank = GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)
        directions: list[str] = list(Direction)
        return rank, group, directions.index(direction) if direction in directions else len(directions)

    return [rows[key] for key in sorted(rows, key=order)]


def _preview(conn: Connection, run_id: str, sample: int) -> list[dict[str, Any]]:
    """What a dry run would write, per object, direction and action, with the first few records."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in conn.execute(
            "SELECT object, direction, action, an_id, sf_id, payload, total FROM ("
            " SELECT *, row_number() OVER w AS nth, count(*) OVER (PARTITION BY object, direction, action) AS total"
            " FROM staging.plan WHERE run_id = %s AND direction <> %s"
            " WINDOW w AS (PARTITION BY object, direction, action ORDER BY step, seq)) p"
            " WHERE nth <= %s ORDER BY object, direction, action, nth", (run_id, Direction.LOCAL, sample)):
        entry = found.setdefault((r["object"], r["direction"], r["action"]), {
            "object": r["object"], "direction": r["direction"], "action": r["action"], "records": r["total"],
            "sample": []})
        entry["sample"].append({"an_id": r["an_id"], "sf_id": r["sf_id"], "payload": r["payload"] or {}})
    return list(found.values())


def record_links(conn: Connection, tables: set[str]) -> dict[str, str]:
    """Where records open: the Salesforce org's instance URL and the Action Network API, as last seen."""
    if "sync.settings" not in tables:
        return {}
    rows = conn.execute("SELECT key, value FROM sync.settings WHERE key = ANY(%s)", (list(LINK_SETTINGS),))
    return {LINK_SETTINGS[row["key"]]: row["value"] for row in rows if isinstance(row["value"], str)}


def run_detail(conn: Connection, run_id: str, rejects: RejectFilter = PROBLEMS,
               limit: int = DETAIL_LIMIT, sample: int = SAMPLE_SIZE) -> RunDetail | None:
    """One run: its object table, reject reasons, the open rejects matching ``rejects`` and conflicts."""
    found = runs(conn, run_id=run_id, limit=1)
    if not found:
        return None
    tables = existing_tables(conn)
    run = found[0]
    detail = RunDetail(run, objects=object_rows(conn, run, tables), links=record_links(conn, tables),
                       pruned="staging.extracts" in tables and run.status != "incomplete" and not conn.execute(
                           "SELECT 1 FROM staging.extracts WHERE run_id = %s", (run_id,)).fetchone())
    if "sync.rejects" in tables:
        is_open = "status = 'open'" if REJECT_STATUS in tables else "true"
        detail.reject_reasons.extend(conn.execute(
            f"SELECT object, reason_code, count(*) AS records, count(*) FILTER (WHERE {is_open}) AS open"
            " FROM sync.rejects WHERE run_id = %s GROUP BY object, reason_code"
            " ORDER BY records DESC, object, reason_code", (run_id,)).fetchall())
        where, params = rejects.sql(REJECT_STATUS in tables)
        params = {**params, "run_id": run_id, "limit": limit}
        detail.matching = _count(conn, f"SELECT count(*) AS n FROM sync.rejects WHERE {where}", params)
        detail.rejects.extend(conn.execute(
            "SELECT source, object, record_id, reason_code, message FROM sync.rejects"
            f" WHERE {where} ORDER BY id LIMIT %(limit)s", params).fetchall())
    if "sync.conflicts" in tables:
        detail.conflicts.extend(conn.execute(
            "SELECT an_id, sf_id, field, an_value, sf_value, winner FROM sync.conflicts WHERE run_id = %s"
            " ORDER BY id LIMIT %s", (run_id, limit)).fetchall())
    if run.dry_run and "staging.plan" in tables:
        detail.preview = _preview(conn, run_id, sample)
    return detail


def iter_rejects(conn: Connection, run_id: str, rejects: RejectFilter,
                 batch: int = 5_000) -> Iterator[dict[str, Any]]:
    """Every reject of a run matching ``rejects``, streamed in batches (the CSV download)."""
    tables = existing_tables(conn)
    if "sync.rejects" not in tables:
        return
    where, params = rejects.sql(REJECT_STATUS in tables)
    with conn.transaction(), conn.cursor(name="rejects_csv") as cur:  # server-side: bounded memory
        cur.itersize = batch
        cur.execute("SELECT source, object, record_id, reason_code, message, created_at FROM sync.rejects"
                    f" WHERE {where} ORDER BY id", {**params, "run_id": run_id})
        yield from cur


def new_problem_rejects(conn: Connection, run_id: str) -> tuple[int, int]:
    """(records the run read, its problem rejects that no earlier run had: neither carried over from one
    (``first_run``) nor rejected for the same reason there before)."""
    extracted = conn.execute("SELECT source, counts FROM staging.extracts WHERE run_id = %s", (run_id,)).fetchall()
    read = sum(n for row in extracted for key, n in (row["counts"] or {}).items()
               if (row["source"], key) in READ_GROUPS and isinstance(n, int))
    new = _count(
        conn, "SELECT count(*) AS n FROM sync.rejects r WHERE r.run_id = %s AND r.reason_code <> ALL(%s)"
        " AND coalesce(r.first_run, r.run_id) = r.run_id"  # a problem seen again keeps the run it began in
        " AND NOT EXISTS (SELECT 1 FROM sync.rejects e WHERE e.record_id = r.record_id AND e.source = r.source"
        " AND e.object = r.object AND e.reason_code = r.reason_code AND e.run_id <> r.run_id"
        " AND e.created_at < r.created_at)", (run_id, sorted(NOT_PROBLEMS)))
    return read, new


def api_usage(conn: Connection, run_id: str) -> tuple[dict[str, int] | None, dict[str, int] | None]:
    """The Salesforce API usage ``{used, total}`` a finished run recorded, and the one recorded before it."""
    rows = conn.execute(
        "SELECT r.run_id, r.summary->'salesforce_api' AS usage FROM sync.runs r, sync.runs this"
        " WHERE this.run_id = %s AND r.finished_at <= this.finished_at AND r.summary ? 'salesforce_api'"
        " AND jsonb_typeof(r.summary->'salesforce_api') = 'object' AND NOT r.dry_run"
        " ORDER BY r.finished_at DESC LIMIT 2", (run_id,)).fetchall()
    usage = [row["usage"] for row in rows]
    if not rows or rows[0]["run_id"] != run_id:
        return None, usage[0] if usage else None
    return usage[0], usage[1] if len(usage) > 1 else None
