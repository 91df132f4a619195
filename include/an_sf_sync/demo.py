"""``an-sf-sync demo``: the whole sync, end to end, on the sandboxes, in a few minutes.

It prepares the project-local Airflow (database, connections, pool), starts the Action Network
sandbox with generated data, runs the DAG through Airflow (``airflow dags test``) for a first, full
run, changes data through the real API, runs the next hour, and prints what each run staged.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from an_sf_sync import localenv

DAG_ID = "actionnetwork_salesforce_sync"
AN_KEY = "sandbox-api-key"  # matches airflow_settings.yaml
AN_PORT = 8701


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, default=1500, help="Action Network people to generate")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the generated data")


def _airflow(*args: str) -> None:
    cmd = [str(Path(sys.executable).parent / "airflow"), *args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-5000:] + result.stderr[-5000:])
        raise SystemExit(f"`airflow {' '.join(args)}` failed (exit {result.returncode})")


@contextlib.contextmanager
def _sandbox(*args: str) -> Iterator[str]:
    """Run a sandbox server as a child process; yield the URL from its ready line."""
    proc = subprocess.Popen([sys.executable, "-m", "an_sf_sync.cli", "sandbox", *args],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("ready "):
            raise SystemExit(f"sandbox {args[0]} did not start: {line!r}")
        yield line.removeprefix("ready ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _change_actionnetwork(base_url: str) -> int:
    """Edit and add people through the real API, as an organizer's day would."""
    from an_sf_sync.actionnetwork.client import ActionNetworkClient

    with ActionNetworkClient(base_url, AN_KEY) as client:
        people = [p for p in itertools.islice(client.people(), 50) if p["email"] and "@" in p["email"]][:5]
        for person in people:
            client.upsert_person({"email": person["email"], "family_name": f"{person['family_name'] or ''}-Edited"})
        for n in range(3):
            client.upsert_person({"given_name": "Demo", "family_name": f"Newcomer {n}",
                                  "email": f"demo.newcomer{n}@example.org"})
    return len(people) + 3


def _print_run(logical_date: datetime) -> None:
    from an_sf_sync.staging.store import StagingStore

    store = StagingStore.from_connection()
    with store.connect() as conn:
        run_id, summary = conn.execute(
            "SELECT run_id, summary FROM sync.runs ORDER BY finished_at DESC LIMIT 1").fetchone()
        extract = store.extract_of(run_id, "actionnetwork")
    start = extract["window_start"].isoformat() if extract["window_start"] else "the beginning (full)"
    print(f"\nrun {run_id} (logical date {logical_date.isoformat()})")
    print(f"  window: {start} -> {extract['window_end'].isoformat()}")
    for table, count in extract["counts"].items():
        print(f"  Action Network {table:<15} {count:>7} staged")
    print(f"  watermarks now: {summary['watermarks']}")


def run(args: argparse.Namespace) -> int:
    root = localenv.project_root()
    localenv.apply(root)
    print("preparing the project-local Airflow (.airflow) ...")
    _airflow("db", "migrate")
    subprocess.run([sys.executable, "-m", "an_sf_sync.cli", "settings", "import",
                    "--file", str(root / "airflow_settings.yaml")], check=True)
    this_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    print(f"starting the Action Network sandbox with {args.people} generated people ...")
    with _sandbox("actionnetwork", "--port", str(AN_PORT), "--api-key", AN_KEY,
                  "--seed-people", str(args.people), "--seed", str(args.seed)) as an_url:
        print(f"  {an_url}")
        print("first run: a full extract ...")
        _airflow("dags", "test", DAG_ID, this_hour.isoformat(), "-c", '{"full_refresh": true}')
        _print_run(this_hour)
        print(f"\nchanged {_change_actionnetwork(an_url)} people through the Action Network API")
        next_hour = this_hour + timedelta(hours=1)
        print("next hour's run: only what changed ...")
        _airflow("dags", "test", DAG_ID, next_hour.isoformat())
        _print_run(next_hour)
    print(f"\nstaging data is in the embedded Postgres under {os.environ['AN_SF_SYNC_HOME']}")
    return 0
