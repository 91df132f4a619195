"""Bulk API 2.0 (ingest + query) and 1.0 through unchanged simple-salesforce, plus raw lifecycle checks."""

from __future__ import annotations

import csv
import io
import time

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


@pytest.fixture
def sf(sf_sandbox):
    return sf_sandbox.client()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _wait(sf, job_id: str, kind: str = "ingest") -> dict:
    for _ in range(200):
        info = sf.restful(f"jobs/{kind}/{job_id}")
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def test_bulk2_insert_and_upsert_with_result_csvs(sf):
    records = [{"LastName": f"B{i}", "Email": f"b{i}@example.org", "Action_Network_ID__c": f"an{i}"}
               for i in range(5)] + [{"LastName": "Bad", "Email": "nope", "Action_Network_ID__c": "an-bad"}]
    (inserted,) = sf.bulk2.Contact.insert(records=records, wait=0.05)
    assert (inserted["numberRecordsProcessed"], inserted["numberRecordsFailed"]) == (6, 1)
    successes = _rows(sf.bulk2.Contact.get_successful_records(inserted["job_id"]))
    assert len(successes) == 5 and all(r["sf__Created"] == "true" and r["sf__Id"].startswith("003")
                                       for r in successes)
    (failure,) = _rows(sf.bulk2.Contact.get_failed_records(inserted["job_id"]))
    assert failure["sf__Error"] == "INVALID_EMAIL_ADDRESS:Email: invalid email address: nope:Email"
    assert failure["Action_Network_ID__c"] == "an-bad" and failure["sf__Id"] == ""

    csv_text = "Action_Network_ID__c,FirstName,Email\nan0,Zero,#N/A\nan1,,\nnew1,New,\n"
    (upserted,) = sf.bulk2.Contact.upsert(csv_file=_file(csv_text), external_id_field="Action_Network_ID__c",
                                          wait=0.05)
    assert upserted["numberRecordsFailed"] == 1  # "new1" has no LastName
    created = {r["Action_Network_ID__c"]: r["sf__Created"] for r in
               _rows(sf.bulk2.Contact.get_successful_records(upserted["job_id"]))}
    assert created == {"an0": "false", "an1": "false"}
    (failed,) = _rows(sf.bulk2.Contact.get_failed_records(upserted["job_id"]))
    assert failed["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    rows = {r["Action_Network_ID__c"]: r for r in sf.query(
        "SELECT Action_Network_ID__c, FirstName, Email FROM Contact WHERE Action_Network_ID__c IN ('an0','an1')"
    )["records"]}
    assert rows["an0"]["Email"] is None and rows["an0"]["FirstName"] == "Zero"  # #N/A nulls
    assert rows["an1"]["Email"] == "b1@example.org"  # an empty cell leaves the value


def _file(text: str) -> str:
    import tempfile

    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    handle.write(text)
    handle.close()
    return handle.name


def test_bulk2_update_delete_and_hard_delete(sf):
    ids = [sf.Contact.create({"LastName": f"D{i}"})["id"] for i in range(3)]
    (updated,) = sf.bulk2.Contact.update(records=[{"Id": ids[0], "FirstName": "Up"}], wait=0.05)
    assert updated["numberRecordsFailed"] == 0
    assert sf.Contact.get(ids[0])["FirstName"] == "Up"
    (deleted,) = sf.bulk2.Contact.delete(records=[{"Id": ids[0]}, {"Id": "003000000000000AAA"}], wait=0.05)
    assert deleted["numberRecordsFailed"] == 1
    (hard,) = sf.bulk2.Contact.hard_delete(records=[{"Id": ids[1]}], wait=0.05)
    assert hard["numberRecordsFailed"] == 0
    remaining = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)["records"]
    assert {(r["Id"], r["IsDeleted"]) for r in remaining} == {(ids[0], True), (ids[2], False)}


