"""setup: field checks with messages an admin can act on, master records by id, one org per group."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from an_sf_sync.actionnetwork.client import ActionNetworkClient
from an_sf_sync.errors import SetupError
from an_sf_sync.salesforce.client import SalesforceClient
from an_sf_sync.salesforce.hook import CABundleSession
from an_sf_sync.setup import check_fields, ensure_masters, run_setup, unknown_action_collections
from an_sf_sync.staging import settings
from an_sf_sync_dev.sandbox.actionnetwork.server import ActionNetworkApp
from tests.fixtures.actionnetwork import serve
from tests.salesforce.support import control


@pytest.fixture
def sf(sf_sandbox) -> SalesforceClient:
    return SalesforceClient(Salesforce(username=sf_sandbox.username, password=sf_sandbox.password,
                                       security_token=sf_sandbox.security_token, domain=sf_sandbox.domain,
                                       session=CABundleSession(str(sf_sandbox.ca_file))))


@pytest.fixture
def an(an_sandbox) -> ActionNetworkClient:
    return ActionNetworkClient(an_sandbox.url, an_sandbox.api_key, requests_per_second=200)


def test_configured_custom_fields_map_to_text_area_long_fields_and_lengths_come_from_describe(sf):
    check = check_fields(sf.describe, ["employer"])
    assert check.custom_fields == {"employer": "Employer__c"} and check.warnings == []
    assert (check.lengths["first_name"], check.lengths["last_name"], check.lengths["city"]) == (40, 80, 40)
    assert check.lengths["cf:employer"] > 255


def test_a_custom_field_that_cannot_sync_is_skipped_with_what_to_do(sf, sf_sandbox):
    sf_sandbox.app.store.set_custom_fields({"Contact": {"Title_Short__c": "text", "Employer__c": "textarea"}})
    check = check_fields(sf.describe, ["Join Date", "volunteer_skills", "Title_Short", "employer"])
    assert check.custom_fields == {"employer": "Employer__c"}  # the good one still syncs
    message = "\n".join(check.warnings)
    assert "'Join Date' has a space in its name" in message and "'Join_Date'" in message
    assert "Contact has no field volunteer_skills__c. Create a Text Area (Long) field" in message
    assert "Contact.Title_Short__c must be a Text Area (Long)" in message


def test_a_field_the_sync_itself_needs_stops_it(sf, sf_sandbox):
    sf_sandbox.app.store.set_custom_fields({"Opportunity": {"Action_Network_Recurring__c": None}})
    with pytest.raises(SetupError, match="Opportunity has no field Action_Network_Recurring__c"):
        check_fields(sf.describe, ["employer"])


def test_masters_are_created_once_then_followed_by_id_even_when_renamed(staging, an, sf, sf_sandbox):
    first = ensure_masters(staging, an, sf)
    assert set(first) == {"sf_subscribers_campaign", "sf_donations_account", "an_users_form", "an_donations_page"}
    campaign = sf_sandbox.app.store.get("Campaign", first["sf_subscribers_campaign"])
    assert campaign["Action_Network_ID__c"] == first["an_users_form"]  # the pairing is recorded in Salesforce
    sf_sandbox.app.store.update("Campaign", first["sf_subscribers_campaign"], {"Name": "AN subscribers (renamed)"})
    sf_sandbox.app.store.update("Account", first["sf_donations_account"], {"Name": "Donations via AN"})
    assert ensure_masters(staging, an, sf) == first
    assert sum(1 for c in sf_sandbox.app.store.rows("Campaign") if c.get("ParentId") is None) == 1
    assert len(sf_sandbox.app.store.rows("Account")) == 1


def test_masters_are_created_exactly_once_when_every_creation_answer_is_lost(staging, an, sf, an_sandbox, sf_sandbox):
    lost = {"status": 502, "body": "<html><body>Bad Gateway</body></html>", "content_type": "text/html",
            "after": True}
    for path in ("/forms$", "/fundraising_pages$"):  # created, then answered with an HTML 502
        requests.post(f"{an_sandbox.url.split('/api/')[0]}/__sandbox__/faults",
                      json={**lost, "path": path, "method": "POST"}).raise_for_status()
    control(sf_sandbox, "faults", {**lost, "path": "/composite/sobjects$", "method": "POST", "count": 2})
    for attempt in range(3):  # Airflow's retries of the setup task
        try:
            masters = ensure_masters(staging, an, sf)
            break
        except SalesforceError:
            assert attempt < 2
    forms = an.find_actions("form", "title", "Salesforce Users")
    pages = an.find_actions("fundraising_page", "title", "Salesforce Donations")
    assert [f["an_id"] for f in forms] == [masters["an_users_form"]]
    assert [p["an_id"] for p in pages] == [masters["an_donations_page"]]
    assert [c["Id"] for c in sf_sandbox.app.store.rows("Campaign")] == [masters["sf_subscribers_campaign"]]
    assert [a["Id"] for a in sf_sandbox.app.store.rows("Account")] == [masters["sf_donations_account"]]


def test_a_deleted_master_is_created_again(staging, an, sf, sf_sandbox):
    first = ensure_masters(staging, an, sf)
    sf_sandbox.app.store.delete("Account", first["sf_donations_account"])
    again = ensure_masters(staging, an, sf)
    assert again["sf_donations_account"] != first["sf_donations_account"]
    assert {k: v for k, v in again.items() if k != "sf_donations_account"} == {
        k: v for k, v in first.items() if k != "sf_donations_account"}


def test_a_second_action_network_group_is_refused(staging, staging_conninfo, an, sf):
    ensure_masters(staging, an, sf)
    other_group = ActionNetworkApp(api_key="other-group-key", rate_limit=0)
    for sandbox in serve(other_group):
        other = ActionNetworkClient(sandbox.url, sandbox.api_key, requests_per_second=200)
        fresh_state = type(staging)(staging_conninfo)  # even with the local state lost
        with fresh_state.connect() as conn:
            conn.execute("DELETE FROM sync.masters")
        with pytest.raises(SetupError, match="already synced with another Action Network group"):
            ensure_masters(fresh_state, other, sf)
        assert settings.masters(fresh_state) == {}


def test_the_org_is_checked_once_a_day_unless_forced_or_reconfigured(staging, an, sf, an_sandbox, sf_sandbox):
    first = run_setup(staging, lambda: an, lambda: sf, ["employer"])
    calls = sf_sandbox.app.api_calls, an_sandbox.app.stats.total
    assert run_setup(staging, lambda: an, lambda: sf, ["employer"]) == first
    assert (sf_sandbox.app.api_calls, an_sandbox.app.stats.total) == calls  # the hourly run spends nothing here
    run_setup(staging, lambda: an, lambda: sf, ["employer"], force=True)
    assert sf_sandbox.app.api_calls > calls[0]
    calls = sf_sandbox.app.api_calls
    assert run_setup(staging, lambda: an, lambda: sf, [])["custom_fields"] == {}  # reconfigured: checked again
    assert sf_sandbox.app.api_calls > calls


def test_the_entry_point_of_a_group_lists_no_unknown_action_collection():
    # the links of a real entry point (reference §1.1), plus the newer documented ones
    real = ["osdi:people", "osdi:events", "osdi:petitions", "osdi:fundraising_pages", "osdi:donations",
            "osdi:forms", "action_network:event_campaigns", "action_network:campaigns", "osdi:tags", "osdi:lists",
            "osdi:person_signup_helper", "osdi:advocacy_campaigns", "canvasser:brand_logo", "osdi:wrappers",
            "osdi:messages", "osdi:queries", "action_network:unique_id_lists", "action_network:surveys",
            "action_network:metadata"]
    assert unknown_action_collections(real) == []
    assert unknown_action_collections([*real, "action_network:quizzes"]) == ["action_network:quizzes"]


def test_an_action_collection_the_sync_does_not_know_is_reported_once(staging, an, sf, an_sandbox):
    assert run_setup(staging, lambda: an, lambda: sf, [], run_id="r1")["warnings"] == []
    an_sandbox.app.set_knobs(collections=["action_network:quizzes", "osdi:record_quiz_helper"])
    warnings = run_setup(staging, lambda: an, lambda: sf, [], force=True, run_id="r2")["warnings"]
    assert len(warnings) == 1 and "'action_network:quizzes'" in warnings[0]
    assert run_setup(staging, lambda: an, lambda: sf, [], force=True, run_id="r3")["warnings"] == []
    with staging.connect() as conn:
        rejects = conn.execute("SELECT run_id, record_id FROM sync.rejects WHERE reason_code = 'ACTION_TYPE_NOT_SYNCED'"
                               ).fetchall()
    assert rejects == [("r2", "action_network:quizzes")]
