"""What each DAG task does, given its Airflow context. The DAG file only wires these together.

Each function returns a small, JSON-able dict (counts and references) for XCom; data itself moves
through the staging tables.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from an_sf_sync.plan import Step
from an_sf_sync.staging import plans, runs, settings
from an_sf_sync.staging.store import StagingStore
from an_sf_sync.window import Window, extract_window

if TYPE_CHECKING:
    from an_sf_sync.actionnetwork.client import ActionNetworkClient
    from an_sf_sync.salesforce.client import SalesforceClient

    # a load step: (store, run id, Action Network, Salesforce, masters) -> outcome counts
    Loader = Callable[[StagingStore, str, ActionNetworkClient, SalesforceClient, dict[str, str]], dict[str, int]]

log = logging.getLogger(__name__)

SOURCES = ("actionnetwork", "salesforce")
CUSTOM_FIELDS_VARIABLE = "an_sf_sync_custom_fields"
DUPLICATE_RULE_VARIABLE = "an_sf_sync_duplicate_rule"
TIME_ZONE_VARIABLE = "an_sf_sync_time_zone"


def _store() -> StagingStore:
    return StagingStore.from_connection()


def _variable(name: str, default: Any) -> Any:
    from airflow.sdk import Variable

    return Variable.get(name, default=default, deserialize_json=not isinstance(default, str))


def _time_zone(store: StagingStore) -> str:
    """The time zone whose days CloseDates are: the variable's, else the org's (read by setup), else UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    org = settings.get(store, "org_time_zone") or "UTC"
    chosen = _variable(TIME_ZONE_VARIABLE, "") or org
    try:
        ZoneInfo(chosen)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("variable %s is %r, which is no time zone name (like 'America/New_York'); using the org's, %s",
                    TIME_ZONE_VARIABLE, chosen, org)
        return org
    return chosen


def _dry_run(context: dict[str, Any]) -> bool:
    return bool(context["params"].get("dry_run"))


def _an() -> ActionNetworkClient:
    from an_sf_sync.actionnetwork.hook import ActionNetworkHook

    return ActionNetworkHook().get_conn()


def _sf() -> SalesforceClient:
    from an_sf_sync.salesforce.client import SalesforceClient

    return SalesforceClient.from_connection()


def _window(context: dict[str, Any], store: StagingStore, source: str) -> Window:
    overlap = timedelta(minutes=float(context["params"].get("overlap_minutes", 5)))
    return extract_window(
        interval_start=context.get("data_interval_start"),
        interval_end=context.get("data_interval_end"),
        run_after=context["dag_run"].run_after,
        watermark=None if context["params"].get("full_refresh") else runs.watermark(store, source),
        now=datetime.now(UTC),
        overlap=overlap,
    )


def setup(context: dict[str, Any]) -> dict[str, Any]:
    from an_sf_sync.setup import run_setup

    return run_setup(_store(), _an, _sf, list(_variable(CUSTOM_FIELDS_VARIABLE, [])),
                     force=bool(context["params"].get("full_refresh")), dry_run=_dry_run(context),
                     run_id=context["run_id"])


def _note_salesforce(store: StagingStore, sf: Any) -> None:
    """Keep the org's instance URL (the report links records to it) and its API usage (alerts watch it)."""
    settings.put(store, "salesforce_instance_url", f"https://{sf.sf.sf_instance}")
    if sf.api_usage is not None:
        settings.put(store, "salesforce_api_usage", {"used": sf.api_usage.used, "total": sf.api_usage.total,
                                                          "seen_at": datetime.now(UTC).isoformat()})


def extract_an(context: dict[str, Any]) -> dict[str, Any]:
    from an_sf_sync.extract import extract_actionnetwork

    store = _store()
    window = _window(context, store, "actionnetwork")
    from an_sf_sync import activity

    an = _an()
    settings.put(store, "actionnetwork_api_url", an.base_url)
    counts = extract_actionnetwork(an, store, context["run_id"], window,
                                   active_days=float(_variable(activity.ACTIVE_DAYS_VARIABLE, activity.ACTIVE_DAYS)),
                                   sweep_hours=float(_variable(activity.SWEEP_HOURS_VARIABLE, activity.SWEEP_HOURS)))
    return {"source": "actionnetwork", "full": window.full, "counts": counts}


