"""Reject reason codes in a CRM admin's words: what happened, what to do, and whether it is a problem.

Some rules of the sync simply put a record out of its scope, by design (a Contact outside the
Subscribers campaign, an upload, a Closed Lost Opportunity...): those are counted as "not in scope",
apart from the rejects someone has to fix. A few codes are notes about a repair the sync made
itself (a value shortened, a LastName set back), resolved as they are written. Salesforce's own
error codes and Action Network's HTTP errors are problems; a code this catalog does not know yet is
a problem too, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

PROBLEM, NOT_IN_SCOPE, NOTE = "problem", "not_in_scope", "note"
KIND_LABELS = {PROBLEM: "Problem", NOT_IN_SCOPE: "Not in scope", NOTE: "Note (nothing to do)"}


@dataclass(frozen=True)
class Reason:
    label: str  # what happened, in plain words
    action: str  # what to do about it
    kind: str = PROBLEM  # NOT_IN_SCOPE: outside the sync by design; NOTE: a repair the sync made


def _out(label: str, action: str) -> Reason:
    return Reason(label, action, NOT_IN_SCOPE)


CATALOG: dict[str, Reason] = {
    # -- outside the sync by design ---------------------------------------------------------------
    "NOT_IN_SUBSCRIBERS_CAMPAIGN": _out(
        "Contact is not in the Subscribers campaign",
        "Nothing, unless it belongs on your list: add it to the 'Action Network Subscribers' campaign."),
    "ACTION_NOT_SYNCED": _out(
        "Action of a kind that is never synced (upload, ticketed event, event campaign)",
        "Nothing: Action Network's sync does not send these actions to Salesforce."),
    "DONOR_NOT_SUBSCRIBED": _out(
        "Opportunity's donor is not in the Subscribers campaign",
        "Nothing, unless the donation belongs in Action Network: add the donor to the Subscribers campaign, "
        "then edit the Opportunity."),
    "OPPORTUNITY_LOST": _out(
        "Opportunity is Closed Lost, so it is not a donation",
        "Nothing, unless it was won: close it as won to send it."),
    "NOT_A_CONTACT": _out(
        "Campaign member is a Lead, not a Contact",
        "Nothing, unless the person belongs in Action Network: convert the Lead to a Contact."),
    "CANNOT_JOIN_IN_SALESFORCE": _out(
        "Contact added in Salesforce to a fundraiser or letter campaign",
        "Nothing: these actions cannot be joined from Salesforce. Send a donation as an Opportunity instead."),
    "SPAM_COMPLAINT": _out(
        "Activist reported Action Network email as spam, so is never re-subscribed automatically",
        "Nothing: only the activist can subscribe again."),
    "DONATION_CHANGED_AFTER_SYNC": _out(
        "Donation changed in Action Network after it was synced",
        "Nothing: synced donations are never edited. Edit the Opportunity by hand if it must change."),
    "OPPORTUNITY_CHANGED_AFTER_SYNC": _out(
        "Opportunity changed in Salesforce after it was synced",
        "Nothing: synced donations are never edited in Action Network."),
    "OPPORTUNITY_DELETED_AFTER_SYNC": _out(
        "Opportunity deleted in Salesforce after it was synced",
        "Nothing: the donation stays in Action Network, as in Action Network's own sync."),
    # -- repairs the sync made itself ---------------------------------------------------------------
    "VALUE_TRUNCATED": Reason("A value was shortened to fit its Salesforce field",
                              "Nothing: the full value stays in Action Network.", NOTE),
    "LAST_NAME_REPAIRED": Reason("A Contact's LastName, set to an email, was set back",
                                 "Nothing.", NOTE),
    "CONTACT_MERGED": Reason("Contact was merged into another in Salesforce; its activist syncs with the one kept",
                             "Nothing.", NOTE),
    "CONTACT_REPLACED": Reason("Activist whose Contact was deleted syncs with another Contact holding their email",
                               "Nothing.", NOTE),
    "SUBSCRIBERS_CAMPAIGN_DELETED": Reason(
        "The Subscribers campaign was deleted in Salesforce; nobody was unsubscribed",
        "Nothing: the next run creates it again and adds every subscribed Contact.", NOTE),
    # -- problems to fix ----------------------------------------------------------------------------
    "MISSING_EMAIL": Reason("Record has no email address", "Add an email address to sync it."),
    "MALFORMED_EMAIL": Reason("Email address is malformed", "Correct the email address to sync it."),
    "EMAIL_TOO_LONG": Reason("Email address is too long for Salesforce", "Shorten the email address."),
    "DUPLICATE_EMAIL": Reason("Another Contact has the same email", "Merge the duplicate Contacts in Salesforce."),
    "EMAIL_ALREADY_LINKED": Reason("Two activists share one email", "Merge the activists in Action Network."),
    "SECONDARY_EMAIL": Reason("Contact's email is another (not the primary) address of an activist",
                              "Give the Contact the activist's primary email, or merge it with the activist's "
                              "Contact."),
    "EMAIL_OF_SYNCED_ACTIVIST": Reason("Contact's email is the address of an activist synced with another Contact",
                                       "Merge the two Contacts in Salesforce."),
    "EMAIL_OF_SYNCED_CONTACT": Reason("Activist's email is the address of a Contact synced with another activist",
                                      "Correct that Contact's email in Salesforce, or merge the two activists."),
    "EMAIL_HELD_BY_ANOTHER_CONTACT": Reason("Activist's new email is already another Contact's",
                                            "Merge the two Contacts in Salesforce; the next run then sends it."),
    "EMAIL_CHANGED_IN_SALESFORCE": Reason(
        "Contact's email was changed in Salesforce, which stops its sync",
        "Change the email back in Salesforce, or change it in Action Network instead."),
    "SYNC_STOPPED": Reason("Change not sent: this pair's sync is stopped", "See the pair's earlier reject."),
    "CONTACT_DELETED_IN_SALESFORCE": Reason("Contact was deleted in Salesforce",
                                            "Restore the Contact from the Recycle Bin (or create one with the "
                                            "activist's email) to resume its sync."),
    "CONTACT_MERGED_INTO_SYNCED_CONTACT": Reason(
        "Contact was merged into a Contact synced with another activist, which stops its sync",
        "If they are one person, merge the two activists in Action Network."),
    "CAMPAIGN_DELETED_IN_SALESFORCE": Reason("Campaign was deleted in Salesforce",
                                             "Restore the Campaign from the Recycle Bin to resume its sync; the "
                                             "takers meanwhile are added then."),
    "NO_PERSON": Reason("Action taken without an activist", "Nothing can be synced; check the action."),
    "PERSON_NOT_SYNCED": Reason("Activist is not synced with a Contact",
                                "Fix the activist's own reject (often its email)."),
    "CONTACT_NOT_SYNCED": Reason("Contact is not synced with an activist",
                                 "Fix the Contact's own reject (often its email)."),
    "DONOR_NOT_SYNCED": Reason("Donor is not synced", "Add the donor to the Subscribers campaign with a valid email."),
    "NO_CONTACT_ROLE": Reason("Opportunity has no donor in its Contact Roles", "Add the donor in Contact Roles."),
    "OPPORTUNITY_WITHOUT_AMOUNT": Reason("Opportunity has no Amount", "Fill in the Amount."),
    "BLOCKED": Reason("Waits on a record that could not be written", "Fix the other record's reject."),
    "WRITE_FAILED": Reason("Another write of this pair failed", "Fix the pair's other reject; the next run retries."),
    "INVALID_EMAIL_ADDRESS": Reason("Salesforce refused the email address", "Correct it in Action Network."),
    "STRING_TOO_LONG": Reason("A value is too long for its Salesforce field",
                              "Shorten the value, or lengthen the Salesforce field."),
    "REQUIRED_FIELD_MISSING": Reason("A field Salesforce requires is empty",
                                     "Fill it in, or relax the requirement in Salesforce."),
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": Reason("A Salesforce validation rule refused the record",
                                                "Adjust the record or the rule."),
    "DUPLICATES_DETECTED": Reason("A Salesforce duplicate rule blocked the record",
                                  "Merge the duplicates, or let the sync's user save duplicates."),
    "DUPLICATE_VALUE": Reason("Another record already holds this unique value", "Merge the records in Salesforce."),
    "ENTITY_IS_DELETED": Reason("Record was deleted in Salesforce", "Restore it from the Recycle Bin."),
    "INSUFFICIENT_ACCESS_OR_READONLY": Reason("The sync's Salesforce user may not edit this record",
                                              "Give the sync's user edit access to it."),
}
UNKNOWN = Reason("Refused by the other system", "Read the message; the next run retries the record if it changes.")
ACTIONNETWORK = Reason("Action Network refused the record", "Check the activist in Action Network.")

OUT_OF_SCOPE = frozenset(code for code, reason in CATALOG.items() if reason.kind == NOT_IN_SCOPE)
NOT_PROBLEMS = frozenset(code for code, reason in CATALOG.items() if reason.kind != PROBLEM)
NOTES = frozenset(code for code, reason in CATALOG.items() if reason.kind == NOTE)


def reason(code: str) -> Reason:
    if code in CATALOG:
        return CATALOG[code]
    return ACTIONNETWORK if code.startswith("ACTIONNETWORK_") else UNKNOWN