def test_bulk2_raw_lifecycle_states_failed_and_abort(sf, sf_sandbox):
    job = sf.restful("jobs/ingest", method="POST", json={"object": "Contact", "operation": "insert"})
    assert job["state"] == "Open" and job["contentUrl"].endswith(f"{job['id']}/batches")
    url = f"{sf.bulk2_url}ingest/{job['id']}/batches"
    headers = {"Authorization": f"Bearer {sf.session_id}", "Content-Type": "text/csv"}
    assert sf.session.put(url, data=b"LastName,Bogus__c\nA,1\n", headers=headers).status_code == 201
    closed = sf.restful(f"jobs/ingest/{job['id']}", method="PATCH", json={"state": "UploadComplete"})
    assert closed["state"] in ("UploadComplete", "InProgress", "Failed")
    info = _wait(sf, job["id"])
    assert info["state"] == "Failed" and "Bogus__c" in info["errorMessage"]
    unprocessed = sf.session.get(f"{sf.bulk2_url}ingest/{job['id']}/unprocessedRecords", headers=headers)
    assert _rows(unprocessed.text) == [{"LastName": "A", "Bogus__c": "1"}]

    aborted = sf.restful("jobs/ingest", method="POST", json={"object": "Contact", "operation": "insert"})
    assert sf.restful(f"jobs/ingest/{aborted['id']}", method="PATCH", json={"state": "Aborted"})["state"] == "Aborted"
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(f"jobs/ingest/{aborted['id']}", method="PATCH", json={"state": "UploadComplete"})
    assert sf.restful(f"jobs/ingest/{aborted['id']}", method="DELETE") is None
    assert aborted["id"] not in sf_sandbox.app.bulk2.jobs
    listed = sf.restful("jobs/ingest")
    assert [j["id"] for j in listed["records"]] == [job["id"]]


def test_bulk2_query_with_locator_paging_and_download(sf, sf_sandbox, tmp_path):
    account = sf.Account.create({"Name": "Acme, \"Inc\""})["id"]
    sf_sandbox.app.store.load({"Contact": ({"LastName": f"Q{i:03d}", "AccountId": account} for i in range(25))})
    pages = list(sf.bulk2.Contact.query("SELECT LastName, Account.Name FROM Contact ORDER BY LastName",
                                        max_records=10, wait=0.05))
    assert len(pages) == 3
    rows = [r for page in pages for r in _rows(page)]
    assert len(rows) == 25 and rows[0] == {"LastName": "Q000", "Account.Name": 'Acme, "Inc"'}
    job = sf.restful("jobs/query", method="POST", json={"operation": "query", "query": "SELECT Id FROM Contact"})
    assert job["state"] == "UploadComplete"
    assert _wait(sf, job["id"], "query")["numberRecordsProcessed"] == 25
    headers = {"Authorization": f"Bearer {sf.session_id}"}
    last = sf.session.get(f"{sf.bulk2_url}query/{job['id']}/results", params={"maxRecords": 30}, headers=headers)
    assert last.headers["Sforce-Locator"] == "null" and last.headers["Sforce-NumberOfRecords"] == "25"
    results = sf.bulk2.Contact.download("SELECT Id, LastName FROM Contact", path=str(tmp_path), max_records=20, wait=0.05)
    assert sum(r["number_of_records"] for r in results) == 25
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("jobs/query", method="POST", json={"operation": "query", "query": "SELECT Nope FROM Contact"})


def test_bulk1_dml_and_query_through_simple_salesforce(sf, sf_sandbox):
    results = sf.bulk.Contact.insert([{"LastName": "One", "Email": "one@example.org"}, {"Email": "x@example.org"}])
    assert results[0]["success"] and results[0]["created"] and results[0]["id"].startswith("003")
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    upserted = sf.bulk.Contact.upsert([{"Email": "one@example.org", "LastName": "Uno"}], "Email")
    assert upserted[0]["created"] is False and upserted[0]["id"] == results[0]["id"]
    assert sf.bulk.Contact.update([{"Id": results[0]["id"], "FirstName": "F"}])[0]["success"]
    queried = sf.bulk.Contact.query("SELECT Id, Name FROM Contact")
    assert [r["Name"] for r in queried] == ["F Uno"]
    assert sf.bulk.Contact.delete([{"Id": results[0]["id"]}])[0]["success"]
    assert len(sf.bulk.Contact.query_all("SELECT Id FROM Contact")) == 1
    jobs = list(sf_sandbox.app.bulk1.jobs.values())
    assert all(j.state == "Closed" for j in jobs if j.operation not in ("query", "queryAll"))
    bad = sf.session.get(f"{sf.bulk_url}job/{jobs[0].id}", headers={"X-SFDC-Session": "nope"})
    assert bad.status_code == 400 and bad.json()["exceptionCode"] == "InvalidSessionId"
