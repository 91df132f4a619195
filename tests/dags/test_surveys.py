"""Surveys over several hourly runs: a survey becomes a Campaign with its respondents as members,
later respondents follow, a Contact added to its Campaign in Salesforce becomes one response (even when the answer to
its POST is lost), and a kind of action the sync does not know is reported once.
"""

from __future__ import annotations

import pytest
from airflow.utils.state import DagRunState

from an_sf_sync.staging import settings
from an_sf_sync_dev.sandbox.http import Fault
from tests.dags.conftest import states
from tests.dags.test_edge_cases import Org, person

pytestmark = pytest.mark.slow

ADA, BOB, SOLO = "p-ada", "p-bob", "p-solo"
SURVEY = "sv-members"


@pytest.fixture(params=[5, 0], ids=["overlap5", "overlap0"])
def org(request, dag, an_sandbox, sf_sandbox, staging) -> Org:
    an_sandbox.app.store.load_records({
        "people": [person(ADA, "ada@example.org", "Ada", "Lovelace"), person(BOB, "bob@example.org", "Bob", "Builder"),
                   person(SOLO, "solo@example.org", "Solo")],
        "surveys": [{"id": SURVEY, "title": "Member survey: what should we work on?"}],
        "responses": [{"person_id": ADA, "survey_id": SURVEY}],
    })
    return Org(dag, an_sandbox, sf_sandbox, staging, request.param)


def survey_campaign(org) -> tuple[str, str]:
    with org.staging.connect() as conn:
        return conn.execute("SELECT sf_id, an_type FROM sync.action_links WHERE an_id = %s", (SURVEY,)).fetchone()


def members(org, campaign: str) -> list[str]:
    return sorted(m["ContactId"] for m in org.sf.query(
        f"SELECT ContactId FROM CampaignMember WHERE CampaignId = '{campaign}'")["records"])


def respondents(org) -> list[str]:
    page = org.an.get(f"{org.an_url}surveys/{SURVEY}/responses").json()
    return sorted(r["action_network:person_id"] for r in page["_embedded"]["action_network:responses"])


def test_a_survey_and_its_respondents_sync_both_ways(org):
    org.run()
    campaign, kind = survey_campaign(org)
    assert kind == "survey"
    assert org.sf.Campaign.get(campaign)["Name"] == "Member survey: what should we work on?"
    assert members(org, campaign) == [org.link(ADA)[0]]

    # a later respondent, an hour later, through the record response helper
    org.an.post(f"{org.an_url}surveys/{SURVEY}/responses",
                json={"_links": {"osdi:person": {"href": f"{org.an_url}people/{BOB}"}}}).raise_for_status()
    org.run()
    assert members(org, campaign) == sorted([org.link(ADA)[0], org.link(BOB)[0]])

    # a Contact added to the survey's Campaign in Salesforce responds in Action Network, once
    solo = org.link(SOLO)[0]
    org.sf.CampaignMember.create({"CampaignId": campaign, "ContactId": solo})
    run = org.run()
    assert respondents(org) == sorted([ADA, BOB, SOLO])
    assert not org.rejects(run)
    for _ in range(2):  # later runs read the response back: nothing echoes, nothing doubles
        assert org.writes(org.run()) == []
    assert respondents(org) == sorted([ADA, BOB, SOLO])
    assert members(org, campaign) == sorted([org.link(ADA)[0], org.link(BOB)[0], solo])


def test_a_kind_of_action_the_sync_does_not_know_is_reported_once(org):
    org.an_sandbox.app.set_knobs(collections=["action_network:quizzes", "osdi:record_quiz_helper"])
    first = org.run()
    assert ("action_network:quizzes", "ACTION_TYPE_NOT_SYNCED") in org.rejects(first)
    assert survey_campaign(org)[1] == "survey"  # everything else syncs
    org.run()
    checked = settings.get(org.staging, "setup_checked")["at"]
    # the next daily check (forced here) sees it again and says nothing more
    run = org.dag.test(logical_date=None, run_conf={"overlap_minutes": org.overlap, "full_refresh": True})
    assert run.state == DagRunState.SUCCESS, states(run)
    assert settings.get(org.staging, "setup_checked")["at"] > checked
    org.run()
    with org.staging.connect() as conn:
        reported = conn.execute("SELECT run_id FROM sync.rejects WHERE reason_code = 'ACTION_TYPE_NOT_SYNCED'"
                                ).fetchall()
    assert [r[0] for r in reported] == [first.run_id]


def test_a_response_whose_answer_was_lost_is_not_posted_twice(org):
    org.run()
    campaign = survey_campaign(org)[0]
    member = org.sf.CampaignMember.create({"CampaignId": campaign, "ContactId": org.link(SOLO)[0]})["id"]
    # Action Network records the response, but its answer never arrives
    org.an_sandbox.app.knobs.add_fault(Fault(status=500, after=True, method="POST",
                                             path=f"/surveys/{SURVEY}/responses$"))
    run = org.run()
    assert respondents(org) == sorted([ADA, SOLO])
    assert {code for record, code in org.rejects(run) if record == member}  # reported, waiting for a retry
    for _ in range(2):  # later runs read the response back and link it: it is never posted again
        org.run()
        assert respondents(org) == sorted([ADA, SOLO])
    page = org.an.get(f"{org.an_url}surveys/{SURVEY}/responses").json()["_embedded"]["action_network:responses"]
    assert [r["identifiers"][1:] for r in page if r["action_network:person_id"] == SOLO] == [[f"salesforce:{member}"]]
    with org.staging.connect() as conn:
        assert conn.execute("SELECT status FROM sync.rejects WHERE record_id = %s", (member,)).fetchall() == [
            ("resolved",)]
