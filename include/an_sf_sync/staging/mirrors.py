"""The identity mirrors: every activist's and Contact's email key, deletion and dates as last staged
(``sync.an_people``, ``sync.an_emails``, ``sync.sf_contacts``) and the Subscribers campaign's members
(``sync.sf_subscribers``), so a run can tell who holds an email without reading either org."""

from __future__ import annotations

import psycopg

from an_sf_sync import rules
from an_sf_sync.staging.store import copy_rows, frame


def refresh_mirrors(conn: psycopg.Connection, run_id: str, subscribers_campaign: str | None) -> None:
    """Fold this run's staged records into the identity mirrors (idempotent)."""
    an = frame(conn, "SELECT an_id, email, email_status, modified_date FROM staging.an_people WHERE run_id = %s",
               (run_id,))
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS an_mirror_in (an_id text, email_key text, email_status text,"
                 " modified_date timestamptz) ON COMMIT DROP")
    copy_rows(conn, "pg_temp.an_mirror_in", ["an_id", "email_key", "email_status", "modified_date"],
              zip(an["an_id"], an["email"].map(rules.email_key), an["email_status"], an["modified_date"],
                  strict=True))
    conn.execute("INSERT INTO sync.an_people SELECT * FROM an_mirror_in ON CONFLICT (an_id) DO UPDATE SET"
                 " email_key = EXCLUDED.email_key, email_status = EXCLUDED.email_status,"
                 " modified_date = EXCLUDED.modified_date")
    others = frame(conn, "SELECT p.an_id, e.address FROM staging.an_people p,"
                         " jsonb_array_elements_text(p.other_emails) e (address) WHERE p.run_id = %s", (run_id,))
    conn.execute("DELETE FROM sync.an_emails WHERE an_id IN (SELECT an_id FROM staging.an_people"
                 " WHERE run_id = %s)", (run_id,))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sync.an_emails (an_id, email_key) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        [(a, k) for a, k in zip(others["an_id"], others["address"].map(rules.email_key),
                                                strict=True) if k])
    sf = frame(conn, "SELECT sf_id, email, is_deleted, created_date, last_modified_date FROM staging.sf_contacts"
                     " WHERE run_id = %s", (run_id,))
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS sf_mirror_in (sf_id text, email_key text, is_deleted boolean,"
                 " created_date timestamptz, last_modified_date timestamptz) ON COMMIT DROP")
    copy_rows(conn, "pg_temp.sf_mirror_in", ["sf_id", "email_key", "is_deleted", "created_date",
                                             "last_modified_date"],
              zip(sf["sf_id"], sf["email"].map(rules.email_key), sf["is_deleted"], sf["created_date"],
                  sf["last_modified_date"], strict=True))
    conn.execute("INSERT INTO sync.sf_contacts SELECT * FROM sf_mirror_in ON CONFLICT (sf_id) DO UPDATE SET"
                 " email_key = EXCLUDED.email_key, is_deleted = EXCLUDED.is_deleted,"
                 " created_date = EXCLUDED.created_date, last_modified_date = EXCLUDED.last_modified_date")
    if subscribers_campaign:
        conn.execute("DELETE FROM sync.sf_subscribers s USING staging.sf_campaign_members m"
                     " WHERE m.run_id = %s AND m.campaign_id = %s AND m.is_deleted AND s.member_id = m.sf_id",
                     (run_id, subscribers_campaign))
        conn.execute("INSERT INTO sync.sf_subscribers (contact_id, member_id)"
                     " SELECT DISTINCT ON (contact_id) contact_id, sf_id FROM staging.sf_campaign_members"
                     " WHERE run_id = %s AND campaign_id = %s AND NOT is_deleted AND contact_id IS NOT NULL"
                     " ORDER BY contact_id, system_modstamp DESC"
                     " ON CONFLICT (contact_id) DO UPDATE SET member_id = EXCLUDED.member_id",
                     (run_id, subscribers_campaign))
