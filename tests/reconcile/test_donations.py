"""The donation reconcile's rules, on small frames (a pure function: no database, no API)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from an_sf_sync.reconcile.donations import DonationInputs, opportunity_name, reconcile_donations

T = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
ACCOUNT, PAGE = "001000000000001AAA", "sf-donations-page"
DONATION = ["an_id", "fundraising_page_id", "person_id", "amount", "currency", "recurring", "period", "created",
            "modified"]
OPPORTUNITY = ["sf_id", "is_deleted", "account_id", "an_id", "amount", "close_date", "stage_name", "recurring",
               "modified"]
ROLE = ["sf_id", "opportunity_id", "contact_id", "role", "is_primary", "is_deleted", "created"]
LINK = ["an_id", "sf_id", "origin", "linked_at"]


def donation(an_id: str, **values) -> dict:
    return {"an_id": an_id, "fundraising_page_id": "page1", "person_id": "p1", "amount": Decimal("25.00"),
            "currency": "USD", "recurring": False, "period": None, "created": T, "modified": T, **values}


def opportunity(sf_id: str, **values) -> dict:
    return {"sf_id": sf_id, "is_deleted": False, "account_id": ACCOUNT, "an_id": None, "amount": Decimal("40"),
            "close_date": date(2026, 2, 14), "stage_name": "Closed Won", "recurring": None, "modified": T, **values}


def role(opportunity_id: str, contact_id: str, **values) -> dict:
    return {"sf_id": f"00K{contact_id}", "opportunity_id": opportunity_id, "contact_id": contact_id, "role": None,
            "is_primary": False, "is_deleted": False, "created": T, **values}


def run(donations=(), opportunities=(), roles=(), links=(), titles=None, time_zone="UTC"):
    return reconcile_donations(DonationInputs(
        donations=pd.DataFrame(list(donations), columns=DONATION),
        opportunities=pd.DataFrame(list(opportunities), columns=OPPORTUNITY),
        roles=pd.DataFrame(list(roles), columns=ROLE), links=pd.DataFrame(list(links), columns=LINK),
        account_id=ACCOUNT, page_id=PAGE, page_titles=titles or {"page1": "Spring appeal"}, time_zone=time_zone))


def ops(plan, obj=None, direction=None):
    return [o for o in plan.ops if (obj is None or o["object"] == obj) and (direction is None or o["direction"] == direction)]


def codes(plan):
    return sorted(r["reason_code"] for r in plan.rejects)


def test_donation_becomes_a_closed_won_opportunity_with_its_donor_as_contact_role():
    plan = run(donations=[donation("d1")])
    opp, role_op = plan.ops
    assert (opp["object"], opp["direction"], opp["action"], opp["an_id"]) == ("opportunity", "to_salesforce",
                                                                              "create", "d1")
    assert opp["payload"]["fields"] == {
        "AccountId": ACCOUNT, "Name": "Action Network donation — Spring appeal — 2026-03-01",
        "StageName": "Closed Won", "CloseDate": "2026-03-01", "Amount": 25.0}
    assert (role_op["object"], role_op["payload"], role_op["pair_id"]) == ("contact_role", {"person_id": "p1"},
                                                                           opp["pair_id"])
    assert plan.rejects == []


@pytest.mark.parametrize(("made", "zone", "day"), [
    # New Year's Eve, 8 pm in New York: already January 1 in UTC, still December 31 for the receipt
    (datetime(2027, 1, 1, 1, 0, tzinfo=UTC), "America/New_York", "2026-12-31"),
    # just after midnight in Berlin: still the day before in UTC
    (datetime(2026, 6, 30, 22, 30, tzinfo=UTC), "Europe/Berlin", "2026-07-01"),
    # the night clocks go back in Los Angeles (UTC-7 until 2 am, then UTC-8)
    (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), "America/Los_Angeles", "2026-11-01"),
    (datetime(2026, 11, 1, 6, 59, tzinfo=UTC), "America/Los_Angeles", "2026-10-31"),
    # the day after clocks go forward in Sydney (UTC+10 until 2 am on October 4, then +11)
    (datetime(2026, 10, 4, 13, 30, tzinfo=UTC), "Australia/Sydney", "2026-10-05"),
])
def test_close_date_is_the_day_in_the_orgs_time_zone(made, zone, day):
    fields = run(donations=[donation("d1", created=made)], time_zone=zone).ops[0]["payload"]["fields"]
    assert fields["CloseDate"] == day and fields["Name"].endswith(day)


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])
def test_a_close_date_goes_to_action_network_as_an_instant_on_that_day_everywhere_near_the_org(zone):
    plan = run(opportunities=[opportunity("006A", close_date=date(2026, 12, 31))],
               roles=[role("006A", "003B")], time_zone=zone)
    sent = datetime.fromisoformat(ops(plan, "donation")[0]["payload"]["date"])
    assert sent.tzinfo is not None and sent.astimezone(ZoneInfo(zone)).date() == date(2026, 12, 31)


def test_close_date_is_the_utc_day_and_the_page_id_stands_in_for_an_unknown_title():
    fields = run(donations=[donation("d1", created=datetime(2026, 3, 2, 1, 0, tzinfo=UTC) - timedelta(hours=3),
                                     fundraising_page_id="p-9")], titles={}).ops[0]["payload"]["fields"]
    assert fields["CloseDate"] == "2026-03-01" and fields["Name"] == "Action Network donation — p-9 — 2026-03-01"


def test_long_page_titles_are_shortened_to_fit_the_name():
    name = opportunity_name("x" * 300, "2026-03-01")
    assert len(name) == 120 and name.endswith("x… — 2026-03-01")


def test_refunds_recurring_periods_and_other_currencies():
    plan = run(donations=[
        donation("refund", amount=None),
        donation("zero", amount=Decimal("0.00")),
        donation("monthly", recurring=True, period="monatlich", currency="eur"),
        donation("unknown-period", recurring=True, period="  "),
    ])
    fields = {o["an_id"]: o["payload"]["fields"] for o in ops(plan, "opportunity")}
    assert "Amount" not in fields["refund"] and "no amount" in fields["refund"]["Description"]
    assert fields["zero"]["Amount"] == 0.0 and "Description" not in fields["zero"]
    assert fields["monthly"]["Action_Network_Recurring__c"] == "monatlich"
    assert "EUR" in fields["monthly"]["Description"]
    assert fields["unknown-period"]["Action_Network_Recurring__c"] == "Recurring"
    assert "Action_Network_Recurring__c" not in fields["zero"]


def test_a_donation_without_a_donor_still_becomes_an_opportunity():
    plan = run(donations=[donation("d1", person_id=None)])
    assert ops(plan, "contact_role")[0]["payload"] == {"person_id": None} and len(ops(plan, "opportunity")) == 1


def test_linked_donations_are_never_sent_again_and_later_changes_are_reported():
    linked_at = T - timedelta(hours=1)
    plan = run(donations=[donation("again", modified=linked_at - timedelta(minutes=5)),
                          donation("edited", modified=T),
                          donation("ours", fundraising_page_id=PAGE, modified=T)],
               links=[("again", "006A", "actionnetwork", linked_at), ("edited", "006B", "actionnetwork", linked_at),
                      ("ours", "006C", "salesforce", linked_at)])
    assert plan.ops == []
    reject, = plan.rejects
    assert (reject["reason_code"], reject["record_id"]) == ("DONATION_CHANGED_AFTER_SYNC", "edited")
    assert "006B" in reject["message"]


def test_donations_on_the_salesforce_donations_page_never_echo_back():
    assert run(donations=[donation("mid-flight", fundraising_page_id=PAGE)]).ops == []


def test_opportunity_with_a_role_becomes_a_donation_then_gets_stamped():
    plan = run(opportunities=[opportunity("006A", recurring="Monthly")],
               roles=[role("006A", "003B", role="Influencer", created=T - timedelta(days=2)),
                      role("006A", "003C", role="Donor"),
                      role("006A", "003P", is_primary=True),
                      role("006A", "003D", is_deleted=True, is_primary=True)])
    send, stamp = plan.ops
    assert (send["object"], send["direction"], send["action"], send["sf_id"]) == ("donation", "to_actionnetwork",
                                                                                 "create", "006A")
    assert send["payload"] == {"amount": "40.00", "date": "2026-02-14T12:00:00+00:00", "period": "Monthly",
                               "contacts": ["003P", "003C", "003B"]}  # primary, then Donor, then oldest
    assert (stamp["object"], stamp["action"], stamp["sf_id"], stamp["pair_id"]) == ("opportunity", "update", "006A",
                                                                                   send["pair_id"])


def test_opportunities_that_cannot_be_sent_are_rejected_with_what_to_do():
    plan = run(opportunities=[opportunity("006N"), opportunity("006L", stage_name="Closed Lost"),
                              opportunity("006Z", amount=None), opportunity("006G")],
               roles=[role("006L", "003A"), role("006Z", "003A"), role("006G", "003G", is_deleted=True)])
    assert plan.ops == []
    assert codes(plan) == ["NO_CONTACT_ROLE", "NO_CONTACT_ROLE", "OPPORTUNITY_LOST", "OPPORTUNITY_WITHOUT_AMOUNT"]
    assert all("Contact Roles" in r["message"] for r in plan.rejects if r["reason_code"] == "NO_CONTACT_ROLE")


def test_only_unlinked_opportunities_of_the_donations_account_without_an_action_network_id_are_sent():
    linked_at = T - timedelta(hours=1)
    plan = run(opportunities=[opportunity("006O", account_id="001OTHER"),
                              opportunity("006X", an_id="d9"),
                              opportunity("006D", is_deleted=True),
                              opportunity("006S", modified=linked_at - timedelta(seconds=1)),
                              opportunity("006E"),
                              opportunity("006R", is_deleted=True)],
               roles=[role(o, "003A") for o in ("006O", "006X", "006D", "006S", "006E", "006R")],
               links=[("dS", "006S", "salesforce", linked_at), ("dE", "006E", "salesforce", linked_at),
                      ("dR", "006R", "actionnetwork", linked_at)])
    assert plan.ops == []
    assert codes(plan) == ["OPPORTUNITY_CHANGED_AFTER_SYNC", "OPPORTUNITY_DELETED_AFTER_SYNC"]
    assert {r["record_id"] for r in plan.rejects} == {"006E", "006R"}
