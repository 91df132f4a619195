"""Pending records: what could not be written yet is retried by later runs on its own.

A record is skipped when something it depends on is not ready (its donor or Contact not synced
yet, a Campaign not created yet, an email another Contact still holds) or when an API refused it.
Nobody should have to re-save it once the cause is gone, and the cause may go away in a run that
never reads the record again. So its last staged copy is kept in ``sync.pending`` and put back into
every later run's staging (``restage``), where reconcile and load treat it like a fresh change,
until it goes through. Dependencies are re-checked every run (that costs no API call); records an
API refused are retried with a growing pause (next run, then 1, 3, 7, 15, at most 24 hours). Writes
a run's Action Network write budget left for later runs wait here too (see ``load.budget``).

Rejects are ``open`` until a run sees their record again without that problem (``resolved``); a
problem seen again is one row, the newest run's, which keeps the run it was first seen in
(``first_run``) — see ``settle``.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import namedtuple_row

from an_sf_sync.plan import Direction, Obj, Step
from an_sf_sync.staging import inputs
from an_sf_sync.staging.store import scalar

# staging table -> its id column: the records that can wait in the queue
KINDS = {"an_people": "an_id", "sf_contacts": "sf_id", "an_participations": "an_id", "an_donations": "an_id",
         "sf_campaigns": "sf_id", "sf_campaign_members": "sf_id", "sf_opportunities": "sf_id"}
PEOPLE = ("an_people", "sf_contacts")  # the kinds that are activists and Contacts
BACKLOG = "BACKLOG"  # the reason of the writes the write budget left for later runs (see load.budget)
# a taker, member or donation whose person is not synced (with the people it waits for: a load's failure)
UNSYNCED = ("PERSON_NOT_SYNCED", "CONTACT_NOT_SYNCED", "DONOR_NOT_SYNCED")
# Causes that another record's change removes: re-checked every run. Every other cause of a
# pending record is an API's refusal, retried with backoff.
DEPENDENCIES = frozenset({"DONOR_NOT_SYNCED", "DONOR_NOT_SUBSCRIBED", "PERSON_NOT_SYNCED", "CONTACT_NOT_SYNCED",
                          "NOT_IN_SUBSCRIBERS_CAMPAIGN", "BLOCKED", "EMAIL_HELD_BY_ANOTHER_CONTACT",
                          "CAMPAIGN_DELETED_IN_SALESFORCE", "SYNC_STOPPED", "EMAIL_OF_SYNCED_ACTIVIST",
                          "EMAIL_OF_SYNCED_CONTACT", "BACKLOG"})
# Reconcile's own rejects that wait on another record (load failures always do): code -> kind
WAITING = {"DONOR_NOT_SYNCED": "sf_opportunities", "DONOR_NOT_SUBSCRIBED": "sf_opportunities",
           "EMAIL_HELD_BY_ANOTHER_CONTACT": "an_people", "SYNC_STOPPED": "an_people",
           "EMAIL_OF_SYNCED_ACTIVIST": "sf_contacts", "EMAIL_OF_SYNCED_CONTACT": "an_people"}
# Rejects reported once, when a state begins: a later run that sees the record without them has
# not fixed anything. They are resolved when the state ends (the pair or Campaign is active again, or
# the Contact is no one's any more: its activist syncs with one created in its place; a Contact of a
# waiting first match is its activist's until the pair is linked).
STATES = {"EMAIL_CHANGED_IN_SALESFORCE": "contact", "CONTACT_DELETED_IN_SALESFORCE": "contact",
          "CONTACT_MERGED_INTO_SYNCED_CONTACT": "contact",
          "CAMPAIGN_DELETED_IN_SALESFORCE": "campaign", "DUPLICATE_EMAIL": None}
MAX_PAUSE_HOURS = 24
RETRIED = f"p.reason_code <> '{BACKLOG}'"  # a queued record (``sync.pending p``) not in the backlog, as indexed


def in_backlog(alias: str) -> str:
    """The queued records (``sync.pending alias``) of the write budget's backlog."""
    return f"{alias}.reason_code = '{BACKLOG}'"


