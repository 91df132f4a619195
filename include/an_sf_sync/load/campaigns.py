"""Load campaigns: apply the run's campaigns plan to both sides, then commit action and member links.

Runs after ``load_contacts``, so people and Contacts are resolved here, from the links that load
committed; a taker or member whose person is not synced is rejected with the reason.

Idempotent, so a load killed half-way and rerun duplicates nothing:
- Campaigns are upserted on ``Action_Network_ID__c``; members are inserted, and "already a
  member" (``DUPLICATE_VALUE``) counts as done. Its member id is then unknown (NULL in
  ``sync.member_links``); the (action, person) pair still stops any echo.
- Action Network deduplicates submissions, signatures and attendances per person and action.
- Forms are not deduplicated: a row is marked ``attempting`` before its form is created, and every
  creation first looks for a form carrying the identifier ``salesforce:<Campaign Id>``, so a form
  whose answer was lost is found instead of made twice.
Links are committed before a row is marked done, so a rerun finds its work already linked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from an_sf_sync import rules, synced
from an_sf_sync.actionnetwork.errors import ActionNetworkUnavailableError
from an_sf_sync.errors import UnknownOutcome
from an_sf_sync.load.members import ALREADY_A_MEMBER, add_members
from an_sf_sync.load.outcomes import Outcomes, an_error, sf_error
from an_sf_sync.load.writes import each_write
from an_sf_sync.plan import Action, Direction, Obj, Step
from an_sf_sync.staging import links, plans

if TYPE_CHECKING:
    from an_sf_sync.actionnetwork.client import ActionNetworkClient
    from an_sf_sync.salesforce.client import SalesforceClient
    from an_sf_sync.staging.store import StagingStore

STEP = Step.CAMPAIGNS
ROWS_PER_CHUNK = 50_000  # plan rows with their payloads in memory at once

def load_campaigns(store: StagingStore, run_id: str, an: ActionNetworkClient, sf: SalesforceClient, *, masters: dict[str, str]) -> dict[str, int]:
    """Apply the campaigns plan: link states, forms, Campaigns and renames, then members both ways."""
    out = Outcomes(store, run_id, STEP)

    def chunks(obj: Obj, direction: Direction, *actions: Action) -> Iterator[pd.DataFrame]:
        """The rows of one kind still to apply, a bounded chunk at a time (a first sync has millions)."""
        after = 0
        while True:
            with store.connect() as conn:
                chunk = plans.open_ops(conn, run_id, STEP, obj, direction, actions, after=after, limit=ROWS_PER_CHUNK)
            if chunk.empty:
                return
            yield chunk
            after = int(chunk["seq"].max())

    for todo in chunks(Obj.ACTION, Direction.LOCAL, Action.RETIRE, Action.RESTORE):
        _set_link_states(store, run_id, todo)
    unknown: set[str] = set()
    for todo in chunks(Obj.ACTION, Direction.TO_ACTIONNETWORK, Action.CREATE):
        unknown |= _create_forms(store, run_id, an, sf, out, todo)
    for todo in chunks(Obj.CAMPAIGN, Direction.TO_SALESFORCE, Action.CREATE):
        _create_campaigns(store, run_id, sf, out, todo)
    for todo in chunks(Obj.CAMPAIGN, Direction.TO_SALESFORCE, Action.UPDATE):
        _rename_campaigns(store, sf, out, todo)
    for todo in chunks(Obj.MEMBER, Direction.TO_SALESFORCE, Action.CREATE):
        _add_members(store, run_id, sf, out, todo)
    for todo in chunks(Obj.MEMBER, Direction.TO_ACTIONNETWORK, Action.CREATE):
        _add_takers(store, run_id, an, out, todo, masters, unknown)
    if unknown:
        raise UnknownOutcome(f"{len(unknown)} Action Network form(s) may or may not have been created (the answer was "
                             "lost); everything else was loaded. Rerun this task: it finds those forms by their "
                             "Salesforce identifier instead of creating them again, then adds their members.")
    with store.connect() as conn:
        return plans.step_counts(conn, run_id, STEP)


def _set_link_states(store: StagingStore, run_id: str, todo: pd.DataFrame) -> None:
    """Retire the links of Campaigns deleted in Salesforce, or resume restored ones (one transaction)."""
    if todo.empty:
        return
    with store.connect() as conn:
        links.set_action_states(conn, [(op.payload["state"], op.an_id) for op in todo.itertuples()])
        plans.mark(conn, run_id, STEP, [(seq, "done", None, None, None) for seq in todo["seq"]])


def _create_forms(store: StagingStore, run_id: str, an: ActionNetworkClient, sf: SalesforceClient, out: Outcomes, todo: pd.DataFrame) -> set[str]:
    """Campaigns under the Subscribers campaign -> Action Network forms, linked and stamped on the Campaign.

    Returns the Campaigns whose form creation has an unknown outcome (left 'attempting').
    """
    if todo.empty:
        return set()
    with store.connect() as conn:
        linked = {sf_id: action for sf_id, (action, _, _) in links.actions_of_campaigns(conn, list(todo["sf_id"])).items()}
    for seq in todo.loc[~todo["sf_id"].isin(linked), "seq"]:
        out.record(seq, "attempting")
    out.flush()  # committed before any form is created

    def create(op: Any) -> str:
        if op.sf_id in linked:
            return linked[op.sf_id]
        identifier = f"salesforce:{op.sf_id}"
        found = an.find_action("form", identifier)
        if found is not None:
            return found["an_id"]
        title = op.payload.get("title") or f"Salesforce campaign {op.sf_id}"
        return an.create_form(title, identifiers=[identifier], description=(
            f"Created from Salesforce campaign {op.sf_id}: its Contacts that are also in the "
            f"{rules.SUBSCRIBERS_CAMPAIGN!r} campaign are added here."))["an_id"]

    made, unknown = [], set()
    for op, form_id, exc in each_write(an, list(todo.itertuples()), create, "Action Network forms"):
        if exc is None:
            made.append((op, form_id))
        elif isinstance(exc, ActionNetworkUnavailableError):
            unknown.add(op.sf_id)
        else:
            out.fail(op, "action", "actionnetwork", *an_error(exc))
    out.flush()
    with store.connect() as conn:
        links.link_actions(conn, [(form_id, "form", op.sf_id, "salesforce", run_id, op.payload.get("title"))
                                  for op, form_id in made])
    if not made:
        return unknown
    stamped = sf.write("Campaign", [{"Id": op.sf_id, rules.EXTERNAL_ID_FIELD: form_id} for op, form_id in made],
                       operation="update")
    for (op, form_id), result in zip(made, stamped, strict=True):
        if result.success:
            out.record(op.seq, "done", form_id)
        else:
            out.fail(op, "campaign", "salesforce", *sf_error(result))
    out.flush()
    return unknown


def _create_campaigns(store: StagingStore, run_id: str, sf: SalesforceClient, out: Outcomes, todo: pd.DataFrame) -> None:
    """Action Network actions -> Campaigns, upserted on the external id; skip actions linked meanwhile."""
    if todo.empty:
        return
    with store.connect() as conn:
        linked = set(links.campaigns_of_actions(conn, list(todo["an_id"])))
    out.done(todo[todo["an_id"].isin(linked)])  # e.g. the form just made from a Salesforce campaign
    todo = todo[~todo["an_id"].isin(linked)]
    if todo.empty:
        return
    results = sf.write("Campaign", [
        {rules.EXTERNAL_ID_FIELD: op.an_id, "Name": op.payload["name"], "IsActive": True,
         "Description": op.payload["description"]} for op in todo.itertuples()],
        operation="upsert", external_id_field=rules.EXTERNAL_ID_FIELD)
    with store.connect() as conn:
        links.link_actions(conn, [
            (op.an_id, op.payload["action_type"], result.id, "actionnetwork", run_id, op.payload["name"])
            for op, result in zip(todo.itertuples(), results, strict=True) if result.success and result.id])
    out.salesforce(todo, results, "campaign", {})


def _rename_campaigns(store: StagingStore, sf: SalesforceClient, out: Outcomes, todo: pd.DataFrame) -> None:
    """A title changed in Action Network: rename the Campaign and remember the name written."""
    if todo.empty:
        return
    results = sf.write("Campaign", [{"Id": op.sf_id, "Name": op.payload["name"]} for op in todo.itertuples()],
                       operation="update")
    with store.connect() as conn:
        links.rename_actions(conn, [
            (op.payload["name"], op.an_id) for op, result in zip(todo.itertuples(), results, strict=True)
            if result.success])
    out.salesforce(todo, results, "campaign", {})


def _add_members(store: StagingStore, run_id: str, sf: SalesforceClient, out: Outcomes, todo: pd.DataFrame) -> None:
    """Takers of actions -> members of the actions' Campaigns, for activists synced with a Contact."""
    if todo.empty:
        return
    actions = [p["action_id"] for p in todo["payload"]]
    with store.connect() as conn:
        campaign = links.campaigns_of_actions(conn, actions)
        contact = links.synced_contacts(conn, list(todo["an_id"]))
        done = links.linked_members(conn, actions, list(todo["an_id"]))
    ready, rows = [], []  # index labels of the rows to write, and their members
    for op in todo.itertuples():
        action, kind = op.payload["action_id"], synced.action_label(op.payload["action_type"])
        sf_id, link_state = campaign.get(action, (None, None))
        if (action, op.an_id) in done:
            out.record(op.seq, "done")
        elif sf_id is None:
            out.fail(op, "campaign member", "salesforce", "BLOCKED", f"the Campaign of Action Network {kind} "
                     f"{action} could not be created (see its own reject); the next run tries again.")
        elif link_state != "active":
            out.fail(op, "campaign member", "salesforce", "CAMPAIGN_DELETED_IN_SALESFORCE",
                     f"activist {op.an_id} took Action Network {kind} {action}, but its Campaign {sf_id} was "
                     "deleted in Salesforce. Restore the Campaign from the Recycle Bin to resume.")
        elif op.an_id not in contact:
            out.fail(op, "campaign member", "salesforce", "PERSON_NOT_SYNCED",
                     f"activist {op.an_id} took Action Network {kind} {action}, but is not synced with a "
                     "Salesforce Contact (see the activist's own reject, e.g. a missing or malformed email), "
                     f"so they were not added to Campaign {sf_id}. Fix the activist to sync them.")
        else:
            ready.append(op.Index)
            rows.append({"CampaignId": sf_id, "ContactId": contact[op.an_id]})
    out.flush()
    if not ready:
        return
    written = todo.loc[ready]
    results = add_members(sf, rows)
    added = [(op.payload["action_id"], op.an_id, result.id, "actionnetwork", run_id)
             for op, result in zip(written.itertuples(), results, strict=True)
             if result.success or set(result.codes) == {ALREADY_A_MEMBER}]
    with store.connect() as conn:
        links.link_members(conn, added)
    out.salesforce(written, results, "campaign member", {}, done_codes={ALREADY_A_MEMBER})