def extract_sf(context: dict[str, Any]) -> dict[str, Any]:
    from an_sf_sync.extract import extract_salesforce

    store = _store()
    window = _window(context, store, "salesforce")
    custom = settings.get(store, "custom_fields", {}) or {}
    masters = settings.masters(store)
    sf = _sf()
    counts = extract_salesforce(sf, store, context["run_id"], window, custom_fields=tuple(custom.values()),
                                subscribers_campaign=masters.get("sf_subscribers_campaign"))
    _note_salesforce(store, sf)
    return {"source": "salesforce", "full": window.full, "counts": counts}


def first_run(context: dict[str, Any]) -> str:
    """Branch: the first run (no pair linked yet) resolves duplicate contacts over the whole org."""
    return "reconcile" if runs.any_linked(_store()) else "resolve_duplicates"


def resolve_duplicates(context: dict[str, Any]) -> dict[str, Any]:
    from an_sf_sync.reconcile import resolve_staged_duplicates

    rule = _variable(DUPLICATE_RULE_VARIABLE, "oldest")
    found = resolve_staged_duplicates(_store(), context["run_id"], rule)
    log.info("%d Salesforce contacts share an email with another and will not be synced (rule %r); "
             "see sync.duplicates and the run's rejects", found, rule)
    return {"duplicates": found, "rule": rule}


def _skip_if_superseded(store: StagingStore, run_id: str) -> None:
    """Skip a step of a run cleared and rerun after a later run has written (a load step retried the
    next day, say): that run read this run's changes again, so applying this run's older copies now
    would overwrite newer values. What this run left unwritten, that run or the queue carries on."""
    later = runs.superseded_by(store, run_id)
    if later:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(
            f"Nothing to do: run {later} has written to both systems since this run read its changes, and"
            " synced them from newer copies. Applying this run's plan now could overwrite newer values with"
            " older ones, so the step is skipped; nothing is lost.")


def reconcile(context: dict[str, Any]) -> dict[str, Any]:
    from an_sf_sync.load import budget
    from an_sf_sync.reconcile import reconcile_run

    store = _store()
    _skip_if_superseded(store, context["run_id"])
    counts = reconcile_run(store, context["run_id"], duplicate_rule=_variable(DUPLICATE_RULE_VARIABLE, "oldest"),
                           time_zone=_time_zone(store), backlog_batch=budget.restage_batch(_write_budget()))
    log.info("plan for run %s: %s", context["run_id"], counts)
    return counts


def _load(context: dict[str, Any], step: Step, run: Loader) -> dict[str, Any]:
    store = _store()
    run_id = context["run_id"]
    if _dry_run(context):
        with store.connect() as conn:
            ops = plans.pending_ops(conn, run_id, step, payloads="none")
        from an_sf_sync.load.outcomes import Outcomes

        counts = Outcomes.counts(ops)
        log.info("dry run: %s would apply %s", step, counts)
        return {"dry_run": True, "planned": counts}
    _skip_if_superseded(store, run_id)
    from an_sf_sync.load import budget

    limit = _write_budget()
    with store.connect() as conn:
        deferred = budget.defer_over_budget(conn, run_id, step, limit)
        conn.commit()
    masters = settings.masters(store)
    sf = _sf()
    counts = run(store, run_id, _an(), sf, masters)
    _note_salesforce(store, sf)
    failed = sum(n for key, n in counts.items() if key.endswith(".failed"))
    log.info("%s for run %s: %s (%d failed: see sync.rejects)", step, run_id, counts, failed)
    with store.connect() as conn:
        left = budget.backlog(conn, run_id, limit)
    if deferred:
        log.info("Action Network write budget of %d per run reached: %d %s writes wait for later runs; %d in all"
                 " (about %s more hourly runs at this budget)", limit, deferred, step, left["writes_left"],
                 left["eta_hours"])
    return {"outcomes": counts, "backlog": left}