def due(alias: str) -> str:
    """The queued records (``sync.pending alias``) that a run may take back."""
    return f"{alias}.next_attempt_at <= now()"


def taker_kind(action_type: str | None) -> str:
    """The staged kind of an action's taker: a fundraising page's are its donations."""
    return "an_donations" if action_type == "fundraising_page" else "an_participations"


def load_record(step: Step, op: Any) -> tuple[str, str] | None:
    """The staged record whose re-staging retries a failed plan row of a load ``step``."""
    payload = op.payload if isinstance(op.payload, dict) else {}
    if step == Step.CONTACTS:
        sides = [("an_people", op.an_id), ("sf_contacts", op.sf_id)]
        if op.direction == Direction.TO_ACTIONNETWORK:
            sides.reverse()
        return next(((kind, rid) for kind, rid in sides if isinstance(rid, str)), None)
    if step == Step.CAMPAIGNS:
        if op.object == Obj.MEMBER and op.direction == Direction.TO_SALESFORCE and payload.get("taker_id"):
            return taker_kind(payload.get("action_type")), payload["taker_id"]
        if op.direction == Direction.TO_ACTIONNETWORK and isinstance(op.sf_id, str):
            return ("sf_campaign_members" if op.object == Obj.MEMBER else "sf_campaigns"), op.sf_id
        return None  # actions are read in full every run
    if step == Step.OPPORTUNITIES:
        if op.direction == Direction.TO_SALESFORCE and isinstance(op.an_id, str):
            return "an_donations", op.an_id
        if isinstance(op.sf_id, str):
            return "sf_opportunities", op.sf_id
    return None


def restage(conn: psycopg.Connection, run_id: str, backlog_batch: int | None = None) -> int:
    """Put the pending records that are due back into ``run_id``'s staging (unless it holds a newer
    copy); of the write budget's backlog, only the next ``backlog_batch`` records' pairs (see ``_take``)."""
    _take(conn, run_id, backlog_batch)
    count = 0
    for kind, id_column in KINDS.items():
        table = sql.Identifier("staging", kind)
        # LATERAL, not "(jsonb_populate_record(...)).*", which Postgres evaluates once per column
        count += conn.execute(sql.SQL(
            "INSERT INTO {table} SELECT r.* FROM taken t JOIN sync.pending p USING (kind, record_id),"
            " LATERAL jsonb_populate_record(NULL::{table}, p.row || jsonb_build_object('run_id', %(run)s::text)) r"
            " WHERE t.kind = %(kind)s"
            " AND NOT EXISTS (SELECT 1 FROM {table} s WHERE s.run_id = %(run)s AND s.{id} = p.record_id)"
        ).format(table=table, id=sql.Identifier(id_column)), {"run": run_id, "kind": kind}).rowcount
    conn.execute(
        "INSERT INTO staging.sf_opportunity_contact_roles SELECT r.* FROM taken t JOIN sync.pending p"
        " USING (kind, record_id), jsonb_array_elements(p.related) e,"
        " LATERAL jsonb_populate_record(NULL::staging.sf_opportunity_contact_roles,"
        " e.value || jsonb_build_object('run_id', %(run)s::text)) r WHERE t.kind = 'sf_opportunities'"
        " ON CONFLICT DO NOTHING", {"run": run_id})
    if count:
        # A big backlog re-staged is most of what reconcile reads: planned with the statistics of the
        # run's few fresh rows, a join of its Opportunities and Contact Roles ran for nine minutes.
        for name in (*KINDS, "sf_opportunity_contact_roles"):
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier("staging", name)))
    return count


