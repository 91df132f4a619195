"""Logging in through Airflow's ``SalesforceHook``, with TLS verified against a configurable CA.

The connection is the provider's own ``salesforce`` type, and the login is the provider's (through
simple-salesforce), chosen by which fields are set:

- **JWT bearer** (recommended): username, extras ``consumer_key`` and ``private_key`` (or
  ``private_key_file_path``) of an External Client App whose certificate holds the public key;
- **client credentials**: extras ``consumer_key``, ``consumer_secret`` and ``domain`` (your My Domain,
  e.g. ``acme.my``), the app running as its designated user;
- **legacy**: username, password and extra ``security_token`` — Salesforce's SOAP API ``login()``,
  disabled in new orgs, absent from API 65.0 on, and retired with the Summer '27 release.

One extra of ours: ``ca_bundle``, a path to a PEM file of CAs to trust instead of the system's (the
sandbox's own CA, or a corporate TLS proxy's). Verification is never switched off.
"""

from __future__ import annotations

from collections.abc import Callable

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from .errors import SalesforceAuthError, SalesforceLoginUnavailableError
from .transient import login_refused

DEFAULT_CONN_ID = "salesforce_default"
SOAP_LOGIN_ENDS = "Summer '27 release (announced for June 2027)"
LOGIN_FLOWS = {
    "jwt": "OAuth JWT bearer (External Client App)",
    "client_credentials": "OAuth client credentials (External Client App)",
    "oauth_password": "OAuth username-password (legacy)",
    "soap": "username, password and security token (SOAP API login(), legacy)",
    "incomplete": "no complete set of login fields",
}
LEGACY_FLOWS = {"soap", "oauth_password"}
MIGRATE_ADVICE = (
    "Create an External Client App with OAuth (JWT bearer flow with a certificate, or client credentials) "
    "and move the connection to it: see the README, 'Salesforce login'. SOAP API login() is disabled in new "
    f"orgs, absent from API 65.0 and retired with Salesforce's {SOAP_LOGIN_ENDS}.")


class CABundleSession(requests.Session):
    """A session that verifies TLS against one CA bundle, whatever the environment says.

    Plain requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` override ``Session.verify``;
    here the configured bundle wins (a per-request ``verify=`` still does).
    """

    def __init__(self, ca_bundle: str) -> None:
        super().__init__()
        self.verify = ca_bundle

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None:
            settings["verify"] = self.verify
        return settings


def session_for(conn_id: str = DEFAULT_CONN_ID) -> requests.Session:
    """A requests session that verifies TLS against the connection's ``ca_bundle`` (if any)."""
    from airflow.sdk import BaseHook

    ca_bundle = BaseHook.get_connection(conn_id).extra_dejson.get("ca_bundle")
    return CABundleSession(str(ca_bundle)) if ca_bundle else requests.Session()


def login_flow(conn_id: str = DEFAULT_CONN_ID) -> str:
    """Which login simple-salesforce makes for the connection's fields (a key of ``LOGIN_FLOWS``).

    The same order as ``simple_salesforce.login.SalesforceLogin``: the first complete set wins.
    """
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson

    def has(*keys: str) -> bool:
        return all(extra.get(key) not in (None, "") for key in keys)

    user, password = bool(conn.login), bool(conn.password)
    if user and password and (has("security_token") or has("organization_id")):
        return "soap"
    if user and password and has("consumer_key", "consumer_secret"):
        return "oauth_password"
    if user and has("consumer_key") and (has("private_key") or has("private_key_file_path")):
        return "jwt"
    if has("consumer_key", "consumer_secret") and extra.get("domain") not in (None, "", "login", "test"):
        return "client_credentials"
    return "incomplete"


LOGIN_ADVICE = {
    "jwt": ("Check the extras consumer_key (the External Client App's consumer key) and private_key (or "
            "private_key_file_path; it must match the certificate uploaded to the app), that the user is "
            "pre-authorized for the app (admin-approved users, through their profile or a permission set) and "
            "the domain extra ('login', 'test' or your My Domain)."),
    "client_credentials": ("Check the extras consumer_key and consumer_secret, that the External Client App "
                           "has the client credentials flow enabled with a Run As user, and that the domain "
                           "extra is your My Domain (for example 'acme.my'), not 'login' or 'test'."),
    "incomplete": ("The connection has no complete login: set the extras of an External Client App (see the "
                   "README, 'Salesforce login')."),
}
LEGACY_ADVICE = (
    "Check its username and password, the security_token extra (reset it in Salesforce under Settings > "
    "Reset My Security Token; it changes whenever the password does) and the domain extra ('login' for "
    "production, 'test' for a Salesforce sandbox, or your My Domain).")


def login_error(conn_id: str, exc: SalesforceAuthenticationFailed) -> SalesforceAuthError:
    """Salesforce's refusal as an error that says which connection to fix, and how (by login flow)."""
    flow = login_flow(conn_id)
    if flow in LEGACY_FLOWS:
        advice = MIGRATE_ADVICE if exc.code == "INVALID_OPERATION" else f"{LEGACY_ADVICE} {MIGRATE_ADVICE}"
    else:
        advice = LOGIN_ADVICE[flow]
    return SalesforceAuthError(f"Salesforce refused the login of Airflow connection {conn_id!r} with "
                               f"{LOGIN_FLOWS[flow]} ({exc.code}: {exc.auth_message}). {advice}")


def connector(conn_id: str = DEFAULT_CONN_ID, session: requests.Session | None = None
              ) -> Callable[[], Salesforce]:
    """A function that logs in afresh on every call (the first login, and after session expiry)."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    session = session or session_for(conn_id)

    def login() -> Salesforce:
        try:
            return SalesforceHook(salesforce_conn_id=conn_id, session=session).get_conn()
        except SalesforceAuthenticationFailed as exc:
            if login_refused(exc):
                raise login_error(conn_id, exc) from None
            raise SalesforceLoginUnavailableError(
                f"Salesforce could not log in Airflow connection {conn_id!r} just now ({exc.code}: "
                f"{exc.auth_message[:200] or 'no error message'}): Salesforce is unavailable, the "
                "credentials were not refused. Retried; nothing needs fixing.") from None

    return login
