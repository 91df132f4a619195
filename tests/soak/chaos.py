"""The chaos soak: hours of random edits on both sides, faults, tasks killed mid-load, then clean hours.

The org has people before its first sync, on one side or both (:meth:`World.seed`); with a small write
budget their first sync waits in the backlog while the hours' edits land.

Each simulated hour: random edits on both sides (:mod:`tests.soak.world`), a handful of faults queued
through the emulators' control paths, then one run of the DAG through Airflow (``dag.test``, with
Airflow's task retries). In a *kill* hour the run happens in a child process that is sent SIGKILL
as soon as the chosen load step has written something, or at a random moment (any task, or between
two); the tasks Airflow had not recorded as done are then run again for the same run id (what
Airflow does with a task whose worker died, and the tasks after it), and the loads once more to
check that rerunning a finished load changes nothing. Then clean hours: no faults, the
last ones without edits, and the verdict (:mod:`tests.soak.verify`).

Every figure comes out in :class:`Figures`, which the tests assert on and the long soak prints.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import requests
from airflow.utils.state import DagRunState

from an_sf_sync import tasks
from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.staging import settings
from an_sf_sync.staging.pending import BACKLOG, PEOPLE
from tests.soak.verify import Findings, Verifier
from tests.soak.world import World

HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
LOAD_STEPS = ("contacts", "campaigns", "opportunities")
TASKS = ("setup", "extract_an", "extract_sf", "resolve_duplicates", "reconcile", "load_contacts", "load_campaigns",
         "load_opportunities", "finalize")  # the DAG's task bodies (first_run is a branch), in the order they run
# Runs the hour's DAG run in a child process (the parent kills it mid-load), given the DAG file and
# the run's params as JSON; the environment (Airflow home, connections, variables) is inherited.
CHILD = """
import json
import sys
from datetime import timedelta
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags["actionnetwork_salesforce_sync"]
for task in dag.tasks:
    task.retries, task.retry_delay, task.retry_exponential_backoff = 3, timedelta(0), 0