def restage_contacts(conn: psycopg.Connection, run_id: str) -> int:
    """Put back into ``run_id``'s staging the last staged copy of each Contact that nothing changed but
    that may sync again because of another record; returns how many. Those are a Contact reported as
    a duplicate of a synced Contact since deleted (see ``inputs.RELEASED``), which may now pair with
    that Contact's activist, and a Contact whose email change stopped its pair when its activist
    (staged in this run) now has that email too (see ``inputs.RESUMABLE``): changed in Action Network
    instead, as the stop's reject suggests. The pair then resumes with both sides' changes."""
    contacts = [row[0] for row in conn.execute(inputs.RELEASED)]
    contacts += [row[0] for row in conn.execute(inputs.RESUMABLE, {"run": run_id})]
    if not contacts:
        return 0
    return conn.execute(
        "INSERT INTO staging.sf_contacts SELECT r.* FROM (SELECT DISTINCT ON (sf_id) * FROM staging.sf_contacts"
        "  WHERE sf_id = ANY(%(contacts)s) AND run_id <> %(run)s ORDER BY sf_id, system_modstamp DESC) latest,"
        " LATERAL jsonb_populate_record(NULL::staging.sf_contacts, to_jsonb(latest) || jsonb_build_object('run_id',"
        "  %(run)s::text)) r WHERE NOT latest.is_deleted AND NOT EXISTS (SELECT 1 FROM staging.sf_contacts s"
        "  WHERE s.run_id = %(run)s AND s.sf_id = latest.sf_id)", {"contacts": contacts, "run": run_id}).rowcount


def _take(conn: psycopg.Connection, run_id: str, batch: int | None) -> None:
    """Fill the temp table ``taken``: the queued records this run re-stages. Only due records are
    looked at (the others stay queued anyway), and of them not all.

    A taker, member or donation waiting for a person who cannot sync (no email, say) stays queued
    until that person is synced or changes, instead of failing again every hour. Of the write
    budget's backlog, a run takes ``batch`` records only (``None``: all): see ``_take_backlog``."""
    conn.execute("DROP TABLE IF EXISTS pg_temp.taken, pg_temp.batch_people")
    conn.execute("CREATE TEMP TABLE taken (kind text, record_id text, PRIMARY KEY (kind, record_id)) ON COMMIT DROP")
    params = {"contacts": list(PEOPLE), "run": run_id, "batch": batch, "unsynced": list(UNSYNCED)}
    # held while none of its people is synced or changed in this run (a record, a Subscribers membership)
    conn.execute(f"WITH waits AS (SELECT p.kind, p.record_id, u.id FROM sync.pending p, unnest(p.people) u (id)"
                 f"  WHERE p.reason_code = ANY(%(unsynced)s) AND {due('p')}),"
                 " ready AS (SELECT id FROM waits WHERE id IN (SELECT an_id FROM sync.contact_links WHERE state = 'active')"
                 "  UNION SELECT id FROM waits WHERE id IN (SELECT sf_id FROM sync.contact_links WHERE state = 'active')"
                 "  UNION SELECT id FROM waits WHERE id IN (SELECT an_id FROM staging.an_people WHERE run_id = %(run)s)"
                 "  UNION SELECT id FROM waits WHERE id IN (SELECT sf_id FROM staging.sf_contacts WHERE run_id = %(run)s)"
                 "  UNION SELECT id FROM waits WHERE id IN (SELECT contact_id FROM staging.sf_campaign_members"
                 "   WHERE run_id = %(run)s)),"
                 " held AS (SELECT kind, record_id FROM waits w WHERE NOT EXISTS"
                 "  (SELECT 1 FROM waits r JOIN ready USING (id) WHERE r.kind = w.kind AND r.record_id = w.record_id))"
                 f" INSERT INTO taken SELECT kind, record_id FROM sync.pending p WHERE {RETRIED} AND {due('p')}"
                 " EXCEPT SELECT kind, record_id FROM held", params)
    if batch is None:
        conn.execute(f"INSERT INTO taken SELECT kind, record_id FROM sync.pending p WHERE {in_backlog('p')}"
                     f" AND {due('p')}", params)
    else:
        _take_backlog(conn, params)
    conn.execute("ANALYZE taken")


