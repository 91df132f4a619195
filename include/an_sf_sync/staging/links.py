"""The links between the two orgs' records (``sync.contact_links``, ``action_links``, ``member_links``,
``donation_links``) and the Subscribers mirror, as the loads read and write them. Functions take the
caller's connection: what a load commits goes in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from an_sf_sync import rules
from an_sf_sync.plan import Action, Direction, Obj, Step
from an_sf_sync.staging.store import MANY, many

# -- people ---------------------------------------------------------------------------------------


def synced_contacts(conn: psycopg.Connection, an_ids: Sequence[str]) -> dict[str, str]:
    """Activist -> Contact, for the activists among ``an_ids`` whose pair is active."""
    return dict(conn.execute("SELECT an_id, sf_id FROM sync.contact_links WHERE state = 'active'"
                             " AND an_id = ANY(%s)", (list(an_ids),)).fetchall())


def synced_people(conn: psycopg.Connection, sf_ids: Sequence[str]) -> dict[str, str]:
    """Contact -> activist, for the Contacts among ``sf_ids`` whose pair is active."""
    return dict(conn.execute("SELECT sf_id, an_id FROM sync.contact_links WHERE state = 'active'"
                             " AND sf_id = ANY(%s)", (list(sf_ids),)).fetchall())


def linked_contacts(conn: psycopg.Connection, an_ids: Sequence[str]) -> dict[str, str]:
    """Activist -> Contact, for the activists among ``an_ids`` linked (active, or stopped) to a Contact
    that was not deleted."""
    return dict(conn.execute("SELECT an_id, sf_id FROM sync.contact_links WHERE an_id = ANY(%s)"
                             " AND state <> 'sf_deleted'", (list(an_ids),)).fetchall())


def stop_contacts(conn: psycopg.Connection, rows: Iterable[tuple[str, str | None, str, str | None]]) -> None:
    """(state, reason, run, activist): stop syncing these pairs."""
    with conn.cursor() as cur:
        cur.executemany("UPDATE sync.contact_links SET state = %s, stopped_reason = %s, updated_run = %s"
                        " WHERE an_id = %s", list(rows))


def move_contacts(conn: psycopg.Connection, rows: Iterable[tuple[str | None, str, str | None, str]]) -> None:
    """(Contact kept, run, activist, Contact merged): the pair follows its Contact into the one a merge
    in Salesforce kept, which is no longer a duplicate of it."""
    rows = list(rows)
    with conn.cursor() as cur:
        cur.executemany("UPDATE sync.contact_links SET sf_id = %s, updated_run = %s WHERE an_id = %s AND sf_id = %s",
                        rows)
        cur.executemany("DELETE FROM sync.duplicates WHERE sf_id = %s", [(row[0],) for row in rows])


def link_contacts(conn: psycopg.Connection, rows: Iterable[tuple[str, str, str, str, str, str]]) -> None:
    """(activist, Contact, email key, base values as JSON, linked run, updated run): link, or resume."""
    rows = list(rows)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO sync.contact_links (an_id, sf_id, email_key, state, base, linked_run, updated_run)"
            " VALUES (%s, %s, %s, 'active', %s, %s, %s) ON CONFLICT (an_id) DO UPDATE SET"
            " sf_id = EXCLUDED.sf_id, email_key = EXCLUDED.email_key, state = 'active',"
            " base = EXCLUDED.base, updated_run = EXCLUDED.updated_run, stopped_reason = NULL", rows)
    # a duplicate of a Contact since deleted, synced now, is a duplicate no more (one statement: a first
    # sync links a million); a first match that waited is a link now
    conn.execute("DELETE FROM sync.duplicates WHERE sf_id = ANY(%s)", ([row[1] for row in rows],))
    conn.execute("DELETE FROM sync.first_matches WHERE an_id = ANY(%s)", ([row[0] for row in rows],))


def note_synced(conn: psycopg.Connection, pairs: dict[tuple[str, str], dict[str, Any]]) -> None:
    """(activist, Contact) -> values both sides of an active pair hold since a write went through:
    they are its base at once, in the transaction that records the write. The pair's link is
    committed only once all of its writes succeeded; a base left behind meanwhile would take the
    sync's own write, read back, for a newer edit, and let it win a conflict against a real one."""
    if not pairs:
        return
    conn.execute(
        "UPDATE sync.contact_links l SET base = l.base || v.values, email_key = coalesce(v.email_key, l.email_key)"
        " FROM (SELECT * FROM unnest(%s::text[], %s::text[], %s::jsonb[], %s::text[])) v (an_id, sf_id, values,"
        " email_key) WHERE l.an_id = v.an_id AND l.sf_id = v.sf_id AND l.state = 'active'",
        ([a for a, _ in pairs], [s for _, s in pairs], [json.dumps(v) for v in pairs.values()],
         [rules.email_key(v["email"]) if "email" in v else None for v in pairs.values()]))


