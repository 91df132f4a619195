"""Alerts before anyone asks: a failed run, too many new rejects, a low Salesforce API allowance, a late run.

They go out through Airflow's own notifiers, configured in the Airflow variable ``an_sf_sync_alerts``
(JSON), for example::

    {"notifiers": [{"class": "smtp", "to": "crm-admin@example.org"},
                   {"class": "slack_webhook", "slack_webhook_conn_id": "slack_alerts"}],
     "reject_share": 0.05, "api_allowance_share": 0.10}

``class`` is ``smtp`` (the smtp provider's ``SmtpNotifier``, connection ``smtp_default`` unless
``smtp_conn_id`` says otherwise), ``slack`` / ``slack_webhook`` (the slack provider's notifiers) or
the dotted path of any ``BaseNotifier`` class; the other keys are that class's arguments. They are
Jinja templates rendered with the alert in the context as ``alert`` (``alert.subject``,
``alert.text``, ``alert.html``, ``alert.run_url``, ``alert.report_url``); the message arguments of
the named notifiers default to those. Without the variable (or with no notifier) alerts are only
logged. A notifier that fails is logged and does not stop the others, nor the run.

- **failed**: the DAG's ``on_failure_callback`` (runs in the DAG processor).
- **rejects**: after ``finalize``, when the run's new problem rejects (not counting records that are
  simply not in scope, nor those already rejected for the same reason by an earlier run) exceed
  ``reject_share`` of the records it read.
- **api_allowance**: after ``finalize``, when the Salesforce API requests left in the org's rolling
  24-hour allowance drop under ``api_allowance_share`` of it (once, as it crosses the threshold).
- **overdue**: when a task of a run finishes more than ``run_deadline_minutes`` (60) after the run
  started, once per run. Airflow 3.3.2's deadline alerts would fit, but they break ``dag.test()``
  (``airflow dags test``, which the demo and the tests use): its run keeps the deadline definitions
  unserialised and fails as it finishes (``'dict' object has no attribute 'hex'``). So a task
  callback watches the hour instead; a run stuck inside one task is caught when that task ends or
  times out (``execution_timeout``), and a task that fails sends the failure alert anyway.

Alerts about a finished run are sent once per run and kind (``sync.alerts``), however often a task
is rerun.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from airflow.sdk import Context

log = logging.getLogger(__name__)

VARIABLE = "an_sf_sync_alerts"
DAG_ID = "actionnetwork_salesforce_sync"
DEFAULTS = {"reject_share": 0.05, "api_allowance_share": 0.10, "run_deadline_minutes": 60}
NOTIFIERS = {  # short name -> (class, default arguments)
    "smtp": ("airflow.providers.smtp.notifications.smtp.SmtpNotifier",
             {"subject": "{{ alert.subject }}", "html_content": "{{ alert.html }}"}),
    "slack": ("airflow.providers.slack.notifications.slack.SlackNotifier", {"text": "{{ alert.text }}"}),
    "slack_webhook": ("airflow.providers.slack.notifications.slack_webhook.SlackWebhookNotifier",
                      {"text": "{{ alert.text }}"}),
}


@dataclass(frozen=True)
class Alert:
    kind: str  # failed | rejects | api_allowance | overdue
    run_id: str
    headline: str
    details: list[str] = field(default_factory=list)
    base_url: str = "http://localhost:8080"

    @property
    def run_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/dags/{DAG_ID}/runs/{quote(self.run_id, safe='')}"

    @property
    def report_url(self) -> str:
        return f"{self.run_url}/plugin/sync-report-run"

    @property
    def subject(self) -> str:
        return f"[an-sf-sync] {self.headline}"

    @property
    def text(self) -> str:
        return "\n".join([self.headline, "", *self.details, "", f"Run: {self.run_url}",
                          f"Sync report: {self.report_url}"])

    @property
    def html(self) -> str:
        items = "".join(f"<li>{escape(line)}</li>" for line in self.details)
        return (f"<p><strong>{escape(self.headline)}</strong></p>{f'<ul>{items}</ul>' if items else ''}"
                f'<p><a href="{escape(self.run_url)}">Open the run</a> · '
                f'<a href="{escape(self.report_url)}">Open its sync report</a></p>')


def settings() -> dict[str, Any]:
    from airflow.sdk import Variable

    value = Variable.get(VARIABLE, default=None, deserialize_json=True) or {}
    return {**DEFAULTS, **value}


def base_url(config: dict[str, Any]) -> str:
    """Where people open Airflow: the variable's ``airflow_url``, else ``[api] base_url``."""
    from airflow.sdk.configuration import conf

    return config.get("airflow_url") or conf.get("api", "base_url", fallback=None) or "http://localhost:8080"


def notifier(spec: dict[str, Any]) -> Any:
    """A configured notifier: ``class`` (a short name or a dotted path), the rest its arguments."""
    from airflow.sdk.module_loading import import_string

    options = {k: v for k, v in spec.items() if k != "class"}
    path, defaults = NOTIFIERS.get(spec.get("class", ""), (spec.get("class", ""), {}))
    return import_string(path)(**{**defaults, **options})