def _take_backlog(conn: psycopg.Connection, params: dict[str, Any]) -> None:
    """Take the next batch of the write budget's backlog.

    A first sync of a million activists leaves a backlog of as many records, drained over days at
    the write budget's pace; re-planning all of it every hour would cost each run minutes and a
    gigabyte for a few thousand writes. So a run takes the first ``batch`` activists and Contacts in
    queue order, completed to whole pairs (both sides of a pair come back together, and so does the
    partner of a person staged afresh); what the people it leaves queued did (participations,
    CampaignMembers, donations) stays queued with them, and of the rest it takes the first ``batch``.
    The batch is found by the queue's index, what waits by hash joins over the queued pairs' people:
    the backlog is read a few times, never copied nor checked row by row."""
    pairs = f"{in_backlog('q')} AND q.kind = ANY(%(contacts)s) AND {due('q')}"
    if not scalar(conn, f"SELECT EXISTS (SELECT 1 FROM sync.pending q WHERE {in_backlog('q')} AND {due('q')})", params):
        return  # nothing to take (a first sync): its million people staged afresh are not copied for nothing
    conn.execute("CREATE TEMP TABLE batch_people (id text PRIMARY KEY) ON COMMIT DROP")
    conn.execute(f"INSERT INTO batch_people SELECT unnest(people) FROM (SELECT people FROM sync.pending q WHERE {pairs}"
                 "  ORDER BY q.reason_code, q.queued_at, q.rank, q.kind, q.record_id LIMIT %(batch)s) first"
                 " UNION SELECT an_id FROM staging.an_people WHERE run_id = %(run)s"
                 " UNION SELECT sf_id FROM staging.sf_contacts WHERE run_id = %(run)s", params)
    conn.execute("ANALYZE batch_people")
    conn.execute(f"INSERT INTO taken SELECT q.kind, q.record_id FROM sync.pending q, unnest(q.people) u (id)"
                 f" JOIN batch_people b ON b.id = u.id WHERE {pairs}"
                 f" UNION SELECT q.kind, q.record_id FROM sync.pending q WHERE {pairs} AND q.people IS NULL", params)
    conn.execute("ANALYZE taken")
    # hash joins only: checked row by row against a million queued pairs, the walk took minutes
    conn.execute(f"WITH held_people AS (SELECT u.id FROM sync.pending q, unnest(q.people) u (id)"
                 f"  WHERE {pairs} AND NOT EXISTS (SELECT 1 FROM taken t WHERE t.kind = q.kind"
                 "  AND t.record_id = q.record_id)),"
                 f" rest AS (SELECT p.kind, p.record_id, p.people, p.queued_at, p.rank FROM sync.pending p WHERE {in_backlog('p')}"
                 f"  AND p.kind <> ALL(%(contacts)s) AND {due('p')}),"
                 " waiting AS (SELECT DISTINCT r.kind, r.record_id FROM rest r, unnest(r.people) u (id)"
                 "  WHERE u.id IN (SELECT id FROM held_people))"
                 " INSERT INTO taken SELECT r.kind, r.record_id FROM rest r WHERE NOT EXISTS (SELECT 1 FROM waiting w"
                 "  WHERE w.kind = r.kind AND w.record_id = r.record_id)"
                 " ORDER BY r.queued_at, r.rank, r.kind, r.record_id LIMIT %(batch)s", params)


def waiting_writes(conn: psycopg.Connection, run_id: str) -> int:
    """The Action Network writes of the backlog records that wait in the queue, not staged in this run."""
    total = 0
    for kind, id_column in KINDS.items():
        row = conn.execute(sql.SQL(
            "SELECT coalesce(sum(p.writes), 0) FROM sync.pending p WHERE p.kind = %s AND p.reason_code = %s"
            " AND NOT EXISTS (SELECT 1 FROM {} s WHERE s.run_id = %s AND s.{} = p.record_id)").format(
            sql.Identifier("staging", kind), sql.Identifier(id_column)), (kind, BACKLOG, run_id)).fetchone()
        total += int(row[0]) if row else 0
    return total


def pending_roles(conn: psycopg.Connection) -> set[str]:
    """Action Network donations synced without their donor's Contact Role, waiting for the donor."""
    return {row[0] for row in conn.execute("SELECT record_id FROM sync.pending WHERE kind = 'an_donations'"
                                           " AND reason_code = 'DONOR_NOT_SYNCED'")}


