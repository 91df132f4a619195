"""A faithful emulator of the Action Network API v2, served at ``http://HOST:PORT/api/v2/``.

``an-sf-sync sandbox actionnetwork --port 8091 --api-key KEY`` serves it and prints one line,
``ready http://HOST:PORT/api/v2/``, once it listens. In-process::

    app = ActionNetworkApp(api_key="test-key", rate_limit=0)
    app.store.load(generate(people=1000, seed=1))
    server = SandboxServer(app).start()

Choices where Action Network's behaviour is unconfirmed:

* A missing or wrong ``OSDI-API-Token`` gets 403 ``{"error": "API Key invalid or not present"}``
  everywhere except the entry point, which answers 200 without the collection links, and helper
  POSTs sent with no key at all (a "blind POST"), which are processed and answer 200 ``{}``.
* 429 ``{"error": "Too many requests"}`` without ``Retry-After``; 4 requests in any rolling second
  per key, counted at arrival, refused requests not counted (see :class:`.RateLimiter`).
* ``background_request=true`` on a write processes it and answers 200 ``{}`` whatever happened,
  as the real queue does; ``background_processing`` is ignored.
* The ``collections`` knob adds rels (e.g. ``action_network:quizzes``) to the entry point's links,
  as a group sees when Action Network gains a kind of action this emulator does not model; their
  paths answer the HTML 404 like any unknown path.
* Unknown paths, and an unknown donation id, answer Action Network's HTML 404 page; other
  unknown ids answer 404 ``{"error": "Couldn't find <thing> with id = <id>"}``.

The control path ``/__sandbox__/`` (reset, seed, faults, knobs, people lookup, stats) is
unauthenticated and never rate limited; the server binds to loopback only.
"""

from __future__ import annotations

import argparse
import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..http import App, Fault, Request, Response, SandboxServer
from . import filters, hal
from .ratelimit import RateLimiter, Stats
from .records import ACTION_KINDS, CHILD_REL, PARTICIPATION_FILTERS, SINGULAR, format_time
from .store import Invalid, NotFound, Store

API = "/api/v2"
MAX_PAGE = 25
PEOPLE_FILTERS = ("identifier", "created_date", "modified_date", "family_name", "given_name", "email_address",
                  "phone_number", "region", "postal_code")
BAD_KEY = "API Key invalid or not present"
HTML_404 = ("<!DOCTYPE html>\n<html>\n<head>\n  <title>The page you were looking for doesn't exist (404)"
            "</title>\n</head>\n<body>\n  <div class=\"dialog\">\n    <h1>The page you were looking for "
            "doesn't exist.</h1>\n    <p>You may have mistyped the address or the page may have moved.</p>\n"
            "  </div>\n</body>\n</html>\n")
_HEADERS = {"Cache-Control": "max-age=0, private, must-revalidate"}


def json_response(payload: Any, status: int = 200) -> Response:
    return Response.json(payload, status, content_type="application/hal+json", headers=_HEADERS)


def error(message: str, status: int) -> Response:
    return json_response({"error": message}, status)


def html_not_found() -> Response:
    return Response.text(HTML_404, 404, content_type="text/html")


def html_404_fault(count: int = 1, path: str = "", method: str = "") -> Fault:
    """A fault answering Action Network's HTML 404 page instead of JSON."""
    return Fault(status=404, body=HTML_404, content_type="text/html", count=count, path=path, method=method)


