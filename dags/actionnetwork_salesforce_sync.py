"""
### Action Network ⇄ Salesforce sync

Keeps one Action Network group and one Salesforce org in sync, every hour, in both directions.

Each run reads the changes in its window — from the earlier of its data interval's start and the
last committed watermark (minus a small overlap) to its data interval's end — so a failed, paused or
skipped hour loses nothing, and a backfill of old hours never moves the watermark back. The first
run reads everything. Data moves through the Postgres staging tables (connection `an_sf_staging`);
XCom carries only counts and table names.

**Connections:** `actionnetwork_default` (API key as the password), `salesforce_default`,
`an_sf_staging` (leave the host empty to use the embedded Postgres).

**Params:** `full_refresh` re-reads everything; `overlap_minutes` widens the window's start.

To rerun one step, clear that task (with its downstream) in the grid: every task replaces what it
wrote for the run, so a rerun never duplicates.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import (
    CronDataIntervalTimetable,
    ExceptionRetryPolicy,
    Param,
    RetryAction,
    RetryRule,
    dag,
    task,
)

# Credentials that are wrong stay wrong: fail at once instead of retrying for an hour.
FAIL_FAST_ON_AUTH = ExceptionRetryPolicy(rules=[
    RetryRule(exception="an_sf_sync.actionnetwork.errors.ActionNetworkAuthError", action=RetryAction.FAIL),
])


@dag(
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "an-sf-sync",
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(minutes=50),
        "retry_policy": FAIL_FAST_ON_AUTH,
    },
    params={
        "full_refresh": Param(False, type="boolean",
                              description="Ignore the watermarks and re-read everything on both sides."),
        "overlap_minutes": Param(5, type="integer", minimum=0, maximum=1440,
                                 description="Minutes re-read before each window's start, to absorb clock skew."),
    },
    tags=["actionnetwork", "salesforce", "sync"],
    doc_md=__doc__,
)
def actionnetwork_salesforce_sync():
    @task(pool="actionnetwork_api")
    def extract_an(**context) -> dict:
        """Stage the Action Network people, actions, participations and donations changed in the window."""
        from an_sf_sync import tasks

        return tasks.extract_an(context)

    @task
    def finalize(**context) -> dict:
        """Advance the watermarks once every step of the run succeeded, and record the run's summary."""
        from an_sf_sync import tasks

        return tasks.finalize(context)

    extract_an() >> finalize()


actionnetwork_salesforce_sync()
