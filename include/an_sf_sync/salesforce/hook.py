"""Logging in through Airflow's ``SalesforceHook``, with TLS verified against a configurable CA.

The connection is the provider's own ``salesforce`` type (username, password, extra
``security_token``, ``domain`` …). One extra of ours: ``ca_bundle``, a path to a PEM file of CAs to
trust instead of the system's (the sandbox's own CA, or a corporate TLS proxy's). Verification is
never switched off.
"""

from __future__ import annotations

from collections.abc import Callable

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from .errors import SalesforceAuthError, SalesforceLoginUnavailableError
from .retry import login_refused

DEFAULT_CONN_ID = "salesforce_default"


class CABundleSession(requests.Session):
    """A session that verifies TLS against one CA bundle, whatever the environment says.

    Plain requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` override ``Session.verify``;
    here the configured bundle wins (a per-request ``verify=`` still does).
    """

    def __init__(self, ca_bundle: str) -> None:
        super().__init__()
        self.verify = ca_bundle

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None:
            settings["verify"] = self.verify
        return settings


def session_for(conn_id: str = DEFAULT_CONN_ID) -> requests.Session:
    """A requests session that verifies TLS against the connection's ``ca_bundle`` (if any)."""
    from airflow.sdk import BaseHook

    ca_bundle = BaseHook.get_connection(conn_id).extra_dejson.get("ca_bundle")
    return CABundleSession(str(ca_bundle)) if ca_bundle else requests.Session()


def login_error(conn_id: str, exc: SalesforceAuthenticationFailed) -> SalesforceAuthError:
    """Salesforce's refusal as an error that says which connection to fix, and how."""
    return SalesforceAuthError(
        f"Salesforce refused the login of Airflow connection {conn_id!r} ({exc.code}: {exc.message}). "
        "Check its username and password, the security_token extra (reset it in Salesforce under "
        "Settings > Reset My Security Token; it changes whenever the password does) and the domain "
        "extra ('login' for production, 'test' for a Salesforce sandbox, or your My Domain).")


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
