"""``an-sf-sync doctor``: check what a first install gets wrong, and say how to fix each.

Run it where the Airflow CLI runs (it reads the same connections, variables and pool). Each check
is PASS, WARN (works, but needs attention) or FAIL (the sync cannot run); the command exits 1 if any
check fails. Checks that need a login the doctor could not make are reported as skipped (FAIL with
the reason), never silently passed. It changes nothing in either system; it does bring the staging
schema up to date, as any task would.
"""

from __future__ import annotations

import argparse
import json
import shutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
POOL = "actionnetwork_api"
# Below this share of the daily allowance left, an hourly run may be cut off by REQUEST_LIMIT_EXCEEDED.
ALLOWANCE_FAIL, ALLOWANCE_WARN = 0.05, 0.20
# A run re-reads 5 minutes before its window (overlap_minutes); a clock off by more loses changes.
SKEW_WARN, SKEW_FAIL = 30.0, 300.0


@dataclass
class Result:
    check: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Doctor:
    """Builds each client once; a check that needs one that failed to build is reported as skipped."""

    an_conn_id: str = "actionnetwork_default"
    sf_conn_id: str = "salesforce_default"
    results: list[Result] = field(default_factory=list)
    sf_date: str | None = None  # Salesforce's Date header, for the clock check
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, name: str, build: Callable[[], Any]) -> Any:
        if name not in self._clients:
            try:
                self._clients[name] = build()
            except Exception as exc:
                self._clients[name] = exc
        return self._clients[name]

    def an(self) -> Any:
        from an_sf_sync.actionnetwork.hook import ActionNetworkHook

        return self.client("an", lambda: _checked_an(ActionNetworkHook(self.an_conn_id).get_conn()))

    def sf(self) -> Any:
        from an_sf_sync.salesforce.client import SalesforceClient

        return self.client("sf", lambda: SalesforceClient.from_connection(self.sf_conn_id))

    def add(self, check: str, status: str, detail: str, fix: str = "") -> None:
        self.results.append(Result(check, status, detail, fix))

    def run(self, check: str, fn: Callable[[Doctor], tuple[str, str, str]]) -> None:
        try:
            self.add(check, *fn(self))
        except _Skipped as skipped:
            self.add(check, FAIL, f"not checked: {skipped}", "Fix the check it depends on first.")
        except Exception as exc:  # a check must report, never crash the others
            self.add(check, FAIL, f"{type(exc).__name__}: {exc}", "")


class _Skipped(Exception):
    pass


def _checked_an(client: Any) -> Any:
    client.check_auth()
    return client


def _need(client: Any, what: str) -> Any:
    if isinstance(client, Exception):
        raise _Skipped(f"no {what} ({type(client).__name__})")
    return client


# ---- the checks ----------------------------------------------------------------------------------

def check_an_key(doc: Doctor) -> tuple[str, str, str]:
    client = doc.an()
    if isinstance(client, Exception):
        return FAIL, str(client), (f"Put the API key from Action Network (Start Organizing > Details > API & "
                                   f"Sync) in the password of the connection {doc.an_conn_id!r}.")
    return PASS, f"{client.base_url} accepted the API key", ""


def check_an_group(doc: Doctor) -> tuple[str, str, str]:
    from an_sf_sync import rules
    from an_sf_sync.actionnetwork.errors import ActionNetworkNotFoundError

    an, sf = _need(doc.an(), "Action Network login"), _need(doc.sf(), "Salesforce login")
    found: list[dict[str, Any]] = next(iter(sf.read("Campaign", ["Id", rules.EXTERNAL_ID_FIELD], where="Name = {name} AND ParentId = null",
                              params={"name": rules.SUBSCRIBERS_CAMPAIGN})), [])
    form_id = found[0].get(rules.EXTERNAL_ID_FIELD) if found else None
    if not form_id:
        return PASS, "this org is not paired yet; the first run pairs it with this key's group", ""
    try:
        an.get_action("form", form_id)
    except ActionNetworkNotFoundError:
        return FAIL, (f"the org's {rules.SUBSCRIBERS_CAMPAIGN!r} campaign belongs to the Action Network form "
                      f"{form_id}, which this API key cannot see: the key is another group's"), (
            "Use the API key of the group this Salesforce org is paired with (one org, one group).")
    return PASS, f"paired with this key's group (form {form_id})", ""


def check_sf_login(doc: Doctor) -> tuple[str, str, str]:
    from an_sf_sync.salesforce.hook import (
        LEGACY_FLOWS,
        LOGIN_FLOWS,
        MIGRATE_ADVICE,
        SOAP_LOGIN_ENDS,
        login_flow,
    )

    flow = login_flow(doc.sf_conn_id)
    client = doc.sf()
    if isinstance(client, Exception):
        return FAIL, str(client), MIGRATE_ADVICE if flow in LEGACY_FLOWS else (
            f"Check the connection {doc.sf_conn_id!r} against the README's 'Salesforce login' steps.")
    detail = f"logged in to {client.sf.sf_instance} with {LOGIN_FLOWS[flow]}"
    if flow in LEGACY_FLOWS:
        return WARN, f"{detail}, which stops working with Salesforce's {SOAP_LOGIN_ENDS}", MIGRATE_ADVICE
    return PASS, detail, ""


