"""The soak's verdict: duplicates of any record kind, edits lost, and linked pairs not converged.

Reads both sides as they are at the end (Action Network through its API with the project's client,
Salesforce from the emulator's store, which is the org's truth) and the sync's links and rejects.
An expected effect that is missing counts as *explained* when the sync reported a reject for the
record, and as *lost* otherwise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from an_sf_sync import rules
from an_sf_sync.reasons import NOTES
from tests.soak.world import AN, FIELDS, World, in_salesforce

AN_FIELDS = {"first_name": "given_name", "last_name": "family_name", "street": "street", "city": "city",
             "state": "state", "postal_code": "postal_code", "employer": "custom_fields->>'employer'"}
UNSUBSCRIBED = ("NOT_IN_SUBSCRIBERS_CAMPAIGN", "DONOR_NOT_SUBSCRIBED")  # rejects of what a non-subscriber did
SF_STAGED = {"first_name": "first_name", "last_name": "last_name", "street": "mailing_street",
             "city": "mailing_city", "state": "mailing_state", "postal_code": "mailing_postal_code",
             "employer": "custom_fields->>'Employer__c'"}


@dataclass
class Findings:
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    explained: list[str] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)  # what the sync saw of each lost edit, for its report
    pairs: int = 0


def an_value(person: dict[str, Any], name: str) -> Any:
    """An activist's value of one of the soak's fields (a custom field's from its custom fields)."""
    column = AN_FIELDS[name]
    return person[column] if column in person else (person.get("custom_fields") or {}).get(name)


def _same(a: Any, b: Any) -> bool:
    return (rules.text_value(a) or None) == (rules.text_value(b) or None)


def _dupes(what: str, keys: list[Any]) -> list[str]:
    return [f"{count} x {what} {key}" for key, count in Counter(k for k in keys if k).items() if count > 1]


class Verifier:
    def __init__(self, world: World, an: Any, sf_rows: Any, staging: Any) -> None:
        self.world, self.an, self.staging, self.sf_rows = world, an, staging, sf_rows
        self.contacts = sf_rows("Contact")
        self.campaigns = sf_rows("Campaign")
        self.members = sf_rows("CampaignMember")
        self.opportunities = sf_rows("Opportunity")
        self.roles = sf_rows("OpportunityContactRole")
        self.accounts = sf_rows("Account")
        self.people = list(an.people())
        self.actions = {t: list(an.actions(t)) for t in ("form", "petition", "fundraising_page")}
        with staging.connect() as conn:
            self.links = dict(conn.execute("SELECT an_id, sf_id FROM sync.contact_links WHERE state = 'active'"))
            self.rejects: dict[str, set[str]] = {}
            for record_id, code in conn.execute("SELECT record_id, reason_code FROM sync.rejects"):
                self.rejects.setdefault(record_id, set()).add(code)
        self.contacts_by_id = {c.get("Id"): c for c in self.contacts}
        self.contacts_by_key = {rules.email_key(c.get("Email")): c for c in self.contacts}
        self.subscribers = {m.get("ContactId") for m in self.members
                            if m.get("CampaignId") == world.masters["sf_subscribers_campaign"]}
        self.findings = Findings(pairs=len(self.links))

    def _count_an(self, path: str, rel: str, identifier: str) -> list[dict[str, Any]]:
        response = self.world.an.get(self.world.an_url + path, params={"filter": f"identifier eq '{identifier}'"})
        response.raise_for_status()
        return (response.json().get("_embedded") or {}).get(rel) or []

    def run(self) -> Findings:
        self.duplicates()
        self.people_and_fields()
        self.actions_members_donations()
        self.convergence()
        return self.findings

    def _missing(self, text: str, *ids: str | None, unsubscribed: bool = True) -> None:
        """A missing effect, explained by a reject of one of ``ids`` (a note, such as a value cut to
        fit, explains nothing; nor does "not subscribed" unless the person was ``unsubscribed``)."""
        codes = sorted({code for i in ids if i for code in self.rejects.get(i, ()) if code not in NOTES
                        and (unsubscribed or code not in UNSUBSCRIBED)})
        if codes:
            self.findings.explained.append(f"{text} (rejected: {', '.join(codes)})")
        else:
            self.findings.lost.append(text)

    def duplicates(self) -> None:
        f, w = self.findings, self.world
        f.duplicates += _dupes("activists with email", [rules.email_key(p["email"]) for p in self.people])
        entered_twice = {p.duplicate for p in w.people.values() if p.duplicate}  # by the soak, on purpose
        f.duplicates += _dupes("Contacts with email", [rules.email_key(c.get("Email")) for c in self.contacts
                                                       if c.get("Id") not in entered_twice])
        f.duplicates += _dupes("Campaigns for action", [c.get(rules.EXTERNAL_ID_FIELD) for c in self.campaigns])
        f.duplicates += _dupes("Campaigns named", [c.get("Name") for c in self.campaigns
                                                   if c.get("Name") == rules.SUBSCRIBERS_CAMPAIGN])
        f.duplicates += _dupes("Accounts named", [a.get("Name") for a in self.accounts])
        f.duplicates += _dupes("Campaign members", [(m.get("CampaignId"), m.get("ContactId")) for m in self.members])
        f.duplicates += _dupes("Opportunities for donation", [o.get(rules.EXTERNAL_ID_FIELD)
                                                              for o in self.opportunities])
        f.duplicates += _dupes("Contact Roles", [(r.get("OpportunityId"), r.get("ContactId")) for r in self.roles])
        for action_type, actions in self.actions.items():
            f.duplicates += _dupes(f"Action Network {action_type}s titled", [a["title"] for a in actions])
        f.duplicates += [f"Campaign {c.get('Id')} echoes the master {c.get('Name')!r}" for c in self.campaigns
                         if c.get("Name") in (rules.USERS_FORM, rules.DONATIONS_PAGE)]
        f.duplicates += [f"form {a['an_id']} echoes the master {a['title']!r}" for a in self.actions["form"]
                         if a["title"] == rules.SUBSCRIBERS_CAMPAIGN]
        for action in w.actions.values():
            if action.an_id:
                f.duplicates += _dupes(f"takers of {action.key}", [
                    t["person_id"] for t in self.an.participations(action.action_type, action.an_id)])
            if action.origin != AN and action.sf_id:
                made = self._count_an("forms", "osdi:forms", f"salesforce:{action.sf_id}")
                f.duplicates += [f"{len(made)} x Action Network forms for Campaign {action.sf_id}"] * (len(made) > 1)
        for donation in w.donations.values():
            if donation.origin != AN and donation.sf_id:
                made = self._count_an("donations", "osdi:donations", f"salesforce:{donation.sf_id}")
                f.duplicates += [f"{len(made)} x donations for Opportunity {donation.sf_id}"] * (len(made) > 1)
        f.duplicates += _dupes("donations of the Salesforce Donations page", [
            p["an_id"] for p in self.an.participations("fundraising_page", w.masters["an_donations_page"])])

    def _contact(self, person: Any) -> dict[str, Any] | None:
        """A person's live Contact: by its Id once known (a duplicate holds the same email), else by email."""
        by_id = self.contacts_by_id.get(person.sf_id) if person.sf_id else None
        return by_id or self.contacts_by_key.get(rules.email_key(person.sf_moved or person.address))

    def people_and_fields(self) -> None:
        people = {rules.email_key(p["email"]): p for p in self.people}
        for person in self.world.people.values():
            if not person.synced:
                continue
            an_p = people.get(rules.email_key(person.address))
            sf_c = None if person.sf_deleted else self._contact(person)
            for stop, code in ((person.sf_moved, "EMAIL_CHANGED_IN_SALESFORCE"),
                               (person.sf_deleted, "CONTACT_DELETED_IN_SALESFORCE")):
                if stop and code not in self.rejects.get(person.sf_id, ()):
                    self.findings.lost.append(f"Contact {person.sf_id} ({person.email}) was changed in Salesforce "
                                              f"so that its sync stops, and no run reported {code}")
            if person.duplicate and ("DUPLICATE_EMAIL" not in self.rejects.get(person.duplicate, ())
                                     or person.duplicate in self.links.values()):
                self.findings.diverged.append(f"Contact {person.duplicate}, entered again for {person.email}, is not "
                                              "reported as a duplicate, or is synced")
            stopped = bool(person.sf_moved or person.sf_deleted)
            active = self.links.get(person.an_id) == person.sf_id
            if person.an_id and person.sf_id and stopped == active:
                self.findings.diverged.append(
                    f"{person.email} ({person.an_id} <-> {person.sf_id}): the pair is "
                    + ("active, though its Contact's email was changed, or it was deleted, in Salesforce" if stopped
                       else "not active, though its Contact's email is the activist's"))
            if person.stopped_waiting:
                continue  # neither side was written the match's values: each holds its own
            ids = (person.an_id, person.sf_id, an_p and an_p["an_id"], sf_c and sf_c.get("Id"))
            if an_p is not None and person.sf_deleted:  # the activist stays as it was, alone
                changed = [name for name in FIELDS if not _same(an_value(an_p, name), person.expected(name))]
                changed += ["subscription"] * ((an_p["email_status"] == "subscribed") != person.subscribed[0])
                if changed:
                    self._missing(f"{person.email}: its Contact was deleted in Salesforce, and the activist's "
                                  f"{', '.join(changed)} changed", *ids)
                continue
            if an_p is None or sf_c is None:
                self._missing(f"{person.origin} person {person.address} is missing on the "
                              f"{'Action Network' if an_p is None else 'Salesforce'} side", *ids)
                continue
            for name, (_, sf_field) in FIELDS.items():
                expected = person.expected(name)
                sf_expected = rules.sf_last_name(expected, person.address) if name == "last_name" else expected
                if not (_same(an_value(an_p, name), expected)
                        and _same(sf_c.get(sf_field), in_salesforce(name, sf_expected))):
                    _, at, side = person.fields[name]
                    hour = next((e.hour for e in reversed(self.world.log) if e.key == person.email and e.at <= at),
                                None)
                    self.trace(person.email, an_p["an_id"], sf_c.get("Id"), name)
                    self._missing(f"{person.email} {name}: expected {expected!r} (edited in {side}, hour {hour}), Action "
                                  f"Network has {an_value(an_p, name)!r}, Salesforce {sf_c.get(sf_field)!r}", *ids)
            subscribed, at, side = person.subscribed
            hour = next((e.hour for e in reversed(self.world.log) if e.key == person.email and e.at <= at), None)
            if (an_p["email_status"] == "subscribed", sf_c.get("Id") in self.subscribers) != (subscribed, subscribed):
                self.trace(person.email, an_p["an_id"], sf_c.get("Id"), "subscribed")
                self._missing(f"{person.email} subscribed={subscribed} (set in {side}, hour {hour}): Action Network says "
                              f"{an_p['email_status']}, Salesforce membership {sf_c.get('Id') in self.subscribers}",
                              *ids)

    def trace(self, email: str, an_id: str, sf_id: str, name: str) -> None:
        """The edits of one person, what each run staged of the field, the plan rows and the link's base."""
        def clock(value: Any) -> str:
            return value.strftime("%H:%M:%S.%f")[:-3] if value else "-"

        lines = [f"trace {email} {name} ({an_id} <-> {sf_id}):"]
        lines += [f"  edit h{e.hour} {e.side} {e.kind} {e.detail} at "
                  f"{clock(datetime.fromtimestamp(e.at, UTC))}" for e in self.world.log if e.key == email]
        with self.staging.connect() as conn:
            rows = conn.execute(
                "SELECT e.run_id, e.source, e.window_start, e.window_end FROM staging.extracts e ORDER BY e.window_end")
            lines += [f"  window {run[-8:]} {source} [{clock(start)}, {clock(end)})" for run, source, start, end in rows]
            an_column = "email_status" if name == "subscribed" else AN_FIELDS[name]
            rows = conn.execute(f"SELECT run_id, {an_column}, modified_date FROM staging.an_people"
                                " WHERE an_id = %s ORDER BY modified_date", (an_id,))
            lines += [f"  staged AN {run[-8:]} {value!r} modified {clock(at)}" for run, value, at in rows]
            if name == "subscribed":
                rows = conn.execute("SELECT run_id, is_deleted, system_modstamp FROM staging.sf_campaign_members"
                                    " WHERE contact_id = %s AND campaign_id = %s ORDER BY system_modstamp",
                                    (sf_id, self.world.masters["sf_subscribers_campaign"]))
                lines += [f"  staged SF member {run[-8:]} deleted={value} at {clock(at)}" for run, value, at in rows]
                lines += [f"  Salesforce member {m.get('Id')} created {m.get('CreatedDate')} deleted={m.get('IsDeleted')} "
                          f"modstamp {m.get('SystemModstamp')}" for m in self.sf_rows("CampaignMember", True)
                          if m.get("ContactId") == sf_id
                          and m.get("CampaignId") == self.world.masters["sf_subscribers_campaign"]]
            else:
                rows = conn.execute(f"SELECT run_id, {SF_STAGED[name]}, last_modified_date FROM staging.sf_contacts"
                                    " WHERE sf_id = %s ORDER BY last_modified_date", (sf_id,))
                lines += [f"  staged SF {run[-8:]} {value!r} modified {clock(at)}" for run, value, at in rows]
            rows = conn.execute("SELECT run_id, step, direction, action, status, payload FROM staging.plan"
                                " WHERE an_id = %s OR sf_id = %s ORDER BY updated_at", (an_id, sf_id))
            lines += [f"  plan {r[0][-8:]} {r[1]} {r[2]} {r[3]} {r[4]} {str(r[5])[:160]}" for r in rows]
            base = conn.execute("SELECT base FROM sync.contact_links WHERE an_id = %s", (an_id,)).fetchone()
            lines.append(f"  link base {base[0] if base else None}")
            last = conn.execute("SELECT run_id, window_start, window_end, counts FROM staging.extracts"
                                " WHERE source = 'actionnetwork' ORDER BY window_end DESC LIMIT 1").fetchone()
        person = next((p for p in self.people if p["an_id"] == an_id), {})
        again = [p["an_id"] for p in self.an.people(modified_since=last[1], modified_before=last[2])]
        lines.append(f"  Action Network modified_date now {person.get('modified_date')}; the last window "
                     f"{last[0][-8:]} staged {last[3]}, and reads {len(again)} people now, this one "
                     f"{'included' if an_id in again else 'NOT included'}")
        self.findings.traces.append("\n".join(lines))

    def actions_members_donations(self) -> None:
        w = self.world
        by_external = {c.get(rules.EXTERNAL_ID_FIELD): c for c in self.campaigns}
        person_by_key = {rules.email_key(p["email"]): p["an_id"] for p in self.people}
        # a person's records, by the address it was made with (it may have moved since)
        contact_of = {email: contact.get("Id") for email, p in w.people.items() if (contact := self._contact(p))}
        # Contacts deleted in Salesforce took their memberships and Contact Roles along: only the
        # Action Network side of what their people did is checked
        deleted = {email for email, p in w.people.items() if p.sf_deleted}
        person_of = {email: person_by_key.get(rules.email_key(p.address)) for email, p in w.people.items()}
        for action in w.actions.values():
            if action.origin == AN:
                campaign = by_external.get(action.an_id)
                if campaign is None or campaign.get("Name") != action.title:
                    self._missing(f"action {action.key} ({action.an_id}) has no Campaign named {action.title!r}",
                                  action.an_id)
            elif not self._count_an("forms", "osdi:forms", f"salesforce:{action.sf_id}"):
                self._missing(f"Campaign {action.key} ({action.sf_id}) has no Action Network form", action.sf_id)
        pairs = {(m.get("CampaignId"), m.get("ContactId")) for m in self.members}
        takers: dict[str, set[str]] = {}
        for side, key, email, made in w.members:
            action = w.actions[key]
            if action.an_id not in takers and action.an_id:
                takers[action.an_id] = {t["person_id"] for t in self.an.participations(action.action_type,
                                                                                        action.an_id)}
            member = (action.sf_id, contact_of.get(email)) in pairs
            in_sf = email in deleted or (key, email) in w.removed or member
            in_an = person_of.get(email) in takers.get(action.an_id or "", set())
            if (key, email) in w.removed and member and not self._taken_again(key, email):
                self.findings.diverged.append(f"{email} was removed from Campaign {action.sf_id} ({key}) in "
                                              "Salesforce after it synced, and the sync added them back")
            if not (in_sf and in_an):
                taken = next(e.at for e in w.log if e.kind == "take_action" and e.detail.get("id") == made)
                self._missing(f"{email} took {key} in {side}: Salesforce member {in_sf}, Action Network taker "
                              f"{in_an}", made, action.an_id, action.sf_id, contact_of.get(email), person_of.get(email),
                              unsubscribed=self._unsubscribed(email, taken))
        opportunities = {o.get(rules.EXTERNAL_ID_FIELD): o for o in self.opportunities}
        roles = {(r.get("OpportunityId"), r.get("ContactId")) for r in self.roles}
        opportunity_ids = {o.get("Id"): o for o in self.opportunities}
        for d in w.donations.values():
            if d.origin == AN:
                opp = opportunities.get(d.an_id)
                ok = (opp is not None and float(opp.get("Amount") or 0) == float(d.amount)
                      and (d.donor in deleted or (opp.get("Id"), contact_of.get(d.donor)) in roles))
            else:
                found = self.an.find_donation(f"salesforce:{d.sf_id}")
                ok = found is not None and found["person_id"] == person_of.get(d.donor) and \
                    float(found["amount"]) == float(d.amount)
            if d.sf_changed:  # the Opportunity edited or deleted after it synced: Action Network keeps the donation
                opp = opportunities.get(d.an_id) if d.origin == AN else opportunity_ids.get(d.sf_id)
                kept = d.origin == AN or ok
                undone = opp is not None if d.sf_changed == "deleted" else (
                    opp is None or float(opp.get("Amount") or 0) != float(d.sf_amount or 0))
                if not kept or undone:
                    self.findings.diverged.append(
                        f"donation {d.key} of {d.donor} ({d.amount}): its Opportunity was {d.sf_changed} in Salesforce"
                        f" after it synced; the Action Network donation {'stayed' if kept else 'did not stay'}, and "
                        f"the sync {'undid' if undone else 'kept'} the edit (Opportunity now {opp and opp.get('Amount')})")
                continue
            if not ok:
                given = next(e.at for e in w.log if e.kind == "donate" and e.key == d.key)
                self._missing(f"donation {d.key} of {d.donor} ({d.amount}) did not reach the other side",
                              d.an_id, d.sf_id, contact_of.get(d.donor), person_of.get(d.donor),
                              unsubscribed=self._unsubscribed(d.donor, given))

    def _taken_again(self, key: str, email: str) -> bool:
        """Whether ``email`` took action ``key`` again after being removed from its Campaign."""
        removed = max(e.at for e in self.world.log if e.kind == "remove_member" and e.key == key
                      and e.detail.get("email") == email)
        return any(e.kind == "take_action" and e.key == key and e.detail.get("email") == email and e.at > removed
                   for e in self.world.log)

    def _unsubscribed(self, email: str, since: float) -> bool:
        """Whether the person was unsubscribed, on either side, after ``since``."""
        return any(e.kind == "unsubscribe" and e.key == email and e.at >= since for e in self.world.log)

    def convergence(self) -> None:
        people = {p["an_id"]: p for p in self.people}
        contacts = {c.get("Id"): c for c in self.contacts}
        for an_id, sf_id in self.links.items():
            an_p, sf_c = people.get(an_id), contacts.get(sf_id)
            if an_p is None or sf_c is None:
                self.findings.diverged.append(f"link {an_id} <-> {sf_id}: a side is gone")
                continue
            diffs = [name for name, (_, sf_field) in FIELDS.items()
                     if not _same(in_salesforce(name, rules.sf_last_name(an_p["family_name"], an_p["email"])
                                                if name == "last_name" else an_value(an_p, name)), sf_c.get(sf_field))]
            if rules.email_key(an_p["email"]) != rules.email_key(sf_c.get("Email")):
                diffs.append("email")
            if (an_p["email_status"] == "subscribed") != (sf_id in self.subscribers):
                diffs.append("subscription")
            if diffs:
                sides = {d: (an_value(an_p, d), sf_c.get(FIELDS[d][1])) if d in FIELDS else (an_p.get(d), "-")
                         for d in diffs}
                self.findings.diverged.append(f"{an_p['email']} ({an_id} <-> {sf_id}): " + ", ".join(
                    f"{d}: {a!r} vs {s!r}" for d, (a, s) in sides.items()))
