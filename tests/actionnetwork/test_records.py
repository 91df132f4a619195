"""Normalization of the untidy shapes real Action Network records come in."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from an_sf_sync.actionnetwork import records

UUID = "d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3"


def test_person_identifier_in_any_position_and_multiple_emails() -> None:
    raw = {
        "identifiers": ["salsa:0000000", f"action_network:{UUID}", "mobilize:1"],
        "created_date": "2014-03-25T15:26:45Z", "modified_date": "2022-04-06T14:20:49Z",
        "given_name": "Ana", "family_name": "Ruiz",
        "email_addresses": [
            {"address": "old@example.org", "status": "bouncing"},
            {"primary": True, "address": "  Ana.Ruiz@Example.ORG ", "status": "unsubscribed"},
            {"address": "old@example.org", "status": "bouncing"},
        ],
        "postal_addresses": [
            {"address_lines": ["1 Side St"], "locality": "Elsewhere"},
            {"primary": True, "address_lines": ["1600 Pennsylvania Ave.", "Suite 2"],
             "locality": "Washington", "region": "DC", "postal_code": "20009-0000"},
        ],
        "custom_fields": {"employer": "ACME", "checkbox value": 1, "logical value": True},
    }
    person = records.person(raw)
    assert person == {
        "an_id": UUID, "email": "Ana.Ruiz@Example.ORG", "email_status": "unsubscribed",
        "other_emails": ["old@example.org"],  # the person's other addresses, each once
        "given_name": "Ana", "family_name": "Ruiz", "street": "1600 Pennsylvania Ave.\nSuite 2",
        "city": "Washington", "state": "DC", "postal_code": "20009-0000", "country": None,
        "custom_fields": {"employer": "ACME", "checkbox value": 1, "logical value": True},
        "created_date": datetime(2014, 3, 25, 15, 26, 45, tzinfo=UTC),
        "modified_date": datetime(2022, 4, 6, 14, 20, 49, tzinfo=UTC),
    }
    # everything but the dates is plain JSON
    json.dumps({k: v for k, v in person.items() if not k.endswith("_date")})


def test_person_missing_everything_but_identity() -> None:
    person = records.person({"identifiers": [f"action_network:{UUID}"], "given_name": "",
                             "email_addresses": [{"address": "x@example.org"}],
                             "postal_addresses": [{"region": "", "location": {"latitude": None}}]})
    assert person["an_id"] == UUID
    assert person["email"] == "x@example.org" and person["email_status"] is None
    assert all(person[key] is None for key in ("given_name", "family_name", "street", "city", "state",
                                               "postal_code", "country", "created_date", "modified_date"))
    assert person["custom_fields"] == {}


def test_a_street_we_write_reads_back_the_same_blank_lines_and_all() -> None:
    from an_sf_sync.actionnetwork.client import _person_body

    for street in ("9 Elm\n\nUnit \\5", "1 Main St\r\nRear\n", "\tOne line "):
        body = _person_body({"email": "x@example.org", "street": street}, None, nulls=True)
        assert records.person({**body, "identifiers": [f"action_network:{UUID}"]})["street"] == street
    assert records.person({"postal_addresses": [{"address_lines": ["", " ", None]}]})["street"] is None


def test_person_without_identifiers_falls_back_to_self_link() -> None:
    raw = {"_links": {"self": {"href": f"https://actionnetwork.org/api/v2/people/{UUID}"}}}
    assert records.person(raw)["an_id"] == UUID
    assert records.person(raw)["email"] is None


def test_dates_with_offsets_become_utc() -> None:
    assert records.parse_date("2026-01-01T02:00:00+02:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert records.parse_date("2026-01-01T00:00:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert records.format_date(datetime(2026, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


def test_event_carries_its_campaign_and_other_actions_do_not() -> None:
    event = {"identifiers": [f"action_network:{UUID}"], "title": "Rally", "origin_system": "Action Network",
             "_links": {"action_network:event_campaign": {"href": ".../event_campaigns/abc"}}}
    assert records.action(event, "event")["event_campaign_id"] == "abc"
    assert records.action({**event, "action_network:event_campaign_id": "xyz"}, "event")[
        "event_campaign_id"] == "xyz"
    form = records.action({**event, "title": None, "name": "Admin name"}, "form")
    assert form["event_campaign_id"] is None and form["title"] == "Admin name"
    with pytest.raises(ValueError, match="unknown action type"):
        records.action(event, "upload")


def test_participation_reads_the_docs_typo_and_links() -> None:
    typo = {"identifiers": ["action_network:s1"], "action:person_id": "p1"}
    assert records.participation(typo, "form", "f1") == {
        "an_id": "s1", "action_type": "form", "action_id": "f1", "person_id": "p1", "status": None,
        "created_date": None, "modified_date": None}
    linked = {"identifiers": ["action_network:a1"], "status": "accepted",
              "_links": {"osdi:person": {"href": "https://x/api/v2/people/p2"},
                         "osdi:event": {"href": "https://x/api/v2/events/e2"}}}
    attendance = records.participation(linked, "event")
    assert (attendance["person_id"], attendance["action_id"], attendance["status"]) == ("p2", "e2", "accepted")


def test_donation_quirks() -> None:
    refund = {"identifiers": ["act_blue:9", "action_network:d1"], "currency": "usd",
              "action_network:recurrence": {"recurring": True, "period": "monatlich"},
              "action_network:fundraising_page_id": "fp", "action_network:person_id": "p"}
    assert records.donation(refund) == {
        "an_id": "d1", "fundraising_page_id": "fp", "person_id": "p", "amount": None, "currency": "USD",
        "recurring": True, "period": "monatlich", "created_date": None, "modified_date": None}
    split = {"identifiers": ["action_network:d2"],
             "recipients": [{"display_name": "A", "amount": "6.67"}, {"display_name": "B", "amount": "3.33"}],
             "action_network:recurrence": {"recurring": False, "period": ""}}
    donation = records.donation(split)
    assert donation["amount"] == "10.00" and donation["currency"] is None
    assert donation["recurring"] is False and donation["period"] is None
    assert records.donation({"amount": "0.00"})["amount"] == "0.00"
