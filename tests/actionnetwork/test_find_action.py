"""Finding an action again by the foreign identifier it was created with."""

from __future__ import annotations


def test_find_action_by_foreign_identifier(client) -> None:
    created = client.create_form("From Salesforce", identifiers=["salesforce:701000000000001AAA"])
    client.create_form("Another form", identifiers=["salesforce:701000000000002AAA"])
    found = client.find_action("form", "salesforce:701000000000001AAA")
    assert found is not None and found["an_id"] == created["an_id"] and found["title"] == "From Salesforce"
    assert client.find_action("form", "salesforce:701000000000009AAA") is None
    assert client.find_action("petition", "salesforce:701000000000001AAA") is None  # other collection


def test_find_action_finds_nothing_without_a_match_and_escapes_quotes(client) -> None:
    client.create_form("Plain form")
    assert client.find_action("form", "salesforce:701000000000009AAA") is None
    assert client.find_action("form", "salesforce:it's") is None  # a quote is escaped, not a 400
