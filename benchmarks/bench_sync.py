"""Benchmark: the full two-way sync, a first run then hourly runs (backlog, 1% churn, quiet), against the targets.

Both emulators run in this process (their memory is not measured); every stage of the sync runs in
its own subprocess, calling the task bodies' functions with the real clients and an embedded
Postgres, and reports its own wall time and peak RSS (``VmHWM``)::

    .venv/bin/python benchmarks/bench_sync.py                  # 100k people, 100k contacts
    .venv/bin/python benchmarks/bench_sync.py --quick          # 5k / 5k, about a minute
    .venv/bin/python benchmarks/bench_sync.py --quick --profile first:load_contacts  # cProfile one stage
    .venv/bin/python benchmarks/bench_sync.py --write-budget 0  # the whole first sync in one run

Data: Action Network people from its generator; Salesforce contacts from its generator with 1%
duplicate emails, half of them given the email of an activist (so half overlap). The Action
Network rate limit and latency are off (requests are counted, not paced).

Runs go as the DAG's: each load step first defers what the run's Action Network write budget has
no room for (``load.budget``; ``--write-budget``, default the DAG's), and finalize queues the
deferred records, which the next run re-stages. A big org's first sync therefore leaves a backlog:
the report gives what it left and the hourly runs and hours (at 4 requests/s) the whole first
sync needs.

Three hours follow, each from a synced state: the watermarks are set to the moment the run before
finished (so its own writes are not re-read), and each run reads the window ``[watermark, now)``
(no overlap, so the window holds exactly what was edited in the emulators' stores):

- the next hour, while the backlog remains: 1% of the linked activists and Contacts edited, and the
  run carries on with the backlog, as a real hour would (the report splits its writes);
- an hour of 1% churn: the backlog set aside (removed from the queue), another 1% edited,
  as an hour looks once the backlog is drained (draining it would take the hours the report gives);
- a quiet hour: the backlog set aside, nothing edited;
- weeks later: finalize's retention removes the staged copies and plans of the runs before it.

Targets: first run's non-API work (staging in the extracts + duplicates + reconcile) < 60 s, one
Action Network request per record written, every task < 1.5 GB peak RSS; the hour of 1% churn:
Action Network requests <= 1.05 x (pages needed to read the changes + one per write), Salesforce
calls <= 12; a quiet hour (nothing changed): Action Network requests <= 5 + one per action taken in
the last 7 days, Salesforce calls <= 3. ``--sizes 100000,300000,1000000`` runs several sizes and
prints the growth as a table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from an_sf_sync.load.budget import NO_LIMIT
from an_sf_sync.staging import retention, settings

AN_KEY = "bench-key"
SF_LOGIN = ("bench@example.org", "bench-password", "bench-token")
STAGE_TIMEOUT = 600  # seconds, per stage subprocess and per 100k people (a 1M run allows 100 minutes)
GB = 1024 * 1024  # ru_maxrss is in KiB on Linux
PEAK_LIMIT = 1536 * 1024  # KiB: every task under 1.5 GB
AN_RATE = 4  # Action Network's real limit, requests per second


# -- stages: each runs in its own subprocess ---------------------------------------------------------

def _clients(cfg: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(staging store, Action Network client, Salesforce client) for a stage, built the real way."""
    from simple_salesforce import Salesforce

    from an_sf_sync.actionnetwork.client import ActionNetworkClient
    from an_sf_sync.salesforce.client import SalesforceClient
    from an_sf_sync.salesforce.hook import CABundleSession
    from an_sf_sync.staging.store import StagingStore

    username, password, token = SF_LOGIN
    sf = Salesforce(username=username, password=password, security_token=token, session=CABundleSession(cfg["ca"]),
                    domain=f"{cfg['sf_host']}/services/Soap/u/59.0?x=")
    an = ActionNetworkClient(cfg["an_url"], AN_KEY, requests_per_second=1e6)  # the emulator's limit is off
    return StagingStore(cfg["staging"]), an, SalesforceClient(sf)


