"""The Salesforce API emulator: the App (auth, API budget, routing) and the ``an-sf-sync sandbox salesforce`` CLI.

Every call under ``/services/data/`` and ``/services/async/`` must carry a session issued by one of
the logins and counts once against the daily API budget (logins and the control path do not).
A refused call (401, 403) is not counted. ``Sforce-Limit-Info`` goes on every such response.
"""

from __future__ import annotations

import argparse
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from ..http import App, Request, Response, SandboxServer
from .auth import Auth, Credentials, Sessions
from .bulk1 import Bulk1
from .bulk2 import Bulk2
from .composite import Composite
from .control import Control
from .errors import INVALID_SESSION, LIMIT_EXCEEDED, SfError, sf_error_response
from .rest import Rest
from .schema import Schema
from .soap import Soap
from .store import Store

_API_PATH = re.compile(r"^/services/(data/v\d+\.\d+|async/\d+\.\d+)(/|$)")


class SalesforceApp(App):
    """One emulated org: schema, records, sessions, API budget, jobs and test knobs."""

    def __init__(self, username: str = "sandbox@example.org", password: str = "sandbox-password",
                 security_token: str = "sandbox-token", *, consumer_key: str = "an-sf-sync-sandbox",
                 consumer_secret: str = "sandbox-secret", custom_fields: dict[str, dict[str, Any]] | None = None,
                 daily_api_limit: int = 100_000, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.schema = Schema(custom_fields)
        self.store = Store(self.schema, clock)
        self.sessions = Sessions()
        self.auth = Auth(Credentials(username, password, security_token, consumer_key, consumer_secret),
                         self.sessions, self.store.user_id)
        self.daily_api_limit = daily_api_limit
        self.api_calls = 0
        self.request_counts: Counter[str] = Counter()  # "METHOD route-name" -> requests routed there
        self._count_lock = threading.Lock()
        self.route("POST", "/services/Soap/u/{version}", self.auth.soap_login, "soap login")
        self.route("POST", "/services/oauth2/token", self.auth.oauth_token, "oauth token")
        self.rest = Rest(self)
        self.composite = Composite(self)
        self.bulk2 = Bulk2(self)
        self.bulk1 = Bulk1(self)
        self.soap = Soap(self)
        self.control = Control(self)

    def route(self, method: str, pattern: str, handler: Callable[[Request], Response], name: str = "",
              error: Callable[[SfError], Response] = sf_error_response) -> None:
        """Register a handler: path params arrive decoded, SfError becomes the API's error response."""
        endpoint = f"{method} {name or pattern}"

        def wrapped(request: Request) -> Response:
            request.params = {k: unquote_plus(v) for k, v in request.params.items()}
            with self._count_lock:
                self.request_counts[endpoint] += 1
            try:
                return handler(request)
            except SfError as exc:
                return error(exc)

        self.router.add(method, pattern, wrapped)

    # ------------------------------------------------------------------------------ App hooks
    def before(self, request: Request) -> Response | None:
        match = _API_PATH.match(request.path)
        if match is None:
            return None
        bulk1 = match.group(1).startswith("async")
        if bulk1:
            token = request.headers.get("x-sfdc-session")
        else:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            token = token if scheme.lower() in ("bearer", "oauth") else None
        if not self.sessions.valid(token):
            if bulk1:
                return Response.json({"exceptionCode": "InvalidSessionId",
                                      "exceptionMessage": "Invalid session id"}, 400)
            return Response.json(INVALID_SESSION, 401)
        return None if self.count_api_call() else Response.json(LIMIT_EXCEEDED, 403)

    def count_api_call(self) -> bool:
        """Count one call against the daily allowance; False once it is used up."""
        with self._count_lock:
            if self.api_calls >= self.daily_api_limit:
                return False
            self.api_calls += 1
            return True

    def after(self, request: Request, response: Response) -> Response:
        if request.path.startswith(("/services/data", "/services/async")):
            response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_calls}/{self.daily_api_limit}"
        return response

    def not_found(self, request: Request) -> Response:
        return Response.json([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], 404)

    def method_not_allowed(self, request: Request) -> Response:
        return Response.json([{"errorCode": "METHOD_NOT_ALLOWED",
                               "message": f"HTTP Method '{request.method}' not allowed."}], 405)

    # ------------------------------------------------------------------------------ test knobs
    def expire_sessions(self) -> int:
        """Invalidate every session, so each client's next call gets 401 INVALID_SESSION_ID."""
        return self.sessions.expire_all()

    def reset(self) -> None:
        """Back to an empty org: records, jobs, cursors, counters, faults, latency (sessions stay)."""
        self.store.reset()
        self.rest.cursors.clear()
        self.bulk2.jobs.clear()
        self.bulk1.jobs.clear()
        self.knobs.clear()
        with self._count_lock:
            self.api_calls = 0
            self.request_counts.clear()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443, help="0 picks a free port")
    parser.add_argument("--username", default="sandbox@example.org")
    parser.add_argument("--password", default="sandbox-password")
    parser.add_argument("--security-token", default="sandbox-token")
    parser.add_argument("--consumer-key", default="an-sf-sync-sandbox")
    parser.add_argument("--consumer-secret", default="sandbox-secret")
    parser.add_argument("--ca-file", type=Path, required=True, help="where to write the generated CA (PEM)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API response")
    parser.add_argument("--daily-api-limit", type=int, default=100_000)
    parser.add_argument("--custom-field", action="append", default=[], metavar="OBJECT.FIELD=TYPE",
                        help="extra custom field, e.g. Contact.Employer__c=textarea (repeatable)")
    parser.add_argument("--seed-contacts", type=int, default=0, help="generate this many contacts (and more)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument("--duplicate-rule", action="store_true", help="block duplicate Contact emails")
    parser.add_argument("--soap-login", choices=["enabled", "disabled"], default="enabled",
                        help="SOAP API login(): 'disabled' is the default of orgs created since its retirement began")
    parser.add_argument("--jwt-certificate", type=Path,
                        help="the External Client App's certificate (PEM): JWT bearer signatures are verified with it")


def _custom_fields(specs: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for spec in specs:
        target, _, kind = spec.partition("=")
        obj, _, name = target.partition(".")
        if not (obj and name and kind):
            raise SystemExit(f"--custom-field wants OBJECT.FIELD=TYPE, got {spec!r}")
        out.setdefault(obj, {})[name] = kind
    return out


def run(args: argparse.Namespace) -> int:
    from .generator import generate
    from .tls import make_ca_and_server_context

    app = SalesforceApp(args.username, args.password, args.security_token, consumer_key=args.consumer_key,
                        consumer_secret=args.consumer_secret, custom_fields=_custom_fields(args.custom_field),
                        daily_api_limit=args.daily_api_limit)
    app.knobs.latency = args.latency
    app.store.duplicate_rule = args.duplicate_rule
    app.auth.soap_login_enabled = args.soap_login == "enabled"
    if args.jwt_certificate:
        app.auth.jwt_certificate = args.jwt_certificate.read_bytes()
    if args.seed_contacts:
        app.store.load(generate(contacts=args.seed_contacts, seed=args.seed))
    hosts = list(dict.fromkeys([args.host, "127.0.0.1", "localhost"]))
    context = make_ca_and_server_context(args.ca_file, hosts)
    server = SandboxServer(app, args.host, args.port, ssl_context=context)
    server.serve_forever(server.url)
    return 0
