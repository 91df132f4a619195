"""Logins (SOAP, OAuth password / client credentials / JWT), sessions, expiry and re-login, API budget."""

from __future__ import annotations

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceRefusedRequest,
)


def test_soap_login_through_domain_trick(sf_sandbox):
    sf = sf_sandbox.client()
    assert sf.sf_instance == f"127.0.0.1:{sf_sandbox.server.port}"
    assert sf.session_id in sf_sandbox.app.sessions._tokens
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
    assert sf_sandbox.app.request_counts["POST soap login"] == 1


def test_soap_login_bad_password_is_the_real_fault(sf_sandbox):
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        Salesforce(username=sf_sandbox.username, password="wrong", security_token=sf_sandbox.security_token,
                   domain=sf_sandbox.domain, session=sf_sandbox.session())
    assert err.value.code == "INVALID_LOGIN"
    assert "Invalid username, password, security token" in str(err.value)
    raw = sf_sandbox.session().post(f"{sf_sandbox.url}/services/Soap/u/59.0", data=b"<x/>")
    assert raw.status_code == 500 and "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in raw.text


def test_oauth_password_and_client_credentials(sf_sandbox):
    app = sf_sandbox.app
    key, secret = app.auth.credentials.consumer_key, app.auth.credentials.consumer_secret
    token_domain = f"127.0.0.1:{sf_sandbox.server.port}/services/oauth2/token?x="
    sf = Salesforce(username=sf_sandbox.username, password=sf_sandbox.password, consumer_key=key,
                    consumer_secret=secret, domain=token_domain, session=sf_sandbox.session())
    assert sf.Contact.create({"LastName": "OAuth"})["success"] is True
    cc = Salesforce(consumer_key=key, consumer_secret=secret, domain=token_domain, session=sf_sandbox.session())
    assert cc.query("SELECT Id FROM Contact")["totalSize"] == 1
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        Salesforce(consumer_key=key, consumer_secret="nope", domain=token_domain, session=sf_sandbox.session())
    assert err.value.code == "invalid_client"
    bad = sf_sandbox.session().post(f"{sf_sandbox.url}/services/oauth2/token",
                                    data={"grant_type": "password", "client_id": "who"})
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_client_id",
                                                     "error_description": "client identifier invalid"}


def test_oauth_jwt_bearer_with_string_exp(sf_sandbox):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    token_domain = f"127.0.0.1:{sf_sandbox.server.port}/services/oauth2/token?x="
    sf = Salesforce(username=sf_sandbox.username, consumer_key=sf_sandbox.app.auth.credentials.consumer_key,
                    privatekey=pem, domain=token_domain, session=sf_sandbox.session())
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    with pytest.raises(SalesforceAuthenticationFailed), pytest.warns(UserWarning, match="authorize"):
        Salesforce(username="someone@else.org", consumer_key=sf_sandbox.app.auth.credentials.consumer_key,
                   privatekey=pem, domain=token_domain, session=sf_sandbox.session())


def test_invalid_session_is_a_json_list_401(sf_sandbox):
    response = sf_sandbox.session().get(f"{sf_sandbox.url}/services/data/v59.0/limits/",
                                        headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert sf_sandbox.app.api_calls == 0  # refused calls do not count


def test_expired_session_is_refreshed_by_simple_salesforce(sf_sandbox):
    sf = sf_sandbox.client()
    first = sf.session_id
    created = sf.Contact.create({"LastName": "Before"})
    requests.post(f"{sf_sandbox.url}/__sandbox__/expire-sessions", verify=str(sf_sandbox.ca_file))
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 1  # Salesforce.* re-logins on 401
    assert sf.session_id != first
    sf_sandbox.app.expire_sessions()
    assert sf.Contact.get(created["id"])["LastName"] == "Before"  # SFType.* too
    assert sf_sandbox.app.request_counts["POST soap login"] == 3


def test_direct_session_does_not_refresh(sf_sandbox):
    token = sf_sandbox.client().session_id
    sf = Salesforce(instance_url=sf_sandbox.url, session_id=token, session=sf_sandbox.session())
    sf_sandbox.app.expire_sessions()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Contact")


def test_limit_info_header_and_daily_limit(sf_sandbox):
    sf = sf_sandbox.client()
    sf.query("SELECT Id FROM Contact")
    assert sf.api_usage["api-usage"].used == 1
    assert sf.api_usage["api-usage"].total == 100_000
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 100_000, "Remaining": 100_000 - 2}
    sf_sandbox.app.daily_api_limit = 3
    sf.query("SELECT Id FROM Contact")  # the third call is still within the budget
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.status == 403
    assert err.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert sf_sandbox.app.api_calls == 3


