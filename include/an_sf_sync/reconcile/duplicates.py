"""Which Salesforce contact syncs when several share an email.

Action Network keys people by email, so only one Contact per address can be synced. The rule is
deterministic, so every run (and every rerun) picks the same winner:

- a contact already linked to an activist always keeps winning;
- otherwise ``oldest`` (the default) picks the earliest created contact, ``newest`` the latest
  created, ``last_modified`` the most recently edited; ties go to the smallest Id.

The others are reported and never synced. Choose the rule with the Airflow variable
``an_sf_sync_duplicate_rule``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from an_sf_sync.plan import Reject, reject

RULES = {
    "oldest": (["created", "sf_id"], [True, True]),
    "newest": (["created", "sf_id"], [False, True]),
    "last_modified": (["modified", "sf_id"], [False, True]),
}
DEFAULT_RULE = "oldest"


def pick_winners(candidates: pd.DataFrame, linked: pd.DataFrame, rule: str = DEFAULT_RULE) -> pd.DataFrame:
    """One row per losing contact: ``sf_id, email_key, winner_sf_id, rule``.

    ``candidates``: unlinked contacts (``sf_id, email_key, created, modified``); ``linked``: contacts
    already linked (``sf_id, email_key``), which win their email outright.
    """
    if rule not in RULES:
        raise ValueError(f"unknown duplicate rule {rule!r}; choose one of {', '.join(RULES)}")
    columns = ["sf_id", "email_key", "winner_sf_id", "rule"]
    pool = candidates.dropna(subset=["email_key"]).drop_duplicates("sf_id")
    holders = linked.dropna(subset=["email_key"]).drop_duplicates("email_key").set_index("email_key")["sf_id"]
    # only emails held twice can have a loser: the rest are most of a big org, not worth sorting
    pool = pool[pool["email_key"].duplicated(keep=False) | pool["email_key"].isin(holders.index)]
    if pool.empty:
        return pd.DataFrame(columns=columns)
    by, ascending = RULES[rule]
    ranked = pool.sort_values(by, ascending=ascending, na_position="last", kind="stable")
    first = ranked.drop_duplicates("email_key").set_index("email_key")["sf_id"]
    winner = first.copy()
    winner.update(holders[holders.index.isin(first.index)])
    losers = pool.assign(winner_sf_id=pool["email_key"].map(winner))
    losers = losers[losers["sf_id"] != losers["winner_sf_id"]]
    return losers.assign(rule=rule)[columns].reset_index(drop=True)


def duplicate_reject(loser: Any) -> Reject:
    """The report of one losing contact (a row of :func:`pick_winners`)."""
    return reject("salesforce", "contact", loser.sf_id, "DUPLICATE_EMAIL",
                  f"Contact {loser.sf_id} shares the email {loser.email_key!r} with Contact {loser.winner_sf_id}, "
                  f"which is the one synced (rule {loser.rule!r}); merge the duplicates in Salesforce to sync this one.")
