"""Restoring records from the recycle bin through the partner SOAP API's undelete()."""

from __future__ import annotations

import pytest

from tests.fixtures.salesforce import merge, undelete


@pytest.fixture
def sf(sf_sandbox):
    return sf_sandbox.client()


def members(sf) -> list[tuple[str, str]]:
    return sorted((m["CampaignId"], m["ContactId"]) for m in
                  sf.query("SELECT CampaignId, ContactId FROM CampaignMember")["records"])


def test_undelete_restores_a_contact_with_the_members_its_delete_took_along(sf):
    ada = sf.Contact.create({"LastName": "Lovelace", "Email": "ada@example.org"})["id"]
    campaign = sf.Campaign.create({"Name": "Subscribers"})["id"]
    sf.CampaignMember.create({"CampaignId": campaign, "ContactId": ada})
    sf.Contact.delete(ada)
    deleted = sf.query_all(f"SELECT SystemModstamp FROM Contact WHERE Id = '{ada}'", include_deleted=True)["records"]
    assert members(sf) == []

    answer = undelete(sf, ada)

    assert f"<id>{ada}</id><success>true</success>" in answer
    restored = sf.Contact.get(ada)
    assert restored["LastName"] == "Lovelace" and not restored["IsDeleted"]
    assert restored["SystemModstamp"] > deleted[0]["SystemModstamp"]  # an incremental reader sees it come back
    assert members(sf) == [(campaign, ada)]


def test_undelete_answers_per_id_and_refuses_a_record_not_in_the_recycle_bin(sf):
    live, gone = (sf.Contact.create({"LastName": n})["id"] for n in ("Live", "Gone"))
    sf.Contact.delete(gone)

    answer = undelete(sf, live, gone, "003000000000000AAA")

    results = answer.split("<result>")[1:]
    assert "<statusCode>UNDELETE_FAILED</statusCode>" in results[0]
    assert f"<id>{gone}</id><success>true</success>" in results[1]
    assert "<statusCode>INVALID_ID_FIELD</statusCode>" in results[2]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2


def test_a_merged_contact_restored_keeps_its_master_and_its_moved_records_stay_moved(sf):
    kept, gone = (sf.Contact.create({"LastName": n, "Email": "ada@example.org"})["id"] for n in ("Kept", "Gone"))
    campaign = sf.Campaign.create({"Name": "Appeal"})["id"]
    sf.CampaignMember.create({"CampaignId": campaign, "ContactId": gone})
    merge(sf, "Contact", kept, [gone])

    assert "<success>true</success>" in undelete(sf, gone)

    assert sf.Contact.get(gone)["MasterRecordId"] == kept
    assert members(sf) == [(campaign, kept)]
