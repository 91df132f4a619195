"""Loading the contacts plan over both emulators and a real Postgres, including a load killed half-way."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from simple_salesforce import Salesforce

from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.extract import extract_actionnetwork, extract_salesforce
from an_sf_sync.load.contacts import load_contacts
from an_sf_sync.reconcile import reconcile_run
from an_sf_sync.salesforce.client import SalesforceClient
from an_sf_sync.salesforce.hook import CABundleSession
from an_sf_sync.setup import ensure_masters
from an_sf_sync.staging import settings
from an_sf_sync.window import Window
from an_sf_sync_dev.sandbox.http import Fault

RUN = "manual__load-contacts"
LOAD = """
import json, sys
from simple_salesforce import Salesforce
from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.load.contacts import load_contacts
from an_sf_sync.salesforce.client import SalesforceClient
from an_sf_sync.salesforce.hook import CABundleSession
from an_sf_sync.staging.store import StagingStore
from an_sf_sync.staging import settings
c = json.loads(sys.argv[1])
store = StagingStore(c["conninfo"])
sf = SalesforceClient(Salesforce(username=c["user"], password=c["password"], security_token=c["token"],
                                 domain=c["domain"], session=CABundleSession(c["ca"])))
an = ActionNetworkClient(c["an_url"], c["an_key"])
load_contacts(store, c["run"], an, sf, masters=settings.masters(store), custom={})
"""


def sf_client(sf_sandbox: Any) -> SalesforceClient:
    return SalesforceClient(Salesforce(username=sf_sandbox.username, password=sf_sandbox.password,
                                       security_token=sf_sandbox.security_token, domain=sf_sandbox.domain,
                                       session=CABundleSession(str(sf_sandbox.ca_file))))


@pytest.fixture
def planned(staging, an_sandbox, sf_sandbox) -> dict[str, Any]:
    """30 new activists and 12 new Contacts in the Subscribers campaign, extracted and reconciled."""
    an_sandbox.app.rate_limit = 4.0  # the real limit: writes to Action Network take seconds
    an = ActionNetworkClient(an_sandbox.url, an_sandbox.api_key)
    sf = sf_client(sf_sandbox)
    masters = ensure_masters(staging, an, sf)
    an_sandbox.app.store.load_records({"people": [
        {"given_name": "Act", "family_name": f"Ivist {i}", "email_addresses": [{"address": f"act{i}@example.org"}]}
        for i in range(30)]})
    store = sf_sandbox.app.store
    for i in range(12):
        contact = store.create("Contact", {"LastName": f"Sf {i}", "Email": f"sf{i}@example.org"})["Id"]
        store.create("CampaignMember", {"CampaignId": masters["sf_subscribers_campaign"], "ContactId": contact})
    time.sleep(1)  # windows are whole seconds
    window = Window(None, datetime.now(UTC).replace(microsecond=0))
    extract_actionnetwork(an, staging, RUN, window)
    extract_salesforce(sf, staging, RUN, window, subscribers_campaign=masters["sf_subscribers_campaign"])
    reconcile_run(staging, RUN, duplicate_rule="oldest")
    return {"an": an, "sf": sf, "masters": masters}


def statuses(staging) -> Counter:
    with staging.connect() as conn:
        return Counter(dict(conn.execute("SELECT status, count(*) FROM staging.plan WHERE run_id = %s"
                                         " AND step = 'contacts' GROUP BY 1", (RUN,)).fetchall()))


def test_a_load_killed_half_way_and_rerun_duplicates_nothing(planned, staging, an_sandbox, sf_sandbox):
    config = {"conninfo": staging.conninfo, "user": sf_sandbox.username, "password": sf_sandbox.password,
              "token": sf_sandbox.security_token, "domain": sf_sandbox.domain, "ca": str(sf_sandbox.ca_file),
              "an_url": an_sandbox.url, "an_key": an_sandbox.api_key, "run": RUN}
    worker = subprocess.Popen([sys.executable, "-c", LOAD, json.dumps(config)])
    while statuses(staging)["done"] == 0:  # the Salesforce writes are done first
        time.sleep(0.1)
    time.sleep(1)  # the Action Network ones are under way at 4 per second
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    halfway = statuses(staging)
    assert halfway["pending"] > 0 and halfway["done"] > 0, halfway

    load_contacts(staging, RUN, planned["an"], planned["sf"], masters=planned["masters"], custom={})
    assert statuses(staging) == Counter({"done": sum(halfway.values())})

    contacts = sf_sandbox.app.store.rows("Contact")
    assert len(contacts) == 42
    assert Counter(c.get("Email") for c in contacts).most_common(1)[0][1] == 1
    members = [(m["CampaignId"], m["ContactId"]) for m in sf_sandbox.app.store.rows("CampaignMember")]
    assert len(members) == len(set(members)) == 42
    people = list(planned["an"].people())
    assert len(people) == 42 and len({p["email"] for p in people}) == 42
    takers = list(planned["an"].participations("form", planned["masters"]["an_users_form"]))
    assert len(takers) == len({t["person_id"] for t in takers}) == 12  # the "Salesforce Users" action
    with staging.connect() as conn:
        assert conn.execute("SELECT count(*) FROM sync.contact_links WHERE state = 'active'").fetchone()[0] == 42

    # rerunning the finished load writes nothing
    before = an_sandbox.app.stats.total, sf_sandbox.app.api_calls
    load_contacts(staging, RUN, planned["an"], planned["sf"], masters=planned["masters"], custom={})
    assert (an_sandbox.app.stats.total, sf_sandbox.app.api_calls) == before
    assert settings.masters(staging) == planned["masters"]


def test_a_large_plan_is_loaded_in_chunks_of_pairs(planned, staging, sf_sandbox, monkeypatch):
    import an_sf_sync.load.contacts as module

    monkeypatch.setattr(module, "PAIRS_PER_CHUNK", 7)  # 42 pairs: six chunks
    counts = load_contacts(staging, RUN, planned["an"], planned["sf"], masters=planned["masters"], custom={})
    assert not any(key.endswith((".pending", ".failed", ".attempting")) for key in counts), counts
    assert counts["local.link.done"] == 42
    with staging.connect() as conn:
        assert conn.execute("SELECT count(*) FROM sync.contact_links WHERE state = 'active'").fetchone()[0] == 42
    members = [(m["CampaignId"], m["ContactId"]) for m in sf_sandbox.app.store.rows("CampaignMember")]
    assert len(members) == len(set(members)) == 42


def test_each_activist_from_salesforce_costs_one_request(planned, staging, an_sandbox):
    """The Salesforce Users form's helper creates the subscribed person and records the action at once."""
    an_sandbox.app.stats.reset()
    counts = load_contacts(staging, RUN, planned["an"], planned["sf"], masters=planned["masters"], custom={})
    assert counts["to_actionnetwork.create.done"] == 12
    served = an_sandbox.app.stats.snapshot()  # a request refused with 429 (timing on a busy machine) did nothing
    assert set(served["requests"]) == {"POST forms/submissions"}
    assert served["requests"]["POST forms/submissions"] - served["throttled"] == 12
    people = {p["email"]: p for p in planned["an"].people()}
    assert all(people[f"sf{i}@example.org"]["email_status"] == "subscribed" for i in range(12))
    takers = {t["person_id"] for t in planned["an"].participations("form", planned["masters"]["an_users_form"])}
    assert takers == {people[f"sf{i}@example.org"]["an_id"] for i in range(12)}


