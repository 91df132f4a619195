"""What reconcile reads: the run's staged records and the sync state they concern, as frames.

Reconcile's decisions are pure functions of these frames (see ``reconcile``); every query behind
them is here. Contacts are read a partition at a time (``partition_contacts``), so reconcile's
memory is bounded however large the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import psycopg
from psycopg import sql

from an_sf_sync import rules, synced
from an_sf_sync.plan import Step
from an_sf_sync.staging.store import MANY, frame, many, scalar
from an_sf_sync.synced import PersonField

# -- contacts ---------------------------------------------------------------------------------------


def fill_email_keys(conn: psycopg.Connection, run_id: str) -> int:
    """Derive the email keys the run's staged people lack: extract derives them as it stages, but a
    record re-staged from a queue written before keys were staged has none. Returns how many."""
    email = synced.email_field()
    filled = 0
    for table, id_column, column in (("an_people", "an_id", email.an_column), ("sf_contacts", "sf_id", email.sf_column)):
        missing = conn.execute(sql.SQL("SELECT {}, {} FROM {} WHERE run_id = %s AND email_key IS NULL AND {} IS NOT NULL")
                               .format(sql.Identifier(id_column), sql.Identifier(column),
                                       sql.Identifier("staging", table), sql.Identifier(column)), (run_id,)).fetchall()
        keys = [(key, run_id, rid) for rid, address in missing if (key := rules.email_key(address))]
        with conn.cursor() as cur:
            cur.executemany(sql.SQL("UPDATE {} SET email_key = %s WHERE run_id = %s AND {} = %s").format(
                sql.Identifier("staging", table), sql.Identifier(id_column)), keys)
        filled += len(keys)
    return filled


# side -> (its staging table, id column, the temp table holding its records in partition order)
SIDES = {"an": ("an_people", "an_id", "part_people"), "sf": ("sf_contacts", "sf_id", "part_contacts")}


def partition_contacts(conn: psycopg.Connection, run_id: str, subscribers: str | None, rows_per_part: int) -> int:
    """Split the run's staged activists and Contacts into partitions reconciled one at a time; returns
    how many (numbered from 0).

    Records that can concern each other share an email key, or a link: a linked record goes by its
    link's key, an unlinked one by its own. A linked record whose email is no longer its link's
    (an email change) joins partition 0 together with every record holding either key; hashing the
    key places everything else. So does a waiting first match whose sides hold different addresses
    now. Lookups by key (who else holds an email) span the whole org anyway.

    The temp table ``contact_parts`` places every record, marking the Contacts whose Subscribers
    membership was staged (``member``) and those staged only for it (``only_member``). The staged
    records are copied into ``part_people`` and ``part_contacts`` in partition order, the Contacts
    with their Subscribers flags, so reading a partition reads its own rows only.
    """
    conn.execute("DROP TABLE IF EXISTS pg_temp.contact_parts, pg_temp.part_people, pg_temp.part_contacts")
    # about how many records (Contacts staged for their membership only are few): it sizes the partitions
    staged = int(scalar(conn, "SELECT (SELECT count(*) FROM staging.an_people WHERE run_id = %(run)s)"
                              " + greatest((SELECT count(*) FROM staging.sf_contacts WHERE run_id = %(run)s),"
                              "  (SELECT count(*) FROM staging.sf_campaign_members WHERE run_id = %(run)s"
                              "   AND campaign_id = %(campaign)s))", {"run": run_id, "campaign": subscribers}))
    parts = math.ceil(staged / rows_per_part)
    # Each record's partition straight away (one pass); those of the few records that cross keys
    # are set to 0 below.
    part = sql.SQL("0") if parts <= 1 else sql.SQL(
        "(1 + abs(hashtext(coalesce(l.email_key, m.email_key, x.id))::bigint) %% {})::int").format(sql.Literal(parts))
    conn.execute(sql.SQL(
        "CREATE TEMP TABLE contact_parts AS SELECT x.side, x.id, l.email_key AS link_key, m.email_key AS cur_key,"
        " {part} AS part, x.member, x.only_member FROM"
        " (SELECT 'an' AS side, an_id AS id, false AS member, false AS only_member FROM staging.an_people"
        "  WHERE run_id = %(run)s) x LEFT JOIN sync.contact_links l ON l.an_id = x.id"
        " LEFT JOIN sync.an_people m ON m.an_id = x.id"
        " UNION ALL SELECT x.side, x.id, l.email_key, m.email_key, {part}, x.member, x.only_member FROM"
        " (SELECT 'sf' AS side, id, bool_or(member) AS member, bool_and(member) AS only_member FROM"
        "  (SELECT sf_id AS id, false AS member FROM staging.sf_contacts WHERE run_id = %(run)s"
        "   UNION ALL SELECT contact_id, true FROM staging.sf_campaign_members WHERE run_id = %(run)s"
        "   AND campaign_id = %(campaign)s AND contact_id IS NOT NULL) staged GROUP BY id) x"
        " LEFT JOIN sync.contact_links l ON l.sf_id = x.id LEFT JOIN sync.sf_contacts m ON m.sf_id = x.id").format(
        part=part), {"run": run_id, "campaign": subscribers})
    if parts > 1:
        conn.execute("CREATE TEMP TABLE cross_keys ON COMMIT DROP AS SELECT DISTINCT k FROM contact_parts,"
                     " LATERAL (VALUES (link_key), (cur_key)) v (k)"
                     " WHERE link_key IS NOT NULL AND cur_key IS DISTINCT FROM link_key AND k IS NOT NULL")
        # A Contact merged into another and the one kept: the pair may move from one's key to the other's.
        conn.execute("INSERT INTO cross_keys SELECT k FROM contact_parts c, LATERAL (VALUES (link_key), (cur_key)) v (k)"
                     " WHERE c.side = 'sf' AND k IS NOT NULL AND c.id IN (SELECT unnest(ARRAY[sf_id, master_record_id])"
                     " FROM staging.sf_contacts WHERE run_id = %s AND master_record_id IS NOT NULL)", (run_id,))
        # A waiting first match whose sides hold different addresses now (one moved while it waited).
        for side, column in (("an", "an_id"), ("sf", "sf_id")):
            conn.execute(sql.SQL(
                "INSERT INTO cross_keys SELECT k FROM contact_parts c JOIN sync.first_matches f ON f.{} = c.id"
                " JOIN sync.an_people a ON a.an_id = f.an_id JOIN sync.sf_contacts m ON m.sf_id = f.sf_id,"
                " LATERAL (VALUES (a.email_key), (m.email_key)) v (k) WHERE c.side = %s"
                " AND a.email_key IS DISTINCT FROM m.email_key AND k IS NOT NULL").format(sql.Identifier(column)),
                (side,))
        conn.execute("UPDATE contact_parts SET part = 0 WHERE part <> 0 AND ((link_key IS NOT NULL AND"
                     " cur_key IS DISTINCT FROM link_key) OR link_key IN (SELECT k FROM cross_keys)"
                     " OR cur_key IN (SELECT k FROM cross_keys))")
    # the Contacts staged for their membership only, by partition (few: an index on ids would sort millions)
    conn.execute("CREATE INDEX ON contact_parts (part) WHERE only_member")
    # Fresh statistics, however few the records: the run's rows were just staged and are unknown to
    # the planner, which then joins them to contact_parts by scanning it once per row (an hour of
    # 10,000 changes a side at a million activists spent 20 s a side there).
    _analyze(conn, "contact_parts", "staging.an_people", "staging.sf_contacts", "staging.sf_campaign_members")
    flags = {"an": "", "sf": ", c.member AS subscription_changed, sub.contact_id IS NOT NULL AS subscribed"}
    subscribed = {"an": "", "sf": " LEFT JOIN sync.sf_subscribers sub ON sub.contact_id = c.id"}
    for side, (staged_table, id_column, table) in SIDES.items():
        conn.execute(sql.SQL(
            "CREATE TEMP TABLE {part} AS SELECT c.part{flags}, s.* FROM contact_parts c JOIN {staged} s"
            " ON s.run_id = %s AND s.{id} = c.id{subscribed} WHERE c.side = %s ORDER BY c.part").format(
            part=sql.Identifier(table), staged=sql.Identifier("staging", staged_table), id=sql.Identifier(id_column),
            flags=sql.SQL(flags[side]), subscribed=sql.SQL(subscribed[side])), (run_id, side))
        conn.execute(sql.SQL("CREATE INDEX ON {} (part)").format(sql.Identifier(table)))
    _analyze(conn, "part_people", "part_contacts")  # read a partition at a time
    return 1 if parts <= 1 else parts + 1


def _analyze(conn: psycopg.Connection, *tables: str) -> None:
    """Fresh statistics of the columns joined and filtered on only: the wide ones (JSON, names)
    would cost most of the time."""
    for table in tables:
        conn.execute(sql.SQL("ANALYZE {} ({})").format(sql.Identifier(*table.split(".")),
                                                       sql.SQL(", ").join(map(sql.Identifier, _ANALYZED[table]))))


_ANALYZED = {"contact_parts": ("side", "id", "part", "only_member"), "part_people": ("part", "an_id", "email_key"),
             "part_contacts": ("part", "sf_id", "email_key"), "staging.an_people": ("run_id", "an_id", "email_key"),
             "staging.sf_contacts": ("run_id", "sf_id", "email_key", "is_deleted"),
             "staging.sf_campaign_members": ("run_id", "sf_id", "campaign_id", "contact_id", "is_deleted")}


def _rows(side: str, part: int) -> sql.Composable:
    """Where a side's staged records of one partition are read from (see ``partition_contacts``)."""
    return sql.SQL("{} WHERE part = {}").format(sql.Identifier(SIDES[side][2]), sql.Literal(part))


