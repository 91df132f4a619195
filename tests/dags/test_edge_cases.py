"""Real org data over several hourly runs: email changes, letter case, damaged last names, bad
characters, merges and restores in Salesforce, and a load stopped between its two sides' writes.

Each scenario drives the DAG (``dag.test``) against both sandboxes, changing records only through
the public APIs, with the default overlap and with none (runs an hour apart do not re-read earlier
changes).
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from airflow.sdk.exceptions import AirflowSkipException
from airflow.utils.state import DagRunState
from simple_salesforce import format_soql

from an_sf_sync import tasks
from an_sf_sync.staging import settings
from an_sf_sync_dev.sandbox.http import Fault
from tests.dags.conftest import states
from tests.fixtures.salesforce import merge, undelete

pytestmark = pytest.mark.slow

ADA, SOLO, BOB = "p-ada", "p-solo", "p-bob"


def person(an_id: str, email: str, given: str, family: str | None = None) -> dict:
    return {"id": an_id, "given_name": given, "family_name": family,
            "email_addresses": [{"address": email, "primary": True, "status": "subscribed"}]}


class Org:
    """Both sandboxes as a CRM admin sees them: the public APIs, and a run of the sync an hour later."""

    def __init__(self, dag, an_sandbox, sf_sandbox, staging, overlap: int) -> None:
        self.dag, self.staging, self.overlap = dag, staging, overlap
        self.an_url = an_sandbox.url
        self.an = requests.Session()
        self.an.headers.update(an_sandbox.headers)
        self.sf = sf_sandbox.client()
        self.an_sandbox, self.sf_sandbox = an_sandbox, sf_sandbox

    def run(self, expect: DagRunState = DagRunState.SUCCESS):
        time.sleep(1)  # windows are whole seconds: the edits' second ends before the run starts
        run = self.dag.test(logical_date=None, run_conf={"overlap_minutes": self.overlap})
        assert run.state == expect, states(run)
        return run

    def activist(self, an_id: str) -> dict:
        return self.an.get(f"{self.an_url}people/{an_id}").json()

    def put(self, an_id: str, body: dict) -> None:
        self.an.put(f"{self.an_url}people/{an_id}", json=body).raise_for_status()

    def contact(self, sf_id: str) -> dict:
        return self.sf.Contact.get(sf_id)

    def link(self, an_id: str) -> tuple[str, str]:
        with self.staging.connect() as conn:
            return conn.execute("SELECT sf_id, state FROM sync.contact_links WHERE an_id = %s", (an_id,)).fetchone()

    def rejects(self, run) -> set[tuple[str, str]]:
        with self.staging.connect() as conn:
            return set(conn.execute("SELECT record_id, reason_code FROM sync.rejects WHERE run_id = %s",
                                    (run.run_id,)).fetchall())

    def writes(self, run) -> list[tuple]:
        with self.staging.connect() as conn:
            return conn.execute("SELECT step, direction, action, an_id, payload FROM staging.plan"
                                " WHERE run_id = %s AND direction <> 'local' ORDER BY seq", (run.run_id,)).fetchall()


@pytest.fixture(params=[5, 0], ids=["overlap5", "overlap0"])
def org(request, dag, an_sandbox, sf_sandbox, staging) -> Org:
    an_sandbox.app.store.load_records({"people": [
        person(ADA, "ada@example.org", "Ada", "Lovelace"), person(SOLO, "solo@example.org", "Solo"),
        person(BOB, "bob@example.org", "Bob", "Builder")]})
    return Org(dag, an_sandbox, sf_sandbox, staging, request.param)


def test_email_changes_and_letter_case_never_touch_a_real_last_name(org):
    org.run()
    ada, solo = org.link(ADA)[0], org.link(SOLO)[0]
    assert org.contact(ada)["LastName"] == "Lovelace" and org.contact(solo)["LastName"] == "solo@example.org"

    # letter case only, in Salesforce: no change, nothing written either way, no stop
    org.sf.Contact.update(ada, {"Email": "ADA@Example.ORG"})
    run = org.run()
    assert org.writes(run) == [] and org.link(ADA) == (ada, "active")
    assert org.contact(ada)["LastName"] == "Lovelace"
    assert org.activist(ADA)["email_addresses"][0]["address"] == "ada@example.org"

    # a new primary address in Action Network: the Contact's email follows, its LastName stays
    org.put(ADA, {"email_addresses": [{"address": "ada.l@example.org", "primary": True}]})
    org.put(SOLO, {"email_addresses": [{"address": "solo.new@example.org", "primary": True}]})
    org.run()
    assert (org.contact(ada)["Email"], org.contact(ada)["LastName"]) == ("ada.l@example.org", "Lovelace")
    # ... while an activist without a last name keeps the email as LastName, the new one
    assert org.contact(solo)["LastName"] == "solo.new@example.org"
    assert org.link(ADA) == (ada, "active") and org.link(SOLO) == (solo, "active")

    # a later run reads our own writes back: nothing echoes, nothing changes
    run = org.run()
    assert org.writes(run) == []
    assert org.activist(ADA)["family_name"] == "Lovelace" and org.activist(SOLO).get("family_name") is None
    assert org.contact(ada)["LastName"] == "Lovelace"


def test_a_last_name_replaced_by_the_email_is_repaired_and_reported(org):
    org.run()
    ada = org.link(ADA)[0]
    org.sf.Contact.update(ada, {"LastName": "ada@example.org"})  # as an older release wrote it
    run = org.run()
    assert org.contact(ada)["LastName"] == "Lovelace"
    assert org.activist(ADA)["family_name"] == "Lovelace"
    assert (ada, "LAST_NAME_REPAIRED") in org.rejects(run)
    assert org.writes(org.run()) == []


def test_a_first_last_name_given_in_action_network_is_no_repair(org):
    org.run()
    solo = org.link(SOLO)[0]
    assert org.contact(solo)["LastName"] == "solo@example.org"  # Salesforce needs one: the email stands in
    org.put(SOLO, {"family_name": "Han"})
    org.sf.Contact.update(solo, {"MailingCity": "Leeds"})  # the Contact is read again in the same run
    run = org.run()
    assert (org.contact(solo)["LastName"], org.activist(SOLO)["postal_addresses"][0]["locality"]) == ("Han", "Leeds")
    assert (solo, "LAST_NAME_REPAIRED") not in org.rejects(run)
    assert org.writes(org.run()) == []


def test_values_no_database_can_store_are_cleaned_not_fatal(org):
    org.an.post(f"{org.an_url}people", json={"person": {
        "given_name": "Nu\u0000ll", "family_name": "Byte\u0001",
        "email_addresses": [{"address": "nul@example.org"}], "custom_fields": {"employer": "Acme\u0000 Inc"}}},
    ).raise_for_status()
    # an address with a NUL is not cut down to another one (that may be someone else's): it is malformed
    marked = org.an.post(f"{org.an_url}people", json={"person": {
        "given_name": "Mark", "email_addresses": [{"address": "ma\u0000rk@example.org"}]}})
    marked.raise_for_status()
    run = org.run()
    marked_id = next(i for i in marked.json()["identifiers"] if i.startswith("action_network:")).split(":", 1)[1]
    assert (marked_id, "MALFORMED_EMAIL") in org.rejects(run)
    assert org.sf.query("SELECT Id FROM Contact WHERE Email = 'mark@example.org'")["totalSize"] == 0
    subscribers = org.staging.connect().execute(
        "SELECT record_id FROM sync.masters WHERE kind = 'sf_subscribers_campaign'").fetchone()[0]
    contact = org.sf.Contact.create({"FirstName": "Sal\u0000ly", "LastName": "Stray\u0007", "Email": "sally@example.org"})
    org.sf.CampaignMember.create({"CampaignId": subscribers, "ContactId": contact["id"]})
    org.run()
    created, = org.sf.query("SELECT FirstName, LastName, Employer__c FROM Contact"
                            " WHERE Email = 'nul@example.org'")["records"]
    assert (created["FirstName"], created["LastName"], created["Employer__c"]) == ("Null", "Byte", "Acme Inc")
    sally, = org.an.get(f"{org.an_url}people", params={"filter": "email_address eq 'sally@example.org'"}
                        ).json()["_embedded"]["osdi:people"]
    assert (sally["given_name"], sally["family_name"]) == ("Sally", "Stray")
    assert org.writes(org.run()) == []


def test_quotes_tabs_line_breaks_and_emoji_cross_exactly_both_ways_and_never_echo(org):
    org.run()
    bob = org.link(BOB)[0]
    org.put(BOB, {"given_name": '  Zoë \u200b"Q" O\'Brien, Jr.\\ ', "family_name": "Núñez-\U0001F600\tTab",
                  "postal_addresses": [{"address_lines": ["1 Main St", "Apt 2\r", "Rear"], "locality": 'São Paulo, "SP"'}]})
    org.run()
    contact = org.contact(bob)
    assert (contact["FirstName"], contact["LastName"]) == ('  Zoë \u200b"Q" O\'Brien, Jr.\\ ', "Núñez-\U0001F600\tTab")
    assert (contact["MailingStreet"], contact["MailingCity"]) == ("1 Main St\nApt 2\r\nRear", 'São Paulo, "SP"')
    # a street with a blank line, typed in Salesforce, comes back from Action Network as it went
    org.sf.Contact.update(bob, {"FirstName": "Line1\nLine2", "MailingStreet": "9 Elm\n\nUnit \\5"})
    org.run()
    activist = org.activist(BOB)
    assert activist["given_name"] == "Line1\nLine2"
    assert activist["postal_addresses"][0]["address_lines"] == ["9 Elm", "", "Unit \\5"]
    for _ in range(2):
        assert org.writes(org.run()) == []
    assert org.contact(bob)["MailingStreet"] == "9 Elm\n\nUnit \\5"


def test_a_load_stopped_after_writing_salesforce_does_not_stop_the_pair(org):
    org.run()
    ada, bob = org.link(ADA)[0], org.link(BOB)[0]
    org.put(ADA, {"email_addresses": [{"address": "ada.new@example.org", "primary": True}]})
    org.sf.Contact.update(bob, {"MailingCity": "Leeds"})
    # Salesforce gets Ada's new email; then Action Network refuses the key while Bob is updated
    org.an_sandbox.app.knobs.add_fault(Fault(status=403, body='{"error": "API Key invalid or not present"}',
                                             path=f"/people/{BOB}$", method="PUT"))
    failed = org.run(expect=DagRunState.FAILED)
    assert states(failed)["load_contacts"] == "failed"
    assert org.contact(ada)["Email"] == "ada.new@example.org"  # written, but the link was not committed

    run = org.run()
    assert org.link(ADA) == (ada, "active") and org.link(BOB) == (bob, "active")
    assert not {code for _, code in org.rejects(run)} & {"EMAIL_CHANGED_IN_SALESFORCE", "SYNC_STOPPED"}
    assert org.activist(BOB)["postal_addresses"][0]["locality"] == "Leeds"
    assert org.writes(org.run()) == []


def test_what_a_stopped_load_wrote_is_never_taken_for_a_newer_edit(org):
    org.run()
    ada = org.link(ADA)[0]
    org.sf.Contact.update(ada, {"MailingCity": "Leeds"})
    members = org.sf.query(format_soql("SELECT Id FROM CampaignMember WHERE CampaignId = {} AND ContactId = {}",
                                       subscribers_campaign(org), ada))["records"]
    org.sf.CampaignMember.delete(members[0]["Id"])
    # Action Network gets Leeds; then it refuses the key as Ada is unsubscribed, and the load stops
    # before the pair's link is committed
    org.an_sandbox.app.knobs.add_fault(Fault(status=403, body='{"error": "API Key invalid or not present"}',
                                             path=f"/people/{ADA}$", method="PUT", sent="unsubscribed"))
    org.run(expect=DagRunState.FAILED)
    assert org.activist(ADA)["postal_addresses"][0]["locality"] == "Leeds"

    # A real edit in Salesforce since, then one of another field in Action Network: the activist's
    # record is now the later one, but its Leeds is the sync's own write, not an edit
    org.sf.Contact.update(ada, {"MailingCity": "York"})
    time.sleep(1.2)
    org.put(ADA, {"given_name": "Augusta"})
    org.run()
    assert org.contact(ada)["MailingCity"] == "York"
    assert org.activist(ADA)["postal_addresses"][0]["locality"] == "York"
    assert org.contact(ada)["FirstName"] == "Augusta"
    assert org.activist(ADA)["email_addresses"][0]["status"] == "unsubscribed"
    assert org.writes(org.run()) == []


def test_a_value_both_sides_hold_alike_is_never_taken_for_a_newer_edit_while_the_pair_waits(org):
    org.run()
    ada = org.link(ADA)[0]
    org.put(ADA, {"postal_addresses": [{"locality": "Leeds"}]})  # the same edit on both sides
    org.sf.Contact.update(ada, {"MailingCity": "Leeds", "FirstName": "Augusta"})
    # Action Network refuses Ada's first name: the pair waits, its link not committed
    org.an_sandbox.app.knobs.add_fault(Fault(status=400, body='{"error": "Bad request"}', path=f"/people/{ADA}$",
                                             method="PUT"))
    run = org.run()
    assert (ada, "ACTIONNETWORK_400") in org.rejects(run) and org.activist(ADA)["given_name"] == "Ada"

    org.sf.Contact.update(ada, {"MailingCity": "York"})  # a real edit since
    time.sleep(1.2)
    org.put(ADA, {"family_name": "King"})  # the activist's record is the later one now
    org.run()
    assert org.contact(ada)["MailingCity"] == "York"
    assert org.activist(ADA)["postal_addresses"][0]["locality"] == "York"
    assert (org.activist(ADA)["given_name"], org.contact(ada)["LastName"]) == ("Augusta", "King")
    assert org.writes(org.run()) == []


def test_a_first_match_whose_write_failed_keeps_what_it_decided_when_the_activist_edits_before_the_retry(org):
    """Ada is entered in Salesforce a second later, with another first name, which wins their first
    match; Action Network refuses the update. Ada then edits their last name: the retry keeps the
    match's first name. Matched afresh, the activist, the later record now, won every field, and
    the Contact's first name was overwritten with the one it had replaced."""
    time.sleep(1.1)
    ada = org.sf.Contact.create({"Email": "ada@example.org", "FirstName": "Adelaide", "LastName": "Lovelace",
                                 "MailingCity": "Lyon"})["id"]
    org.an_sandbox.app.knobs.add_fault(Fault(status=400, body='{"error": "Bad request"}', path=f"/people/{ADA}$",
                                             method="PUT"))
    run = org.run()
    assert (ada, "ACTIONNETWORK_400") in org.rejects(run) and org.link(ADA) is None
    time.sleep(1.1)
    org.put(ADA, {"family_name": "King"})
    org.run()
    activist, contact = org.activist(ADA), org.contact(ada)
    assert (activist["given_name"], activist["family_name"], activist["postal_addresses"][0]["locality"]) == (
        "Adelaide", "King", "Lyon")
    assert (contact["FirstName"], contact["LastName"], org.link(ADA)) == ("Adelaide", "King", (ada, "active"))
    assert org.writes(org.run()) == []


