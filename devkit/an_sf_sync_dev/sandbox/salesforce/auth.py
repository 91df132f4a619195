"""Logins (SOAP partner ``login`` and the OAuth 2.0 token endpoint) and the sessions they issue.

Both endpoints ignore the query string, so simple-salesforce's ``domain`` can be pointed at
``HOST:PORT/services/Soap/u/59.0?x=`` or ``HOST:PORT/services/oauth2/token?x=`` (reference §1.10).
Sessions never expire on their own; tests expire them all at once through the control path.

JWT bearer assertions: ``iss`` must be the consumer key, ``sub`` the username, and ``exp`` (a string
or a number) in the future. With the External Client App's certificate configured
(``jwt_certificate``, PEM) the RS256 signature is verified against its public key, as Salesforce
does; without one the signature is not checked.

SOAP ``login()`` can be switched off (``soap_login_enabled = False``), as it is by default in orgs
created since Salesforce began retiring it, and it is absent from API 65.0 on. UNCONFIRMED: the
exact fault Salesforce returns in either case is not published; the emulator answers the login fault
shape with ``INVALID_OPERATION`` and a message naming the cause.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qs

from ..http import Request, Response
from .ids import make_id

ORG_ID = make_id("00D", 1)
SOAP_LOGIN_REMOVED_IN = 65.0
ORG_NAME = "Sandbox Org"
PROFILE_ID = make_id("00e", 1)  # System Administrator
USER_FULL_NAME = "Sandbox Integration User"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    security_token: str
    consumer_key: str
    consumer_secret: str


class Sessions:
    """Issued access tokens; thread-safe."""

    def __init__(self) -> None:
        self._tokens: set[str] = set()
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(72)}"
        with self._lock:
            self._tokens.add(token)
        return token

    def valid(self, token: str | None) -> bool:
        return token is not None and token in self._tokens

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count

    def __len__(self) -> int:
        return len(self._tokens)


class Auth:
    def __init__(self, credentials: Credentials, sessions: Sessions, user_id: str) -> None:
        self.credentials, self.sessions, self.user_id = credentials, sessions, user_id
        self.soap_login_enabled = True
        self.jwt_certificate: bytes | None = None  # the External Client App's certificate (PEM)

    # ------------------------------------------------------------------------------------- SOAP
    def soap_login(self, request: Request) -> Response:
        version = request.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            removed = float(version) >= SOAP_LOGIN_REMOVED_IN
        except ValueError:
            removed = False
        if removed:
            return soap_fault("INVALID_OPERATION", f"SOAP API login() is not available in API version {version} "
                               "and later versions. Use OAuth through an External Client App.")
        if not self.soap_login_enabled:
            return soap_fault("INVALID_OPERATION", "SOAP API login() is disabled in this org. An administrator "
                               "can enable it, or use OAuth through an External Client App.")
        try:
            root = ET.fromstring(request.body)
        except ET.ParseError:
            return soap_fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
        username = _text(root, "username")
        password = _text(root, "password")
        scoped = any(el.tag.endswith("LoginScopeHeader") for el in root.iter())
        c = self.credentials
        if username != c.username or password not in (c.password + c.security_token,
                                                      *((c.password,) if scoped else ())):
            return soap_fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
        version = request.path.rstrip("/").rsplit("/", 1)[-1]
        base = request.base_url
        session = self.sessions.issue()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns="urn:partner.soap.sforce.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>'
            f"<metadataServerUrl>{base}/services/Soap/m/{version}/{ORG_ID[:15]}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{base}/services/Soap/u/{version}/{ORG_ID[:15]}</serverUrl>"
            f"<sessionId>{escape(session)}</sessionId><userId>{self.user_id}</userId>"
            f"<userInfo>{self._user_info()}</userInfo>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return Response.text(body, content_type="text/xml")

    def _user_info(self) -> str:
        """The partner API's GetUserInfoResult, every element, in WSDL order (a single-currency org, no role)."""
        elements = (
            ("accessibilityMode", "false"), ("chatterExternal", "false"), ("currencySymbol", "$"),
            ("orgAttachmentFileSizeLimit", "5242880"), ("orgDefaultCurrencyIsoCode", "USD"),
            ("orgDefaultCurrencyLocale", "en_US"), ("orgDisallowHtmlAttachments", "false"),
            ("orgHasPersonAccounts", "false"), ("organizationId", ORG_ID), ("organizationMultiCurrency", "false"),
            ("organizationName", ORG_NAME), ("profileId", PROFILE_ID), ("roleId", None),
            ("sessionSecondsValid", "7200"), ("userDefaultCurrencyIsoCode", None),
            ("userEmail", self.credentials.username), ("userFullName", USER_FULL_NAME), ("userId", self.user_id),
            ("userLanguage", "en_US"), ("userLocale", "en_US"), ("userName", self.credentials.username),
            ("userTimeZone", "America/Los_Angeles"), ("userType", "Standard"), ("userUiSkin", "Theme3"))
        return "".join(f'<{name} xsi:nil="true"/>' if value is None else f"<{name}>{escape(value)}</{name}>"
                       for name, value in elements)

    # ------------------------------------------------------------------------------------ OAuth
    def oauth_token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items()}
        grant = form.get("grant_type", "")
        c = self.credentials
        if grant == "password":
            if form.get("client_id") != c.consumer_key:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if form.get("client_secret") != c.consumer_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
            if form.get("username") != c.username or form.get("password") not in (
                    c.password, c.password + c.security_token):
                return _oauth_error("invalid_grant", "authentication failure")
        elif grant == "client_credentials":
            key, secret = _basic_auth(request.headers.get("authorization", ""))
            key, secret = key or form.get("client_id"), secret or form.get("client_secret")
            if key != c.consumer_key:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if secret != c.consumer_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            claims = _jwt_claims(form.get("assertion", ""), self.jwt_certificate)
            if claims is None:
                return _oauth_error("invalid_grant", "invalid assertion")
            if claims.get("iss") != c.consumer_key:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if claims.get("sub") != c.username:
                return _oauth_error("invalid_grant", "user hasn't approved this consumer")
            try:
                expired = float(claims.get("exp", 0)) < time.time()
            except (TypeError, ValueError):
                expired = True
            if expired:
                return _oauth_error("invalid_grant", "expired authorization code")
        else:
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        base = request.base_url
        return Response.json({
            "access_token": self.sessions.issue(), "instance_url": base,
            "id": f"{base}/id/{ORG_ID}/{self.user_id}", "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)), "scope": "api",
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
        })