def staged_people(conn: psycopg.Connection, fields: Sequence[PersonField], part: int,
                  custom: Sequence[str] = ()) -> pd.DataFrame:
    """The staged activists of one partition, fields by their names, and the ``custom`` fields as
    ``cf:<name>``."""
    return frame(conn, sql.SQL("SELECT an_id, email_status, {}, email_key{}, modified_date AS modified"
                               " FROM {}").format(_fields(fields, "an_column"),
                                                  _custom({name: name for name in custom}), _rows("an", part)))


def staged_contacts(conn: psycopg.Connection, fields: Sequence[PersonField], part: int,
                    custom: dict[str, str] | None = None) -> pd.DataFrame:
    """The staged Contacts of one partition, fields by their names, the ``custom`` fields (Action
    Network name -> Salesforce field) as ``cf:<Action Network name>``, whether each is in the
    Subscribers campaign, and whether that membership was staged (``subscription_changed``); of a
    Contact deleted by a merge, the Contact kept (``master_id``)."""
    return frame(conn, sql.SQL("SELECT sf_id, is_deleted, master_record_id AS master_id, {}, email_key{},"
                               " last_modified_date AS modified,"
                               " created_date AS created, false AS member_only, subscribed, subscription_changed"
                               " FROM {}").format(_fields(fields, "sf_column"), _custom(custom or {}),
                                                  _rows("sf", part)))


