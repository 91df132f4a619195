"""Benchmark: Salesforce API calls per extract and upsert, and the extract stage's peak memory.

Each emulator runs in its own process (the ``an-sf-sync sandbox salesforce`` command, HTTPS with a
fresh CA), so the memory figures are this process's alone: the client, pandas and the COPY into
Postgres. Staging goes to ``AN_SF_SYNC_TEST_POSTGRES`` if set, else to an embedded Postgres::

    .venv/bin/python benchmarks/bench_sf.py                       # 100k / 1k / 1M (a few minutes)
    .venv/bin/python benchmarks/bench_sf.py --big-extract 200000  # quicker memory figure

Targets: extract 100k contacts <= 10 calls; upsert 100k <= 10; upsert 1,000 <= 6; extract_salesforce
over 1M contacts (and the ~1.9M related rows the generator makes) under 1.5 GB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from an_sf_sync.window import Window

EXT = "Action_Network_ID__c"
CONTACT_FIELDS = ["Id", "IsDeleted", "SystemModstamp", "FirstName", "LastName", "Email", "MailingStreet",
                  "MailingCity", "MailingState", "MailingPostalCode"]


@contextmanager
def emulator(contacts: int) -> Iterator[tuple[str, str]]:
    """An emulator process seeded with ``contacts``; yields (url, CA file)."""
    ca_file = str(Path(tempfile.mkdtemp(prefix="bench-sf-")) / "ca.pem")
    process = subprocess.Popen(
        [sys.executable, "-m", "an_sf_sync.cli", "sandbox", "salesforce", "--port", "0", "--ca-file", ca_file,
         "--seed-contacts", str(contacts), "--daily-api-limit", str(10**9)],
        stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield line.split()[1], ca_file
    finally:
        process.terminate()
        process.wait()


def connect(url: str, ca_file: str):  # type: ignore[no-untyped-def]
    """A client built the production way: Airflow connection -> SalesforceHook -> simple-salesforce."""
    from an_sf_sync.salesforce.client import SalesforceClient

    host = url.removeprefix("https://")
    os.environ["AIRFLOW_CONN_SALESFORCE_DEFAULT"] = json.dumps({
        "conn_type": "salesforce", "login": "sandbox@example.org", "password": "sandbox-password",
        "extra": {"security_token": "sandbox-token", "domain": f"{host}/services/Soap/u/59.0?x=",
                  "ca_bundle": ca_file}})
    return SalesforceClient.from_connection()


def server_calls(url: str, ca_file: str) -> int:
    return requests.get(f"{url}/__sandbox__/state", verify=ca_file, timeout=30).json()["api_calls"]


def measure(label: str, target: int, client, url: str, ca_file: str, action) -> None:  # type: ignore[no-untyped-def]
    client.calls_made, before, started = 0, server_calls(url, ca_file), time.monotonic()
    action()
    seen = server_calls(url, ca_file) - before
    verdict = "ok" if client.calls_made <= target else "OVER TARGET"
    print(f"{label:<34} {client.calls_made:>4} calls (server counted {seen}; target <= {target}: {verdict})"
          f"  {time.monotonic() - started:6.1f} s", flush=True)


@contextmanager
def staging_store() -> Iterator:
    from an_sf_sync.staging.store import StagingStore

    if os.environ.get("AN_SF_SYNC_TEST_POSTGRES"):
        yield StagingStore(os.environ["AN_SF_SYNC_TEST_POSTGRES"])
        return
    import pgserver

    server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="bench-sf-pg-")) / "pgdata", cleanup_mode="delete")
    try:
        yield StagingStore(server.get_uri())
    finally:
        server.cleanup()


def calls(contacts: int) -> None:
    window = Window(None, datetime.now(UTC) + timedelta(days=1))
    with emulator(contacts) as (url, ca_file):
        client = connect(url, ca_file)
        measure(f"extract {contacts:,} contacts", 10, client, url, ca_file, lambda: sum(
            len(chunk) for chunk in client.read("Contact", CONTACT_FIELDS, window=window, include_deleted=True)))
        for n, target in ((contacts, 10), (1_000, 6)):
            rows = [{EXT: f"bench-{n}-{i}", "LastName": f"Bench {i}", "Email": f"bench{n}.{i}@example.org"}
                    for i in range(n)]

            def upsert(rows: list[dict] = rows) -> None:
                failed = [r for r in client.write("Contact", rows, operation="upsert", external_id_field=EXT)
                          if not r.success]
                assert not failed, failed[:3]
            measure(f"upsert {n:,} contacts", target, client, url, ca_file, upsert)


def memory(contacts: int, trace: bool) -> None:
    from an_sf_sync.extract import extract_salesforce

    with emulator(contacts) as (url, ca_file), staging_store() as store:
        client = connect(url, ca_file)
        store.connect().close()  # migrate outside the measurement
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if trace:
            tracemalloc.start()
        client.calls_made, started = 0, time.monotonic()
        counts = extract_salesforce(client, store, "bench", Window(None, datetime.now(UTC) + timedelta(days=1)))
        elapsed = time.monotonic() - started
        peak_traced = tracemalloc.get_traced_memory()[1] if trace else None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    rows = sum(counts.values())
    print(f"extract_salesforce over {contacts:,} contacts: {rows:,} rows staged {counts}")
    print(f"  {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s), {client.calls_made} API calls")
    print(f"  peak RSS {peak / 1024:,.0f} MiB (before the extract {baseline / 1024:,.0f} MiB; target < 1,536 MiB: "
          f"{'ok' if peak < 1536 * 1024 else 'OVER TARGET'})")
    if peak_traced is not None:
        print(f"  tracemalloc peak (Python allocations during the extract) {peak_traced / 2**20:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000, help="for the call counts")
    parser.add_argument("--big-extract", type=int, default=1_000_000, help="contacts for the memory figure (0: skip)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-sf-airflow-"))
    if args.big_extract:  # first, so that the process's peak RSS is the extract's
        memory(args.big_extract, args.tracemalloc)
    calls(args.contacts)


if __name__ == "__main__":
    main()
