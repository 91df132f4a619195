"""Nothing waits for a user to re-save a record: what was skipped because something it depends on was
not ready is retried by later runs on its own, in whatever order and however many runs later the
missing piece arrives; its reject turns from open to resolved.
"""

from __future__ import annotations

import pytest

from tests.dags.test_edge_cases import Org, person, subscribers_campaign

pytestmark = pytest.mark.slow

ADA, BAD = "p-ada", "p-bad"


@pytest.fixture(params=[5, 0], ids=["overlap5", "overlap0"])
def org(request, dag, an_sandbox, sf_sandbox, staging) -> Org:
    an_sandbox.app.store.load_records({
        "people": [person(ADA, "ada@example.org", "Ada", "Lovelace"), person(BAD, "bad@", "Bea", "Broken")],
        "forms": [{"id": "f-volunteer", "title": "Volunteer sign-up"}],
        "petitions": [{"id": "pet-parks", "title": "Save the parks"}],
        "fundraising_pages": [{"id": "fp-spring", "title": "Spring appeal", "api_created": True}],
        "signatures": [{"person_id": BAD, "petition_id": "pet-parks"}],
        "donations": [{"person_id": BAD, "fundraising_page_id": "fp-spring", "amount": "12.00",
                       "recipients": [{"display_name": "Us", "amount": "12.00"}]}],
    })
    return Org(dag, an_sandbox, sf_sandbox, staging, request.param)


def reject_status(org, record_id: str, code: str) -> list[str]:
    with org.staging.connect() as conn:
        return [r[0] for r in conn.execute("SELECT status FROM sync.rejects WHERE record_id = %s AND reason_code = %s"
                                           " ORDER BY id", (record_id, code))]


def test_records_waiting_on_another_record_go_through_once_it_is_ready(org):
    sf = org.sf
    # Salesforce side: a donor and a volunteer who are not synced yet
    donor = sf.Contact.create({"FirstName": "Don", "LastName": "Or", "Email": "donor@example.org"})["id"]
    helper = sf.Contact.create({"FirstName": "Hel", "LastName": "Per", "Email": "helper@example.org"})["id"]
    org.run()
    subscribers = subscribers_campaign(org)
    with org.staging.connect() as conn:
        account = conn.execute("SELECT record_id FROM sync.masters WHERE kind = 'sf_donations_account'").fetchone()[0]
        volunteer = conn.execute("SELECT sf_id FROM sync.action_links WHERE an_id = 'f-volunteer'").fetchone()[0]
    gift = sf.Opportunity.create({"Name": "Gift", "AccountId": account, "StageName": "Closed Won",
                                  "CloseDate": "2026-03-01", "Amount": 30})["id"]
    sf.OpportunityContactRole.create({"OpportunityId": gift, "ContactId": donor, "Role": "Donor", "IsPrimary": True})
    sf.CampaignMember.create({"CampaignId": volunteer, "ContactId": helper})
    run = org.run()
    assert (gift, "DONOR_NOT_SYNCED") in org.rejects(run)
    assert "CONTACT_NOT_SYNCED" in {code for _, code in org.rejects(run)}
    # Action Network side: an activist with a broken email signed a petition and gave; both waited
    bea_opportunity, = [o for o in sf.query("SELECT Id FROM Opportunity WHERE Amount = 12")["records"]]
    assert reject_status(org, BAD, "MALFORMED_EMAIL")[-1] == "open"

    # an hour later, nothing about them changes: still waiting, nothing duplicated; with no overlap (nothing
    # read again) the signature of an activist who cannot sync is not even planned again
    quiet = org.run()
    if not org.overlap:
        assert [w for w in org.writes(quiet) if w[0] == "campaigns" and w[3] == BAD] == []
        assert reject_status(org, BAD, "PERSON_NOT_SYNCED")[-1] == "open"
    # two runs later, the missing pieces arrive: nothing else is touched
    org.run()
    sf.CampaignMember.create({"CampaignId": subscribers, "ContactId": donor})
    sf.CampaignMember.create({"CampaignId": subscribers, "ContactId": helper})
    org.put(BAD, {"email_addresses": [{"address": "bea@example.org", "primary": True}]})
    org.run()

    donations = org.an.get(f"{org.an_url}donations").json()["_embedded"]["osdi:donations"]
    assert [d["amount"] for d in donations if f"salesforce:{gift}" in d["identifiers"]] == ["30.00"]
    takers = org.an.get(f"{org.an_url}forms/f-volunteer/submissions").json()["_embedded"]["osdi:submissions"]
    helper_an = org.an.get(f"{org.an_url}people", params={"filter": "email_address eq 'helper@example.org'"}
                           ).json()["_embedded"]["osdi:people"][0]["identifiers"][0].split(":")[1]
    assert [t["action_network:person_id"] for t in takers].count(helper_an) == 1
    bea = org.link(BAD)[0]
    roles = sf.query(f"SELECT ContactId FROM OpportunityContactRole WHERE OpportunityId = '{bea_opportunity['Id']}'")
    assert [r["ContactId"] for r in roles["records"]] == [bea]
    with org.staging.connect() as conn:
        petition = conn.execute("SELECT sf_id FROM sync.action_links WHERE an_id = 'pet-parks'").fetchone()[0]
        pending = conn.execute("SELECT kind, record_id, reason_code FROM sync.pending").fetchall()
    members = sf.query(f"SELECT ContactId FROM CampaignMember WHERE CampaignId = '{petition}'")["records"]
    assert [m["ContactId"] for m in members] == [bea]
    assert pending == []
    for record, code in ((gift, "DONOR_NOT_SYNCED"), (BAD, "MALFORMED_EMAIL")):
        statuses = reject_status(org, record, code)
        assert statuses and statuses[-1] == "resolved" and "open" not in statuses, (record, code, statuses)
    # and the queue is empty: later runs write nothing
    assert org.writes(org.run()) == []