def _custom(mapping: dict[str, str]) -> sql.Composable:
    """The custom fields' values, each read out of the JSON by Postgres (a million records' whole
    JSON documents would each be parsed in Python, for the few values mapped)."""
    return sql.SQL("").join(sql.SQL(", custom_fields -> {} AS {}").format(sql.Literal(key), sql.Identifier(f"cf:{name}"))
                            for name, key in mapping.items())


def _fields(fields: Sequence[PersonField], column: str) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL("{} AS {}").format(sql.Identifier(getattr(f, column)), sql.Identifier(f.name))
                              for f in fields)


def only_members(conn: psycopg.Connection, part: int) -> list[str]:
    """The Contacts of a partition staged only because their Subscribers membership was (see
    ``partition_contacts``)."""
    return sorted(row[0] for row in conn.execute("SELECT id FROM contact_parts WHERE only_member AND part = %s",
                                                 (part,)))


def contact_links(conn: psycopg.Connection, an_ids: Sequence[str], sf_ids: Sequence[str]) -> pd.DataFrame:
    return frame(conn, "SELECT an_id, sf_id, email_key, state, base FROM sync.contact_links"
                       f" WHERE an_id IN {MANY} OR sf_id IN {MANY}", (many(an_ids), many(sf_ids)))


def first_matches(conn: psycopg.Connection, an_ids: Sequence[str], sf_ids: Sequence[str]) -> pd.DataFrame:
    """The waiting first matches of these activists and Contacts (see ``links.note_first_matches``),
    with the email key each side has now and whether the Contact is deleted."""
    match = ("SELECT f.an_id, f.sf_id, f.decided, f.held, a.email_key AS an_key, m.email_key AS sf_key,"
             " coalesce(m.is_deleted, false) AS sf_deleted FROM sync.first_matches f"
             " LEFT JOIN sync.an_people a ON a.an_id = f.an_id LEFT JOIN sync.sf_contacts m ON m.sf_id = f.sf_id")
    return frame(conn, f"{match} WHERE f.an_id IN {MANY} UNION ALL {match} WHERE f.sf_id IN {MANY}",
                 (many(an_ids), many(sf_ids))).drop_duplicates("an_id", ignore_index=True)


