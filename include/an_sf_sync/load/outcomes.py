"""Recording what each planned write did: plan row status, and a reject a CRM admin can act on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from an_sf_sync.plan import Action, Direction, Reject, Source, Step, reject
from an_sf_sync.staging import links, pending, plans
from an_sf_sync.staging.rejects import add_rejects

if TYPE_CHECKING:
    from an_sf_sync.staging.store import StagingStore

# What an admin can do about common Salesforce errors.
_SF_ADVICE = {
    "INVALID_EMAIL_ADDRESS": "Correct the email address in Action Network.",
    "STRING_TOO_LONG": "Shorten the value in the other system, or lengthen the Salesforce field.",
    "REQUIRED_FIELD_MISSING": "Fill in the required field, or relax the requirement in Salesforce.",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "A validation rule in Salesforce refused the record; adjust the "
                                         "record or the rule.",
    "DUPLICATES_DETECTED": "A Salesforce duplicate rule blocked the record; merge the duplicates or allow "
                           "the sync's user to save duplicates.",
    "DUPLICATE_VALUE": "Another record already holds this unique value; merge the records in Salesforce.",
    "ENTITY_IS_DELETED": "The record was deleted in Salesforce; restore it from the Recycle Bin to resume.",
    "INSUFFICIENT_ACCESS_OR_READONLY": "Give the sync's Salesforce user edit access to this record.",
}


def sf_error(result: Any) -> tuple[str, str]:
    errors = result.errors or [{}]
    code = errors[0].get("statusCode") or "SALESFORCE_ERROR"
    text = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in errors if e)
    advice = _SF_ADVICE.get(code, "Check the record in Salesforce; the next run retries it if it changes.")
    return code, f"Salesforce refused it ({text or 'no detail given'}). {advice}"


def an_error(exc: Exception) -> tuple[str, str]:
    status = getattr(exc, "status", None)
    code = f"ACTIONNETWORK_{status}" if status else "ACTIONNETWORK_ERROR"
    return code, f"Action Network refused it ({exc}). Check the activist in Action Network."


_WHAT = {
    (Direction.TO_SALESFORCE, Action.CREATE): "creating a Salesforce {obj}",
    (Direction.TO_SALESFORCE, Action.UPDATE): "updating the Salesforce {obj}",
    (Direction.TO_SALESFORCE, Action.SUBSCRIBE): "adding the Contact to the Subscribers campaign",
    (Direction.TO_SALESFORCE, Action.UNSUBSCRIBE): "removing the Contact from the Subscribers campaign",
    (Direction.TO_ACTIONNETWORK, Action.CREATE): "adding the {obj} to Action Network",
    (Direction.TO_ACTIONNETWORK, Action.UPDATE): "updating the {obj} in Action Network",
    (Direction.TO_ACTIONNETWORK, Action.SUBSCRIBE): "subscribing the activist in Action Network",
    (Direction.TO_ACTIONNETWORK, Action.UNSUBSCRIBE): "unsubscribing the activist in Action Network",
}


class Outcomes:
    """Buffers outcomes and rejects of one load step; ``flush`` writes them in one transaction.

    ``synced`` gives what a write that went through leaves both sides of a linked pair holding (or
    None): that becomes the pair's base with the write's outcome (see ``links.note_synced``)."""

    def __init__(self, store: StagingStore, run_id: str, step: Step,
                 synced: Callable[[Any], dict[str, Any] | None] | None = None) -> None:
        self.store, self.run_id, self.step, self._synced_by = store, run_id, step, synced
        self._marks: list[tuple] = []
        self._rejects: list[Reject] = []
        self._synced: dict[tuple[str, str], dict[str, Any]] = {}

    def record(self, seq: int, status: str, result_id: str | None = None, code: str | None = None,
               error: str | None = None) -> None:
        self._marks.append((int(seq), status, result_id, code, error))

    def fail(self, op: Any, obj: str, system: str, code: str, message: str) -> None:
        what = _WHAT.get((op.direction, op.action), "{obj}").format(obj=obj)
        source: Source
        source, record = (("actionnetwork", op.an_id) if op.direction == Direction.TO_SALESFORCE and op.an_id
                          else ("salesforce", op.sf_id) if op.sf_id else ("actionnetwork", op.an_id))
        self.record(op.seq, "failed", None, code, message)
        self._rejects.append(reject(source, obj, record, code, f"Failed {what} for {source} record {record}: {message}",
                                    payload={"step": self.step, "seq": int(op.seq)},
                                    pending=pending.load_record(self.step, op)))

    def salesforce(self, todo: pd.DataFrame, results: Sequence[Any], obj: str, ids: dict,
                   done_codes: Iterable[str] = ()) -> None:
        done_codes = set(done_codes)
        for op, result in zip(todo.itertuples(), results, strict=True):
            if result.success or (result.codes and set(result.codes) <= done_codes):
                ids[op.seq] = result.id
                self.went_through(op, result.id)
            else:
                code, message = sf_error(result)
                self.fail(op, obj, "salesforce", code, message)
        self.flush()

    def done(self, todo: pd.DataFrame) -> None:
        for op in todo.itertuples():
            self.went_through(op)
        self.flush()

    def went_through(self, op: Any, result_id: str | None = None) -> None:
        """The plan row ``op`` is done; what it leaves its pair holding is noted for its base."""
        self.record(op.seq, "done", result_id)
        if self._synced_by is not None and (values := self._synced_by(op)):
            self._synced.setdefault((op.an_id, op.sf_id), {}).update(values)

    def blocked(self, todo: pd.DataFrame, why: str) -> None:
        for op in todo.itertuples():
            self.fail(op, "subscription", "salesforce", "BLOCKED", f"skipped because {why}.")
        self.flush()

    def flush(self) -> None:
        if not (self._marks or self._rejects):
            return
        with self.store.connect() as conn:
            plans.mark(conn, self.run_id, self.step, self._marks)
            add_rejects(conn, self.run_id, self._rejects)
            links.note_synced(conn, self._synced)
        self._marks, self._rejects, self._synced = [], [], {}

    @staticmethod
    def counts(ops: pd.DataFrame) -> dict[str, int]:
        """'direction.action.status' -> rows, for XCom and the run summary."""
        if ops.empty:
            return {}
        grouped = ops.groupby(["direction", "action", "status"]).size()
        return {".".join(key): int(n) for key, n in grouped.items()}
