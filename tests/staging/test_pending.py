"""The queue: which queued records a run re-stages, and the next batch of the write budget's backlog."""

from typing import Any

from psycopg.types.json import Jsonb

from an_sf_sync.staging import pending


def _queue(conn: Any, kind: str, record: str, people: list[str] | None, rank: int, reason: str = pending.BACKLOG,
           due: bool = True) -> None:
    row = {"an_people": {"an_id": record}, "sf_contacts": {"sf_id": record, "is_deleted": False},
           "an_participations": {"an_id": record, "action_type": "petition", "action_id": "p1"}}[kind]
    conn.execute("INSERT INTO sync.pending (kind, record_id, reason_code, row, first_run, last_run, people, rank,"
                 " next_attempt_at) VALUES (%s, %s, %s, %s, 'r0', 'r0', %s, %s,"
                 " now() + CASE WHEN %s THEN interval '-1 minute' ELSE interval '1 day' END)",
                 (kind, record, reason, Jsonb(row), people, rank, due))


def _restaged(conn: Any, run_id: str) -> set[str]:
    return {row[0] for row in conn.execute(
        "SELECT an_id FROM staging.an_people WHERE run_id = %(run)s UNION ALL SELECT sf_id FROM staging.sf_contacts"
        " WHERE run_id = %(run)s UNION ALL SELECT an_id FROM staging.an_participations WHERE run_id = %(run)s",
        {"run": run_id})}


def test_a_run_takes_the_next_batch_of_the_backlog_in_whole_pairs_and_what_waits_on_them_stays(staging):
    staging.replace_run_rows("an_people", "r1", ("an_id", "email"), [[("a5", "fresh@example.org")]])
    with staging.connect() as conn:
        for n in range(1, 6):  # five pairs, each queued by both sides, in queue order
            _queue(conn, "an_people", f"a{n}", [f"a{n}", f"003{n}"], n)
            _queue(conn, "sf_contacts", f"003{n}", [f"a{n}", f"003{n}"], n)
        _queue(conn, "sf_contacts", "0036", ["0036"], 6)  # a Contact to create in Action Network
        _queue(conn, "an_people", "a7", None, 7)  # queued without people: never held back
        _queue(conn, "sf_contacts", "0038", ["a8", "0038"], 0, due=False)  # not due: stays, holds nothing
        for n, person in enumerate(["a1", "a3", "a8", "a4", "a9", "a5"], start=1):  # what the people did
            _queue(conn, "an_participations", f"t{n}", [person], 100 + n)
        _queue(conn, "an_participations", "t9", ["a9"], 90, reason="PERSON_NOT_SYNCED")  # a9 cannot sync yet
        _queue(conn, "an_participations", "t10", ["a2"], 50, reason="WRITE_FAILED")  # a refusal, due: retried
        pending.restage(conn, "r1", backlog_batch=3)
        taken = _restaged(conn, "r1")
    # the first 3 of the queue's people records are pairs 1 and 2 (both sides each); pair 5 comes
    # whole with its activist staged afresh; a7 has no people to wait for
    pairs = {"a1", "0031", "a2", "0032", "a5", "0035", "a7"}
    # what the people left queued did (t2: a3, t4: a4) waits with them; of the rest, in queue order,
    # the batch of 3 takes t1 (a1 comes back), t3 and t5 (a8 and a9 are in no due pair), not yet t6
    assert taken == pairs | {"t1", "t3", "t5", "t10"}


def test_without_a_batch_every_due_record_comes_back(staging):
    with staging.connect() as conn:
        for n in range(1, 4):
            _queue(conn, "an_people", f"a{n}", [f"a{n}"], n)
            _queue(conn, "an_participations", f"t{n}", [f"a{n}"], 10 + n)
        _queue(conn, "an_people", "a4", ["a4"], 4, due=False)
        assert pending.restage(conn, "r1") == 6
        assert _restaged(conn, "r1") == {"a1", "a2", "a3", "t1", "t2", "t3"}
