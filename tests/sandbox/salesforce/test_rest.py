"""REST API through unchanged simple-salesforce: rows, upserts, deletes, queries, describe, windows, collections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce import format_external_id
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)


@pytest.fixture
def sf(sf_sandbox):
    return sf_sandbox.client()


def _error(exc_info) -> dict:
    (error,) = exc_info.value.content
    return error


def test_create_get_update_with_system_fields(sf, sf_sandbox):
    created = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.org"})
    assert created["success"] and created["id"].startswith("003") and len(created["id"]) == 18
    row = sf.Contact.get(created["id"])
    assert row["attributes"] == {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{created['id']}"}
    assert row["Name"] == "Ada Lovelace" and row["IsDeleted"] is False and row["Phone"] is None
    assert row["CreatedDate"].endswith("+0000") and row["SystemModstamp"] == row["CreatedDate"]
    assert sf.Contact.update(created["id"], {"MailingCity": "London"}) == 204
    assert sf.Contact.get(created["id"])["MailingCity"] == "London"
    assert list(sf.Contact.get(created["id"], params={"fields": "Id,MailingCity"})) == ["attributes", "Id",
                                                                                         "MailingCity"]
    assert sf_sandbox.app.store.get("Contact", created["id"][:15])["MailingCity"] == "London"  # 15-char Ids too


def test_upsert_by_external_id_and_email(sf, sf_sandbox):
    path = format_external_id("Action_Network_ID__c", "an:1/2 x")
    created = sf.Contact.upsert(path, {"LastName": "Ext"}, raw_response=True)
    assert created.status_code == 201 and created.json()["created"] is True
    updated = sf.Contact.upsert(path, {"LastName": "Ext2"}, raw_response=True)
    assert updated.status_code == 200
    assert updated.json() == {"id": created.json()["id"], "success": True, "errors": [], "created": False}
    assert sf.Contact.get_by_custom_id("Action_Network_ID__c", "an:1/2 x")["LastName"] == "Ext2"
    sf.Contact.update(created.json()["id"], {"Email": "dup@example.org"})
    by_email = sf.Contact.upsert("Email/DUP@example.org", {"FirstName": "Case"}, raw_response=True)
    assert by_email.status_code == 200 and by_email.json()["id"] == created.json()["id"]
    sf.Contact.create({"LastName": "Twin", "Email": "dup@example.org"})
    with pytest.raises(SalesforceMoreThanOneRecord) as many:
        sf.Contact.upsert("Email/dup@example.org", {"FirstName": "X"})
    assert many.value.status == 300 and len(many.value.content) == 2
    old_api = sf_sandbox.client(version="45.0")
    assert old_api.Contact.upsert(path, {"LastName": "Old"}) == 204


def test_delete_is_soft_and_visible_to_query_all(sf):
    contact = sf.Contact.create({"LastName": "Gone"})["id"]
    member_campaign = sf.Campaign.create({"Name": "C"})["id"]
    sf.CampaignMember.create({"CampaignId": member_campaign, "ContactId": contact})
    assert sf.Contact.delete(contact) == 204
    for call in (lambda: sf.Contact.get(contact), lambda: sf.Contact.update(contact, {"LastName": "x"}),
                 lambda: sf.Contact.delete(contact)):
        with pytest.raises(SalesforceResourceNotFound) as err:
            call()
        assert _error(err)["errorCode"] == "ENTITY_IS_DELETED"
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
    everything = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in everything["records"]] == [(contact, True)]
    assert sf.query("SELECT COUNT() FROM CampaignMember")["totalSize"] == 0  # members go with the contact
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Contact.get("003000000000000AAA")
    assert _error(err)["errorCode"] == "NOT_FOUND"


def test_query_paging_with_path_only_next_records_url(sf, sf_sandbox):
    sf_sandbox.app.store.load({"Contact": ({"LastName": f"P{i:04d}"} for i in range(2500))})
    first = sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    assert first["totalSize"] == 2500 and first["done"] is False and len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True and len(rest["records"]) == 500 and rest["records"][-1]["LastName"] == "P2499"
    small = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=300"})
    assert len(small["records"]) == 300
    tiny = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(tiny["records"]) == 200  # clamped to the documented minimum
    assert len(sf.query_all("SELECT Id FROM Contact")["records"]) == 2500


def test_query_parent_fields_and_raw_paths(sf, sf_sandbox):
    parent = sf.Campaign.create({"Name": "Action Network Subscribers"})["id"]
    sf.Campaign.create({"Name": "Child", "ParentId": parent})
    result = sf.query("SELECT Name, Parent.Name FROM Campaign WHERE ParentId != null")
    assert result["records"][0]["Parent"]["Name"] == "Action Network Subscribers"
    session = sf.session
    headers = {"Authorization": f"Bearer {sf.session_id}"}
    raw = session.get(f"{sf_sandbox.url}/services/data/v58.0/query?q=SELECT+Name+FROM+Campaign+WHERE+Name+%3D+"
                      "%27Child%27", headers=headers)
    assert raw.json()["records"][0]["Name"] == "Child"
    encoded = session.get(f"{sf_sandbox.url}/services/data/v59.0/sobjects/%43ampaign/{parent}/", headers=headers)
    assert encoded.status_code == 200 and encoded.headers["Sforce-Limit-Info"].startswith("api-usage=")


@pytest.mark.parametrize(("soql", "code"), [
    ("SELEC Id FROM Contact", "MALFORMED_QUERY"),
    ("SELECT Foo FROM Contact", "INVALID_FIELD"),
    ("SELECT Id FROM Nothing", "INVALID_TYPE"),
])
def test_query_errors(sf, soql, code):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query(soql)
    assert err.value.status == 400 and _error(err)["errorCode"] == code


@pytest.mark.parametrize(("sobject", "body", "code", "fields"), [
    ("Contact", {"FirstName": "NoLast"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
    ("Opportunity", {"Name": "O"}, "REQUIRED_FIELD_MISSING", ["StageName", "CloseDate"]),
    ("CampaignMember", {"Status": "Sent"}, "REQUIRED_FIELD_MISSING", ["CampaignId", "ContactId", "LeadId"]),
    ("Contact", {"LastName": "x" * 81}, "STRING_TOO_LONG", ["LastName"]),
    ("Contact", {"LastName": "E", "Email": "not an email"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
    ("Contact", {"LastName": "R", "AccountId": "001000000000000AAA"}, "INVALID_CROSS_REFERENCE_KEY", ["AccountId"]),
    ("Contact", {"LastName": "F", "Nope__c": 1}, "INVALID_FIELD", []),
    ("Contact", {"LastName": "R", "CreatedDate": "2024-01-01T00:00:00Z"}, "INVALID_FIELD_FOR_INSERT_UPDATE",
     ["CreatedDate"]),
])
def test_validation_errors(sf, sobject, body, code, fields):
    with pytest.raises(SalesforceMalformedRequest) as err:
        getattr(sf, sobject).create(body)
    error = _error(err)
    assert (error["errorCode"], error["fields"]) == (code, fields)
    if code == "STRING_TOO_LONG":
        assert error["message"].startswith("Last Name: data value too large:")
        assert error["message"].endswith("(max length=80)")


def test_duplicate_values(sf, sf_sandbox):
    campaign = sf.Campaign.create({"Name": "C"})["id"]
    contact = sf.Contact.create({"LastName": "M", "Email": "m@example.org", "Action_Network_ID__c": "a1"})["id"]
    sf.CampaignMember.create({"CampaignId": campaign, "ContactId": contact})
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.CampaignMember.create({"CampaignId": campaign, "ContactId": contact, "Status": "Responded"})
    assert _error(err)["errorCode"] == "DUPLICATE_VALUE" and _error(err)["message"] == "Already a campaign member."
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "N", "Action_Network_ID__c": "A1"})
    assert _error(err)["errorCode"] == "DUPLICATE_VALUE" and contact in _error(err)["message"]
    sf.Contact.create({"LastName": "Same", "Email": "M@example.org"})  # no duplicate rule by default
    sf_sandbox.app.store.duplicate_rule = True
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "Third", "Email": "m@EXAMPLE.org"})
    error = _error(err)
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["duplicateResut"] == error["duplicateResult"]
    assert error["duplicateResult"]["matchResults"][0]["size"] == 2
    allowed = sf.Contact.create({"LastName": "Third", "Email": "m@example.org"},
                                headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"})
    assert allowed["success"]


def test_describe_and_global_describe(sf):
    describe = sf.Contact.describe()
    assert describe["keyPrefix"] == "003"
    fields = {f["name"]: f for f in describe["fields"]}
    employer = fields["Employer__c"]
    assert (employer["type"], employer["length"], employer["extraTypeInfo"], employer["filterable"],
            employer["custom"]) == ("textarea", 131072, "plaintextarea", False, True)
    ext = fields["Action_Network_ID__c"]
    assert ext["externalId"] and ext["unique"] and ext["idLookup"]
    assert fields["Email"]["idLookup"] and not fields["Email"]["externalId"]
    last = fields["LastName"]
    assert last["createable"] and not last["nillable"] and not last["defaultedOnCreate"]
    for key in ("byteLength", "referenceTo", "relationshipName", "picklistValues", "precision", "scale", "soapType",
                "caseSensitive", "sortable", "updateable"):
        assert key in last
    assert fields["AccountId"]["referenceTo"] == ["Account"] and fields["AccountId"]["relationshipName"] == "Account"
    names = {o["name"]: o["keyPrefix"] for o in sf.describe()["sobjects"]}
    assert names == {"Account": "001", "Contact": "003", "Lead": "00Q", "Campaign": "701",
                     "CampaignMember": "00v", "Opportunity": "006", "OpportunityContactRole": "00K",
                     "Organization": "00D"}
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Contact WHERE Employer__c = 'x'")
    assert _error(err)["errorCode"] in ("INVALID_FIELD", "MALFORMED_QUERY")


def test_updated_and_deleted_windows(sf, sf_sandbox):
    clock = {"now": datetime(2025, 3, 1, 12, 0, 30, tzinfo=UTC)}
    sf_sandbox.app.store.clock = lambda: clock["now"]
    kept = sf.Contact.create({"LastName": "Kept"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    clock["now"] += timedelta(minutes=5)
    sf.Contact.delete(gone)
    clock["now"] += timedelta(minutes=5)
    start = datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    updated = sf.Contact.updated(start, clock["now"] + timedelta(hours=1))
    assert updated["ids"] == [kept]
    assert updated["latestDateCovered"] == "2025-03-01T12:10:00.000+0000"  # capped at now, whole minutes
    deleted = sf.Contact.deleted(start, clock["now"])
    assert deleted["deletedRecords"] == [{"id": gone, "deletedDate": "2025-03-01T12:05:30.000+0000"}]
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.deleted(clock["now"] - timedelta(days=16), clock["now"])
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.updated(clock["now"] - timedelta(days=31), clock["now"])


def test_collections_create_update_upsert_delete(sf):
    created = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "One", "Email": "one@example.org"},
        {"attributes": {"type": "Contact"}, "FirstName": "NoLast"},
        {"attributes": {"type": "Campaign"}, "Name": "Mixed types"},
    ]})
    assert [r["success"] for r in created] == [True, False, True]
    assert created[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    one = created[0]["id"]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "id": one, "FirstName": "Uno"}]})
    assert updated == [{"id": one, "success": True, "errors": []}]
    upserted = sf.restful("composite/sobjects/Contact/Email", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "Email": "one@example.org", "LastName": "Uno"},
        {"attributes": {"type": "Contact"}, "Email": "two@example.org", "LastName": "Dos"}]})
    assert [(r["success"], r["created"]) for r in upserted] == [(True, False), (True, True)]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{one},{upserted[1]['id']}"})
    assert all(r["success"] for r in deleted)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_collections_all_or_none_rolls_back_and_size_limit(sf):
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "Rolled"},
        {"attributes": {"type": "Contact"}, "LastName": "Bad", "Email": "bad"}]})
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.restful("composite/sobjects", method="POST", json={"records": [
            {"attributes": {"type": "Contact"}, "LastName": str(i)} for i in range(201)]})
    assert _error(err)["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_injected_faults_and_latency(sf, sf_sandbox):
    control = sf_sandbox.app.control
    control.inject("UNABLE_TO_LOCK_ROW", path="/sobjects/Contact")
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "Locked"})
    assert _error(err)["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.Contact.create({"LastName": "Locked"})["success"]  # the fault was used up
    control.inject("SERVER_ERROR", status=503)
    with pytest.raises(Exception) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.status == 503
    control.inject("REQUEST_LIMIT_EXCEEDED")
    with pytest.raises(Exception) as err:
        sf.limits()
    assert err.value.status == 403
    control.set_latency(0.2)
    started = datetime.now()
    sf.query("SELECT Id FROM Contact")
    assert (datetime.now() - started).total_seconds() >= 0.2
