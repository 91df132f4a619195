"""Load contacts: apply the run's contact plan to both sides, then commit links and base values.

Every write is idempotent, so a load killed half-way and rerun duplicates nothing: new Contacts are
upserted on ``Action_Network_ID__c``, activists go through the signup helper (which matches by
email), campaign membership treats "already a member" as done. A pair's link and base values are
committed only once all of its writes succeeded; until then the next run sees the difference and
tries again. What a write that went through sent is its pair's base at once, though: the sync's own
write, read back later, is then never taken for a newer edit (see ``links.note_synced``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from an_sf_sync import rules, synced
from an_sf_sync.load import budget
from an_sf_sync.load.members import ALREADY_A_MEMBER, add_members
from an_sf_sync.load.outcomes import Outcomes, an_error
from an_sf_sync.load.writes import each_write
from an_sf_sync.plan import Action, Direction, Step, reject
from an_sf_sync.staging import links, plans, settings
from an_sf_sync.staging.rejects import add_rejects

if TYPE_CHECKING:
    import psycopg

    from an_sf_sync.actionnetwork.client import ActionNetworkClient
    from an_sf_sync.salesforce.client import SalesforceClient
    from an_sf_sync.staging.store import StagingStore

log = logging.getLogger(__name__)
STEP = Step.CONTACTS
PAIRS_PER_CHUNK = 20_000  # a chunk's plan rows and payloads are what the load holds in memory
FLUSH_EVERY = 500  # Action Network writes recorded at once (about two minutes of them at 4 requests/s)


def sf_contact(fields: dict[str, Any], payload: dict[str, Any], custom: dict[str, str],
               create: bool, lengths: dict[str, int] | None = None) -> dict[str, Any]:
    """Our field names -> Salesforce Contact fields (no ZIP: no postal code; no last name: the email).

    ``payload`` carries the pair's merged ``email`` and ``last_name``: an email change rewrites the
    LastName only while the activist has no last name (the fallback follows the email). Values are
    cut to the fields' ``lengths`` (reconcile reported each cut).
    """
    lengths = lengths or {}
    fields = {name: rules.fit(value, lengths.get(name)) for name, value in fields.items()}
    record: dict[str, Any] = {}
    for name, value in fields.items():
        if name.startswith("cf:"):
            record[custom[name[3:]]] = value
        elif name != "last_name" and not (value is None and create):
            record[synced.person_field(name).sf_field] = value
    last = fields["last_name"] if "last_name" in fields else payload.get("last_name")
    if "last_name" in fields or ("email" in fields and not last):
        record["LastName"] = rules.fit(rules.sf_last_name(last, fields.get("email", payload.get("email"))),
                                       lengths.get("last_name"))
    return record


def an_person(fields: dict[str, Any]) -> dict[str, Any]:
    """Our field names -> the client's person fields; ``None`` clears a field on an update."""
    person = {synced.person_field(n).an_column: v for n, v in fields.items() if not n.startswith("cf:")}
    custom = {n[3:]: v for n, v in fields.items() if n.startswith("cf:")}
    if custom:
        person["custom_fields"] = custom
    return person


def load_contacts(store: StagingStore, run_id: str, an: ActionNetworkClient, sf: SalesforceClient, *, masters: dict[str, str],
                  custom: dict[str, str]) -> dict[str, int]:
    """Apply the plan in chunks of pairs, so memory stays bounded however large the first sync."""
    with store.connect() as conn:
        first, last = plans.open_pairs(conn, run_id, STEP)
    lengths = settings.get(store, "contact_lengths", {}) or {}
    if first is not None and last is not None:
        for start in range(first, last + 1, PAIRS_PER_CHUNK):
            _load_chunk(store, run_id, an, sf, masters, custom, lengths, (start, start + PAIRS_PER_CHUNK))
    with store.connect() as conn:
        links.note_agreed(conn, run_id, "failed")  # the pairs whose link waits for a write that failed
        links.note_first_matches(conn, run_id, "failed")
        return plans.step_counts(conn, run_id, STEP)


