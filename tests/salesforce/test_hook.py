"""Login through the Airflow connection: TLS verified against the configured CA, clear auth errors."""

from __future__ import annotations

import pytest
import requests

from an_sf_sync.salesforce.client import SalesforceClient
from an_sf_sync.salesforce.errors import SalesforceAuthError, SalesforceLoginUnavailableError
from an_sf_sync.salesforce.hook import CABundleSession

from .support import connect, control, use_connection


def test_connection_logs_in_through_the_hook_with_the_sandbox_ca(sf_sandbox, monkeypatch):
    # an environment CA bundle (as many hosts set) must not replace the configured one
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    client = SalesforceClient.from_connection(use_connection(monkeypatch, sf_sandbox))
    assert client.sf.session.verify == str(sf_sandbox.ca_file)
    assert client.count("Contact") == 0


def test_without_the_ca_tls_verification_fails(sf_sandbox, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    with pytest.raises(requests.exceptions.SSLError):
        SalesforceClient.from_connection(use_connection(monkeypatch, sf_sandbox, ca_bundle=None))


def test_a_session_with_another_ca_fails_too(sf_sandbox):
    with pytest.raises(requests.exceptions.SSLError):
        CABundleSession(requests.certs.where()).get(sf_sandbox.url)


@pytest.mark.parametrize("change", [{"password": "wrong-password"}, {"security_token": "stale-token"}])
def test_rejected_login_names_the_connection_and_never_the_secrets(sf_sandbox, monkeypatch, change):
    conn_id = use_connection(monkeypatch, sf_sandbox, conn_id="salesforce_crm", **change)
    with pytest.raises(SalesforceAuthError) as raised:
        SalesforceClient.from_connection(conn_id)
    message = str(raised.value)
    assert "'salesforce_crm'" in message and "security_token" in message
    for secret in (sf_sandbox.password, sf_sandbox.security_token, *change.values()):
        assert secret not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


@pytest.mark.parametrize("outage", [{"kind": "SERVER_UNAVAILABLE"},
                                    {"status": 502, "body": HTML_502, "content_type": "text/html"},
                                    {"status": 500, "body": "<soapenv:Envelope xmlns:soapenv='http://schemas"
                                     ".xmlsoap.org/soap/envelope/'><soapenv:Body><soapenv:Fault><faultcode>"
                                     "sf:SERVER_UNAVAILABLE</faultcode><faultstring>down</faultstring>"
                                     "</soapenv:Fault></soapenv:Body></soapenv:Envelope>",
                                     "content_type": "text/xml"}])
def test_a_login_outage_is_retried_not_taken_for_a_wrong_password(sf_sandbox, monkeypatch, outage):
    control(sf_sandbox, "faults", {**outage, "count": 2, "path": "/services/Soap/u/"})
    client = connect(monkeypatch, sf_sandbox)  # the first login: two outages, then in
    assert client.count("Contact") == 0
    # logging in again after the session expired (Bulk: our own re-login; REST: simple-salesforce's)
    control(sf_sandbox, "expire-sessions")
    control(sf_sandbox, "faults", {**outage, "count": 2, "path": "/services/Soap/u/"})
    assert client.count("Contact") == 0
    control(sf_sandbox, "expire-sessions")
    control(sf_sandbox, "faults", {"kind": "INVALID_SESSION_ID", "path": r"/jobs/query$"})
    control(sf_sandbox, "faults", {**outage, "count": 2, "path": "/services/Soap/u/"})
    assert client.write("Contact", [{"LastName": "After"}], operation="insert")[0].success


def test_a_lasting_login_outage_is_reported_as_an_outage_and_never_blames_the_password(sf_sandbox, monkeypatch):
    control(sf_sandbox, "faults", {"kind": "SERVER_UNAVAILABLE", "count": 10, "path": "/services/Soap/u/"})
    with pytest.raises(SalesforceLoginUnavailableError) as raised:
        connect(monkeypatch, sf_sandbox)
    message = str(raised.value)
    assert "unavailable" in message and "password" not in message and "security_token" not in message
    assert not isinstance(raised.value, SalesforceAuthError)  # the DAG fails SalesforceAuthError at once
