"""Benchmark: a full people extract from the Action Network emulator at the real rate limit.

Starts the emulator in-process (loopback) with Action Network's limit (4 requests/s per key) and a
realistic response latency, then pages every person through :class:`ActionNetworkClient` and
prints the throughput against the ceiling of ``rate x 25`` people per second::

    .venv/bin/python benchmarks/bench_an_extract.py --people 4000 --latency 0.3
"""

from __future__ import annotations

import argparse
import math
import time

from an_sf_sync.actionnetwork.client import PAGE_SIZE, ActionNetworkClient
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate
from an_sf_sync_dev.sandbox.actionnetwork.server import ActionNetworkApp
from an_sf_sync_dev.sandbox.http import SandboxServer

API_KEY = "bench-key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=4.0, help="the emulator's limit, requests/s")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per response")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    app = ActionNetworkApp(api_key=API_KEY, rate_limit=args.rate)
    app.store.load(generate(people=args.people, seed=args.seed))
    app.knobs.latency = args.latency
    server = SandboxServer(app).start()
    client = ActionNetworkClient(f"{server.url}/api/v2/", API_KEY, requests_per_second=args.rate)
    try:
        started = time.monotonic()
        count = sum(1 for _ in client.people())
        elapsed = time.monotonic() - started
    finally:
        client.close()
        server.stop()

    ceiling = args.rate * PAGE_SIZE
    minimum = math.floor(args.people / PAGE_SIZE) + 1
    print(f"people extracted   {count} in {elapsed:.1f} s")
    print(f"people/s           {count / elapsed:.1f}  ({count / elapsed / ceiling:.1%} of the "
          f"{ceiling:.0f}/s ceiling at {args.rate:g} req/s, {args.latency * 1000:.0f} ms latency)")
    print(f"requests made      {client.requests_made}  (minimum {minimum})")
    print(f"429s seen          {client.throttled} by the client, {app.stats.throttled} by the server")


if __name__ == "__main__":
    main()
