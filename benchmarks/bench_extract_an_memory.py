"""Peak memory of ``extract_an`` for 100k Action Network people (target: < 500 MB).

The emulator runs in its own process (its data does not count), with the rate limit off so the
benchmark takes a minute, not seven hours; the extract runs here, staging into an embedded
Postgres, and the figure is this process's peak resident memory::

    .venv/bin/python benchmarks/bench_extract_an_memory.py --people 100000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

API_KEY = "bench-key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()

    import pgserver

    from an_sf_sync.actionnetwork.client import ActionNetworkClient
    from an_sf_sync.extract import extract_actionnetwork
    from an_sf_sync.staging.store import StagingStore
    from an_sf_sync.window import Window

    sandbox = subprocess.Popen([sys.executable, "-m", "an_sf_sync.cli", "sandbox", "actionnetwork", "--port", "0",
                                "--api-key", API_KEY, "--rate-limit", "0", "--seed-people", str(args.people)],
                               stdout=subprocess.PIPE, text=True)
    data = Path(tempfile.mkdtemp(prefix="bench-extract-an-")) / "pgdata"
    server = pgserver.get_server(data, cleanup_mode="delete")
    try:
        url = sandbox.stdout.readline().split()[-1]
        store = StagingStore(server.get_uri())
        store.connect().close()  # migrations, outside the measured part
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with ActionNetworkClient(url, API_KEY, requests_per_second=1000) as client:
            started = time.monotonic()
            counts = extract_actionnetwork(client, store, "bench", Window(None, datetime.now(UTC)))
            elapsed = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
        server.cleanup()
    print(f"extract_an staged {counts} in {elapsed:.1f} s")
    print(f"extract_an peak memory: {peak:.0f} MB (process baseline before the extract {baseline:.0f} MB; "
          "target < 500 MB)")


if __name__ == "__main__":
    main()