def _load_chunk(store: StagingStore, run_id: str, an: ActionNetworkClient, sf: SalesforceClient, masters: dict[str, str], custom: dict[str, str],
                lengths: dict[str, int], pairs: tuple[int, int]) -> None:
    with store.connect() as conn:  # the links' payloads are read at the end, when they are committed
        ops = plans.pending_ops(conn, run_id, STEP, payloads="writes", pairs=pairs)
    todo = ops[ops["status"].isin(["pending", "attempting"])]
    if todo.empty:
        return
    out = Outcomes(store, run_id, STEP, synced=_synced)
    results = dict(zip(ops["seq"], ops["result_id"], strict=True))

    def rows(direction: Direction, *actions: Action) -> pd.DataFrame:
        return todo[(todo["direction"] == direction) & todo["action"].isin(actions)]

    # 1. Salesforce Contacts: new ones upserted on the external id, known ones updated by Id.
    creates = rows(Direction.TO_SALESFORCE, Action.CREATE)
    _sf(out, creates, "contact", results, lambda: sf.write("Contact", [
        {**sf_contact(p["fields"], p, custom, create=True, lengths=lengths), rules.EXTERNAL_ID_FIELD: a}
        for p, a in zip(creates["payload"], creates["an_id"], strict=True)],
        operation="upsert", external_id_field=rules.EXTERNAL_ID_FIELD))
    updates = rows(Direction.TO_SALESFORCE, Action.UPDATE)
    _sf(out, updates, "contact", results, lambda: sf.write("Contact", [
        {"Id": s, **sf_contact(p["fields"], p, custom, create=False, lengths=lengths)}
        for p, s in zip(updates["payload"], updates["sf_id"], strict=True)], operation="update"))

    # 2. Action Network people, one request each, side by side under the client's rate limit.
    users_form = masters["an_users_form"]

    def create_person(op: Any) -> str:
        # A Contact entering from Salesforce takes the Salesforce Users action: the form's record
        # submission helper creates (or, matched by email, updates) the person, subscribed, and
        # records the submission, in one request.
        return an.record_participation("form", users_form, person=an_person(op.payload["fields"]),
                                       subscription="subscribed")["person_id"]

    def update_person(op: Any) -> str:
        return an.update_person(op.an_id, an_person(op.payload["fields"]))["an_id"]

    _each(out, rows(Direction.TO_ACTIONNETWORK, Action.CREATE), create_person, an, "person", results)
    _each(out, rows(Direction.TO_ACTIONNETWORK, Action.UPDATE), update_person, an, "person", results)

    # 3. Subscriptions, now that new records have ids.
    pair_sf = _pair_ids(ops, results, Direction.TO_SALESFORCE, "sf_id")
    pair_an = _pair_ids(ops, results, Direction.TO_ACTIONNETWORK, "an_id")
    subscribe = rows(Direction.TO_SALESFORCE, Action.SUBSCRIBE)
    contact_of = subscribe["pair_id"].map(pair_sf)
    if contact_of.isna().any():
        out.blocked(subscribe[contact_of.isna()], "the Contact could not be created")
    ready = subscribe[contact_of.notna()]
    _sf(out, ready, "subscription", results, lambda: add_members(sf, [
        {"CampaignId": masters["sf_subscribers_campaign"], "ContactId": c} for c in contact_of.dropna()]),
        done_codes={ALREADY_A_MEMBER})
    unsubscribe = rows(Direction.TO_SALESFORCE, Action.UNSUBSCRIBE)
    with store.connect() as conn:
        member_of = links.subscriber_members(conn, list(unsubscribe["sf_id"]))
    known = unsubscribe[unsubscribe["sf_id"].isin(member_of)]
    out.done(unsubscribe[~unsubscribe["sf_id"].isin(member_of)])  # not a member any more
    _sf(out, known, "subscription", results,
        lambda: sf.delete("CampaignMember", [member_of[s] for s in known["sf_id"]]),
        done_codes={"ENTITY_IS_DELETED", "NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"})

    def subscribe_person(op: Any) -> str:
        # Re-subscribing is taking the Salesforce Users action again, one request. The helper
        # matches by email, so the activist must hold the pair's email: a pair whose update failed
        # is skipped, and a match to anyone else is reported instead of recorded as done.
        an_id = op.an_id or pair_an[op.pair_id]
        taken = an.record_participation("form", users_form, person={"email": op.payload["email"]},
                                        subscription="subscribed")
        if taken["person_id"] != an_id:
            raise ValueError(f"Action Network matched {op.payload['email']!r} to activist {taken['person_id']},"
                             f" not {an_id}; check both activists' email addresses")
        return an_id

    an_subscribes = rows(Direction.TO_ACTIONNETWORK, Action.SUBSCRIBE)
    an_failed = set(ops.loc[(ops["direction"] == Direction.TO_ACTIONNETWORK) & (ops["status"] == "failed"), "pair_id"])
    an_failed |= {op.pair_id for op in rows(Direction.TO_ACTIONNETWORK, Action.UPDATE).itertuples()
                  if not results.get(op.seq)}
    stuck = an_subscribes["pair_id"].isin(an_failed)
    out.blocked(an_subscribes[stuck], "the activist's update did not go through")
    _each(out, an_subscribes[~stuck], subscribe_person, an, "subscription", results)
    _each(out, rows(Direction.TO_ACTIONNETWORK, Action.UNSUBSCRIBE), lambda op: an.unsubscribe(op.an_id)["an_id"], an,
          "subscription", results)

    # 4. Links and base values, for pairs whose every write succeeded. The writes' payloads are no
    # longer needed: only ids and outcomes are read back (and the links' own payloads).
    ops = todo = None  # free the writes' payloads
    with store.connect() as conn:
        ops = plans.pending_ops(conn, run_id, STEP, payloads="none", pairs=pairs)
        failed_pairs = set(ops.loc[ops["status"] == "failed", "pair_id"])
        local = ops[(ops["direction"] == Direction.LOCAL) & ~ops["status"].isin(["done", budget.DEFERRED])]
        commit = local[~local["pair_id"].isin(failed_pairs)]
        payloads = plans.local_payloads(conn, run_id, STEP, pairs)
        outcomes = dict(zip(ops["seq"], ops["result_id"], strict=True))
        pair_sf = _pair_ids(ops, outcomes, Direction.TO_SALESFORCE, "sf_id")
        pair_an = _pair_ids(ops, outcomes, Direction.TO_ACTIONNETWORK, "an_id")
        _commit_links(conn, run_id, commit, payloads, pair_sf, pair_an)
        _commit_subscribers(conn, ops, pair_sf)
        plans.mark(conn, run_id, STEP, [(seq, "done", None, None, None) for seq in commit["seq"]])
        plans.mark(conn, run_id, STEP, [(seq, "failed", None, "WRITE_FAILED", "a write for this pair failed")
                                        for seq in local.loc[local["pair_id"].isin(failed_pairs), "seq"]])


