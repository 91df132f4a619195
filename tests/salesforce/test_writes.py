"""Writes through sObject Collections and Bulk API 2.0, with every row's outcome at its own index."""

from __future__ import annotations

import pytest

from .support import requests_to

EXT = "Action_Network_ID__c"


def contacts(n, *, bad=(), prefix="p"):
    """Contact rows; the indexes in ``bad`` carry an invalid email."""
    return [{EXT: f"{prefix}{i}", "LastName": f"Last {i}",
             "Email": "not an email" if i in bad else f"{prefix}{i}@example.org"} for i in range(n)]


@pytest.fixture
def small_writes(make_client):
    """A client that writes up to 1,000 rows through sObject Collections."""
    return make_client(write_bulk_threshold=1000)


def test_collections_insert_maps_row_errors_back(sf_sandbox, small_writes):
    client = small_writes
    rows = contacts(250, bad={7, 201})
    rows[100].pop("LastName")
    results = client.write("Contact", rows)
    assert [r.index for r in results] == list(range(250))
    failed = {r.index: r.codes for r in results if not r.success}
    assert failed == {7: ["INVALID_EMAIL_ADDRESS"], 100: ["REQUIRED_FIELD_MISSING"], 201: ["INVALID_EMAIL_ADDRESS"]}
    assert requests_to(sf_sandbox, "POST collections create") == 2  # 200 + 50
    stored = {r["Id"]: r for r in sf_sandbox.app.store.rows("Contact")}
    assert len(stored) == 247
    assert stored[results[42].id]["Email"] == "p42@example.org"


def test_collections_upsert_and_update(sf_sandbox, small_writes):
    client = small_writes
    first = client.write("Contact", contacts(5), operation="upsert", external_id_field=EXT)
    assert all(r.success and r.created for r in first)
    again = contacts(6)
    again[0]["LastName"] = "Changed"
    second = client.write("Contact", again, operation="upsert", external_id_field=EXT)
    assert [r.created for r in second] == [False] * 5 + [True]
    assert second[0].id == first[0].id
    updated = client.write("Contact", [{"Id": first[1].id, "MailingCity": "Oakland"},
                                       {"Id": first[2].id, "Email": "bad"}], operation="update")
    assert [r.success for r in updated] == [True, False]
    assert sf_sandbox.app.store.get("Contact", first[1].id)["MailingCity"] == "Oakland"
    assert requests_to(sf_sandbox, "PATCH collections upsert") == 2


def test_bulk_upsert_maps_failures_back_by_external_id(sf_sandbox, client):
    rows = contacts(120, bad={3, 77, 119})
    results = client.write("Contact", rows, operation="upsert", external_id_field=EXT)
    assert requests_to(sf_sandbox, "POST bulk2 ingest create") == 1
    assert [r.index for r in results] == list(range(120))
    assert {r.index for r in results if not r.success} == {3, 77, 119}
    assert results[77].codes == ["INVALID_EMAIL_ADDRESS"] and results[77].errors[0]["fields"] == ["Email"]
    by_ext = {r[EXT]: r["Id"] for r in sf_sandbox.app.store.rows("Contact")}
    assert all(results[i].id == by_ext[f"p{i}"] for i in range(120) if results[i].success)
    assert all(r.created for r in results if r.success)
    # the same upsert again updates in place
    rows[0]["LastName"] = "Again"
    again = client.write("Contact", rows, operation="upsert", external_id_field=EXT)
    assert again[0].success and again[0].created is False and again[0].id == results[0].id
    assert sf_sandbox.app.store.get("Contact", results[0].id)["LastName"] == "Again"


def test_bulk_insert_maps_results_back_without_a_key(sf_sandbox, client):
    rows = [{"LastName": f"Row {i}", "Email": None if i % 2 else f"r{i}@example.org"} for i in range(80)]
    rows[5]["Email"] = "broken"
    results = client.write("Contact", rows)
    assert requests_to(sf_sandbox, "POST bulk2 ingest create") == 1
    assert [r.success for r in results].count(False) == 1 and results[5].codes == ["INVALID_EMAIL_ADDRESS"]
    stored = {r["Id"]: r for r in sf_sandbox.app.store.rows("Contact")}
    for i in (0, 1, 79):
        assert stored[results[i].id]["LastName"] == f"Row {i}"
        assert stored[results[i].id].get("Email") == rows[i]["Email"]  # None went as #N/A: null


def test_bad_operation_and_missing_key_are_refused(client):
    with pytest.raises(ValueError):
        client.write("Contact", [{}], operation="merge")
    with pytest.raises(ValueError):
        client.write("Contact", [{}], operation="upsert")


def test_delete_by_id_reports_each_row_and_is_idempotent(sf_sandbox, client):
    ids = [sf_sandbox.app.store.create("Contact", {"LastName": f"Gone {i}"})["Id"] for i in range(3)]
    first = client.delete("Contact", ids[:2])
    assert [(r.index, r.success, r.id) for r in first] == [(0, True, ids[0]), (1, True, ids[1])]
    again = client.delete("Contact", ids)
    assert [r.success for r in again] == [False, False, True]
    assert again[0].codes == ["ENTITY_IS_DELETED"]
    assert {c["Id"] for c in sf_sandbox.app.store.rows("Contact")} == set()
