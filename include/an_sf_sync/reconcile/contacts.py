"""Reconcile people: both sides' changes plus the stored sync state -> what to write where.

Pure: frames in, a plan out; nothing here reads or writes a database or an API.

Matching: a stored link (Action Network id, Salesforce id) is followed first; unlinked records
match by email key. Unmatched activists become new Contacts; unmatched Contacts become
activists only if they are in the Subscribers campaign.

Merging, field by field, against the last synced value (``base``): only one side changed -> it
wins; both changed to different values -> the later modified record wins and the conflict is
logged. Our own writes come back as "changed" records whose values equal the base, so they never
echo. A pair matched for the first time has no base: an empty value takes the other side's,
otherwise the later modified record wins. A first match the write budget deferred (or whose write
failed) resumes from what it decided (``sync.first_matches``): each side against what it held
then, so an edit made meanwhile on either side wins over the match's own decisions, and an
activist who moved to a new address keeps their Contact. A Contact given another email in
Salesforce meanwhile, or deleted, stops the match as it stops a synced pair.

Subscription follows the same rule, except that unsubscribing wins a conflict and an address with
a spam complaint is never re-subscribed automatically. When a pair is first matched, Action
Network's status stands: a subscriber is added to the campaign, and an activist who unsubscribed
stays unsubscribed (and leaves the campaign) even if the Contact was just added to it — logged as a
conflict.
Changing a Contact's email in Salesforce stops sync for that pair (reported).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from an_sf_sync import rules, synced
from an_sf_sync.plan import Action, Direction, Obj, Plan, Reject, reject
from an_sf_sync.reconcile.duplicates import duplicate_reject, pick_winners

_MISSING = "\x00"  # stands for None in comparisons
AN_SIDE, SF_SIDE = "actionnetwork", "salesforce"
_NEVER = pd.Timestamp("1900-01-01", tz="UTC")  # before any record's modification: for one not read


@dataclass
class ContactInputs:
    an: pd.DataFrame  # changed activists: an_id, email_status, <synced.person_fields()>, email_key, cf:<name>...,
    #                   modified
    sf: pd.DataFrame  # changed contacts: sf_id, is_deleted, master_id, member_only, <person fields>, email_key, cf:...,
    #                   subscribed, subscription_changed, modified, created
    links: pd.DataFrame  # links of those records: an_id, sf_id, email_key, state, base (dict)
    an_index: pd.DataFrame  # activists holding the emails of unlinked contacts: an_id, email_key, email_status
    sf_index: pd.DataFrame  # contacts holding the emails of unlinked records: sf_id, email_key, created,
    #                         modified, is_deleted
    other_emails: pd.DataFrame = field(  # activists' other (not primary) addresses: an_id, email_key
        default_factory=lambda: pd.DataFrame(columns=["an_id", "email_key"]))
    losers: frozenset[str] = frozenset()  # contacts already reported as duplicates
    first_matches: pd.DataFrame = field(  # first matches not written yet: an_id, sf_id, decided, held,
        #                                  and the key each side has now (an_key, sf_key), sf_deleted
        default_factory=lambda: pd.DataFrame(columns=["an_id", "sf_id", "decided", "held", "an_key", "sf_key",
                                                      "sf_deleted"]))
    custom_fields: tuple[str, ...] = ()  # Action Network custom field names
    sf_lengths: dict[str, int] = field(default_factory=dict)  # field -> Salesforce length (values are cut to it)
    duplicate_rule: str = "oldest"


@dataclass
class ContactPlan(Plan):
    conflicts: list[dict] = field(default_factory=list)
    duplicates: pd.DataFrame = field(default_factory=pd.DataFrame)


def merge_fields(inputs: ContactInputs) -> list[str]:
    return [f.name for f in synced.person_fields()] + [f"cf:{name}" for name in inputs.custom_fields]


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    return (a.astype(object).fillna(_MISSING).to_numpy() == b.astype(object).fillna(_MISSING).to_numpy())


def _email_text(values: pd.Series) -> pd.Series:
    return pd.Series([v.strip().casefold() if isinstance(v, str) else v for v in values.tolist()], index=values.index,
                     dtype=object)


def _same_email(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Emails are the same when they differ only in letter case or surrounding spaces."""
    return _same(_email_text(a), _email_text(b))


def _is_email_of(names: pd.Series, emails: pd.Series) -> np.ndarray:
    """Where a name is (case aside) the email next to it: the fallback LastName, not a name."""
    return np.array([isinstance(n, str) and isinstance(e, str) and n.strip().casefold() == e.strip().casefold()
                     for n, e in zip(names.tolist(), emails.tolist(), strict=True)], dtype=bool)