def test_an_old_runs_step_rerun_after_a_later_run_wrote_is_skipped_and_overwrites_nothing(org):
    org.run()
    bob = org.link(BOB)[0]
    org.sf.Contact.update(bob, {"MailingCity": "Leeds"})
    org.an_sandbox.app.knobs.add_fault(Fault(status=403, body='{"error": "API Key invalid or not present"}',
                                             path=f"/people/{BOB}$", method="PUT"))
    old = org.run(expect=DagRunState.FAILED)  # Leeds did not reach Action Network
    org.sf.Contact.update(bob, {"MailingCity": "York"})
    org.run()  # reads the failed run's window again: York, the newer value, on both sides
    assert org.activist(BOB)["postal_addresses"][0]["locality"] == "York"
    # days later an admin clears the old run's steps: none of them writes its older value
    context = {"run_id": old.run_id, "params": {"dry_run": False, "full_refresh": False,
                                                "overlap_minutes": org.overlap}}
    for step in (tasks.reconcile, tasks.load_contacts, tasks.load_campaigns, tasks.finalize):
        with pytest.raises(AirflowSkipException, match="could overwrite newer values"):
            step(context)
    assert org.activist(BOB)["postal_addresses"][0]["locality"] == "York"
    assert org.contact(bob)["MailingCity"] == "York"
    assert org.writes(org.run()) == []


