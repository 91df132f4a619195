"""The contact reconcile's rules, on small frames (a pure function: no database, no API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from an_sf_sync import rules
from an_sf_sync.reconcile.contacts import ContactInputs, reconcile_contacts

T = datetime(2026, 3, 1, 10, tzinfo=UTC)
FIELDS = ("first_name", "last_name", "email", "street", "city", "state", "postal_code")


def keyed(rows: list[dict]) -> list[dict]:
    """Rows with the email key staging derives from their email."""
    return [{**row, "email_key": rules.email_key(row["email"])} for row in rows]


def an(*people: dict) -> pd.DataFrame:
    rows = [{"an_id": None, "email": None, "email_status": "subscribed", **{f: None for f in FIELDS},
             "cf:employer": None, "modified": T, **p} for p in people]
    return pd.DataFrame(keyed(rows), columns=["an_id", "email_status", *FIELDS, "email_key", "cf:employer", "modified"])


def sf(*contacts: dict) -> pd.DataFrame:
    rows = [{"sf_id": None, "is_deleted": False, "member_only": False, **{f: None for f in FIELDS},
             "cf:employer": None, "subscribed": True, "subscription_changed": False, "modified": T,
             "created": T - timedelta(days=30), **c} for c in contacts]
    return pd.DataFrame(keyed(rows), columns=["sf_id", "is_deleted", "member_only", *FIELDS, "email_key", "cf:employer",
                                              "subscribed", "subscription_changed", "modified", "created"])


def link(an_id: str, sf_id: str, email: str, state: str = "active", **base) -> dict:
    values = {f: None for f in FIELDS} | {"cf:employer": None, "email": email, "subscribed": True} | base
    return {"an_id": an_id, "sf_id": sf_id, "email_key": email.lower(), "state": state, "base": values}


def run(an_rows=(), sf_rows=(), links=(), an_index=(), sf_index=(), losers=frozenset(), rule="oldest", lengths=None,
        first_matches=()):
    return reconcile_contacts(ContactInputs(
        an=an(*an_rows), sf=sf(*sf_rows),
        links=pd.DataFrame(list(links), columns=["an_id", "sf_id", "email_key", "state", "base"]),
        an_index=pd.DataFrame(list(an_index), columns=["an_id", "email_key", "email_status"]),
        sf_index=pd.DataFrame(list(sf_index), columns=["sf_id", "email_key", "created", "modified", "is_deleted"]),
        losers=frozenset(losers), custom_fields=("employer",), duplicate_rule=rule, sf_lengths=lengths or {},
        first_matches=pd.DataFrame([_now(m, an_rows, sf_rows, an_index, sf_index) for m in first_matches],
                                   columns=["an_id", "sf_id", "decided", "held", "an_key", "sf_key", "sf_deleted"])))


def _now(match: dict, an_rows, sf_rows, an_index, sf_index) -> dict:
    """A waiting first match with what each side holds now, as the mirrors give it: from the rows given."""
    an_keys = {a: k for a, k, _ in an_index} | {p["an_id"]: rules.email_key(p["email"]) for p in an_rows}
    sf_now = {s: (k, d) for s, k, _, _, d in sf_index} | {
        c["sf_id"]: (rules.email_key(c.get("email")), bool(c.get("is_deleted"))) for c in sf_rows}
    sf_key, sf_deleted = sf_now.get(match["sf_id"], (None, False))
    return {"an_key": an_keys.get(match["an_id"]), "sf_key": sf_key, "sf_deleted": sf_deleted, **match}


def ops(plan, direction=None, action=None):
    return [o for o in plan.ops if (direction is None or o["direction"] == direction)
            and (action is None or o["action"] == action)]


def codes(plan):
    return sorted(r["reason_code"] for r in plan.rejects)


def test_new_activist_becomes_a_contact_with_email_as_missing_last_name_and_subscription():
    plan = run(an_rows=[{"an_id": "a1", "email": " Ada@Example.org ", "first_name": "Ada", "cf:employer": "Union"}])
    create, = ops(plan, "to_salesforce", "create")
    assert create["an_id"] == "a1" and create["payload"]["fields"]["first_name"] == "Ada"
    assert create["payload"]["fields"]["cf:employer"] == "Union"
    assert ops(plan, "to_salesforce", "subscribe")[0]["pair_id"] == create["pair_id"]
    link_op, = ops(plan, "local", "link")
    assert link_op["payload"]["email_key"] == "ada@example.org" and link_op["payload"]["base"]["subscribed"]


def test_missing_or_malformed_emails_never_cross_either_way():
    plan = run(an_rows=[{"an_id": "a1", "email": None}, {"an_id": "a2", "email": "no-at-sign.example.org"}],
               sf_rows=[{"sf_id": "003A", "email": "a@b", "subscribed": True}])
    assert plan.ops == []
    assert codes(plan) == ["MALFORMED_EMAIL", "MALFORMED_EMAIL", "MISSING_EMAIL"]


def test_contact_in_subscribers_campaign_becomes_an_activist_others_are_reported():
    plan = run(sf_rows=[{"sf_id": "003A", "email": "in@example.org", "last_name": "In", "subscribed": True},
                        {"sf_id": "003B", "email": "out@example.org", "last_name": "Out", "subscribed": False}])
    create, = ops(plan, "to_actionnetwork", "create")
    assert create["sf_id"] == "003A" and create["payload"]["fields"]["last_name"] == "In"
    assert codes(plan) == ["NOT_IN_SUBSCRIBERS_CAMPAIGN"]


def test_first_run_match_by_email_fills_empty_fields_and_later_record_wins():
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", "first_name": "Ada", "city": "Paris",
                         "modified": T}],
               sf_rows=[{"sf_id": "003A", "email": "ADA@example.org", "first_name": "Adelaide", "last_name": "L",
                         "modified": T - timedelta(hours=1)}],
               sf_index=[("003A", "ada@example.org", T - timedelta(days=9), T, False)])
    assert not ops(plan, "to_salesforce", "create") and not ops(plan, "to_actionnetwork", "create")
    to_sf, = ops(plan, "to_salesforce", "update")
    assert to_sf["payload"]["fields"]["first_name"] == "Ada"  # AN modified later
    assert to_sf["payload"]["fields"]["city"] == "Paris"
    to_an, = ops(plan, "to_actionnetwork", "update")
    assert to_an["payload"]["fields"] == {"last_name": "L"}  # AN had none


def test_one_side_changed_wins_and_our_own_writes_do_not_echo():
    base = {"first_name": "Ada", "last_name": "Lovelace", "city": "London"}
    # Salesforce changed the city; Action Network shows our last write (unchanged against base)
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", **base}],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org", **base, "city": "Leeds"}],
               links=[link("a1", "003A", "ada@example.org", **base)])
    to_an, = ops(plan, "to_actionnetwork", "update")
    assert to_an["payload"]["fields"] == {"city": "Leeds"}
    assert not ops(plan, "to_salesforce", "update") and not plan.conflicts
    # the next run sees both records "changed" by our writes, equal to the new base: nothing to do
    echo = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", **base, "city": "Leeds"}],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org", **base, "city": "Leeds"}],
               links=[link("a1", "003A", "ada@example.org", **{**base, "city": "Leeds"})])
    assert [o["action"] for o in echo.ops] == ["link"]


def test_both_changed_later_wins_and_the_conflict_is_logged():
    base = {"first_name": "Ada", "city": "London"}
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", **base, "city": "Paris", "modified": T}],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org", **base, "city": "Rome",
                         "modified": T + timedelta(minutes=3)}],
               links=[link("a1", "003A", "ada@example.org", **base)])
    assert ops(plan, "to_actionnetwork", "update")[0]["payload"]["fields"] == {"city": "Rome"}
    conflict, = plan.conflicts
    assert (conflict["field"], conflict["winner"], conflict["an_value"]) == ("city", "salesforce", "Paris")


def test_email_changed_in_salesforce_stops_sync_for_that_contact():
    plan = run(sf_rows=[{"sf_id": "003A", "email": "new@example.org", "first_name": "X"}],
               links=[link("a1", "003A", "old@example.org")])
    retire, = ops(plan, "local", "retire")
    assert retire["payload"]["state"] == "stopped"
    assert codes(plan) == ["EMAIL_CHANGED_IN_SALESFORCE"]
    assert not ops(plan, "to_actionnetwork")


def test_email_changed_in_action_network_is_sent_to_salesforce():
    plan = run(an_rows=[{"an_id": "a1", "email": "new@example.org"}], links=[link("a1", "003A", "old@example.org")])
    update, = ops(plan, "to_salesforce", "update")
    assert update["payload"]["fields"] == {"email": "new@example.org"}
    assert ops(plan, "local", "link")[0]["payload"]["email_key"] == "new@example.org"


@pytest.mark.parametrize(("an_status", "sf_member", "to_an", "to_sf"), [
    ("unsubscribed", True, None, "unsubscribe"),     # unsubscribed in Action Network
    ("subscribed", False, "unsubscribe", None),      # taken out of the Subscribers campaign
])
def test_a_subscription_change_on_one_side_reaches_the_other(an_status, sf_member, to_an, to_sf):
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", "email_status": an_status}],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org", "subscribed": sf_member,
                         "subscription_changed": True}],
               links=[link("a1", "003A", "ada@example.org", subscribed=True)])
    assert [o["action"] for o in ops(plan, "to_actionnetwork")] == ([to_an] if to_an else [])
    assert [o["action"] for o in ops(plan, "to_salesforce")] == ([to_sf] if to_sf else [])


def test_first_match_keeps_an_unsubscribe_even_if_the_contact_was_added_to_the_campaign():
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", "email_status": "unsubscribed"}],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org", "subscribed": True,
                         "subscription_changed": True}],
               sf_index=[("003A", "ada@example.org", T, T, False)])
    assert [o["action"] for o in ops(plan, "to_salesforce")] == ["unsubscribe"]
    assert not ops(plan, "to_actionnetwork", "subscribe")
    assert [(c["field"], c["winner"]) for c in plan.conflicts] == [("subscribed", "actionnetwork")]


def test_a_first_match_records_what_each_side_holds_where_it_is_to_change():
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", "first_name": "Ada", "city": "Paris",
                         "modified": T - timedelta(hours=1)}],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org", "first_name": "Adelaide", "last_name": "L",
                         "city": "Lyon", "modified": T}],
               sf_index=[("003A", "ada@example.org", T - timedelta(days=9), T, False)])
    link_op, = ops(plan, "local", "link")
    assert link_op["payload"]["held"] == {"actionnetwork": {"first_name": "Ada", "last_name": None, "city": "Paris"},
                                          "salesforce": {}}
    assert link_op["payload"]["base"]["first_name"] == "Adelaide"  # the Contact is the later record


WAITING = {"an_id": "a1", "sf_id": "003A", "decided": {f: None for f in FIELDS} | {
    "first_name": "Adelaide", "last_name": "L", "email": "ada@example.org", "city": "Lyon", "state": "RH",
    "cf:employer": None, "subscribed": True}, "held": {"actionnetwork": {"first_name": "Ada", "last_name": None,
                                                                          "city": "Paris", "state": None},
                                                        "salesforce": {}}}


def waiting_match(an_row: dict, sf_row: dict):
    """A first match the write budget deferred (WAITING), planned again with both sides as given."""
    an_values = {"first_name": "Ada", "city": "Paris", "modified": T} | an_row
    sf_values = {"first_name": "Adelaide", "last_name": "L", "city": "Lyon", "state": "RH", "modified": T} | sf_row
    return run(an_rows=[{"an_id": "a1", "email": "ada@example.org"} | an_values],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org"} | sf_values],
               sf_index=[("003A", rules.email_key(sf_values.get("email", "ada@example.org")), T - timedelta(days=9), T,
                          False)], first_matches=[WAITING])


def test_a_first_match_that_waited_keeps_what_each_side_edited_meanwhile_whichever_is_later():
    # the activist edited their first name, then the Contact's state changed: both edits stay, and the
    # match's own decisions (city, last name) are still written
    plan = waiting_match({"first_name": "Ada edited", "modified": T + timedelta(hours=1)},
                         {"state": "IDF", "modified": T + timedelta(hours=2)})
    to_an, = ops(plan, "to_actionnetwork", "update")
    assert to_an["payload"]["fields"] == {"last_name": "L", "city": "Lyon", "state": "IDF"}
    to_sf, = ops(plan, "to_salesforce", "update")
    assert to_sf["payload"]["fields"] == {"first_name": "Ada edited"}
    assert plan.conflicts == []
    # nothing edited meanwhile: the match's decisions, as they were
    plan = waiting_match({}, {})
    assert ops(plan, "to_actionnetwork", "update")[0]["payload"]["fields"] == {
        "first_name": "Adelaide", "last_name": "L", "city": "Lyon", "state": "RH"}
    assert not ops(plan, "to_salesforce", "update")


def test_a_first_match_that_waited_clears_a_value_on_the_side_not_read_again():
    # the match gave the activist the Contact's employer; the Contact's was cleared meanwhile, and only
    # the Contact came back: the activist is known by what it held
    waiting = {**WAITING, "decided": WAITING["decided"] | {"cf:employer": "Initech"},
               "held": {"actionnetwork": WAITING["held"]["actionnetwork"] | {"cf:employer": "Union"},
                        "salesforce": {}}}
    plan = run(sf_rows=[{"sf_id": "003A", "email": "ada@example.org", "first_name": "Adelaide", "last_name": "L",
                         "city": "Lyon", "state": "RH", "cf:employer": None, "modified": T + timedelta(hours=1)}],
               an_index=[("a1", "ada@example.org", "subscribed")],
               sf_index=[("003A", "ada@example.org", T - timedelta(days=9), T, False)], first_matches=[waiting])
    to_an, = ops(plan, "to_actionnetwork", "update")
    assert to_an["payload"]["fields"] == {"first_name": "Adelaide", "last_name": "L", "city": "Lyon", "state": "RH",
                                          "cf:employer": None}


def test_a_first_match_that_waited_settles_a_field_both_sides_edited_by_the_later_one():
    plan = waiting_match({"city": "Nice", "modified": T + timedelta(hours=2)},
                         {"city": "Lille", "modified": T + timedelta(hours=1)})
    assert ops(plan, "to_salesforce", "update")[0]["payload"]["fields"] == {"city": "Nice"}
    assert [(c["field"], c["winner"]) for c in plan.conflicts] == [("city", "actionnetwork")]


def test_a_first_match_that_waited_follows_the_activist_to_a_new_email_instead_of_entering_them_twice():
    plan = waiting_match({"email": "ada.new@example.org", "modified": T + timedelta(hours=1)}, {})
    assert not ops(plan, "to_salesforce", "create")
    to_sf, = ops(plan, "to_salesforce", "update")
    assert to_sf["sf_id"] == "003A" and to_sf["payload"]["fields"] == {"email": "ada.new@example.org"}
    # deferred again, the match decided the new address, which the Contact does not have yet
    moved = {**WAITING, "decided": WAITING["decided"] | {"email": "ada.new@example.org"},
             "held": {"actionnetwork": WAITING["held"]["actionnetwork"], "salesforce": {"email": "ada@example.org"}}}
    plan = run(an_rows=[{"an_id": "a1", "email": "ada.new@example.org", "first_name": "Ada", "modified": T}],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org", "first_name": "Adelaide", "last_name": "L",
                         "modified": T}],
               sf_index=[("003A", "ada@example.org", T - timedelta(days=9), T, False)], first_matches=[moved])
    assert not ops(plan, "to_salesforce", "create")
    assert ops(plan, "to_salesforce", "update")[0]["payload"]["fields"]["email"] == "ada.new@example.org"


def test_a_first_match_that_waited_stops_when_its_contact_gets_another_email_in_salesforce():
    # as for a synced pair: neither side is entered in the other, both are reported
    plan = waiting_match({}, {"email": "elsewhere@example.org"})
    assert plan.ops == []
    assert codes(plan) == ["EMAIL_CHANGED_IN_SALESFORCE", "SYNC_STOPPED"]
    # each side alone (another partition, or only one read again) stops as well
    assert run(an_rows=[{"an_id": "a1", "email": "ada@example.org", "first_name": "Ada"}],
               sf_index=[("003A", "elsewhere@example.org", T - timedelta(days=9), T, False)],
               first_matches=[WAITING]).ops == []
    plan = run(sf_rows=[{"sf_id": "003A", "email": "elsewhere@example.org", "last_name": "L"}],
               an_index=[("a1", "ada@example.org", "subscribed")], first_matches=[WAITING])
    assert (plan.ops, codes(plan)) == ([], ["EMAIL_CHANGED_IN_SALESFORCE"])
    # the activist moved to the address the Contact was given: the two still pair
    plan = waiting_match({"email": "elsewhere@example.org", "modified": T + timedelta(hours=1)},
                         {"email": "elsewhere@example.org"})
    assert [o["action"] for o in plan.ops if o["sf_id"] == "003A"][0] == "link" and codes(plan) == []
    # given its address back, the Contact resumes the match
    plan = waiting_match({}, {})
    assert ops(plan, "local", "link") and codes(plan) == []


def test_a_first_match_that_waited_stops_when_its_contact_is_deleted_but_pairs_with_one_in_its_place():
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", "first_name": "Ada"}],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org", "is_deleted": True}],
               first_matches=[WAITING])
    assert plan.ops == []
    assert codes(plan) == ["CONTACT_DELETED_IN_SALESFORCE", "SYNC_STOPPED"]
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", "first_name": "Ada"}],
               sf_index=[("003A", "ada@example.org", T - timedelta(days=9), T, True),
                         ("003B", "ada@example.org", T, T, False)], first_matches=[WAITING])
    link_op, = ops(plan, "local", "link")
    assert link_op["sf_id"] == "003B" and not ops(plan, "to_salesforce", "create") and codes(plan) == []


def test_a_first_match_that_waited_takes_an_unsubscribe_made_meanwhile_in_salesforce():
    plan = waiting_match({}, {"subscribed": False, "subscription_changed": True})
    assert [o["action"] for o in ops(plan, "to_actionnetwork") if o["action"] != "update"] == ["unsubscribe"]
    assert not [o for o in ops(plan, "to_salesforce") if o["action"] in ("subscribe", "unsubscribe")]


def test_contact_added_to_the_campaign_subscribes_its_linked_activist():
    plan = run(sf_rows=[{"sf_id": "003A", "email": "ada@example.org", "subscribed": True, "member_only": True,
                         "subscription_changed": True}],
               links=[link("a1", "003A", "ada@example.org", subscribed=False)],
               an_index=[("a1", "ada@example.org", "unsubscribed")])
    subscribe, = ops(plan, "to_actionnetwork", "subscribe")
    assert subscribe["an_id"] == "a1"
    assert ops(plan, "local", "link")[0]["payload"]["base"]["subscribed"] is True


def test_spam_complaint_is_never_resubscribed_automatically():
    plan = run(sf_rows=[{"sf_id": "003A", "email": "ada@example.org", "subscribed": True, "member_only": True,
                         "subscription_changed": True}],
               links=[link("a1", "003A", "ada@example.org", subscribed=False)],
               an_index=[("a1", "ada@example.org", "spam complaint")])
    assert not ops(plan, "to_actionnetwork", "subscribe")
    assert codes(plan) == ["SPAM_COMPLAINT"]


@pytest.mark.parametrize(("rule", "winner"), [("oldest", "003OLD"), ("newest", "003NEW")])
def test_duplicate_emails_pick_one_contact_by_rule_and_report_the_others(rule, winner):
    plan = run(sf_rows=[{"sf_id": "003OLD", "email": "Dup@example.org", "subscribed": True,
                         "created": T - timedelta(days=90)},
                        {"sf_id": "003NEW", "email": "dup@EXAMPLE.org", "subscribed": True,
                         "created": T - timedelta(days=1)}], rule=rule)
    create, = ops(plan, "to_actionnetwork", "create")
    assert create["sf_id"] == winner
    loser, = plan.duplicates.itertuples()
    assert loser.winner_sf_id == winner and loser.sf_id != winner
    assert codes(plan) == ["DUPLICATE_EMAIL"]


def test_an_activist_of_a_stopped_pair_is_reported_only_when_it_holds_a_change():
    stopped = [link("a1", "003A", "ada@example.org", state="stopped", first_name="Ada"),
               link("a2", "003B", "bob@example.org", state="sf_deleted", city="Leeds")]
    # read again as last synced (an overlapping window; letter case aside): nothing is held back
    plan = run(an_rows=[{"an_id": "a1", "email": "ADA@example.org", "first_name": "Ada"},
                        {"an_id": "a2", "email": "bob@example.org", "city": "Leeds"}], links=stopped)
    assert plan.ops == [] and codes(plan) == []
    # a value or the subscription changed: that change waits, reported
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", "first_name": "Ada", "city": "Paris"},
                        {"an_id": "a2", "email": "bob@example.org", "city": "Leeds", "email_status": "unsubscribed"}],
               links=stopped)
    assert plan.ops == [] and [(r["record_id"], r["reason_code"]) for r in plan.rejects] == [
        ("a1", "SYNC_STOPPED"), ("a2", "SYNC_STOPPED")]


def test_a_contact_with_the_address_a_synced_activist_has_now_is_reported_not_sent():
    plan = run(an_rows=[{"an_id": "a1", "email": "x@example.org", "first_name": "Ada"}],
               sf_rows=[{"sf_id": "003B", "email": "X@example.org", "first_name": "Xavier", "subscribed": True}],
               links=[link("a1", "003A", "ada@example.org", first_name="Ada")],
               an_index=[("a1", "x@example.org", "subscribed")],
               sf_index=[("003B", "x@example.org", T, T, False), ("003A", "ada@example.org", T, T, False)])
    assert not ops(plan, "to_actionnetwork", "create")
    assert [(r["record_id"], r["reason_code"]) for r in plan.rejects] == [
        ("003B", "EMAIL_OF_SYNCED_ACTIVIST"), ("a1", "EMAIL_HELD_BY_ANOTHER_CONTACT")]


def test_a_new_activist_with_the_email_a_synced_contact_was_given_is_reported_not_created():
    plan = run(an_rows=[{"an_id": "a2", "email": "y@example.org", "first_name": "Yan"}],
               links=[link("a1", "003A", "ada@example.org", state="stopped")],
               sf_index=[("003A", "y@example.org", T, T, False)])
    assert not ops(plan, "to_salesforce", "create")
    assert [(r["record_id"], r["reason_code"]) for r in plan.rejects] == [("a2", "EMAIL_OF_SYNCED_CONTACT")]


def test_a_later_duplicate_of_a_linked_contact_loses_to_it():
    plan = run(sf_rows=[{"sf_id": "003LATE", "email": "ada@example.org", "subscribed": True,
                         "created": T - timedelta(days=900)}],
               links=[link("a1", "003A", "ada@example.org")],
               sf_index=[("003A", "ada@example.org", T, T, False)])
    assert plan.duplicates.iloc[0]["winner_sf_id"] == "003A"
    assert not ops(plan, "to_actionnetwork")


def test_contact_deleted_in_salesforce_retires_the_link_without_recreating_it():
    plan = run(an_rows=[{"an_id": "a1", "email": "ada@example.org", "first_name": "New"}],
               sf_rows=[{"sf_id": "003A", "email": "ada@example.org", "is_deleted": True}],
               links=[link("a1", "003A", "ada@example.org")])
    assert [o["action"] for o in plan.ops] == ["retire"]
    assert codes(plan) == ["CONTACT_DELETED_IN_SALESFORCE", "SYNC_STOPPED"]


def test_values_longer_than_their_salesforce_field_are_sent_whole_and_noted_for_new_and_matched_contacts():
    city, employer = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch", "United Workers of the World"
    plan = run(an_rows=[{"an_id": "a1", "email": "long@example.org", "city": city},
                        {"an_id": "a2", "email": "short@example.org", "city": "Leeds", "cf:employer": "Union"},
                        {"an_id": "a3", "email": "pair@example.org", "cf:employer": employer, "modified": T + timedelta(1)}],
               sf_rows=[{"sf_id": "003C", "email": "pair@example.org", "last_name": "Pair"}],
               sf_index=[{"sf_id": "003C", "email_key": "pair@example.org", "created": T, "modified": T,
                          "is_deleted": False}],
               lengths={"city": 40, "cf:employer": 20, "first_name": 40})
    notes = {(r["record_id"], r["reason_code"]): r["message"] for r in plan.rejects}
    assert set(notes) == {("a1", "VALUE_TRUNCATED"), ("a3", "VALUE_TRUNCATED")}
    assert repr(city[:40]) in notes["a1", "VALUE_TRUNCATED"] and "(new)" in notes["a1", "VALUE_TRUNCATED"]
    assert "employer" in notes["a3", "VALUE_TRUNCATED"] and "003C" in notes["a3", "VALUE_TRUNCATED"]
    create = next(o for o in ops(plan, "to_salesforce", "create") if o["an_id"] == "a1")
    assert create["payload"]["fields"]["city"] == city  # the full value: the load cuts it as it writes
