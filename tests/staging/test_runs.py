"""A run's record: which later run, if any, has written since a run read its changes."""

from datetime import UTC, datetime

from an_sf_sync.plan import Action, Direction, Obj, Op, Step
from an_sf_sync.staging import plans, runs

END = datetime(2026, 3, 1, 10, tzinfo=UTC)


def extract(staging, run_id: str) -> None:
    for source in ("actionnetwork", "salesforce"):
        runs.record_extract(staging, run_id, source, None, END, {})


def plan(staging, run_id: str, status: str | None = None) -> None:
    write = Op(pair_id=1, object=Obj.CONTACT, direction=Direction.TO_SALESFORCE, action=Action.UPDATE,
               an_id="a1", sf_id="003A", payload={})
    with staging.connect() as conn:
        plans.append(conn, run_id, Step.CONTACTS, [write])
        if status:
            plans.mark(conn, run_id, Step.CONTACTS, [(1, status, None, None, None)])


def test_a_run_is_superseded_only_by_a_later_run_that_wrote(staging):
    extract(staging, "old")
    plan(staging, "old", "failed")
    assert runs.superseded_by(staging, "old") is None
    extract(staging, "dry")  # a later dry run, or one that stopped before its loads, writes nothing
    plan(staging, "dry")
    assert runs.superseded_by(staging, "old") is None
    extract(staging, "next")
    plan(staging, "next", "done")
    assert runs.superseded_by(staging, "old") == "next"
    assert runs.superseded_by(staging, "next") is None and runs.superseded_by(staging, "dry") == "next"
    extract(staging, "old")  # the old run's extracts rerun: its copies are the newest again
    assert runs.superseded_by(staging, "old") is None


def test_a_run_whose_staging_was_removed_is_superseded_by_any_later_run_that_wrote(staging):
    plan(staging, "pruned", "failed")  # its extracts gone with its staging, after the days kept
    assert runs.superseded_by(staging, "pruned") is None
    extract(staging, "next")
    plan(staging, "next", "done")
    assert runs.superseded_by(staging, "pruned") == "next"
