"""The DAG file imports cleanly, is shaped as designed, and does no I/O when parsed."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "actionnetwork_salesforce_sync.py"


@pytest.fixture(scope="module")
def dag():
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["actionnetwork_salesforce_sync"]


def test_schedule_has_a_real_hourly_interval(dag):
    from airflow.sdk import CronDataIntervalTimetable

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "0 * * * *"
    assert dag.max_active_runs == 1
    assert dag.catchup is False


def test_tasks_are_documented_and_retry_with_backoff(dag):
    assert dag.doc_md and "Action Network" in dag.doc_md
    for task in dag.tasks:
        assert task.doc_md, f"{task.task_id} has no doc"
        assert task.retries >= 2
        assert task.retry_exponential_backoff == 2.0


def test_pipeline_is_wired_as_designed(dag):
    downstream = {t.task_id: t.downstream_task_ids for t in dag.tasks}
    assert downstream == {
        "setup": {"extract_an", "extract_sf"},
        "extract_an": {"first_run"},
        "extract_sf": {"first_run"},
        "first_run": {"resolve_duplicates", "reconcile"},
        "resolve_duplicates": {"reconcile"},
        "reconcile": {"load_contacts"},
        "load_contacts": {"load_campaigns"},
        "load_campaigns": {"load_opportunities"},
        "load_opportunities": {"finalize"},
        "finalize": set(),
    }
    assert dag.task_dict["reconcile"].trigger_rule == "none_failed_min_one_success"
    # everything that talks to Action Network shares its rate limit through one pool
    assert {t.task_id for t in dag.tasks if t.pool == "actionnetwork_api"} == {
        "setup", "extract_an", "load_contacts", "load_campaigns", "load_opportunities"}


def test_params_are_described(dag):
    for name, param in dag.params.items():
        assert param.description, f"param {name} has no description"


def test_parsing_does_no_network_or_database_io():
    """Parse the file in a fresh interpreter where every socket connect raises."""
    probe = textwrap.dedent(f"""
        import socket, runpy, time
        import airflow.sdk  # the framework's own import is not the DAG's cost
        def refuse(*a, **k):
            raise AssertionError("the DAG file opened a connection at parse time")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        start = time.perf_counter()
        runpy.run_path({str(DAG_FILE)!r})
        print(time.perf_counter() - start)
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    heavy = subprocess.run(
        [sys.executable, "-c", f"import runpy, sys; runpy.run_path({str(DAG_FILE)!r});"
                               "print(sorted(m for m in ('pandas', 'psycopg', 'requests', 'simple_salesforce')"
                               " if m in sys.modules))"],
        capture_output=True, text=True, timeout=120)
    assert heavy.stdout.strip().splitlines()[-1] == "[]", heavy.stdout + heavy.stderr[-2000:]


def test_alerts_are_wired(dag):
    """A failed run, each task that ends past the run's hour, and a finished run's checks call an alert."""
    from an_sf_sync import alerts

    assert dag.on_failure_callback is alerts.run_failed
    for task in dag.tasks:
        expected = alerts.run_finished if task.task_id == "finalize" else alerts.task_succeeded
        assert expected in task.on_success_callback, task.task_id
