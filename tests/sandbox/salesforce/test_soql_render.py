"""Rendering query rows for REST (JSON records) and Bulk API query results (CSV cells)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from an_sf_sync_dev.sandbox.salesforce.soql import Field, csv_row, json_record
from tests.sandbox.salesforce.test_soql import A1, A2, C, DictSource, make_source, run


def url(sobject: str, record_id: str) -> str:
    return f"/services/data/v59.0/sobjects/{sobject}/{record_id}"


def attrs(sobject: str, record_id: str) -> dict:
    return {"type": sobject, "url": url(sobject, record_id)}


def test_json_record_nests_parents_in_select_order():
    source = make_source()
    result = run(source, "SELECT LastName, Account.Name, Id, account.Parent.Name, Account.AnnualRevenue, "
                         "SystemModstamp, Birthdate, HasOptedOutOfEmail, Score__c, Visits__c, Email "
                         "FROM Contact WHERE LastName IN ('Smith', 'O\\'Brien', '50%_off') ORDER BY LastName")
    records = [json_record(result, r, source, url) for r in result.rows]
    assert records[0] == {
        "attributes": attrs("Contact", C[4]), "LastName": "50%_off",
        "Account": {"attributes": attrs("Account", A2), "Name": "Globex",
                    "Parent": {"attributes": attrs("Account", A1), "Name": "Acme"}, "AnnualRevenue": 20.0},
        "Id": C[4], "SystemModstamp": "2024-04-30T12:00:00.000+0000", "Birthdate": None,
        "HasOptedOutOfEmail": False, "Score__c": -3.25, "Visits__c": 7, "Email": "dee@example.org"}
    assert list(records[0]) == ["attributes", "LastName", "Account", "Id", "SystemModstamp", "Birthdate",
                                "HasOptedOutOfEmail", "Score__c", "Visits__c", "Email"]
    assert records[1]["Account"] is None and records[1]["Email"] is None
    assert records[2]["Account"] == {"attributes": attrs("Account", A1), "Name": "Acme", "Parent": None,
                                     "AnnualRevenue": 1000.1}
    assert records[2]["Birthdate"] == "1990-05-01"
    json.dumps(records)  # every value is JSON-serialisable


def test_json_record_polymorphic_parent_reports_its_real_type():
    source = make_source()
    result = run(source, "SELECT Subject, Who.LastName FROM Task ORDER BY Subject")
    records = [json_record(result, r, source, url) for r in result.rows]
    assert [r["Who"] and r["Who"]["attributes"]["type"] for r in records] == ["Contact", "Lead", None]
    assert records[1]["Who"]["LastName"] == "Leady"


def test_csv_row_flattens_parents_and_formats_values():
    source = make_source()
    result = run(source, "SELECT Id, LastName, Account.Name, Account.Parent.Name, SystemModstamp, Birthdate, "
                         "HasOptedOutOfEmail, Score__c, Account.AnnualRevenue FROM Contact ORDER BY LastName")
    assert result.columns[2:4] == ["Account.Name", "Account.Parent.Name"]
    rows = [csv_row(result, r, source) for r in result.rows]
    assert rows[0] == [C[4], "50%_off", "Globex", "Acme", "2024-04-30T12:00:00.000Z", "", "false", "-3.25", "20"]
    assert rows[1][2:] == ["", "", "2024-05-08T00:00:00.000Z", "", "false", "", ""]
    assert rows[2][2:] == ["Acme", "", "2024-05-15T08:00:00.000Z", "1990-05-01", "false", "1.5", "1000.10"]
    assert rows[3][6] == "true"


def test_milliseconds_are_kept_and_offsets_rendered_as_utc():
    schema = {"Thing": [Field("Id", "id"), Field("IsDeleted", "boolean"), Field("When", "datetime"),
                        Field("Day", "date"), Field("Amount", "currency")]}
    local = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    thing = {"Id": "a0A000000000001AAA", "IsDeleted": False, "When": local, "Day": date(2024, 2, 29),
             "Amount": Decimal("12.50")}
    src = DictSource(schema, {"Thing": [thing]})
    src.prefix = lambda sobject: "a0A"
    result = run(src, "SELECT When, Day, Amount FROM Thing WHERE When = 2024-01-02T03:04:05.678901Z")
    assert json_record(result, result.rows[0], src, url) == {
        "attributes": attrs("Thing", thing["Id"]), "When": "2024-01-02T03:04:05.678+0000", "Day": "2024-02-29",
        "Amount": 12.5}
    assert csv_row(result, result.rows[0], src) == ["2024-01-02T03:04:05.678Z", "2024-02-29", "12.50"]
