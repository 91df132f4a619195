"""Hourly means hourly: after a day paused, Airflow schedules one run, and that run reads the whole gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest
import requests
from airflow.serialization.serialized_objects import DagSerialization
from airflow.timetables.base import DagRunInfo
from airflow.utils.state import DagRunState

from an_sf_sync.staging import runs
from an_sf_sync_dev.sandbox.actionnetwork.generator import generate
from tests.dags.conftest import states

pytestmark = pytest.mark.slow


def signup(an_id: str, at: datetime) -> dict:
    email = f"{an_id}@example.org"
    return {"id": an_id, "given_name": "Gap", "family_name": an_id.title(), "created_date": at.isoformat(),
            "modified_date": at.isoformat(),
            "email_addresses": [{"address": email, "primary": True, "status": "subscribed"}]}


def test_a_day_paused_is_caught_up_by_one_run_that_reads_the_whole_gap(dag, an_sandbox, sf_sandbox, staging):
    last_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    paused_at = last_hour - timedelta(hours=24)
    an_sandbox.app.store.load(generate(people=20, seed=5, now=paused_at - timedelta(days=1)))
    first = dag.test(logical_date=paused_at)
    assert first.state == DagRunState.SUCCESS, states(first)
    assert runs.watermark(staging, "actionnetwork") == paused_at

    # paused for a day, while people keep signing up and a CRM admin edits a Contact
    gap = {f"gap-{h}": paused_at + timedelta(hours=h, minutes=7) for h in (1, 9, 17, 23)}
    an_sandbox.app.store.load_records({"people": [signup(an_id, at) for an_id, at in gap.items()]})
    linked = next(c for c in sf_sandbox.app.store.rows("Contact") if c.get("Action_Network_ID__c"))
    clock = sf_sandbox.app.store.clock
    sf_sandbox.app.store.clock = lambda: paused_at + timedelta(hours=5)
    sf_sandbox.app.store.update("Contact", linked["Id"], {"MailingCity": "Gapville"})
    sf_sandbox.app.store.clock = clock

    # unpaused: the scheduler's next run is the latest hour only, not the 24 it skipped
    scheduled = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    following = scheduled.next_dagrun_info(
        last_automated_run_info=DagRunInfo.interval(pendulum.instance(paused_at - timedelta(hours=1)),
                                                    pendulum.instance(paused_at)))
    assert (following.data_interval.start, following.data_interval.end) == (last_hour - timedelta(hours=1),
                                                                           last_hour)

    catch_up = dag.test(logical_date=last_hour)  # the run for the interval ending at the latest hour
    assert catch_up.state == DagRunState.SUCCESS, states(catch_up)
    for source in ("actionnetwork", "salesforce"):
        extract = runs.extract_of(staging, catch_up.run_id, source)
        assert (extract["window_start"], extract["window_end"]) == (paused_at - timedelta(minutes=5), last_hour)
    assert runs.extract_of(staging, catch_up.run_id, "actionnetwork")["counts"]["people"] >= len(gap)
    contacts = {c["Email"]: c for c in sf_sandbox.app.store.rows("Contact") if c.get("Email")}
    assert {f"{an_id}@example.org" for an_id in gap} <= set(contacts)  # every sign-up of the day
    person = requests.get(f"{an_sandbox.url}people/{linked['Action_Network_ID__c']}", headers=an_sandbox.headers,
                          timeout=30).json()
    assert person["postal_addresses"][0]["locality"] == "Gapville"  # the edit made while paused
    assert runs.watermark(staging, "actionnetwork") == runs.watermark(staging, "salesforce") == last_hour
