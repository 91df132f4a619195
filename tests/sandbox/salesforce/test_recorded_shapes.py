"""The emulator's answers against responses recorded from, or documented for, the real Salesforce APIs.

Each file under ``tests/sandbox/recorded/salesforce/`` is one exchange transcribed from the sources
it names. Plain requests are replayed as written; the Bulk API 2.0 files are the steps of one
ingest job and one query job, run here in order (see :mod:`tests.sandbox.shapes`).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest
import requests

from an_sf_sync_dev.sandbox.http import SandboxServer
from an_sf_sync_dev.sandbox.salesforce.generator import generate
from an_sf_sync_dev.sandbox.salesforce.server import SalesforceApp
from tests.fixtures.salesforce import SF_PASSWORD, SF_SECURITY_TOKEN, SF_USERNAME, SalesforceSandbox
from tests.sandbox import shapes

RECORDED = shapes.load("salesforce")
VERSION = "v59.0"


@pytest.fixture(scope="module")
def sandbox(sf_tls: tuple[Path, ssl.SSLContext]) -> Iterator[SalesforceSandbox]:
    ca_file, context = sf_tls
    app = SalesforceApp(SF_USERNAME, SF_PASSWORD, SF_SECURITY_TOKEN)
    app.store.load(generate(contacts=300, seed=2))
    server = SandboxServer(app, ssl_context=context).start()
    try:
        yield SalesforceSandbox(app, server, ca_file)
    finally:
        server.stop()


LOGIN = ('<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
         '<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>{username}</n1:username>'
         '<n1:password>{password}</n1:password></n1:login></env:Body></env:Envelope>')


def _soap_login(sandbox: SalesforceSandbox, password: str) -> requests.Response:
    body = LOGIN.format(username=escape(sandbox.username), password=escape(password))
    return sandbox.session().post(f"{sandbox.url}/services/Soap/u/59.0", data=body.encode(),
                                  headers={"Content-Type": "text/xml", "SOAPAction": "login"}, timeout=10)


@pytest.fixture(scope="module")
def http(sandbox: SalesforceSandbox) -> requests.Session:
    login = _soap_login(sandbox, sandbox.password + sandbox.security_token)
    token = shapes.xml_shape(login.text)["Envelope"]["Body"]["loginResponse"]["result"]["sessionId"]
    session = sandbox.session()
    session.headers.update({"Authorization": f"Bearer {token}"})
    return session


def _bulk_ingest(sandbox: SalesforceSandbox, http: requests.Session) -> dict[str, requests.Response]:
    base = f"{sandbox.url}/services/data/{VERSION}/jobs/ingest"
    steps = {"create": http.post(base, json={"object": "Contact", "operation": "insert", "lineEnding": "LF"},
                                 timeout=10)}
    job = steps["create"].json()["id"]
    csv_body = 'LastName,Email\nSmith,smith.bulk@example.org\n"",nolast@example.org\n'
    steps["upload"] = http.put(f"{base}/{job}/batches", data=csv_body.encode(),
                               headers={"Content-Type": "text/csv"}, timeout=10)
    steps["close"] = http.patch(f"{base}/{job}", json={"state": "UploadComplete"}, timeout=10)
    steps["info"] = _poll(http, f"{base}/{job}")
    for kind in ("successfulResults", "failedResults", "unprocessedrecords"):
        steps[kind] = http.get(f"{base}/{job}/{kind}", timeout=10)
    return steps


def _bulk_query(sandbox: SalesforceSandbox, http: requests.Session) -> dict[str, requests.Response]:
    base = f"{sandbox.url}/services/data/{VERSION}/jobs/query"
    steps = {"create": http.post(base, json={"operation": "query", "query": "SELECT Id, LastName FROM Contact"},
                                 timeout=10)}
    job = steps["create"].json()["id"]
    steps["info"] = _poll(http, f"{base}/{job}")
    steps["results"] = http.get(f"{base}/{job}/results", params={"maxRecords": 100}, timeout=10)
    return steps


def _bulk1(sandbox: SalesforceSandbox, http: requests.Session) -> dict[str, requests.Response]:
    """Bulk API 1.0 as simple-salesforce drives it for Airflow: JSON job, one batch, closed."""
    base = f"{sandbox.url}/services/async/59.0/job"
    token = http.headers["Authorization"].split()[-1]
    headers = {"X-SFDC-Session": token, "Content-Type": "application/json"}
    session = sandbox.session()
    steps = {"create": session.post(base, json={"operation": "insert", "object": "Contact", "contentType": "JSON"},
                                    headers=headers, timeout=10)}
    job = steps["create"].json()["id"]
    steps["batch"] = session.post(f"{base}/{job}/batch", json=[{"LastName": "Bulk"}, {"FirstName": "NoLast"}],
                                  headers=headers, timeout=10)
    batch = steps["batch"].json()["id"]
    steps["close"] = session.post(f"{base}/{job}", json={"state": "Closed"}, headers=headers, timeout=10)
    deadline = time.monotonic() + 10
    while True:
        steps["batch info"] = session.get(f"{base}/{job}/batch/{batch}", headers=headers, timeout=10)
        if steps["batch info"].json()["state"] in ("Completed", "Failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    steps["result"] = session.get(f"{base}/{job}/batch/{batch}/result", headers=headers, timeout=10)
    return steps


def _poll(http: requests.Session, url: str) -> requests.Response:
    deadline = time.monotonic() + 10
    while True:
        answer = http.get(url, timeout=10)
        if answer.json().get("state") in ("JobComplete", "Failed", "Aborted") or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


@pytest.fixture(scope="module")
def flows(sandbox: SalesforceSandbox, http: requests.Session) -> dict[str, dict[str, requests.Response]]:
    return {"bulk2 ingest": _bulk_ingest(sandbox, http), "bulk2 query": _bulk_query(sandbox, http),
            "bulk1": _bulk1(sandbox, http)}


def _replay(recorded: shapes.Recorded, sandbox: SalesforceSandbox, http: requests.Session,
            flows: dict[str, dict[str, requests.Response]]) -> requests.Response:
    request = recorded.request
    if request["method"] == "flow":
        return flows[request["path"].split(":")[0]][request["step"]]
    if "soap" in request:
        good = sandbox.password + sandbox.security_token
        return _soap_login(sandbox, good if request["soap"] == "login" else "wrong")
    if "oauth" in request:
        return sandbox.session().post(f"{sandbox.url}/{request['path']}", timeout=10, data={
            "grant_type": "password", "client_id": sandbox.app.auth.credentials.consumer_key,
            "client_secret": sandbox.app.auth.credentials.consumer_secret, "username": sandbox.username,
            "password": sandbox.password + sandbox.security_token})
    session = sandbox.session() if request.get("session") == "expired" else http
    headers = {"Authorization": "Bearer 00Dexpired!token"} if request.get("session") == "expired" else {}
    contact = next(iter(sandbox.app.store.rows("Contact")))["Id"]
    path = request["path"].replace("{contact_id}", contact)
    return session.request(request["method"], f"{sandbox.url}/{path}", json=request.get("body"),
                           headers={**headers, **request.get("headers", {})}, timeout=10)


@pytest.mark.parametrize("recorded", RECORDED, ids=shapes.ids(RECORDED))
def test_answer_has_the_recorded_shape(recorded: shapes.Recorded, sandbox: SalesforceSandbox,
                                       http: requests.Session, flows: dict[str, dict[str, requests.Response]]) -> None:
    response = _replay(recorded, sandbox, http, flows)

    assert response.status_code == recorded.status, response.text[:500]
    content_type = response.headers.get("Content-Type", "").split(";")[0]
    if recorded.content_type:
        assert content_type == recorded.content_type
    for header in recorded.headers:
        assert header in response.headers
    if recorded.body is None:
        assert not response.content
        return
    diffs = recorded.compare(shapes.body_shape(content_type, response.text))
    assert not diffs, "\n".join(diffs)

