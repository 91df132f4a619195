"""The pure campaigns reconcile on small frames: one test per rule of the spec."""

from __future__ import annotations

import pandas as pd

from an_sf_sync.reconcile.campaigns import CampaignInputs, reconcile_campaigns

MASTERS = {"an_users_form": "users-form", "an_donations_page": "donations-page", "sf_subscribers_campaign": "701SUBS"}
COLUMNS = {
    "actions": ["an_id", "action_type", "title", "origin_system"],
    "takers": ["an_id", "action_type", "action_id", "person_id"],
    "campaigns": ["sf_id", "is_deleted", "name", "parent_id"],
    "members": ["sf_id", "is_deleted", "campaign_id", "contact_id"],
    "action_links": ["an_id", "an_type", "sf_id", "origin", "state", "title"],
    "member_links": ["an_action_id", "an_person_id", "sf_member_id"],
}


def inputs(**frames: list[tuple]) -> CampaignInputs:
    """Frames from tuples; trailing columns left out are None."""
    return CampaignInputs(**{name: pd.DataFrame([row + (None,) * (len(columns) - len(row)) for row in
                                                 frames.get(name, [])], columns=columns)
                             for name, columns in COLUMNS.items()}, masters=MASTERS)


def ops(plan, obj: str | None = None, direction: str | None = None) -> list[dict]:
    return [op for op in plan.ops if (obj is None or op["object"] == obj)
            and (direction is None or op["direction"] == direction)]


def codes(plan) -> dict[str, str]:
    return {r["record_id"]: r["reason_code"] for r in plan.rejects}


def test_each_synced_kind_of_action_becomes_a_campaign() -> None:
    plan = reconcile_campaigns(inputs(actions=[
        ("f1", "form", "Sign up"), ("p1", "petition", "x" * 100), ("e1", "event", "Rally"),
        ("fp1", "fundraising_page", "Give"), ("l1", "advocacy_campaign", "Write"), ("ec1", "event_campaign", "Week"),
        ("users-form", "form", "Salesforce Users"), ("donations-page", "fundraising_page", "Salesforce Donations"),
        ("n1", "petition", None)]))
    created = {op["an_id"]: op["payload"] for op in ops(plan, "campaign", "to_salesforce")}
    assert set(created) == {"f1", "p1", "e1", "fp1", "l1", "n1"}  # no event campaign, no master record
    assert all(op["action"] == "create" and op["sf_id"] is None for op in ops(plan, "campaign"))
    assert created["p1"]["name"] == "x" * 80  # Salesforce's Campaign.Name length
    assert created["n1"]["name"] == "Action Network petition n1"
    assert "letter campaign" in created["l1"]["description"]
    assert "fundraising page" in created["fp1"]["description"]
    assert created["e1"]["action_type"] == "event"
    assert not plan.rejects


def test_the_syncs_own_masters_never_echo_even_a_second_one_a_lost_answer_made() -> None:
    plan = reconcile_campaigns(inputs(
        actions=[("users-form", "form", "Salesforce Users", "Salesforce"),
                 ("users-form-2", "form", "Salesforce Users", "Salesforce"),
                 ("donations-page-2", "fundraising_page", "Salesforce Donations", "Salesforce"),
                 ("by-hand", "form", "Salesforce Users", "Action Network")],
        takers=[("sub-1", "form", "users-form-2", "p1"), ("don-1", "fundraising_page", "donations-page-2", "p1")]))
    assert [op["an_id"] for op in ops(plan, "campaign")] == ["by-hand"]  # a form someone made is synced
    assert not ops(plan, "member") and not plan.rejects


def test_title_changes_rename_the_campaign_once_and_salesforce_origins_never_echo() -> None:
    plan = reconcile_campaigns(inputs(
        actions=[("f1", "form", "Same"), ("f2", "form", "New title"), ("s1", "form", "From Salesforce, renamed"),
                 ("gone", "form", "Renamed too")],
        action_links=[("f1", "form", "701F1", "actionnetwork", "active", "Same"),
                      ("f2", "form", "701F2", "actionnetwork", "active", "Old title"),
                      ("s1", "form", "701S1", "salesforce", "active", "From Salesforce"),
                      ("gone", "form", "701GONE", "actionnetwork", "sf_deleted", "Old")]))
    assert ops(plan) == [{"pair_id": None, "object": "campaign", "direction": "to_salesforce", "action": "update",
                          "an_id": "f2", "sf_id": "701F2", "payload": {"name": "New title"}}]


def test_takers_become_members_of_their_campaign() -> None:
    plan = reconcile_campaigns(inputs(
        actions=[("f1", "form", "Form"), ("p1", "petition", "New petition"), ("fp1", "fundraising_page", "Give")],
        action_links=[("f1", "form", "701F1", "actionnetwork", "active", "Form"),
                      ("fp1", "fundraising_page", "701FP", "actionnetwork", "active", "Give")],
        takers=[("sub1", "form", "f1", "alice"), ("sub2", "form", "f1", "alice"),  # twice: one member
                ("sub3", "form", "f1", "bob"),  # already a member
                ("sig1", "petition", "p1", "carol"),  # its campaign is created in this run
                ("don1", "fundraising_page", "fp1", "dave"),
                ("don2", "fundraising_page", "donations-page", "erin"),  # the sync's own page
                ("sub4", "form", "users-form", "frank"),  # the sync's own form
                ("sub5", "form", "f1", None), ("att1", "event", "unknown-event", "gina")],
        member_links=[("f1", "bob", "00vBOB")]))
    members = {(op["payload"]["action_id"], op["an_id"]) for op in ops(plan, "member", "to_salesforce")}
    assert members == {("f1", "alice"), ("p1", "carol"), ("fp1", "dave")}
    assert all(op["action"] == "create" for op in ops(plan, "member"))
    assert codes(plan) == {"sub5": "NO_PERSON", "att1": "ACTION_NOT_SYNCED"}


