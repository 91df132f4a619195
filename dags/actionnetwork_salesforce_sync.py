"""
### Action Network ⇄ Salesforce sync

Keeps one Action Network group and one Salesforce org in sync, every hour, in both directions:
activists ⇄ Contacts, email subscription ⇄ the "Action Network Subscribers" campaign, actions ⇄
Campaigns with their members, donations ⇄ Opportunities on the "Action Network Donations" account.

1. **setup** checks the Salesforce fields and the master records on both sides.
2. **extract_an** / **extract_sf** stage each side's changes in the run's window: from the earlier of
   the data interval's start and the last committed watermark (minus a small overlap) to the data
   interval's end. A failed, paused or skipped hour loses nothing; the first run reads everything.
3. **first_run** branches to **resolve_duplicates** on the very first run, to pick one Salesforce
   Contact per email address (the others are reported, never synced).
4. **reconcile** decides, field by field, what to write where, and why anything is skipped.
5. **load_contacts**, **load_campaigns**, **load_opportunities** apply that plan. Each is safe to
   rerun on its own: it finishes what is left and duplicates nothing (an old run's step, cleared
   after a later run has written, is skipped: its plan would overwrite newer values).
6. **finalize** advances the watermarks, records the run's summary and prunes old runs' staging.

**Falling behind:** one run at a time (`max_active_runs=1`) and no catch-up runs. A run that
outlasts its hour (a long first sync, an outage with retries) does not queue the hours it
overlapped behind it: the next scheduled run reads everything since the last watermark, so a day
of downtime is caught up by a single run. Every task that talks to Action Network takes the one
slot of the `actionnetwork_api` pool, so manual runs and backfills never share its rate limit.

Every skipped or failed record is in `sync.rejects` with a reason; the run summary is in
`sync.runs` and in the *Sync report* view.

**Alerts** (variable `an_sf_sync_alerts`, through Airflow's notifiers: SMTP, Slack or any notifier
class): a failed run, a run whose new rejects exceed a share of the records it read (5%), a
Salesforce API allowance under a share of the org's limit (10%), a run still going after an hour.

**Connections:** `actionnetwork_default` (API key as the password), `salesforce_default`,
`an_sf_staging` (leave the host empty to use the embedded Postgres). **Variables:**
`an_sf_sync_custom_fields` (JSON list of Action Network custom field names to sync),
`an_sf_sync_duplicate_rule` (`oldest`, `newest` or `last_modified`), `an_sf_sync_write_budget`
(Action Network writes per run, default 9,000; the rest waits for later runs, which the run summary's
`backlog` and the load logs count down), `an_sf_sync_active_days` (7: actions whose takers are read
every hour), `an_sf_sync_sweep_hours` (24: how often the takers of dormant actions are swept) and
`an_sf_sync_staging_days` (14: how long runs' staged copies and plans are kept; the summaries stay).
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

from an_sf_sync.alerts import run_failed, run_finished, task_succeeded

# Wrong credentials, a used-up API allowance or a misconfigured org do not heal by retrying:
# fail at once with the message that says what to fix. Anything else retries with backoff.
FAIL_FAST = ExceptionRetryPolicy(rules=[
    RetryRule(exception=["an_sf_sync.actionnetwork.errors.ActionNetworkAuthError",
                         "an_sf_sync.salesforce.errors.SalesforceAuthError",
                         "an_sf_sync.salesforce.errors.SalesforceApiLimitError",
                         "an_sf_sync.errors.SetupError"], action=RetryAction.FAIL),
])


# Reading or writing at Action Network's 4 requests/s, a first sync of a large group takes hours
# (a million activists are 40,000 pages). These steps get a day; the others an hour's worth.
LONG_STEP = timedelta(hours=24)


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
        "retry_policy": FAIL_FAST,
        "on_success_callback": task_succeeded,  # alerts when the run has gone past its hour
    },
    params={
        "full_refresh": Param(False, type="boolean",
                              description="Ignore the watermarks and re-read everything on both sides."),
        "overlap_minutes": Param(5, type="integer", minimum=0, maximum=1440,
                                 description="Minutes re-read before each window's start, to absorb clock skew."),
        "dry_run": Param(False, type="boolean",
                         description="Compute and report the plan without writing to either side."),
    },
    tags=["actionnetwork", "salesforce", "sync"],
    doc_md=__doc__,
    on_failure_callback=run_failed,
)
def actionnetwork_salesforce_sync():
    @task(pool="actionnetwork_api")
    def setup(**context) -> dict:
        """Check the Salesforce fields and custom fields; find or create the master records on both sides."""
        from an_sf_sync import tasks

        return tasks.setup(context)

    @task(pool="actionnetwork_api", execution_timeout=LONG_STEP)
    def extract_an(**context) -> dict:
        """Stage the Action Network people, actions, participations and donations changed in the window."""
        from an_sf_sync import tasks

        return tasks.extract_an(context)

    @task(execution_timeout=LONG_STEP)
    def extract_sf(**context) -> dict:
        """Stage the Salesforce Contacts, Campaigns, members, Opportunities and roles changed in the window."""
        from an_sf_sync import tasks

        return tasks.extract_sf(context)

    @task.branch
    def first_run(**context) -> str:
        """On the very first run, resolve duplicate Salesforce contacts before reconciling."""
        from an_sf_sync import tasks

        return tasks.first_run(context)

    @task
    def resolve_duplicates(**context) -> dict:
        """Pick one Salesforce Contact per email (rule: variable an_sf_sync_duplicate_rule); report the rest."""
        from an_sf_sync import tasks

        return tasks.resolve_duplicates(context)

    @task(trigger_rule="none_failed_min_one_success")
    def reconcile(**context) -> dict:
        """Decide, field by field, what to write on each side, and record why anything is skipped."""
        from an_sf_sync import tasks

        return tasks.reconcile(context)

    @task(pool="actionnetwork_api", execution_timeout=LONG_STEP)
    def load_contacts(**context) -> dict:
        """Write Contacts and activists, subscriptions, and commit the links. Safe to rerun alone."""
        from an_sf_sync import tasks

        return tasks.load_contacts(context)

    @task(pool="actionnetwork_api", execution_timeout=LONG_STEP)
    def load_campaigns(**context) -> dict:
        """Write Campaigns and their members, and actions from Salesforce. Safe to rerun alone."""
        from an_sf_sync import tasks

        return tasks.load_campaigns(context)

    @task(pool="actionnetwork_api", execution_timeout=LONG_STEP)
    def load_opportunities(**context) -> dict:
        """Write Opportunities with their donors, and donations from Salesforce. Safe to rerun alone."""
        from an_sf_sync import tasks

        return tasks.load_opportunities(context)

    @task(on_success_callback=run_finished)  # also alerts on too many new rejects or a low API allowance
    def finalize(**context) -> dict:
        """Advance the watermarks once every step of the run succeeded, record the run's summary, and
        remove the staged copies and plans of runs past ``an_sf_sync_staging_days``."""
        from an_sf_sync import tasks

        return tasks.finalize(context)

    branch, dedupe, merge = first_run(), resolve_duplicates(), reconcile()
    setup() >> [extract_an(), extract_sf()] >> branch >> [dedupe, merge]
    dedupe >> merge >> load_contacts() >> load_campaigns() >> load_opportunities() >> finalize()


actionnetwork_salesforce_sync()
