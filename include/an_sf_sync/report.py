"""The sync report: per run, what moved, what was skipped and what conflicted, as escaped HTML.

It reads the staging Postgres (connection ``an_sf_staging``, else the embedded server) and never
writes to it, not even a migration: a table the database does not have yet — a fresh database, or
the reconcile tables before that migration ran — reads as empty, so the report renders from the
first minute. Runs that extracted data but never finished show as ``incomplete``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.rows import dict_row

TABLES = ("sync.runs", "staging.extracts", "sync.rejects", "sync.conflicts")
LIST_LIMIT = 50
DETAIL_LIMIT = 200


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    status: str  # succeeded | failed | running (from sync.runs) | incomplete (extracted only)
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, Any]  # sync.runs.summary, or {"extracted": {source: counts}} for an incomplete run
    rejects: int = 0
    conflicts: int = 0


@dataclass(frozen=True)
class RunDetail:
    run: RunSummary
    reject_reasons: list[dict[str, Any]] = field(default_factory=list)  # object, reason_code, records
    rejects: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def connect() -> psycopg.Connection:
    from an_sf_sync.staging.db import resolve_conninfo

    return psycopg.connect(resolve_conninfo(), row_factory=dict_row)


def existing_tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NOT NULL",
                        (list(TABLES),)).fetchall()
    return {row["name"] for row in rows}


def _runs_query(tables: set[str]) -> str | None:
    """The union of finished runs and extract-only runs, over the tables that exist."""
    parts = []
    if "sync.runs" in tables:
        parts.append("SELECT run_id, status, started_at, finished_at, summary FROM sync.runs")
    if "staging.extracts" in tables:
        unfinished = ("WHERE NOT EXISTS (SELECT 1 FROM sync.runs r WHERE r.run_id = e.run_id)"
                      if "sync.runs" in tables else "")
        parts.append("SELECT e.run_id, 'incomplete', min(e.extracted_at), NULL::timestamptz,"
                     " jsonb_build_object('extracted', jsonb_object_agg(e.source, e.counts))"
                     f" FROM staging.extracts e {unfinished} GROUP BY e.run_id")
    return " UNION ALL ".join(parts) or None


def _per_run_counts(conn: psycopg.Connection, table: str, tables: set[str], run_ids: list[str]) -> dict[str, int]:
    if table not in tables or not run_ids:
        return {}
    rows = conn.execute(f"SELECT run_id, count(*) AS n FROM {table} WHERE run_id = ANY(%s) GROUP BY run_id",
                        (run_ids,)).fetchall()
    return {row["run_id"]: row["n"] for row in rows}


def runs(conn: psycopg.Connection, run_id: str | None = None, limit: int = LIST_LIMIT) -> list[RunSummary]:
    """The latest runs, newest first (or just ``run_id``), with their reject and conflict counts."""
    tables = existing_tables(conn)
    union = _runs_query(tables)
    if union is None:
        return []
    rows = conn.execute(
        f"SELECT * FROM ({union}) AS r(run_id, status, started_at, finished_at, summary)"
        " WHERE %(run_id)s::text IS NULL OR run_id = %(run_id)s"
        " ORDER BY coalesce(finished_at, started_at) DESC NULLS LAST, run_id DESC LIMIT %(limit)s",
        {"run_id": run_id, "limit": limit}).fetchall()
    ids = [row["run_id"] for row in rows]
    rejects = _per_run_counts(conn, "sync.rejects", tables, ids)
    conflicts = _per_run_counts(conn, "sync.conflicts", tables, ids)
    return [RunSummary(row["run_id"], row["status"], row["started_at"], row["finished_at"], row["summary"] or {},
                       rejects.get(row["run_id"], 0), conflicts.get(row["run_id"], 0)) for row in rows]


def run_detail(conn: psycopg.Connection, run_id: str, limit: int = DETAIL_LIMIT) -> RunDetail | None:
    """One run with its reject reasons and the first ``limit`` rejects and conflicts."""
    found = runs(conn, run_id=run_id, limit=1)
    if not found:
        return None
    tables = existing_tables(conn)
    detail = RunDetail(found[0])
    if "sync.rejects" in tables:
        detail.reject_reasons.extend(conn.execute(
            "SELECT object, reason_code, count(*) AS records FROM sync.rejects WHERE run_id = %s"
            " GROUP BY object, reason_code ORDER BY records DESC, object, reason_code", (run_id,)).fetchall())
        detail.rejects.extend(conn.execute(
            "SELECT source, object, record_id, reason_code, message FROM sync.rejects WHERE run_id = %s"
            " ORDER BY id LIMIT %s", (run_id, limit)).fetchall())
    if "sync.conflicts" in tables:
        detail.conflicts.extend(conn.execute(
            "SELECT an_id, sf_id, field, an_value, sf_value, winner FROM sync.conflicts WHERE run_id = %s"
            " ORDER BY id LIMIT %s", (run_id, limit)).fetchall())
    return detail


# ---- HTML ------------------------------------------------------------------------------------

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.25rem; color: #1a202c; background: #fff; }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; } h2 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
p.lead { color: #4a5568; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e2e8f0; vertical-align: top; }
th { background: #f7fafc; font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.status { padding: .05rem .45rem; border-radius: .6rem; font-size: .8rem; background: #edf2f7; }
.succeeded { background: #c6f6d5; } .failed { background: #fed7d7; } .incomplete { background: #fefcbf; }
ul.counts { margin: 0; padding: 0; list-style: none; } .group { color: #4a5568; } .empty { color: #718096; font-style: italic; }
a { color: #2b6cb0; }
"""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """A nested summary as (("extracted", "actionnetwork", "people"), 12) pairs, in order."""
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, str(key)))]
    return [(path, value)]