def note_agreed(conn: psycopg.Connection, run_id: str, status: str) -> int:
    """Make what both sides of a pair held alike when the run read them (``agreed`` in its plan's link
    row, see ``reconcile.contacts``) its base, for the pairs whose link rows have ``status``: deferred
    by the write budget, or failed. Such a value is no change of either side any more (a write of the
    sync's that went through before its outcome was recorded, or the same edit made on both sides);
    a base left behind would take it for one, newer than a real edit made meanwhile. Returns how many."""
    return conn.execute(
        "UPDATE sync.contact_links l SET base = l.base || (p.payload->'agreed') FROM staging.plan p"
        " WHERE p.run_id = %s AND p.step = %s AND p.action = %s AND p.status = %s AND p.payload ? 'agreed'"
        " AND l.an_id = p.an_id AND l.sf_id = p.sf_id AND l.state = 'active'",
        (run_id, Step.CONTACTS, Action.LINK, status)).rowcount


def note_first_matches(conn: psycopg.Connection, run_id: str, status: str) -> int:
    """Keep what the run decided for the pairs it matched by email for the first time whose link rows
    have ``status``: deferred by the write budget, or failed (``held`` in the link row, see
    ``reconcile.contacts``). The later run that syncs such a pair then tells what either side edited
    meanwhile from what the match waited to write; matched afresh, the later record would win every
    field, an edit of the other side lost to a value it had replaced. A side a failed pair did write
    holds the match's values, which differ from what it held: taken for its edit, each is the match's
    own value anyway. Returns how many."""
    return conn.execute(
        "INSERT INTO sync.first_matches (an_id, sf_id, decided, held, run_id)"
        " SELECT an_id, sf_id, payload->'base', payload->'held', run_id FROM staging.plan"
        " WHERE run_id = %s AND step = %s AND action = %s AND status = %s AND payload ? 'held'"
        " ON CONFLICT (an_id) DO UPDATE SET sf_id = EXCLUDED.sf_id, decided = EXCLUDED.decided,"
        " held = EXCLUDED.held, run_id = EXCLUDED.run_id", (run_id, Step.CONTACTS, Action.LINK, status)).rowcount


# -- the Subscribers campaign ---------------------------------------------------------------------

def subscribed(conn: psycopg.Connection, contact_ids: Sequence[str]) -> set[str]:
    """The Contacts among ``contact_ids`` in the Subscribers campaign."""
    return {r[0] for r in conn.execute(f"SELECT contact_id FROM sync.sf_subscribers WHERE contact_id IN {MANY}",
                                       (many(contact_ids),))}


def subscriber_members(conn: psycopg.Connection, contact_ids: Sequence[str]) -> dict[str, str]:
    """Contact -> its Subscribers membership's Id (none while it awaits a campaign created again)."""
    return dict(conn.execute("SELECT contact_id, member_id FROM sync.sf_subscribers WHERE contact_id = ANY(%s)"
                             " AND member_id IS NOT NULL", (list(contact_ids),)).fetchall())


