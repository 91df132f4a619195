"""The Subscribers campaign deleted in Salesforce: no one is unsubscribed, and the campaign created
again in its place is filled with everyone subscribed.

Removing a Contact from the campaign unsubscribes the activist; deleting the campaign deletes every
membership with it, which is no such decision (and unsubscribing a whole list cannot be undone).
Those deletions are set aside, the next run's setup check creates the campaign again
(``setup.ensure_masters``), and the memberships it lacks are added by the contacts load: the
mirror (``sync.sf_subscribers``) keeps such a Contact subscribed with no membership (``member_id``
NULL) until then, so nothing reads as an unsubscribe in between.
"""

from __future__ import annotations

import psycopg

from an_sf_sync.plan import Action, Direction, Obj, Step
from an_sf_sync.staging.store import scalar


def set_aside_deletion(conn: psycopg.Connection, run_id: str, campaign: str | None) -> str | None:
    """If the run staged the Subscribers ``campaign`` as deleted, drop the run's staged deletions of
    its memberships (they went with it) and return it; None when it was not deleted."""
    if not campaign or not scalar(conn, "SELECT EXISTS (SELECT 1 FROM staging.sf_campaigns WHERE run_id = %s"
                                        " AND sf_id = %s AND is_deleted)", (run_id, campaign)):
        return None
    conn.execute("DELETE FROM staging.sf_campaign_members WHERE run_id = %s AND campaign_id = %s AND is_deleted",
                 (run_id, campaign))
    return campaign


def await_new_campaign(conn: psycopg.Connection) -> int:
    """The campaign was created again: every member of the old one waits to be added to it."""
    return conn.execute("UPDATE sync.sf_subscribers SET member_id = NULL WHERE member_id IS NOT NULL").rowcount


def plan_refill(conn: psycopg.Connection, run_id: str, after: int, pairs_after: int) -> int:
    """Plan adding to the Subscribers campaign each synced, subscribed Contact that awaits it and that
    this run's plan does not subscribe or unsubscribe already; rows numbered on from plan row ``after``
    and pair ``pairs_after``. Returns how many."""
    return conn.execute(
        "INSERT INTO staging.plan (run_id, step, seq, pair_id, object, direction, action, an_id, sf_id)"
        " SELECT %(run)s, %(step)s, %(after)s + n, %(pairs)s + n, %(object)s, %(to_sf)s, %(subscribe)s, an_id, sf_id"
        " FROM (SELECT l.an_id, l.sf_id, row_number() OVER (ORDER BY l.sf_id) AS n FROM sync.sf_subscribers s"
        "  JOIN sync.contact_links l ON l.sf_id = s.contact_id AND l.state = 'active'"
        "  WHERE s.member_id IS NULL AND (l.base->>'subscribed')::boolean AND NOT EXISTS (SELECT 1 FROM staging.plan p"
        "   WHERE p.run_id = %(run)s AND p.step = %(step)s AND p.sf_id = l.sf_id AND p.direction = %(to_sf)s"
        "   AND p.action IN (%(subscribe)s, %(unsubscribe)s))) waiting",
        {"run": run_id, "step": Step.CONTACTS, "after": after, "pairs": pairs_after, "object": Obj.CONTACT,
         "to_sf": Direction.TO_SALESFORCE, "subscribe": Action.SUBSCRIBE, "unsubscribe": Action.UNSUBSCRIBE}).rowcount