def reconcile_contacts(inputs: ContactInputs, pairs_before: int = 0) -> ContactPlan:
    """The contacts step's plan; its pairs are numbered on from ``pairs_before`` (a plan made in partitions)."""
    plan = ContactPlan(pairs=pairs_before)
    names = merge_fields(inputs)
    an = inputs.an.drop_duplicates("an_id").copy()
    sf = inputs.sf.drop_duplicates("sf_id").copy()
    for flag in ("is_deleted", "member_only", "subscribed", "subscription_changed"):
        sf[flag] = sf[flag].fillna(False).astype(bool)
    links = _follow_merges(plan, sf, inputs.links.drop_duplicates("an_id"))
    # an activist without a last name is a Contact whose LastName is the email: that is no name
    sf["name_is_email"] = _is_email_of(sf["last_name"], sf["email"])
    sf.loc[sf["name_is_email"], "last_name"] = None

    # -- records that cannot cross ------------------------------------------------------------
    for row in an[an["email_key"].isna()].itertuples():
        code, message = _email_problem(row.email)
        plan.reject("actionnetwork", "person", row.an_id, code, f"Activist {row.an_id} {message}")
    an = an[an["email_key"].notna()]

    link_by_sf = links.set_index("sf_id")
    live = sf[~sf["is_deleted"]]
    linked_sf = live[live["sf_id"].isin(link_by_sf.index)]
    # Deleted in Salesforce: the pair stops syncing (the activist stays); an undelete resumes it.
    for row in sf[sf["is_deleted"] & sf["sf_id"].isin(link_by_sf.index)].itertuples():
        link = link_by_sf.loc[row.sf_id]
        if link["state"] != "sf_deleted":
            plan.add(Obj.CONTACT, Direction.LOCAL, Action.RETIRE, link["an_id"], row.sf_id, {"state": "sf_deleted"},
                     plan.pair())
            if isinstance(getattr(row, "master_id", None), str):
                continue  # merged into a Contact synced with another activist: reported as such
            plan.reject(
                "salesforce", "contact", row.sf_id, "CONTACT_DELETED_IN_SALESFORCE",
                f"Contact {row.sf_id} was deleted in Salesforce; activist {link['an_id']} stays in Action "
                "Network and is no longer synced. Restore the Contact from the Recycle Bin to resume.")

    # Email changed in Salesforce (or made invalid): sync stops for that pair, as Action Network does.
    # A Contact whose new email is the one its activist now has was written by us (a load stopped
    # before it committed the link) or changed alike on both sides: that is no reason to stop.
    activist_key = pd.concat([inputs.an_index.set_index("an_id")["email_key"], an.set_index("an_id")["email_key"]])
    activist_key = activist_key[~activist_key.index.duplicated(keep="last")]
    sf_key = linked_sf["email_key"].fillna(_MISSING).to_numpy()
    linked_an = link_by_sf.loc[linked_sf["sf_id"], "an_id"]
    changed_email = linked_sf[~linked_sf["member_only"]
                              & (sf_key != link_by_sf.loc[linked_sf["sf_id"], "email_key"].to_numpy())
                              & (sf_key != linked_an.map(activist_key).astype(object).fillna(_MISSING).to_numpy())]
    stopped = set(changed_email["sf_id"])
    for row in changed_email.itertuples():
        link = link_by_sf.loc[row.sf_id]
        if link["state"] == "active":
            plan.add(Obj.CONTACT, Direction.LOCAL, Action.RETIRE, link["an_id"], row.sf_id, {
                "state": "stopped", "reason": f"email changed in Salesforce to {row.email!r}"}, plan.pair())
            plan.reject(
                "salesforce", "contact", row.sf_id, "EMAIL_CHANGED_IN_SALESFORCE",
                f"The email of Contact {row.sf_id} was changed in Salesforce (was {link['email_key']!r}, now "
                f"{row.email!r}); as in Action Network's own sync this stops syncing the Contact. Change it "
                "back to resume, or change the email in Action Network instead.")
    deleted = set(sf.loc[sf["is_deleted"], "sf_id"])
    # A Contact restored from the Recycle Bin, or whose email was changed back, resumes its pair
    # (linking it again makes it active).
    states = link_by_sf.loc[linked_sf["sf_id"], "state"].to_numpy()
    resumed = set(linked_sf.loc[~linked_sf["member_only"].to_numpy() & ((states == "sf_deleted") | (states == "stopped")),
                                "sf_id"]) - stopped
    inactive = (set(links.loc[links["state"] != "active", "sf_id"]) - resumed) | stopped | deleted
    inactive_an = set(links.loc[links["sf_id"].isin(inactive), "an_id"])
    # Contacts deleted (now or before): they hold no email, so a Contact created in one's place pairs
    # with its activist (the deleted one is never created again by the sync).
    gone = (set(links.loc[links["state"] == "sf_deleted", "sf_id"]) - resumed) | (deleted & set(link_by_sf.index))
    gone_an = set(links.loc[links["sf_id"].isin(gone), "an_id"])

    unlinked_sf = live[~live["sf_id"].isin(link_by_sf.index)]
    for row in unlinked_sf[unlinked_sf["email_key"].isna() & ~unlinked_sf["member_only"]].itertuples():
        code, message = _email_problem(row.email)
        plan.reject("salesforce", "contact", row.sf_id, code, f"Contact {row.sf_id} {message}")

    # -- duplicates among unlinked contacts ---------------------------------------------------------
    index = inputs.sf_index.assign(is_deleted=inputs.sf_index["is_deleted"].fillna(False).astype(bool))
    pool = pd.concat([unlinked_sf.loc[unlinked_sf["email_key"].notna(), ["sf_id", "email_key", "created", "modified"]],
                      index.loc[~index["is_deleted"] & ~index["sf_id"].isin(link_by_sf.index),
                                ["sf_id", "email_key", "created", "modified"]]])
    pool = pool[~pool["sf_id"].isin(inputs.losers)]
    holders = links.loc[~links["sf_id"].isin(gone), ["sf_id", "email_key"]]
    plan.duplicates = pick_winners(pool, holders, inputs.duplicate_rule)
    losers = set(plan.duplicates["sf_id"]) | set(inputs.losers)
    plan.rejects += [duplicate_reject(row) for row in plan.duplicates.itertuples()]  # new losers only
    winners = pool[~pool["sf_id"].isin(losers)].drop_duplicates("email_key").set_index("email_key")["sf_id"]

    # -- pairs -------------------------------------------------------------------------------------
    link_by_an = links.set_index("an_id")
    an_linked = an[an["an_id"].isin(link_by_an.index)]
    an_unlinked = an[~an["an_id"].isin(link_by_an.index)]
    key_holder = links.set_index("email_key")["an_id"]
    clash = an_unlinked[an_unlinked["email_key"].isin(key_holder.index)]
    for row in clash.itertuples():
        plan.reject(
            "actionnetwork", "person", row.an_id, "EMAIL_ALREADY_LINKED",
            f"Activist {row.an_id} has the email {row.email_key!r}, already synced with activist "
            f"{key_holder[row.email_key]}; Action Network should not hold two activists with one email.")
    an_unlinked = an_unlinked[~an_unlinked["email_key"].isin(key_holder.index)]
    # A first match not written yet (the write budget deferred it, or a write failed) whose Contact was
    # given another email in Salesforce, or deleted, stops as a synced pair would: neither side is
    # entered in the other (the person would be there twice) until the Contact has its address back,
    # or is restored.
    waits = inputs.first_matches.assign(matched_by=[  # the address its Contact held when matched
        rules.email_key(_held(d, h, SF_SIDE, "email"))
        for d, h in zip(inputs.first_matches["decided"], inputs.first_matches["held"], strict=True)])
    stops = _stopped_waits(waits, link_by_an.index)
    moved_away = stops[~stops["sf_deleted"]].set_index("an_id")
    for row in an_unlinked[an_unlinked["an_id"].isin(moved_away.index)].itertuples():
        contact = moved_away.loc[row.an_id]
        plan.reject(
            "actionnetwork", "person", row.an_id, "SYNC_STOPPED",
            f"Activist {row.an_id} was matched by email with Contact {contact['sf_id']}, and their first sync "
            "waits to be written (the write budget, or a retry); meanwhile the Contact's email was changed in "
            f"Salesforce (now {contact['sf_key']!r}), which stops its sync as for a synced Contact. No second "
            "Contact was created. Change the Contact's email back to resume, or change the email in Action "
            "Network instead.")
    an_unlinked = an_unlinked[~an_unlinked["an_id"].isin(moved_away.index)]

    pairs = []  # (an_id, sf_id, kind)
    pairs += [(a, link_by_an.loc[a, "sf_id"], "linked") for a in an_linked["an_id"] if a not in inactive_an]
    pairs += [(link_by_sf.loc[s, "an_id"], s, "linked") for s in linked_sf["sf_id"] if s not in inactive]
    matched_sf = an_unlinked["email_key"].map(winners)
    # A first match not written yet holds when the activist's email changed meanwhile:
    # the two were matched, and a Contact created for the new address would enter the person twice.
    waiting = _waiting_contacts(waits, unlinked_sf, losers)
    matched_sf = matched_sf.where(matched_sf.notna(), an_unlinked["an_id"].map(waiting))
    pairs += [(a, s, "new") for a, s in zip(an_unlinked["an_id"], matched_sf, strict=True) if isinstance(s, str)]
    an_gone = an_linked[an_linked["an_id"].isin(gone_an)]
    pairs += [(a, s, "new") for a, s in zip(an_gone["an_id"], an_gone["email_key"].map(winners), strict=True)
              if isinstance(s, str)]
    creates_sf = an_unlinked[matched_sf.isna().to_numpy()]
    gone_away = stops[stops["sf_deleted"]].set_index("an_id")["sf_id"]
    for row in creates_sf[creates_sf["an_id"].isin(gone_away.index)].itertuples():
        plan.reject(
            "actionnetwork", "person", row.an_id, "SYNC_STOPPED",
            f"Activist {row.an_id} was matched by email with Contact {gone_away[row.an_id]}, and their first sync "
            "waits to be written (the write budget, or a retry); meanwhile the Contact was deleted in Salesforce, "
            "which stops its sync as for a synced Contact. No other Contact was created. Restore the Contact from "
            "the Recycle Bin to resume.")
    creates_sf = creates_sf[~creates_sf["an_id"].isin(gone_away.index)]
    # A synced Contact whose email was changed in Salesforce to this activist's: a second Contact with
    # one email is never created; the activist waits until that Contact's email is settled.
    creates_sf = _set_aside(plan, creates_sf, _held_by(index[~index["is_deleted"]], "sf_id", link_by_sf.index),
                            lambda row, holder: reject(
        "actionnetwork", "person", row.an_id, "EMAIL_OF_SYNCED_CONTACT",
        f"Activist {row.an_id} has the email {row.email_key!r}, which Contact {holder} (synced with activist "
        f"{link_by_sf.loc[holder, 'an_id']}) was given in Salesforce; a second Contact with that email was not "
        "created. Correct that Contact's email, or merge the two activists; the next run then syncs this one."))
    paired_sf = {s for _, s, _ in pairs}
    open_sf = unlinked_sf[unlinked_sf["email_key"].notna() & ~unlinked_sf["sf_id"].isin(losers)
                          & ~unlinked_sf["sf_id"].isin(paired_sf)]
    moved_by_sf = moved_away.reset_index().set_index("sf_id")
    for row in open_sf[open_sf["sf_id"].isin(moved_by_sf.index)].itertuples():
        plan.reject(
            "salesforce", "contact", row.sf_id, "EMAIL_CHANGED_IN_SALESFORCE",
            f"The email of Contact {row.sf_id} was changed in Salesforce (now {row.email!r}) while its first sync "
            f"with activist {moved_by_sf.loc[row.sf_id, 'an_id']} waited to be written (the write budget, or a "
            "retry); as in Action Network's own sync this stops syncing the Contact, and it was not sent as a new "
            "activist. Change it back to resume, or change the email in Action Network instead.")
    open_sf = open_sf[~open_sf["sf_id"].isin(moved_by_sf.index)]
    gone_by_sf = stops[stops["sf_deleted"]].set_index("sf_id")["an_id"]
    for row in sf[sf["is_deleted"] & sf["sf_id"].isin(gone_by_sf.index) & ~sf["sf_id"].isin(link_by_sf.index)
                  ].itertuples():
        plan.reject(
            "salesforce", "contact", row.sf_id, "CONTACT_DELETED_IN_SALESFORCE",
            f"Contact {row.sf_id} was deleted in Salesforce while its first sync with activist "
            f"{gone_by_sf[row.sf_id]} waited to be written (the write budget, or a retry); the activist stays in "
            "Action Network and is not synced. Restore the Contact from the Recycle Bin to resume.")
    an_by_key = inputs.an_index.dropna(subset=["email_key"]).drop_duplicates("email_key").set_index("email_key")
    an_by_key = an_by_key[~an_by_key["an_id"].isin(link_by_an.index) | an_by_key["an_id"].isin(gone_an)]
    matched_an = open_sf["email_key"].map(an_by_key["an_id"])
    pairs += [(a, s, "new") for a, s in zip(matched_an, open_sf["sf_id"], strict=True) if isinstance(a, str)]
    replaced = {a: s for a, s, kind in pairs if kind == "new" and a in gone_an}
    for an_id, sf_id in replaced.items():
        plan.reject("salesforce", "contact", sf_id, "CONTACT_REPLACED",
                    f"Contact {link_by_an.loc[an_id, 'sf_id']} of activist {an_id} was deleted in Salesforce; the "
                    f"activist now syncs with Contact {sf_id}, which has their email. Nothing to do.")
    stopped_an = an[an["an_id"].isin(inactive_an - replaced.keys())]
    for row in stopped_an[_unsynced_change(stopped_an, link_by_an["base"], names)].itertuples():
        plan.reject(
            "actionnetwork", "person", row.an_id, "SYNC_STOPPED",
            f"Activist {row.an_id} changed, but sync with its Contact {link_by_an.loc[row.an_id, 'sf_id']} is "
            f"stopped ({link_by_an.loc[row.an_id, 'state']}); the change was not sent to Salesforce.")

    no_match = open_sf[matched_an.isna().to_numpy()]
    # A Contact holding another address of an activist is not a new person: the signup helper would
    # match it to that activist and overwrite them. It is reported, never linked or created.
    no_match = _set_aside(plan, no_match, _held_by(inputs.other_emails, "an_id"), lambda row, owner: reject(
        "salesforce", "contact", row.sf_id, "SECONDARY_EMAIL",
        f"Contact {row.sf_id} has the email {row.email_key!r}, which activist {owner} holds as another (not "
        "primary) address; Action Network keys people by their primary address, so the Contact was not sent. "
        "Give the Contact the activist's primary email (or merge it with the activist's Contact) to sync it."))
    # Nor is a Contact holding the address a synced activist has now (changed in Action Network, and
    # held back from that activist's own Contact because this one has it): the helper would match the
    # activist and overwrite them with this Contact's values.
    no_match = _set_aside(plan, no_match, _held_by(inputs.an_index, "an_id", link_by_an.index), lambda row, owner: reject(
        "salesforce", "contact", row.sf_id, "EMAIL_OF_SYNCED_ACTIVIST",
        f"Contact {row.sf_id} has the email {row.email_key!r}, which activist {owner} now has, and that activist is "
        f"synced with Contact {link_by_an.loc[owner, 'sf_id']}; sending this Contact would overwrite the activist. "
        "Merge the two Contacts in Salesforce (the next run then sends the activist's email to the one kept)."))
    creates_an = no_match[no_match["subscribed"]]
    for row in no_match[~no_match["subscribed"]].itertuples():
        plan.reject(
            "salesforce", "contact", row.sf_id, "NOT_IN_SUBSCRIBERS_CAMPAIGN",
            f"Contact {row.sf_id} was not sent to Action Network: it matches no activist and is not in the "
            f"{rules.SUBSCRIBERS_CAMPAIGN!r} campaign. Add it to that campaign to add it to your list.")

    status_by_an = pd.concat([inputs.an_index.set_index("an_id")["email_status"],
                              an.set_index("an_id")["email_status"]])
    status_by_an = status_by_an[~status_by_an.index.duplicated(keep="last")]
    live_keys = index.loc[~index["is_deleted"], ["sf_id", "email_key"]]
    _plan_pairs(plan, pd.DataFrame(pairs, columns=["an_id", "sf_id", "kind"]).drop_duplicates(["an_id"]),
                an, sf, links, status_by_an, names, live_keys, inputs.sf_lengths, inputs.first_matches)
    _plan_creates(plan, creates_sf, creates_an, names, inputs.sf_lengths)
    return plan