def _add_takers(store: StagingStore, run_id: str, an: ActionNetworkClient, out: Outcomes, todo: pd.DataFrame,
                masters: dict[str, str], waiting: set[str]) -> None:
    """Contacts added to a synced Campaign -> takers of its action (submission, signature, attendance,
    survey response).

    Members of a Campaign in ``waiting`` (its form's creation is unresolved) stay pending for the rerun.
    """
    if not todo.empty:
        todo = todo[pd.Series([p["campaign_id"] not in waiting for p in todo["payload"]], index=todo.index)]
    if todo.empty:
        return
    contacts = [p["contact_id"] for p in todo["payload"]]
    with store.connect() as conn:
        action = links.actions_of_campaigns(conn, [p["campaign_id"] for p in todo["payload"]])
        person = links.synced_people(conn, contacts)
        subscribed = links.subscribed(conn, contacts)
        done = links.linked_members(conn, [a for a, _, _ in action.values()], list(person.values()))
    ready = []  # (plan row, action id, action type, person id)
    for op in todo.itertuples():
        p = op.payload
        action_id, action_type, link_state = action.get(p["campaign_id"], ("", "", ""))
        contact = p["contact_id"]
        if not action_id:
            out.fail(op, "participation", "actionnetwork", "BLOCKED", f"the Action Network form of Campaign "
                     f"{p['campaign_id']} could not be created (see its own reject); the next run tries again.")
        elif link_state != "active":
            out.fail(op, "participation", "actionnetwork", "CAMPAIGN_DELETED_IN_SALESFORCE",
                     f"Campaign {p['campaign_id']} was deleted in Salesforce, so it is no longer synced.")
        elif contact not in person:
            out.fail(op, "participation", "actionnetwork", "CONTACT_NOT_SYNCED",
                     f"Contact {contact} was added to Campaign {p['campaign_id']}, but is not synced with an "
                     "Action Network activist (see the Contact's own reject), so they were not added to "
                     f"Action Network {synced.action_label(action_type)} {action_id}.")
        elif p["subscribers_only"] and contact not in subscribed:
            out.fail(op, "participation", "actionnetwork", "NOT_IN_SUBSCRIBERS_CAMPAIGN",
                     f"Contact {contact} was added to Campaign {p['campaign_id']} but not to the "
                     f"{rules.SUBSCRIBERS_CAMPAIGN!r} campaign ({masters.get('sf_subscribers_campaign')}). "
                     "Contacts must be added to both campaigns to show up on your Action Network email list; "
                     "add it there, then edit this campaign member so the next sync picks it up.")
        elif (action_id, person[contact]) in done:
            out.record(op.seq, "done")
        else:
            ready.append((op, action_id, action_type, person[contact]))
    out.flush()

    def take(item: tuple) -> str:
        op, action_id, action_type, person_id = item
        if synced.action_type(action_type).deduplicated:
            return an.record_participation(action_type, action_id, person_id=person_id)["an_id"]
        # Not deduplicated (survey responses): carry the member's id, and look for it first, so a
        # POST whose answer was lost is found by the retry instead of being made twice.
        identifier = f"salesforce:{op.sf_id}"
        found = an.find_participation(action_type, action_id, identifier)
        return (found or an.record_participation(action_type, action_id, person_id=person_id,
                                                 identifiers=[identifier]))["an_id"]

    taken = []
    for (op, action_id, _, person_id), taker_id, exc in each_write(an, list(ready), take,
                                                                          "Action Network participations"):
        if exc is None:
            taken.append((action_id, person_id, op.sf_id, "salesforce", run_id))
            out.record(op.seq, "done", taker_id)
        else:
            out.fail(op, "participation", "actionnetwork", *an_error(exc))
    with store.connect() as conn:
        links.link_members(conn, taken)
    out.flush()
