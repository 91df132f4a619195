"""``an-sf-sync demo``: the whole two-way sync, end to end, on the sandboxes, in a few minutes.

It prepares the project-local Airflow (database, connections, pool, variables), starts both API
sandboxes with generated data that has every case the sync handles (shared emails, duplicates,
malformed and missing emails, subscribers, actions, donations), runs the DAG through Airflow
(``airflow dags test``), changes records on both sides through the real APIs, runs the next sync,
and prints each run's summary. The demo keeps its data apart (``$AN_SF_SYNC_HOME/demo``, by default
``.an_sf_sync/demo``), starts from scratch each time, and stops its embedded Postgres at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from an_sf_sync.staging.db import embedded_held
from an_sf_sync_dev import localenv

DAG_ID = "actionnetwork_salesforce_sync"
# These match airflow_settings.yaml. The Salesforce sandbox is a new org: SOAP login() is disabled and
# the sync logs in with OAuth client credentials, as through an External Client App.
AN_KEY, AN_PORT = "sandbox-api-key", 8701
SF_PORT, SF_USER, SF_PASSWORD, SF_TOKEN = 8702, "sync@example.org", "sandbox-password", "sandbox-token"
SF_CONSUMER_KEY, SF_CONSUMER_SECRET = "an-sf-sync-sandbox", "sandbox-secret"


def salesforce_sandbox_args() -> list[str]:
    """The Salesforce sandbox's login settings, as its command line takes them."""
    return ["--username", SF_USER, "--password", SF_PASSWORD, "--security-token", SF_TOKEN,
            "--consumer-key", SF_CONSUMER_KEY, "--consumer-secret", SF_CONSUMER_SECRET, "--soap-login", "disabled"]


def sandbox_salesforce(host_port: str, ca_file: Path) -> Any:
    """simple-salesforce logged in to the sandbox at ``host_port`` the way the sync does (client credentials)."""
    from simple_salesforce import Salesforce

    from an_sf_sync.salesforce.hook import CABundleSession

    return Salesforce(consumer_key=SF_CONSUMER_KEY, consumer_secret=SF_CONSUMER_SECRET,
                      domain=f"{host_port}/services/oauth2/token?x=", session=CABundleSession(str(ca_file)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, default=400, help="Action Network people to generate")
    parser.add_argument("--contacts", type=int, default=300, help="Salesforce contacts to generate")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the generated data")
    parser.add_argument("--an-port", type=int, default=AN_PORT, help="Action Network sandbox port (0: any free port)")
    parser.add_argument("--sf-port", type=int, default=SF_PORT, help="Salesforce sandbox port (0: any free port)")
    parser.add_argument("--fast", action="store_true",
                        help="lift the Action Network sandbox's 4 requests/s limit (the real API has it)")


def _airflow(*args: str) -> None:
    cmd = [str(Path(sys.executable).parent / "airflow"), *args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-8000:] + result.stderr[-8000:])
        raise SystemExit(f"`airflow {' '.join(args)}` failed (exit {result.returncode})")


