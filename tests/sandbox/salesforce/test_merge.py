"""Merging Contacts through the partner SOAP API's merge(): what an admin's merge does to the records."""

from __future__ import annotations

import pytest

from tests.fixtures.salesforce import merge


@pytest.fixture
def sf(sf_sandbox):
    return sf_sandbox.client()


def test_merge_moves_related_records_and_leaves_the_merged_in_the_recycle_bin(sf, sf_sandbox):
    kept = sf.Contact.create({"LastName": "Kept", "Email": "ada@example.org"})["id"]
    gone = sf.Contact.create({"LastName": "Gone", "Email": "ADA@example.org", "MailingCity": "Leeds"})["id"]
    both, only_gone = (sf.Campaign.create({"Name": name})["id"] for name in ("Both", "Only gone"))
    for campaign, contact in ((both, kept), (both, gone), (only_gone, gone)):
        sf.CampaignMember.create({"CampaignId": campaign, "ContactId": contact})
    account = sf.Account.create({"Name": "Household"})["id"]
    deal = sf.Opportunity.create({"Name": "Gift", "StageName": "Closed Won", "CloseDate": "2026-01-01",
                                  "AccountId": account})["id"]
    role = sf.OpportunityContactRole.create({"OpportunityId": deal, "ContactId": gone})["id"]
    before = sf.Contact.get(kept)["SystemModstamp"]

    answer = merge(sf, "Contact", kept, [gone], {"MailingCity": "Leeds"})

    assert "<success>true</success>" in answer and f"<mergedRecordIds>{gone}</mergedRecordIds>" in answer
    master = sf.Contact.get(kept)
    assert master["MailingCity"] == "Leeds" and master["SystemModstamp"] > before
    merged = sf.query_all(f"SELECT Id, IsDeleted, MasterRecordId FROM Contact WHERE Id = '{gone}'",
                          include_deleted=True)["records"]
    assert [(r["IsDeleted"], r["MasterRecordId"]) for r in merged] == [(True, kept)]
    members = sf.query("SELECT CampaignId, ContactId FROM CampaignMember")["records"]
    assert sorted((m["CampaignId"], m["ContactId"]) for m in members) == sorted([(both, kept), (only_gone, kept)])
    assert sf.OpportunityContactRole.get(role)["ContactId"] == kept
    assert f"<updatedRelatedIds>{role}</updatedRelatedIds>" in answer
    assert sf_sandbox.app.request_counts["POST soap call"] == 1


@pytest.mark.parametrize("case", ["itself", "deleted", "three", "lead_field"])
def test_a_refused_merge_changes_nothing(sf, case):
    kept = sf.Contact.create({"LastName": "Kept"})["id"]
    other, third, fourth = (sf.Contact.create({"LastName": n})["id"] for n in ("Other", "Third", "Fourth"))
    if case == "deleted":
        sf.Contact.delete(other)
    merged, values = {"itself": ([kept], {}), "deleted": ([other], {}), "three": ([other, third, fourth], {}),
                      "lead_field": ([other], {"Company": "Acme"})}[case]
    answer = merge(sf, "Contact", kept, merged, values)
    assert "<success>false</success>" in answer and "<statusCode>" in answer
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == (3 if case == "deleted" else 4)
    assert sf.Contact.get(kept)["LastName"] == "Kept"


def test_merge_needs_a_valid_session_and_a_mergeable_object(sf):
    kept, other = (sf.Contact.create({"LastName": n})["id"] for n in ("Kept", "Other"))
    fault = merge(sf, "Contact", kept, [other], session_id="not-a-session")
    assert "<faultcode>sf:INVALID_SESSION_ID</faultcode>" in fault
    campaigns = [sf.Campaign.create({"Name": n})["id"] for n in ("A", "B")]
    assert "<statusCode>INVALID_TYPE</statusCode>" in merge(sf, "Campaign", campaigns[0], campaigns[1:])
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2
