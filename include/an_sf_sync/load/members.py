"""Campaign memberships, added so that every one added has its member Id.

Inserting a membership the Contact already has answers ``DUPLICATE_VALUE`` with no Id: that is what
a rerun meets after an insert whose answer was lost. The membership exists, so the insert is done;
its Id is read back (one query per 200 Contacts, only when that happens), because the sync keeps it
to remove the membership later and to know who is subscribed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from an_sf_sync.salesforce.bulk import WriteResult

if TYPE_CHECKING:
    from an_sf_sync.salesforce.client import SalesforceClient

ALREADY_A_MEMBER = "DUPLICATE_VALUE"
QUERY_CHUNK = 200  # Contacts per lookup: keeps the SOQL well under the URL length limit


def add_members(sf: SalesforceClient, rows: Sequence[Mapping[str, str]]) -> list[WriteResult]:
    """Insert ``{"CampaignId", "ContactId"}`` rows; one result per row, with the Id of a membership
    that already existed filled in."""
    results = sf.write("CampaignMember", list(rows), operation="insert")
    known = [(result, row) for result, row in zip(results, rows, strict=True)
             if not result.success and result.codes and set(result.codes) <= {ALREADY_A_MEMBER}]
    if known:
        found = _member_ids(sf, [(row["CampaignId"], row["ContactId"]) for _, row in known])
        for result, row in known:
            result.id = found.get((row["CampaignId"][:15], row["ContactId"][:15]))
    return results


def _member_ids(sf: SalesforceClient, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(Campaign, Contact) 15-character id pairs -> the membership's Id."""
    contacts = sorted({contact for _, contact in pairs})
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(contacts), QUERY_CHUNK):
        chunk = set(contacts[start:start + QUERY_CHUNK])
        campaigns = sorted({campaign for campaign, contact in pairs if contact in chunk})
        for records in sf.read("CampaignMember", ["Id", "CampaignId", "ContactId"],
                               where="CampaignId IN {campaigns} AND ContactId IN {contacts}",
                               params={"campaigns": campaigns, "contacts": sorted(chunk)}):
            for member in records:
                found[(member["CampaignId"][:15], member["ContactId"][:15])] = member["Id"]
    return found
