"""Writes: the signup helper, PUT, tags, action helpers, action POSTs, background and blind requests."""

from __future__ import annotations

import pytest
import requests

from .conftest import an_id


def primary(person):
    return next(e for e in person["email_addresses"] if e["primary"])


@pytest.mark.parametrize("status, expected", [(None, "subscribed"), ("subscribed", "subscribed"),
                                              ("unsubscribed", "unsubscribed")])
def test_signup_creates_people_with_the_status_rules(an, status, expected):
    response = an.signup("new@example.org", status, given_name="Zoë")
    assert response.status_code == 200  # not 201
    person = response.json()
    assert primary(person) == {"primary": True, "address": "new@example.org", "status": expected}
    assert person["created_date"] == person["modified_date"]
    assert person["given_name"] == "Zoë"


@pytest.mark.parametrize("status, expected", [(None, "unsubscribed"), ("subscribed", "subscribed")])
def test_signup_of_an_existing_person_keeps_or_sets_status(an, status, expected):
    first = an.signup("Jane@Example.org", "unsubscribed").json()
    again = an.signup("  jane@example.ORG", status, family_name="Doe").json()
    assert an_id(again) == an_id(first)  # matched case-insensitively, trimmed
    assert primary(again)["status"] == expected
    assert again["family_name"] == "Doe"
    assert len(an.get("people").json()["_embedded"]["osdi:people"]) == 1


@pytest.mark.parametrize("status", ["bouncing", "spam complaint", "pending"])
def test_signup_refuses_other_statuses(an, status):
    response = an.signup("x@example.org", status)
    assert response.status_code == 400 and "error" in response.json()
    assert an.get("people").json()["_embedded"]["osdi:people"] == []


@pytest.mark.parametrize("body", [{}, {"person": {"given_name": "No contact"}},
                                  {"person": {"email_addresses": [{"address": "no-at-sign.example.org"}]}}])
def test_signup_refuses_people_without_a_valid_email_or_phone(an, body):
    assert an.post("people", body).status_code == 400


def test_signup_merges_custom_fields_and_adds_and_removes_known_tags(an):
    an.post("tags", {"name": "volunteer"})
    an.post("tags", {"name": "member"})
    body = {"person": {"email_addresses": [{"address": "t@example.org"}], "custom_fields": {"a": "1", "b": 2}},
            "add_tags": ["Volunteer", "member", "no such tag"]}
    person = an.post("people", body).json()
    assert person["custom_fields"] == {"a": "1", "b": 2}
    pid = an_id(person)
    taggings = an.get(f"people/{pid}/taggings").json()["_embedded"]["osdi:taggings"]
    assert len(taggings) == 2
    body = {"person": {"email_addresses": [{"address": "t@example.org"}], "custom_fields": {"b": None, "c": True}},
            "remove_tags": ["member"]}
    person = an.post("people", body).json()
    assert person["custom_fields"] == {"a": "1", "c": True}
    remaining = an.get(f"people/{pid}/taggings").json()["_embedded"]["osdi:taggings"]
    tag = an.get(remaining[0]["_links"]["osdi:tag"]["href"]).json()
    assert len(remaining) == 1 and tag["name"] == "volunteer"
    assert an.get("metadata/custom_fields").json()["action_network:custom_fields"][0]["name"] == "a"


def test_put_upserts_and_only_null_removes(an):
    an.seed(people=[{"id": "p1", "given_name": "Ann", "family_name": "Lee",
                     "email_addresses": [{"address": "ann@example.org"}],
                     "postal_addresses": [{"locality": "Boston", "region": "MA", "postal_code": "02111-0000"}],
                     "modified_date": "2026-01-01T00:00:00Z", "created_date": "2026-01-01T00:00:00Z"}])
    response = an.put("people/p1", {"given_name": "Anne", "family_name": None,
                                    "postal_addresses": [{"postal_code": "02112"}]})
    assert response.status_code == 200
    person = response.json()
    assert person["given_name"] == "Anne" and "family_name" not in person
    address = person["postal_addresses"][0]
    assert (address["locality"], address["postal_code"]) == ("Boston", "02112")
    assert person["modified_date"] > "2026-01-01T00:00:00Z" and person["created_date"] == "2026-01-01T00:00:00Z"
    assert an.put("people/nope", {}).json() == {"error": "Couldn't find person with id = nope"}


def test_put_status_unsubscribes_the_primary_address(an):
    an.seed(people=[{"id": "p1", "email_addresses": [
        {"address": "old@example.org", "status": "bouncing"},
        {"address": "main@example.org", "primary": True, "status": "subscribed"}]}])
    person = an.put("people/p1", {"email_addresses": [{"status": "unsubscribed"}]}).json()
    assert [(e["address"], e["status"]) for e in person["email_addresses"]] == [
        ("old@example.org", "bouncing"), ("main@example.org", "unsubscribed")]
    assert an.put("people/p1", {"email_addresses": [{"status": "bouncing"}]}).status_code == 400