def _write_budget() -> int:
    """Action Network writes a run may attempt (variable an_sf_sync_write_budget; 0 or less: no limit)."""
    from an_sf_sync.load import budget

    value = int(_variable(budget.VARIABLE, budget.DEFAULT))
    return value if value > 0 else budget.NO_LIMIT


def load_contacts(context: dict[str, Any]) -> dict[str, Any]:
    from an_sf_sync.load.contacts import load_contacts as load

    custom = settings.get(_store(), "custom_fields", {}) or {}
    return _load(context, Step.CONTACTS, lambda store, run_id, an, sf, masters: load(
        store, run_id, an, sf, masters=masters, custom=custom))


def load_campaigns(context: dict[str, Any]) -> dict[str, Any]:
    from an_sf_sync.load.campaigns import load_campaigns as load

    return _load(context, Step.CAMPAIGNS, lambda store, run_id, an, sf, masters: load(
        store, run_id, an, sf, masters=masters))


def load_opportunities(context: dict[str, Any]) -> dict[str, Any]:
    from an_sf_sync.load.opportunities import load_opportunities as load

    return _load(context, Step.OPPORTUNITIES, lambda store, run_id, an, sf, masters: load(
        store, run_id, an, sf, masters=masters))


def finalize(context: dict[str, Any]) -> dict[str, Any]:
    """Advance the watermarks once every step succeeded (not on a dry run), and record the run."""
    store = _store()
    run_id, dry_run = context["run_id"], _dry_run(context)
    if not dry_run:
        _skip_if_superseded(store, run_id)
    committed = {}
    windows = {}
    for source in SOURCES:
        extract = runs.extract_of(store, run_id, source)
        if extract is None:
            raise RuntimeError(f"run {run_id} has no {source} extract; clear its extract task to rerun it")
        windows[source] = extract
    queue = {}
    if not dry_run:
        from an_sf_sync import activity
        from an_sf_sync.staging import pending

        # The queue before the watermarks: a finalize stopped in between leaves the window to be read
        # again, whereas watermarks moved first would leave this run's skipped records unread for good.
        with store.connect() as conn:
            queue = pending.settle(conn, run_id)
        log.info("rejects: %(resolved)d resolved, %(repeated)d seen again; %(pending)d records wait for a later run"
                 " (%(queued)d from this run)", queue)
        for source, extract in windows.items():
            committed[source] = runs.commit_watermark(store, source, extract["window_end"], run_id).isoformat()
            if (extract["counts"] or {}).get("dormant_sweep"):  # this run read the takers of every action
                activity.commit_sweep(store, extract["window_end"])
    from an_sf_sync.load import budget
    from an_sf_sync.staging import retention

    pruned = {}
    if not dry_run:
        with store.connect() as conn:
            pruned = retention.prune(conn, datetime.now(UTC), retention.days(_variable(retention.VARIABLE, "")))
    with store.connect() as conn:
        backlog = budget.backlog(conn, run_id, _write_budget())
    if backlog["writes_left"]:
        log.info("backlog: %(writes_left)d Action Network writes left for later runs (%(spent)d written this run,"
                 " budget %(budget_per_run)d a run): about %(eta_hours)s more hourly runs", backlog)
    summary = {**runs.summarize(store, run_id), "watermarks": committed, "dry_run": dry_run, "pending": queue,
               "backlog": backlog, "pruned": pruned,
               "setup_warnings": settings.get(store, "setup_warnings", []) or [],
               "salesforce_api": settings.get(store, "salesforce_api_usage")}
    start = min((w["window_start"] for w in windows.values() if w["window_start"]), default=None)
    runs.record_run(store, run_id, start, max(w["window_end"] for w in windows.values()), summary, dry_run=dry_run)
    log.info("run %s summary: %s", run_id, json.dumps(summary, default=str))
    return {"watermarks": committed, "dry_run": dry_run, "conflicts": summary["conflicts"],
            "rejects": sum(r["count"] for r in summary["rejects"])}
