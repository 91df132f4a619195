"""The identity mirrors: every activist's and Contact's email key, deletion and dates as last staged
(``sync.an_people``, ``sync.an_emails``, ``sync.sf_contacts``) and the Subscribers campaign's members
(``sync.sf_subscribers``), so a run can tell who holds an email without reading either org."""

from __future__ import annotations

import psycopg
from psycopg import sql

from an_sf_sync import rules
from an_sf_sync.staging.store import bulk_insert, frame, scalar


def refresh_mirrors(conn: psycopg.Connection, run_id: str, subscribers_campaign: str | None) -> None:
    """Fold this run's staged records into the identity mirrors (idempotent; keys filled, see
    ``inputs.fill_email_keys``)."""
    _fold(conn, run_id, "sync.an_people", "an_id",
          "SELECT an_id, email_key, email_status, modified_date FROM staging.an_people WHERE run_id = %s")
    others = frame(conn, "SELECT p.an_id, e.address FROM staging.an_people p,"
                         " jsonb_array_elements_text(p.other_emails) e (address) WHERE p.run_id = %s", (run_id,))
    conn.execute("DELETE FROM sync.an_emails WHERE an_id IN (SELECT an_id FROM staging.an_people"
                 " WHERE run_id = %s)", (run_id,))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sync.an_emails (an_id, email_key) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        [(a, k) for a, k in zip(others["an_id"], others["address"].map(rules.email_key),
                                                strict=True) if k])
    _fold(conn, run_id, "sync.sf_contacts", "sf_id", "SELECT sf_id, email_key, is_deleted, created_date,"
                                                     " last_modified_date FROM staging.sf_contacts WHERE run_id = %s")
    if subscribers_campaign:
        conn.execute("DELETE FROM sync.sf_subscribers s USING staging.sf_campaign_members m"
                     " WHERE m.run_id = %s AND m.campaign_id = %s AND s.member_id = m.sf_id"
                     " AND (m.is_deleted OR m.contact_id IS DISTINCT FROM s.contact_id)",  # gone, or moved by a merge
                     (run_id, subscribers_campaign))
        _fold(conn, run_id, "sync.sf_subscribers", "contact_id",
              "SELECT DISTINCT ON (contact_id) contact_id, sf_id FROM staging.sf_campaign_members"
              " WHERE run_id = %s AND campaign_id = %s AND NOT is_deleted AND contact_id IS NOT NULL"
              " ORDER BY contact_id, system_modstamp DESC", subscribers_campaign)


def _fold(conn: psycopg.Connection, run_id: str, mirror: str, key: str, staged: str, *params: str) -> None:
    """Replace ``mirror``'s rows (by ``key``, its first column) with the ``staged`` query's."""
    args = (run_id, *params)
    conn.execute(sql.SQL("CREATE TEMP TABLE folded ON COMMIT DROP AS " + staged), args)
    conn.execute(sql.SQL("DELETE FROM {} m USING folded f WHERE m.{} = f.{}").format(
        sql.Identifier(*mirror.split(".")), sql.Identifier(key), sql.Identifier(key)))
    bulk_insert(conn, mirror, "SELECT * FROM folded", rows=int(scalar(conn, "SELECT count(*) FROM folded")))
    conn.execute("DROP TABLE folded")
