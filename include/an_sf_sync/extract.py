"""Extract: pull each side's changes in a run's window into staging tables tagged with the run id.

Records stream from the API clients in chunks of plain rows, cleaned, and go to
Postgres with COPY, so memory stays bounded however large the window. Rerunning an extract for the
same run replaces that run's rows.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from an_sf_sync import activity, rules, synced, text
from an_sf_sync.progress import Progress
from an_sf_sync.salesforce.client import Read, SalesforceClient
from an_sf_sync.staging import known_actions, runs, settings
from an_sf_sync.staging.store import StagingStore
from an_sf_sync.window import Window

if TYPE_CHECKING:
    from an_sf_sync.actionnetwork.client import ActionNetworkClient

log = logging.getLogger(__name__)

CHUNK_ROWS = 5_000

_JSON_COLUMNS = ("custom_fields", "other_emails")
_ADDRESS_COLUMNS = ("email", "other_emails")  # identities: a character no database stores makes them malformed
AN_ACTION_COLUMNS = ("an_id", "action_type", "title", "origin_system", "event_campaign_id",
                     "created_date", "modified_date")
AN_PARTICIPATION_COLUMNS = ("an_id", "action_type", "action_id", "person_id", "status",
                            "created_date", "modified_date")
AN_DONATION_COLUMNS = ("an_id", "fundraising_page_id", "person_id", "amount", "currency", "recurring",
                       "period", "created_date", "modified_date")

_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(value, ensure_ascii=False), without its call per value
KEY = "email_key"  # derived as a person is staged, from the cleaned email (see rules.email_key)
SWEEP_OVERLAP = timedelta(minutes=5)  # a dormant sweep re-reads this much before the last one ended


def an_people_columns() -> tuple[str, ...]:
    """staging.an_people's columns: the declared person fields' and what the sync keeps besides."""
    return tuple(dict.fromkeys(("an_id", *(f.an_column for f in synced.person_fields()), "email_status", "country",
                                "custom_fields", "created_date", "modified_date", "other_emails", KEY)))


def an_action_types() -> list[str]:
    """Action types read from Action Network: the synced ones (event campaigns are not read: they
    are never synced and have no takers of their own; their events, read as events, do)."""
    return list(synced.synced_action_types())


def an_participation_types() -> list[str]:
    """Action types whose takers are read per action. Fundraising pages' donations come from the
    global /donations feed (one filtered read instead of one per page)."""
    return [name for name, kind in synced.synced_action_types().items() if not kind.takers_from_donations]


def _rows(records: Iterable[dict[str, Any]], columns: Sequence[str], progress: Callable[[int], None] | None = None,
          key_from: str | None = None) -> Iterator[list[list[Any]]]:
    """Chunk records into rows of exactly ``columns`` (plain lists: a million rows go through here);
    dict and list values become JSON text, and text Postgres cannot store (NUL, control characters,
    lone surrogates) is cleaned, never fatal. With ``key_from``, the ``KEY`` column gets the email key of
    that (cleaned) email column."""
    it = iter(records)
    json_at = [at for at, column in enumerate(columns) if column in _JSON_COLUMNS]
    keyed = (columns.index(KEY), columns.index(key_from)) if key_from else None
    done = 0
    while chunk := list(itertools.islice(it, CHUNK_ROWS)):
        rows = [list(map(record.get, columns)) for record in chunk]
        for row in rows:
            for at in json_at:
                if row[at] is not None:
                    row[at] = _json(row[at])
        if cleaned := text.clean_rows(rows, columns, json_columns=_JSON_COLUMNS, address_columns=_ADDRESS_COLUMNS):
            log.warning("removed characters no database can store (NUL and other control characters, broken"
                        " Unicode) from %d records; they sync without them (an email address with one is"
                        " malformed, and reported): %s", len(cleaned), ", ".join(str(rows[i][0]) for i in cleaned[:20]))
        if keyed:
            key_at, email_at = keyed
            for row in rows:
                row[key_at] = rules.email_key(row[email_at])
        done += len(rows)
        if progress:
            progress(done)
        yield rows


def _stage(store: StagingStore, table: str, run_id: str, columns: Sequence[str],
           records: Iterable[dict[str, Any]], key_from: str | None = None) -> int:
    count = store.replace_run_rows(table, run_id, columns,
                                   _rows(records, columns, Progress(f"staging.{table}"), key_from))
    log.info("staged %d rows in staging.%s for run %s", count, table, run_id)
    return count


def extract_actionnetwork(client: ActionNetworkClient, store: StagingStore, run_id: str, window: Window, *,
                          active_days: float = activity.ACTIVE_DAYS,
                          sweep_hours: float = activity.SWEEP_HOURS) -> dict[str, int]:
    """Stage Action Network people, actions, participations and donations changed in ``window``.

    Everything is read by ``modified_date`` within the window; takers only of the actions active
    lately, and of the dormant ones on a slower sweep (see ``activity``).
    """
    since, before = window.start, window.end
    log.info("extracting Action Network changes in %s for run %s", window.describe(), run_id)
    counts = {"people": _stage(store, "an_people", run_id, an_people_columns(),
                               client.people(modified_since=since, modified_before=before),
                               key_from=synced.email_field().an_column)}

    changed = [a for kind in an_action_types() for a in client.actions(kind, modified_since=since,
                                                                      modified_before=before)]
    known_actions.remember(store, changed)
    actions = {a["an_id"]: a for a in [*known_actions.unlinked(store), *changed]}
    counts["actions"] = _stage(store, "an_actions", run_id, AN_ACTION_COLUMNS, actions.values())

    last_sweep = activity.swept_until(store)
    sweep = since is None or last_sweep is None or before - last_sweep >= timedelta(hours=sweep_hours)
    active, dormant = activity.takers_to_read(store, an_participation_types(), before, active_days, sweep)
    dormant_since = None if since is None or last_sweep is None else min(since, last_sweep - SWEEP_OVERLAP)
    masters = settings.masters(store)
    own = {masters.get("an_users_form"), masters.get("an_donations_page")}
    # Taking an action (a donation included) changes the person's modified_date (reference, People):
    # when nobody changed in the window there is no new taker or donation to read. A sweep reads the
    # takers of every action, and donations, from the last sweep on, so a taker or donation changed
    # without touching its person still arrives within sweep_hours.
    nobody = since is not None and counts["people"] == 0 and not sweep
    taken_since = dormant_since if sweep and dormant_since is not None else since
    reads = [] if nobody else (
        [(a, taken_since) for a in active if a["an_id"] not in own]
        + [(a, dormant_since) for a in dormant if a["an_id"] not in own])

    def read(item: tuple[dict[str, Any], datetime | None]) -> list[dict[str, Any]]:
        action, start = item
        return list(client.participations(action["action_type"], action["an_id"],
                                          modified_since=start, modified_before=before))

    # One collection per action: read them side by side under the client's shared rate limit.
    with ThreadPoolExecutor(max_workers=max(1, getattr(client, "concurrency", 4))) as pool:
        participations = itertools.chain.from_iterable(pool.map(read, reads))
        counts["participations"] = _stage(store, "an_participations", run_id,
                                          AN_PARTICIPATION_COLUMNS, participations)
    known_actions.note_takers(store, run_id)
    counts["takers_read"] = len(reads)
    if sweep:  # every action's takers were read: finalize starts the next sweep from this window's end
        counts["dormant_sweep"] = 1

    donations = [] if nobody else client.donations(modified_since=taken_since, modified_before=before)
    counts["donations"] = _stage(store, "an_donations", run_id, AN_DONATION_COLUMNS, donations)
    runs.record_extract(store, run_id, "actionnetwork", window.start, window.end, counts)
    return counts


# Salesforce: (staging column, Salesforce field) per object. Every table has the system fields.
SF_SYSTEM_FIELDS = (("sf_id", "Id"), ("is_deleted", "IsDeleted"), ("system_modstamp", "SystemModstamp"),
                    ("created_date", "CreatedDate"), ("last_modified_date", "LastModifiedDate"))
SF_CAMPAIGN_FIELDS = (*SF_SYSTEM_FIELDS, ("name", "Name"), ("parent_id", "ParentId"), ("type", "Type"),
                      ("is_active", "IsActive"))
SF_CAMPAIGN_MEMBER_FIELDS = (*SF_SYSTEM_FIELDS, ("campaign_id", "CampaignId"), ("contact_id", "ContactId"),
                             ("lead_id", "LeadId"), ("status", "Status"))
SF_OPPORTUNITY_FIELDS = (*SF_SYSTEM_FIELDS, ("account_id", "AccountId"), ("name", "Name"), ("amount", "Amount"),
                         ("close_date", "CloseDate"), ("stage_name", "StageName"))
SF_CONTACT_ROLE_FIELDS = (*SF_SYSTEM_FIELDS, ("opportunity_id", "OpportunityId"), ("contact_id", "ContactId"),
                          ("role", "Role"), ("is_primary", "IsPrimary"))
SF_RECURRING_FIELD = rules.RECURRING_FIELD
SF_LINKED_OBJECTS = ("Contact", "Campaign", "Opportunity")  # carry the Action Network id (Action_Network_ID__c)

SF_OPPORTUNITY_COLUMNS = (*(c for c, _ in SF_OPPORTUNITY_FIELDS), "action_network_recurring")


def sf_contact_fields() -> tuple[tuple[str, str], ...]:
    """(staging column, Salesforce field) of the Contact: system fields, the Contact a merge kept (of
    one deleted by a merge) and the declared person fields."""
    return (*SF_SYSTEM_FIELDS, ("master_record_id", "MasterRecordId"),
            *((f.sf_column, f.sf_field) for f in synced.person_fields()))


def sf_objects() -> tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...]:
    """(counts key, staging table, object, fields), in the order they are read: members and contact
    roles before the Contacts and Opportunities they concern, whose extra read they may spare."""
    return (("campaigns", "sf_campaigns", "Campaign", SF_CAMPAIGN_FIELDS),
            ("campaign_members", "sf_campaign_members", "CampaignMember", SF_CAMPAIGN_MEMBER_FIELDS),
            ("contacts", "sf_contacts", "Contact", sf_contact_fields()),
            ("opportunity_contact_roles", "sf_opportunity_contact_roles", "OpportunityContactRole",
             SF_CONTACT_ROLE_FIELDS),
            ("opportunities", "sf_opportunities", "Opportunity", SF_OPPORTUNITY_FIELDS))


# object -> the changes (counts key) without which its extra read (see _related) finds nothing
_RELATED_BY = {"Contact": "campaign_members", "Opportunity": "opportunity_contact_roles"}


def _sf_rows(chunks: Iterable[list[dict[str, Any]]], fields: Sequence[tuple[str, str]],
             custom_fields: Sequence[str] | None) -> Iterator[dict[str, Any]]:
    """Salesforce records as staging rows; ``custom_fields`` (if not None) packed into one dict."""
    for chunk in chunks:
        for record in chunk:
            row = {column: record.get(name) for column, name in fields}
            if custom_fields is not None:
                row["custom_fields"] = {name: record.get(name) for name in custom_fields}
            yield row


def _related(window: Window, subscribers_campaign: str | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Extra reads for records that did not change themselves but that a change in the window concerns:
    Contacts whose Subscribers membership changed (to add them to Action Network), and Opportunities
    whose contact roles changed (a donor added after the Opportunity)."""
    if window.start is None:  # a full read has them all
        return {}
    inside = "SystemModstamp >= {start} AND SystemModstamp < {end}"
    outside = "(SystemModstamp < {start} OR SystemModstamp >= {end})"
    params: dict[str, Any] = {"start": window.start, "end": window.end, "campaign": subscribers_campaign}
    related = {"Opportunity": (f"Id IN (SELECT OpportunityId FROM OpportunityContactRole WHERE {inside})"
                               f" AND {outside}", params)}
    if subscribers_campaign:
        related["Contact"] = (f"Id IN (SELECT ContactId FROM CampaignMember WHERE CampaignId = {{campaign}}"
                              f" AND {inside}) AND {outside}", params)
    return related


