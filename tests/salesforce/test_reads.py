"""Windowed reads over REST and Bulk API 2.0 against the emulator, through SalesforceHook."""

from __future__ import annotations

from datetime import timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from an_sf_sync.salesforce.client import Read
from an_sf_sync.window import Window

from .support import T0, requests_to

FIELDS = ["Id", "LastName", "Email", "IsDeleted", "SystemModstamp"]
ALL = Window(None, T0 + timedelta(days=3650))


def load_contacts(sandbox, n, *, at=T0, prefix="c"):
    sandbox.app.store.load({"Contact": ({"LastName": f"{prefix}{i}", "Email": f"{prefix}{i}@example.org",
                                         "SystemModstamp": at + timedelta(minutes=i)} for i in range(n))})


def read_all(client, sobject="Contact", fields=FIELDS, **kwargs):
    chunks = list(client.read(sobject, fields, **kwargs))
    return chunks, [r for chunk in chunks for r in chunk]


def test_small_windows_read_over_rest_with_flat_records(sf_sandbox, client):
    load_contacts(sf_sandbox, 30)
    chunks, rows = read_all(client, window=ALL)
    assert len(rows) == 30 and len(chunks) == 1
    assert requests_to(sf_sandbox, "POST bulk2 query create") == 0
    assert set(rows[0]) == set(FIELDS)  # no "attributes"
    assert rows[0]["IsDeleted"] is False


def test_large_windows_read_over_bulk_in_bounded_chunks(sf_sandbox, client):
    load_contacts(sf_sandbox, 130)
    chunks, rows = read_all(client, window=ALL)
    assert requests_to(sf_sandbox, "POST bulk2 query create") == 1
    assert requests_to(sf_sandbox, "GET query") == 1  # only the first page, which tells the total, went over REST
    assert [len(c) for c in chunks] == [40, 40, 40, 10]
    assert sorted(r["LastName"] for r in rows) == sorted(f"c{i}" for i in range(130))
    assert rows[0]["IsDeleted"] is False  # CSV "false" typed back from describe


def test_bulk_result_pages_are_followed(sf_sandbox, make_client):
    load_contacts(sf_sandbox, 130)
    client = make_client(page_rows=50)
    _, rows = read_all(client, window=ALL)
    assert len({r["Id"] for r in rows}) == 130
    assert requests_to(sf_sandbox, "GET bulk2 query results") == 3


def test_rest_pages_are_followed(sf_sandbox, make_client):
    load_contacts(sf_sandbox, 2100)
    client = make_client(bulk_threshold=10_000)
    chunks, rows = read_all(client, window=ALL)
    assert [len(c) for c in chunks] == [2000, 100]
    assert len({r["Id"] for r in rows}) == 2100
    assert client.calls_made == 2  # the first page (which tells the total), one more page


def test_window_is_half_open_on_system_modstamp(sf_sandbox, client):
    load_contacts(sf_sandbox, 10)  # SystemModstamp T0 + i minutes
    _, rows = read_all(client, window=Window(T0 + timedelta(minutes=3), T0 + timedelta(minutes=7)))
    assert sorted(r["LastName"] for r in rows) == ["c3", "c4", "c5", "c6"]


def test_deleted_rows_come_only_with_include_deleted(sf_sandbox, client):
    load_contacts(sf_sandbox, 5)
    victim = sf_sandbox.app.store.rows("Contact")[0]["Id"]
    sf_sandbox.app.store.delete("Contact", victim)
    _, live = read_all(client, window=ALL)
    _, every = read_all(client, window=ALL, include_deleted=True)
    assert victim not in {r["Id"] for r in live}
    assert {r["Id"]: r["IsDeleted"] for r in every}[victim] is True
    assert len(every) == 5


def test_deleted_rows_over_bulk(sf_sandbox, client):
    load_contacts(sf_sandbox, 60)
    victim = sf_sandbox.app.store.rows("Contact")[0]["Id"]
    sf_sandbox.app.store.delete("Contact", victim)
    _, every = read_all(client, window=ALL, include_deleted=True)
    assert requests_to(sf_sandbox, "POST bulk2 query create") == 1
    assert {r["Id"]: r["IsDeleted"] for r in every}[victim] is True


def test_parent_fields_are_flattened_on_both_paths(sf_sandbox, client):
    store = sf_sandbox.app.store
    parent = store.create("Campaign", {"Name": "Parent"})["Id"]
    store.load({"Campaign": ({"Name": f"child {i}", "ParentId": parent} for i in range(3))})
    _, rest = read_all(client, "Campaign", ["Id", "Name", "Parent.Name"], where="ParentId = {p}",
                       params={"p": parent})
    store.load({"Campaign": ({"Name": f"more {i}", "ParentId": parent} for i in range(60))})
    _, via_bulk = read_all(client, "Campaign", ["Id", "Name", "Parent.Name"], where="ParentId = {p}",
                           params={"p": parent})
    assert {r["Parent.Name"] for r in rest} == {"Parent"} and len(rest) == 3
    assert {r["Parent.Name"] for r in via_bulk} == {"Parent"} and len(via_bulk) == 63
    assert requests_to(sf_sandbox, "POST bulk2 query create") == 1


def test_calls_and_api_usage_are_tracked(sf_sandbox, client):
    load_contacts(sf_sandbox, 130)
    before = sf_sandbox.app.api_calls
    read_all(client, window=ALL)
    assert client.calls_made == sf_sandbox.app.api_calls - before
    assert client.api_usage.used == sf_sandbox.app.api_calls
    assert client.api_usage.total == sf_sandbox.app.daily_api_limit


def test_records_are_keyed_as_requested_and_null_parents_read_as_none(sf_sandbox, make_client):
    sf_sandbox.app.store.load({"Campaign": ({"Name": f"orphan {i}"} for i in range(60))})
    fields = ["id", "NAME", "Parent.Name"]
    for client in (make_client(), make_client(bulk_threshold=10_000)):
        _, rows = read_all(client, "Campaign", fields)
        assert len(rows) == 60
        assert all(set(r) == set(fields) and r["Parent.Name"] is None for r in rows)


def test_many_reads_start_with_one_call_per_five(sf_sandbox, make_client):
    load_contacts(sf_sandbox, 30)
    load_contacts(sf_sandbox, 2100, prefix="big", at=T0 + timedelta(days=1))
    client = make_client(bulk_threshold=10_000)
    early = Window(None, T0 + timedelta(hours=1))  # the first 30 contacts' first hour: 30 of them
    reads = [Read("Contact", FIELDS, window=ALL)] + [Read("Contact", FIELDS, window=early)] * 5
    started = client.read_many(reads)
    assert client.calls_made == 2  # two Composite requests: five first pages, then one
    everything = [r for chunk in started[0] for r in chunk]
    assert len({r["Id"] for r in everything}) == 2130 and client.calls_made == 3  # one more REST page
    assert all(sorted(r["LastName"] for chunk in read for r in chunk) == sorted(f"c{i}" for i in range(30))
               for read in started[1:])
    assert client.calls_made == 3


def test_many_reads_fail_as_one_read_would(client):
    with pytest.raises(SalesforceMalformedRequest):
        client.read_many([Read("Contact", ["Id", "Nope__c"], window=ALL)])