def _follow_merges(plan: ContactPlan, sf: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """A Contact merged into another in Salesforce (deleted, ``master_id`` naming the one kept) takes
    its pair along: the links as they are once each such pair points at the Contact kept. A Contact
    kept that is synced with another activist cannot take a second one: that pair stops (the merged
    Contact is deleted), reported."""
    if "master_id" not in sf:
        return links
    merged = sf[sf["is_deleted"] & sf["master_id"].notna()]
    master_of = dict(zip(merged["sf_id"], merged["master_id"], strict=True))
    moving = links[links["sf_id"].isin(master_of)]
    if moving.empty:
        return links
    links = links.copy()
    synced_with = links.set_index("sf_id")["an_id"]
    for at, an_id, sf_id in zip(moving.index, moving["an_id"], moving["sf_id"], strict=True):
        kept = sf_id
        for _ in range(len(master_of)):  # merged again in the same window: follow to the last Contact kept
            if kept not in master_of:
                break
            kept = master_of[kept]
        holder = synced_with.get(kept)
        if holder is not None and holder != an_id:
            plan.reject(
                "salesforce", "contact", sf_id, "CONTACT_MERGED_INTO_SYNCED_CONTACT",
                f"Contact {sf_id} was merged in Salesforce into Contact {kept}, which is synced with activist {holder}; "
                f"activist {an_id} stays in Action Network and is no longer synced. If they are one person, merge "
                "the two activists in Action Network.")
            continue
        links.at[at, "sf_id"] = kept
        plan.add(Obj.CONTACT, Direction.LOCAL, Action.MOVE, an_id, kept, {"from": sf_id}, plan.pair())
        plan.reject("salesforce", "contact", sf_id, "CONTACT_MERGED",
                    f"Contact {sf_id} was merged into Contact {kept} in Salesforce; activist {an_id} now syncs with "
                    f"Contact {kept}. Nothing to do.")
    return links


def _held_by(records: pd.DataFrame, id_column: str, among: pd.Index | None = None) -> pd.Series:
    """email key -> the record (one of ``among``, if given) holding it."""
    held = records.dropna(subset=["email_key"])
    if among is not None:
        held = held[held[id_column].isin(among)]
    return held.drop_duplicates("email_key").set_index("email_key")[id_column]


def _set_aside(plan: ContactPlan, records: pd.DataFrame, holders: pd.Series,
               why: Callable[[Any, str], Reject]) -> pd.DataFrame:
    """Report the ``records`` whose email key one of ``holders`` has (``why``: the reject, given the
    record and that holder); return the others."""
    held = records["email_key"].isin(holders.index).to_numpy()
    plan.rejects += [why(row, holders[row.email_key]) for row in records[held].itertuples()]
    return records[~held]


def _unsynced_change(people: pd.DataFrame, bases: pd.Series, names: list[str]) -> np.ndarray:
    """Which activists hold a value or subscription other than their link's base (what was last
    synced): one read again unchanged, as an overlapping window does, has no change to hold back."""
    def text(name: str, value: object) -> object:
        return rules.email_key(value) if name == "email" else rules.text_value(_py(value))

    changed = []
    for record, base in zip(people.to_dict("records"), bases.reindex(people["an_id"]), strict=True):
        base = base if isinstance(base, dict) else {}
        changed.append(rules.is_subscribed(record.get("email_status")) != bool(base.get("subscribed"))
                       or any(text(name, record.get(name)) != text(name, base.get(name)) for name in names))
    return np.array(changed, dtype=bool)


def _plan_pairs(plan: ContactPlan, pairs: pd.DataFrame, an: pd.DataFrame, sf: pd.DataFrame,
                links: pd.DataFrame, status_by_an: pd.Series, names: list[str], live_keys: pd.DataFrame,
                lengths: dict[str, int], first_matches: pd.DataFrame) -> None:
    if pairs.empty:
        return
    pairs = pairs.drop_duplicates(["sf_id"]).reset_index(drop=True)
    a = an.set_index("an_id").reindex(pairs["an_id"]).reset_index(drop=True)
    s = sf.set_index("sf_id").reindex(pairs["sf_id"]).reset_index(drop=True)
    link = links.set_index("an_id").reindex(pairs["an_id"]).reset_index(drop=True)
    base = pd.DataFrame([b if isinstance(b, dict) else {} for b in link["base"]], columns=[*names, "subscribed"])
    linked = (pairs["kind"] == "linked").to_numpy()
    was, waited = _waiting_matches(pairs, first_matches, linked)
    an_staged = a["email"].notna().to_numpy()
    # An activist pairing with a Contact created in place of a deleted one is known by what was last
    # synced (a change since then is staged, held back while the pair was stopped).
    an_known = an_staged | (~linked & link["base"].map(lambda b: isinstance(b, dict) and bool(b)).to_numpy(dtype=bool))
    sf_fields_known = (s["email"].notna() & ~s["member_only"].fillna(False).astype(bool)).to_numpy()
    an_later = a["modified"].fillna(_NEVER).to_numpy() >= s["modified"].fillna(_NEVER).to_numpy()
    # plain lists for the per-conflict loops (a frame's cell costs microseconds, and there are many)
    an_ids, sf_ids, an_modified, sf_modified = (column.tolist() for column in (
        pairs["an_id"], pairs["sf_id"], a["modified"], s["modified"]))

    # A LastName holding an email of the pair while the activist has a family name was written by
    # an older release on an email change: it is repaired, never taken for a cleared name.
    damaged = linked & sf_fields_known & (
        s["name_is_email"].fillna(False).astype(bool).to_numpy()
        | _is_email_of(s["last_name"], a["email"]) | _is_email_of(s["last_name"], base["email"]))
    damaged &= (a["last_name"].where(an_staged, base["last_name"]).notna()).to_numpy()
    s.loc[damaged, "last_name"] = None

    target, to_sf, to_an, held, agreed, now_an = {}, {}, {}, {}, {}, {}
    match_keys = {f.name for f in synced.person_fields() if f.match_key}
    for name in names:
        an_v = a[name] if name in a else pd.Series([None] * len(pairs))
        sf_v = s[name] if name in s else pd.Series([None] * len(pairs))
        b = base[name]
        same = _same_email if name in match_keys else _same

        def fitted(values: pd.Series, limit: int | None = lengths.get(name)) -> pd.Series:
            """What Salesforce holds of ``values``: a longer value was cut to its field's length."""
            if not limit:
                return values
            long = values.astype(object).str.len().gt(limit // 2).to_numpy()  # rules.may_not_fit, column-wise
            if not long.any():
                return values
            cut = values.astype(object).copy()
            cut[long] = [rules.fit(v, limit) for v in cut[long]]
            return cut

        # each side against what it last held alike: the link's base, or what a waiting first match held
        an_was, sf_was, decided = was(AN_SIDE, name, b), was(SF_SIDE, name, b), was(None, name, b)
        an_cur = an_v.where(an_staged, an_was).astype(object)
        sf_cur = sf_v.where(sf_fields_known, fitted(sf_was)).astype(object)
        sf_held = held[name] = sf_cur  # what Salesforce holds, against which a write is decided
        now_an[name] = an_cur
        if name == "last_name":
            sf_cur = sf_cur.where(~damaged, fitted(b))
        an_ch, sf_ch = ~same(an_cur, an_was), ~same(sf_cur, fitted(sf_was))
        later = np.where(an_later, an_cur, sf_cur)
        alike = same(fitted(an_cur), sf_cur)
        settled = np.where(alike, an_cur, later)
        if name not in match_keys:  # an email changed on both sides is the link's key: the link settles it
            agreed[name] = linked & an_ch & alike
        merged = np.where(an_ch & ~sf_ch, an_cur, np.where(sf_ch & ~an_ch, sf_cur,
                                                            np.where(an_ch & sf_ch, settled, decided)))
        # first match: an empty value takes the other side's; otherwise the later record wins
        first = np.where(~an_known, sf_cur, np.where(~sf_fields_known, an_cur,
                         np.where(an_cur.isna(), sf_cur, np.where(sf_cur.isna(), an_cur, settled))))
        t = pd.Series(np.where(linked | waited, merged, first), dtype=object)
        target[name] = t
        for c in np.flatnonzero((linked | waited) & an_ch & sf_ch & ~same(fitted(an_cur), sf_cur)):
            plan.conflicts.append({
                "an_id": an_ids[c], "sf_id": sf_ids[c], "field": name,
                "an_value": rules.text_value(an_cur.iat[c]), "sf_value": rules.text_value(sf_cur.iat[c]),
                "winner": "actionnetwork" if an_later[c] else "salesforce",
                "an_modified": an_modified[c], "sf_modified": sf_modified[c]})
        # what a side holds is known when it was read, or last synced, or held when a first match waited
        sf_known_now = sf_fields_known | linked | waited
        an_known_now = an_known | linked | waited
        to_sf[name] = ~same(fitted(t), sf_held) & (sf_known_now | t.notna().to_numpy())
        to_an[name] = ~same(t, an_cur) & (an_known_now | t.notna().to_numpy())

    # subscription
    an_sub = pd.Series([rules.is_subscribed(v) for v in status_by_an.reindex(pairs["an_id"])], dtype=bool)
    sf_sub = s["subscribed"].fillna(False).astype(bool)
    sf_sub_known = s["subscribed"].notna().to_numpy()
    base_sub = base["subscribed"].astype(object).fillna(False).astype(bool)
    an_sub_base, sf_sub_base, decided_sub = (was(side, "subscribed", base_sub).astype(bool).to_numpy()
                                             for side in (AN_SIDE, SF_SIDE, None))
    an_sub_cur = np.where(an_known | ~linked, an_sub, an_sub_base)
    sf_sub_cur = np.where(sf_sub_known, sf_sub, sf_sub_base)
    an_sch, sf_sch = an_sub_cur != an_sub_base, sf_sub_cur != sf_sub_base
    merged_sub = np.where(an_sch & ~sf_sch, an_sub_cur, np.where(sf_sch & ~an_sch, sf_sub_cur,
                          np.where(an_sch & sf_sch, an_sub_cur & sf_sub_cur, decided_sub)))
    # A pair matched for the first time keeps Action Network's status: a Contact added to the
    # Subscribers campaign does not override an unsubscribe there (logged as a conflict).
    added_in_sf = sf_sub_known & sf_sub.to_numpy() & s["subscription_changed"].fillna(False).astype(bool).to_numpy()
    for kept in np.flatnonzero(~linked & ~waited & added_in_sf & ~an_sub_cur):
        plan.conflicts.append({
            "an_id": an_ids[kept], "sf_id": sf_ids[kept], "field": "subscribed",
            "an_value": "false", "sf_value": "true", "winner": "actionnetwork",
            "an_modified": an_modified[kept], "sf_modified": sf_modified[kept]})
    agreed["subscribed"] = linked & an_sch & (an_sub_cur == sf_sub_cur)
    sub: np.ndarray = np.where(linked | waited, merged_sub, an_sub_cur)
    spam = np.array([v in rules.SPAM_STATUSES for v in status_by_an.reindex(pairs["an_id"])], dtype=bool)
    blocked = sub & ~an_sub_cur & spam
    sub = sub & ~blocked

    new_keys = dict(zip(pairs["sf_id"][to_sf["email"]], map(rules.email_key, target["email"][to_sf["email"]]),
                        strict=True))
    holders_of = live_keys[live_keys["email_key"].isin(set(new_keys.values()))].groupby("email_key")["sf_id"].agg(set)
    free = _free_to_move(new_keys, holders_of)
    # Plain lists from here: the per-pair loop below runs a million times in a big org's first sync.
    rows = zip(*([_py(v) for v in target[name].tolist()] for name in names), strict=True)
    sf_writes, an_writes, alike_now = _flagged(to_sf, names), _flagged(to_an, names), _flagged(agreed, list(agreed))
    held_emails = held["email"].tolist()
    # reported only where a real last name was synced: an email standing in for none is no damage
    repaired = (damaged & to_sf["last_name"] & base["last_name"].notna().to_numpy()).tolist()
    sub_now, an_sub_was, sf_sub_was = sub.tolist(), an_sub_cur.tolist(), sf_sub_cur.tolist()
    linked_now = linked.tolist()
    an_now, sf_now = ({n: v.tolist() for n, v in side.items()} for side in (now_an, held))
    for i, (an_id, sf_id, spam_blocked, row) in enumerate(zip(an_ids, sf_ids, blocked.tolist(), rows, strict=True)):
        values = dict(zip(names, row, strict=True))
        if repaired[i]:
            plan.reject(
                "salesforce", "contact", sf_id, "LAST_NAME_REPAIRED",
                f"Contact {sf_id} had an email address as its LastName although activist {an_id} has a last "
                f"name; it was set back to {values['last_name']!r}. Nothing to do.")
        if spam_blocked:
            plan.reject(
                "salesforce", "subscription", sf_id, "SPAM_COMPLAINT",
                f"Contact {sf_id} is in the {rules.SUBSCRIBERS_CAMPAIGN!r} campaign, but activist {an_id} "
                "reported Action Network email as spam, so they were not re-subscribed automatically.")
        sf_changes = {n: values[n] for n in sf_writes.get(i, ())}
        if lengths:
            _report_cuts(plan, an_id, sf_id, sf_changes, lengths)
        base_values = {**values, "subscribed": sub_now[i]}
        holders = holders_of.get(new_keys.get(sf_id), set()) - {sf_id} - free if "email" in sf_changes else ()
        if holders:
            # Two Contacts must never hold one email: the change waits (the base keeps the Contact's
            # email, so the activist's new one stays a pending change) until the other one is merged.
            del sf_changes["email"]
            base_values["email"] = _py(held_emails[i])
            plan.reject(
                "actionnetwork", "person", an_id, "EMAIL_HELD_BY_ANOTHER_CONTACT",
                f"Activist {an_id} changed their email to {values['email']!r}, which Contact "
                f"{sorted(holders)[0]} already has; Contact {sf_id} keeps its email until the two Contacts "
                "are merged in Salesforce (the next run then sends it).")
        pair = plan.pair()
        linking: dict[str, Any] = {"base": base_values, "email_key": rules.email_key(base_values["email"])}
        if i in alike_now:  # what both sides hold alike already: the base even if the pair waits (links.note_agreed)
            linking["agreed"] = {n: base_values[n] for n in alike_now[i]}
        an_changes = {n: values[n] for n in an_writes.get(i, ())}
        if not linked_now[i] and (an_changes or sub_now[i] != an_sub_was[i]):
            # a first match the write budget may defer (or a write fail): what each side holds where it is
            # to change (links.note_first_matches), so that its edits meanwhile are known as edits
            an_held = {n: _py(an_now[n][i]) for n in an_changes}
            sf_held = {n: _py(sf_now[n][i]) for n in sf_changes}
            for side_held, was_subscribed in ((an_held, an_sub_was[i]), (sf_held, sf_sub_was[i])):
                if was_subscribed != sub_now[i]:
                    side_held["subscribed"] = was_subscribed
            linking["held"] = {AN_SIDE: an_held, SF_SIDE: sf_held}
        plan.add(Obj.CONTACT, Direction.LOCAL, Action.LINK, an_id, sf_id, linking, pair)
        if sf_changes:
            plan.add(Obj.CONTACT, Direction.TO_SALESFORCE, Action.UPDATE, an_id, sf_id, {
                "fields": sf_changes, "email": values["email"], "last_name": values["last_name"]}, pair)
        if an_changes:
            plan.add(Obj.CONTACT, Direction.TO_ACTIONNETWORK, Action.UPDATE, an_id, sf_id, {"fields": an_changes},
                     pair)
        subscription = Action.SUBSCRIBE if sub_now[i] else Action.UNSUBSCRIBE
        if sub_now[i] != sf_sub_was[i]:
            plan.add(Obj.CONTACT, Direction.TO_SALESFORCE, subscription, an_id, sf_id, {}, pair)
        if sub_now[i] != an_sub_was[i]:
            plan.add(Obj.CONTACT, Direction.TO_ACTIONNETWORK, subscription, an_id, sf_id, {"email": values["email"]},
                     pair)


def _waiting_contacts(waits: pd.DataFrame, unlinked_sf: pd.DataFrame, losers: set[str]) -> pd.Series:
    """Activist -> the Contact of its waiting first match, where that Contact is staged, unlinked, no
    duplicate, and still has the email it was matched by (a Contact whose email was changed in
    Salesforce is not followed, as for a synced pair)."""
    if waits.empty:
        return pd.Series(dtype=object)
    keys = unlinked_sf.dropna(subset=["email_key"]).drop_duplicates("sf_id").set_index("sf_id")["email_key"]
    kept = [isinstance(s, str) and s not in losers and keys.get(s) == key
            for s, key in zip(waits["sf_id"], waits["matched_by"], strict=True)]
    return waits[kept].drop_duplicates("an_id").set_index("an_id")["sf_id"]


def _stopped_waits(waits: pd.DataFrame, linked_an: pd.Index) -> pd.DataFrame:
    """The waiting first matches (of activists not linked since) whose Contact is deleted, or holds
    neither the address it was matched by nor the activist's own."""
    waits = waits[~waits["an_id"].isin(linked_an)].astype({"sf_deleted": bool})
    now = waits["sf_key"]
    moved = now.notna().to_numpy() & ~_same(now, waits["matched_by"]) & ~_same(now, waits["an_key"])
    return waits[waits["sf_deleted"].to_numpy() | moved]


def _waiting_matches(pairs: pd.DataFrame, first_matches: pd.DataFrame, linked: np.ndarray
                     ) -> tuple[Callable[[str | None, str, pd.Series], pd.Series], np.ndarray]:
    """The pairs that are first matches not written yet (``sync.first_matches``), and what
    each side of them held (or, side None, what the match decided) of a field: ``was(side, name,
    base)``, the pair's link base elsewhere."""
    waits = first_matches.drop_duplicates("an_id").set_index("an_id").reindex(pairs["an_id"]).reset_index(drop=True)
    waited = ~linked & (waits["sf_id"].to_numpy(dtype=object) == pairs["sf_id"].to_numpy(dtype=object))
    at = np.flatnonzero(waited).tolist()

    def was(side: str | None, name: str, base: pd.Series) -> pd.Series:
        if not at:
            return base
        values = base.astype(object).copy()
        for i in at:
            values.iat[i] = _held(waits["decided"].iat[i], waits["held"].iat[i], side, name)
        return values

    return was, waited


def _held(decided: dict | None, held: dict | None, side: str | None, name: str) -> Any:
    """What ``side`` of a waiting first match held of ``name`` (side None: what the match decided):
    a side's own value where it was to change, else the decision."""
    own = ((held or {}).get(side) or {}) if side is not None else {}
    return own.get(name, (decided or {}).get(name))


def _flagged(flags: dict[str, np.ndarray], names: list[str]) -> dict[int, list[str]]:
    """Pair position -> the ``names`` flagged for it, in their order (built from the flags set
    only: most pairs of a big run have none)."""
    flagged: dict[int, list[str]] = {}
    for name in names:
        for i in np.flatnonzero(flags[name]).tolist():
            flagged.setdefault(i, []).append(name)
    return flagged


def _free_to_move(new_keys: dict[str, str | None], holders_of: pd.Series) -> set[str]:
    """The Contacts whose email can change to ``new_keys`` (Contact -> its new key) now: no Contact
    that keeps its email holds the new one. One giving its email up in the same run is no obstacle, so
    a household handing an address on, or two people swapping theirs, goes through at once."""
    free = dict(new_keys)
    while held := [s for s, key in free.items() if not holders_of.get(key, set()) - {s} <= free.keys()]:
        for sf_id in held:
            del free[sf_id]
    return set(free)


def _plan_creates(plan: ContactPlan, creates_sf: pd.DataFrame, creates_an: pd.DataFrame, names: list[str],
                  lengths: dict[str, int]) -> None:
    for an_id, status, key, values, long in zip(_column(creates_sf, "an_id"), _column(creates_sf, "email_status"),
                                                _column(creates_sf, "email_key"), _values(creates_sf, names),
                                                _long_values(creates_sf, lengths), strict=True):
        if long:
            _report_cuts(plan, an_id, None, values, lengths)
        subscribed = rules.is_subscribed(status)
        pair = plan.pair()
        plan.add(Obj.CONTACT, Direction.LOCAL, Action.LINK, an_id, None, {
            "base": {**values, "subscribed": subscribed}, "email_key": key}, pair)
        plan.add(Obj.CONTACT, Direction.TO_SALESFORCE, Action.CREATE, an_id, None, {"fields": values}, pair)
        if subscribed:
            plan.add(Obj.CONTACT, Direction.TO_SALESFORCE, Action.SUBSCRIBE, an_id, None, {}, pair)
    for sf_id, key, values in zip(_column(creates_an, "sf_id"), _column(creates_an, "email_key"),
                                  _values(creates_an, names), strict=True):
        pair = plan.pair()
        plan.add(Obj.CONTACT, Direction.LOCAL, Action.LINK, None, sf_id, {
            "base": {**values, "subscribed": True}, "email_key": key}, pair)
        plan.add(Obj.CONTACT, Direction.TO_ACTIONNETWORK, Action.CREATE, None, sf_id, {"fields": values}, pair)


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    """A column as plain Python values, missing ones None (a frame's rows would cost a dict each)."""
    if name not in frame:
        return [None] * len(frame)
    values = frame[name].astype(object)
    return values.where(values.notna(), None).tolist()


def _values(frame: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """Each row's ``names`` values, as a dict."""
    return [dict(zip(names, row, strict=True)) for row in zip(*(_column(frame, n) for n in names), strict=True)]


def _long_values(frame: pd.DataFrame, lengths: dict[str, int]) -> list[bool]:
    """Which rows hold a value that may not fit its Salesforce field (see ``_report_cuts``): few,
    so the others skip the check."""
    long = np.zeros(len(frame), dtype=bool)
    for name, limit in lengths.items():
        if name in frame:
            long |= np.array([rules.may_not_fit(v, limit) for v in frame[name].tolist()], dtype=bool)
    return long.tolist()


def _report_cuts(plan: ContactPlan, an_id: str, sf_id: str | None, values: dict, lengths: dict[str, int]) -> None:
    """A note for each value longer than its Salesforce field: it is sent cut to fit, never refused."""
    for name, value in values.items():
        if (cut := rules.fit(value, lengths.get(name))) is not value:  # the same text when it fits
            plan.reject(
                "actionnetwork", "person", an_id, "VALUE_TRUNCATED",
                f"The {name.removeprefix('cf:').replace('_', ' ')} of activist {an_id} is longer than Salesforce's "
                f"{lengths[name]} characters, so Contact {sf_id or '(new)'} got {cut!r}; the full value stays in "
                "Action Network, and is not overwritten by the shortened one. Nothing to do.")


def _py(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def _email_problem(email: object) -> tuple[str, str]:
    """Why an email without a key cannot be synced."""
    problem = rules.email_problem(email)
    assert problem is not None, "an email without a key always has a problem"
    return problem