def sync_again(staging, planned, run: str, since: datetime) -> datetime:
    """One more incremental run (extract since ``since``, reconcile, load); returns its window's end."""
    time.sleep(1)  # windows are whole seconds
    window = Window(since, datetime.now(UTC).replace(microsecond=0))
    extract_actionnetwork(planned["an"], staging, run, window)
    extract_salesforce(planned["sf"], staging, run, window,
                       subscribers_campaign=planned["masters"]["sf_subscribers_campaign"])
    reconcile_run(staging, run, duplicate_rule="oldest")
    load_contacts(staging, run, planned["an"], planned["sf"], masters=planned["masters"], custom={})
    return window.end


def test_re_subscribing_from_salesforce_costs_one_request(planned, staging, an_sandbox, sf_sandbox):
    load_contacts(staging, RUN, planned["an"], planned["sf"], masters=planned["masters"], custom={})
    since = datetime.now(UTC).replace(microsecond=0)
    campaign = planned["masters"]["sf_subscribers_campaign"]
    store = sf_sandbox.app.store
    contact = next(c["Id"] for c in store.rows("Contact") if c.get("Email") == "sf0@example.org")
    member = next(m["Id"] for m in store.rows("CampaignMember") if m["ContactId"] == contact)
    store.delete("CampaignMember", member)
    since = sync_again(staging, planned, "manual__leave", since)
    person = next(p for p in planned["an"].people() if p["email"] == "sf0@example.org")
    assert person["email_status"] == "unsubscribed"

    store.create("CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    an_sandbox.app.stats.reset()
    sync_again(staging, planned, "manual__rejoin", since)
    writes = {k: n for k, n in an_sandbox.app.stats.snapshot()["requests"].items() if not k.startswith("GET")}
    assert writes == {"POST forms/submissions": 1}
    assert planned["an"].get_person(person["an_id"])["email_status"] == "subscribed"
    with staging.connect() as conn:
        assert conn.execute("SELECT status FROM staging.plan WHERE run_id = 'manual__rejoin' AND"
                            " direction = 'to_actionnetwork' AND action = 'subscribe'").fetchall() == [("done",)]


def test_subscriptions_whose_answer_was_lost_are_still_mirrored(planned, staging, sf_sandbox):
    """A rerun finds the memberships a lost answer hid ("already a member") and records their ids, so
    donations and actions of those Contacts are not held back as "not subscribed"."""
    sf_sandbox.app.knobs.add_fault(Fault(status=500, path="composite/sobjects$", method="POST", after=True,
                                         sent='"CampaignMember"'))
    try:
        load_contacts(staging, RUN, planned["an"], planned["sf"], masters=planned["masters"], custom={})
    except Exception:  # whether the client retries or the task fails, the rerun settles it
        load_contacts(staging, RUN, planned["an"], planned["sf"], masters=planned["masters"], custom={})
    assert sf_sandbox.app.knobs.pending() == 0  # the fault was hit
    campaign = planned["masters"]["sf_subscribers_campaign"]
    members = {m["ContactId"]: m["Id"] for m in sf_sandbox.app.store.rows("CampaignMember")
               if m["CampaignId"] == campaign}
    assert len(members) == 42
    with staging.connect() as conn:
        assert dict(conn.execute("SELECT contact_id, member_id FROM sync.sf_subscribers").fetchall()) == members