def extract_salesforce(client: SalesforceClient, store: StagingStore, run_id: str, window: Window,
                       custom_fields: Sequence[str] = (), subscribers_campaign: str | None = None) -> dict[str, int]:
    """Stage Contacts, Campaigns, CampaignMembers, Opportunities and OpportunityContactRoles
    changed in ``window`` (SystemModstamp in ``[start, end)``; the first run reads everything).

    Reads go through ``queryAll``, so records deleted in the window arrive with ``is_deleted``
    true. ``custom_fields`` are the Contact custom fields the sync maps, and the external id and
    recurring fields are the ones setup checked exist.
    """
    log.info("extracting Salesforce changes in %s for run %s", window.describe(), run_id)
    related = _related(window, subscribers_campaign)
    objects = []  # (counts key, table, fields, staging columns, packed custom fields, the read)
    for key, table, sobject, fields in sf_objects():
        columns: Sequence[str] = [c for c, _ in fields]
        packed = None
        if sobject == "Contact":
            packed, columns = list(custom_fields), (*columns, "custom_fields", KEY)
        elif sobject == "Opportunity":
            columns, fields = SF_OPPORTUNITY_COLUMNS, (*fields, ("action_network_recurring", SF_RECURRING_FIELD))
        if sobject in SF_LINKED_OBJECTS:
            columns, fields = (*columns, "an_id"), (*fields, ("an_id", rules.EXTERNAL_ID_FIELD))
        selected = [name for _, name in fields] + (packed or [])
        objects.append((key, table, fields, columns, packed, Read(sobject, selected, window=window, include_deleted=True)))
    # The window's reads start together: one call when nothing changed, however many objects.
    started = client.read_many([read for *_, read in objects])
    counts: dict[str, int] = {}
    for (key, table, fields, columns, packed, read), first in zip(objects, started, strict=True):
        chunks = [first]
        if read.sobject in related and counts.get(_RELATED_BY[read.sobject]):
            where, params = related[read.sobject]
            chunks.append(client.read(read.sobject, read.fields, where=where, params=params))
        rows = _sf_rows(itertools.chain.from_iterable(chunks), fields, packed)
        counts[key] = _stage(store, table, run_id, columns, rows,
                             key_from=synced.email_field().sf_column if KEY in columns else None)
    runs.record_extract(store, run_id, "salesforce", window.start, window.end, counts)
    return counts
