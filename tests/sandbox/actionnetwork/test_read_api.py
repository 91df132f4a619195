"""Reads: entry point, auth, HAL envelopes, paging, filters, nested collections, errors."""

from __future__ import annotations

import pytest
import requests

from .conftest import an_id, people


def test_entry_point_answers_bad_keys_without_protected_links(an):
    good = an.get("")
    bad = requests.get(an.base, headers={"OSDI-API-Token": "wrong"}, timeout=5)
    assert good.status_code == bad.status_code == 200
    assert good.json()["max_page_size"] == 25
    assert "osdi:tags" in good.json()["_links"] and "osdi:people" in good.json()["_links"]
    assert "osdi:tags" not in bad.json()["_links"]
    assert good.headers["Content-Type"].startswith("application/hal+json")


@pytest.mark.parametrize("headers", [{}, {"OSDI-API-Token": "wrong"}, {"api-key": "test-key"}])
def test_protected_resources_refuse_bad_or_missing_keys(an, headers):
    response = requests.get(an.url("people"), headers=headers, timeout=5)
    assert response.status_code == 403
    assert response.json() == {"error": "API Key invalid or not present"}


def test_collection_is_hal_with_every_item_embedded_and_linked(an):
    an.seed(people=people(3), forms=[{"title": "F"}])
    body = an.get("people").json()
    embedded = body["_embedded"]["osdi:people"]
    hrefs = [link["href"] for link in body["_links"]["osdi:people"]]
    assert hrefs == [p["_links"]["self"]["href"] for p in embedded]
    assert [c["name"] for c in body["_links"]["curies"]] == ["osdi", "action_network"]
    assert "total_pages" not in body and "total_records" not in body
    person = an.get(hrefs[0]).json()
    assert person == embedded[0]
    assert person["_links"]["osdi:submissions"]["href"].endswith(f"/people/{an_id(person)}/submissions")
    forms = an.get("forms").json()
    assert forms["total_records"] == 1 and forms["total_pages"] == 1
    assert forms["_embedded"]["osdi:forms"][0]["_links"]["osdi:record_submission_helper"]


def test_people_are_ordered_stably_but_not_by_modified_date(an):
    dates = [f"2026-01-{d:02d}T00:00:00Z" for d in range(1, 21)]
    an.seed(people=[{**p, "modified_date": d} for p, d in zip(people(20), dates, strict=True)])
    first = [an_id(p) for p in an.get("people").json()["_embedded"]["osdi:people"]]
    again = [an_id(p) for p in an.get("people").json()["_embedded"]["osdi:people"]]
    modified = [p["modified_date"] for p in an.get("people").json()["_embedded"]["osdi:people"]]
    assert first == again == sorted(first)
    assert modified != sorted(modified)


def test_paging_an_exact_multiple_of_25(an):
    an.seed(people=people(50))
    page1, page2, page3 = (an.get(f"people?page={n}").json() for n in (1, 2, 3))
    assert len(page1["_embedded"]["osdi:people"]) == len(page2["_embedded"]["osdi:people"]) == 25
    assert page2["_links"]["next"]["href"].endswith("people?page=3")  # present on the last page
    assert page3["_embedded"]["osdi:people"] == [] and "next" not in page3["_links"]
    ids = {an_id(p) for p in page1["_embedded"]["osdi:people"] + page2["_embedded"]["osdi:people"]}
    assert len(ids) == 50


def test_paging_totals_and_empty_collections(an):
    empty = an.get("forms").json()
    assert empty["_embedded"]["osdi:forms"] == [] and "next" not in empty["_links"]
    assert empty["total_records"] == 0
    an.seed(forms=[{"title": f"F{i}"} for i in range(26)])
    page1, page2 = an.get("forms").json(), an.get("forms?page=2").json()
    assert (page1["total_pages"], page1["total_records"]) == (2, 26)
    assert len(page2["_embedded"]["osdi:forms"]) == 1 and "next" in page2["_links"]
    assert page2["_links"]["previous"]["href"].endswith("forms?page=1")


def test_per_page_is_clamped_to_25_and_kept_with_the_filter_in_next(an):
    an.seed(people=people(40, family_name="Doe"))
    big = an.get("people?per_page=100").json()
    assert big["per_page"] == 25 and len(big["_embedded"]["osdi:people"]) == 25
    small = an.get("people", params={"per_page": 10, "filter": "family_name eq 'Doe'"}).json()
    assert len(small["_embedded"]["osdi:people"]) == 10
    next_href = small["_links"]["next"]["href"]
    assert "filter=family_name%20eq%20'Doe'" in next_href and "per_page=10" in next_href and "page=2" in next_href
    following = an.get(next_href).json()
    assert len(following["_embedded"]["osdi:people"]) == 10
    assert small["_links"]["self"]["href"] == an.url("people")