def test_a_custom_field_holding_a_number_or_a_boolean_syncs_as_text_and_never_echoes(org):
    # real Action Network data holds numbers and booleans in custom fields, not only text
    org.put(BOB, {"custom_fields": {"employer": 42}})
    org.put(ADA, {"custom_fields": {"employer": True}})
    org.run()
    bob, ada = org.link(BOB)[0], org.link(ADA)[0]
    assert (org.contact(bob)["Employer__c"], org.contact(ada)["Employer__c"]) == ("42", "true")
    for _ in range(2):  # the number and the text it became are the same value: nothing to write back
        assert org.writes(org.run()) == []
    assert org.activist(BOB)["custom_fields"]["employer"] == 42

    org.sf.Contact.update(bob, {"Employer__c": "43"})
    org.run()
    assert org.activist(BOB)["custom_fields"]["employer"] == "43"
    assert org.writes(org.run()) == []


def test_clearing_a_value_on_either_side_clears_it_on_the_other_for_good(org):
    org.put(BOB, {"postal_addresses": [{"address_lines": ["1 Main St"], "locality": "Leeds", "region": "YK",
                                        "postal_code": "LS1"}], "custom_fields": {"employer": "Acme"}})
    org.run()
    bob = org.link(BOB)[0]
    assert org.contact(bob)["MailingPostalCode"] == "LS1" and org.contact(bob)["Employer__c"] == "Acme"

    # cleared in Action Network (explicit nulls): cleared in Salesforce
    org.put(BOB, {"given_name": None, "postal_addresses": [{"postal_code": None, "locality": None}],
                  "custom_fields": {"employer": None}})
    org.run()
    contact = org.contact(bob)
    assert (contact["FirstName"], contact["MailingCity"], contact["MailingPostalCode"], contact["Employer__c"]) == (
        None, None, None, None)
    assert (contact["MailingStreet"], contact["MailingState"], contact["LastName"]) == ("1 Main St", "YK", "Builder")

    # cleared in Salesforce: cleared in Action Network
    org.sf.Contact.update(bob, {"MailingStreet": None, "MailingState": None})
    org.run()
    address = org.activist(BOB)["postal_addresses"][0]
    assert not address.get("address_lines") and address.get("region") is None
    # ... and no run brings an old value back
    for _ in range(2):
        assert org.writes(org.run()) == []
    contact, activist = org.contact(bob), org.activist(BOB)
    assert (contact["FirstName"], contact["MailingStreet"], contact["Employer__c"]) == (None, None, None)
    assert activist.get("given_name") is None and not activist.get("custom_fields", {}).get("employer")


