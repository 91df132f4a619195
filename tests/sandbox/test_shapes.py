"""The structural comparison finds what differs and lets through what real data varies in."""

from __future__ import annotations

from tests.sandbox.shapes import Shape, differences, route

RECORDED = {"identifiers": ["action_network:d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3", "free_forms:1"],
            "created_date": "2014-03-20T21:04:31Z", "amount": "20.01", "hidden": False,
            "location": {"latitude": None},
            "_links": {"self": {"href": "https://actionnetwork.org/api/v2/forms/d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3"}}}


def _actual(**changes: object) -> dict[str, object]:
    doc = {"identifiers": ["salsa:1", "action_network:0f0f0f0f-0000-4000-a000-000000000001"],
           "created_date": "2026-01-01T00:00:00Z", "amount": "5.00", "hidden": True,
           "location": {"latitude": 38.9},
           "_links": {"self": {"href": "http://127.0.0.1:9/api/v2/forms/0f0f0f0f-0000-4000-a000-000000000001"}}}
    doc.update(changes)
    return doc


def test_same_shape_other_values_is_no_difference() -> None:
    assert differences(RECORDED, _actual()) == []


def test_missing_extra_and_mistyped_keys_are_reported() -> None:
    actual = _actual(hidden="false", total=3)
    del actual["amount"]
    assert sorted(differences(RECORDED, actual)) == [
        "amount: missing", "hidden: string where boolean was recorded", "total: not in the recorded payload"]


def test_formats_and_link_routes_are_compared() -> None:
    actual = _actual(created_date="2026-01-01 00:00:00", amount="5",
                     _links={"self": {"href": "http://127.0.0.1:9/api/v2/petitions/0f0f0f0f-0000-4000-a000-000000000001"}})
    found = differences(RECORDED, actual)
    assert any(line.startswith("created_date:") for line in found)
    assert any(line.startswith("amount:") for line in found)
    assert any(line.startswith("_links.self.href:") for line in found)


def test_the_shape_says_what_may_be_absent_added_or_null() -> None:
    actual = _actual(extra_field=1, location={"latitude": None}, identifiers=None)
    del actual["amount"]
    shape = Shape(optional={"amount"}, extra={"extra_field"}, nullable={"identifiers"})
    assert differences(RECORDED, actual, shape) == []
    assert differences(RECORDED, actual) != []


def test_routes_generalise_ids_and_versions() -> None:
    assert route("https://x.my.salesforce.com/services/data/v59.0/sobjects/Contact/003000000000001AAA") == \
        "/services/data/{version}/sobjects/Contact/{id}"
