"""``POST /services/data/vNN.N/composite``: several REST requests in one API call.

The whole request counts once against the API budget, as the reference says (§6); its subrequests
run in order through the same handlers as on their own and are not counted again. Decisions on
items the reference marks UNCONFIRMED or does not cover: more than 25 subrequests, or more than 5
that are queries or sObject Collections calls, are refused with 400 ``INVALID_INPUT`` before any
runs; ``allOrNone`` and references between subrequests (``@{ref.id}``) are not emulated, and a
body using a reference is refused the same way, so a client relying on them finds out here.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ..http import Request, Response
from .errors import SfError

if TYPE_CHECKING:
    from .server import SalesforceApp

MAX_SUBREQUESTS = 25
MAX_QUERIES = 5  # queries and sObject Collections calls among them
_LIMITED = re.compile(r"^/services/data/v[\d.]+/(query|queryAll|composite/sobjects)(/|$)")


class Composite:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app
        app.route("POST", "/services/data/{version}/composite", self.composite, "composite")

    def composite(self, request: Request) -> Response:
        body = request.json() if request.body else None
        items = body.get("compositeRequest") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise SfError("INVALID_INPUT", "compositeRequest: a list of subrequests is required", about_record=False)
        if len(items) > MAX_SUBREQUESTS:
            raise SfError("INVALID_INPUT", f"A composite request may hold at most {MAX_SUBREQUESTS} subrequests",
                          about_record=False)
        urls = [str(item.get("url", "")) if isinstance(item, dict) else "" for item in items]
        if sum(1 for url in urls if _LIMITED.match(urlsplit(url).path)) > MAX_QUERIES:
            raise SfError("INVALID_INPUT", f"A composite request may hold at most {MAX_QUERIES} query or "
                          "sObject Collections subrequests", about_record=False)
        if "@{" in json.dumps(items):
            raise SfError("INVALID_INPUT", "references between subrequests are not supported by this sandbox",
                          about_record=False)
        return Response.json({"compositeResponse": [self._one(request, item) for item in items]})

    def _one(self, outer: Request, item: dict[str, Any]) -> dict[str, Any]:
        url = urlsplit(str(item.get("url", "")))
        inner = Request(method=str(item.get("method", "GET")).upper(), path=url.path.rstrip("/") or "/",
                        query=parse_qs(url.query),
                        headers={**outer.headers, **{k.lower(): v for k, v in (item.get("httpHeaders") or {}).items()}},
                        body=json.dumps(item["body"]).encode("utf-8") if "body" in item else b"",
                        base_url=outer.base_url)
        handler, params, known = self.app.router.match(inner.method, inner.path)
        if handler is None:
            response = self.app.method_not_allowed(inner) if known else self.app.not_found(inner)
        else:
            inner.params = params
            response = handler(inner)
        return {"body": json.loads(response.body) if response.body else None, "httpHeaders": {},
                "httpStatusCode": response.status, "referenceId": item.get("referenceId")}