def settle(conn: psycopg.Connection, run_id: str) -> dict[str, int]:
    """After a run's loads: fold repeated rejects into this run's, resolve the ones whose record went
    through, and bring the queue up to date (records that went through leave it, new ones join it)."""
    conn.execute("CREATE TEMP TABLE seen (kind text, id text) ON COMMIT DROP")
    for kind, id_column in KINDS.items():
        conn.execute(sql.SQL("INSERT INTO seen SELECT %s, {id} FROM {table} WHERE run_id = %s").format(
            id=sql.Identifier(id_column), table=sql.Identifier("staging", kind)), (kind, run_id))
    conn.execute("CREATE INDEX ON seen (id)")
    conn.execute("ANALYZE seen")  # temp tables have no statistics until analysed: see waiting below
    repeated = ("old.status = 'open' AND old.run_id <> %(run)s AND new.run_id = %(run)s AND (new.source,"
                " new.object, new.record_id, new.reason_code) = (old.source, old.object, old.record_id, old.reason_code)")
    conn.execute(f"UPDATE sync.rejects new SET first_run = coalesce(old.first_run, old.run_id) FROM sync.rejects old"
                 f" WHERE {repeated}", {"run": run_id})
    repeats = conn.execute(f"DELETE FROM sync.rejects old USING sync.rejects new WHERE {repeated}",
                           {"run": run_id}).rowcount
    sticky = [(code, obj) for code, obj in STATES.items()]
    resolved = conn.execute(
        "UPDATE sync.rejects old SET status = 'resolved', resolved_run = %(run)s, resolved_at = now()"
        " WHERE old.status = 'open' AND old.run_id <> %(run)s"
        " AND (old.reason_code, old.object) <> ALL (SELECT * FROM unnest(%(codes)s::text[], %(objects)s::text[]))"
        " AND EXISTS (SELECT 1 FROM seen WHERE seen.id = coalesce(old.pending_id, old.record_id)"
        "             AND (old.pending_kind IS NULL OR seen.kind = old.pending_kind))"
        " AND NOT EXISTS (SELECT 1 FROM sync.rejects new WHERE new.run_id = %(run)s"
        "                 AND new.record_id = old.record_id AND new.reason_code = old.reason_code)",
        {"run": run_id, "codes": [c for c, _ in sticky], "objects": [o or "contact" for _, o in sticky]}).rowcount
    resolved += conn.execute(
        "UPDATE sync.rejects r SET status = 'resolved', resolved_run = %(run)s, resolved_at = now()"
        " WHERE r.status = 'open' AND ((r.object = 'contact' AND r.reason_code = ANY(%(contact)s) AND NOT EXISTS"
        "  (SELECT 1 FROM sync.contact_links l WHERE l.sf_id = r.record_id AND l.state <> 'active')"
        "  AND NOT EXISTS (SELECT 1 FROM sync.first_matches f WHERE f.sf_id = r.record_id))"  # a stopped first match
        " OR (r.object = 'campaign' AND r.reason_code = 'CAMPAIGN_DELETED_IN_SALESFORCE' AND EXISTS"
        "  (SELECT 1 FROM sync.action_links l WHERE l.sf_id = r.record_id AND l.state = 'active'))"
        # a duplicate merged away (or deleted), or synced once the one it lost to was deleted, is no duplicate
        " OR (r.reason_code = 'DUPLICATE_EMAIL' AND (EXISTS (SELECT 1 FROM staging.sf_contacts s"
        "  WHERE s.run_id = %(run)s AND s.sf_id = r.record_id AND s.is_deleted) OR EXISTS (SELECT 1"
        "  FROM sync.contact_links l WHERE l.sf_id = r.record_id AND l.state = 'active'))))",
        {"run": run_id, "contact": [c for c, o in STATES.items() if o == "contact"]}).rowcount
    conn.execute("DELETE FROM sync.duplicates d USING staging.sf_contacts s WHERE s.run_id = %s AND s.sf_id = d.sf_id"
                 " AND s.is_deleted", (run_id,))  # restored, it is a candidate again
    conn.execute("CREATE TEMP TABLE waiting_rows (kind text, id text, code text, person text, writes int,"
                 " rank bigint) ON COMMIT DROP")
    _copy_waiting(conn, run_id)
    # A Contact staged only for its Subscribers membership (a membership deleted does not change the
    # Contact, which is then not read) has no staged copy to queue: the deleted membership waits in its
    # place, and brings the pair back into the run that re-stages it. (A deletion only ever removes
    # that membership from the mirror, so a late copy of it undoes nothing newer.)
    conn.execute(
        "INSERT INTO waiting_rows SELECT 'sf_campaign_members', m.sf_id, w.code, w.person, w.writes, w.rank"
        " FROM waiting_rows w JOIN staging.sf_campaign_members m ON m.run_id = %(run)s AND m.contact_id = w.id"
        "  AND m.is_deleted AND m.campaign_id = (SELECT record_id FROM sync.masters"
        "  WHERE kind = 'sf_subscribers_campaign')"
        " WHERE w.kind = 'sf_contacts' AND NOT EXISTS (SELECT 1 FROM staging.sf_contacts s"
        "  WHERE s.run_id = %(run)s AND s.sf_id = w.id)", {"run": run_id})
    conn.execute("CREATE TEMP TABLE waiting ON COMMIT DROP AS SELECT kind, id, min(code) AS code,"
                 " CASE WHEN bool_and(code = ANY(%s)) THEN array_agg(DISTINCT person) FILTER (WHERE person IS NOT NULL)"
                 " END AS people, sum(writes) AS writes,"
                 " min(rank) AS rank FROM waiting_rows GROUP BY kind, id", ([BACKLOG, *UNSYNCED],))
    # Statistics, so the joins below are planned for the real count: a first sync's backlog is
    # hundreds of thousands of rows, which an unanalysed temp table would pass for a handful.
    conn.execute("CREATE INDEX ON waiting (kind, id)")
    conn.execute("ANALYZE waiting")
    conn.execute("DELETE FROM sync.pending p USING seen WHERE seen.kind = p.kind AND seen.id = p.record_id"
                 " AND NOT EXISTS (SELECT 1 FROM waiting w WHERE w.kind = p.kind AND w.id = p.record_id)")
    queued = 0
    for kind, id_column in KINDS.items():
        related = ("(SELECT jsonb_agg(to_jsonb(c) - 'run_id') FROM staging.sf_opportunity_contact_roles c"
                   " WHERE c.run_id = s.run_id AND c.opportunity_id = s.sf_id)" if kind == "sf_opportunities"
                   else "NULL::jsonb")
        queued += conn.execute(sql.SQL(
            "INSERT INTO sync.pending (kind, record_id, reason_code, row, related, first_run, last_run, people,"
            "  writes, rank)"
            " SELECT DISTINCT ON (s.{id}) %(kind)s, s.{id}, w.code, to_jsonb(s) - 'run_id', {related},"
            "  %(run)s, %(run)s, w.people, w.writes, w.rank"
            " FROM waiting w JOIN {table} s ON s.run_id = %(run)s AND s.{id} = w.id"
            " WHERE w.kind = %(kind)s ORDER BY s.{id}"
            " ON CONFLICT (kind, record_id) DO UPDATE SET reason_code = EXCLUDED.reason_code, row = EXCLUDED.row,"
            "  related = EXCLUDED.related, last_run = EXCLUDED.last_run, attempts = sync.pending.attempts + 1,"
            "  people = EXCLUDED.people, writes = EXCLUDED.writes, rank = coalesce(sync.pending.rank, EXCLUDED.rank),"
            "  next_attempt_at = now() + CASE WHEN EXCLUDED.reason_code = ANY(%(dependencies)s) THEN interval '0'"
            "   ELSE make_interval(hours => least(power(2, sync.pending.attempts)::int - 1, %(max)s)) END"
        ).format(id=sql.Identifier(id_column), table=sql.Identifier("staging", kind), related=sql.SQL(related)),
            {"kind": kind, "run": run_id, "dependencies": list(DEPENDENCIES), "max": MAX_PAUSE_HOURS}).rowcount
    # Statistics, so the next run's restage takes its batch through the indexes: a first sync queues a
    # million records at once, which statistics from before it would pass for none.
    conn.execute("ANALYZE sync.pending")
    waiting = scalar(conn, "SELECT count(*) FROM sync.pending")
    return {"repeated": repeats, "resolved": resolved, "queued": queued, "pending": waiting}


