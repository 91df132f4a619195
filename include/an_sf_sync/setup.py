"""Setup: make sure both sides hold what the sync needs, and that this pairing is allowed.

- The master records: in Salesforce the "Action Network Subscribers" campaign and the "Action
  Network Donations" account; in Action Network the "Salesforce Users" form and the "Salesforce
  Donations" fundraising page. Each is found or created once, then remembered by id, so renaming
  it in Salesforce does not break the sync. One that was deleted is created again (and reported).
- The Salesforce fields the sync writes, and the configured custom fields: each must exist on
  Contact as a Text Area (Long) named like the Action Network field, without spaces.
- Every kind of action the group has: the API entry point lists the group's collections, and one
  of actions the sync does not know (a kind Action Network added after this release) is reported
  once, the first time a check sees it, as a setup warning and an ACTION_TYPE_NOT_SYNCED reject;
  the rest keeps syncing. Event campaigns are known and deliberately not synced (their events are);
  uploads and ticketed events are not on the API at all.
- One Salesforce org, one Action Network group: the Subscribers campaign records the id of its
  group's "Salesforce Users" form; an Action Network key that cannot see that form belongs to
  another group, and setup refuses to pair it (Action Network warns against exactly this).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from an_sf_sync import rules, synced
from an_sf_sync.errors import SetupError
from an_sf_sync.plan import reject
from an_sf_sync.staging import settings, subscribers
from an_sf_sync.staging.rejects import add_rejects

if TYPE_CHECKING:
    from an_sf_sync.actionnetwork.client import ActionNetworkClient
    from an_sf_sync.salesforce.client import SalesforceClient
    from an_sf_sync.staging.store import StagingStore

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(hours=24)
# Entry point collections that hold no actions (the known actions' are added: see known_collections)
OTHER_COLLECTIONS = frozenset({"people", "tags", "donations", "lists", "wrappers", "messages", "queries", "campaigns",
                               "unique_id_lists", "metadata"})
MASTER_KINDS = ("sf_subscribers_campaign", "sf_donations_account", "an_users_form", "an_donations_page")

# Fields the sync itself needs in Salesforce: object -> (field, what it must be, why)
REQUIRED_FIELDS = [
    ("Contact", rules.EXTERNAL_ID_FIELD, "external_id", "links each Contact to its activist"),
    ("Campaign", rules.EXTERNAL_ID_FIELD, "external_id", "links each Campaign to its Action Network action"),
    ("Opportunity", rules.EXTERNAL_ID_FIELD, "external_id", "links each Opportunity to its donation"),
    ("Opportunity", rules.RECURRING_FIELD, "text", "holds the period of recurring donations"),
]


@dataclass
class FieldCheck:
    custom_fields: dict[str, str]  # Action Network name -> Salesforce API name, of the fields that can sync
    lengths: dict[str, int]  # our contact field name -> its Salesforce length (values are cut to fit)
    warnings: list[str]  # configured custom fields that cannot sync, and what to do about each


def check_fields(describe: Any, custom_fields: list[str]) -> FieldCheck:
    """Validate Salesforce fields. A field the sync itself needs stops it (SetupError); a configured
    custom field that cannot sync is skipped with a warning while everything else keeps syncing."""
    problems, warnings, mapping = [], [], {}
    for sobject, name, kind, why in REQUIRED_FIELDS:
        found = _field(describe(sobject), name)
        if found is None:
            problems.append(f"Salesforce {sobject} has no field {name} ({why}). Create it as a Text(255) field"
                            + (" marked External ID and Unique" if kind == "external_id" else "") + ".")
        elif kind == "external_id" and not found.get("externalId"):
            problems.append(f"Salesforce field {sobject}.{name} must be marked External ID ({why}).")
    if problems:
        raise SetupError("The sync cannot start until these are fixed:\n- " + "\n- ".join(problems))
    contact = describe("Contact")
    for an_name in custom_fields:
        problem = rules.custom_field_problem(an_name)
        if problem:
            warnings.append(problem[0].upper() + problem[1:] + ".")
            continue
        found = _field(contact, f"{an_name}__c")
        if found is None:
            warnings.append(f"Custom field {an_name!r} is configured, but Salesforce Contact has no field "
                            f"{an_name}__c. Create a Text Area (Long) field on Contact named {an_name!r} "
                            f"(API name {an_name}__c), or remove it from the an_sf_sync_custom_fields variable.")
        elif found.get("type") != "textarea" or int(found.get("length") or 0) <= 255:
            warnings.append(f"Salesforce field Contact.{found['name']} must be a Text Area (Long) to sync custom "
                            f"field {an_name!r}, but it is a {found.get('type')} of length {found.get('length')}. "
                            "Change its type in Salesforce Setup.")
        else:
            mapping[an_name] = found["name"]
    lengths = {f.name: int(found.get("length") or f.sf_length) for f in synced.person_fields()
               if (found := _field(contact, f.sf_field))}
    lengths |= {f"cf:{an}": int(found["length"]) for an, sf_name in mapping.items()
                if (found := _field(contact, sf_name)) and found.get("length")}
    return FieldCheck(mapping, lengths, [f"Custom field not synced: {w}" for w in warnings])


def org_time_zone(sf: SalesforceClient) -> str:
    """The org's default time zone (Organization.TimeZoneSidKey), in whose days CloseDates are."""
    found = _sf_find(sf, "Organization", ["TimeZoneSidKey"], "Id != null")
    if found and found.get("TimeZoneSidKey"):
        return found["TimeZoneSidKey"]
    log.warning("setup: the org's time zone could not be read; donation dates use UTC days until it can")
    return "UTC"


