"""SOQL is built with format_soql: values quoted, names checked, so odd input cannot change a query."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from an_sf_sync.salesforce import soql
from an_sf_sync.window import Window

INJECTIONS = ["x' OR LastName != 'y", "O'Brien\\", "%' OR Id != null OR Name LIKE '%", "a\nb\"c"]


def test_window_and_where_are_quoted():
    clause = soql.conditions(Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)),
                             "LastName = {name}", {"name": "x' OR Id != null"})
    assert soql.select("Contact", ["Id", "Account.Name"], clause) == (
        "SELECT Id, Account.Name FROM Contact WHERE SystemModstamp >= 2026-01-01T00:00:00+00:00"
        " AND SystemModstamp < 2026-01-02T00:00:00+00:00 AND (LastName = 'x\\' OR Id != null')")
    assert soql.count("Contact") == "SELECT COUNT() FROM Contact"


@pytest.mark.parametrize("name", ["Contact WHERE Id != null", "Id, (SELECT Id FROM Contacts)", "", "1abc", None])
def test_names_that_are_not_api_names_are_refused(name):
    with pytest.raises(ValueError):
        soql.select("Contact", [name])
    with pytest.raises(ValueError):
        soql.count(name)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        soql.conditions(Window(None, datetime(2026, 1, 1)))


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_shaped_values_match_only_themselves(sf_sandbox, client, value):
    store = sf_sandbox.app.store
    store.load({"Contact": [{"LastName": "y"}, {"LastName": "z"}, {"LastName": value}]})
    assert client.count("Contact", where="LastName = {v}", params={"v": value}) == 1
    rows = [r for chunk in client.read("Contact", ["Id", "LastName"], where="LastName = {v}",
                                       params={"v": value}) for r in chunk]
    assert [r["LastName"] for r in rows] == [value]
