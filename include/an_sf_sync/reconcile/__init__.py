"""Reconcile: staged changes + stored sync state -> a plan per step, written to ``staging.plan``.

Each object's decision logic is a pure function (``contacts.reconcile_contacts``...); this module
does the reading and writing around it. Rerunning reconcile for a run recomputes the plan from the
current state, so after a partial load it plans only what is still missing.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from an_sf_sync import rules, synced
from an_sf_sync.plan import Step
from an_sf_sync.reconcile.campaigns import plan_campaigns
from an_sf_sync.reconcile.contacts import ContactInputs, reconcile_contacts
from an_sf_sync.reconcile.donations import plan_opportunities
from an_sf_sync.reconcile.duplicates import duplicate_reject, pick_winners
from an_sf_sync.staging import pending, plans, settings
from an_sf_sync.staging.mirrors import refresh_mirrors
from an_sf_sync.staging.rejects import add_conflicts, add_duplicates, add_rejects
from an_sf_sync.staging.store import StagingStore, frame

PARTITION_ROWS = 100_000  # staged activists and Contacts reconciled at once: bounds reconcile's memory


def _text_columns(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        df[column] = [rules.text_value(v) for v in df[column]]
    return df


def _custom(df: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    raw = [v if isinstance(v, dict) else json.loads(v) if isinstance(v, str) else {} for v in df.pop("custom_fields")]
    for an_name, source_name in mapping.items():
        df[f"cf:{an_name}"] = [rules.text_value(values.get(source_name)) for values in raw]
    return df


def _texts(values: Any) -> list[str]:
    """The strings among ``values`` (missing values come back from pandas as None or NaN)."""
    return [v for v in values if isinstance(v, str)]


def contact_partitions(conn: Any, run_id: str, subscribers: str | None) -> int:
    """Split the run's staged activists and Contacts into partitions reconciled one at a time, so
    reconcile's memory is bounded however large the run; returns how many (1: no split).

    Records that can concern each other share an email key, or a link: a linked record goes by its
    link's key, an unlinked one by its own. A linked record whose email is no longer its link's
    (an email change) joins partition 0 together with every record holding either key; hashing the
    key places everything else. Lookups by key (who else holds an email) span the whole org anyway.
    """
    conn.execute("DROP TABLE IF EXISTS pg_temp.contact_parts")
    conn.execute("CREATE TEMP TABLE contact_parts (side text, id text, link_key text, cur_key text, part int)")
    conn.execute("INSERT INTO contact_parts SELECT 'an', p.an_id, l.email_key, m.email_key, 0"
                 " FROM staging.an_people p LEFT JOIN sync.contact_links l ON l.an_id = p.an_id"
                 " LEFT JOIN sync.an_people m ON m.an_id = p.an_id WHERE p.run_id = %s", (run_id,))
    conn.execute("INSERT INTO contact_parts SELECT 'sf', c.sf_id, l.email_key, m.email_key, 0 FROM"
                 " (SELECT sf_id FROM staging.sf_contacts WHERE run_id = %s UNION SELECT contact_id"
                 "  FROM staging.sf_campaign_members WHERE run_id = %s AND campaign_id = %s AND contact_id IS NOT NULL) c"
                 " LEFT JOIN sync.contact_links l ON l.sf_id = c.sf_id LEFT JOIN sync.sf_contacts m ON m.sf_id = c.sf_id",
                 (run_id, run_id, subscribers))
    staged = conn.execute("SELECT count(*) FROM contact_parts").fetchone()[0]
    parts = math.ceil(staged / PARTITION_ROWS)
    if parts <= 1:
        return 1
    conn.execute("CREATE TEMP TABLE cross_keys ON COMMIT DROP AS SELECT DISTINCT k FROM contact_parts,"
                 " LATERAL (VALUES (link_key), (cur_key)) v (k)"
                 " WHERE link_key IS NOT NULL AND cur_key IS DISTINCT FROM link_key AND k IS NOT NULL")
    conn.execute("UPDATE contact_parts SET part = CASE WHEN (link_key IS NOT NULL AND cur_key IS DISTINCT FROM link_key)"
                 " OR link_key IN (SELECT k FROM cross_keys) OR cur_key IN (SELECT k FROM cross_keys) THEN 0"
                 " ELSE 1 + abs(hashtext(coalesce(link_key, cur_key, id))::bigint) %% %s END", (parts,))
    conn.execute("CREATE INDEX ON contact_parts (part, side, id)")
    conn.execute("ANALYZE contact_parts")
    return parts + 1


def contact_inputs(conn: Any, run_id: str, subscribers: str | None, custom: dict[str, str],
                   duplicate_rule: str, lengths: dict[str, int] | None = None, part: int | None = None) -> ContactInputs:
    """Build the contact reconcile's frames for ``run_id`` from staging and sync state (of one
    partition only, when ``part`` is given: see ``contact_partitions``)."""
    def only(side: str, column: str) -> str:
        return "" if part is None else (f" AND {column} IN (SELECT id FROM contact_parts WHERE part = {int(part)}"
                                        f" AND side = '{side}')")

    fields = synced.person_fields()
    texts = [f.name for f in fields if not f.match_key]  # the email stays as typed: its key is derived
    an = frame(conn, f"SELECT an_id, email_status, {', '.join(f'{f.an_column} AS {f.name}' for f in fields)},"
                           " custom_fields, modified_date AS modified"
                           " FROM staging.an_people WHERE run_id = %s" + only("an", "an_id"), (run_id,))
    an = _custom(_text_columns(an, texts), {name: name for name in custom})
    sf = frame(conn, f"SELECT c.sf_id, c.is_deleted, {', '.join(f'c.{f.sf_column} AS {f.name}' for f in fields)},"
                           " c.custom_fields, c.last_modified_date AS modified, c.created_date AS created,"
                           " false AS member_only"
                           " FROM staging.sf_contacts c WHERE c.run_id = %s" + only("sf", "c.sf_id"), (run_id,))
    sf = _custom(_text_columns(sf, texts), custom)
    members = frame(conn, "SELECT DISTINCT contact_id FROM staging.sf_campaign_members"
                                " WHERE run_id = %s AND campaign_id = %s AND contact_id IS NOT NULL"
                                + only("sf", "contact_id"), (run_id, subscribers))
    changed_members = set(members["contact_id"])
    extra = sorted(changed_members - set(sf["sf_id"]))
    if extra:
        sf = pd.concat([sf, pd.DataFrame({"sf_id": extra, "is_deleted": False, "member_only": True})],
                       ignore_index=True)
    sf["member_only"] = sf["member_only"].fillna(False).astype(bool)
    sf["is_deleted"] = sf["is_deleted"].fillna(False).astype(bool)
    subscribed = set(frame(conn, "SELECT contact_id FROM sync.sf_subscribers WHERE contact_id = ANY(%s)",
                                 (_texts(sf["sf_id"]),))["contact_id"])
    sf["subscribed"] = sf["sf_id"].isin(subscribed)
    sf["subscription_changed"] = sf["sf_id"].isin(changed_members)

    links = frame(conn, "SELECT an_id, sf_id, email_key, state, base FROM sync.contact_links"
                              " WHERE an_id = ANY(%s) OR sf_id = ANY(%s)", (_texts(an["an_id"]), _texts(sf["sf_id"])))
    keys = _texts(sf["email"].map(rules.email_key))
    # activists holding those emails, and the linked ones (their status guards re-subscribing)
    an_index = frame(conn, "SELECT an_id, email_key, email_status FROM sync.an_people"
                                 " WHERE email_key = ANY(%s) OR an_id = ANY(%s)", (keys, _texts(links["an_id"])))
    all_keys = keys + _texts(an["email"].map(rules.email_key))
    sf_index = frame(conn, "SELECT sf_id, email_key, created_date AS created,"
                                 " last_modified_date AS modified, is_deleted FROM sync.sf_contacts"
                                 " WHERE email_key = ANY(%s)", (all_keys,))
    other_emails = frame(conn, "SELECT an_id, email_key FROM sync.an_emails WHERE email_key = ANY(%s)",
                               (keys,))
    losers = frozenset(frame(conn, "SELECT sf_id FROM sync.duplicates")["sf_id"])
    return ContactInputs(an=an, sf=sf, links=links, an_index=an_index, sf_index=sf_index,
                         other_emails=other_emails, losers=losers, custom_fields=tuple(custom),
                         duplicate_rule=duplicate_rule, sf_lengths=dict(lengths or {}))


def reconcile_run(store: StagingStore, run_id: str, *, duplicate_rule: str, time_zone: str = "UTC") -> dict[str, int]:
    """Plan every step of ``run_id``; returns counts of planned operations and rejects."""
    masters = settings.masters(store)
    custom = settings.get(store, "custom_fields", {}) or {}
    with store.connect() as conn:
        restaged = pending.restage(conn, run_id)
        subscribers = masters.get("sf_subscribers_campaign")
        refresh_mirrors(conn, run_id, subscribers)
        conn.execute("DELETE FROM staging.plan WHERE run_id = %s AND step = %s", (run_id, Step.CONTACTS))
        conn.execute("DELETE FROM sync.rejects WHERE run_id = %s AND payload->>'step' = 'reconcile'", (run_id,))
        conn.execute("DELETE FROM sync.conflicts WHERE run_id = %s", (run_id,))
        parts = contact_partitions(conn, run_id, subscribers)
        counts = {"contacts": 0, "rejects": 0, "conflicts": 0, "duplicates": 0}
        pairs = 0
        for part in range(parts) if parts > 1 else [None]:
            plan = reconcile_contacts(contact_inputs(conn, run_id, subscribers, custom, duplicate_rule,
                                                     settings.get(store, "contact_lengths", {}), part))
            for op in plan.ops:  # pair numbers run on across partitions
                if op["pair_id"] is not None:
                    op["pair_id"] += pairs
            pairs += plan.pairs
            counts["contacts"] += plans.append(conn, run_id, Step.CONTACTS, plan.ops, counts["contacts"])
            add_rejects(conn, run_id, [{**r, "payload": {"step": "reconcile"}} for r in plan.rejects])
            add_conflicts(conn, run_id, plan.conflicts)
            add_duplicates(conn, run_id, plan.duplicates)
            counts["rejects"] += len(plan.rejects)
            counts["conflicts"] += len(plan.conflicts)
            counts["duplicates"] += len(plan.duplicates)
            del plan  # free this partition's frames before the next one's
        for step, planner in ((Step.CAMPAIGNS, lambda: plan_campaigns(conn, run_id, masters)),
                              (Step.OPPORTUNITIES, lambda: plan_opportunities(conn, run_id, masters, time_zone))):
            ops, rejects = planner()  # one step's plan in memory at a time
            counts[step.value] = plans.replace(conn, run_id, step, ops)
            add_rejects(conn, run_id, [{**r, "payload": {"step": "reconcile"}} for r in rejects])
            counts["rejects"] += len(rejects)
            del ops, rejects
    return {**counts, "partitions": parts, "retried": restaged}


def resolve_staged_duplicates(store: StagingStore, run_id: str, rule: str) -> int:
    """First run: pick one Contact per email across everything extracted; report the others."""
    with store.connect() as conn:
        contacts = frame(conn, "SELECT sf_id, email, created_date AS created, last_modified_date AS modified"
                                     " FROM staging.sf_contacts WHERE run_id = %s AND NOT is_deleted", (run_id,))
        contacts["email_key"] = contacts["email"].map(rules.email_key)
        linked = frame(conn, "SELECT sf_id, email_key FROM sync.contact_links")
        losers = pick_winners(contacts, linked, rule)
        add_duplicates(conn, run_id, losers)
        add_rejects(conn, run_id, [{**duplicate_reject(r), "payload": {"step": "resolve_duplicates"}}
                                         for r in losers.itertuples()])
    return len(losers)
