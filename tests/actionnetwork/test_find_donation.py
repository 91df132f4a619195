"""Finding a donation again by a foreign identifier, over real HTTP."""

from __future__ import annotations

from typing import Any


def test_find_donation_by_identifier(client, an_sandbox: Any) -> None:
    an_sandbox.app.store.load_records({
        "people": [{"id": "p1", "email_addresses": [{"address": "donor@example.org"}]}],
        "fundraising_pages": [{"id": "page1", "title": "Salesforce Donations", "api_created": True}]})
    assert client.find_donation("salesforce:0061x000001") is None
    made = client.record_donation("page1", "12.50", person_id="p1", identifiers=["salesforce:0061x000001"])
    client.record_donation("page1", "3.00", person_id="p1", identifiers=["salesforce:0061x000002"])
    found = client.find_donation("salesforce:0061x000001")
    assert found is not None and found["an_id"] == made["an_id"] and found["amount"] == "12.50"
    assert client.find_donation("salesforce:it's-not-there") is None  # a quote in the value is escaped
