"""The emulator's answers against responses recorded from, or documented for, the real Action Network API.

Each file under ``tests/sandbox/recorded/actionnetwork/`` is one exchange transcribed from the
sources it names; the emulator, seeded with generated data, must answer the same request with the
same status, content type and structure (see :mod:`tests.sandbox.shapes`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from an_sf_sync_dev.sandbox.actionnetwork.generator import generate
from an_sf_sync_dev.sandbox.actionnetwork.server import ActionNetworkApp
from tests.fixtures.actionnetwork import AN_API_KEY, ANSandbox, serve
from tests.sandbox import shapes

RECORDED = shapes.load("actionnetwork")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ANSandbox]:
    app = ActionNetworkApp(api_key=AN_API_KEY, rate_limit=0)
    app.store.load(generate(people=300, seed=3, now="2026-01-01T00:00:00Z"))
    yield from serve(app)


def _with_children(app: ActionNetworkApp, kind: str, api_created: bool | None = None) -> str:
    store = app.store
    return next(a.id for a in store.action_order[kind] if store.children.get(a.id)
                and (api_created is None or a.api_created == api_created))


@pytest.fixture(scope="module")
def placeholders(sandbox: ANSandbox) -> dict[str, str]:
    app = sandbox.app
    store = app.store
    person = store.people_order[0]
    taker = next(p for p in store.people_order if any(r.kind == "submissions" for r in p.activity or ()))
    return {"tag_id": next(t.id for t in store.tag_order if store.children.get(t.id)),
            "donation_id": store.donation_order[0].id, "taker_id": taker.id,"form_id": _with_children(app, "forms"), "petition_id": _with_children(app, "petitions"),
            "event_id": _with_children(app, "events"),
            "advocacy_campaign_id": _with_children(app, "advocacy_campaigns"),
            "survey_id": _with_children(app, "surveys"),
            "api_page_id": next(a.id for a in app.store.action_order["fundraising_pages"] if a.api_created),
            "person_id": person.id, "person_href": f"{sandbox.url}people/{person.id}"}



def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in values.items():
            value = value.replace(f"{{{name}}}", replacement)
        return value
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


@pytest.mark.parametrize("recorded", RECORDED, ids=shapes.ids(RECORDED))
def test_answer_has_the_recorded_shape(recorded: shapes.Recorded, sandbox: ANSandbox,
                                       placeholders: dict[str, str]) -> None:
    request = recorded.request
    sandbox.app.rate_limit = 1 if request.get("burst") else 0
    try:
        for _ in range(3 if request.get("burst") else 1):  # a burst: the third request in a second is refused
            response = requests.request(
                request["method"], sandbox.url + _fill(request["path"], placeholders),
                json=_fill(request.get("body"), placeholders) if "body" in request else None,
                headers={"OSDI-API-Token": request.get("api_key", sandbox.api_key)}, timeout=10)
    finally:
        sandbox.app.rate_limit = 0

    assert response.status_code == recorded.status, response.text[:500]
    if recorded.content_type:
        assert response.headers["Content-Type"].split(";")[0] == recorded.content_type
    if recorded.body is None:
        return
    body = response.json()
    for rel, items in (body.get("_embedded") or {}).items():
        if rel.split(":")[0] in ("osdi", "action_network") and rel != "osdi:creator":
            assert items, f"{rel}: an empty page proves nothing; seed data for it"
    diffs = recorded.compare(body)
    assert not diffs, "\n".join(diffs)