def subscribers_campaign(org) -> str:
    with org.staging.connect() as conn:
        return conn.execute("SELECT record_id FROM sync.masters WHERE kind = 'sf_subscribers_campaign'").fetchone()[0]


def test_a_contact_holding_an_activists_other_address_is_reported_never_linked(org):
    org.put(ADA, {"email_addresses": [{"address": "ada.work@example.org"}]})  # added as another address
    stray = org.sf.Contact.create({"FirstName": "Work", "LastName": "Ada", "Email": "Ada.Work@example.org"})["id"]
    org.run()
    ada = org.link(ADA)[0]
    # Activist first: the Contact with the other address was not linked, and no Contact was written
    # with an email another one holds
    assert ada != stray and org.contact(ada)["Email"] == "ada@example.org"
    # Contact side: an activist already synced gets another address, then a Contact with it appears
    bob = org.link(BOB)[0]
    org.put(BOB, {"email_addresses": [{"address": "builder@example.org"}]})
    org.run()
    other = org.sf.Contact.create({"FirstName": "Robert", "LastName": "Office", "Email": "builder@example.org"})["id"]
    for contact in (stray, other):
        org.sf.CampaignMember.create({"CampaignId": subscribers_campaign(org), "ContactId": contact})
    run = org.run()
    assert {(stray, "SECONDARY_EMAIL"), (other, "SECONDARY_EMAIL")} <= org.rejects(run)
    activist = org.activist(ADA)
    assert (activist["given_name"], activist["family_name"]) == ("Ada", "Lovelace")
    assert (org.activist(BOB)["given_name"], org.activist(BOB)["family_name"]) == ("Bob", "Builder")
    assert org.link(ADA) == (ada, "active") and org.link(BOB) == (bob, "active")
    people = org.an.get(f"{org.an_url}people", params={"filter": "email_address eq 'ada.work@example.org'"}
                        ).json()["_embedded"]["osdi:people"]
    assert [p["identifiers"] for p in people] == [activist["identifiers"]]  # no second activist
    assert org.writes(org.run()) == []


def test_a_contact_with_the_new_email_of_a_synced_activist_never_overwrites_that_activist(org):
    org.run()
    ada = org.link(ADA)[0]
    org.put(ADA, {"email_addresses": [{"address": "x@example.org", "primary": True}]})
    other = org.sf.Contact.create({"FirstName": "Xavier", "LastName": "Other", "Email": "X@example.org",
                                   "MailingCity": "Xcity"})["id"]
    org.sf.CampaignMember.create({"CampaignId": subscribers_campaign(org), "ContactId": other})
    run = org.run()
    assert {(other, "EMAIL_OF_SYNCED_ACTIVIST"), (ADA, "EMAIL_HELD_BY_ANOTHER_CONTACT")} <= org.rejects(run)
    activist = org.activist(ADA)
    assert (activist["given_name"], activist["family_name"]) == ("Ada", "Lovelace")
    assert not (activist.get("postal_addresses") or [{}])[0].get("locality")
    org.sf.Contact.delete(other)  # merged away in Salesforce: the activist's email goes to its own Contact
    org.run()
    assert org.contact(ada)["Email"] == "x@example.org" and org.link(ADA) == (ada, "active")
    assert org.writes(org.run()) == []


