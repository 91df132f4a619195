"""What reconcile reads: email keys derived once, for every staged person, however they were staged."""

from psycopg.types.json import Jsonb

from an_sf_sync.reconcile import resolve_staged_duplicates
from an_sf_sync.staging import inputs, pending
from an_sf_sync.staging.mirrors import refresh_mirrors


def test_people_restaged_from_a_queue_written_before_keys_were_staged_get_their_keys(staging):
    queued = [("an_people", "a1", {"an_id": "a1", "email": " Ada@Example.ORG ", "email_status": "subscribed"}),
              ("sf_contacts", "003A", {"sf_id": "003A", "email": "ADA@example.org", "is_deleted": False}),
              ("sf_contacts", "003B", {"sf_id": "003B", "email": "not an email", "is_deleted": False})]
    with staging.connect() as conn:
        for kind, record, row in queued:
            conn.execute("INSERT INTO sync.pending (kind, record_id, reason_code, row, first_run, last_run)"
                         " VALUES (%s, %s, 'BACKLOG', %s, 'r0', 'r0')", (kind, record, Jsonb(row)))
        pending.restage(conn, "r1")
        assert inputs.fill_email_keys(conn, "r1") == 2  # the malformed email has no key to derive
        assert inputs.fill_email_keys(conn, "r1") == 0
        refresh_mirrors(conn, "r1", None)
        mirrored = conn.execute("SELECT an_id, email_key FROM sync.an_people UNION ALL"
                                " SELECT sf_id, email_key FROM sync.sf_contacts ORDER BY 1").fetchall()
    assert mirrored == [("003A", "ada@example.org"), ("003B", None), ("a1", "ada@example.org")]


def test_duplicates_are_picked_among_keys_held_twice_staged_or_linked(staging):
    contacts = [("003A", "dup@example.org", "2020-01-01"), ("003B", "DUP@example.org ", "2021-01-01"),
                ("003C", "solo@example.org", "2019-01-01"), ("003D", "kept@example.org", "2018-01-01")]
    staging.replace_run_rows("sf_contacts", "r1", ("sf_id", "email", "is_deleted", "created_date"),
                             [[(c, e, False, d) for c, e, d in contacts]])
    with staging.connect() as conn:  # 003Z already syncs kept@: it keeps it, however old 003D is
        conn.execute("INSERT INTO sync.contact_links (an_id, sf_id, email_key, state, base, linked_run, updated_run)"
                     " VALUES ('a9', '003Z', 'kept@example.org', 'active', '{}', 'r0', 'r0')")
    assert resolve_staged_duplicates(staging, "r1", "oldest") == 2
    with staging.connect() as conn:
        losers = conn.execute("SELECT sf_id, winner_sf_id FROM sync.duplicates ORDER BY 1").fetchall()
    assert losers == [("003B", "003A"), ("003D", "003Z")]


def test_partitioning_gives_the_planner_the_runs_staged_records_however_few(staging):
    """A run of one partition must not look empty to the planner: taken for one row, its records were
    joined to the partition table by a scan per record (quadratic in the hour's changes)."""
    columns = ("an_id", "email", "email_key")
    staging.replace_run_rows("an_people", "r0", columns, [[(f"a{n}", f"p{n}@example.org", f"p{n}@example.org")
                                                          for n in range(3000)]])
    with staging.connect() as conn:
        conn.execute("ANALYZE staging.an_people")  # the first sync's statistics: run r1 is not in them
    staging.replace_run_rows("an_people", "r1", columns, [[(f"b{n}", f"q{n}@example.org", f"q{n}@example.org")
                                                          for n in range(300)]])
    with staging.connect() as conn:
        assert inputs.partition_contacts(conn, "r1", None, 100_000) == 1
        plan = conn.execute("EXPLAIN (FORMAT JSON) SELECT * FROM staging.an_people WHERE run_id = 'r1'").fetchone()[0]
    assert plan[0]["Plan"]["Plan Rows"] >= 100  # about the 300 staged, not the single row assumed before