def check_sf_fields(doc: Doctor) -> tuple[str, str, str]:
    from an_sf_sync.errors import SetupError
    from an_sf_sync.setup import check_fields

    sf = _need(doc.sf(), "Salesforce login")
    try:
        checked = check_fields(sf.describe, _custom_fields() or [])
    except SetupError as exc:
        problems = str(exc).split("\n- ")[1:]
        return FAIL, f"{len(problems)} field problem(s)", "\n".join(problems)
    if checked.warnings:
        return (WARN, f"required fields present; {len(checked.warnings)} custom field(s) will not sync",
                "\n".join(checked.warnings))
    mapping = checked.custom_fields
    return PASS, ("required fields present" + (f"; custom fields {', '.join(mapping.values())}" if mapping else "")), ""


def check_sf_allowance(doc: Doctor) -> tuple[str, str, str]:
    sf = _need(doc.sf(), "Salesforce login")
    response = sf.sf.session.get(f"{sf.sf.base_url}limits/", headers=sf.sf.headers, timeout=30)
    response.raise_for_status()
    doc.sf_date = response.headers.get("Date")
    daily = response.json()["DailyApiRequests"]
    left, most = int(daily["Remaining"]), int(daily["Max"])
    detail = f"{left:,} of {most:,} API requests left in the last 24 hours"
    fix = ("Wait for the 24-hour window to free requests, pause other integrations, or buy more API "
           "capacity; a run stops at once when Salesforce answers REQUEST_LIMIT_EXCEEDED.")
    if left < most * ALLOWANCE_FAIL:
        return FAIL, detail, fix
    return (WARN, detail, fix) if left < most * ALLOWANCE_WARN else (PASS, detail, "")


def check_staging(doc: Doctor) -> tuple[str, str, str]:
    import psycopg

    from an_sf_sync.staging import migrations
    from an_sf_sync.staging.db import SERVER_ADVICE, STAGING_CONN_ID, named_conninfo
    from an_sf_sync.staging.store import StagingStore, scalar

    named = named_conninfo()
    try:
        store = StagingStore.from_connection()
        with store.connect() as conn:
            version = scalar(conn, "SELECT max(version) FROM sync.schema_migrations")
            size = scalar(conn, "SELECT pg_size_pretty(pg_database_size(current_database()))")
            oldest = scalar(conn, "SELECT min(extracted_at) FROM staging.extracts")
    except psycopg.Error as exc:
        return FAIL, f"cannot reach the staging database: {str(exc).strip().splitlines()[0]}", (
            f"Check the connection {STAGING_CONN_ID!r} (host, port, database, login, password, sslmode) "
            "and that the server accepts this machine. " + SERVER_ADVICE)
    latest = migrations.available()[-1][0]
    where = "the embedded Postgres" if named is None else _describe_server(named)
    if version != latest:
        return FAIL, f"{where}: schema at version {version}, the package ships {latest}", (
            "Install the same an-sf-sync version on every worker and scheduler.")
    status = WARN if named is None else PASS
    fix = "Fine for one machine; for a deployment name a server. " + SERVER_ADVICE if named is None else ""
    kept = f"runs' staging kept since {oldest:%Y-%m-%d}" if oldest else "no run staged yet"
    return status, f"{where} reachable, schema at version {version} (latest); {size}, {kept}", fix


def check_pool(doc: Doctor) -> tuple[str, str, str]:
    from airflow.models.pool import Pool

    pool = Pool.get_pool(POOL)
    fix = (f"Create it with one slot: airflow pools set {POOL} 1 'Action Network allows 4 requests/s per key' "
           "(or an-sf-sync settings import).")
    if pool is None:
        return FAIL, f"pool {POOL!r} is missing: the tasks that use it never start", fix
    if pool.slots != 1:
        return WARN, f"pool {POOL!r} has {pool.slots} slots: runs would share Action Network's rate limit", fix
    return PASS, f"pool {POOL!r} has 1 slot", ""


