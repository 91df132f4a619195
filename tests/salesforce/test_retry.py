"""Transient failures are retried (REST and Bulk), an expired session is renewed, the daily limit stops."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceGeneralError

from an_sf_sync.salesforce.client import SalesforceClient
from an_sf_sync.salesforce.errors import SalesforceApiLimitError

from .support import FAST, control, requests_to
from .test_reads import ALL, load_contacts, read_all
from .test_writes import EXT, contacts


def fault(sandbox, kind, *, count=1, path="", method=""):
    control(sandbox, "faults", {"kind": kind, "count": count, "path": path, "method": method})


@pytest.mark.parametrize("kind", ["UNABLE_TO_LOCK_ROW", "SERVER_ERROR", "SERVER_UNAVAILABLE"])
def test_rest_query_is_retried(sf_sandbox, client, kind):
    load_contacts(sf_sandbox, 10)
    fault(sf_sandbox, kind, count=2, path="/queryAll")
    _, rows = read_all(client, window=ALL, include_deleted=True)
    assert len(rows) == 10
    assert requests_to(sf_sandbox, "GET queryAll") == 1  # the faults never reached a route


@pytest.mark.parametrize("kind,path", [("SERVER_ERROR", r"/jobs/query/[^/]+/results"),
                                       ("UNABLE_TO_LOCK_ROW", r"/jobs/query$"),
                                       ("SERVER_UNAVAILABLE", r"/jobs/query/[^/]+$")])
def test_bulk_query_is_retried(sf_sandbox, client, kind, path):
    load_contacts(sf_sandbox, 60)
    fault(sf_sandbox, kind, path=path)
    _, rows = read_all(client, window=ALL)
    assert len(rows) == 60
    assert requests_to(sf_sandbox, "POST bulk2 query create") == 1


@pytest.mark.parametrize("kind,path", [("SERVER_UNAVAILABLE", r"/batches$"),
                                       ("UNABLE_TO_LOCK_ROW", r"/jobs/ingest$"),
                                       ("SERVER_ERROR", r"/successfulResults$")])
def test_bulk_upsert_is_retried(sf_sandbox, client, kind, path):
    fault(sf_sandbox, kind, path=path)
    results = client.write("Contact", contacts(60), operation="upsert", external_id_field=EXT)
    assert all(r.success for r in results)
    assert len(sf_sandbox.app.store.rows("Contact")) == 60


def test_a_server_error_on_an_upload_reruns_the_whole_upsert_job(sf_sandbox, client):
    fault(sf_sandbox, "SERVER_ERROR", path=r"/batches$")
    results = client.write("Contact", contacts(60), operation="upsert", external_id_field=EXT)
    assert all(r.success for r in results)
    assert requests_to(sf_sandbox, "POST bulk2 ingest create") == 2  # first job aborted


def test_collections_lock_errors_are_retried_but_an_insert_is_not_repeated_blindly(sf_sandbox, make_client):
    client = make_client(write_bulk_threshold=1000)
    fault(sf_sandbox, "UNABLE_TO_LOCK_ROW", path="/composite/sobjects")
    assert all(r.success for r in client.write("Contact", contacts(3)))
    # a 500 may have come after Salesforce saved the rows: an insert is not sent again
    fault(sf_sandbox, "SERVER_ERROR", path="/composite/sobjects")
    with pytest.raises(SalesforceGeneralError):
        client.write("Contact", contacts(3, prefix="q"))
    # an upsert is safe to repeat
    fault(sf_sandbox, "SERVER_ERROR", path="/composite/sobjects")
    assert all(r.success for r in client.write("Contact", contacts(3, prefix="q"), operation="upsert",
                                               external_id_field=EXT))


def test_retries_are_bounded(sf_sandbox, client):
    fault(sf_sandbox, "SERVER_UNAVAILABLE", count=10, path="/query")
    with pytest.raises(SalesforceGeneralError):
        client.count("Contact")
    assert client.calls_made == FAST["retry"].attempts


def test_expired_sessions_are_renewed_on_rest_and_bulk(sf_sandbox, client):
    load_contacts(sf_sandbox, 60)
    control(sf_sandbox, "expire-sessions")
    _, rows = read_all(client, window=ALL)  # COUNT() over REST, then the Bulk query
    assert len(rows) == 60
    fault(sf_sandbox, "INVALID_SESSION_ID", path=r"/jobs/query$")  # Bulk: simple-salesforce never renews
    assert len(read_all(client, window=ALL)[1]) == 60
    fault(sf_sandbox, "INVALID_SESSION_ID", path=r"/batches$")
    results = client.write("Contact", contacts(60), operation="upsert", external_id_field=EXT)
    assert all(r.success for r in results)


def test_without_a_way_to_log_in_again_bulk_session_expiry_is_an_error(sf_sandbox):
    client = SalesforceClient(sf_sandbox.client(), **FAST)
    load_contacts(sf_sandbox, 60)
    fault(sf_sandbox, "INVALID_SESSION_ID", path=r"/jobs/query$")
    with pytest.raises(SalesforceExpiredSession):
        read_all(client, window=ALL)


def test_daily_limit_stops_without_retrying(sf_sandbox, client):
    load_contacts(sf_sandbox, 5)
    client.count("Contact")
    control(sf_sandbox, "limits", {"daily_api_limit": sf_sandbox.app.api_calls})
    calls = client.calls_made
    with pytest.raises(SalesforceApiLimitError) as raised:
        read_all(client, window=ALL)
    assert client.calls_made == calls + 1
    message = str(raised.value)
    assert "daily API request limit" in message and "'salesforce_default'" in message
    assert "next run resumes" in message


def test_concurrent_request_limit_is_transient(sf_sandbox, client):
    control(sf_sandbox, "faults", {"status": 403, "path": "/query", "body": [
        {"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]})
    assert client.count("Contact") == 0


def test_a_response_lost_after_the_write_was_applied(sf_sandbox, client):
    # the emulator saves the rows, then answers 500: the insert is not repeated, nothing is doubled
    control(sf_sandbox, "faults", {"kind": "SERVER_ERROR", "path": "/composite/sobjects", "after": True})
    with pytest.raises(SalesforceGeneralError):
        client.write("Contact", contacts(3, prefix="lost"))
    assert sorted(c["Email"] for c in sf_sandbox.app.store.rows("Contact")) == [f"lost{i}@example.org" for i in range(3)]
    # an upsert whose answer is lost is repeated, and finds the rows it saved
    control(sf_sandbox, "faults", {"kind": "SERVER_ERROR", "path": "/composite/sobjects", "after": True})
    assert all(r.success and not r.created for r in client.write("Contact", contacts(3, prefix="lost"),
                                                                   operation="upsert", external_id_field=EXT))
    assert len(sf_sandbox.app.store.rows("Contact")) == 3
