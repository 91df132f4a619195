"""The embedded Postgres is stopped by its last user, even when other users died without cleaning up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from an_sf_sync.staging import embedded

JOIN_AND_DIE = """
import os, signal, sys
from pathlib import Path
from an_sf_sync.staging import embedded
embedded.conninfo(Path(sys.argv[1]))
os.kill(os.getpid(), signal.SIGKILL)  # no exit handler runs
"""

JOIN_AND_EXIT = """
import sys
from pathlib import Path
import psycopg
from an_sf_sync.staging import embedded
with psycopg.connect(embedded.conninfo(Path(sys.argv[1]))) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS seen (n int)")
    conn.execute("INSERT INTO seen VALUES (1)")
"""


def python(code: str, data_dir: Path) -> int:
    return subprocess.run([sys.executable, "-c", code, str(data_dir)], timeout=120).returncode


def test_a_lone_user_stops_the_server_when_it_exits(pg_home):
    data_dir = pg_home / "pgdata"
    assert python(JOIN_AND_EXIT, data_dir) == 0
    assert (data_dir / "PG_VERSION").exists()
    assert not embedded.running(data_dir)


def test_a_holder_keeps_one_server_for_its_users_and_stops_it_on_leaving(pg_home):
    data_dir = pg_home / "pgdata"
    conninfo = embedded.conninfo(data_dir)
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        assert python(JOIN_AND_EXIT, data_dir) == 0
        assert python(JOIN_AND_DIE, data_dir) == -9
        assert embedded.running(data_dir)
        assert int((data_dir / "postmaster.pid").read_text().split()[0]) == pid  # the same server throughout
        with psycopg.connect(conninfo) as conn:
            assert conn.execute("SELECT count(*) FROM seen").fetchone()[0] == 1
    finally:
        embedded.leave(data_dir)
    # the killed user is still listed as one, but it is dead: it does not keep the server alive
    assert not embedded.running(data_dir)


def test_a_user_killed_last_is_forgotten_by_the_next_user(pg_home):
    data_dir = pg_home / "pgdata"
    assert python(JOIN_AND_DIE, data_dir) == -9
    assert embedded.running(data_dir)  # nobody was left to stop it
    assert python(JOIN_AND_EXIT, data_dir) == 0
    assert not embedded.running(data_dir)
