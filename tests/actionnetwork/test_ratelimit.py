"""The shared token bucket: even spacing across threads, and no 429 from a rate-limited server."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from an_sf_sync.actionnetwork.ratelimit import TokenBucket


def test_bucket_spaces_requests_from_many_threads() -> None:
    bucket = TokenBucket(50.0, margin=0.0)
    grants: list[float] = []

    def take() -> None:
        bucket.acquire()
        grants.append(time.monotonic())

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        for _ in range(40):
            pool.submit(take)
    grants.sort()
    # no bursts: any 6 consecutive grants span 5 intervals, give or take thread wake-up skew
    assert min(b - a for a, b in zip(grants, grants[5:], strict=False)) > 5 * 0.02 - 0.01
    assert 39 * 0.02 * 0.9 < grants[-1] - started < 39 * 0.02 + 0.3


def test_pause_pushes_every_slot_back() -> None:
    bucket = TokenBucket(1000.0)
    bucket.acquire()
    bucket.pause(0.2)
    started = time.monotonic()
    bucket.acquire()
    assert time.monotonic() - started >= 0.18


def test_no_429_at_the_limit_under_concurrency(make_client, load_people, an_sandbox) -> None:
    """30 requests from 8 threads at 4/s against a server that refuses a 5th in any second."""
    load_people(30)
    ids = [p["an_id"] for p in make_client().people()]
    an_sandbox.app.rate_limit = 4.0
    an_sandbox.app.knobs.latency = 0.3
    client = make_client(requests_per_second=4.0)
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        people = list(pool.map(client.get_person, ids))
    elapsed = time.monotonic() - started
    assert [p["an_id"] for p in people] == ids
    assert client.throttled == 0 and an_sandbox.app.stats.throttled == 0
    assert client.requests_made == 30
    achieved = 29 / (elapsed - 0.3)  # 29 gaps between 30 sends; the last answer takes one latency
    assert achieved >= 0.95 * 4.0, f"{achieved:.2f} requests/s"