def _copy_waiting(conn: psycopg.Connection, run_id: str) -> None:
    """Fill ``waiting_rows`` with every record this run left waiting, as (kind, record id, reason, person,
    writes, rank): reconcile's rejects that wait on another record, every load write that failed (one
    reject may stand for several), and every write deferred to a later run by the write budget
    (``BACKLOG``, no reject: nothing is wrong), with the people it waits for, its Action Network
    writes and its plan row (its place in the queue). A record may come in several rows."""
    rows: list[tuple[Any, ...]] = [(*row, None, 0, None) for row in conn.execute(
        "SELECT pending_kind, pending_id, reason_code FROM sync.rejects WHERE run_id = %s"
        " AND pending_kind IS NOT NULL AND payload->>'step' = 'reconcile'", (run_id,))]
    _copy(conn, rows)
    # the plan rows streamed in batches: a first sync leaves millions, too many to hold at once
    with conn.cursor("waiting", row_factory=namedtuple_row) as cur:
        cur.execute("SELECT seq, step, object, direction, an_id, sf_id, payload, error_code FROM staging.plan"
                    " WHERE run_id = %s AND status IN ('failed', 'deferred') AND direction <> %s",
                    (run_id, Direction.LOCAL))
        while ops := cur.fetchmany(20_000):
            rows = []
            op: Any
            for op in ops:
                record = load_record(op.step, op)
                if record is None:
                    continue
                code = op.error_code or "WRITE_FAILED"
                writes = int(code == BACKLOG and op.direction == Direction.TO_ACTIONNETWORK)
                people = _people(op) if code == BACKLOG or code in UNSYNCED else [None]
                rows += [(*record, code, person, writes if n == 0 else 0, op.seq) for n, person in enumerate(people)]
            _copy(conn, rows)


