"""Reconcile actions and campaigns: Action Network actions <-> Salesforce Campaigns, takers <-> members.

Pure: frames in, a plan out (``reconcile_campaigns``); ``campaign_inputs`` and ``plan_campaigns``
read staging and sync state around it.

- Each form, petition, event, fundraising page, letter (advocacy) campaign and survey becomes a
  Campaign (upserted on ``Action_Network_ID__c``). Never: event campaigns, uploads and ticketed
  events (not on the API), the sync's own "Salesforce Users" form and "Salesforce Donations" page
  (the remembered ones, and any other with their title and origin "Salesforce", such as one a lost
  answer made twice), nor actions that came from Salesforce (no echo). The events of an event
  campaign are synced like any event; only the event campaign itself is not. Campaigns are
  followed by id: a title change in Action Network renames the Campaign, but renaming the Campaign
  in Salesforce breaks nothing and is not sent back (the next title change in Action Network
  overwrites it).
- People who took an action (donors of a page, respondents of a survey) become members of its
  Campaign. Whether the person is synced is decided at load time, after this run's contacts have
  been linked.
- A Campaign whose parent is the Subscribers campaign becomes a form in Action Network; its
  members that are also subscribers are added to it. Contacts added to an Action Network
  action's Campaign are added to that action (a survey's as responses), except on fundraising
  pages and letter campaigns.
  Members the sync created itself never go back; removing a member never propagates.
- Deleting a synced Campaign in Salesforce retires its link, reported once. Action Network's own
  sync behaves unpredictably then; this one does better: later takers of that action are
  rejected with an explanation instead of silently recreating the Campaign. Restoring the
  Campaign from the Recycle Bin resumes the sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from an_sf_sync import rules, synced
from an_sf_sync.plan import Action, Direction, Obj, Op, Plan, Reject, reject
from an_sf_sync.staging import inputs
from an_sf_sync.staging.pending import taker_kind

if TYPE_CHECKING:
    import psycopg

CAMPAIGN_NAME_MAX = 80  # Salesforce's Campaign.Name


@dataclass
class CampaignInputs:
    actions: pd.DataFrame  # every Action Network action: an_id, action_type, title, origin_system
    takers: pd.DataFrame  # changed participations and donations: an_id, action_type, action_id, person_id
    campaigns: pd.DataFrame  # changed Campaigns: sf_id, is_deleted, name, parent_id
    members: pd.DataFrame  # changed CampaignMembers: sf_id, is_deleted, campaign_id, contact_id
    action_links: pd.DataFrame  # an_id, an_type, sf_id, origin, state, title
    member_links: pd.DataFrame  # links touching the staged records: an_action_id, an_person_id, sf_member_id
    masters: dict[str, str] = field(default_factory=dict)


def campaign_name(title: Any, action_type: str, an_id: str) -> str:
    """The Campaign Name of an action: its title, cut to what Salesforce stores."""
    text = rules.text_value(title) or f"Action Network {synced.action_label(action_type)} {an_id}"
    return text.strip()[:CAMPAIGN_NAME_MAX]


def campaign_description(action_type: str, an_id: str) -> str:
    return (f"Action Network {synced.action_label(action_type)} {an_id}, kept in sync by the Action Network "
            "sync: people who take it in Action Network are added here.")


def reconcile_campaigns(inputs: CampaignInputs) -> Plan:
    plan = Plan()
    links = inputs.action_links.drop_duplicates("an_id")
    by_an, by_sf = links.set_index("an_id"), links.set_index("sf_id")
    own = {inputs.masters.get("an_users_form"), inputs.masters.get("an_donations_page")} - {None}
    own |= set(inputs.actions.loc[_masters_alike(inputs.actions), "an_id"])
    subscribers = inputs.masters.get("sf_subscribers_campaign")
    campaigns = inputs.campaigns.drop_duplicates("sf_id").astype({"is_deleted": bool})

    # -- Campaigns deleted (or restored) in Salesforce ------------------------------------------
    inactive = set(links.loc[links["state"] != "active", "an_id"])
    for row in campaigns[campaigns["sf_id"].isin(by_sf.index)].itertuples():
        link = by_sf.loc[row.sf_id]
        if row.is_deleted and link["state"] == "active":
            plan.add(Obj.ACTION, Direction.LOCAL, Action.RETIRE, link["an_id"], row.sf_id, {"state": "sf_deleted"})
            inactive.add(link["an_id"])
            plan.reject("salesforce", "campaign", row.sf_id, "CAMPAIGN_DELETED_IN_SALESFORCE",
                        f"Campaign {row.sf_id} was deleted in Salesforce, so Action Network {link['an_type']} "
                        f"{link['an_id']} is no longer synced: new takers of it will be reported, not added. "
                        "Restore the Campaign from the Recycle Bin to resume.")
        elif not row.is_deleted and link["state"] == "sf_deleted":
            plan.add(Obj.ACTION, Direction.LOCAL, Action.RESTORE, link["an_id"], row.sf_id, {"state": "active"})
            inactive.discard(link["an_id"])

    # -- Action Network actions -> Campaigns ---------------------------------------------------------
    actions = inputs.actions.drop_duplicates("an_id")
    actions = actions[actions["action_type"].isin(list(synced.synced_action_types())) & ~actions["an_id"].isin(own)]
    creating = set()
    for row in actions.itertuples():
        name = campaign_name(row.title, row.action_type, row.an_id)
        if row.an_id not in by_an.index:
            creating.add(row.an_id)
            plan.add(Obj.CAMPAIGN, Direction.TO_SALESFORCE, Action.CREATE, row.an_id, None, {
                "action_type": row.action_type, "name": name,
                "description": campaign_description(row.action_type, row.an_id)})
            continue
        link = by_an.loc[row.an_id]
        if link["origin"] == "actionnetwork" and row.an_id not in inactive and link["title"] != name:
            plan.add(Obj.CAMPAIGN, Direction.TO_SALESFORCE, Action.UPDATE, row.an_id, link["sf_id"], {"name": name})

    # -- takers of actions -> CampaignMembers ----------------------------------------------------------
    takers = inputs.takers[~inputs.takers["action_id"].isin(own)]
    known = set(by_an.index) | creating
    unknown = takers[~takers["action_id"].isin(known)]
    for row in unknown.itertuples():  # e.g. an action type that is never synced
        plan.reject("actionnetwork", "participation", row.an_id, "ACTION_NOT_SYNCED",
                    f"Activist {row.person_id} took Action Network "
                    f"{synced.action_label(row.action_type)} {row.action_id}, which is not "
                    "synced to Salesforce, so no Campaign member was added.")
    takers = takers[takers["action_id"].isin(known)]
    # A taker of an action whose Campaign was deleted waits in the queue: restoring the Campaign adds them.
    for row in takers[takers["action_id"].isin(inactive)].drop_duplicates(["action_id", "person_id"]).itertuples():
        plan.rejects.append(reject(
            "actionnetwork", "participation", row.an_id, "CAMPAIGN_DELETED_IN_SALESFORCE",
            f"Activist {row.person_id} took Action Network {synced.action_label(row.action_type)} {row.action_id}, "
            f"but its Campaign {by_an.loc[row.action_id, 'sf_id']} was deleted in Salesforce, so they were not "
            "added to it. Restore the Campaign from the Recycle Bin: they are added then.",
            pending=(taker_kind(row.action_type), row.an_id)))
    takers = takers[~takers["action_id"].isin(inactive)]
    for row in takers[takers["person_id"].isna()].itertuples():
        plan.reject("actionnetwork", "participation", row.an_id, "NO_PERSON",
                    f"Action Network {synced.action_label(row.action_type)} {row.action_id} has a taker "
                    f"({row.an_id}) without an activist, so no Campaign member can be added.")
    takers = takers[takers["person_id"].notna()].drop_duplicates(["action_id", "person_id"])
    done = _pairs(inputs.member_links["an_action_id"], inputs.member_links["an_person_id"])
    fresh = ~_pairs(takers["action_id"], takers["person_id"]).isin(done)
    for row in takers[fresh.to_numpy()].itertuples():
        plan.add(Obj.MEMBER, Direction.TO_SALESFORCE, Action.CREATE, row.person_id, None, {
            "action_id": row.action_id, "action_type": row.action_type, "taker_id": row.an_id})

    # -- Campaigns under the Subscribers campaign -> Action Network forms ------------------------------
    new_forms = campaigns[~campaigns["is_deleted"] & (campaigns["parent_id"] == subscribers)
                          & ~campaigns["sf_id"].isin(by_sf.index)] if subscribers else campaigns.iloc[:0]
    for row in new_forms.itertuples():
        plan.add(Obj.ACTION, Direction.TO_ACTIONNETWORK, Action.CREATE, None, row.sf_id,
                 {"title": rules.text_value(row.name)})

    # -- CampaignMembers added in Salesforce -> takers of actions ----------------------------------------
    members = inputs.members.astype({"is_deleted": bool})
    members = members[~members["is_deleted"] & (members["campaign_id"] != subscribers)]
    members = members[~members["sf_id"].isin(set(inputs.member_links["sf_member_id"].dropna()))]
    live = links[links["state"] == "active"].set_index("sf_id")
    targets = pd.concat([live[["an_id", "an_type", "origin"]],
                         pd.DataFrame({"an_id": None, "an_type": "form", "origin": "salesforce"},
                                      index=pd.Index(new_forms["sf_id"], name="sf_id"))])
    members = members[members["campaign_id"].isin(targets.index)]
    for row in members[members["contact_id"].isna()].itertuples():
        plan.reject("salesforce", "member", row.sf_id, "NOT_A_CONTACT",
                    f"Campaign member {row.sf_id} of Campaign {row.campaign_id} is not a Contact (a Lead?); only "
                    "Contacts are synced with Action Network. Convert the Lead to a Contact to sync it.")
    members = members[members["contact_id"].notna()].drop_duplicates(["campaign_id", "contact_id"])
    joinable = {name: getattr(kind, "joinable", False) for name, kind in synced.action_types().items()}
    # each member with its Campaign's action (a join: a first sync has hundreds of thousands of members)
    members = members[["sf_id", "campaign_id", "contact_id"]].join(
        targets.rename(columns={"an_id": "action_id", "an_type": "action_type"}), on="campaign_id")
    for row in members.itertuples():
        if row.origin == "actionnetwork" and not joinable.get(row.action_type, False):
            plan.reject("salesforce", "member", row.sf_id, "CANNOT_JOIN_IN_SALESFORCE",
                        f"Contact {row.contact_id} was added to Campaign {row.campaign_id}, which is an Action "
                        f"Network {synced.action_label(row.action_type)}; Contacts cannot be added to fundraiser "
                        "or letter campaign actions from Salesforce. To send a donation, create an Opportunity on the "
                        f"{rules.DONATIONS_ACCOUNT!r} account with the donor in Contact Roles.")
            continue
        plan.add(Obj.MEMBER, Direction.TO_ACTIONNETWORK, Action.CREATE, None, row.sf_id, {
            "campaign_id": row.campaign_id, "contact_id": row.contact_id, "action_id": row.action_id,
            "action_type": row.action_type, "subscribers_only": row.origin == "salesforce"})
    return plan


def _masters_alike(actions: pd.DataFrame) -> pd.Series:
    """Actions that are the sync's masters by title and origin, whatever their id."""
    titled = (((actions["action_type"] == "form") & (actions["title"] == rules.USERS_FORM))
              | ((actions["action_type"] == "fundraising_page") & (actions["title"] == rules.DONATIONS_PAGE)))
    return titled & (actions["origin_system"] == rules.MASTER_ORIGIN)


def _pairs(left: pd.Series, right: pd.Series) -> pd.Series:
    return left.astype(str).str.cat(right.astype(str), sep="\x00")


def campaign_inputs(conn: psycopg.Connection, run_id: str, masters: dict[str, str]) -> CampaignInputs:
    """Build the campaign reconcile's frames for ``run_id`` from staging and sync state."""
    frames = inputs.campaign_frames(conn, run_id, masters.get("sf_subscribers_campaign"))
    return CampaignInputs(**frames, masters=dict(masters))


def plan_campaigns(conn: psycopg.Connection, run_id: str, masters: dict[str, str]) -> tuple[list[Op], list[Reject]]:
    """(ops, rejects) of the campaigns step; the caller writes them with ``staging.plans.replace``."""
    plan = reconcile_campaigns(campaign_inputs(conn, run_id, masters))
    return plan.ops, plan.rejects