def test_filters_on_dates_text_and_email(an):
    an.seed(people=[
        {"email_addresses": [{"address": "Old@Example.org"}], "given_name": "Old",
         "created_date": "2026-01-01T10:00:00Z", "modified_date": "2026-01-01T10:00:00Z"},
        {"email_addresses": [{"address": "new@example.org"}], "given_name": "New",
         "created_date": "2026-01-03T10:00:00Z", "modified_date": "2026-01-05T12:30:00Z"},
    ])

    def names(expression):
        response = an.get("people", params={"filter": expression})
        assert response.status_code == 200, response.text
        return sorted(p["given_name"] for p in response.json()["_embedded"]["osdi:people"])

    assert names("modified_date gt '2026-01-02'") == ["New"]
    assert names("modified_date lt '2026-01-02'") == ["Old"]
    assert names("modified_date gt '2026-01-05T12:30:00Z'") == []
    assert names("modified_date gt '2026-01-05T12:29:59Z'") == ["New"]
    assert names("modified_date gt 2026-01-05T12:29:59Z") == ["New"]  # bare values are accepted
    assert names("created_date eq '2026-01-03'") == ["New"]
    assert names("email_address eq 'old@example.ORG'") == ["Old"]
    assert names("given_name eq 'New'") == ["New"]


@pytest.mark.parametrize("path, expression", [
    ("people", "shoe_size eq '9'"),
    ("people", "email eq 'a@example.org'"),
    ("people", "modified_date gt '2026-01-01' and given_name eq 'X'"),
    ("people", "modified_date ge '2026-01-01'"),
    ("people", "modified_date gt 'yesterday'"),
    ("forms", "given_name eq 'X'"),
    ("tags", "name eq 'volunteer'"),
])
def test_unsupported_filters_are_400_errors(an, path, expression):
    response = an.get(path, params={"filter": expression})
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


def test_action_filters_and_identifier_lookup(an):
    an.seed(forms=[{"title": "Alpha", "origin_system": "Partner"}, {"title": "Beta"}],
            events=[{"title": "Rally", "start_date": "2026-02-01T18:00:00Z"}])
    forms = an.get("forms", params={"filter": "title eq 'Alpha'"}).json()["_embedded"]["osdi:forms"]
    assert [f["title"] for f in forms] == ["Alpha"]
    wanted = forms[0]["identifiers"][0]
    found = an.get("forms", params={"filter": f"identifier eq '{wanted}'"}).json()["_embedded"]["osdi:forms"]
    assert [f["title"] for f in found] == ["Alpha"]
    events = an.get("events", params={"filter": "start_date gt '2026-01-31'"}).json()["_embedded"]["osdi:events"]
    assert [e["title"] for e in events] == ["Rally"]


def test_unknown_ids_answer_real_error_bodies(an):
    missing = an.get("people/nope")
    assert missing.status_code == 404 and missing.json() == {"error": "Couldn't find person with id = nope"}
    assert an.get("tags/nope").json() == {"error": "Couldn't find tag with id = nope"}
    donation = an.get("donations/nope")
    assert donation.status_code == 404 and donation.headers["Content-Type"].startswith("text/html")
    assert "<html>" in an.get("no_such_collection").text


def test_nested_collections_of_people_and_actions(an):
    an.seed(people=[{"id": "p1", "email_addresses": [{"address": "a@example.org"}]}],
            forms=[{"id": "f1", "title": "F"}], fundraising_pages=[{"id": "fp1", "title": "Give"}],
            submissions=[{"person_id": "p1", "form_id": "f1"}],
            donations=[{"person_id": "p1", "fundraising_page_id": "fp1", "amount": "5.00", "currency": "usd",
                        "recipients": [{"display_name": "Us", "amount": "5.00"}]}],
            tags=[{"id": "t1", "name": "volunteer"}], taggings=[{"person_id": "p1", "tag_id": "t1"}])
    submission = an.get("people/p1/submissions").json()["_embedded"]["osdi:submissions"][0]
    assert submission["action_network:form_id"] == "f1" and submission["action_network:person_id"] == "p1"
    assert an.get(submission["_links"]["self"]["href"]).json() == submission
    assert an.get("forms/f1/submissions").json()["total_records"] == 1
    donation = an.get("donations").json()["_embedded"]["osdi:donations"][0]
    assert donation["currency"] == "usd" and donation["action_network:fundraising_page_id"] == "fp1"
    assert an.get("people/p1/donations").json()["_embedded"]["osdi:donations"] == [donation]
    tagging = an.get("people/p1/taggings").json()["_embedded"]["osdi:taggings"][0]
    assert tagging["_links"]["osdi:tag"]["href"].endswith("/tags/t1")
    assert an.get("fundraising_pages/fp1").json()["total_amount"] == "5.00"


def test_event_campaigns_hold_events_and_ticketed_events_stay_hidden(an):
    an.seed(event_campaigns=[{"id": "ec1", "title": "Day of action"}],
            events=[{"id": "e1", "title": "Rally", "event_campaign_id": "ec1"},
                    {"id": "e2", "title": "Gala", "ticketed": True}])
    events = an.get("event_campaigns/ec1/events").json()["_embedded"]["osdi:events"]
    assert [e["action_network:event_campaign_id"] for e in events] == ["ec1"]
    assert [e["title"] for e in an.get("events").json()["_embedded"]["osdi:events"]] == ["Rally"]
    assert an.get("events/e2").status_code == 404
    assert an.get("event_campaigns/ec1").json()["total_events"] == 1


def test_metadata_lists_custom_fields(an):
    an.seed(people=[{"email_addresses": [{"address": "a@example.org"}],
                     "custom_fields": {"Join Date": "2020-01-01", "member_number": 7}}])
    assert an.get("metadata").json()["_links"]["action_network:custom_fields"]["href"].endswith(
        "/metadata/custom_fields")
    fields = an.get("metadata/custom_fields").json()
    assert isinstance(fields["_links"]["self"], list)
    assert [f["name"] for f in fields["action_network:custom_fields"]] == ["Join Date", "member_number"]
