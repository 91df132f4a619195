"""The chaos soak (see :mod:`tests.soak.chaos`): a CI-sized one in every test run, a long one on demand.

The long soak is a command, not part of ``make test``; it prints its figures::

    make soak                                                  # 24 simulated hours, seed 1
    make soak SOAK_OVERLAP=0                                   # no re-read: each change in one window only
    make soak SOAK_BUDGET=10                                   # 10 Action Network writes a run: a backlog throughout
    AN_SF_SYNC_SOAK_HOURS=48 AN_SF_SYNC_SOAK_SEED=7 .venv/bin/pytest tests/soak -k long -s
"""

from __future__ import annotations

import json
import os

import pytest

from tests.dags.test_dag_integrity import DAG_FILE
from tests.soak.chaos import Figures, Soak, SoakConfig

pytestmark = pytest.mark.slow


@pytest.fixture
def soak(dag, an_sandbox, sf_sandbox, staging, monkeypatch):
    # a short Action Network timeout, so that injected hangs trip it in seconds
    monkeypatch.setenv("AIRFLOW_CONN_ACTIONNETWORK_DEFAULT", json.dumps({
        "conn_type": "actionnetwork", "host": an_sandbox.url, "password": an_sandbox.api_key,
        "extra": {"requests_per_second": 200, "timeout": 1.5}}))

    def run(config: SoakConfig) -> Figures:
        if config.write_budget:
            monkeypatch.setenv("AIRFLOW_VAR_AN_SF_SYNC_WRITE_BUDGET", str(config.write_budget))
        return Soak(config, dag, str(DAG_FILE), an_sandbox, sf_sandbox, staging).run()

    return run


def assert_clean(figures: Figures) -> None:
    f = figures.findings
    assert not f.duplicates, figures.report()
    assert not f.lost, figures.report()
    assert not f.diverged, figures.report()
    assert not figures.rerun_changes, figures.report()


# The default re-read, which reads every earlier soak hour again (their changes must change nothing
# twice), and none, which reads each change in one window only, as runs an hour apart do; and a
# write budget so small that a backlog is carried through every hour, as in a big org's first days.
@pytest.mark.parametrize(("overlap_minutes", "write_budget"), [(5, 0), (0, 0), (0, 4)],
                         ids=["overlap", "no-overlap", "backlog"])
def test_chaos_soak(soak, overlap_minutes, write_budget):
    figures = soak(SoakConfig(seed=int(os.environ.get("AN_SF_SYNC_SOAK_SEED", 1)), chaos_hours=8, clean_hours=2,
                              edits_per_hour=30, faults_per_hour=5, kills=2, overlap_minutes=overlap_minutes,
                              write_budget=write_budget))
    print(figures.report())
    assert_clean(figures)
    # active pairs at the end: Contacts deleted, or whose email was changed, in Salesforce stop theirs
    assert figures.findings.pairs > 25 and figures.faults_fired > 10
    assert bool(figures.backlog_peak) == bool(write_budget)
    assert sum(n for step, n in figures.kills.items() if step != "missed") >= 1


@pytest.mark.skipif(not os.environ.get("AN_SF_SYNC_SOAK_HOURS"), reason="the long soak: make soak")
def test_long_chaos_soak(soak):
    hours = int(os.environ["AN_SF_SYNC_SOAK_HOURS"])
    figures = soak(SoakConfig(seed=int(os.environ.get("AN_SF_SYNC_SOAK_SEED", 1)), chaos_hours=hours - 4,
                              clean_hours=3, edits_per_hour=40, faults_per_hour=8, kills=max(1, hours // 3),
                              overlap_minutes=int(os.environ.get("AN_SF_SYNC_SOAK_OVERLAP", 5)),
                              write_budget=int(os.environ.get("AN_SF_SYNC_SOAK_BUDGET", 0))))
    print(figures.report())
    assert_clean(figures)