def test_an_email_another_contact_holds_goes_through_once_that_contact_is_gone(org):
    org.run()
    ada = org.link(ADA)[0]
    other = org.sf.Contact.create({"LastName": "Other", "Email": "ada.new@example.org"})["id"]
    org.run()
    org.put(ADA, {"email_addresses": [{"address": "ada.new@example.org", "primary": True}]})
    run = org.run()
    assert (ADA, "EMAIL_HELD_BY_ANOTHER_CONTACT") in org.rejects(run)
    assert org.contact(ada)["Email"] == "ada@example.org" and org.link(ADA) == (ada, "active")
    org.run()  # nothing new: still waiting, no stop
    assert org.link(ADA) == (ada, "active")
    org.sf.Contact.delete(other)
    org.run()
    assert org.contact(ada)["Email"] == "ada.new@example.org" and org.link(ADA) == (ada, "active")
    assert reject_status(org, ADA, "EMAIL_HELD_BY_ANOTHER_CONTACT")[-1] == "resolved"
    assert [w for w in org.writes(org.run()) if ADA in (w[3], w[4].get("person_id"))] == []


def test_a_pair_stopped_by_an_email_change_in_salesforce_resumes_when_it_is_changed_back(org):
    org.run()
    ada = org.link(ADA)[0]
    org.sf.Contact.update(ada, {"Email": "ada@elsewhere.org"})
    run = org.run()
    assert org.link(ADA) == (ada, "stopped") and (ada, "EMAIL_CHANGED_IN_SALESFORCE") in org.rejects(run)
    # the activist, read again unchanged (overlap5), has no change held back: no SYNC_STOPPED for it
    assert (ADA, "SYNC_STOPPED") not in org.rejects(run)
    org.put(ADA, {"postal_addresses": [{"locality": "Cambridge"}]})  # while stopped: waits, not lost
    run = org.run()
    assert (ADA, "SYNC_STOPPED") in org.rejects(run) and org.contact(ada)["MailingCity"] is None
    org.run()  # an hour with no change: still stopped, still open
    assert reject_status(org, ada, "EMAIL_CHANGED_IN_SALESFORCE")[-1] == "open"
    org.sf.Contact.update(ada, {"Email": "ada@example.org"})  # changed back
    org.run()
    assert org.link(ADA) == (ada, "active") and org.contact(ada)["MailingCity"] == "Cambridge"
    assert reject_status(org, ada, "EMAIL_CHANGED_IN_SALESFORCE") == ["resolved"]
    assert reject_status(org, ADA, "SYNC_STOPPED")[-1] == "resolved"
    assert [w for w in org.writes(org.run()) if ADA in (w[3], w[4].get("person_id"))] == []


def test_a_pair_stopped_by_an_email_change_in_salesforce_resumes_when_action_network_takes_that_email(org):
    org.run()
    ada = org.link(ADA)[0]
    org.sf.Contact.update(ada, {"Email": "ada@elsewhere.org", "MailingCity": "Leeds"})
    org.run()
    assert org.link(ADA) == (ada, "stopped")
    org.put(ADA, {"postal_addresses": [{"postal_code": "CB2"}]})  # while stopped: held back
    assert (ADA, "SYNC_STOPPED") in org.rejects(org.run())
    # the reject's other remedy: the new email in Action Network; the Contact itself is not read again
    org.put(ADA, {"email_addresses": [{"address": "ada@elsewhere.org", "primary": True}], "family_name": "Byron"})
    org.run()
    assert org.link(ADA) == (ada, "active")
    contact, place = org.contact(ada), org.activist(ADA)["postal_addresses"][0]
    assert (contact["Email"], contact["LastName"], contact["MailingPostalCode"]) == ("ada@elsewhere.org", "Byron", "CB2")
    assert place["locality"] == "Leeds"  # changed in Salesforce with the email, while the pair was stopped
    assert reject_status(org, ada, "EMAIL_CHANGED_IN_SALESFORCE") == ["resolved"]
    assert reject_status(org, ADA, "SYNC_STOPPED")[-1] == "resolved"
    assert [w for w in org.writes(org.run()) if ADA in (w[3], w[4].get("person_id"))] == []