def test_control_path_seeds_inspects_injects_and_resets(sf_sandbox):
    control = sf_sandbox.session()
    base = f"{sf_sandbox.url}/__sandbox__"
    seeded = control.post(f"{base}/seed", json={"contacts": 40, "seed": 5}).json()
    assert seeded["loaded"]["Contact"] == 40
    made = control.post(f"{base}/seed", json={"records": {"Lead": [{"LastName": "L", "Company": "Co"}]}}).json()
    assert made["ids"]["Lead"][0].startswith("00Q")
    assert control.post(f"{base}/seed", json={"records": {"Lead": [{"Company": "Co"}]}}).status_code == 400
    records = control.get(f"{base}/records/Lead").json()
    assert records["totalSize"] == 1 and records["records"][0]["Name"] == "L"
    fields = control.post(f"{base}/custom-fields", json={"Contact": {"Notes__c": "textarea", "Employer__c": None}})
    assert "Notes__c" in fields.json()["Contact"] and "Employer__c" not in fields.json()["Contact"]
    sf = sf_sandbox.client()
    assert control.post(f"{base}/faults", json={"kind": "UNABLE_TO_LOCK_ROW", "count": 2}).json() == {"queued": 2}
    with pytest.raises(Exception) as err:
        sf.query("SELECT Id FROM Lead")
    assert err.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    control.delete(f"{base}/faults")
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 1
    state = control.get(f"{base}/state").json()
    assert state["counts"]["Contact"] == 40 and state["api_calls"] == 1 and state["requests"]["GET query"] == 1
    control.post(f"{base}/limits", json={"daily_api_limit": 1})
    with pytest.raises(SalesforceRefusedRequest):
        sf.query("SELECT Id FROM Lead")
    reset = control.post(f"{base}/reset").json()
    assert reset["counts"]["Contact"] == 0 and reset["api_calls"] == 0


def test_an_org_with_soap_login_disabled_refuses_it_and_api_65_has_none(sf_sandbox):
    sf_sandbox.app.auth.soap_login_enabled = False
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        sf_sandbox.client()
    assert err.value.code == "INVALID_OPERATION" and "login() is disabled" in str(err.value)
    sf_sandbox.app.auth.soap_login_enabled = True
    domain_65 = f"127.0.0.1:{sf_sandbox.server.port}/services/Soap/u/65.0?x="
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        Salesforce(username=sf_sandbox.username, password=sf_sandbox.password, security_token=sf_sandbox.security_token,
                   domain=domain_65, version="65.0", session=sf_sandbox.session())
    assert err.value.code == "INVALID_OPERATION" and "API version 65.0" in str(err.value)
    assert sf_sandbox.client(version="64.0").query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_jwt_bearer_is_verified_against_the_apps_certificate(sf_sandbox, app_keys):
    sf_sandbox.app.auth.jwt_certificate = app_keys.certificate
    token_domain = f"127.0.0.1:{sf_sandbox.server.port}/services/oauth2/token?x="
    consumer_key = sf_sandbox.app.auth.credentials.consumer_key
    sf = Salesforce(username=sf_sandbox.username, consumer_key=consumer_key, privatekey=app_keys.private_key,
                    domain=token_domain, session=sf_sandbox.session())
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        Salesforce(username=sf_sandbox.username, consumer_key=consumer_key, privatekey=other, domain=token_domain,
                   session=sf_sandbox.session())
    assert err.value.code == "invalid_grant" and "invalid assertion" in str(err.value)