def test_a_new_contact_with_a_synced_contacts_email_loses_to_it_whatever_the_rule(org, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_DUPLICATE_RULE", "newest")
    org.run()
    ada = org.link(ADA)[0]
    org.run()  # an hour later: neither Ada nor her Contact is read again by the next run
    newer = org.sf.Contact.create({"FirstName": "Imposter", "LastName": "Dup", "Email": "Ada@example.org"})["id"]
    org.sf.CampaignMember.create({"CampaignId": subscribers_campaign(org), "ContactId": newer})
    run = org.run()
    assert (newer, "DUPLICATE_EMAIL") in org.rejects(run) and (ada, "DUPLICATE_EMAIL") not in org.rejects(run)
    assert org.link(ADA) == (ada, "active") and org.writes(run) == []
    assert (org.activist(ADA)["given_name"], org.activist(ADA)["family_name"]) == ("Ada", "Lovelace")


def test_a_new_activist_with_the_email_a_synced_contact_was_given_never_makes_a_second_contact(org):
    org.run()
    ada = org.link(ADA)[0]
    org.sf.Contact.update(ada, {"Email": "y@example.org"})  # stops Ada's pair
    org.run()
    yan = org.an.post(f"{org.an_url}people", json={"person": {"given_name": "Yan", "family_name": "New",
                                                              "email_addresses": [{"address": "y@example.org"}]}})
    yan.raise_for_status()
    yan_id = next(i for i in yan.json()["identifiers"] if i.startswith("action_network:")).split(":", 1)[1]
    run = org.run()
    assert (yan_id, "EMAIL_OF_SYNCED_CONTACT") in org.rejects(run)
    assert org.sf.query("SELECT Id FROM Contact WHERE Email = 'y@example.org'")["totalSize"] == 1
    org.sf.Contact.update(ada, {"Email": "ada@example.org"})  # set back: Ada resumes, Yan gets a Contact of his own
    org.run()
    assert org.link(ADA) == (ada, "active") and org.link(yan_id)[1] == "active"
    assert org.contact(org.link(yan_id)[0])["Email"] == "y@example.org"
    assert org.writes(org.run()) == []


def test_over_long_values_are_cut_to_fit_reported_and_never_echo_back(org):
    long_first, long_city = "Maximiliana-Theodora-Wilhelmina-Josephine", "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"
    org.put(BOB, {"given_name": long_first, "postal_addresses": [{"locality": long_city}]})
    run = org.run()
    bob = org.link(BOB)[0]
    contact = org.contact(bob)
    assert (contact["FirstName"], contact["MailingCity"]) == (long_first[:40].rstrip("-"), long_city[:40])
    assert (BOB, "VALUE_TRUNCATED") in org.rejects(run)
    with org.staging.connect() as conn:
        assert conn.execute("SELECT DISTINCT status FROM sync.rejects WHERE reason_code = 'VALUE_TRUNCATED'"
                            ).fetchall() == [("resolved",)]  # a note, not a problem to fix
    org.sf.Contact.update(bob, {"MailingState": "NY"})  # the Contact changes: its cut values are not edits
    org.run()
    activist = org.activist(BOB)
    assert (activist["given_name"], activist["postal_addresses"][0]["locality"]) == (long_first, long_city)
    assert activist["postal_addresses"][0]["region"] == "NY"
    assert org.writes(org.run()) == []


def leeds_refused_once(org) -> str:
    """Bob, synced, moves to Leeds in Action Network; a Salesforce validation rule refuses it once."""
    org.run()
    bob = org.link(BOB)[0]
    org.put(BOB, {"postal_addresses": [{"locality": "Leeds"}]})
    org.sf_sandbox.app.knobs.add_fault(Fault(status=200, path="/composite/sobjects$", method="PATCH", body=json.dumps([
        {"id": bob, "success": False, "errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                                  "message": "Mailing city needs a state", "fields": []}]}])))
    return bob


def test_a_record_salesforce_refuses_waits_with_its_reason_and_is_retried(org):
    bob = leeds_refused_once(org)
    run = org.run()
    assert (BOB, "FIELD_CUSTOM_VALIDATION_EXCEPTION") in org.rejects(run)
    assert org.contact(bob)["MailingCity"] is None
    org.run()  # the next run tries again, on its own
    assert org.contact(bob)["MailingCity"] == "Leeds"
    with org.staging.connect() as conn:
        assert conn.execute("SELECT status FROM sync.rejects WHERE reason_code = 'FIELD_CUSTOM_VALIDATION_EXCEPTION'"
                            ).fetchall() == [("resolved",)]
        assert conn.execute("SELECT count(*) FROM sync.pending").fetchone() == (0,)
    assert org.writes(org.run()) == []


def test_a_finalize_stopped_before_it_queued_the_skipped_records_loses_none_of_them(org):
    bob = leeds_refused_once(org)
    with org.staging.connect() as conn:  # the database refuses the queue, as a full disk would
        conn.execute("CREATE FUNCTION sync.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                     " RAISE EXCEPTION 'could not extend file: No space left on device'; END $$")
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON sync.pending FOR EACH ROW EXECUTE FUNCTION sync.refuse()")
    failed = org.run(expect=DagRunState.FAILED)
    assert states(failed)["finalize"] == "failed" and org.contact(bob)["MailingCity"] is None
    with org.staging.connect() as conn:
        conn.execute("DROP TRIGGER refuse ON sync.pending")
    org.run()  # the next hour, not a rerun of the failed one: it reads the unfinished window again
    assert org.contact(bob)["MailingCity"] == "Leeds"
    assert org.writes(org.run()) == []


def test_a_custom_field_that_cannot_sync_is_skipped_and_everything_else_syncs(org, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_CUSTOM_FIELDS", json.dumps(["employer", "Join Date", "missing"]))
    org.put(BOB, {"custom_fields": {"employer": "Acme", "Join Date": "2020", "missing": "x"}})
    run = org.run()
    assert org.contact(org.link(BOB)[0])["Employer__c"] == "Acme"
    with org.staging.connect() as conn:
        summary, = conn.execute("SELECT summary FROM sync.runs WHERE run_id = %s", (run.run_id,)).fetchone()
    warnings = "\n".join(summary["setup_warnings"])
    assert "'Join Date' has a space in its name" in warnings and "no field missing__c" in warnings


def test_donation_dates_keep_their_day_in_the_orgs_time_zone(org):
    org.sf_sandbox.app.store.set_org_time_zone("America/New_York")
    org.an_sandbox.app.store.load_records({
        "fundraising_pages": [{"id": "fp-eoy", "title": "Year-end appeal", "api_created": True}],
        "donations": [{"person_id": ADA, "fundraising_page_id": "fp-eoy", "amount": "50.00",
                       "created_date": "2026-01-01T01:30:00Z",  # 8:30 pm on New Year's Eve in New York
                       "recipients": [{"display_name": "Us", "amount": "50.00"}]}]})
    org.run()
    ada = org.link(ADA)[0]
    eve, = org.sf.query("SELECT CloseDate FROM Opportunity WHERE Amount = 50")["records"]
    assert eve["CloseDate"] == "2025-12-31"
    with org.staging.connect() as conn:
        account = conn.execute("SELECT record_id FROM sync.masters WHERE kind = 'sf_donations_account'").fetchone()[0]
    gift = org.sf.Opportunity.create({"Name": "Pledge", "AccountId": account, "StageName": "Closed Won",
                                      "CloseDate": "2026-12-31", "Amount": 70})["id"]
    org.sf.OpportunityContactRole.create({"OpportunityId": gift, "ContactId": ada, "Role": "Donor", "IsPrimary": True})
    org.run()
    donation, = [d for d in org.an.get(f"{org.an_url}donations").json()["_embedded"]["osdi:donations"]
                 if f"salesforce:{gift}" in d["identifiers"]]
    made = datetime.fromisoformat(donation["created_date"].replace("Z", "+00:00"))
    assert made.astimezone(ZoneInfo("America/New_York")).date() == date(2026, 12, 31)


def test_contacts_merged_in_salesforce_keep_syncing_with_the_contact_kept(org):
    org.run()
    ada, bob = org.link(ADA)[0], org.link(BOB)[0]
    dup = org.sf.Contact.create({"FirstName": "Ada", "LastName": "L.", "Email": "ADA@example.org"})["id"]
    org.sf.CampaignMember.create({"CampaignId": subscribers_campaign(org), "ContactId": dup})
    assert (dup, "DUPLICATE_EMAIL") in org.rejects(org.run())
    # As the sync advises: the admin merges the two, keeping the newer record with the older one's name
    assert "<success>true</success>" in merge(org.sf, "Contact", dup, [ada], {"LastName": "Lovelace",
                                                                               "MailingCity": "Leeds"})
    run = org.run()
    assert org.link(ADA) == (dup, "active") and (ada, "CONTACT_MERGED") in org.rejects(run)
    assert (org.activist(ADA)["postal_addresses"][0]["locality"], org.activist(ADA)["family_name"]) == (
        "Leeds", "Lovelace")
    assert org.sf.query("SELECT Id FROM Contact WHERE Email = 'ada@example.org'")["totalSize"] == 1
    with org.staging.connect() as conn:
        assert conn.execute("SELECT count(*) FROM sync.duplicates WHERE sf_id = %s", (dup,)).fetchone()[0] == 0
    # both ways, from now on
    org.put(ADA, {"family_name": "King"})
    org.run()
    assert org.contact(dup)["LastName"] == "King"
    org.sf.Contact.update(dup, {"MailingCity": "York"})
    org.run()
    assert org.activist(ADA)["postal_addresses"][0]["locality"] == "York"
    # A duplicate merged into the synced Contact is no longer reported
    third = org.sf.Contact.create({"LastName": "Third", "Email": "ada@example.org"})["id"]
    assert (third, "DUPLICATE_EMAIL") in org.rejects(org.run())
    # A Contact merged into one synced with another activist stops its own pair, with a reason
    assert "<success>true</success>" in merge(org.sf, "Contact", dup, [bob, third])
    run = org.run()
    with org.staging.connect() as conn:
        assert conn.execute("SELECT status FROM sync.rejects WHERE record_id = %s AND reason_code = 'DUPLICATE_EMAIL'",
                            (third,)).fetchall() == [("resolved",)]
        assert conn.execute("SELECT count(*) FROM sync.duplicates").fetchone()[0] == 0
    assert org.link(BOB) == (bob, "sf_deleted") and (bob, "CONTACT_MERGED_INTO_SYNCED_CONTACT") in org.rejects(run)
    assert org.link(ADA) == (dup, "active") and org.activist(BOB)["family_name"] == "Builder"
    assert org.writes(org.run()) == []


def test_a_contact_merged_into_one_with_another_email_stops_its_pair_until_the_email_is_set_back(org):
    org.run()
    ada = org.link(ADA)[0]
    kept = org.sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada.l@example.org"})["id"]
    merge(org.sf, "Contact", kept, [ada])
    run = org.run()
    assert org.link(ADA) == (kept, "stopped") and (kept, "EMAIL_CHANGED_IN_SALESFORCE") in org.rejects(run)
    assert org.activist(ADA)["email_addresses"][0]["address"] == "ada@example.org"
    org.sf.Contact.update(kept, {"Email": "ada@example.org"})
    org.run()
    assert org.link(ADA) == (kept, "active")
    org.put(ADA, {"given_name": "Augusta"})
    org.run()
    assert org.contact(kept)["FirstName"] == "Augusta"
    assert org.writes(org.run()) == []


def test_an_address_handed_on_or_swapped_in_action_network_moves_in_one_run(org):
    org.run()
    ada, bob = org.link(ADA)[0], org.link(BOB)[0]
    # a household hands an address on: Bob moves to a new one, Ada takes his old one
    org.put(BOB, {"email_addresses": [{"address": "bob.new@example.org", "primary": True}]})
    org.put(ADA, {"email_addresses": [{"address": "bob@example.org", "primary": True}]})
    run = org.run()
    assert (org.contact(ada)["Email"], org.contact(bob)["Email"]) == ("bob@example.org", "bob.new@example.org")
    assert not {code for _, code in org.rejects(run)} & {"EMAIL_HELD_BY_ANOTHER_CONTACT", "EMAIL_CHANGED_IN_SALESFORCE"}
    # two people swap theirs (through a third address, as Action Network keeps one person per email)
    org.put(ADA, {"email_addresses": [{"address": "tmp@example.org", "primary": True}]})
    org.put(BOB, {"email_addresses": [{"address": "bob@example.org", "primary": True}]})
    org.put(ADA, {"email_addresses": [{"address": "bob.new@example.org", "primary": True}]})
    run = org.run()
    assert (org.contact(ada)["Email"], org.contact(bob)["Email"]) == ("bob.new@example.org", "bob@example.org")
    assert org.link(ADA) == (ada, "active") and org.link(BOB) == (bob, "active")
    assert (org.contact(ada)["LastName"], org.contact(bob)["LastName"]) == ("Lovelace", "Builder")
    # while a Contact that keeps the address still holds it back
    org.sf.Contact.create({"LastName": "Keeps", "Email": "kept@example.org"})
    org.put(ADA, {"email_addresses": [{"address": "kept@example.org", "primary": True}]})
    assert (ADA, "EMAIL_HELD_BY_ANOTHER_CONTACT") in org.rejects(org.run())
    assert org.contact(ada)["Email"] == "bob.new@example.org"
    assert org.writes(org.run()) == []


def test_a_contact_restored_from_the_recycle_bin_resumes_with_what_changed_meanwhile(org):
    org.run()
    ada = org.link(ADA)[0]
    members = f"SELECT ContactId FROM CampaignMember WHERE CampaignId = '{subscribers_campaign(org)}'"
    assert {m["ContactId"] for m in org.sf.query(members)["records"]} >= {ada}
    org.sf.Contact.delete(ada)  # its Subscribers membership goes with it
    run = org.run()
    assert org.link(ADA) == (ada, "sf_deleted") and (ada, "CONTACT_DELETED_IN_SALESFORCE") in org.rejects(run)
    assert org.activist(ADA)["email_addresses"][0]["status"] == "subscribed"  # a delete is no unsubscribe
    org.put(ADA, {"given_name": "Augusta", "postal_addresses": [{"locality": "London"}]})
    assert (ADA, "SYNC_STOPPED") in org.rejects(org.run())

    assert "<success>true</success>" in undelete(org.sf, ada)  # the Recycle Bin's Restore
    org.run()
    contact = org.contact(ada)
    assert org.link(ADA) == (ada, "active") and (contact["FirstName"], contact["MailingCity"]) == ("Augusta", "London")
    assert ada in {m["ContactId"] for m in org.sf.query(members)["records"]}
    assert org.activist(ADA)["email_addresses"][0]["status"] == "subscribed"
    assert org.writes(org.run()) == []


def test_a_taker_while_the_campaign_is_deleted_is_added_once_it_is_restored(org):
    petition = org.an.post(f"{org.an_url}petitions", json={"title": "Save the parks"}).json()["identifiers"][0]
    petition = petition.split(":", 1)[1]

    def sign(email: str) -> str:
        answer = org.an.post(f"{org.an_url}petitions/{petition}/signatures",
                             json={"person": {"email_addresses": [{"address": email}]}})
        answer.raise_for_status()
        return answer.json()["identifiers"][0].split(":", 1)[1]

    sign("ada@example.org")
    org.run()
    with org.staging.connect() as conn:
        campaign = conn.execute("SELECT sf_id FROM sync.action_links WHERE an_id = %s", (petition,)).fetchone()[0]
    members = f"SELECT ContactId FROM CampaignMember WHERE CampaignId = '{campaign}'"
    org.sf.Campaign.delete(campaign)
    org.run()
    late = sign("bob@example.org")
    assert (late, "CAMPAIGN_DELETED_IN_SALESFORCE") in org.rejects(org.run())
    org.run()  # still deleted: the taker keeps waiting

    assert "<success>true</success>" in undelete(org.sf, campaign)
    org.run()
    assert {m["ContactId"] for m in org.sf.query(members)["records"]} == {org.link(ADA)[0], org.link(BOB)[0]}
    with org.staging.connect() as conn:
        assert conn.execute("SELECT status FROM sync.rejects WHERE record_id = %s", (late,)).fetchall() == [
            ("resolved",)]
        assert conn.execute("SELECT count(*) FROM sync.pending").fetchone()[0] == 0
    assert org.writes(org.run()) == []


def test_deleting_the_subscribers_campaign_unsubscribes_nobody_and_it_is_created_again_full(org):
    org.run()
    old = subscribers_campaign(org)
    members = "SELECT ContactId FROM CampaignMember WHERE CampaignId = '{}'"
    everyone = {org.link(p)[0] for p in (ADA, BOB, SOLO)}
    assert {m["ContactId"] for m in org.sf.query(members.format(old))["records"]} == everyone
    org.sf.Campaign.delete(old)  # every membership goes with it: no one asked to unsubscribe

    run = org.run()
    assert (old, "SUBSCRIBERS_CAMPAIGN_DELETED") in org.rejects(run) and org.writes(run) == []
    org.put(BOB, {"email_addresses": [{"address": "bob@example.org", "status": "unsubscribed"}]})
    org.run()  # the campaign is created again, with everyone still subscribed in it
    new = subscribers_campaign(org)
    assert new != old and {m["ContactId"] for m in org.sf.query(members.format(new))["records"]} == everyone - {
        org.link(BOB)[0]}
    assert [org.activist(p)["email_addresses"][0]["status"] for p in (ADA, BOB, SOLO)] == [
        "subscribed", "unsubscribed", "subscribed"]
    assert org.writes(org.run()) == []
    # and the new campaign works as the old one did
    org.sf.CampaignMember.delete(org.sf.query(
        f"SELECT Id FROM CampaignMember WHERE CampaignId = '{new}' AND ContactId = '{org.link(ADA)[0]}'")["records"][0]["Id"])
    org.run()
    assert org.activist(ADA)["email_addresses"][0]["status"] == "unsubscribed"


def test_a_subscribers_campaign_deleted_just_before_the_daily_check_is_created_again_full(org):
    org.run()
    old = subscribers_campaign(org)
    org.sf.Campaign.delete(old)
    settings.put(org.staging, "setup_checked", None)  # the daily check of the master records falls in this run
    run = org.run()
    new = subscribers_campaign(org)
    assert new != old and {m["ContactId"] for m in org.sf.query(
        f"SELECT ContactId FROM CampaignMember WHERE CampaignId = '{new}'")["records"]} == {
        org.link(p)[0] for p in (ADA, BOB, SOLO)}
    assert [action for _, direction, action, *_ in org.writes(run) if direction == "to_actionnetwork"] == []
    assert [org.activist(p)["email_addresses"][0]["status"] for p in (ADA, BOB, SOLO)] == ["subscribed"] * 3
    assert org.writes(org.run()) == []


@pytest.mark.parametrize("same_hour", [False, True], ids=["later", "same_hour"])
def test_a_contact_created_in_place_of_a_deleted_one_syncs_with_its_activist(org, same_hour):
    org.run()
    ada, bob = org.link(ADA)[0], org.link(BOB)[0]
    for contact in (ada, bob):
        org.sf.Contact.delete(contact)
    if not same_hour:
        org.run()
        org.put(ADA, {"postal_addresses": [{"postal_code": "LS1"}]})  # held back while the pair is stopped
        assert (ADA, "SYNC_STOPPED") in org.rejects(org.run())
    # the admin enters them again instead of restoring them; Bob's without his address
    new = org.sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ADA@example.org",
                                 "MailingCity": "Leeds"})["id"]
    org.sf.CampaignMember.create({"CampaignId": subscribers_campaign(org), "ContactId": new})
    bob_new = org.sf.Contact.create({"LastName": "Builder", "Email": "bob@example.org"})["id"]
    run = org.run()

    assert org.link(ADA) == (new, "active") and org.link(BOB) == (bob_new, "active")
    assert {(new, "CONTACT_REPLACED"), (bob_new, "CONTACT_REPLACED")} <= org.rejects(run)
    activist, contact = org.activist(ADA), org.contact(new)
    assert activist["postal_addresses"][0]["locality"] == "Leeds"  # the new Contact's value
    assert contact["MailingPostalCode"] == (None if same_hour else "LS1")  # the change held back meanwhile
    assert org.contact(bob_new)["FirstName"] == "Bob"  # what the activist has, the new Contact lacked
    assert activist["email_addresses"][0]["status"] == "subscribed"
    with org.staging.connect() as conn:
        assert conn.execute("SELECT DISTINCT status FROM sync.rejects WHERE reason_code IN"
                            " ('CONTACT_DELETED_IN_SALESFORCE', 'SYNC_STOPPED')").fetchall() in ([], [("resolved",)])
    assert org.writes(org.run()) == []
    org.sf.Contact.update(new, {"MailingCity": "York"})  # both ways from now on
    org.run()
    assert org.activist(ADA)["postal_addresses"][0]["locality"] == "York"
    # the old Contact restored from the Recycle Bin is a duplicate of the new one, never a second pair
    undelete(org.sf, ada)
    assert (ada, "DUPLICATE_EMAIL") in org.rejects(org.run())
    assert org.link(ADA) == (new, "active") and org.writes(org.run()) == []


def test_a_duplicate_takes_over_when_the_contact_it_lost_to_is_deleted(org):
    org.run()
    ada = org.link(ADA)[0]
    dup = org.sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "Ada@example.org",
                                 "MailingCity": "Leeds"})["id"]
    assert (dup, "DUPLICATE_EMAIL") in org.rejects(org.run())
    org.sf.Contact.delete(ada)  # the admin deletes the synced one instead of merging the two
    org.run()
    run = org.run()  # the duplicate, unchanged, holds the email alone now: it syncs with the activist
    assert org.link(ADA) == (dup, "active") and (dup, "CONTACT_REPLACED") in org.rejects(run)
    assert org.activist(ADA)["postal_addresses"][0]["locality"] == "Leeds"
    with org.staging.connect() as conn:
        assert conn.execute("SELECT count(*) FROM sync.duplicates").fetchone()[0] == 0
        assert set(conn.execute("SELECT reason_code, status FROM sync.rejects WHERE record_id IN (%s, %s)"
                                " AND reason_code <> 'CONTACT_REPLACED'", (ada, dup)).fetchall()) == {
            ("DUPLICATE_EMAIL", "resolved"), ("CONTACT_DELETED_IN_SALESFORCE", "resolved")}
    org.put(ADA, {"given_name": "Augusta"})
    org.run()
    assert org.contact(dup)["FirstName"] == "Augusta"
    assert org.writes(org.run()) == []

