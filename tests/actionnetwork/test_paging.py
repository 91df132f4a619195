"""Paging over real HTTP: where collections stop, how many requests that takes, order, duplicates."""

from __future__ import annotations

import threading

import pytest

from an_sf_sync.actionnetwork.client import PAGE_SIZE


@pytest.mark.parametrize(("people", "requests"), [
    (0, 1),     # an empty collection: one empty page
    (30, 2),    # the short second page ends it; no third request
    (50, 3),    # an exact multiple needs the empty page after it ...
    (75, 4),    # ... even though "next" is present on the last full page
])
def test_people_paging_stops_with_the_minimum_requests(client, load_people, people: int, requests: int) -> None:
    load_people(people)
    found = list(client.people())
    assert len(found) == people
    assert len({p["an_id"] for p in found}) == people
    assert client.requests_made == requests


def test_speculative_window_overshoots_by_at_most_ten_percent(make_client, load_people, an_sandbox) -> None:
    load_people(40 * PAGE_SIZE + 7)  # 41 pages
    an_sandbox.app.knobs.latency = 0.05  # gives the window a latency to size itself to
    client = make_client(requests_per_second=100.0)
    found = list(client.people())
    assert len(found) == 40 * PAGE_SIZE + 7
    assert 41 <= client.requests_made <= 41 + 4  # 1.1x of the minimum
    assert client._speculative_window(40) > 1  # it did page ahead


def test_people_come_out_in_the_same_order_every_time(client, load_people) -> None:
    load_people(130)
    first = [p["an_id"] for p in client.people()]
    assert first == [p["an_id"] for p in client.people()]


def test_records_shifting_between_pages_are_not_duplicated(client, load_people) -> None:
    load_people(4 * PAGE_SIZE)
    original = {p["an_id"] for p in client.people()}
    seen: list[str] = []
    for person in client.people():
        seen.append(person["an_id"])
        if len(seen) == PAGE_SIZE:  # between pages 1 and 2, new people push the rest down
            for i in range(PAGE_SIZE):
                client.upsert_person({"email": f"shift{i}@example.org"})
    assert len(seen) == len(set(seen))
    assert original <= set(seen)


def test_collections_with_totals_stop_at_total_pages(client) -> None:
    form = client.create_form("Paging test")
    people = [client.upsert_person({"email": f"p{i}@example.org"}) for i in range(2 * PAGE_SIZE)]
    for person in people:
        client.record_participation("form", form["an_id"], person_id=person["an_id"])
    before = client.requests_made
    submissions = list(client.participations("form", form["an_id"]))
    assert client.requests_made - before == 2  # total_pages == 2: no empty third page
    assert {s["person_id"] for s in submissions} == {p["an_id"] for p in people}
    assert all(s["action_id"] == form["an_id"] and s["action_type"] == "form" for s in submissions)


def test_empty_collection_with_totals(client) -> None:
    form = client.create_form("Nobody came")
    before = client.requests_made
    assert list(client.participations("form", form["an_id"])) == []
    assert client.requests_made - before == 1


def test_abandoning_an_iteration_stops_paging(make_client, load_people, an_sandbox) -> None:
    load_people(20 * PAGE_SIZE)
    an_sandbox.app.knobs.latency = 0.02
    client = make_client()
    iterator = client.people()
    next(iterator)
    iterator.close()
    made = client.requests_made
    threading.Event().wait(0.2)  # nothing in flight keeps going
    assert client.requests_made == made <= 3