def test_filter_by_modified_date_sees_writes(an):
    an.seed(people=[{"id": "p1", "email_addresses": [{"address": "a@example.org"}],
                     "created_date": "2025-01-01", "modified_date": "2025-01-01"}])
    assert an.get("people?filter=modified_date gt '2025-06-01'").json()["_embedded"]["osdi:people"] == []
    an.put("people/p1", {"given_name": "A"})
    found = an.get("people?filter=modified_date gt '2025-06-01'").json()["_embedded"]["osdi:people"]
    assert [an_id(p) for p in found] == ["p1"]


def test_taggings_post_delete_and_bad_person(an):
    tag = an.post("tags", {"name": "volunteer"}).json()
    assert an.post("tags", {"name": "VOLUNTEER"}).json()["identifiers"] == tag["identifiers"]
    person = an.signup("a@example.org").json()
    taggings = tag["_links"]["osdi:taggings"]["href"]
    made = an.post(taggings, {"_links": {"osdi:person": {"href": person["_links"]["self"]["href"]}}})
    assert made.status_code == 200 and made.json()["item_type"] == "osdi:person"
    again = an.post(taggings, {"_links": {"osdi:person": {"href": person["_links"]["self"]["href"]}}}).json()
    assert again["identifiers"] == made.json()["identifiers"]  # deduplicated per person
    bad = an.post(taggings, {"_links": {"osdi:person": {"href": an.url("people/nope")}}})
    assert bad.status_code == 400 and bad.json() == {"error": "You must specify a valid person id"}
    assert an.delete(made.json()["_links"]["self"]["href"]).status_code == 200
    assert an.get(taggings).json()["total_records"] == 0


def test_action_helpers_record_participation_and_bump_the_person(an):
    an.seed(people=[{"id": "p1", "email_addresses": [{"address": "a@example.org"}],
                     "created_date": "2025-01-01", "modified_date": "2025-01-01"}],
            forms=[{"id": "f1", "title": "Form"}], petitions=[{"id": "pe1", "title": "Petition"}],
            events=[{"id": "e1", "title": "Event"}])
    helper = {"person": {"email_addresses": [{"address": "A@example.org"}]}}
    submission = an.post("forms/f1/submissions", helper).json()
    assert submission["action_network:person_id"] == "p1"
    assert an.post("forms/f1/submissions", helper).json()["identifiers"] == submission["identifiers"]
    signature = an.post("petitions/pe1/signatures", {**helper, "comments": "Oui"}).json()
    assert signature["comments"] == "Oui"
    by_link = {"_links": {"osdi:person": {"href": an.url("people/p1")}}}
    assert an.post("events/e1/attendances", by_link).json()["status"] == "accepted"
    person = an.get("people/p1").json()
    assert person["modified_date"] > "2025-01-01T00:00:00Z"
    assert an.get("forms/f1").json()["total_submissions"] == 1
    assert an.post("events/e1/attendances", {"_links": {"osdi:person": {"href": "x/people/zz"}}}).json() == {
        "error": "You must specify a valid person id"}
    assert an.post("forms/f1/submissions", {"person": {"email_addresses": [
        {"address": "a@example.org", "status": "unsubscribed"}]}}).status_code == 400


def test_helper_creates_a_subscribed_person(an):
    form = an.post("forms", {"title": "Salesforce Users", "origin_system": "Salesforce"}).json()
    helper = form["_links"]["osdi:record_submission_helper"]["href"]
    submission = an.post(helper, {"person": {"email_addresses": [{"address": "n@example.org"}]}}).json()
    person = an.get(f"people/{submission['action_network:person_id']}").json()
    assert primary(person)["status"] == "subscribed"