@contextlib.contextmanager
def _sandbox(*args: str) -> Iterator[str]:
    """Run a sandbox server as a child process; yield the URL from its ready line."""
    proc = subprocess.Popen([sys.executable, "-m", "an_sf_sync.cli", "sandbox", *args],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("ready "):
            raise SystemExit(f"sandbox {args[0]} did not start: {line!r}")
        yield line.removeprefix("ready ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _share_people(an_url: str, sf_url: str, ca_file: Path) -> int:
    """Put some activists' emails on Salesforce contacts too (one in a different case, one twice)."""
    import requests

    from an_sf_sync.actionnetwork.client import ActionNetworkClient

    with ActionNetworkClient(an_url, AN_KEY) as an:
        people = [p for p in itertools.islice(an.people(), 60) if p["email"] and "@" in p["email"]][:20]
    contacts = [{"FirstName": p["given_name"], "LastName": p["family_name"] or "Unknown",
                 "Email": p["email"].upper() if i % 5 == 0 else p["email"], "MailingCity": "Springfield"}
                for i, p in enumerate(people)]
    contacts.append({"LastName": "Twin", "Email": people[1]["email"]})  # a duplicate of a shared email
    response = requests.post(f"{sf_url}/__sandbox__/seed", json={"records": {"Contact": contacts}},
                             verify=str(ca_file), timeout=60)
    response.raise_for_status()
    return len(contacts)


def _change_both_sides(an_url: str, sf_url: str, ca_file: Path) -> tuple[list[str], dict[str, str]]:
    """An organizer's hour: edits on both sides, through the real APIs. Returns what was done, and
    the records whose outcome the demo shows (an email change, a gift waiting for its donor)."""
    from an_sf_sync.actionnetwork.client import ActionNetworkClient

    done = []
    with ActionNetworkClient(an_url, AN_KEY) as an:
        people = [p for p in itertools.islice(an.people(), 80) if p["email"] and "@" in p["email"]]
        for person in people[:5]:
            an.upsert_person({"email": person["email"], "city": "Oakland"})
        an.unsubscribe(people[5]["an_id"])
        done.append("Action Network: 5 activists moved to Oakland, 1 unsubscribed")
        mover = next(p for p in people[6:] if p["family_name"])
        an.update_person(mover["an_id"], {"email": f"new.{mover['email']}"})
        done.append(f"Action Network: {mover['given_name']} {mover['family_name']} changed their email address")
        an.upsert_person({"given_name": "Nia", "family_name": "Newcomer", "email": "nia.newcomer@example.org"},
                         subscription="subscribed")
        done.append("Action Network: a new activist signed up")
    sf = sandbox_salesforce(urlsplit(sf_url).netloc, ca_file)
    subscribers = sf.query("SELECT Id FROM Campaign WHERE Name = 'Action Network Subscribers'")["records"][0]["Id"]
    account = sf.query("SELECT Id FROM Account WHERE Name = 'Action Network Donations'")["records"][0]["Id"]
    contacts = sf.query("SELECT Id, Email FROM Contact WHERE Email != null ORDER BY CreatedDate LIMIT 40")["records"]
    for contact in contacts[:3]:
        sf.Contact.update(contact["Id"], {"Title": "Volunteer lead", "MailingCity": "Portland"})
    newcomer = sf.Contact.create({"FirstName": "Sam", "LastName": "Salesforce", "Email": "sam.sf@example.org"})["id"]
    sf.CampaignMember.create({"CampaignId": subscribers, "ContactId": newcomer})
    bank = sf.Campaign.create({"Name": "Phone bank volunteers", "ParentId": subscribers})["id"]
    sf.CampaignMember.create({"CampaignId": bank, "ContactId": newcomer})
    gift = sf.Opportunity.create({"Name": "Major gift", "AccountId": account, "StageName": "Closed Won",
                                  "CloseDate": time.strftime("%Y-%m-%d"), "Amount": 250,
                                  "Action_Network_Recurring__c": "Yearly"})["id"]
    sf.OpportunityContactRole.create({"OpportunityId": gift, "ContactId": newcomer, "Role": "Donor",
                                      "IsPrimary": True})
    patron = sf.Contact.create({"FirstName": "Pat", "LastName": "Patron", "Email": "pat.patron@example.org"})["id"]
    pledge = sf.Opportunity.create({"Name": "Pledge", "AccountId": account, "StageName": "Closed Won",
                                    "CloseDate": time.strftime("%Y-%m-%d"), "Amount": 75})["id"]
    sf.OpportunityContactRole.create({"OpportunityId": pledge, "ContactId": patron, "Role": "Donor",
                                      "IsPrimary": True})
    sf.Contact.update(contacts[3]["Id"], {"Email": f"changed.{contacts[3]['Email']}"})
    done += ["Salesforce: 3 contacts moved to Portland, 1 contact's email changed (stops its sync)",
             "Salesforce: a new contact added to the Subscribers campaign and to a child 'Phone bank' campaign",
             "Salesforce: a $250 yearly gift recorded with the new contact as donor",
             "Salesforce: a $75 pledge whose donor is not in the Subscribers campaign yet (it waits)"]
    return done, {"mover": mover["an_id"], "patron": patron, "pledge": pledge, "subscribers": subscribers}


def _show_outcomes(an_url: str, sf_url: str, ca_file: Path, facts: dict[str, str]) -> None:
    """What became of the email change and of the gift that waited for its donor."""
    from an_sf_sync.actionnetwork.client import ActionNetworkClient
    from an_sf_sync.staging.store import StagingStore

    with StagingStore.from_connection().connect() as conn:
        sf_id, = conn.execute("SELECT sf_id FROM sync.contact_links WHERE an_id = %s", (facts["mover"],)).fetchone()
    contact = sandbox_salesforce(urlsplit(sf_url).netloc, ca_file).Contact.get(sf_id)
    with ActionNetworkClient(an_url, AN_KEY) as an:
        mover = an.get_person(facts["mover"])
        donations = [d for d in an.donations() if d.get("amount") == "75.00"]
    print(f"\n  email change: activist {mover['email']} -> Contact Email {contact['Email']}, "
          f"LastName {contact['LastName']!r} (the activist's last name is {mover['family_name']!r})")
    print(f"  pending, then synced: the $75 pledge waited for its donor; Action Network now has "
          f"{len(donations)} donation of $75")


def _print_run(label: str) -> None:
    from an_sf_sync.staging.store import StagingStore

    with StagingStore.from_connection().connect() as conn:
        run_id, summary = conn.execute(
            "SELECT run_id, summary FROM sync.runs ORDER BY finished_at DESC LIMIT 1").fetchone()
    print(f"\n== {label}: run {run_id}")
    for source, counts in sorted(summary["extracted"].items()):
        print(f"  read from {source:<14} " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    print("  writes:")
    for w in summary["writes"]:
        if w["direction"] != "local":
            print(f"    {w['step']:<14} {w['direction']:<17} {w['action']:<12} {w['status']:<8} {w['count']:>6}")
    print("  skipped or failed, with reasons (sync.rejects):")
    for r in summary["rejects"]:
        print(f"    {r['source']:<14} {r['object']:<13} {r['reason_code']:<32} {r['count']:>6}")
    print(f"  conflicts resolved (sync.conflicts): {summary['conflicts']}")
    queue = summary.get("pending") or {}
    if queue:
        print(f"  earlier rejects now resolved: {queue['resolved']}; records waiting for a later run: {queue['pending']}")


def run(args: argparse.Namespace) -> int:
    from an_sf_sync import settings
    from an_sf_sync_dev.airflow_local import sandbox_settings

    root = localenv.project_root()
    demo_home = Path(os.environ.get("AN_SF_SYNC_HOME") or root / ".an_sf_sync") / "demo"
    shutil.rmtree(demo_home, ignore_errors=True)  # the demo's own data only: start from scratch
    os.environ["AN_SF_SYNC_HOME"] = str(demo_home)
    localenv.apply(root)
    demo_home.mkdir(parents=True, exist_ok=True)
    ca_file = demo_home / "sandbox-ca.pem"
    print("preparing the project-local Airflow (.airflow) ...")
    _airflow("db", "migrate")
    print(f"starting the sandboxes: {args.people} Action Network people, {args.contacts} Salesforce contacts ...")
    with _sandbox("actionnetwork", "--port", str(args.an_port), "--api-key", AN_KEY, "--seed-people",
                  str(args.people), "--seed", str(args.seed), "--rate-limit", "0" if args.fast else "4") as an_url, \
         _sandbox("salesforce", "--port", str(args.sf_port), *salesforce_sandbox_args(), "--ca-file", str(ca_file),
                  "--custom-field", "Contact.Employer__c=textarea", "--seed-contacts", str(args.contacts),
                  "--seed", str(args.seed)) as sf_url:
        settings.apply(sandbox_settings(settings.load(root / "airflow_settings.yaml"), an_url, sf_url, ca_file))
        print(f"  Action Network API: {an_url}\n  Salesforce API:     {sf_url} (its CA: {ca_file})")
        with embedded_held():  # one embedded Postgres for the whole demo, stopped at its end; the runs join it
            _runs(an_url, sf_url, ca_file)
    print(f"\nEvery record skipped has its reason in sync.rejects (embedded Postgres under {demo_home}).")
    return 0


def _runs(an_url: str, sf_url: str, ca_file: Path) -> None:
    print(f"  {_share_people(an_url, sf_url, ca_file)} Salesforce contacts share an activist's email")
    time.sleep(1)  # windows are whole seconds
    # Logical dates ahead of now: each window then ends "now" (a window never ends in the future).
    next_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    print("first run (reads everything, resolves duplicate contacts) ...")
    _airflow("dags", "test", DAG_ID, next_hour.isoformat(), "-c", json.dumps({"full_refresh": True}))
    _print_run("first run")
    print("\nchanging records on both sides:")
    done, facts = _change_both_sides(an_url, sf_url, ca_file)
    for line in done:
        print(f"  - {line}")
    time.sleep(1)
    print("next run (only what changed) ...")
    _airflow("dags", "test", DAG_ID, (next_hour + timedelta(hours=1)).isoformat())
    _print_run("second run")
    print("\nthe pledge's donor joins the Subscribers campaign (the pledge itself is not touched)")
    sandbox_salesforce(urlsplit(sf_url).netloc, ca_file).CampaignMember.create(
        {"CampaignId": facts["subscribers"], "ContactId": facts["patron"]})
    time.sleep(1)
    print("third run ...")
    _airflow("dags", "test", DAG_ID, (next_hour + timedelta(hours=2)).isoformat())
    _print_run("third run")
    _show_outcomes(an_url, sf_url, ca_file, facts)
