"""The sync's rules, from Action Network's description of its Salesforce sync, in one place.

- People are matched by email: trimmed and case-folded. A missing or malformed email never
  crosses either way.
- Synced fields: those declared in ``synced`` (first and last name, email, street, city, state,
  ZIP), and configured custom fields (Salesforce "Text Area (Long)" fields whose name matches the
  Action Network one).
- An activist without a last name gets the email as the Contact's LastName.
- Without a ZIP, no postal code is sent.
- Subscribed in Action Network ⇔ member of the "Action Network Subscribers" campaign.
"""

from __future__ import annotations

import json
import re
from typing import Any

from an_sf_sync import synced

EMAIL_MAX_LENGTH = synced.email_field().sf_length  # Salesforce's Email field
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")

# Master records the sync creates on first run (remembered by id afterwards).
SUBSCRIBERS_CAMPAIGN = "Action Network Subscribers"
DONATIONS_ACCOUNT = "Action Network Donations"
USERS_FORM = "Salesforce Users"
DONATIONS_PAGE = "Salesforce Donations"
MASTER_ORIGIN = "Salesforce"  # origin_system of the masters the sync creates in Action Network
DONOR_ROLE = "Donor"  # the Contact Role naming an Opportunity's donor
# Custom fields the sync needs in Salesforce (external ids make every write an idempotent upsert).
EXTERNAL_ID_FIELD = "Action_Network_ID__c"
RECURRING_FIELD = "Action_Network_Recurring__c"

SPAM_STATUSES = frozenset({"spam complaint", "previous spam complaint"})


def email_key(email: Any) -> str | None:
    """The match key of a valid email (trimmed, case-folded); None for a missing or malformed one."""
    if not isinstance(email, str):
        return None
    email = email.strip()
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.match(email):
        return None
    return email.casefold()


def email_problem(email: Any) -> tuple[str, str] | None:
    """Why an email cannot be synced, as (reason code, message for a CRM admin); None when it can."""
    if not isinstance(email, str) or not email.strip():
        return "MISSING_EMAIL", "has no email address, so it cannot be matched or synced; add one to sync it"
    if len(email.strip()) > EMAIL_MAX_LENGTH:
        return ("EMAIL_TOO_LONG", f"has an email address longer than {EMAIL_MAX_LENGTH} characters, "
                "which Salesforce cannot store; shorten it to sync this record")
    if email_key(email) is None:
        return ("MALFORMED_EMAIL", f"has a malformed email address ({email.strip()!r}), so it cannot be "
                "matched or synced; correct it to sync this record")
    return None


def is_subscribed(email_status: Any) -> bool:
    return email_status == "subscribed"


def text_value(value: Any) -> str | None:
    """A field value as the text both sides store; empty text is no value."""
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if text.strip() else None


def may_not_fit(value: Any, length: int) -> bool:
    """Whether ``value`` is text that may be longer than a Salesforce field of ``length`` UTF-16 code
    units: text of at most half as many characters always fits, so most values skip ``fit``."""
    return isinstance(value, str) and len(value) > length // 2


def fit(value: Any, length: int | None) -> Any:
    """Text cut to a Salesforce field's ``length``, which counts UTF-16 code units (as Java does),
    on a character boundary: an emoji is never split in half. Other values pass through."""
    if not length or not may_not_fit(value, length):
        return value
    units = 0
    for i, char in enumerate(value):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > length:
            return value[:i].rstrip()
    return value


def sf_last_name(last_name: str | None, email: str | None) -> str | None:
    """Salesforce requires a LastName: an activist without one gets the email address."""
    return last_name or email


def custom_field_problem(name: str) -> str | None:
    """Why a configured custom field name cannot be synced, in words for an admin; None if it can."""
    if not name or not name.strip():
        return "an empty custom field name was configured"
    if " " in name:
        return (f"custom field {name!r} has a space in its name; Salesforce field names cannot contain "
                "spaces, so it cannot be synced. Rename it in Action Network (e.g. "
                f"{name.replace(' ', '_')!r}) or remove it from the an_sf_sync_custom_fields variable")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or "__" in name or name.endswith("_"):
        return (f"custom field {name!r} cannot be a Salesforce field name (letters, digits and single "
                "underscores, starting with a letter); rename it or remove it from the variable")
    return None
