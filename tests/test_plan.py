"""The plan contract: what reconcile writes to staging.plan, load reads back as the same typed rows."""

from __future__ import annotations

import json

import pytest

from an_sf_sync.plan import Action, Direction, Obj, Plan, Step, reject
from an_sf_sync.staging import plans
from an_sf_sync.staging.rejects import add_rejects, gather_rejects, save_rejects
from tests.reconcile.test_donations import donation, opportunity, role, run

RUN = "run-1"


def test_values_are_the_strings_staging_plan_holds() -> None:
    # Stored rows, reports and the pending queue read these strings: renaming one is a data migration.
    assert list(Step) == ["contacts", "campaigns", "opportunities"]
    assert list(Direction) == ["to_salesforce", "to_actionnetwork", "local"]
    assert list(Action) == ["create", "update", "subscribe", "unsubscribe", "link", "retire", "restore", "move"]
    assert list(Obj) == ["contact", "action", "campaign", "member", "opportunity", "contact_role", "donation"]


def test_rows_about_one_pair_share_its_number_and_others_have_none() -> None:
    plan = Plan()
    first, second = plan.pair(), plan.pair()
    plan.add(Obj.CONTACT, Direction.LOCAL, Action.LINK, "a1", None, {"email_key": "a@example.org"}, first)
    plan.add(Obj.CONTACT, Direction.TO_SALESFORCE, Action.CREATE, "a1", None, {"fields": {}}, first)
    plan.add(Obj.CAMPAIGN, Direction.TO_SALESFORCE, Action.UPDATE, "f1", "701F1", {"name": "New"})
    assert (first, second, plan.pairs) == (1, 2, 2)
    assert [op["pair_id"] for op in plan.ops] == [1, 1, None]
    assert plan.ops[2] == {"pair_id": None, "object": "campaign", "direction": "to_salesforce", "action": "update",
                           "an_id": "f1", "sf_id": "701F1", "payload": {"name": "New"}}


def test_a_row_reconcile_writes_is_read_back_by_load_as_the_same_typed_op(staging) -> None:
    plan = run(donations=[donation("d1")], opportunities=[opportunity("006A")], roles=[role("006A", "003B")])
    with staging.connect() as conn:
        assert plans.replace(conn, RUN, Step.OPPORTUNITIES, plan.ops) == 4
        read = plans.pending_ops(conn, RUN, Step.OPPORTUNITIES)
        assert plans.pending_ops(conn, RUN, Step.CAMPAIGNS).empty  # another step's plan is its own
    assert len(read) == len(plan.ops)
    for op, row in zip(plan.ops, read.itertuples(), strict=True):
        assert row.object is op["object"] and row.direction is op["direction"] and row.action is op["action"]
        assert (row.pair_id, row.an_id, row.sf_id) == (op["pair_id"], op["an_id"], op["sf_id"])
        assert row.payload == json.loads(json.dumps(op["payload"], default=str))
        assert row.status == "pending"
    assert list(read["seq"]) == [1, 2, 3, 4]
    writes = read[(read["direction"] == Direction.TO_ACTIONNETWORK) & (read["action"] == Action.CREATE)]
    assert list(writes["object"]) == [Obj.DONATION] and list(writes["sf_id"]) == ["006A"]


def test_a_row_outside_the_contract_is_an_error_not_a_silent_miss(staging) -> None:
    with staging.connect() as conn:
        conn.execute("INSERT INTO staging.plan (run_id, step, seq, object, direction, action, payload)"
                     " VALUES (%s, %s, 1, 'contact', 'to_somewhere', 'create', '{}')", (RUN, Step.CONTACTS))
        with pytest.raises(ValueError, match="to_somewhere"):
            plans.pending_ops(conn, RUN, Step.CONTACTS)


def test_a_reject_is_recorded_with_every_field_it_was_built_with(staging) -> None:
    built = reject("salesforce", "contact role", "006A", "DONOR_NOT_SYNCED", "Opportunity 006A has no donor.",
                   payload={"step": Step.OPPORTUNITIES, "seq": 3}, pending=("sf_opportunities", "006A"))
    assert built == {"source": "salesforce", "object": "contact role", "record_id": "006A",
                     "reason_code": "DONOR_NOT_SYNCED", "message": "Opportunity 006A has no donor.",
                     "payload": {"step": "opportunities", "seq": 3}, "pending": ("sf_opportunities", "006A")}
    assert set(reject("actionnetwork", "person", "p1", "NO_EMAIL", "no email")) == {
        "source", "object", "record_id", "reason_code", "message"}  # payload and pending only when given
    with staging.connect() as conn:
        add_rejects(conn, RUN, [built])
        stored = conn.execute("SELECT source, object, record_id, reason_code, message, payload, pending_kind,"
                              " pending_id, status FROM sync.rejects WHERE run_id = %s", (RUN,)).fetchall()
    assert stored == [("salesforce", "contact role", "006A", "DONOR_NOT_SYNCED", "Opportunity 006A has no donor.",
                       {"step": "opportunities", "seq": 3}, "sf_opportunities", "006A", "open")]


def test_a_record_rejected_again_keeps_one_row_with_the_latest_message(staging) -> None:
    first = reject("actionnetwork", "person", "p1", "MISSING_EMAIL", "first")
    again = reject("actionnetwork", "person", "p1", "MISSING_EMAIL", "again")
    other = reject("actionnetwork", "person", "p2", "MISSING_EMAIL", "other")
    unnamed = [reject("salesforce", "campaign", None, "BLOCKED", f"no id {n}") for n in (1, 2)]
    with staging.connect() as conn:
        add_rejects(conn, RUN, [first, other, again, *unnamed])  # twice in one call
        add_rejects(conn, RUN, [reject("actionnetwork", "person", "p2", "MISSING_EMAIL", "later")])  # a later call
        stored = conn.execute("SELECT record_id, message FROM sync.rejects WHERE run_id = %s ORDER BY id",
                              (RUN,)).fetchall()
    assert stored == [("p1", "again"), ("p2", "later"), (None, "no id 1"), (None, "no id 2")]


def test_rejects_gathered_over_several_calls_are_saved_once_each_in_its_first_place(staging) -> None:
    # reconcile gathers each partition's rejects and saves them once: the same as saving each call
    with staging.connect() as conn:
        gather_rejects(conn, [reject("actionnetwork", "person", "p1", "MISSING_EMAIL", "first"),
                              reject("salesforce", "campaign", None, "BLOCKED", "no id")])
        gather_rejects(conn, [reject("actionnetwork", "person", "p2", "MISSING_EMAIL", "other"),
                              reject("actionnetwork", "person", "p1", "MISSING_EMAIL", "again")])
        assert conn.execute("SELECT count(*) FROM sync.rejects").fetchone() == (0,)  # nothing saved yet
        save_rejects(conn, RUN)
        save_rejects(conn, RUN)  # nothing left to save
        stored = conn.execute("SELECT record_id, message FROM sync.rejects WHERE run_id = %s ORDER BY id",
                              (RUN,)).fetchall()
    assert stored == [("p1", "again"), (None, "no id"), ("p2", "other")]
