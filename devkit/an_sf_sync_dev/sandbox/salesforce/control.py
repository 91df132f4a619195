"""Test knobs under ``/__sandbox__/`` (real clients never go there): faults, latency, session expiry,
API budget, seeding, inspection, reset. Each has a Python twin on :class:`Control` for in-process tests.

Fault kinds: ``UNABLE_TO_LOCK_ROW`` (400 JSON list), ``REQUEST_LIMIT_EXCEEDED`` (403),
``SERVER_ERROR`` (500; ``status`` overrides), ``SERVER_UNAVAILABLE`` (503), ``INVALID_SESSION_ID`` (401); or a raw
``{"status", "body", "content_type"}``. ``count``, ``path`` (regex) and ``method`` narrow them; without ``path`` a fault
hits the next request of any kind, logins included. ``after`` makes it a lost response: the request is
carried out (records written, sessions issued), then answered with the fault instead of its result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..http import Fault, Request, Response
from .errors import FAULT_BODIES
from .rest import json_value

if TYPE_CHECKING:
    from .server import SalesforceApp

C = "/__sandbox__"


class Control:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app
        routes: list[tuple[str, str, Callable[[Request], Any]]] = [
            ("GET", "state", lambda r: self.state()),
            ("POST", "reset", lambda r: self.reset()),
            ("POST", "seed", lambda r: self.seed(**_body(r))),
            ("GET", "records/{sobject}", lambda r: self.records(
                r.params["sobject"], (r.arg("include_deleted") or "").lower() in ("1", "true"))),
            ("POST", "faults", lambda r: self.inject(**_body(r))),
            ("DELETE", "faults", lambda r: self.clear_faults()),
            ("POST", "latency", lambda r: self.set_latency(float(_body(r)["seconds"]))),
            ("POST", "expire-sessions", lambda r: {"expired": self.app.expire_sessions()}),
            ("POST", "limits", lambda r: self.set_limits(**_body(r))),
            ("POST", "duplicate-rule", lambda r: self.set_duplicate_rule(bool(_body(r)["enabled"]))),
            ("POST", "custom-fields", lambda r: self.set_custom_fields(_body(r))),
        ]
        for method, path, handler in routes:
            app.route(method, f"{C}/{path}", _control(handler), f"control {path}")

    def state(self) -> dict[str, Any]:
        app = self.app
        return {"api_calls": app.api_calls, "daily_api_limit": app.daily_api_limit,
                "counts": app.store.counts(), "requests": dict(app.request_counts),
                "sessions": len(app.sessions), "latency": app.knobs.latency,
                "duplicate_rule": app.store.duplicate_rule}

    def reset(self) -> dict[str, Any]:
        self.app.reset()
        return self.state()

    def seed(self, records: dict[str, list[dict[str, Any]]] | None = None, **generator_options: Any
             ) -> dict[str, Any]:
        """Generate data (``contacts``, ``seed``, ... as the generator takes) or create given records.

        Given records go through the normal validation; their new Ids come back per object.
        """
        out: dict[str, Any] = {}
        if generator_options:
            from .generator import generate

            generator_options.setdefault("id_base", max(self.app.store.counters.values(), default=0))
            out["loaded"] = self.app.store.load(generate(**generator_options))
        for sobject, rows in (records or {}).items():
            out.setdefault("ids", {})[sobject] = [self.app.store.create(sobject, row, allow_save=True)["Id"]
                                                  for row in rows]
        return out

    def records(self, sobject: str, include_deleted: bool = False) -> dict[str, Any]:
        rows = self.app.store.rows(self.app.store.object(sobject).name, include_deleted)
        return {"totalSize": len(rows), "records": [{k: json_value(v) for k, v in row.items()} for row in rows]}

    def inject(self, kind: str = "", count: int = 1, path: str = "", method: str = "", status: int | None = None,
               body: Any = None, content_type: str = "application/json", timeout: float = 0.0,
               after: bool = False) -> dict[str, Any]:
        if kind:
            if kind not in FAULT_BODIES:
                raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_BODIES)}")
            default_status, payload = FAULT_BODIES[kind]
            status, body = status or default_status, json.dumps(payload)
        elif status is None:
            raise ValueError("a fault needs a kind or a status")
        text = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
        self.app.knobs.add_fault(Fault(status, text, content_type, count, path, method, timeout, after))
        return {"queued": count}

    def clear_faults(self) -> dict[str, Any]:
        latency = self.app.knobs.latency
        self.app.knobs.clear()
        self.app.knobs.latency = latency
        return {"cleared": True}

    def set_latency(self, seconds: float) -> dict[str, Any]:
        self.app.knobs.latency = seconds
        return {"latency": seconds}

    def set_limits(self, daily_api_limit: int | None = None, api_calls: int | None = None) -> dict[str, Any]:
        if daily_api_limit is not None:
            self.app.daily_api_limit = int(daily_api_limit)
        if api_calls is not None:
            self.app.api_calls = int(api_calls)
        return self.state()

    def set_duplicate_rule(self, enabled: bool) -> dict[str, Any]:
        self.app.store.duplicate_rule = enabled
        return {"duplicate_rule": enabled}

    def set_custom_fields(self, specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        self.app.store.set_custom_fields(specs)
        return {obj: [f.name for f in self.app.schema.get(obj).fields.values() if f.custom] for obj in specs}


def _body(request: Request) -> dict[str, Any]:
    payload = request.json() or {}
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    return payload


def _control(handler: Callable[[Request], Any]) -> Callable[[Request], Response]:
    def wrapped(request: Request) -> Response:
        try:
            return Response.json(handler(request))
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json({"error": str(exc)}, 400)
    return wrapped