def _field(describe: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((f for f in describe.get("fields", []) if f["name"].casefold() == name.casefold()), None)


def _sf_find(sf: SalesforceClient, sobject: str, fields: list[str], where: str, **params: Any) -> dict[str, Any] | None:
    for chunk in sf.read(sobject, fields, where=where, params=params):
        if chunk:
            return chunk[0]
    return None


def _sf_create(sf: SalesforceClient, sobject: str, record: dict[str, Any]) -> str:
    result = sf.write(sobject, [record], operation="insert")[0]
    if not result.success:
        raise SetupError(f"Could not create the Salesforce {sobject} {record['Name']!r}: "
                         + "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in result.errors)
                         + ". Give the sync's Salesforce user permission to create it, or create it yourself.")
    assert result.id is not None  # a successful insert answers its Id
    return result.id


def _an_exists(an: ActionNetworkClient, action_type: str, an_id: str) -> bool:
    from an_sf_sync.actionnetwork.errors import ActionNetworkNotFoundError

    try:
        an.get_action(action_type, an_id)
    except ActionNetworkNotFoundError:
        return False
    return True


def _an_master(an: ActionNetworkClient, known: dict[str, str], kind: str, action_type: str, title: str,
               notes: list[str]) -> str | None:
    """The remembered Action Network master's id while it still exists; None (and a note) once gone."""
    an_id = known.get(kind)
    if an_id and not _an_exists(an, action_type, an_id):
        notes.append(f"the Action Network {action_type.replace('_', ' ')} {title!r} ({an_id}) is gone; "
                     "it was created again")
        return None
    return an_id


def _an_made(an: ActionNetworkClient, action_type: str, title: str) -> str | None:
    """The oldest master the sync made with this title (origin "Salesforce"), if any."""
    made = [a for a in an.find_actions(action_type, "title", title) if a["origin_system"] == rules.MASTER_ORIGIN]
    return min(made, key=lambda a: (str(a["created_date"]), a["an_id"]), default={"an_id": None})["an_id"]


def _an_create(an: ActionNetworkClient, action_type: str, title: str, description: str) -> str:
    """Exactly once, even when an answer is lost: Action Network does not deduplicate new actions, so
    the master is looked up by title first (a retried setup finds what a lost answer made) and again
    when a creation's outcome is unknown."""
    from an_sf_sync.actionnetwork.errors import ActionNetworkUnavailableError

    found = _an_made(an, action_type, title)
    if found:
        return found
    try:
        return an.create_action(action_type, title, origin_system=rules.MASTER_ORIGIN, description=description)["an_id"]
    except ActionNetworkUnavailableError:
        found = _an_made(an, action_type, title)
        if found is None:
            raise
        return found


def ensure_masters(store: StagingStore, an: ActionNetworkClient, sf: SalesforceClient) -> dict[str, str]:
    """Find or create the four master records; refuse a second Action Network group."""
    known = settings.masters(store)
    notes: list[str] = []

    form_id = _an_master(an, known, "an_users_form", "form", rules.USERS_FORM, notes)

    campaign = None
    if known.get("sf_subscribers_campaign"):
        campaign = _sf_find(sf, "Campaign", ["Id", rules.EXTERNAL_ID_FIELD], "Id = {id}",
                            id=known["sf_subscribers_campaign"])
        if campaign is None:
            notes.append(f"the Salesforce campaign {rules.SUBSCRIBERS_CAMPAIGN!r} was deleted; it was created again")
    if campaign is None:
        campaign = _sf_find(sf, "Campaign", ["Id", rules.EXTERNAL_ID_FIELD], "Name = {name} AND ParentId = null",
                            name=rules.SUBSCRIBERS_CAMPAIGN)
    paired_form = campaign.get(rules.EXTERNAL_ID_FIELD) if campaign else None
    if campaign and paired_form and paired_form != form_id:
        if not _an_exists(an, "form", paired_form):
            raise SetupError(
                f"This Salesforce org is already synced with another Action Network group: its "
                f"{rules.SUBSCRIBERS_CAMPAIGN!r} campaign ({campaign['Id']}) belongs to the "
                f"{rules.USERS_FORM!r} form {paired_form}, which this Action Network API key cannot see. "
                "Action Network warns never to link more than one list with one Salesforce installation. "
                "Use the API key of the group this org is paired with, or another Salesforce org.")
        form_id = paired_form
    if form_id is None:
        form_id = _an_create(an, "form", rules.USERS_FORM, "People added to Action Network from Salesforce.")
    settings.remember_master(store, "an_users_form", "actionnetwork", form_id, rules.USERS_FORM)

    if campaign is None:
        campaign = {"Id": _sf_create(sf, "Campaign", {"Name": rules.SUBSCRIBERS_CAMPAIGN, "IsActive": True,
                                                       rules.EXTERNAL_ID_FIELD: form_id})}
    elif paired_form != form_id:
        sf.write("Campaign", [{"Id": campaign["Id"], rules.EXTERNAL_ID_FIELD: form_id}], operation="update")
    if known.get("sf_subscribers_campaign") not in (None, campaign["Id"]):
        with store.connect() as conn:  # the old campaign's members are added to this one
            subscribers.await_new_campaign(conn)
    settings.remember_master(store, "sf_subscribers_campaign", "salesforce", campaign["Id"], rules.SUBSCRIBERS_CAMPAIGN)

    account_id = known.get("sf_donations_account")
    if account_id and _sf_find(sf, "Account", ["Id"], "Id = {id}", id=account_id) is None:
        notes.append(f"the Salesforce account {rules.DONATIONS_ACCOUNT!r} was deleted; it was created again")
        account_id = None
    if account_id is None:
        found = _sf_find(sf, "Account", ["Id"], "Name = {name}", name=rules.DONATIONS_ACCOUNT)
        account_id = found["Id"] if found else _sf_create(sf, "Account", {"Name": rules.DONATIONS_ACCOUNT})
    settings.remember_master(store, "sf_donations_account", "salesforce", account_id, rules.DONATIONS_ACCOUNT)

    page_id = (_an_master(an, known, "an_donations_page", "fundraising_page", rules.DONATIONS_PAGE, notes)
               or _an_create(an, "fundraising_page", rules.DONATIONS_PAGE, "Donations recorded in Salesforce."))
    settings.remember_master(store, "an_donations_page", "actionnetwork", page_id, rules.DONATIONS_PAGE)
    for note in notes:
        log.warning("setup: %s", note)
    return settings.masters(store)


def known_collections() -> frozenset[str]:
    """Entry point collections that hold no actions, or actions the sync knows (by name, whatever
    the namespace: the key names of the newer links are unconfirmed)."""
    return OTHER_COLLECTIONS | {kind.collection for kind in synced.action_types().values()}


def unknown_action_collections(rels: list[str]) -> list[str]:
    """Entry point rels naming a collection of actions the sync does not know; helpers and links
    outside Action Network's two namespaces (e.g. ``canvasser:brand_logo``) are not collections."""
    return [rel for rel in rels if rel.partition(":")[0] in ("osdi", "action_network")
            and not rel.endswith("_helper") and rel.partition(":")[2] not in known_collections()]


def report_unknown_actions(store: StagingStore, an: ActionNetworkClient, run_id: str | None) -> list[str]:
    """Warnings (and rejects) for collections of actions not seen before; each is reported once."""
    reported = settings.get(store, "unknown_action_collections", []) or []
    new = [rel for rel in unknown_action_collections(an.collections()) if rel not in reported]
    if not new:
        return []
    warnings = [f"Action Network lists a kind of action this sync does not know, {rel!r}: its actions and the "
                "people who take them are not synced to Salesforce. Upgrade an-sf-sync to a release that "
                "syncs it; this is reported once." for rel in new]
    if run_id:
        with store.connect() as conn:
            add_rejects(conn, run_id, [
                reject("actionnetwork", "action", rel, "ACTION_TYPE_NOT_SYNCED", warning, payload={"step": "setup"})
                for rel, warning in zip(new, warnings, strict=True)])
    settings.put(store, "unknown_action_collections", [*reported, *new])
    for warning in warnings:
        log.warning("setup: %s", warning)
    return warnings


def run_setup(store: StagingStore, an: Callable[[], Any], sf: Callable[[], Any], custom_fields: list[str], *,
              force: bool = False, dry_run: bool = False, run_id: str | None = None) -> dict[str, Any]:
    """Check the org and the master records, fully once a day (or when the custom-field list changes,
    or when ``force``d); in between, trust what the last check found and spend no API call on it. A
    master deleted in between shows up as failed writes, and the next check creates it again.

    ``an`` and ``sf`` build the clients, only when a check is due. A dry run checks, creates nothing.
    ``run_id`` is the run whose rejects list what the check reports once.
    """
    now, checked = datetime.now(UTC), settings.get(store, "setup_checked") or {}
    recent = (checked.get("custom_fields") == custom_fields and len(settings.masters(store)) == len(MASTER_KINDS)
              and now - datetime.fromisoformat(checked["at"]) < CHECK_EVERY)
    if recent and not force and not dry_run:
        log.info("setup last checked at %s; the next full check is due within %s", checked["at"], CHECK_EVERY)
        return {"custom_fields": settings.get(store, "custom_fields", {}), "masters": settings.masters(store),
                "warnings": settings.get(store, "setup_warnings", [])}
    salesforce = sf()
    fields = check_fields(salesforce.describe, custom_fields)
    for warning in fields.warnings:
        log.warning("setup: %s", warning)
    settings.put(store, "custom_fields", fields.custom_fields)
    settings.put(store, "contact_lengths", fields.lengths)
    settings.put(store, "setup_warnings", fields.warnings)
    settings.put(store, "org_time_zone", org_time_zone(salesforce))
    if dry_run:
        log.info("dry run: master records are checked by the loads, not created")
        return {"custom_fields": fields.custom_fields, "masters": settings.masters(store), "warnings": fields.warnings}
    client = an()
    masters = ensure_masters(store, client, salesforce)
    warnings = [*fields.warnings, *report_unknown_actions(store, client, run_id)]
    settings.put(store, "setup_warnings", warnings)
    settings.put(store, "setup_checked", {"at": now.isoformat(), "custom_fields": custom_fields})
    return {"custom_fields": fields.custom_fields, "masters": masters, "warnings": warnings}