class ActionNetworkApp(App):
    """The emulator: routes over a :class:`Store`, auth, the rate limit, stats and the control path."""

    def __init__(self, api_key: str = "test-key", rate_limit: float = 4.0, store: Store | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.store = store or Store()
        self.limiter = RateLimiter(rate_limit)
        self.stats = Stats()
        self.collections: list[str] = []  # extra entry point rels (the ``collections`` knob)
        self._arrival = threading.local()
        self._routes()

    @property
    def rate_limit(self) -> float:
        return self.limiter.rate

    @rate_limit.setter
    def rate_limit(self, value: float) -> None:
        self.limiter.rate = float(value)

    # ---- request pipeline --------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        self._arrival.at = time.monotonic()  # before any latency: the limit counts arrivals
        return super().handle(request)

    def before(self, request: Request) -> Response | None:
        key = request.headers.get("osdi-api-token")
        if not self.limiter.allow(key or "", self._arrival.at):
            return error("Too many requests", 429)
        if key == self.api_key or (request.method == "GET" and request.path.rstrip("/") == API):
            return None
        if key is None and request.method == "POST" and self._is_helper(request.path):
            return None
        return error(BAD_KEY, 403)

    def after(self, request: Request, response: Response) -> Response:
        if not request.path.startswith(self.control_prefix):
            self.stats.record(request.method, self._family(request), response.status)
        return response

    def not_found(self, request: Request) -> Response:
        return html_not_found()

    def fault_response(self, request: Request, fault: Fault) -> Response:
        if fault.body:
            return super().fault_response(request, fault)
        if fault.status < 400:  # e.g. a pure timeout: a late but ordinary-looking answer
            return json_response({}, fault.status)
        if fault.content_type.startswith("text/html"):
            return Response.text(HTML_404, fault.status, content_type="text/html")
        return error("Too many requests" if fault.status == 429 else "Internal Server Error", fault.status)

    def _is_helper(self, path: str) -> bool:
        parts = path[len(API):].strip("/").split("/")
        return parts == ["people"] or (len(parts) == 3 and parts[0] in ACTION_KINDS
                                       and parts[2] == ACTION_KINDS[parts[0]].child and parts[0] != "event_campaigns")

    def _family(self, request: Request) -> str:
        """The route with ids dropped: ``people``, ``forms/submissions``, ``aep``."""
        if not request.path.startswith(API):
            return "unknown"
        ids = set(self.router.match(request.method, request.path)[1].values())
        parts = [p for p in request.path[len(API):].strip("/").split("/") if p and p not in ids]
        return "/".join(parts) or "aep"

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("osdi-api-token") == self.api_key

    # ---- routing -----------------------------------------------------------------------------

    def _api(self, method: str, pattern: str, handler: Callable[..., Any]) -> None:
        """Register ``handler(request, **params)``; map store errors and handle background requests."""
        def endpoint(request: Request) -> Response:
            quiet = method != "GET" and (not self._authorized(request)  # a blind helper POST
                                         or request.arg("background_request") == "true")
            try:
                result = handler(request, **request.params)
            except NotFound as exc:
                result = error(str(exc), 404)
            except (Invalid, filters.FilterError) as exc:
                result = error(str(exc), 400)
            except ValueError:  # the body is not JSON
                result = error("The request body is not valid JSON", 400)
            if quiet:
                return json_response({})
            return result if isinstance(result, Response) else json_response(result)
        self.router.add(method, API + pattern, endpoint)

    def _routes(self) -> None:
        self._api("GET", "", self.entry_point)
        self._api("GET", "/people", self.list_people)
        self._api("POST", "/people", lambda r: hal.person(self._base(r), self.store.signup(self._body(r))[0]))
        self._api("GET", "/people/{id}", lambda r, id: hal.person(self._base(r), self.store.person(id)))
        self._api("PUT", "/people/{id}",
                  lambda r, id: hal.person(self._base(r), self.store.update_person(id, self._body(r))))
        for child in hal.PERSON_CHILDREN:
            self._api("GET", f"/people/{{id}}/{child}", self._person_children(child))
            self._api("GET", f"/people/{{id}}/{child}/{{cid}}", self._person_child(child))
        self._api("GET", "/tags", self.list_tags)
        self._api("POST", "/tags", lambda r: hal.tag(self._base(r), self.store.create_tag(self._body(r))))
        self._api("GET", "/tags/{id}", lambda r, id: hal.tag(self._base(r), self.store.tag(id)))
        self._api("GET", "/tags/{id}/taggings", self.list_taggings)
        self._api("POST", "/tags/{id}/taggings", lambda r, id: hal.participation(
            self._base(r), self.store.add_tagging(id, self._body(r))))
        self._api("GET", "/tags/{id}/taggings/{cid}", lambda r, id, cid: hal.participation(
            self._base(r), self.store.participation("taggings", cid, id)))
        self._api("DELETE", "/tags/{id}/taggings/{cid}", self.delete_tagging)
        for kind in ACTION_KINDS:
            self._action_routes(kind)
        self._api("GET", "/event_campaigns/{ecid}/events/{id}/attendances",
                  lambda r, ecid, id: self.list_children(r, "events", id))
        self._api("GET", "/donations", self.list_donations)
        self._api("GET", "/donations/{id}", self.get_donation)
        self._api("GET", "/metadata", self.metadata)
        self._api("GET", "/metadata/custom_fields", self.custom_fields)
        self._control_routes()

    def _action_routes(self, kind: str) -> None:
        child = ACTION_KINDS[kind].child
        self._api("GET", f"/{kind}", lambda r: self.list_actions(r, kind))
        self._api("POST", f"/{kind}", lambda r: self._render_action(r, self.store.create_action(kind, self._body(r))))
        self._api("GET", f"/{kind}/{{id}}", lambda r, id: self._render_action(r, self.store.action(kind, id)))
        self._api("PUT", f"/{kind}/{{id}}",
                  lambda r, id: self._render_action(r, self.store.update_action(kind, id, self._body(r))))
        self._api("GET", f"/{kind}/{{id}}/{child}", lambda r, id: self.list_children(r, kind, id))
        if kind == "event_campaigns":
            self._api("POST", f"/{kind}/{{id}}/events", lambda r, id: self._render_action(
                r, self.store.create_action("events", self._body(r), campaign_id=id)))
            return
        self._api("POST", f"/{kind}/{{id}}/{child}", lambda r, id: hal.participation(
            self._base(r), self.store.participate(child, id, self._body(r))))
        self._api("GET", f"/{kind}/{{id}}/{child}/{{cid}}", lambda r, id, cid: hal.participation(
            self._base(r), self.store.participation(child, cid, self.store.action(kind, id).id)))

    # ---- handlers ----------------------------------------------------------------------------

    @staticmethod
    def _base(request: Request) -> str:
        return request.base_url + API

    @staticmethod
    def _body(request: Request) -> Any:
        return request.json()  # a ValueError (bad JSON) becomes a 400

    def _render_action(self, request: Request, action: Any) -> dict[str, Any]:
        return hal.action(self._base(request), self.store, action)

    def entry_point(self, request: Request) -> dict[str, Any]:
        api = self._base(request)
        links: dict[str, Any] = {
            "self": {"title": "Action Network API Entry Point", "href": f"{api}/"},
            "docs": {"title": "Documentation", "href": "https://actionnetwork.org/docs"},
            "curies": hal.CURIES,
            "osdi:person_signup_helper": {"title": "The person signup helper", "href": f"{api}/people"},
        }
        if self._authorized(request):
            for rel, path, title in (
                    ("osdi:people", "people", "The collection of people in the system"),
                    ("osdi:tags", "tags", "The collection of tags in the system"),
                    ("osdi:donations", "donations", "The collection of donations in the system"),
                    ("action_network:metadata", "metadata", "Metadata about this API endpoint"),
                    *((k.rel, k.collection, f"The collection of {k.collection.replace('_', ' ')} in the system")
                      for k in ACTION_KINDS.values())):
                links[rel] = {"title": title, "href": f"{api}/{path}"}
            for rel in self.collections:
                name = rel.partition(":")[2]
                links[rel] = {"title": f"The collection of {name.replace('_', ' ')} in the system",
                              "href": f"{api}/{name}"}
        return {"motd": "Welcome to the Action Network OSDI API v2 Entry Point!",
                "vendor_name": "Action Network", "product_name": "Action Network", "osdi_version": "1.1.1",
                "max_page_size": MAX_PAGE, "namespace": "action_network", "_links": links}

    def _page(self, request: Request, rel: str, key: str, source: Callable[[], Sequence[Any]],
              render: Callable[[Any], dict[str, Any]], filter_fields: dict[str, Any] | None,
              totals: bool = True) -> dict[str, Any]:
        page = _int(request.arg("page"), 1)
        given = request.arg("per_page")
        per_page = min(_int(given, MAX_PAGE), MAX_PAGE)
        text = request.arg("filter")
        predicate = None
        if text is not None:
            if not filter_fields:
                raise filters.FilterError("Filtering is not supported on this collection")
            predicate = filters.parse(text, filter_fields)
        with self.store.lock:
            records = self.store.select(key, source, predicate, text or "")
            items = [render(r) for r in records[(page - 1) * per_page:page * per_page]]
            total = len(records) if totals else None
        query = {k: v for k, v in (("filter", text), ("per_page", str(per_page) if given else None)) if v}
        return hal.collection(request.base_url + request.path.rstrip("/"), rel, items, page, per_page, total, query)

    def list_people(self, request: Request) -> dict[str, Any]:
        api = self._base(request)
        email = filters.email_lookup(request.arg("filter") or "")
        source = (lambda: [p for p in [self.store.find_by_email(email)] if p]) if email is not None \
            else (lambda: self.store.people_order)
        return self._page(request, "osdi:people", "people", source,
                          lambda p: hal.person(api, p), filters.getters_for(PEOPLE_FILTERS, people=True),
                          totals=False)

    def list_tags(self, request: Request) -> dict[str, Any]:
        api = self._base(request)
        return self._page(request, "osdi:tags", "tags", lambda: self.store.tag_order, lambda t: hal.tag(api, t),
                          None)

    def list_taggings(self, request: Request, id: str) -> dict[str, Any]:
        self.store.tag(id)
        return self._children_page(request, "osdi:taggings", f"tags/{id}",
                                   lambda: self.store.children.get(id, []), None)

    def delete_tagging(self, request: Request, id: str, cid: str) -> dict[str, Any]:
        self.store.delete_tagging(id, cid)
        return {"notice": "This tagging was successfully deleted."}

    def list_actions(self, request: Request, kind: str) -> dict[str, Any]:
        spec = ACTION_KINDS[kind]
        return self._page(request, spec.rel, kind, lambda: self.store.action_order[kind],
                          lambda a: self._render_action(request, a),
                          filters.getters_for(spec.filter_fields, actions=True))

    def list_children(self, request: Request, kind: str, id: str) -> dict[str, Any]:
        self.store.action(kind, id)
        child = ACTION_KINDS[kind].child
        if child == "events":
            return self._page(request, "osdi:events", f"{kind}/{id}", lambda: self.store.children.get(id, []),
                              lambda a: self._render_action(request, a),
                              filters.getters_for(ACTION_KINDS["events"].filter_fields, actions=True))
        return self._children_page(request, CHILD_REL[child], f"{kind}/{id}",
                                   lambda: self.store.children.get(id, []), PARTICIPATION_FILTERS)

    def _children_page(self, request: Request, rel: str, key: str, source: Callable[[], Sequence[Any]],
                       fields: tuple[str, ...] | None) -> dict[str, Any]:
        api = self._base(request)
        return self._page(request, rel, key, source, lambda r: hal.participation(api, r),
                          filters.getters_for(fields) if fields else None)

    def _person_children(self, child: str) -> Callable[..., dict[str, Any]]:
        def handler(request: Request, id: str) -> dict[str, Any]:
            self.store.person(id)
            fields = None if child == "taggings" else PARTICIPATION_FILTERS
            return self._children_page(request, CHILD_REL[child], f"people/{id}/{child}",
                                       lambda: self.store.activity(id, child), fields)
        return handler

    def _person_child(self, child: str) -> Callable[..., dict[str, Any]]:
        def handler(request: Request, id: str, cid: str) -> dict[str, Any]:
            record = self.store.participation(child, cid)
            if record.person_id != self.store.person(id).id:
                raise NotFound(SINGULAR[child], cid)
            return hal.participation(self._base(request), record)
        return handler

    def list_donations(self, request: Request) -> dict[str, Any]:
        return self._children_page(request, "osdi:donations", "donations", lambda: self.store.donation_order,
                                   PARTICIPATION_FILTERS)

    def get_donation(self, request: Request, id: str) -> Any:
        try:
            return hal.participation(self._base(request), self.store.participation("donations", id))
        except NotFound:
            return html_not_found()  # Action Network answers this one with its HTML page

    def metadata(self, request: Request) -> dict[str, Any]:
        api = self._base(request)
        return {"name": "Action Network", "_links": {
            "self": hal.link(f"{api}/metadata"),
            "action_network:custom_fields": hal.link(f"{api}/metadata/custom_fields"), "curies": hal.CURIES}}

    def custom_fields(self, request: Request) -> dict[str, Any]:
        api = self._base(request)
        with self.store.lock:
            fields = sorted(self.store.custom_fields.items())
        return {"origin_system": "Action Network", "name": "Custom Fields",
                "description": "The collection of custom fields available at this endpoint.",
                "_links": {"self": [hal.link(f"{api}/metadata/custom_fields")], "curies": hal.CURIES},
                "action_network:custom_fields": [
                    {"name": name, "created_date": format_time(at), "modified_date": format_time(at),
                     "notes": None} for name, at in fields]}

    # ---- control path ------------------------------------------------------------------------

    def _control(self, method: str, path: str, handler: Callable[[Any, Request], Any]) -> None:
        def endpoint(request: Request) -> Response:
            try:
                body = request.json() if request.method != "GET" else None
                return Response.json(handler(body or {}, request))
            except (KeyError, TypeError, ValueError, Invalid) as exc:
                return Response.json({"error": f"{type(exc).__name__}: {exc}"}, 400)
        self.router.add(method, f"{self.control_prefix}{path}", endpoint)

    def _control_routes(self) -> None:
        self._control("POST", "/reset", lambda body, r: self.reset())
        self._control("POST", "/seed", lambda body, r: self.seed(body))
        self._control("POST", "/faults", lambda body, r: self._add_fault(Fault(**body)))
        self._control("DELETE", "/faults", lambda body, r: self._clear_faults())
        self._control("GET", "/knobs", lambda body, r: self.knob_values())
        self._control("POST", "/knobs", lambda body, r: self.set_knobs(**body))
        self._control("GET", "/people", lambda body, r: self.inspect_people(r, r.arg("email") or ""))
        self._control("GET", "/stats", lambda body, r: {**self.stats.snapshot(), "records": self.store.counts()})
        self._control("POST", "/stats/reset", lambda body, r: self.stats.reset() or self.stats.snapshot())

    def reset(self) -> dict[str, Any]:
        """Empty data, faults, latency, rate windows and stats."""
        self.store.reset()
        self.knobs.clear()
        self.collections = []
        self.limiter.reset()
        self.stats.reset()
        return {"ok": True}

    def seed(self, body: dict[str, Any]) -> dict[str, int]:
        """``{"records": {...}}`` loads explicit records; otherwise ``body`` is :func:`generate`'s options."""
        if "records" in body:
            return self.store.load_records(body["records"])
        from .generator import generate
        return self.store.load(generate(**body))

    def _add_fault(self, fault: Fault) -> dict[str, Any]:
        self.knobs.add_fault(fault)
        return {"ok": True, "fault": dataclasses.asdict(fault)}

    def _clear_faults(self) -> dict[str, Any]:
        latency = self.knobs.latency
        self.knobs.clear()
        self.knobs.latency = latency
        return {"ok": True}

    def knob_values(self) -> dict[str, Any]:
        return {"latency": self.knobs.latency, "rate_limit": self.rate_limit, "collections": list(self.collections)}

    def set_knobs(self, latency: float | None = None, rate_limit: float | None = None,
                  collections: list[str] | None = None) -> dict[str, Any]:
        if latency is not None:
            self.knobs.latency = float(latency)
        if rate_limit is not None:
            self.rate_limit = float(rate_limit)
        if collections is not None:
            self.collections = [str(rel) for rel in collections]
        return self.knob_values()

    def inspect_people(self, request: Request, email: str) -> dict[str, Any]:
        """The person holding ``email`` (any of their addresses, case-insensitive), as the API renders it."""
        with self.store.lock:
            person = self.store.find_by_email(email)
            return {"people": [hal.person(self._base(request), person)] if person else []}


def _int(text: str | None, default: int) -> int:
    try:
        value = int(text) if text is not None else default
    except ValueError:
        return default
    return value if value >= 1 else default


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (keep it loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--api-key", default="sandbox-key", help="the OSDI-API-Token clients must send")
    parser.add_argument("--rate-limit", type=float, default=4.0, help="requests per second per key (0: off)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API request")
    parser.add_argument("--seed-people", type=int, default=0, help="generate this many people at start")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generated data")


def run(args: argparse.Namespace) -> int:
    app = ActionNetworkApp(api_key=args.api_key, rate_limit=args.rate_limit)
    app.knobs.latency = args.latency
    if args.seed_people:
        from .generator import generate
        app.store.load(generate(people=args.seed_people, seed=args.seed))
    server = SandboxServer(app, host=args.host, port=args.port)
    server.serve_forever(f"{server.url}{API}/")
    return 0
