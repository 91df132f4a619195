"""The HTTP plumbing both API emulators share: routing, fault injection, latency, serving.

Emulators are plain ``ThreadingHTTPServer`` apps so that real clients (requests,
simple-salesforce, SalesforceHook) reach them over real HTTP(S), unchanged. Each emulator
registers its routes on a :class:`Router`; test knobs (latency, injected faults) live on
:class:`Knobs` and are driven through the emulator's own control path, which real clients never
touch.
"""

from __future__ import annotations

import json
import re
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # filled from the route pattern
    base_url: str = ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, body, {"Content-Type": f"{content_type}; charset=utf-8", **(headers or {})})

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain",
             headers: dict[str, str] | None = None) -> Response:
        return cls(status, text.encode("utf-8"),
                   {"Content-Type": f"{content_type}; charset=utf-8", **(headers or {})})


Handler = Callable[[Request], Response]


class Router:
    """Method + regex routes; ``{name}`` in a pattern captures one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/"))
        self._routes.append((method.upper(), re.compile(f"^{regex}/?$"), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler
        return register

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """The handler, its path params, and whether the path exists under another method."""
        path_known = False
        for route_method, regex, handler in self._routes:
            m = regex.match(path)
            if m:
                path_known = True
                if route_method == method:
                    return handler, m.groupdict(), True
        return None, {}, path_known


@dataclass
class Fault:
    """One injected failure: answer ``status`` with ``body`` (or hang for ``timeout``) ``count`` times."""

    status: int = 500
    body: str = ""
    content_type: str = "application/json"
    count: int = 1
    path: str = ""  # regex searched in the request path; empty matches every path
    method: str = ""  # empty matches every method
    timeout: float = 0.0  # > 0: sleep this long before answering, to trip client timeouts
    after: bool = False  # process the request first, then answer with the fault: a lost response
    sent: str = ""  # regex searched in the request body: hit one kind of write among others on the same path
    headers: dict[str, str] = field(default_factory=dict)  # added to the answer, e.g. Retry-After

    def matches(self, request: Request) -> bool:
        return ((not self.method or self.method.upper() == request.method)
                and (not self.path or re.search(self.path, request.path) is not None)
                and (not self.sent or re.search(self.sent, request.body.decode("utf-8", "replace")) is not None))


class Knobs:
    """Latency and queued faults, shared by every request thread of one emulator."""

    def __init__(self) -> None:
        self.latency = 0.0
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.latency = 0.0

    def pending(self) -> int:
        """Queued faults not used up yet (each may still have several answers left)."""
        with self._lock:
            return len(self._faults)

    def take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(request):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


class App:
    """An emulator: a router, knobs, and hooks for auth and per-response headers."""

    control_prefix = "/__sandbox__"

    def __init__(self) -> None:
        self.router = Router()
        self.knobs = Knobs()

    def before(self, request: Request) -> Response | None:
        """Runs before routing (auth, rate limits); a response short-circuits the request."""
        return None

    def after(self, request: Request, response: Response) -> Response:
        return response

    def not_found(self, request: Request) -> Response:
        return Response.json({"error": "Not Found"}, 404)

    def method_not_allowed(self, request: Request) -> Response:
        return Response.json({"error": "Method Not Allowed"}, 405)

    def fault_response(self, request: Request, fault: Fault) -> Response:
        return Response(fault.status, fault.body.encode("utf-8"), {"Content-Type": fault.content_type})

    def _fault_answer(self, request: Request, fault: Fault) -> Response:
        response = self.fault_response(request, fault)
        response.headers.update(fault.headers)
        return response

    def handle(self, request: Request) -> Response:
        if not request.path.startswith(self.control_prefix):
            if self.knobs.latency:
                time.sleep(self.knobs.latency)
            fault = self.knobs.take_fault(request)
            if fault is not None and not fault.after:
                if fault.timeout:
                    time.sleep(fault.timeout)
                return self.after(request, self._fault_answer(request, fault))
            early = self.before(request)
            if early is not None:
                return self.after(request, early)
        else:
            fault = None
        handler, params, path_known = self.router.match(request.method, request.path)
        if handler is None:
            response = self.method_not_allowed(request) if path_known else self.not_found(request)
        else:
            request.params = params
            response = handler(request)
        if fault is not None:  # the work is done, but the client never hears of it
            if fault.timeout:
                time.sleep(fault.timeout)
            response = self._fault_answer(request, fault)
        return self.after(request, response)


def _make_handler(app: App, base_url: str) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "an-sf-sync-sandbox"
        disable_nagle_algorithm = True  # headers and body go out separately; don't stall keep-alive

        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                base_url=base_url,
            )
            try:
                response = app.handle(request)
            except Exception as exc:  # an emulator bug must surface as a 500, not a dead socket
                response = Response.json({"error": f"sandbox internal error: {exc!r}"}, 500)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

        def log_message(self, format: str, *args: Any) -> None:  # quiet by default
            pass

    return RequestHandler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    ssl_context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        if self.ssl_context is not None:  # handshake lazily, in the request thread
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (its read timed out, or it was stopped) is no server error: the
        real APIs print nothing, so neither does the sandbox. Anything else is still printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLEOFError):
            super().handle_error(request, client_address)


class SandboxServer:
    """Serves an :class:`App` on loopback, over TLS when given an SSL context."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        scheme = "https" if ssl_context else "http"
        self._httpd = _Server((host, port), BaseHTTPRequestHandler)
        self._httpd.ssl_context = ssl_context
        self.host, self.port = self._httpd.server_address[:2]
        self.url = f"{scheme}://{self.host}:{self.port}"
        self._httpd.RequestHandlerClass = _make_handler(app, self.url)
        self.app = app
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        """Serve from a background thread (tests, the demo)."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self, ready_url: str) -> None:
        """Serve in the foreground, announcing ``ready <url>`` once listening."""
        print(f"ready {ready_url}", flush=True)
        try:
            self._httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._httpd.server_close()
            sys.stdout.flush()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
