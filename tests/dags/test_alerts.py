"""Alerts: the DAG run by Airflow (``dag.test``), mail sent by the smtp provider's notifier to a real SMTP
server on loopback (aiosmtpd), received and parsed; a Slack webhook post to an endpoint on loopback.
"""

from __future__ import annotations

import json
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import quote

from airflow.utils.state import DagRunState

from an_sf_sync import alerts
from tests.dags.conftest import states
from tests.fixtures.smtp import FROM, free_port

AIRFLOW_URL = "https://airflow.example.org"
ADMIN = "crm-admin@example.org"


def configure(monkeypatch, **config) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_ALERTS", json.dumps({
        "notifiers": [{"class": "smtp", "to": ADMIN}], "airflow_url": AIRFLOW_URL, **config}))


def by_kind(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    kinds = {"failed": "failed", "new rejects": "rejects", "API allowance": "api_allowance",
             "taking more than": "overdue"}
    found = {}
    for message in messages:
        [kind] = [k for text, k in kinds.items() if text in message["Subject"]]
        assert kind not in found, f"two {kind} alerts: {[m['Subject'] for m in messages]}"
        found[kind] = message
    return found


def body(message: EmailMessage) -> str:
    return message.get_body(("html", "plain")).get_content()


def links_to_the_run(message: EmailMessage, run_id: str) -> None:
    html = body(message)
    run_url = f"{AIRFLOW_URL}/dags/actionnetwork_salesforce_sync/runs/{quote(run_id, safe='')}"
    assert f'href="{run_url}"' in html and f'href="{run_url}/plugin/sync-report-run"' in html, html
    assert message["To"] == ADMIN and message["X-Envelope-To"] == ADMIN
    assert message["From"] == FROM


def person(an_id: str, address: str) -> dict:
    return {"id": an_id, "family_name": an_id, "email_addresses": [{"address": address, "primary": True,
                                                                     "status": "subscribed"}]}


def test_runs_alert_on_rejects_api_allowance_lateness_and_failure(dag, an_sandbox, sf_sandbox, inbox, monkeypatch):
    an_sandbox.app.store.load_records({"people": [person(f"p{i}", f"p{i}@example.org") for i in range(10)]
                                       + [person(f"bad{i}", f"bad{i}-at-example.org") for i in range(3)]})
    sf_sandbox.app.daily_api_limit, sf_sandbox.app.api_calls = 1_000, 920
    configure(monkeypatch, run_deadline_minutes=0)  # every run is "late": the alert goes once per run
    time.sleep(1)  # windows are whole seconds

    first = dag.test(logical_date=None)
    assert first.state == DagRunState.SUCCESS, states(first)
    alerts_sent = by_kind(inbox.take())
    assert set(alerts_sent) == {"rejects", "api_allowance", "overdue"}
    for message in alerts_sent.values():
        links_to_the_run(message, first.run_id)
    rejects = alerts_sent["rejects"]
    assert rejects["Subject"] == f"[an-sf-sync] Sync run {first.run_id}: 3 new rejects (23.1% of records)"
    assert "more than the 5% alert threshold" in body(rejects)
    used = sf_sandbox.app.api_calls
    assert alerts_sent["api_allowance"]["Subject"] == (
        f"[an-sf-sync] Salesforce API allowance low: {1_000 - used} of 1,000 requests left")

    # nothing new: no rejects alert; the allowance is still low, but it was said already
    second = dag.test(logical_date=None)
    assert second.state == DagRunState.SUCCESS, states(second)
    assert set(by_kind(inbox.take())) == {"overdue"}

    # the allowance runs out: the run fails at once, and says so
    configure(monkeypatch)
    sf_sandbox.app.api_calls = 1_000
    third = dag.test(logical_date=None)
    assert third.state == DagRunState.FAILED, states(third)
    failed = by_kind(inbox.take())
    assert set(failed) == {"failed"}
    assert failed["failed"]["Subject"] == f"[an-sf-sync] Sync run {third.run_id} failed"
    assert "failed (try 1); its log says what went wrong" in body(failed["failed"])
    links_to_the_run(failed["failed"], third.run_id)


def test_a_broken_channel_does_not_silence_the_others(inbox, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_NOWHERE", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": free_port(), "extra": {"from_email": "x@example.org",
                                                                               "disable_tls": True, "retry_limit": 0}}))
    config = {"notifiers": [
        {"class": "smtp", "to": ADMIN, "smtp_conn_id": "smtp_nowhere"},
        {"class": "an_sf_sync.no_such.Notifier"},
        {"class": "airflow.providers.smtp.notifications.smtp.SmtpNotifier", "to": ["ops@example.org", ADMIN],
         "subject": "Sync: {{ alert.headline }}", "html_content": "<pre>{{ alert.text }}</pre>"},
    ], "airflow_url": AIRFLOW_URL}
    context = {"run_id": "scheduled__2026-03-01T10:00:00+00:00", "reason": "task_failure",
               "ti": SimpleNamespace(task_id="load_contacts", try_number=4)}
    alert = alerts.failed_alert(context, AIRFLOW_URL)
    assert alerts.send(alert, context, config) == 1
    [message] = inbox.take()
    assert message["Subject"] == "Sync: Sync run scheduled__2026-03-01T10:00:00+00:00 failed"
    assert message["X-Envelope-To"] == f"ops@example.org, {ADMIN}"
    text = body(message)
    assert "Task load_contacts failed (try 4)" in text
    assert (f"Sync report: {AIRFLOW_URL}/dags/actionnetwork_salesforce_sync/runs/"
            "scheduled__2026-03-01T10%3A00%3A00%2B00%3A00/plugin/sync-report-run") in text


def test_without_notifiers_alerts_are_only_logged(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_VAR_AN_SF_SYNC_ALERTS", raising=False)
    config = alerts.settings()
    assert config == {**alerts.DEFAULTS}
    context = {"run_id": "manual__1", "reason": "task_failure"}
    assert alerts.send(alerts.failed_alert(context, AIRFLOW_URL), context, config) == 0
    assert "Sync run manual__1 failed" in caplog.text


def test_slack_gets_the_alert_as_text(monkeypatch):
    """The slack provider's webhook notifier, posting to a webhook endpoint on loopback."""
    received: list[dict] = []

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
            received.append({"path": self.path, **json.loads(self.rfile.read(int(self.headers["Content-Length"])))})
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_ALERTS", json.dumps({
            "conn_type": "slackwebhook", "password": f"http://127.0.0.1:{server.server_port}/services/T0/B0/secret"}))
        config = {"notifiers": [{"class": "slack_webhook", "slack_webhook_conn_id": "slack_alerts"}],
                  "airflow_url": AIRFLOW_URL}
        context = {"run_id": "manual__1", "reason": "task_failure", "ti": SimpleNamespace(task_id="reconcile",
                                                                                        try_number=1)}
        assert alerts.send(alerts.failed_alert(context, AIRFLOW_URL), context, config) == 1
    finally:
        server.shutdown()
    [post] = received
    assert post["path"] == "/services/T0/B0/secret"
    assert post["text"].startswith("Sync run manual__1 failed\n\nTask reconcile failed (try 1)")
    assert f"Sync report: {AIRFLOW_URL}/dags/actionnetwork_salesforce_sync/runs/manual__1/plugin/sync-report-run" in (
        post["text"])