def people_by_key(conn: psycopg.Connection, keys: Sequence[str], an_ids: Sequence[str]) -> pd.DataFrame:
    """Activists holding these email keys, and these activists (their status guards re-subscribing)."""
    return frame(conn, "SELECT an_id, email_key, email_status FROM sync.an_people"
                       f" WHERE email_key IN {MANY} OR an_id IN {MANY}", (many(keys), many(an_ids)))


def contacts_by_key(conn: psycopg.Connection, keys: Sequence[str]) -> pd.DataFrame:
    return frame(conn, "SELECT sf_id, email_key, created_date AS created, last_modified_date AS modified,"
                       f" is_deleted FROM sync.sf_contacts WHERE email_key IN {MANY}", (many(keys),))


def other_emails(conn: psycopg.Connection, keys: Sequence[str]) -> pd.DataFrame:
    """Activists holding these keys as one of their other (non-primary) addresses."""
    return frame(conn, f"SELECT an_id, email_key FROM sync.an_emails WHERE email_key IN {MANY}", (many(keys),))


# Contacts reported as duplicates of a synced Contact since deleted: they hold their email alone now.
RELEASED = ("SELECT d.sf_id FROM sync.duplicates d JOIN sync.contact_links l ON l.sf_id = d.winner_sf_id"
            " AND l.state = 'sf_deleted'")

# Contacts whose email change in Salesforce stopped their pair, when the activist staged in the run has
# that email now: the pair may resume though the Contact did not change again.
RESUMABLE = ("SELECT l.sf_id FROM sync.contact_links l JOIN staging.an_people a ON a.run_id = %(run)s"
             " AND a.an_id = l.an_id JOIN sync.sf_contacts m ON m.sf_id = l.sf_id AND m.email_key = a.email_key"
             " AND NOT m.is_deleted WHERE l.state = 'stopped'")


def duplicate_losers(conn: psycopg.Connection) -> frozenset[str]:
    """Contacts reported as duplicates of one that still holds their email."""
    return frozenset(frame(conn, f"SELECT sf_id FROM sync.duplicates EXCEPT {RELEASED}")["sf_id"])


def duplicate_candidates(conn: psycopg.Connection, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first run's duplicates: (the run's staged, undeleted Contacts whose email key another one
    holds, staged or linked; the links holding those keys). The rest have no rival to lose to."""
    contacts = frame(conn, "SELECT sf_id, email_key, created_date AS created, last_modified_date AS modified"
                           " FROM staging.sf_contacts c WHERE run_id = %(run)s AND NOT is_deleted AND email_key IN"
                           " (SELECT email_key FROM staging.sf_contacts WHERE run_id = %(run)s AND NOT is_deleted"
                           "  GROUP BY email_key HAVING count(*) > 1"
                           "  UNION SELECT l.email_key FROM sync.contact_links l JOIN staging.sf_contacts s"
                           "  ON s.run_id = %(run)s AND s.email_key = l.email_key AND s.sf_id <> l.sf_id)",
                     {"run": run_id})
    return contacts, frame(conn, "SELECT sf_id, email_key FROM sync.contact_links WHERE email_key IN"
                                 " (SELECT email_key FROM staging.sf_contacts WHERE run_id = %s)", (run_id,))


def forget_contact_plan(conn: psycopg.Connection, run_id: str) -> None:
    """Drop what an earlier attempt of this run's reconcile planned and reported for contacts."""
    conn.execute("DELETE FROM staging.plan WHERE run_id = %s AND step = %s", (run_id, Step.CONTACTS))
    conn.execute("DELETE FROM sync.rejects WHERE run_id = %s AND payload->>'step' = 'reconcile'", (run_id,))
    conn.execute("DELETE FROM sync.conflicts WHERE run_id = %s", (run_id,))


# -- campaigns --------------------------------------------------------------------------------------