def _text(root: ET.Element, local_name: str) -> str | None:
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == local_name:
            return el.text or ""
    return None


def soap_fault(code: str, message: str, kind: str = "LoginFault") -> Response:
    """A SOAP fault; ``kind`` is its detail's type (``LoginFault`` for a login, ``UnexpectedErrorFault``...)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        f'<detail><sf:{kind} xsi:type="sf:{kind}"><sf:exceptionCode>{code}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:{kind}></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response.text(body, 500, content_type="text/xml")


def _oauth_error(error: str, description: str) -> Response:
    return Response.json({"error": error, "error_description": description}, 400)


def _basic_auth(header: str) -> tuple[str | None, str | None]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        key, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return key, secret


def _jwt_claims(assertion: str, certificate: bytes | None = None) -> dict | None:
    parts = assertion.split(".")
    if len(parts) != 3:
        return None
    if certificate is not None:
        return _verified_claims(assertion, certificate)
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def _verified_claims(assertion: str, certificate: bytes) -> dict | None:
    """The claims when the RS256 signature verifies with the certificate's public key, else None."""
    import jwt
    from cryptography import x509

    public_key = x509.load_pem_x509_certificate(certificate).public_key()
    try:  # exp and aud are checked by the caller (simple-salesforce sends exp as a string)
        return jwt.decode(assertion, public_key, algorithms=["RS256"],
                          options={"verify_exp": False, "verify_aud": False})
    except jwt.PyJWTError:
        return None
