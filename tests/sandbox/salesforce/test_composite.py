"""The Composite resource through unchanged simple-salesforce: several queries in one counted call."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


@pytest.fixture
def sf(sf_sandbox):
    return sf_sandbox.client()


def _query(q: str, kind: str = "query") -> str:
    return f"/services/data/v59.0/{kind}?{urlencode({'q': q})}"


def composite(sf, *urls: str) -> dict:
    body = {"compositeRequest": [{"method": "GET", "url": url, "referenceId": f"r{i}"} for i, url in enumerate(urls)]}
    return sf.restful("composite", method="POST", data=json.dumps(body))


def test_queries_answer_as_alone_and_count_once(sf, sf_sandbox):
    sf.Contact.create({"LastName": "Ada", "Email": "ada@example.org"})
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)
    calls = sf_sandbox.app.api_calls
    answer = composite(sf, _query("SELECT Id, LastName FROM Contact"),
                       _query("SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true", "queryAll"),
                       _query("SELECT Id FROM Campaign"))
    assert sf_sandbox.app.api_calls == calls + 1
    first, deleted, campaigns = answer["compositeResponse"]
    assert first["httpStatusCode"] == 200 and first["referenceId"] == "r0" and first["httpHeaders"] == {}
    alone = sf.query("SELECT Id, LastName FROM Contact")
    assert first["body"] == alone
    assert [r["Id"] for r in deleted["body"]["records"]] == [gone]
    assert campaigns["body"] == {"totalSize": 0, "done": True, "records": []}


def test_a_bad_subrequest_fails_alone(sf):
    bad, good = composite(sf, _query("SELECT Nope__c FROM Contact"), _query("SELECT Id FROM Contact"))[
        "compositeResponse"]
    assert bad["httpStatusCode"] == 400 and bad["body"][0]["errorCode"] == "INVALID_FIELD"
    assert good["httpStatusCode"] == 200


@pytest.mark.parametrize(("urls", "why"), [
    ([_query("SELECT Id FROM Contact")] * 6, "at most 5 query"),
    (["/services/data/v59.0/limits"] * 26, "at most 25 subrequests"),
])
def test_too_many_subrequests_are_refused_before_any_runs(sf, sf_sandbox, urls, why):
    calls = sf_sandbox.app.request_counts["GET query"]
    with pytest.raises(SalesforceMalformedRequest) as refused:
        composite(sf, *urls)
    (error,) = refused.value.content
    assert error["errorCode"] == "INVALID_INPUT" and why in error["message"]
    assert sf_sandbox.app.request_counts["GET query"] == calls
