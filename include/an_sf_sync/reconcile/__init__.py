"""Reconcile: staged changes + stored sync state -> a plan per step, written to ``staging.plan``.

Each object's decision logic is a pure function (``contacts.reconcile_contacts``...); this module
does the reading and writing around it. Rerunning reconcile for a run recomputes the plan from the
current state, so after a partial load it plans only what is still missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from an_sf_sync import rules, synced
from an_sf_sync.plan import Reject, Step, reject
from an_sf_sync.reconcile.campaigns import plan_campaigns
from an_sf_sync.reconcile.contacts import ContactInputs, reconcile_contacts
from an_sf_sync.reconcile.donations import plan_opportunities
from an_sf_sync.reconcile.duplicates import duplicate_reject, pick_winners
from an_sf_sync.staging import inputs, links, pending, plans, settings
from an_sf_sync.staging import subscribers as sf_subscribers
from an_sf_sync.staging.mirrors import refresh_mirrors
from an_sf_sync.staging.rejects import (
    add_conflicts,
    add_duplicates,
    add_rejects,
    gather_rejects,
    save_rejects,
)
from an_sf_sync.staging.store import StagingStore

if TYPE_CHECKING:
    import psycopg

PARTITION_ROWS = 100_000  # staged activists and Contacts reconciled at once: bounds reconcile's memory


def _text_columns(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    text = rules.text_value
    for column in columns:  # most values are text already: they skip the call (millions of them)
        df[column] = [v if v.__class__ is str and v and not v.isspace() else text(v) for v in df[column].tolist()]
    return df


def _texts(values: Any) -> list[str]:
    """The strings among ``values`` (missing values come back from pandas as None or NaN)."""
    return [v for v in values if isinstance(v, str)]


def contact_inputs(conn: psycopg.Connection, custom: dict[str, str], duplicate_rule: str,
                   lengths: dict[str, int] | None = None, part: int = 0) -> ContactInputs:
    """Build the contact reconcile's frames for one partition of the run's staged records (see
    ``staging.inputs.partition_contacts``) from staging and sync state."""
    fields = synced.person_fields()
    # the email stays as typed: its key is derived
    texts = [f.name for f in fields if not f.match_key] + [f"cf:{name}" for name in custom]
    an = _text_columns(inputs.staged_people(conn, fields, part, tuple(custom)), texts)
    sf = _text_columns(inputs.staged_contacts(conn, fields, part, custom), texts)
    if extra := inputs.only_members(conn, part):
        subscribed = links.subscribed(conn, extra)
        sf = pd.concat([sf, pd.DataFrame({"sf_id": extra, "is_deleted": False, "member_only": True,
                                          "subscribed": [s in subscribed for s in extra],
                                          "subscription_changed": True})], ignore_index=True)
    for flag in ("member_only", "is_deleted", "subscribed", "subscription_changed"):
        sf[flag] = sf[flag].fillna(False).astype(bool)

    linked = inputs.contact_links(conn, _texts(an["an_id"]), _texts(sf["sf_id"]) + _texts(sf["master_id"]))
    keys = _texts(sf["email_key"])
    an_index = inputs.people_by_key(conn, keys, _texts(linked["an_id"]))
    sf_index = inputs.contacts_by_key(conn, keys + _texts(an["email_key"]))
    # The links of the records found by email too: one that did not change is still synced, never a
    # new match for another record, nor a duplicate that a newer Contact could win against.
    linked = pd.concat([linked, inputs.contact_links(conn, _texts(an_index["an_id"]), _texts(sf_index["sf_id"]))],
                       ignore_index=True).drop_duplicates(["an_id", "sf_id"])
    other_emails = inputs.other_emails(conn, keys)
    losers = inputs.duplicate_losers(conn)
    waiting = inputs.first_matches(conn, _texts(an["an_id"]) + _texts(an_index["an_id"]), _texts(sf["sf_id"]))
    return ContactInputs(an=an, sf=sf, links=linked, an_index=an_index, sf_index=sf_index,
                         other_emails=other_emails, losers=losers, first_matches=waiting, custom_fields=tuple(custom),
                         duplicate_rule=duplicate_rule, sf_lengths=dict(lengths or {}))


def reconcile_run(store: StagingStore, run_id: str, *, duplicate_rule: str, time_zone: str = "UTC",
                  backlog_batch: int | None = None) -> dict[str, int]:
    """Plan every step of ``run_id`` (with the first ``backlog_batch`` records of the write budget's
    backlog: see ``staging.pending.restage``); returns counts of planned operations and rejects."""
    masters = settings.masters(store)
    custom = settings.get(store, "custom_fields", {}) or {}
    with store.connect() as conn:
        restaged = pending.restage(conn, run_id, backlog_batch)
        inputs.fill_email_keys(conn, run_id)  # of records re-staged from a queue written before keys were staged
        restaged += pending.restage_contacts(conn, run_id)
        subscribers = masters.get("sf_subscribers_campaign")
        list_deleted = sf_subscribers.set_aside_deletion(conn, run_id, subscribers)
        refresh_mirrors(conn, run_id, subscribers)
        inputs.forget_contact_plan(conn, run_id)
        parts = inputs.partition_contacts(conn, run_id, subscribers, PARTITION_ROWS)
        counts = {"contacts": 0, "rejects": 0, "conflicts": 0, "duplicates": 0}
        pairs = 0
        for part in range(parts):
            plan = reconcile_contacts(contact_inputs(conn, custom, duplicate_rule,
                                                     settings.get(store, "contact_lengths", {}), part), pairs)
            pairs = plan.pairs  # pair numbers run on across partitions
            counts["contacts"] += plans.append(conn, run_id, Step.CONTACTS, plan.ops, counts["contacts"])
            gather_rejects(conn, [{**r, "payload": {"step": "reconcile"}} for r in plan.rejects])
            add_conflicts(conn, run_id, plan.conflicts)
            add_duplicates(conn, run_id, plan.duplicates)
            counts["rejects"] += len(plan.rejects)
            counts["conflicts"] += len(plan.conflicts)
            counts["duplicates"] += len(plan.duplicates)
            del plan  # free this partition's frames before the next one's
        counts["contacts"] += sf_subscribers.plan_refill(conn, run_id, counts["contacts"], pairs)
        if list_deleted:
            settings.put(store, "setup_checked", None)  # the next run's setup creates it again
            gather_rejects(conn, [{**_list_deleted(list_deleted), "payload": {"step": "reconcile"}}])
            counts["rejects"] += 1
        save_rejects(conn, run_id)
        for step, planner in ((Step.CAMPAIGNS, lambda: plan_campaigns(conn, run_id, masters)),
                              (Step.OPPORTUNITIES, lambda: plan_opportunities(conn, run_id, masters, time_zone))):
            ops, rejects = planner()  # one step's plan in memory at a time
            counts[step.value] = plans.replace(conn, run_id, step, ops)
            add_rejects(conn, run_id, [{**r, "payload": {"step": "reconcile"}} for r in rejects])
            counts["rejects"] += len(rejects)
            del ops, rejects
        plans.analyze(conn)
    return {**counts, "partitions": parts, "retried": restaged}


def _list_deleted(campaign: str) -> Reject:
    return reject(
        "salesforce", "campaign", campaign, "SUBSCRIBERS_CAMPAIGN_DELETED",
        f"The {rules.SUBSCRIBERS_CAMPAIGN!r} campaign ({campaign}) was deleted in Salesforce, and its memberships with "
        "it. Nobody was unsubscribed in Action Network (removing a Contact from the campaign unsubscribes them; "
        "deleting the campaign does not). The next run creates the campaign again and adds every subscribed "
        "Contact to it. Nothing to do.")


def resolve_staged_duplicates(store: StagingStore, run_id: str, rule: str) -> int:
    """First run: pick one Contact per email across everything extracted; report the others."""
    with store.connect() as conn:
        inputs.fill_email_keys(conn, run_id)
        contacts, linked = inputs.duplicate_candidates(conn, run_id)
        losers = pick_winners(contacts, linked, rule)
        add_duplicates(conn, run_id, losers)
        add_rejects(conn, run_id, [{**duplicate_reject(r), "payload": {"step": "resolve_duplicates"}}
                                         for r in losers.itertuples()])
    return len(losers)
