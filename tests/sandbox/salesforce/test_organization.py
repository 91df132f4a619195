"""The org's Organization row: read-only, one row, with the default time zone the sync reads."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def test_the_org_has_one_read_only_organization_with_its_time_zone(sf_sandbox):
    sf = sf_sandbox.client()
    org, = sf.query("SELECT Id, TimeZoneSidKey, IsSandbox FROM Organization")["records"]
    assert org["Id"].startswith("00D") and org["TimeZoneSidKey"] == "America/Los_Angeles" and org["IsSandbox"]
    sf_sandbox.app.store.set_org_time_zone("Europe/Berlin")
    again, = sf.query("SELECT Id, TimeZoneSidKey FROM Organization")["records"]
    assert (again["Id"], again["TimeZoneSidKey"]) == (org["Id"], "Europe/Berlin")
    with pytest.raises(SalesforceMalformedRequest):
        sf.Organization.update(org["Id"], {"TimeZoneSidKey": "UTC"})
