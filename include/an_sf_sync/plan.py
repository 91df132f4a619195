"""The plan: what reconcile decided and load carries out, one row of ``staging.plan`` per operation.

Reconcile builds a :class:`Plan` for each step; ``staging.plans`` stores its rows and reads them back with
their step, object, direction and action as the enums below, which load compares against. The
enums' values are the strings stored in ``staging.plan`` and shown in reports: renaming one is a
data migration.

Rejects (records that could not cross, and why, for a CRM admin) are built by :func:`reject`
wherever they arise, in reconcile or load, and recorded with ``staging.rejects.add_rejects``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict


class Step(StrEnum):
    """A load step, with its own plan."""

    CONTACTS = "contacts"
    CAMPAIGNS = "campaigns"
    OPPORTUNITIES = "opportunities"


class Obj(StrEnum):
    """What a plan row writes."""

    CONTACT = "contact"  # a pair of activist and Contact (contacts step)
    ACTION = "action"  # an Action Network action (campaigns step)
    CAMPAIGN = "campaign"  # a Salesforce Campaign
    MEMBER = "member"  # a taker of an action / a CampaignMember
    OPPORTUNITY = "opportunity"  # opportunities step
    CONTACT_ROLE = "contact_role"
    DONATION = "donation"


class Direction(StrEnum):
    """Where a plan row writes (in the order reports list them)."""

    TO_SALESFORCE = "to_salesforce"
    TO_ACTIONNETWORK = "to_actionnetwork"
    LOCAL = "local"  # the sync's own state (links), no API call


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SUBSCRIBE = "subscribe"  # to the list: the Subscribers campaign, the activist's email status
    UNSUBSCRIBE = "unsubscribe"
    LINK = "link"  # local: commit a pair's link and base values once its writes went through
    RETIRE = "retire"  # local: stop syncing a link (its record was deleted or changed)
    RESTORE = "restore"  # local: resume a retired link
    MOVE = "move"  # local: re-point a pair at the Contact a merge in Salesforce kept


class Op(TypedDict):
    """A plan row as reconcile writes it (``staging.plans`` adds the run, step and sequence number)."""

    pair_id: int | None  # rows about one pair of records share it; load commits a pair only whole
    object: Obj
    direction: Direction
    action: Action
    an_id: str | None
    sf_id: str | None
    payload: dict[str, Any]


Source = Literal["actionnetwork", "salesforce"]


class Reject(TypedDict):
    """A row of ``sync.rejects``, as ``staging.rejects.add_rejects`` records it."""

    source: Source  # the system the record is in
    object: str  # what it is, in an admin's words ("person", "contact role"...)
    record_id: str | None
    reason_code: str
    message: str
    payload: NotRequired[dict[str, Any]]  # where it arose: {"step": ...} and more
    pending: NotRequired[tuple[str, str] | None]  # the staged record (kind, id) whose retry may resolve it


def reject(source: Source, obj: str, record_id: str | None, code: str, message: str, *,
           payload: dict[str, Any] | None = None, pending: tuple[str, str] | None = None) -> Reject:
    """A record that could not cross, and why, in words a CRM admin can act on."""
    found = Reject(source=source, object=obj, record_id=record_id, reason_code=code, message=message)
    if payload is not None:
        found["payload"] = payload
    if pending is not None:
        found["pending"] = pending
    return found


@dataclass
class Plan:
    """The rows and rejects of one step's reconcile."""

    ops: list[Op] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    pairs: int = 0  # pair numbers handed out

    def pair(self) -> int:
        """A new pair number, for the rows about one pair of records."""
        self.pairs += 1
        return self.pairs

    def add(self, obj: Obj, direction: Direction, action: Action, an_id: str | None, sf_id: str | None,
            payload: dict[str, Any], pair: int | None = None) -> None:
        self.ops.append({"pair_id": pair, "object": obj, "direction": direction, "action": action, "an_id": an_id,
                         "sf_id": sf_id, "payload": payload})  # a literal: Op(...) costs a call, millions of times

    def reject(self, source: Source, obj: str, record_id: str | None, code: str, message: str) -> None:
        self.rejects.append(reject(source, obj, record_id, code, message))