class _StagingClock:
    """Splits the time extracts spend inside ``replace_run_rows`` into waiting on the API client
    (HTTP, parsing) and the rest (row conversion, cleaning, COPY): the staging work."""

    def __init__(self) -> None:
        self.total = self.waiting = 0.0

    def install(self) -> None:
        from an_sf_sync import extract
        from an_sf_sync.staging.store import StagingStore

        rows, replace = extract._rows, StagingStore.replace_run_rows
        clock = self

        def timed_rows(records: Iterable[dict[str, Any]], *args: Any, **kwargs: Any) -> Iterator[Any]:
            return rows(clock._waited(records), *args, **kwargs)

        def timed_replace(store: StagingStore, *args: Any, **kwargs: Any) -> int:
            started = time.perf_counter()
            try:
                return replace(store, *args, **kwargs)
            finally:
                clock.total += time.perf_counter() - started

        extract._rows = timed_rows
        StagingStore.replace_run_rows = timed_replace

    def _waited(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        it = iter(records)
        while True:
            started = time.perf_counter()
            try:
                record = next(it)
            except StopIteration:
                self.waiting += time.perf_counter() - started
                return
            self.waiting += time.perf_counter() - started
            yield record


def _stage(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Run one stage; returns its figures (the caller adds wall time and peak memory)."""
    from an_sf_sync.window import Window

    store, an, sf = _clients(cfg)
    store.connect().close()  # migrations are not the stage's work
    run_id = cfg["run_id"]
    window = Window(datetime.fromisoformat(cfg["start"]) if cfg.get("start") else None,
                    datetime.fromisoformat(cfg["end"]))
    out: dict[str, Any] = {}
    clock = _StagingClock()
    started = time.perf_counter()
    if name == "setup":
        from an_sf_sync.setup import run_setup

        out["masters"] = run_setup(store, lambda: an, lambda: sf, [])["masters"]
    elif name == "extract_an":
        from an_sf_sync.extract import extract_actionnetwork

        clock.install()
        out["counts"] = extract_actionnetwork(an, store, run_id, window)
    elif name == "extract_sf":
        from an_sf_sync.extract import extract_salesforce

        clock.install()
        masters = settings.masters(store)
        out["counts"] = extract_salesforce(sf, store, run_id, window,
                                           subscribers_campaign=masters.get("sf_subscribers_campaign"))
    elif name == "resolve_duplicates":
        from an_sf_sync.reconcile import resolve_staged_duplicates

        out["duplicates"] = resolve_staged_duplicates(store, run_id, "oldest")
    elif name == "reconcile":
        from an_sf_sync.load import budget
        from an_sf_sync.reconcile import reconcile_run

        out["counts"] = reconcile_run(store, run_id, duplicate_rule="oldest",
                                      backlog_batch=budget.restage_batch(cfg["budget"]))
    elif name.startswith("load_"):
        import importlib

        from an_sf_sync.load import budget

        step = name.removeprefix("load_")
        with store.connect() as conn:  # as the DAG's load tasks do: defer what the run's budget has no room for
            out["deferred"] = budget.defer_over_budget(conn, run_id, step, cfg["budget"])
            conn.commit()
        out["defer_seconds"] = round(time.perf_counter() - started, 1)
        load = getattr(importlib.import_module(f"an_sf_sync.load.{step}"), name)
        kwargs = {"custom": {}} if step == "contacts" else {}
        out["outcomes"] = load(store, run_id, an, sf, masters=settings.masters(store), **kwargs)
    elif name == "prune":  # finalize's retention, once the runs before ``run_id`` are old enough
        from an_sf_sync.staging import runs

        runs.record_run(store, run_id, window.start, window.end, {}, dry_run=False)  # the later run that succeeded
        started = time.perf_counter()
        with store.connect() as conn:
            out["pruned"] = retention.prune(conn, datetime.now(UTC))
    elif name == "finalize":  # the queue and the backlog; the caller commits the watermarks
        from an_sf_sync.load import budget
        from an_sf_sync.staging import pending

        with store.connect() as conn:
            out["pending"] = pending.settle(conn, run_id)
        with store.connect() as conn:
            out["backlog"] = budget.backlog(conn, run_id, cfg["budget"])
    else:
        raise SystemExit(f"unknown stage {name!r}")
    out["seconds"] = time.perf_counter() - started
    if clock.total:
        out["staging_seconds"] = clock.total - clock.waiting
    out["an_requests"], out["sf_calls"] = an.requests_made, sf.calls_made
    an.close()
    return out


def _peak_kib() -> int:
    """This process's peak RSS in KiB. ``VmHWM`` restarts at exec; ``ru_maxrss`` would carry over the
    parent's peak from before the fork (this process's parent holds both emulators)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def _stage_main(name: str, config: str, profile: bool) -> None:
    cfg = json.loads(Path(config).read_text())
    baseline = _peak_kib()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        out = profiler.runcall(_stage, name, cfg)
        for order in ("cumulative", "tottime"):
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(order).print_stats(30)
    else:
        out = _stage(name, cfg)
    out["baseline_kib"] = baseline
    out["peak_kib"] = _peak_kib()
    print("RESULT " + json.dumps(out, default=str), flush=True)


# -- the orchestrating process: emulators, data, churn, figures ----------------------------------------

class Bench:
    def __init__(self, people: int, contacts: int, workdir: Path, staging: str, write_budget: int,
                 profile: tuple[str, ...] = ()) -> None:
        self.people, self.contacts, self.workdir, self.staging = people, contacts, workdir, staging
        self.write_budget = write_budget  # Action Network writes per run; 0: no limit
        self.profile = profile  # "phase:stage" names to run under cProfile
        self.results: dict[str, dict[str, dict[str, Any]]] = {}

    # emulators and data
    def start(self) -> None:
        from an_sf_sync_dev.sandbox.actionnetwork.generator import generate as an_generate
        from an_sf_sync_dev.sandbox.actionnetwork.server import ActionNetworkApp
        from an_sf_sync_dev.sandbox.http import SandboxServer
        from an_sf_sync_dev.sandbox.salesforce.server import SalesforceApp
        from an_sf_sync_dev.sandbox.salesforce.tls import make_ca_and_server_context

        started = time.monotonic()
        self.an_app = ActionNetworkApp(api_key=AN_KEY, rate_limit=0)
        self.an_app.store.load(an_generate(people=self.people, seed=1))
        self.sf_app = SalesforceApp(*SF_LOGIN, daily_api_limit=10**9)
        self.sf_app.store.load(self._sf_data())
        ca = self.workdir / "ca.pem"
        self.an_server = SandboxServer(self.an_app).start()
        self.sf_server = SandboxServer(self.sf_app, ssl_context=make_ca_and_server_context(ca)).start()
        self.cfg = {"an_url": f"{self.an_server.url}/api/v2/", "sf_host": self.sf_server.url.removeprefix("https://"),
                    "ca": str(ca), "staging": self.staging,
                    "budget": self.write_budget if self.write_budget > 0 else NO_LIMIT}  # as tasks._write_budget
        print(f"emulators ready in {time.monotonic() - started:.0f} s: Action Network {self.an_app.store.counts()}",
              flush=True)
        print(f"  Salesforce {self.sf_app.store.counts()}", flush=True)

    def _sf_data(self) -> dict[str, Iterator[dict[str, Any]]]:
        """The Salesforce generator's org, 1% duplicate emails, the first half's emails taken from activists."""
        from an_sf_sync_dev.sandbox.salesforce.generator import generate as sf_generate

        emails = [p.primary_email() for p in self.an_app.store.people_order[: self.contacts // 2]]
        data = sf_generate(contacts=self.contacts, seed=1, duplicate_email_share=0.01)
        taken: dict[str, str] = {}  # the generator's email (lower case) -> the activist's

        def contacts(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for n, row in enumerate(rows):
                email = row["Email"]
                if email and email == email.lower() and n < len(emails) and emails[n]:
                    taken[email] = row["Email"] = emails[n].address
                elif email and email.lower() in taken:  # a duplicate (another case) of a taken email
                    row["Email"] = taken[email.lower()].upper()
                yield row

        data["Contact"] = contacts(data["Contact"])
        return data

    def stop(self) -> None:
        self.an_server.stop()
        self.sf_server.stop()

    # stages
    def run(self, phase: str, name: str, run_id: str, start: datetime | None, end: datetime) -> dict[str, Any]:
        config = self.workdir / "stage.json"
        config.write_text(json.dumps({**self.cfg, "run_id": run_id, "end": end.isoformat(),
                                      "start": start.isoformat() if start else None}))
        an_before, sf_before = self.an_app.stats.total, self.sf_app.api_calls
        writes_before = self.an_writes()
        began = time.monotonic()
        profiled = f"{phase}:{name}" in self.profile
        proc = subprocess.run([sys.executable, __file__, "--stage", name, "--config", str(config),
                               *(["--profile", "yes"] if profiled else [])],
                              capture_output=True, text=True,
                              timeout=STAGE_TIMEOUT * max(1, math.ceil(self.people / 100_000)))
        wall = time.monotonic() - began
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode or not lines:
            raise RuntimeError(f"stage {name} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        out = json.loads(lines[-1].removeprefix("RESULT "))
        if profiled:
            print(f"-- profile of {phase} {name} --\n{proc.stderr[-12000:]}", flush=True)
        out.update(wall=wall, an_served=self.an_app.stats.total - an_before,
                   an_writes=self.an_writes() - writes_before, sf_served=self.sf_app.api_calls - sf_before)
        self.results.setdefault(phase, {})[name] = out
        extra = {k: out[k] for k in ("counts", "duplicates", "outcomes", "deferred", "defer_seconds", "pending", "backlog",
                                     "pruned")
                 if k in out}
        print(f"  {name:<20} {out['seconds']:7.1f} s  peak {out['peak_kib'] / 1024:6.0f} MiB  "
              f"AN {out['an_served']:>6} req  SF {out['sf_served']:>4} calls  {extra}", flush=True)
        return out

    def an_writes(self) -> int:
        return sum(self.an_app.stats.count(method=m) for m in ("POST", "PUT", "DELETE"))

    def sync(self, phase: str, run_id: str, start: datetime | None, end: datetime, first: bool) -> None:
        print(f"{phase} run {run_id}: window [{start or 'beginning'}, {end})", flush=True)
        stages = ["setup", "extract_an", "extract_sf", *(["resolve_duplicates"] if first else []), "reconcile",
                  "load_contacts", "load_campaigns", "load_opportunities", "finalize"]
        for name in stages:
            self.run(phase, name, run_id, start, end)

    def sql(self, statement: str, *params: Any) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.staging) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []

    # the backlog: writes the first run's budget left for later runs
    def backlog_records(self) -> set[tuple[str, str]]:
        """(kind, id) of the records queued because the write budget deferred their writes."""
        from an_sf_sync.load import budget

        return set(self.sql("SELECT kind, record_id FROM sync.pending WHERE reason_code = %s", budget.REASON))

    def written(self, run_id: str, backlog: set[tuple[str, str]]) -> dict[str, int]:
        """The run's Action Network writes done (plan rows): those of backlog records, and the rest."""
        from types import SimpleNamespace

        from an_sf_sync.staging import pending

        split = {"backlog": 0, "other": 0}
        for step, obj, direction, an_id, sf_id in self.sql(
                "SELECT step, object, direction, an_id, sf_id FROM staging.plan WHERE run_id = %s"
                " AND direction = 'to_actionnetwork' AND status = 'done'", run_id):
            op = SimpleNamespace(object=obj, direction=direction, an_id=an_id, sf_id=sf_id, payload=None)
            split["backlog" if pending.load_record(step, op) in backlog else "other"] += 1
        return split

    def set_backlog_aside(self) -> int:
        """Remove the backlog from the queue, so the next run finds the queue as the last of the first
        sync's hourly runs leaves it; returns how many records were removed."""
        import psycopg

        from an_sf_sync.load import budget

        with psycopg.connect(self.staging) as conn:
            removed = conn.execute("DELETE FROM sync.pending WHERE reason_code = %s", (budget.REASON,)).rowcount
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE sync.pending")  # as autovacuum would over the hours of a real drain
            return removed

    # churn
    def churn(self, share: float, seed: int = 7) -> tuple[list[str], list[str]]:
        """Edit ``share`` of the linked activists and (other) linked Contacts in the stores; return their ids."""
        links = self.sql("SELECT an_id, sf_id FROM sync.contact_links WHERE state = 'active' ORDER BY an_id")
        rng = random.Random(seed)
        picked = rng.sample(links, min(len(links), 2 * max(1, round(share * self.people))))
        half = len(picked) // 2
        an_ids, sf_ids = [a for a, _ in picked[:half]], [s for _, s in picked[half:]]
        for i, an_id in enumerate(an_ids):
            self.an_app.store.update_person(an_id, {"given_name": f"Edited{i}"})
        for i, sf_id in enumerate(sf_ids):
            self.sf_app.store.update("Contact", sf_id, {"MailingCity": f"Churnville {i}"})
        return an_ids, sf_ids

    def an_minimum(self, start: datetime, end: datetime) -> tuple[int, int, int]:
        """(pages needed to read what changed in the window: ceil(n/25) per changed collection;
        the issue's allowance for a quiet hour: 5 requests plus one per action taken in the last 7
        days; the actions taken in the last 7 days)."""
        from an_sf_sync.activity import ACTIVE_DAYS

        lo, hi = start.timestamp(), end.timestamp()
        active_since = hi - ACTIVE_DAYS * 86_400
        store = self.an_app.store
        own = set(self.sql("SELECT record_id FROM sync.masters WHERE kind IN ('an_users_form', 'an_donations_page')"))
        changed = [sum(lo <= p.modified < hi for p in store.people_order),
                   sum(lo <= d.modified < hi for d in store.donation_order)]
        active = 0
        for kind, actions in store.action_order.items():
            changed.append(sum(lo <= a.modified < hi for a in actions))
            if kind in ("forms", "petitions", "events", "advocacy_campaigns"):
                for action in actions:
                    takers = store.children.get(action.id, ())
                    changed.append(sum(lo <= r.modified < hi for r in takers))
                    active += (action.id,) not in own and any(r.modified >= active_since for r in takers)
        return sum(math.ceil(n / 25) for n in changed), 5 + active, active


def _commit_watermarks(conninfo: str, until: datetime, run_id: str) -> None:
    """What finalize commits: the watermarks, and the first run's sweep of every action's takers."""
    from an_sf_sync import activity
    from an_sf_sync.staging import runs
    from an_sf_sync.staging.store import StagingStore

    store = StagingStore(conninfo)
    for source in ("actionnetwork", "salesforce"):
        runs.commit_watermark(store, source, until, run_id)
    activity.commit_sweep(store, until)


def _second() -> datetime:
    """Now, after the current second has ended (windows and Action Network dates are whole seconds)."""
    time.sleep(1.05 - time.time() % 1)
    return datetime.now(UTC).replace(microsecond=0)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSES TARGET"


def _per_stage(stages: dict[str, dict[str, Any]], key: str, spec: str = "") -> str:
    return ", ".join(f"{name} {format(out[key], spec)}" for name, out in stages.items())


def report(bench: Bench, windows: dict[str, tuple[datetime, datetime]], churned: tuple[int, int, int, int],
           hourly_split: dict[str, int], held: int) -> dict[str, Any]:
    """Print one size's figures against the targets; return them for the table across sizes."""
    from an_sf_sync.activity import ACTIVE_DAYS
    from an_sf_sync.load.budget import DEFAULT

    first, hourly, churn, quiet = (bench.results[p] for p in ("first", "hourly", "churn", "quiet"))
    staging = {n: first[n]["staging_seconds"] for n in ("extract_an", "extract_sf")}
    reconcile = first["resolve_duplicates"]["seconds"] + first["reconcile"]["seconds"]
    non_api = sum(staging.values()) + reconcile
    print(f"\n== first sync: {bench.people:,} activists, {bench.contacts:,} contacts ==")
    for name in ("extract_an", "extract_sf"):
        print(f"{name:<20} total {first[name]['seconds']:6.1f} s, of which staging (rows + COPY) "
              f"{staging[name]:5.1f} s")
    print(f"reconcile            {reconcile:6.1f} s (resolve_duplicates {first['resolve_duplicates']['seconds']:.1f} s"
          f" + reconcile_run {first['reconcile']['seconds']:.1f} s)")
    print(f"non-API work         {non_api:6.1f} s   target < 60 s: {_verdict(non_api < 60)}")
    written = bench.sql("SELECT count(*) FROM staging.plan WHERE run_id = 'bench-first'"
                        " AND direction = 'to_actionnetwork' AND status = 'done'")[0][0]
    first_writes = sum(out["an_writes"] for name, out in first.items() if name.startswith("load_"))
    per_record = first_writes / max(written, 1)
    print(f"AN writes            {first_writes:,} requests for {written:,} records written (every load step):"
          f" {per_record:.2f} requests per record, target 1.0: {_verdict(per_record <= 1.0)}")
    failed = bench.sql("SELECT step, error_code, count(*) FROM staging.plan WHERE run_id = 'bench-first'"
                       " AND status = 'failed' GROUP BY 1, 2 ORDER BY 3 DESC")
    print(f"failed writes        {', '.join(f'{s} {c}: {n}' for s, c, n in failed) or 'none'}")
    backlog = first["finalize"]["backlog"]
    deferred = backlog["writes_left"]
    first_an = sum(out["an_served"] for out in first.values())
    total = first_an + deferred
    hours = total / AN_RATE / 3600
    if bench.write_budget > 0:
        runs = 1 + backlog["eta_hours"]
        print(f"write budget         {bench.write_budget:,} Action Network writes a run: {backlog['spent']:,} attempted,"
              f" {deferred:,} deferred to later runs ({backlog['eta_hours']} more hourly runs)")
    else:
        runs = max(1, math.ceil(first_writes / DEFAULT))
        print(f"write budget         none (--write-budget 0): every write in one run; at the default budget of"
              f" {DEFAULT:,} it would take {runs} hourly runs")
    print(f"whole first sync     {first_an - first_writes:,} reads (and setup) + {first_writes:,} writes + {deferred:,} deferred"
          f" writes = {total:,} Action Network requests = {hours:.1f} hours at {AN_RATE} requests/s;"
          f" {runs} hourly runs")
    print("peak RSS per task (target < 1.5 GB):")
    for phase, stages in (("first", first), ("hourly", hourly), ("churn", churn), ("quiet", quiet)):
        for name, out in stages.items():
            peak = out["peak_kib"]
            print(f"  {phase:<6} {name:<20} {peak / 1024:6.0f} MiB (at start {out['baseline_kib'] / 1024:4.0f} MiB)"
                  f"  {_verdict(peak < PEAK_LIMIT)}")

    hourly_sf = sum(out["sf_served"] for out in hourly.values())
    from_backlog = hourly_split["backlog"]
    print(f"\n== the next hour, while the backlog remains: {churned[0]:,} activists and {churned[1]:,} Contacts"
          " edited ==")
    print(f"wall time            {sum(o['seconds'] for o in hourly.values()):6.1f} s "
          f"({_per_stage(hourly, 'seconds', '.1f')})")
    print(f"backlog              {hourly['reconcile']['counts']['retried']:,} queued records re-staged and planned;"
          f" of the {sum(hourly_split.values()):,} Action Network writes done, {from_backlog:,} continue the"
          f" first sync's backlog and {hourly_split['other']:,} are this hour's changes;"
          f" {hourly['finalize']['backlog']['writes_left']:,} writes left after it")
    print(f"API use              AN {_per_stage(hourly, 'an_served')}; SF {hourly_sf} calls"
          f" ({_per_stage(hourly, 'sf_served')}): the backlog's writes come on top of the hour's changes")

    pages, _, _ = bench.an_minimum(*windows["churn"])
    an_total = sum(out["an_served"] for out in churn.values())
    an_writes = sum(out["an_writes"] for out in churn.values())
    minimum = pages + an_writes
    ratio = an_total / max(minimum, 1)
    sf_total = sum(out["sf_served"] for out in churn.values())
    print(f"\n== an hour of 1% churn: {churned[2]:,} activists and {churned[3]:,} Contacts edited (backlog set aside) ==")
    print(f"wall time            {sum(o['seconds'] for o in churn.values()):6.1f} s "
          f"({_per_stage(churn, 'seconds', '.1f')})")
    print(f"AN requests          {an_total} = {an_total - an_writes} reads + {an_writes} writes; minimum {minimum} "
          f"({pages} pages of changes + {an_writes} writes) -> {ratio:.2f}x, target <= 1.05x: "
          f"{_verdict(an_total <= 1.05 * minimum)}; per stage: {_per_stage(churn, 'an_served')}")
    print(f"SF API calls         {sf_total}, target <= 12: {_verdict(sf_total <= 12)}  (per stage: "
          f"{_per_stage(churn, 'sf_served')})")

    _, allowance, active = bench.an_minimum(*windows["quiet"])
    quiet_an = sum(out["an_served"] for out in quiet.values())
    quiet_sf = sum(out["sf_served"] for out in quiet.values())
    print("\n== quiet hour: nothing changed ==")
    if held:
        print(f"backlog set aside    {held:,} queued records removed from the queue before the churn and quiet hours,"
              f" as if the backlog were drained; while one remains every hour also spends its write budget on it"
              f" (see the hourly run)")
    print(f"AN requests          {quiet_an}, target <= 5 + {active} actions taken in the last {ACTIVE_DAYS} days ="
          f" {allowance}: {_verdict(quiet_an <= allowance)}; per stage: {_per_stage(quiet, 'an_served')}")
    print(f"SF API calls         {quiet_sf}, target <= 3: {_verdict(quiet_sf <= 3)}  (per stage: "
          f"{_per_stage(quiet, 'sf_served')})")
    return {"size": f"{bench.people:,} x {bench.contacts:,}", "results": bench.results, "non_api": non_api,
            "per_record": per_record, "first_writes": first_writes, "deferred": deferred, "runs": runs,
            "hours": hours, "hourly_backlog": from_backlog, "hourly_sf": hourly_sf, "churn_an": an_total,
            "churn_ratio": ratio, "churn_sf": sf_total, "quiet_an": f"{quiet_an} / {allowance}", "quiet_sf": quiet_sf}


def table(sizes: list[dict[str, Any]]) -> None:
    """Per stage and size: wall time, peak RSS, Action Network requests, Salesforce calls."""
    print("\n== growth ==")
    print("| size | phase | stage | wall s | peak MiB | AN requests | SF calls |")
    print("|---|---|---|---:|---:|---:|---:|")
    for size in sizes:
        for phase in ("first", "hourly", "churn"):
            for name, out in size["results"][phase].items():
                print(f"| {size['size']} | {phase} | {name} | {out['seconds']:.1f} | {out['peak_kib'] / 1024:.0f} |"
                      f" {out['an_served']} | {out['sf_served']} |")
    print(f"\n| size | first sync non-API s | AN requests per record written | AN writes done / deferred"
          f" | first sync: hourly runs, hours at {AN_RATE} req/s | backlog hour: AN writes of the backlog, SF calls"
          f" | 1% churn hour: AN requests, x minimum, SF calls | quiet AN requests / allowance, SF calls | wall min |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        print(f"| {size['size']} | {size['non_api']:.1f} | {size['per_record']:.2f} |"
              f" {size['first_writes']:,} / {size['deferred']:,} | {size['runs']}, {size['hours']:.1f} |"
              f" {size['hourly_backlog']:,}, {size['hourly_sf']} |"
              f" {size['churn_an']:,}, {size['churn_ratio']:.2f}x, {size['churn_sf']} |"
              f" {size['quiet_an']}, {size['quiet_sf']} | {size['minutes']:.0f} |")


def bench_size(people: int, contacts: int, churn: float, write_budget: int, profile: tuple[str, ...]) -> dict[str, Any]:
    import pgserver

    began = time.monotonic()
    print(f"\n#### {people:,} x {contacts:,}: load average {_load_average()}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    pg = pgserver.get_server(workdir / "pgdata", cleanup_mode="delete")
    bench = Bench(people, contacts, workdir, pg.get_uri(), write_budget, profile)
    try:
        bench.start()
        first_end = _second()
        bench.sync("first", "bench-first", None, first_end, first=True)
        synced = _second()  # the first run's own writes are behind the watermark
        _commit_watermarks(bench.staging, synced, "bench-first")
        backlog = bench.backlog_records()
        an_ids, sf_ids = bench.churn(churn)
        hourly_end = _second()
        bench.sync("hourly", "bench-hourly", synced, hourly_end, first=False)
        hourly_split = bench.written("bench-hourly", backlog)
        churn_start = _second()
        _commit_watermarks(bench.staging, churn_start, "bench-hourly")
        held = bench.set_backlog_aside()
        churned_an, churned_sf = bench.churn(churn, seed=11)
        churn_end = _second()
        bench.sync("churn", "bench-churn", churn_start, churn_end, first=False)
        quiet_start = _second()
        _commit_watermarks(bench.staging, quiet_start, "bench-churn")
        held += bench.set_backlog_aside()  # the churn hour's too
        quiet_end = _second()
        bench.sync("quiet", "bench-quiet", quiet_start, quiet_end, first=False)
        figures = report(bench, {"churn": (churn_start, churn_end), "quiet": (quiet_start, quiet_end)},
                         (len(an_ids), len(sf_ids), len(churned_an), len(churned_sf)), hourly_split, held)
        bench.sql("UPDATE staging.extracts SET extracted_at = extracted_at - make_interval(days => %s)"
                  " WHERE run_id <> 'bench-quiet'", retention.DEFAULT_DAYS + 1)  # the runs before it, weeks ago
        print(f"\n== {retention.DEFAULT_DAYS + 1} days later: retention removes the staging of the runs above ==")
        bench.run("later", "prune", "bench-quiet", quiet_start, quiet_end)
    finally:
        bench.stop()
        pg.cleanup()
    figures["minutes"] = (time.monotonic() - began) / 60
    print(f"\n{people:,} x {contacts:,} took {figures['minutes']:.1f} min; load average {_load_average()}", flush=True)
    return figures


def _load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: wall times stretch when other work shares the cores."""
    return " ".join(f"{n:.2f}" for n in os.getloadavg()) + f" on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--sizes", help="comma-separated sizes (people = contacts), e.g. 100000,300000,1000000;"
                                        " prints a table of the growth")
    parser.add_argument("--quick", action="store_true", help="5k people, 5k contacts")
    parser.add_argument("--churn", type=float, default=0.01, help="share of each side edited before each of the first two hourly runs")
    parser.add_argument("--write-budget", type=int, metavar="N",
                        help="Action Network writes a run may attempt (default: the DAG's, load.budget.DEFAULT;"
                             " 0: no limit, every write in the first run)")
    parser.add_argument("--profile", action="append", default=[], metavar="PHASE:STAGE",
                        help="run a stage under cProfile, e.g. first:load_contacts (repeatable)")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        _stage_main(args.stage, args.config, bool(args.profile))
        return
    if args.quick:
        args.people, args.contacts = 5_000, 5_000
    if args.write_budget is None:
        from an_sf_sync.load.budget import DEFAULT

        args.write_budget = DEFAULT
    sizes = ([(int(n), int(n)) for n in args.sizes.split(",")] if args.sizes else [(args.people, args.contacts)])
    began = time.monotonic()
    figures: list[dict[str, Any]] = []
    for people, contacts in sizes:  # the table so far after each size: a long run that stops keeps them
        figures.append(bench_size(people, contacts, args.churn, args.write_budget, tuple(args.profile)))
        table(figures)
    print(f"\nbenchmark finished in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-sync-airflow-"))
    main()
