"""The rate limit, injected faults, latency, the control path and request stats."""

from __future__ import annotations

import time

import pytest
import requests

from an_sf_sync_dev.sandbox.actionnetwork.ratelimit import RateLimiter
from an_sf_sync_dev.sandbox.actionnetwork.server import html_404_fault


def test_rolling_window_counts_arrivals_and_not_refusals():
    limiter = RateLimiter(4)
    assert [limiter.allow("k", t) for t in (0.0, 0.0, 0.9, 0.9)] == [True] * 4
    assert not limiter.allow("k", 0.95)  # a fifth inside the window
    assert limiter.allow("other", 0.95)  # limits are per key
    assert [limiter.allow("k", 1.0) for _ in range(3)] == [True, True, False]  # 0.0s left; 0.9s still in
    assert not limiter.allow("k", 1.89)
    assert limiter.allow("k", 1.91)  # refused arrivals never extended the window
    assert all(RateLimiter(0).allow("k", 0.0) for _ in range(100))


def test_http_429_at_the_limit_and_recovery(an):
    an.sandbox.app.rate_limit = 4
    start = time.monotonic()
    assert [an.get("people").status_code for _ in range(4)] == [200] * 4
    refused = an.get("people")
    assert refused.status_code == 429 and refused.json() == {"error": "Too many requests"}
    while time.monotonic() - start < 0.7:  # keep hammering: refusals must not consume quota
        assert an.get("people").status_code == 429
        time.sleep(0.05)
    time.sleep(max(0.0, start + 1.05 - time.monotonic()))
    assert [an.get("people").status_code for _ in range(4)] == [200] * 4
    assert an.control("GET", "stats")["throttled"] >= 2
    for _ in range(5):  # the control path is never limited
        an.control("GET", "knobs")


def test_no_429_below_the_limit(an):
    an.control("POST", "knobs", {"rate_limit": 4})
    statuses = []
    for _ in range(9):
        statuses.append(an.get("tags").status_code)
        time.sleep(0.26)
    assert statuses == [200] * 9


@pytest.mark.parametrize("fault, status, body", [
    ({"status": 429}, 429, {"error": "Too many requests"}),
    ({"status": 500}, 500, {"error": "Internal Server Error"}),
    ({"status": 503, "body": '{"error": "down"}'}, 503, {"error": "down"}),
])
def test_injected_json_faults(an, fault, status, body):
    an.control("POST", "faults", {**fault, "count": 2, "path": "/people"})
    assert an.get("tags").status_code == 200  # other paths unaffected
    for _ in range(2):
        response = an.get("people")
        assert (response.status_code, response.json()) == (status, body)
    assert an.get("people").status_code == 200


def test_injected_html_404(an):
    an.sandbox.app.knobs.add_fault(html_404_fault(path="/donations"))
    response = an.get("donations")
    assert response.status_code == 404 and response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()
    an.control("POST", "faults", {"status": 404, "content_type": "text/html"})
    assert "<html>" in an.get("people").text


def test_injected_timeout_and_latency(an):
    an.control("POST", "faults", {"status": 200, "timeout": 0.5, "method": "GET"})
    start = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(an.url("people"), headers={"OSDI-API-Token": an.sandbox.api_key}, timeout=0.2)
    time.sleep(max(0.0, start + 0.6 - time.monotonic()))  # let the hung request finish before the next test
    an.control("POST", "knobs", {"latency": 0.3})
    start = time.monotonic()
    assert an.get("people").status_code == 200
    assert time.monotonic() - start >= 0.3
    an.control("POST", "faults", {"status": 500, "count": 5})
    an.control("DELETE", "faults")
    assert an.get("people").status_code == 200
    assert an.control("GET", "knobs")["latency"] == 0.3


def test_stats_count_requests_by_method_and_family(an):
    an.seed(people=[{"id": "p1", "email_addresses": [{"address": "a@example.org"}]}])
    an.get("people")
    an.get("people/p1")
    an.get("people/p1/submissions")
    an.put("people/p1", {"given_name": "A"})
    stats = an.control("GET", "stats")
    assert stats["requests"] == {"GET people": 2, "GET people/submissions": 1, "PUT people": 1}
    assert stats["records"]["people"] == 1
    assert an.sandbox.app.stats.count(method="GET") == 3
    an.control("POST", "stats/reset")
    assert an.control("GET", "stats")["total"] == 0


def test_seed_by_generator_options_and_reset(an):
    counts = an.control("POST", "seed", {"people": 30, "seed": 2, "now": "2026-01-01T00:00:00Z"})
    assert counts["people"] == 30 and counts["forms"] >= 1
    email = an.get("people").json()["_embedded"]["osdi:people"][0]["email_addresses"][0]["address"]
    assert an.control("GET", f"people?email={email.strip().upper()}")["people"]
    an.control("POST", "reset")
    assert an.get("people").json()["_embedded"]["osdi:people"] == []
    bad = requests.post(f"{an.sandbox.server.url}/__sandbox__/faults", json={"nope": 1}, timeout=5)
    assert bad.status_code == 400


def test_function_scoped_fixture_starts_clean(an_sandbox):
    assert an_sandbox.url.endswith("/api/v2/") and an_sandbox.app.rate_limit == 0
    response = requests.get(an_sandbox.url + "people", headers={"OSDI-API-Token": an_sandbox.api_key}, timeout=5)
    assert response.json()["_embedded"]["osdi:people"] == []


def test_seeded_fixture_pages_through_generated_people(an_sandbox_seeded):
    headers = {"OSDI-API-Token": an_sandbox_seeded.api_key}
    seen, url = 0, an_sandbox_seeded.url + "people"
    while True:
        page = requests.get(url, headers=headers, timeout=5).json()
        if not page["_embedded"]["osdi:people"]:
            break
        seen += len(page["_embedded"]["osdi:people"])
        url = page["_links"]["next"]["href"]
    assert seen == 300


def test_a_client_that_hangs_up_is_not_reported_as_a_server_error(an, capsys):
    server = an.sandbox.server._httpd
    for error in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset by peer"), KeyError("a bug")):
        try:
            raise error
        except Exception:
            server.handle_error(None, ("127.0.0.1", 50000))
    printed = capsys.readouterr().err
    assert "KeyError: 'a bug'" in printed
    assert "BrokenPipeError" not in printed and "ConnectionResetError" not in printed
