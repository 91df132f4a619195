"""A thin client of Airflow's REST API v2 for the end-to-end tests, with bounded waits.

Every wait has a deadline; when one fails, the assertion message carries the run's task states
and the logs of its tasks that did not succeed, so a CI failure explains itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests

from an_sf_sync_dev.demo import DAG_ID

T = TypeVar("T")
FINISHED = {"success", "failed"}


def wait_for(check: Callable[[], T | None], timeout: float, what: str,
             explain: Callable[[], str] = lambda: "", interval: float = 1.0) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``explain()`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{explain()}")
        time.sleep(interval)


class AirflowAPI:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        response = requests.post(f"{base_url}/auth/token", json={"username": username, "password": password},
                                 timeout=30)
        assert response.status_code == 201, response.text
        self.token = response.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.base_url}{path}", timeout=30, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text[:2000]}"
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)

    # ---- the DAG's runs ------------------------------------------------------------------------

    def dag(self, suffix: str = "") -> str:
        return f"/api/v2/dags/{DAG_ID}{suffix}"

    def trigger(self, run_id: str | None, logical_date: str | None, **extra: Any) -> dict[str, Any]:
        body = {"logical_date": logical_date, **({"dag_run_id": run_id} if run_id else {}), **extra}
        return self.call("POST", self.dag("/dagRuns"), json=body)

    def runs(self) -> list[dict[str, Any]]:
        return self.get(self.dag("/dagRuns"), limit=100, order_by="-run_after")["dag_runs"]

    def run(self, run_id: str) -> dict[str, Any]:
        return self.get(self.dag(f"/dagRuns/{run_id}"))

    def task_instances(self, run_id: str) -> dict[str, dict[str, Any]]:
        tis = self.get(self.dag(f"/dagRuns/{run_id}/taskInstances"), limit=100)["task_instances"]
        return {ti["task_id"]: ti for ti in tis}

    def log(self, run_id: str, task_id: str, try_number: int) -> list[dict[str, Any]]:
        """The structured log events of one try."""
        return self.call("GET", self.dag(f"/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"),
                         params={"full_content": "true"}, headers={"Accept": "application/json"})["content"]

    def log_text(self, run_id: str, task_id: str, try_number: int) -> str:
        lines = []
        for event in self.log(run_id, task_id, try_number):
            line = f"{event.get('timestamp', '')} {event.get('level', '')} {event.get('event', '')}".strip()
            for error in event.get("error_detail") or []:
                line += f"\n    {error.get('exc_type')}: {error.get('exc_value')}"
            lines.append(line)
        return "\n".join(lines)

    def describe(self, run_id: str) -> str:
        """The run's task states, and the logs of the tasks that ran and did not succeed."""
        try:
            tis = self.task_instances(run_id)
        except AssertionError as exc:
            return f"(no task instances for {run_id}: {exc})"
        out = [f"run {run_id}: " + ", ".join(f"{t}={ti['state']}" for t, ti in tis.items())]
        for task_id, ti in tis.items():
            if ti["state"] != "success" and ti["try_number"]:
                text = self.log_text(run_id, task_id, ti["try_number"])
                out.append(f"--- {task_id} try {ti['try_number']} log (last 40 lines)\n"
                           + "\n".join(text.splitlines()[-40:]))
        return "\n".join(out)

    def _finished(self, run_id: str) -> dict[str, Any] | None:
        """The run once it has finished; a task waiting for a retry fails the test at once.

        No step of these scenarios is meant to be retried, and the DAG waits minutes between tries.
        """
        run = self.run(run_id)
        if run["state"] in FINISHED:
            return run
        retrying = [t for t, ti in self.task_instances(run_id).items() if ti["state"] == "up_for_retry"]
        assert not retrying, f"run {run_id}: {retrying} failed and wait for a retry\n{self.describe(run_id)}"
        return None

    def wait_run(self, run_id: str, state: str, timeout: float = 180) -> dict[str, Any]:
        """Until the run finishes; assert it finished in ``state``."""
        run = wait_for(lambda: self._finished(run_id), timeout, f"run {run_id} to finish",
                       lambda: self.describe(run_id))
        assert run["state"] == state, f"run {run_id} ended {run['state']}, expected {state}\n{self.describe(run_id)}"
        return run

    def wait_idle(self, timeout: float = 240) -> None:
        """Until no run of the DAG is queued or running."""
        def active() -> list[str]:
            return [r["dag_run_id"] for r in self.runs() if r["state"] not in FINISHED]
        wait_for(lambda: all(self._finished(run_id) for run_id in active()), timeout,
                 "the DAG to have no active run", lambda: "\n".join(self.describe(run_id) for run_id in active()))

    def wait_clear_of_the_hour(self, margin: timedelta = timedelta(minutes=5)) -> None:
        """Until the next scheduled run is ``margin`` away, then until no run is active.

        The run the scheduler starts on the hour would read the changes a scenario just made, and
        take the fault meant for the scenario's own run.
        """
        now = datetime.now(UTC)
        hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        if hour - now < margin:
            wait_for(lambda: any(r["run_type"] == "scheduled" and r["state"] in FINISHED
                                 and datetime.fromisoformat(r["data_interval_end"]) >= hour for r in self.runs()),
                     (margin + timedelta(minutes=5)).total_seconds(), f"the scheduled run ending {hour:%H:%M}")
        self.wait_idle()

    def downstream(self, task_id: str) -> set[str]:
        """``task_id``'s downstream tasks, transitively, from the DAG's structure."""
        tasks = {t["task_id"]: t["downstream_task_ids"] for t in self.get(self.dag("/tasks"))["tasks"]}
        found: set[str] = set()
        todo = list(tasks[task_id])
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(tasks[current])
        return found
