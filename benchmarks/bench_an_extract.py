"""Benchmark: a full people extract from the Action Network emulator at the real rate limit.

Starts the emulator in-process (loopback) with Action Network's limit (4 requests/s per key) and a
realistic response latency, then pages every person through :class:`ActionNetworkClient` and
prints the throughput against the ceiling of ``rate x 25`` people per second, and the size of a
page (real pages are heavy: every listed action embeds its creator)::

    .venv/bin/python benchmarks/bench_an_extract.py --people 4000 --latency 0.3
    .venv/bin/python benchmarks/bench_an_extract.py --people 1000 --forms 1000   # forms too
"""

from __future__ import annotations

import argparse
import math
import time

import requests

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
    parser.add_argument("--forms", type=int, default=0, help="also extract this many forms (0: people only)")
    args = parser.parse_args()

    app = ActionNetworkApp(api_key=API_KEY, rate_limit=args.rate)
    app.store.load(generate(people=args.people, seed=args.seed, **({"forms": args.forms} if args.forms else {})))
    app.knobs.latency = args.latency
    server = SandboxServer(app).start()
    api = f"{server.url}/api/v2/"
    client = ActionNetworkClient(api, API_KEY, requests_per_second=args.rate)
    ceiling = args.rate * PAGE_SIZE
    try:
        for kind, records in (("people", client.people),
                              *((("forms", lambda: client.actions("form")),) if args.forms else ())):
            made, started = client.requests_made, time.monotonic()
            count = sum(1 for _ in records())
            elapsed = time.monotonic() - started
            # people pages carry no totals: the client stops on the first empty page
            minimum = count // PAGE_SIZE + 1 if kind == "people" else math.ceil(count / PAGE_SIZE)
            print(f"{kind} extracted {count} in {elapsed:.1f} s: {count / elapsed:.1f}/s ({count / elapsed / ceiling:.1%} "
                  f"of the {ceiling:.0f}/s ceiling at {args.rate:g} req/s, {args.latency * 1000:.0f} ms latency)")
            print(f"  requests made {client.requests_made - made} (minimum {minimum}); "
                  f"a full page is {_page_bytes(api, kind) / 1024:.1f} KiB")
    finally:
        client.close()
        server.stop()
    print(f"429s seen          {client.throttled} by the client, {app.stats.throttled} by the server")


def _page_bytes(api: str, path: str) -> int:
    time.sleep(1)  # after the extract: a second's quiet keeps this request under the limit
    return len(requests.get(f"{api}{path}", headers={"OSDI-API-Token": API_KEY}, timeout=30).content)


if __name__ == "__main__":
    main()
