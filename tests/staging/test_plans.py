"""The plan table: rows written in parts, payloads kept as the loads need them."""

from datetime import date
from decimal import Decimal

from an_sf_sync.plan import Action, Direction, Obj, Op, Step
from an_sf_sync.staging import plans


def op(pair: int, payload: dict) -> Op:
    return Op(pair_id=pair, object=Obj.CONTACT, direction=Direction.TO_SALESFORCE, action=Action.UPDATE,
              an_id=f"a{pair}", sf_id=None, payload=payload)


def test_payloads_keep_their_values_and_parts_continue_the_numbering(staging):
    first = {"fields": {"first_name": "Zoë 🌍", "city": None, "note": 'a "quote" \\ and\nnewline'}, "subscribed": True}
    odd = {"amount": Decimal("25.50"), "day": date(2026, 3, 1), "missing": float("nan"), "action": Action.CREATE}
    with staging.connect() as conn:
        assert plans.append(conn, "r1", Step.CONTACTS, [op(1, first)]) == 1
        assert plans.append(conn, "r1", Step.CONTACTS, [op(2, odd)], after=1) == 1
        rows = plans.pending_ops(conn, "r1", Step.CONTACTS)
    assert list(rows["seq"]) == [1, 2] and list(rows["an_id"]) == ["a1", "a2"]
    assert rows["payload"][0] == first
    assert rows["payload"][1] == {"amount": "25.50", "day": "2026-03-01", "missing": None, "action": "create"}
