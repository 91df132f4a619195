"""The seed-data generator: deterministic, full of real-world quirks, fast and compact."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter

import pytest

from an_sf_sync_dev.sandbox.actionnetwork import hal
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate
from an_sf_sync_dev.sandbox.actionnetwork.records import EMAIL_STATUSES, parse_time
from an_sf_sync_dev.sandbox.actionnetwork.store import Store

NOW = "2026-03-01T00:00:00Z"


@pytest.fixture(scope="module")
def data():
    return generate(people=5000, seed=7, now=NOW, days=90)


def _snapshot(dataset):
    return [hal.person("", p) for p in dataset.people[:200]], [
        (r.id, r.kind, r.person_id, r.parent_id, r.created, r.fields) for r in dataset.participations[:500]]


def test_same_seed_same_data_other_seed_other_data():
    one, two = generate(people=300, seed=5, now=NOW), generate(people=300, seed=5, now=NOW)
    assert _snapshot(one) == _snapshot(two)
    assert [a.id for a in one.actions] == [a.id for a in two.actions]
    assert _snapshot(generate(people=300, seed=6, now=NOW)) != _snapshot(one)


def test_people_quirks(data):
    people = data.people
    emails = [e for p in people for e in p.emails]
    assert all(sum(e.primary for e in p.emails) == 1 for p in people if p.emails)
    assert {e.status for e in emails} == set(EMAIL_STATUSES)
    assert any(len(p.emails) > 1 and len({e.address for e in p.emails}) == 1 for p in people)  # duplicates
    assert any(len({e.address for e in p.emails}) > 1 for p in people)
    addresses = [e.address for e in emails]
    assert any("@" not in a for a in addresses)
    assert any(re.fullmatch(r"[^@]+@[^.]+", a) for a in addresses)  # "a@b"
    assert any(a != a.strip() for a in addresses)
    assert any(a != a.lower() for a in addresses)
    domains = {a.strip().rsplit("@", 1)[-1].lower() for a in addresses if "@" in a and "." in a.split("@")[-1]}
    assert domains <= {"example.org", "example.com", "example.net"}
    assert any(not p.emails and p.phones for p in people)  # phone-only
    assert any(p.phones is None for p in people) and any(p.phones for p in people)
    assert any(p.family_name is None for p in people)
    assert any(not (p.given_name or "").isascii() for p in people)
    assert any(re.search(r"[\u3040-\u9fff]", (p.family_name or "") + (p.given_name or "")) for p in people)
    postal = [a.postal_code for p in people for a in p.addresses]
    assert None in postal and any(re.fullmatch(r"\d{5}-\d{4}", c or "") for c in postal)
    assert any(a.country is None for p in people for a in p.addresses)
    assert any(not p.addresses for p in people)
    fields = [p.custom_fields for p in people if p.custom_fields]
    assert any(isinstance(v, bool) for f in fields for v in f.values())
    assert any(isinstance(v, int) and not isinstance(v, bool) for f in fields for v in f.values())
    assert any(" " in name for f in fields for name in f)
    identifiers = [p.identifiers for p in people if p.identifiers]
    assert any(not ids[0].startswith("action_network:") for ids in identifiers)


def test_dates_stay_in_the_window(data):
    end = parse_time(NOW)
    start = end - 90 * 86400
    assert all(start <= p.created <= p.modified <= end for p in data.people)
    spread = Counter((p.created - start) * 3 // (end - start) for p in data.people)
    assert len(spread) == 3  # spread over the whole period
    people = {p.id: p for p in data.people}
    assert all(r.created <= people[r.person_id].modified for r in data.participations)


def test_actions_and_participations(data):
    kinds = Counter(a.kind for a in data.actions)
    assert set(kinds) == {"forms", "petitions", "events", "event_campaigns", "fundraising_pages",
                          "advocacy_campaigns", "surveys"}
    events = [a for a in data.actions if a.kind == "events"]
    assert any(e.campaign_id for e in events) and any(e.ticketed for e in events)
    assert any(a.api_created for a in data.actions if a.kind == "fundraising_pages")
    assert any(a.api_created for a in data.actions if a.kind == "advocacy_campaigns")
    done = Counter(r.kind for r in data.participations)
    assert set(done) == {"submissions", "signatures", "attendances", "donations", "outreaches", "taggings",
                         "responses"}
    responses = [(r.person_id, r.parent_id) for r in data.participations if r.kind == "responses"]
    assert len(set(responses)) == len(responses)  # one response per person per survey
    ticketed = {e.id for e in events if e.ticketed}
    assert not any(r.parent_id in ticketed for r in data.participations)
    donations = [r.fields for r in data.participations if r.kind == "donations"]
    periods = {d["action_network:recurrence"].get("period") for d in donations}
    assert {"", "monatlich"} <= periods and "Monthly" in periods
    assert any(not d["action_network:recurrence"]["recurring"] for d in donations)
    assert any(d["currency"] == "usd" for d in donations)
    assert any(d.get("amount") == "0.00" for d in donations) and any("amount" not in d for d in donations)


def test_loads_into_the_store_and_renders(data):
    store = Store()
    counts = store.load(data)
    assert counts["people"] == 5000 and counts["donations"] > 0
    json.dumps([hal.person("http://x/api/v2", p) for p in store.people_order[:100]])


def test_100k_people_generate_and_load_fast_and_small():
    """Run in a fresh interpreter so peak memory is this dataset's alone."""
    script = (
        "import time, resource; from an_sf_sync_dev.sandbox.actionnetwork.generator import generate;"
        "from an_sf_sync_dev.sandbox.actionnetwork.store import Store;"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; t = time.perf_counter();"
        "s = Store(); s.load(generate(people=100_000, seed=1));"
        "print(time.perf_counter() - t, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024,"
        " s.counts()['people'])")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    seconds, megabytes, count = out.split()
    assert int(count) == 100_000
    assert float(seconds) < 10  # ~2 s here; a million stays well under a minute
    assert float(megabytes) < 400  # ~1.5 KB per person with actions: a million fit in a few GB


@pytest.mark.slow
def test_a_million_people():
    script = (
        "import time, resource; from an_sf_sync_dev.sandbox.actionnetwork.generator import generate;"
        "from an_sf_sync_dev.sandbox.actionnetwork.store import Store; t = time.perf_counter();"
        "s = Store(); s.load(generate(people=1_000_000, seed=1));"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    seconds, megabytes = map(float, out.split())
    assert seconds < 50 and megabytes < 3000