def test_surveys_take_responses_through_the_record_response_helper(an):
    an.seed(people=[{"id": "p1", "email_addresses": [{"address": "a@example.org"}]}])
    survey = an.post("surveys", {"title": "Member survey", "origin_system": "Salesforce"}).json()
    links = survey["_links"]
    helper = links["action_network:record_response_helper"]["href"]
    assert helper == links["action_network:responses"]["href"] and "osdi:creator" in links
    response = an.post(helper, {"person": {"email_addresses": [{"address": "a@example.org"}]}}).json()
    assert (response["action_network:person_id"], response["action_network:survey_id"]) == ("p1", an_id(survey))
    assert set(response["_links"]) == {"self", "action_network:survey", "osdi:person", "curies"}
    # not deduplicated (unconfirmed; the conservative choice): a second POST is a second response
    again = an.post(helper, {"_links": {"osdi:person": {"href": an.url("people/p1")}},
                             "identifiers": ["salesforce:00v000000000001AAA"]}).json()
    assert again["identifiers"] == [f"action_network:{an_id(again)}", "salesforce:00v000000000001AAA"]
    assert an.get(f"surveys/{an_id(survey)}").json()["total_responses"] == 2
    mine = an.get("people/p1/responses").json()["_embedded"]["action_network:responses"]
    assert sorted(an_id(r) for r in mine) == sorted([an_id(response), an_id(again)])
    found = an.get(f"surveys/{an_id(survey)}/responses?filter=identifier eq 'salesforce:00v000000000001AAA'").json()
    assert [an_id(r) for r in found["_embedded"]["action_network:responses"]] == [an_id(again)]
    assert "action_network:responses" in an.get("people/p1").json()["_links"]
    listed = an.get("surveys?filter=title eq 'Member survey'").json()["_embedded"]["action_network:surveys"]
    assert [an_id(s) for s in listed] == [an_id(survey)]
    aep = an.get("").json()["_links"]
    assert aep["action_network:surveys"]["href"].endswith("/surveys")


def test_posted_actions_are_api_created_and_accept_donations_and_outreaches(an):
    an.seed(people=[{"id": "p1", "email_addresses": [{"address": "a@example.org"}]}],
            fundraising_pages=[{"id": "ui", "title": "UI page"}], advocacy_campaigns=[{"id": "uic", "title": "UI"}])
    page = an.post("fundraising_pages", {"title": "Salesforce Donations", "origin_system": "Salesforce"})
    assert page.status_code == 200
    assert page.json()["origin_system"] == "Salesforce"
    donation_body = {"recipients": [{"display_name": "Us", "amount": "3.00"}, {"display_name": "Them", "amount": "2.5"}],
                     "created_date": "2026-01-01T00:00:00Z", "action_network:recurrence": {
                         "recurring": True, "period": "Monthly"},
                     "_links": {"osdi:person": {"href": an.url("people/p1")}}}
    donation = an.post(page.json()["_links"]["osdi:donations"]["href"], donation_body).json()
    assert donation["amount"] == "5.50" and donation["created_date"] == "2026-01-01T00:00:00Z"
    assert donation["action_network:recurrence"] == {"recurring": True, "period": "Monthly"}
    assert an.post(page.json()["_links"]["osdi:donations"]["href"], donation_body).status_code == 200
    assert an.get("donations").json()["total_records"] == 2  # donations are not deduplicated
    refused = an.post("fundraising_pages/ui/donations", donation_body)
    assert refused.status_code == 400 and "error" in refused.json()
    campaign = an.post("advocacy_campaigns", {"title": "Letters", "origin_system": "x", "type": "email"}).json()
    outreach = {"targets": [{"given_name": "Joe"}], "_links": {"osdi:person": {"href": an.url("people/p1")}}}
    assert an.post(campaign["_links"]["osdi:outreaches"]["href"], outreach).status_code == 200
    assert an.post("advocacy_campaigns/uic/outreaches", outreach).status_code == 400


def test_posting_actions_requires_a_title_and_events_join_campaigns(an):
    assert an.post("petitions", {"origin_system": "x"}).status_code == 400
    campaign = an.post("event_campaigns", {"title": "Week of action", "origin_system": "x"}).json()
    event = an.post(campaign["_links"]["osdi:events"]["href"], {"title": "Rally"}).json()
    assert event["action_network:event_campaign_id"] == an_id(campaign)
    updated = an.put(event["_links"]["self"]["href"], {"title": "Big rally"}).json()
    assert updated["title"] == "Big rally"


def test_background_request_answers_empty_and_still_writes(an):
    response = an.post("people?background_request=true",
                       {"person": {"email_addresses": [{"address": "bg@example.org"}]}})
    assert response.status_code == 200 and response.json() == {}
    assert an.control("GET", "people?email=BG@example.org")["people"]
    assert an.post("people?background_request=true", {"person": {}}).json() == {}


def test_blind_helper_post_without_a_key(an):
    an.seed(forms=[{"id": "f1", "title": "F"}])
    blind = requests.post(an.url("forms/f1/submissions"), timeout=5,
                          json={"person": {"email_addresses": [{"address": "blind@example.org"}]}})
    assert blind.status_code == 200 and blind.json() == {}
    assert an.control("GET", "people?email=blind@example.org")["people"]
    wrong_key = requests.post(an.url("people"), headers={"OSDI-API-Token": "nope"}, timeout=5,
                              json={"person": {"email_addresses": [{"address": "x@example.org"}]}})
    assert wrong_key.status_code == 403
    assert requests.put(an.url("people/x"), json={}, timeout=5).status_code == 403


def test_invalid_json_is_a_400(an):
    response = an.http.post(an.url("people"), data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "error" in response.json()