def note_subscribers(conn: psycopg.Connection, added: Iterable[tuple[str, str]], removed: Iterable[str]) -> None:
    """Keep the mirror in step with memberships a load added ((Contact, member Id)) or removed."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sync.sf_subscribers (contact_id, member_id) VALUES (%s, %s)"
                        " ON CONFLICT (contact_id) DO UPDATE SET member_id = EXCLUDED.member_id", list(added))
        cur.executemany("DELETE FROM sync.sf_subscribers WHERE contact_id = %s", [(c,) for c in removed])


# -- actions and Campaigns ------------------------------------------------------------------------

def actions_of_campaigns(conn: psycopg.Connection, sf_ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    """Campaign -> (action, action type, link state)."""
    return {s: (a, t, st) for s, a, t, st in conn.execute(
        "SELECT sf_id, an_id, an_type, state FROM sync.action_links WHERE sf_id = ANY(%s)", (list(sf_ids),))}


def campaigns_of_actions(conn: psycopg.Connection, an_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Action -> (Campaign, link state)."""
    return {a: (s, st) for a, s, st in conn.execute(
        "SELECT an_id, sf_id, state FROM sync.action_links WHERE an_id = ANY(%s)", (list(an_ids),))}


def link_actions(conn: psycopg.Connection, rows: Iterable[tuple[str, str, str, str, str, str | None]]) -> None:
    """(action, action type, Campaign, origin, run, title): link, unless the action is linked already."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sync.action_links (an_id, an_type, sf_id, origin, state, linked_run, title)"
                        " VALUES (%s, %s, %s, %s, 'active', %s, %s) ON CONFLICT DO NOTHING", list(rows))


def set_action_states(conn: psycopg.Connection, rows: Iterable[tuple[str, str]]) -> None:
    """(state, action): retire a link whose Campaign was deleted, or resume a restored one."""
    with conn.cursor() as cur:
        cur.executemany("UPDATE sync.action_links SET state = %s WHERE an_id = %s", list(rows))


def rename_actions(conn: psycopg.Connection, rows: Iterable[tuple[str, str]]) -> None:
    """(title, action): the Campaign name last written."""
    with conn.cursor() as cur:
        cur.executemany("UPDATE sync.action_links SET title = %s WHERE an_id = %s", list(rows))


def linked_members(conn: psycopg.Connection, actions: Sequence[str], people: Sequence[str]) -> set[tuple[str, str]]:
    """The (action, activist) pairs among ``actions`` × ``people`` already linked to a membership."""
    return {(a, p) for a, p in conn.execute("SELECT an_action_id, an_person_id FROM sync.member_links"
                                            " WHERE an_action_id = ANY(%s) AND an_person_id = ANY(%s)",
                                            (list(actions), list(people)))}


def link_members(conn: psycopg.Connection, rows: Iterable[tuple[str, str, str | None, str, str]]) -> None:
    """(action, activist, membership Id, origin, run): link, unless linked already."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sync.member_links (an_action_id, an_person_id, sf_member_id, origin, linked_run)"
                        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", list(rows))


# -- donations ------------------------------------------------------------------------------------

def link_donations(conn: psycopg.Connection, run_id: str, step: Step) -> None:
    """Link every donation and Opportunity whose create in ``run_id``'s plan is done."""
    conn.execute(
        "INSERT INTO sync.donation_links (an_id, sf_id, origin, linked_run)"
        " SELECT CASE WHEN direction = %(to_sf)s THEN an_id ELSE result_id END,"
        " CASE WHEN direction = %(to_sf)s THEN result_id ELSE sf_id END,"
        " CASE WHEN direction = %(to_sf)s THEN 'actionnetwork' ELSE 'salesforce' END, %(run)s"
        " FROM staging.plan WHERE run_id = %(run)s AND step = %(step)s AND action = %(create)s"
        " AND status = 'done' AND object IN (%(opportunity)s, %(donation)s) ON CONFLICT DO NOTHING",
        {"to_sf": Direction.TO_SALESFORCE, "run": run_id, "step": step, "create": Action.CREATE,
         "opportunity": Obj.OPPORTUNITY, "donation": Obj.DONATION})


def touch_donations(conn: psycopg.Connection, sf_ids: Sequence[str]) -> None:
    """Our own stamp on these Opportunities is synced as of now."""
    conn.execute("UPDATE sync.donation_links SET linked_at = now() WHERE sf_id = ANY(%s)", (list(sf_ids),))