def _counts(summary: dict[str, Any], numbers_only: bool) -> str:
    """One line per group: "extracted · actionnetwork: people 12, actions 3"."""
    groups: dict[str, list[str]] = {}
    for path, value in _leaves(summary):
        if numbers_only and not (isinstance(value, int | float) and not isinstance(value, bool)):
            continue
        groups.setdefault(" · ".join(path[:-1]), []).append(
            f"{escape(path[-1] if path else '')} <b>{escape(str(value))}</b>")
    if not groups:
        return '<span class="empty">none</span>'
    return '<ul class="counts">' + "".join(
        f'<li><span class="group">{escape(group)}</span> {", ".join(items)}</li>'
        for group, items in groups.items()) + "</ul>"


def _when(value: datetime | None) -> str:
    return escape(value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()) if value else "—"


def _status(status: str) -> str:
    return f'<span class="status {escape(status)}">{escape(status)}</span>'


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    """``rows`` hold rendered cells; with no rows, the ``empty`` sentence (if any) stands instead."""
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>' if empty else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value: Any, numeric: bool = False) -> str:
    return f'<td class="n">{escape(str(value))}</td>' if numeric else f"<td>{escape(str(value))}</td>"


def run_link(run_id: str) -> str:
    """Where a run's detail page is, relative to the report's root."""
    return f"run?run_id={quote(run_id, safe='')}"


def render_runs(summaries: list[RunSummary]) -> str:
    rows = [[f'<td><a href="{escape(run_link(s.run_id))}">{escape(s.run_id)}</a></td>', f"<td>{_status(s.status)}</td>",
             f"<td>{_when(s.started_at)}</td>", f"<td>{_when(s.finished_at)}</td>",
             f"<td>{_counts(s.counts, numbers_only=True)}</td>", _td(s.rejects, True), _td(s.conflicts, True)]
            for s in summaries]
    return _page("Sync report", (
        "<h1>Sync report</h1><p class=\"lead\">Action Network ⇄ Salesforce: the latest runs, what each moved,"
        " the records it skipped (rejects, each with a reason) and the fields both sides changed (conflicts)."
        "</p>" + _table(["Run", "Status", "Started", "Finished", "Counts", "Rejects", "Conflicts"], rows,
                        "No runs recorded yet: trigger the DAG, and each run shows up here.")))


def render_run(detail: RunDetail | None, run_id: str) -> str:
    if detail is None:
        return _page(f"Sync report: {run_id}", (
            f"<h1>Run {escape(run_id)}</h1><p class=\"empty\">This run has recorded nothing in staging yet.</p>"
            '<p><a href="./">All runs</a></p>'))
    run = detail.run
    reasons = [[_td(r["object"]), _td(r["reason_code"]), _td(r["records"], True)] for r in detail.reject_reasons]
    rejects = [[_td(r[k] if r[k] is not None else "") for k in ("source", "object", "record_id", "reason_code",
                                                                "message")] for r in detail.rejects]
    conflicts = [[_td(c[k] if c[k] is not None else "") for k in ("field", "an_id", "sf_id", "an_value", "sf_value",
                                                                  "winner")] for c in detail.conflicts]
    return _page(f"Sync report: {run.run_id}", (
        f"<h1>Run {escape(run.run_id)} {_status(run.status)}</h1>"
        f'<p class="lead">Started {_when(run.started_at)}, finished {_when(run.finished_at)}.'
        ' <a href="./">All runs</a></p>'
        f"<h2>Counts</h2>{_counts(run.counts, numbers_only=False)}"
        f"<h2>Rejects ({run.rejects})</h2>"
        + _table(["Object", "Reason", "Records"], reasons, "Nothing was rejected.")
        + _table(["Source", "Object", "Record", "Reason", "Message"], rejects, "")
        + f"<h2>Conflicts ({run.conflicts})</h2>"
        + _table(["Field", "Action Network id", "Salesforce id", "Action Network value", "Salesforce value",
                  "Winner"], conflicts, "No field was changed on both sides.")))