def send(alert: Alert, context: Mapping[str, Any], config: dict[str, Any]) -> int:
    """Send ``alert`` through every configured notifier; returns how many took it."""
    log.warning("alert (%s) for run %s: %s %s", alert.kind, alert.run_id, alert.headline, " ".join(alert.details))
    # Templates render in Airflow's default environment: the alert needs no DAG macros, and the DAG a
    # callback gets under dag.test() is a serialized one, which has no template environment.
    context = {**{k: v for k, v in context.items() if k != "dag"}, "alert": alert}
    sent = 0
    for spec in config.get("notifiers", []):
        try:
            notifier(spec)(context)
            sent += 1
        except Exception:  # one broken channel (or a misspelt class) must not silence the others
            log.exception("could not send the %s alert through %s", alert.kind, spec.get("class"))
    return sent


# ---- what each alert says ---------------------------------------------------------------------------

def failed_alert(context: Mapping[str, Any], url: str) -> Alert:
    ti = context.get("ti")
    task = getattr(ti, "task_id", None)
    details = [f"Task {task} failed (try {getattr(ti, 'try_number', '?')}); its log says what went wrong and what"
               " to do." if task else f"Reason: {context.get('reason') or 'unknown'}.",
               "Nothing is lost: the next run reads from where this one started. Clear the failed task to rerun it"
               " once the cause is fixed."]
    return Alert("failed", context["run_id"], f"Sync run {context['run_id']} failed", details, url)


def check_run(conn: Any, run_id: str, config: dict[str, Any], url: str) -> list[Alert]:
    """The alerts a finished run calls for: a high share of new rejects, a low API allowance."""
    from an_sf_sync.staging import report

    alerts = []
    read, new = report.new_problem_rejects(conn, run_id)
    share = new / read if read else float(new > 0)
    if new and share > config["reject_share"]:
        alerts.append(Alert("rejects", run_id, f"Sync run {run_id}: {new:,} new rejects ({share:.1%} of records)", [
            f"{new:,} records the run read ({read:,} in all) were rejected for a reason not seen before, more"
            f" than the {config['reject_share']:.0%} alert threshold.",
            "Records that are simply not in the sync's scope are not counted. The sync report lists each reject"
            " with its reason and what to do."], url))
    usage, before = report.api_usage(conn, run_id)
    threshold = config["api_allowance_share"]
    if usage and _left(usage) < threshold and not (before and _left(before) < threshold):
        left = usage["total"] - usage["used"]
        alerts.append(Alert("api_allowance", run_id,
                            f"Salesforce API allowance low: {left:,} of {usage['total']:,} requests left", [
                                f"The org has used {usage['used']:,} of its {usage['total']:,} API requests in the"
                                f" last 24 hours; under {threshold:.0%} is left.",
                                "When it runs out the sync stops (and so may other integrations). Raise the org's"
                                " API limit, or run the sync less often."], url))
    return alerts


def _left(usage: dict[str, int]) -> float:
    return (usage["total"] - usage["used"]) / usage["total"] if usage["total"] else 0.0


# ---- the callbacks Airflow calls ---------------------------------------------------------------------

def run_failed(context: Context) -> None:
    """The DAG's ``on_failure_callback``. It needs no staging database: that may be what failed."""
    config = settings()
    send(failed_alert(context, base_url(config)), context, config)


def _send_once(conn: Any, alert: Alert, context: Mapping[str, Any], config: dict[str, Any]) -> None:
    """Send ``alert`` unless this run already had one of its kind (a rerun of a task sends nothing new)."""
    from an_sf_sync.staging import sent_alerts

    if sent_alerts.claim(conn, alert.run_id, alert.kind, alert.headline):
        send(alert, context, config)


def task_succeeded(context: Context) -> None:
    """Every task's ``on_success_callback``: has the run gone past its hour?"""
    config = settings()
    started = context["dag_run"].start_date
    deadline = timedelta(minutes=float(config["run_deadline_minutes"]))
    now = datetime.now(UTC)
    if started is None or now - started <= deadline:
        return
    from an_sf_sync.staging import report

    alert = Alert("overdue", context["run_id"], f"Sync run {context['run_id']} is taking more than"
                  f" {_duration(deadline)}", [
                      f"It started at {started:%Y-%m-%d %H:%M} UTC and its task {context['ti'].task_id} finished"
                      f" {_duration(now - started)} later; the run is not done yet.",
                      "The next hourly run waits for it. A large first sync or a backlog can take longer; otherwise"
                      " look for a task that is slow or retrying."], base_url(config))
    with report.connect() as conn:
        _send_once(conn, alert, context, config)


def run_finished(context: Context) -> None:
    """``finalize``'s ``on_success_callback``: the checks of a finished run (not of a dry run)."""
    task_succeeded(context)
    if context["params"].get("dry_run"):
        return
    from an_sf_sync.staging import report

    config = settings()
    with report.connect() as conn:
        for alert in check_run(conn, context["run_id"], config, base_url(config)):
            _send_once(conn, alert, context, config)


def _duration(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