def check_variables(doc: Doctor) -> tuple[str, str, str]:
    from an_sf_sync.reconcile.duplicates import RULES
    from an_sf_sync.staging import report, retention
    from an_sf_sync.tasks import CUSTOM_FIELDS_VARIABLE, DUPLICATE_RULE_VARIABLE

    problems, notes = [], []
    custom = _custom_fields()
    if custom is None:
        problems.append(f'Set {CUSTOM_FIELDS_VARIABLE} to a JSON list of field names, e.g. ["employer"].')
    elif _variable(CUSTOM_FIELDS_VARIABLE) is None:
        notes.append(f"{CUSTOM_FIELDS_VARIABLE} not set (no custom fields synced)")
    else:
        notes.append(f"{CUSTOM_FIELDS_VARIABLE} = {json.dumps(custom)}")
    rule = _variable(DUPLICATE_RULE_VARIABLE)
    if rule is None:
        notes.append(f"{DUPLICATE_RULE_VARIABLE} not set (oldest)")
    elif rule not in RULES:
        problems.append(f"Set {DUPLICATE_RULE_VARIABLE} to one of {', '.join(RULES)}.")
    else:
        notes.append(f"{DUPLICATE_RULE_VARIABLE} = {rule}")
    days = _variable(retention.VARIABLE)
    if days is not None and str(used := retention.days(days)) != days.strip():
        problems.append(f"Set {retention.VARIABLE} to a whole number of days, at least {report.HISTORY_DAYS} (the"
                        f" report's history); until then {used} is used.")
    elif days is not None:
        notes.append(f"{retention.VARIABLE} = {days}")
    if problems:
        return FAIL, "; ".join(notes) or "invalid values", "\n".join(problems)
    return PASS, "; ".join(notes), ""


def check_clock(doc: Doctor) -> tuple[str, str, str]:
    import requests

    skews = {}
    an = doc.an()
    if not isinstance(an, Exception):
        skews["Action Network"] = requests.get(an.base_url, timeout=30).headers.get("Date")
    if doc.sf_date:
        skews["Salesforce"] = doc.sf_date
    if not skews:
        raise _Skipped("no server answered")
    now = datetime.now(UTC)
    offsets = {name: (now - parsedate_to_datetime(date)).total_seconds() for name, date in skews.items() if date}
    worst = max(offsets.values(), key=abs)
    detail = ", ".join(f"{name} {offset:+.0f} s" for name, offset in offsets.items()) + " (this machine minus theirs)"
    fix = "Synchronise this machine's clock (NTP: chrony or systemd-timesyncd) on every Airflow worker."
    if abs(worst) > SKEW_FAIL:
        return FAIL, detail, fix + " A skew beyond the 5-minute overlap loses changes."
    return (WARN, detail, fix) if abs(worst) > SKEW_WARN else (PASS, detail, "")


CHECKS: list[tuple[str, Callable[[Doctor], Any]]] = [
    ("Action Network API key", check_an_key),
    ("Salesforce login", check_sf_login),
    ("Action Network group", check_an_group),
    ("Salesforce fields", check_sf_fields),
    ("Salesforce API allowance", check_sf_allowance),
    ("Staging database", check_staging),
    ("Pool", check_pool),
    ("Variables", check_variables),
    ("Clock skew", check_clock),
]


def _variable(name: str) -> str | None:
    from airflow.sdk import Variable

    return Variable.get(name, default=None)


def _custom_fields() -> list[str] | None:
    """The custom-field variable as a list of names; [] when unset; None when it is not such a list."""
    from an_sf_sync.tasks import CUSTOM_FIELDS_VARIABLE

    raw = _variable(CUSTOM_FIELDS_VARIABLE)
    try:
        value = json.loads(raw) if raw is not None else []
    except ValueError:
        return None
    return value if isinstance(value, list) and all(isinstance(name, str) for name in value) else None


def _describe_server(conninfo: str) -> str:
    import psycopg

    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    return f"{params.get('host')}:{params.get('port', 5432)}/{params.get('dbname')}"


def diagnose(an_conn_id: str = "actionnetwork_default", sf_conn_id: str = "salesforce_default") -> list[Result]:
    doc = Doctor(an_conn_id, sf_conn_id)
    for name, check in CHECKS:
        doc.run(name, check)
    return doc.results


def render(results: list[Result]) -> str:
    width = max(len(r.check) for r in results)
    columns = shutil.get_terminal_size((120, 20)).columns
    lines = [f"{'CHECK':<{width}}  RESULT  DETAIL"]
    for r in results:
        lines.append(f"{r.check:<{width}}  {r.status:<6}  {r.detail}")
        fix = [text for line in (r.fix.splitlines() if r.status != PASS else [])
               for text in textwrap.wrap(line, max(40, columns - width - 14))]
        lines += [f"{'':<{width}}  {'fix:' if i == 0 else '':<6}  {text}" for i, text in enumerate(fix)]
    failed = sum(r.status == FAIL for r in results)
    warned = sum(r.status == WARN for r in results)
    lines.append(f"\n{len(results) - failed - warned} passed, {warned} to look at, {failed} failed")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--actionnetwork-conn-id", default="actionnetwork_default")
    parser.add_argument("--salesforce-conn-id", default="salesforce_default")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    results = diagnose(args.actionnetwork_conn_id, args.salesforce_conn_id)
    print(json.dumps([r.__dict__ for r in results], indent=2) if args.json else render(results))
    return 1 if any(r.status == FAIL for r in results) else 0
