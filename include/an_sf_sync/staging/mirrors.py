"""The identity mirrors: every activist's and Contact's email key, deletion and dates as last staged
(``sync.an_people``, ``sync.an_emails``, ``sync.sf_contacts``) and the Subscribers campaign's members
(``sync.sf_subscribers``), so a run can tell who holds an email without reading either org."""

from __future__ import annotations

import psycopg

from an_sf_sync import rules
from an_sf_sync.staging.store import frame


def refresh_mirrors(conn: psycopg.Connection, run_id: str, subscribers_campaign: str | None) -> None:
    """Fold this run's staged records into the identity mirrors (idempotent; keys filled, see
    ``inputs.fill_email_keys``)."""
    conn.execute("INSERT INTO sync.an_people SELECT an_id, email_key, email_status, modified_date FROM staging.an_people"
                 " WHERE run_id = %s ON CONFLICT (an_id) DO UPDATE SET email_key = EXCLUDED.email_key,"
                 " email_status = EXCLUDED.email_status, modified_date = EXCLUDED.modified_date", (run_id,))
    others = frame(conn, "SELECT p.an_id, e.address FROM staging.an_people p,"
                         " jsonb_array_elements_text(p.other_emails) e (address) WHERE p.run_id = %s", (run_id,))
    conn.execute("DELETE FROM sync.an_emails WHERE an_id IN (SELECT an_id FROM staging.an_people"
                 " WHERE run_id = %s)", (run_id,))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sync.an_emails (an_id, email_key) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        [(a, k) for a, k in zip(others["an_id"], others["address"].map(rules.email_key),
                                                strict=True) if k])
    conn.execute("INSERT INTO sync.sf_contacts SELECT sf_id, email_key, is_deleted, created_date, last_modified_date"
                 " FROM staging.sf_contacts WHERE run_id = %s ON CONFLICT (sf_id) DO UPDATE SET"
                 " email_key = EXCLUDED.email_key, is_deleted = EXCLUDED.is_deleted,"
                 " created_date = EXCLUDED.created_date, last_modified_date = EXCLUDED.last_modified_date", (run_id,))
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
