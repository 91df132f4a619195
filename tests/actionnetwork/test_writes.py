"""Writes over real HTTP: signup-helper upserts, PUT, unsubscribe, participations, donations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from an_sf_sync.actionnetwork.errors import ActionNetworkRequestError
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate


def test_upsert_creates_then_updates_without_touching_the_status(client) -> None:
    created = client.upsert_person({"email": "Sam@Example.org", "given_name": "Sam", "postal_code": "20009",
                                    "custom_fields": {"employer": "ACME"}}, add_tags=["volunteer"])
    assert created["email_status"] == "subscribed"  # AN subscribes new people sent without a status
    client.unsubscribe(created["an_id"])
    updated = client.upsert_person({"email": "sam@example.org", "family_name": "Lee", "street": "1 Main St\nApt 2",
                                    "city": "Springfield", "state": "IL", "given_name": None})
    assert updated["an_id"] == created["an_id"]
    assert updated["email_status"] == "unsubscribed"  # no status sent: unchanged
    assert (updated["given_name"], updated["family_name"]) == ("Sam", "Lee")  # None never erases
    assert updated["street"] == "1 Main St\nApt 2" and updated["state"] == "IL"
    assert updated["custom_fields"] == {"employer": "ACME"}
    assert client.get_person(created["an_id"])["email_status"] == "unsubscribed"


def test_upsert_changes_the_status_only_when_asked(client) -> None:
    person = client.upsert_person({"email": "ask@example.org"}, subscription="unsubscribed")
    assert person["email_status"] == "unsubscribed"
    assert client.upsert_person({"email": "ask@example.org"}, subscription="subscribed")["email_status"] == "subscribed"
    with pytest.raises(ValueError, match="subscription"):
        client.upsert_person({"email": "ask@example.org"}, subscription="bouncing")
    with pytest.raises(ValueError, match="email"):
        client.upsert_person({"given_name": "No email"})


def test_put_updates_and_background_requests(client) -> None:
    person = client.upsert_person({"email": "put@example.org", "given_name": "Old"})
    updated = client.update_person(person["an_id"], {"given_name": "New", "custom_fields": {"n": "1"}})
    assert updated["given_name"] == "New" and updated["email_status"] == "subscribed"
    assert client.update_person(person["an_id"], {"family_name": "Queued"}, background=True) == {}
    assert client.get_person(person["an_id"])["family_name"] == "Queued"
    assert client.upsert_person({"email": "bg@example.org"}, background=True) == {}
    assert client.unsubscribe(person["an_id"])["email_status"] == "unsubscribed"


@pytest.mark.parametrize(("action_type", "extra"), [
    ("form", {}),
    ("petition", {"comments": "Yes"}),
    ("event", {}),
    ("advocacy_campaign", {"targets": [{"given_name": "Jill", "family_name": "Black"}]}),
    ("survey", {}),
])
def test_participations_are_recorded_and_read_back(client, action_type: str, extra: dict) -> None:
    action = client.create_action(action_type, f"A {action_type}")
    assert action["action_type"] == action_type and action["origin_system"] == "Salesforce"
    person = client.upsert_person({"email": f"{action_type}@example.org"}, subscription="unsubscribed")
    taken = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    record = client.record_participation(action_type, action["an_id"], person_id=person["an_id"],
                                         created_date=taken, **extra)
    assert (record["action_id"], record["person_id"], record["created_date"]) == (
        action["an_id"], person["an_id"], taken)
    assert record["status"] == ("accepted" if action_type == "event" else None)
    assert [r["an_id"] for r in client.participations(action_type, action["an_id"])] == [record["an_id"]]
    assert client.get_person(person["an_id"])["email_status"] == "unsubscribed"  # linked by id: untouched


def test_participation_by_email_and_in_the_background(client) -> None:
    form = client.create_form("Salesforce Users")
    assert client.record_participation("form", form["an_id"], email="new@example.org", background=True) == {}
    (submission,) = client.participations("form", form["an_id"])
    assert submission["person_id"] == client.upsert_person({"email": "new@example.org"})["an_id"]
    with pytest.raises(ValueError, match="record_donation"):
        client.record_participation("fundraising_page", form["an_id"], email="x@example.org")


def test_donations_only_on_api_created_pages(client, an_sandbox) -> None:
    an_sandbox.app.store.load(generate(people=5, seed=1, fundraising_pages=6))  # most made "in the UI"
    page = client.create_fundraising_page("Salesforce Donations", currency="USD")
    assert page["action_type"] == "fundraising_page" and page["title"] == "Salesforce Donations"
    person = client.upsert_person({"email": "donor@example.org"})
    donation = client.record_donation(page["an_id"], "25.50", person_id=person["an_id"], currency="usd",
                                      recurring_period="Monthly", identifiers=["salesforce:006000000000001"])
    assert donation == {**donation, "fundraising_page_id": page["an_id"], "person_id": person["an_id"],
                        "amount": "25.50", "currency": "USD", "recurring": True, "period": "Monthly"}
    assert donation["an_id"] in {d["an_id"] for d in client.donations()}
    ui_page = next(a for a in an_sandbox.app.store.actions.values()
                   if a.kind == "fundraising_pages" and not a.api_created)
    with pytest.raises(ActionNetworkRequestError, match="created via the API"):
        client.record_donation(ui_page.id, "1.00", person_id=person["an_id"])


def test_custom_fields_names(client, load_people) -> None:
    load_people(5)
    assert {"employer", "Join Date", "is_volunteer"} <= set(client.custom_fields())