def test_a_campaign_deleted_in_salesforce_retires_its_link_reported_once() -> None:
    links = [("f1", "form", "701F1", "actionnetwork", "active", "Form"),
             ("f2", "form", "701F2", "actionnetwork", "sf_deleted", "Old")]
    plan = reconcile_campaigns(inputs(
        actions=[("f1", "form", "Form"), ("f2", "form", "Old")], action_links=links,
        campaigns=[("701F1", True, "Form", None), ("701F2", True, "Old", None)],
        takers=[("sub1", "form", "f1", "alice"), ("sub2", "form", "f2", "bob")]))
    assert ops(plan) == [{"pair_id": None, "object": "action", "direction": "local", "action": "retire",
                          "an_id": "f1", "sf_id": "701F1", "payload": {"state": "sf_deleted"}}]  # never re-created
    assert codes(plan) == {"701F1": "CAMPAIGN_DELETED_IN_SALESFORCE", "sub1": "CAMPAIGN_DELETED_IN_SALESFORCE",
                           "sub2": "CAMPAIGN_DELETED_IN_SALESFORCE"}  # f2 was reported when it was deleted
    assert "Recycle Bin" in plan.rejects[0]["message"]

    restored = reconcile_campaigns(inputs(action_links=links, campaigns=[("701F2", False, "Old", None)],
                                          takers=[("sub2", "form", "f2", "bob")]))
    assert [(op["action"], op["an_id"]) for op in restored.ops] == [("restore", "f2"), ("create", "bob")]
    assert not restored.rejects


def test_campaigns_under_the_subscribers_campaign_become_forms() -> None:
    plan = reconcile_campaigns(inputs(
        campaigns=[("701NEW", False, "Spring drive", "701SUBS"), ("701OLD", False, "Linked", "701SUBS"),
                   ("701DEL", True, "Deleted", "701SUBS"), ("701OTHER", False, "Unrelated", "701ELSE"),
                   ("701SUBS", False, "Action Network Subscribers", None)],
        action_links=[("s1", "form", "701OLD", "salesforce", "active", "Linked")],
        members=[("00v1", False, "701NEW", "003A"), ("00v2", False, "701OLD", "003B"),
                 ("00v3", False, "701OTHER", "003C"), ("00v4", False, "701SUBS", "003D")]))
    assert [(op["action"], op["sf_id"], op["payload"]) for op in ops(plan, "action")] == [
        ("create", "701NEW", {"title": "Spring drive"})]
    members = {op["sf_id"]: op["payload"] for op in ops(plan, "member", "to_actionnetwork")}
    assert set(members) == {"00v1", "00v2"}  # not an unrelated campaign, not the Subscribers campaign itself
    assert members["00v1"] == {"campaign_id": "701NEW", "contact_id": "003A", "action_id": None,
                               "action_type": "form", "subscribers_only": True}
    assert members["00v2"]["action_id"] == "s1" and members["00v2"]["subscribers_only"] is True


def test_contacts_added_to_action_campaigns_join_the_action_except_fundraisers_and_letters() -> None:
    plan = reconcile_campaigns(inputs(
        action_links=[("f1", "form", "701F", "actionnetwork", "active", "F"),
                      ("e1", "event", "701E", "actionnetwork", "active", "E"),
                      ("fp1", "fundraising_page", "701FP", "actionnetwork", "active", "FP"),
                      ("l1", "advocacy_campaign", "701L", "actionnetwork", "active", "L")],
        members=[("00v1", False, "701F", "003A"), ("00v2", False, "701E", "003A"),
                 ("00v3", False, "701FP", "003A"), ("00v4", False, "701L", "003A"),
                 ("00v5", True, "701F", "003B"),  # removed: never propagates
                 ("00v6", False, "701F", "003C"),  # added by the sync itself: no echo
                 ("00v7", False, "701F", None)],  # a Lead
        member_links=[("f1", "carol", "00v6")]))
    members = {op["sf_id"]: op["payload"] for op in ops(plan, "member", "to_actionnetwork")}
    assert set(members) == {"00v1", "00v2"}
    assert members["00v2"]["action_type"] == "event" and members["00v2"]["subscribers_only"] is False
    assert codes(plan) == {"00v3": "CANNOT_JOIN_IN_SALESFORCE", "00v4": "CANNOT_JOIN_IN_SALESFORCE",
                           "00v7": "NOT_A_CONTACT"}
    assert "Opportunity" in next(r["message"] for r in plan.rejects if r["record_id"] == "00v3")


def test_nothing_staged_plans_nothing() -> None:
    plan = reconcile_campaigns(inputs())
    assert plan.ops == [] and plan.rejects == []