dag.test(logical_date=None, run_conf=json.loads(sys.argv[2]))
"""

# fault kind -> (side, control-path fault); the soak picks kinds at random
AN_FAULTS: dict[str, dict[str, Any]] = {
    "an_429_burst": {"status": 429, "body": '{"error": "You have exceeded the rate limit"}'},
    "an_500": {"status": 500, "body": '{"error": "Internal Server Error"}', "method": "GET"},
    "an_503": {"status": 503, "body": '{"error": "Service Unavailable"}'},
    "an_html_502": {"status": 502, "body": HTML_502, "content_type": "text/html"},
    "an_timeout": {"status": 504, "body": "", "timeout": 2.5, "method": "GET"},
    "an_lost_response": {"status": 502, "body": HTML_502, "content_type": "text/html", "after": True,
                         "method": "POST"},
    "an_lost_update": {"status": 500, "body": '{"error": "Internal Server Error"}', "after": True,
                       "method": "PUT"},
}
SF_FAULTS: dict[str, dict[str, Any]] = {
    "sf_row_lock": {"kind": "UNABLE_TO_LOCK_ROW", "path": "/composite/sobjects"},
    "sf_500": {"kind": "SERVER_ERROR", "path": "/query"},
    "sf_503": {"kind": "SERVER_UNAVAILABLE", "path": "/services/data/"},
    "sf_html_502": {"status": 502, "body": HTML_502, "content_type": "text/html", "path": "/services/data/"},
    "sf_invalid_session": {"kind": "INVALID_SESSION_ID", "path": "/services/data/"},
    "sf_lost_insert": {"kind": "SERVER_ERROR", "after": True, "method": "POST", "path": "/composite/sobjects"},
    "sf_lost_upsert": {"status": 502, "body": HTML_502, "content_type": "text/html", "after": True,
                       "method": "PATCH", "path": "/composite/sobjects"},
    "sf_login_503": {"kind": "SERVER_UNAVAILABLE", "path": "/services/Soap/u/"},
    "sf_api_limit": {"kind": "REQUEST_LIMIT_EXCEEDED", "path": "/query"},
}
AN_PATHS = ("/people", "/submissions", "/signatures", "/donations", "/forms", "/petitions", "/fundraising_pages")


@dataclass
class SoakConfig:
    seed: int = 1
    chaos_hours: int = 4
    clean_hours: int = 2  # the last one without edits
    edits_per_hour: int = 25
    faults_per_hour: int = 4
    kills: int = 1
    # The DAG's re-read before each window. The soak's hours are seconds apart, so the default (5)
    # re-reads every earlier hour; 0 reads each change in one window only, as hours an hour apart do.
    overlap_minutes: int = 5
    # Action Network writes a run may attempt (0: the DAG's default). A small one keeps a backlog of
    # deferred writes through the chaos hours, as a big org's first days do; the soak then runs empty
    # hours until it is drained (at most ``drain_runs``).
    write_budget: int = 0
    drain_runs: int = 40
    org_people: int = 30  # people in the org before its first sync, on one side or both (see World.seed)
    # Edit kinds, each of which can be left out while a fix for it is pending. Same-field edits on both
    # sides within one window are off: the sync settles them by the records' modification times
    # (any field's edit moves them), which the soak's per-field model does not follow. ``hostile_values``:
    # control characters, emoji and over-long values; ``email_changes``: addresses moved, added, retyped;
    # ``sf_cleanup``: Contacts deleted and restored, entered twice, and the duplicates deleted or merged;
    # ``sf_history_edits``: synced Opportunities edited or deleted, and action Campaigns' members removed.
    switches: dict[str, bool] = field(default_factory=lambda: {
        "missing_last_names": True, "an_last_name_edits": True, "clear_fields": True,
        "same_field_conflicts": False, "hostile_values": True, "email_changes": True, "sf_cleanup": True,
        "sf_history_edits": True})


@dataclass
class Figures:
    hours: int = 0
    edits: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    faults_fired: int = 0
    kills: Counter = field(default_factory=Counter)  # step killed in, or "missed"
    timeline: list[str] = field(default_factory=list)  # per hour: the faults queued and how the run went
    failed_runs: int = 0
    backlog_peak: int = 0  # records waiting in the write budget's backlog after a run, at most
    drain_runs: int = 0  # empty runs that drained the backlog at the end
    backlog_left: int = 0  # records still waiting once the drain runs were spent (the budget too small)
    rerun_changes: list[str] = field(default_factory=list)  # reruns of finished loads that wrote something
    findings: Findings = field(default_factory=Findings)
    seconds: float = 0.0

    def report(self) -> str:
        f = self.findings
        lines = [f"simulated hours: {self.hours} ({self.seconds:.0f} s)", *[f"  {t}" for t in self.timeline],
                 f"edits: {sum(self.edits.values())} {dict(sorted(self.edits.items()))}",
                 f"faults: {sum(self.faults.values())} injected, {self.faults_fired} fired "
                 f"{dict(sorted(self.faults.items()))}",
                 f"kills: {sum(n for k, n in self.kills.items() if k != 'missed')} {dict(self.kills)}",
                 f"failed runs (then caught up): {self.failed_runs}",
                 f"backlog: at most {self.backlog_peak} records waiting, drained by {self.drain_runs} more runs"
                 + (f", NOT drained: {self.backlog_left} records left" if self.backlog_left else ""),
                 f"linked pairs: {f.pairs}",
                 f"duplicates found: {len(f.duplicates)}", *[f"  {d}" for d in f.duplicates],
                 f"lost edits: {len(f.lost)}", *[f"  {d}" for d in f.lost[:50]],
                 f"missing but explained by a reject: {len(f.explained)}", *[f"  {d}" for d in f.explained[:20]],
                 f"non-converged pairs: {len(f.diverged)}", *[f"  {d}" for d in f.diverged[:50]],
                 f"reruns of finished loads that changed something: {len(self.rerun_changes)}",
                 *[f"  {d}" for d in self.rerun_changes], *f.traces[:5]]
        return "\n".join(lines)


class Soak:
    def __init__(self, config: SoakConfig, dag: Any, dag_file: str, an_sandbox: Any, sf_sandbox: Any,
                 staging: Any) -> None:
        self.config, self.dag, self.dag_file = config, dag, dag_file
        self.an_sandbox, self.sf_sandbox, self.staging = an_sandbox, sf_sandbox, staging
        self.rng = random.Random(config.seed)
        self.figures = Figures()
        self.last_success = 0.0  # when the last successful run started
        self.an_control = an_sandbox.url.split("/api/")[0] + "/__sandbox__"
        self.sf_control = f"{sf_sandbox.url}/__sandbox__"
        for task in dag.tasks:  # Airflow's retries, without their waits
            task.retries, task.retry_delay, task.retry_exponential_backoff = 3, timedelta(0), 0

    # -- control paths ------------------------------------------------------------------------------

    def _control(self, side: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        base, verify = ((self.an_control, True) if side == "an"
                        else (self.sf_control, str(self.sf_sandbox.ca_file)))
        response = requests.request(method, f"{base}/{path}", json=body, verify=verify, timeout=30)
        response.raise_for_status()
        return response.json()

    def inject_faults(self) -> None:
        kinds = list(AN_FAULTS) + list(SF_FAULTS)
        self._queued = self.config.faults_per_hour
        self._hour_faults = []
        for kind in self.rng.choices(kinds, k=self.config.faults_per_hour):
            if kind == "sf_api_limit" and self.rng.random() < 0.7:
                kind = "sf_row_lock"  # the used-up allowance fails the run: rarer than the others
            self.figures.faults[kind] += 1
            self._hour_faults.append(kind)
            if kind in AN_FAULTS:
                fault = {**AN_FAULTS[kind], "count": self.rng.randint(3, 6) if kind == "an_429_burst" else 1}
                if "path" not in fault and kind != "an_429_burst":
                    fault["path"] = self.rng.choice(AN_PATHS)
                self._control("an", "POST", "faults", fault)
            else:
                self._control("sf", "POST", "faults", {**SF_FAULTS[kind], "count": self.rng.randint(1, 2)})

    def lose_master_answers(self) -> None:
        """The first run creates the master records: lose the answer to each creation."""
        lost = {**AN_FAULTS["an_lost_response"], "count": 1}
        for path in ("/forms$", "/fundraising_pages$"):
            self._control("an", "POST", "faults", {**lost, "path": path})
        self._control("sf", "POST", "faults", {**SF_FAULTS["sf_lost_insert"], "count": 2})
        self.figures.faults.update({"an_lost_response": 2, "sf_lost_insert": 1})
        self._queued, self._hour_faults = 3, []

    def clear_faults(self) -> None:
        pending = self.an_sandbox.app.knobs.pending() + self.sf_sandbox.app.knobs.pending()
        self.figures.faults_fired += self._queued - pending
        self._control("an", "DELETE", "faults")
        self._control("sf", "DELETE", "faults")

    # -- runs ---------------------------------------------------------------------------------------

    @staticmethod
    def _next_second() -> float:
        """Wait for the next whole second: a run's window ends at the second it starts in, so an edit
        made in that same second is the next run's (and the soak's model would count it as read)."""
        time.sleep(1.01 - time.time() % 1)
        return time.time()

    @property
    def params(self) -> dict[str, Any]:
        """Each run's params, as a manual run without a logical date gets them."""
        return {"dry_run": False, "full_refresh": False, "overlap_minutes": self.config.overlap_minutes}

    def run_hour(self) -> bool:
        started = self._next_second()
        run = self.dag.test(logical_date=None, run_conf=self.params)
        ok = run.state == DagRunState.SUCCESS
        self._outcome = "ok" if ok else "failed: " + ", ".join(
            ti.task_id for ti in run.get_task_instances() if ti.state == "failed")
        if ok:
            self.last_success = started
        else:
            self.figures.failed_runs += 1
        return ok

    def run_killed_hour(self) -> None:
        """Run the hour in a child process and SIGKILL it: inside a load step once it has written
        something, or at a random moment (in any task, between tasks, or not at all). Then run the
        killed run's tasks that had not finished, as Airflow retries the killed one and runs the rest."""
        step = self.rng.choice((*LOAD_STEPS, "any"))
        started = self._next_second()
        with self.staging.connect() as conn:
            known = [r[0] for r in conn.execute("SELECT DISTINCT run_id FROM staging.plan")]
        last_run = self._last_dag_run()
        self._control("an", "POST", "knobs", {"latency": 0.05})  # loads take long enough to be caught
        from airflow import settings

        settings.Session.remove()  # no open SQLite transaction while the child writes
        child = subprocess.Popen([sys.executable, "-c", CHILD, self.dag_file, json.dumps(self.params)],
                                 env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        killed = False
        at = started + self.rng.uniform(4, 14)  # "any": the child's run begins after ~4 s and ends after 15-25
        deadline = time.time() + 300
        while child.poll() is None and time.time() < deadline:
            if step == "any":
                killed = time.time() >= at
            else:
                with self.staging.connect() as conn:
                    steps = {row[0]: row[1] for row in conn.execute(
                        "SELECT step, count(*) FILTER (WHERE status <> 'pending') FROM staging.plan"
                        " WHERE run_id <> ALL(%s) GROUP BY 1", (known,))}
                if steps and step not in steps:
                    step = "contacts"  # nothing to load in the chosen step this hour: the first step always has work
                if steps.get(step):
                    time.sleep(self.rng.uniform(0, 0.3))
                    killed = True
            if killed:
                child.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
        child.wait()
        self._control("an", "POST", "knobs", {"latency": 0.0})
        run = self._last_dag_run()
        left = self._unfinished(run) if killed and run and run != last_run else []  # none: it had not begun
        self._outcome = (f"killed in {left[0]} after {time.time() - started:.0f} s" if left
                         else f"kill missed (the run ended after {time.time() - started:.0f} s)")
        if not left:
            self.figures.kills["missed"] += 1
            return
        self.figures.kills[left[0]] += 1
        run_id, run_after = run
        context = {"run_id": run_id, "params": self.params, "dag_run": SimpleNamespace(run_after=run_after)}
        for attempt in range(4):  # Airflow retries the killed task, then runs the downstream ones
            try:
                while left:
                    if left[0] != "resolve_duplicates" or tasks.first_run(context) == left[0]:
                        getattr(tasks, left[0])(context)
                    left = left[1:]
                break
            except Exception:  # noqa: BLE001 - any failure is retried, as Airflow would
                if attempt == 3:
                    self.figures.failed_runs += 1
                    self._outcome += ", its rerun failed"
                    return
        self.last_success = started
        self.check_rerun_changes_nothing(run_id, context)

    def _last_dag_run(self) -> tuple[str, Any] | None:
        """The newest run of the DAG in Airflow's database: its id and when it was to run."""
        from airflow.models import DagRun
        from airflow.utils.session import create_session

        with create_session() as session:
            run = (session.query(DagRun).filter(DagRun.dag_id == self.dag.dag_id)
                   .order_by(DagRun.id.desc()).first())
            return (run.run_id, run.run_after) if run else None

    def _unfinished(self, run: tuple[str, Any]) -> list[str]:
        """The run's tasks, in order, that Airflow has not recorded as done."""
        from airflow.models import TaskInstance
        from airflow.utils.session import create_session

        with create_session() as session:
            done = {ti.task_id for ti in session.query(TaskInstance).filter(
                TaskInstance.dag_id == self.dag.dag_id, TaskInstance.run_id == run[0],
                TaskInstance.state.in_(("success", "skipped")))}
        return [name for name in TASKS if name not in done]

    def check_rerun_changes_nothing(self, run_id: str, context: dict[str, Any]) -> None:
        before = self.an_sandbox.app.store.counts(), self.sf_sandbox.app.store.counts()
        for body in (tasks.load_contacts, tasks.load_campaigns, tasks.load_opportunities):
            body(context)
        after = self.an_sandbox.app.store.counts(), self.sf_sandbox.app.store.counts()
        if after != before:
            self.figures.rerun_changes.append(f"{run_id}: {before} -> {after}")

    def backlog(self) -> int:
        """Records waiting in the write budget's backlog."""
        with self.staging.connect() as conn:
            waiting = conn.execute("SELECT count(*) FROM sync.pending WHERE reason_code = %s", (BACKLOG,)).fetchone()[0]
        self.figures.backlog_peak = max(self.figures.backlog_peak, waiting)
        return waiting

    def waiting_people(self) -> set[str]:
        """Ids of the activists and Contacts whose change, or whose action or donation, waits in the
        queue (the backlog, a retry): read by a run that succeeded, but not written yet."""
        with self.staging.connect() as conn:
            rows = conn.execute("SELECT kind, record_id, people FROM sync.pending").fetchall()
        return {i for kind, record_id, people in rows
                for i in ((record_id,) if kind in PEOPLE else ()) + tuple(people or ())}

    def learn_links(self) -> None:
        with self.staging.connect() as conn:
            links = dict(conn.execute("SELECT an_id, sf_id FROM sync.contact_links WHERE state = 'active'"))
            actions = conn.execute("SELECT an_id, sf_id FROM sync.action_links WHERE state = 'active'").fetchall()
            self.world.first_matches = dict(conn.execute("SELECT an_id, sf_id FROM sync.first_matches"))
        self.world.link_ids(links, {sf: an for an, sf in links.items()})
        by_an, by_sf = dict(actions), {sf: an for an, sf in actions}
        for action in self.world.actions.values():
            action.sf_id = action.sf_id or by_an.get(action.an_id)
            action.an_id = action.an_id or by_sf.get(action.sf_id)

    def edit(self, hour: int) -> None:
        self.world.last_success = self.last_success
        self.world.waiting = self.waiting_people()
        self.world.edit(hour, self.config.edits_per_hour)

    # -- the soak -----------------------------------------------------------------------------------

    def run(self) -> Figures:
        started = time.time()
        self._control("sf", "POST", "limits", {"daily_api_limit": 10_000_000})
        self.world = World(self.rng, self.an_sandbox.url, self.an_sandbox.api_key, self.sf_sandbox.client(),
                           {}, "", switches=self.config.switches)
        self.world.seed(self.config.org_people)
        self.lose_master_answers()
        self.figures.timeline.append(f"first run: {'ok' if self.run_hour() else 'failed'} (master answers lost)")
        self.clear_faults()
        if len(settings.masters(self.staging)) < 4:  # a failed first run: the next one finishes setup
            assert self.run_hour(), "setup must succeed once its faults are gone"
        self.world.masters = settings.masters(self.staging)
        page = requests.post(f"{self.an_sandbox.url}fundraising_pages", headers=self.an_sandbox.headers,
                             json={"title": "Soak appeal", "origin_system": "Soak"}, timeout=30)
        page.raise_for_status()
        self.world.page_id = next(i for i in page.json()["identifiers"]
                                  if i.startswith("action_network:")).split(":", 1)[1]
        self.learn_links()
        kill_hours = set(self.rng.sample(range(self.config.chaos_hours), min(self.config.kills,
                                                                              self.config.chaos_hours)))
        for hour in range(self.config.chaos_hours):
            self.edit(hour)
            self.inject_faults()
            self.run_killed_hour() if hour in kill_hours else self.run_hour()
            self.figures.timeline.append(f"hour {hour}: {self._outcome}; backlog {self.backlog()};"
                                         f" faults {self._hour_faults}")
            self.clear_faults()
            self.learn_links()
        for hour in range(self.config.chaos_hours, self.config.chaos_hours + self.config.clean_hours):
            if hour < self.config.chaos_hours + self.config.clean_hours - 1:
                self.edit(hour)
            assert self.run_hour(), f"clean hour {hour} failed"
            self.learn_links()
        while self.backlog() and self.figures.drain_runs < self.config.drain_runs:
            assert self.run_hour(), "a run draining the backlog failed"
            self.figures.drain_runs += 1
            self.learn_links()
        self.figures.backlog_left = self.backlog()
        self.figures.hours = 1 + self.config.chaos_hours + self.config.clean_hours
        self.figures.edits = self.world.counts()
        with ActionNetworkClient(self.an_sandbox.url, self.an_sandbox.api_key, requests_per_second=200) as an:
            self.figures.findings = Verifier(self.world, an, self.sf_sandbox.app.store.rows, self.staging).run()
        self.figures.seconds = time.time() - started
        return self.figures