def campaign_frames(conn: psycopg.Connection, run_id: str, subscribers: str | None) -> dict[str, pd.DataFrame]:
    """actions, takers, campaigns, members, action_links, member_links of the run. Members only of
    Campaigns that can take them (synced with an action, or becoming a form under the Subscribers
    campaign): a first sync stages every CampaignMember of the org, millions of them."""
    takers_sql = ("SELECT an_id, action_type, action_id, person_id FROM staging.an_participations WHERE run_id = %s"
                  " UNION ALL SELECT an_id, 'fundraising_page', fundraising_page_id, person_id"
                  " FROM staging.an_donations WHERE run_id = %s AND fundraising_page_id IS NOT NULL")
    return {
        "actions": frame(conn, "SELECT an_id, action_type, title, origin_system FROM staging.an_actions"
                               " WHERE run_id = %s", (run_id,)),
        "takers": frame(conn, takers_sql, (run_id, run_id)),
        "campaigns": frame(conn, "SELECT sf_id, is_deleted, name, parent_id FROM staging.sf_campaigns"
                                 " WHERE run_id = %s", (run_id,)),
        "members": frame(conn, "SELECT sf_id, is_deleted, campaign_id, contact_id FROM staging.sf_campaign_members"
                               " WHERE run_id = %(run)s AND NOT is_deleted AND campaign_id IN (SELECT sf_id"
                               " FROM sync.action_links WHERE state = 'active' UNION SELECT sf_id"
                               " FROM staging.sf_campaigns WHERE run_id = %(run)s AND parent_id = %(subscribers)s)",
                         {"run": run_id, "subscribers": subscribers}),
        "action_links": frame(conn, "SELECT an_id, an_type, sf_id, origin, state, title FROM sync.action_links"),
        # Joins, not "IN (...) OR IN (...)": Postgres hashes such a subquery only while it fits in
        # work_mem, and otherwise scans it once per link (minutes once a backlog is re-staged).
        "member_links": frame(
            conn, "SELECT m.an_action_id, m.an_person_id, m.sf_member_id FROM sync.member_links m"
                  f" JOIN (SELECT DISTINCT action_id, person_id FROM ({takers_sql}) t) t"
                  " ON m.an_action_id = t.action_id AND m.an_person_id = t.person_id"
                  " UNION SELECT m.an_action_id, m.an_person_id, m.sf_member_id FROM sync.member_links m"
                  " JOIN staging.sf_campaign_members s ON s.run_id = %s AND s.sf_id = m.sf_member_id",
            (run_id, run_id, run_id)),
    }


# -- donations --------------------------------------------------------------------------------------

def donation_frames(conn: psycopg.Connection, run_id: str) -> dict[str, pd.DataFrame]:
    """donations, opportunities, roles, links and page titles of the run.

    Contact Roles come joined to the staged Opportunities: extract stages an Opportunity whose
    roles changed even when it did not, so a role added later still sends it.
    """
    donations = frame(conn, "SELECT an_id, fundraising_page_id, person_id, amount, currency, recurring, period,"
                            " created_date AS created, modified_date AS modified"
                            " FROM staging.an_donations WHERE run_id = %s", (run_id,))
    opportunities = frame(conn, "SELECT sf_id, is_deleted, account_id, an_id, amount, close_date, stage_name,"
                                " action_network_recurring AS recurring, last_modified_date AS modified"
                                " FROM staging.sf_opportunities WHERE run_id = %s", (run_id,))
    return {
        "donations": donations, "opportunities": opportunities,
        "roles": frame(conn, "SELECT r.sf_id, r.opportunity_id, r.contact_id, r.role, r.is_primary, r.is_deleted,"
                             " r.created_date AS created FROM staging.sf_opportunity_contact_roles r"
                             " JOIN staging.sf_opportunities o ON o.run_id = r.run_id AND o.sf_id = r.opportunity_id"
                             " WHERE r.run_id = %s AND r.contact_id IS NOT NULL", (run_id,)),
        "links": frame(conn, "SELECT an_id, sf_id, origin, linked_at FROM sync.donation_links"
                             f" WHERE an_id IN {MANY} OR sf_id IN {MANY}",
                       (many(donations["an_id"]), many(opportunities["sf_id"]))),
        "titles": frame(conn, "SELECT DISTINCT ON (an_id) an_id, title FROM (SELECT an_id, action_type, title,"
                              " modified_date FROM staging.an_actions UNION ALL SELECT an_id, action_type, title,"
                              " modified_date FROM sync.an_actions) a"
                              " WHERE action_type = 'fundraising_page' AND an_id = ANY(%s) AND title IS NOT NULL"
                              " ORDER BY an_id, modified_date DESC NULLS LAST",
                        (list(donations["fundraising_page_id"].dropna().unique()),)),
    }