def _synced(op: Any) -> dict[str, Any] | None:
    """What a write that went through leaves both sides of an already linked pair holding (see
    ``Outcomes``): the fields it wrote, or the subscription it set."""
    if not (isinstance(op.an_id, str) and isinstance(op.sf_id, str)):
        return None  # a record being created: its link comes with it
    if op.action == Action.UPDATE:
        return dict(op.payload["fields"])
    if op.action in (Action.SUBSCRIBE, Action.UNSUBSCRIBE):
        return {"subscribed": op.action == Action.SUBSCRIBE}
    return None


def _sf(out: Outcomes, todo: pd.DataFrame, obj: str, results: dict, write: Callable[[], list],
        done_codes: tuple | set = ()) -> None:
    """Run one Salesforce write for the plan rows in ``todo`` (if any) and record each row's outcome."""
    if not todo.empty:
        out.salesforce(todo, write(), obj, results, done_codes)


def _each(out: Outcomes, todo: pd.DataFrame, write: Callable[[Any], str], an: ActionNetworkClient, obj: str,
          results: dict) -> None:
    """Apply one Action Network write per plan row; record each outcome."""
    for n, (op, result_id, exc) in enumerate(each_write(an, list(todo.itertuples()), write,
                                                        f"Action Network {obj} writes"), start=1):
        if exc is None:
            results[op.seq] = result_id
            out.went_through(op, result_id)
        else:
            code, message = an_error(exc)
            out.fail(op, obj, "actionnetwork", code, message)
        if n % FLUSH_EVERY == 0:  # a load stopped mid-way keeps what it recorded (a run's budget is thousands)
            out.flush()
    out.flush()


