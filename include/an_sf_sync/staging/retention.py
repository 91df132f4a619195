"""How long runs' staged copies and plans are kept: ``an_sf_sync_staging_days`` days (default 14).

Every run stages what changed in its window and plans its writes; at a million activists with 1%
churn an hour that is tens of megabytes a run, so they cannot be kept forever. Each finished run
deletes those of the runs that are old enough and that a later run has superseded (one that
succeeded, so their windows were read again or committed: nothing of theirs is still needed).

Two things outlive the age limit, because later runs read them:

- the last staged copy of each Contact, which a stopped pair or a released duplicate resumes from
  without reading the Contact again (``pending.restage_contacts``);
- everything in ``sync.*``: links, mirrors, rejects, conflicts, the queue and each run's summary.

The report's chart reads the plans of the last ``report.HISTORY_DAYS`` days, so fewer days than that
are not allowed. An old run's page keeps its summary and rejects and says its details are gone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from an_sf_sync.staging.report import HISTORY_DAYS

log = logging.getLogger(__name__)

VARIABLE = "an_sf_sync_staging_days"
DEFAULT_DAYS = 14

# Per run, every table a run writes staged copies or plans to. staging.extracts goes last: a run
# without it reads as pruned.
TABLES = ("an_people", "an_actions", "an_participations", "an_donations", "sf_campaigns", "sf_campaign_members",
          "sf_opportunity_contact_roles", "sf_opportunities", "plan")
LATEST_COPY_KEPT = "sf_contacts"  # by sf_id, the newest SystemModstamp (as restage_contacts reads it)


def days(value: object) -> int:
    """The variable's value as whole days (unset: the default), never below the report's history."""
    if value is None or str(value).strip() == "":
        return DEFAULT_DAYS
    try:
        wanted = int(str(value))
    except ValueError:
        log.warning("variable %s is %r, which is no number of days; keeping %d", VARIABLE, value, DEFAULT_DAYS)
        return DEFAULT_DAYS
    if wanted < HISTORY_DAYS:
        log.warning("variable %s is %d: the report's history needs %d days of runs; keeping %d",
                    VARIABLE, wanted, HISTORY_DAYS, HISTORY_DAYS)
    return max(wanted, HISTORY_DAYS)


def expired(conn: psycopg.Connection, now: datetime, keep_days: int) -> list[str]:
    """Runs last extracted more than ``keep_days`` before ``now`` and followed by a run that succeeded
    (not a dry run)."""
    rows = conn.execute(
        "SELECT e.run_id FROM staging.extracts e GROUP BY e.run_id HAVING max(e.extracted_at) < %(before)s"
        " AND EXISTS (SELECT 1 FROM sync.runs r WHERE r.status = 'succeeded' AND NOT r.dry_run"
        "  AND r.finished_at > max(e.extracted_at)) ORDER BY e.run_id",
        {"before": now - timedelta(days=keep_days)}).fetchall()
    return [row[0] for row in rows]


def prune(conn: psycopg.Connection, now: datetime, keep_days: int = DEFAULT_DAYS) -> dict[str, int]:
    """Delete the staged copies and plans of the expired runs; return the rows deleted per table.
    Runs in the caller's transaction."""
    runs = expired(conn, now, keep_days)
    if not runs:
        return {}
    deleted = {table: conn.execute(sql.SQL("DELETE FROM {} WHERE run_id = ANY(%s)").format(
        sql.Identifier("staging", table)), (runs,)).rowcount for table in TABLES}
    deleted[LATEST_COPY_KEPT] = conn.execute(
        "DELETE FROM staging.sf_contacts s WHERE s.run_id = ANY(%(runs)s) AND EXISTS (SELECT 1 FROM"
        " staging.sf_contacts n WHERE n.sf_id = s.sf_id AND (coalesce(n.system_modstamp, '-infinity'), n.run_id)"
        " > (coalesce(s.system_modstamp, '-infinity'), s.run_id))", {"runs": runs}).rowcount
    deleted["extracts"] = conn.execute("DELETE FROM staging.extracts WHERE run_id = ANY(%s)", (runs,)).rowcount
    log.info("removed the staged copies and plans of %d runs older than %d days (%s): %s", len(runs), keep_days,
             ", ".join(runs[:5]) + (", ..." if len(runs) > 5 else ""),
             ", ".join(f"{n} rows of {table}" for table, n in deleted.items() if n) or "no rows")
    return {"runs": len(runs), **deleted}