def _copy(conn: psycopg.Connection, rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy("COPY waiting_rows FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _people(op: Any) -> list[str | None]:
    """The activists and Contacts a waiting plan row waits for: its pair's, or its person's (the
    taker of an action, the member, the donor, an Opportunity's Contacts); as ``plans.behind_backlog``."""
    payload = op.payload if isinstance(op.payload, dict) else {}
    if op.step == Step.CONTACTS:
        found = [op.an_id, op.sf_id]
    elif op.object == Obj.MEMBER and op.direction == Direction.TO_SALESFORCE:
        found = [op.an_id]
    else:
        found = [payload.get("person_id") or payload.get("contact_id")]
        found += payload["contacts"] if isinstance(payload.get("contacts"), list) else []
    return [p for p in found if isinstance(p, str)] or [None]


def restaged(conn: psycopg.Connection, run_id: str, reason: str) -> set[tuple[str, str]]:
    """(kind, id) of the records staged in this run only because the queue re-staged them (their staged
    copy is the queued one) while they waited for ``reason``."""
    found: set[tuple[str, str]] = set()
    for kind, id_column in KINDS.items():
        found.update(conn.execute(sql.SQL(
            "SELECT p.kind, p.record_id FROM sync.pending p JOIN {table} s ON s.run_id = %s AND s.{id} = p.record_id"
            " WHERE p.kind = %s AND p.reason_code = %s AND to_jsonb(s) - 'run_id' = p.row"
        ).format(table=sql.Identifier("staging", kind), id=sql.Identifier(id_column)), (run_id, kind, reason)).fetchall())
    return found