def _pair_ids(ops: pd.DataFrame, results: dict, direction: Direction, column: str) -> dict[int, str]:
    """pair -> the record id on one side, known from the plan or from a create's result."""
    ids: dict[int, str] = {}
    for op in ops.itertuples():
        value = getattr(op, column)
        if isinstance(value, str):
            ids.setdefault(op.pair_id, value)
        if op.direction == direction and op.action == Action.CREATE and results.get(op.seq):
            ids[op.pair_id] = results[op.seq]
    return ids


def _commit_links(conn: psycopg.Connection, run_id: str, local: pd.DataFrame, payloads: dict[int, dict], pair_sf: dict,
                  pair_an: dict) -> None:
    retire, link, move = [], [], []
    for op in local.itertuples():
        an_id, sf_id, payload = op.an_id or pair_an.get(op.pair_id), op.sf_id or pair_sf.get(op.pair_id), payloads[op.seq]
        if op.action == Action.MOVE:
            move.append((sf_id, run_id, an_id, payload["from"]))
        elif op.action == Action.RETIRE:
            retire.append((payload["state"], payload.get("reason"), run_id, an_id))
        elif an_id and sf_id:
            link.append((an_id, sf_id, payload["email_key"], json.dumps(payload["base"]), run_id, run_id))
    links.move_contacts(conn, move)  # first: the pair's own link then points at the Contact kept
    links.stop_contacts(conn, retire)  # and a deleted Contact's pair is stopped, free to pair again
    # The signup helper matches any of a person's addresses: a Contact created as a "new" activist
    # may come back as one already linked to another Contact. That link is never re-pointed.
    taken = links.linked_contacts(conn, [row[0] for row in link])
    clashes = [row for row in link if taken.get(row[0], row[1]) != row[1]]
    link = [row for row in link if row not in clashes]
    add_rejects(conn, run_id, [reject(
        "salesforce", "contact", sf_id, "SECONDARY_EMAIL",
        f"Contact {sf_id} has the email {email_key!r}, which Action Network matched to activist {an_id}, already "
        f"synced with Contact {taken[an_id]}; the Contact was not linked. Give it the activist's primary email, or "
        "merge the two Contacts.", payload={"step": STEP}) for an_id, sf_id, email_key, *_ in clashes])
    links.link_contacts(conn, link)


def _commit_subscribers(conn: psycopg.Connection, ops: pd.DataFrame, pair_sf: dict) -> None:
    """Keep the Subscribers mirror in step with the memberships this load added or removed."""
    done = ops[(ops["direction"] == Direction.TO_SALESFORCE) & (ops["status"] == "done")]
    added = [(pair_sf[op.pair_id], op.result_id) for op in done.itertuples()
             if op.action == Action.SUBSCRIBE and isinstance(op.result_id, str) and op.pair_id in pair_sf]
    links.note_subscribers(conn, added, [op.sf_id for op in done.itertuples() if op.action == Action.UNSUBSCRIBE])
