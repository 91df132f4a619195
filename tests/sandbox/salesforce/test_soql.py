"""Running SOQL against a small in-memory org: names, filters, joins, dates, ordering, errors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from an_sf_sync_dev.sandbox.salesforce.soql import Field, Result, SoqlError, execute, parse
from an_sf_sync_dev.sandbox.salesforce.soql_filter import date_range

NOW = datetime(2024, 5, 15, 12, 30, tzinfo=UTC)  # a Wednesday


def _id(prefix: str, n: int) -> str:
    return f"{prefix}0000{n:05d}xYzAAA"


def ref(name: str, to: str | tuple[str, ...], rel: str) -> Field:
    return Field(name, "reference", (to,) if isinstance(to, str) else to, rel)


BASE = [Field("Id", "id"), Field("IsDeleted", "boolean"), Field("CreatedDate", "datetime")]
SCHEMA: dict[str, list[Field]] = {
    "User": [*BASE, Field("Name", "string")],
    "Account": [*BASE, Field("Name", "string"), ref("ParentId", "Account", "Parent"),
                ref("OwnerId", "User", "Owner"), Field("AnnualRevenue", "currency"),
                Field("Description", "textarea", filterable=False)],
    "Contact": [*BASE, Field("FirstName", "string"), Field("LastName", "string"), Field("Email", "email"),
                ref("AccountId", "Account", "Account"), ref("ReportsToId", "Contact", "ReportsTo"),
                Field("Birthdate", "date"), Field("SystemModstamp", "datetime"),
                Field("HasOptedOutOfEmail", "boolean"), Field("Score__c", "double"),
                Field("Visits__c", "int"), Field("Bio__c", "textarea", filterable=False),
                Field("Level__c", "picklist")],
    "Lead": [*BASE, Field("LastName", "string"), ref("OwnerId", "Group", "Owner")],  # Group: not in this org
    "Campaign": [*BASE, Field("Name", "string"), ref("ParentId", "Campaign", "Parent")],
    "CampaignMember": [*BASE, ref("CampaignId", "Campaign", "Campaign"), ref("ContactId", "Contact", "Contact"),
                       ref("LeadId", "Lead", "Lead"), Field("Status", "string")],
    "Task": [*BASE, Field("Subject", "string"), ref("WhoId", ("Contact", "Lead"), "Who")],
}


class DictSource:
    """Objects and rows held in dicts, in insertion order."""

    def __init__(self, schema: dict[str, list[Field]], rows: dict[str, list[dict[str, Any]]]) -> None:
        self.schema = {name.lower(): (name, {f.name.lower(): f for f in fields}) for name, fields in schema.items()}
        self.data = rows
        self.by_id = {row["Id"]: row for table in rows.values() for row in table}

    def fields(self, sobject: str) -> dict[str, Field] | None:
        entry = self.schema.get(sobject.lower())
        return entry[1] if entry else None

    def canonical_name(self, sobject: str) -> str | None:
        entry = self.schema.get(sobject.lower())
        return entry[0] if entry else None

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[dict[str, Any]]:
        return [r for r in self.data.get(sobject, []) if include_deleted or not r["IsDeleted"]]

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        row = self.by_id.get(record_id)
        return row if row is not None and row["Id"].startswith(self.prefix(sobject)) else None

    @staticmethod
    def prefix(sobject: str) -> str:
        return PREFIX[sobject]


PREFIX = {"User": "005", "Account": "001", "Contact": "003", "Lead": "00Q", "Campaign": "701",
          "CampaignMember": "00v", "Task": "00T"}


def row(sobject: str, n: int, **values: Any) -> dict[str, Any]:
    base = {f.name: None for f in SCHEMA[sobject]}
    base.update(Id=_id(PREFIX[sobject], n), IsDeleted=False, CreatedDate=datetime(2024, 1, n, tzinfo=UTC))
    base.update(values)
    return base


U1, A1, A2, A3 = _id("005", 1), _id("001", 1), _id("001", 2), _id("001", 3)
C = [_id("003", n) for n in range(0, 8)]
CAMP1, CAMP2, L1 = _id("701", 1), _id("701", 2), _id("00Q", 1)


def make_rows() -> dict[str, list[dict[str, Any]]]:
    dt = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    return {
        "User": [row("User", 1, Name="Owner One")],
        "Account": [
            row("Account", 1, Name="Acme", OwnerId=U1, AnnualRevenue=Decimal("1000.10"), Description="long"),
            row("Account", 2, Name="Globex", ParentId=A1, AnnualRevenue=Decimal("20")),
            row("Account", 3, Name="Initech", ParentId=A2),
        ],
        "Contact": [
            row("Contact", 1, FirstName="Ann", LastName="Smith", Email="ann@example.org", AccountId=A1,
                Birthdate=date(1990, 5, 1), SystemModstamp=dt(2024, 5, 15, 8), HasOptedOutOfEmail=False,
                Score__c=1.5, Visits__c=3, Level__c="Gold", Bio__c="x"),
            row("Contact", 2, FirstName="bob", LastName="smithers", Email="BOB@example.org", AccountId=A3,
                Birthdate=date(1985, 12, 31), SystemModstamp=dt(2024, 5, 14, 23, 59, 59),
                HasOptedOutOfEmail=True, Score__c=2.0, Visits__c=10, ReportsToId=C[1]),
            row("Contact", 3, FirstName=None, LastName="O'Brien", Email=None, AccountId=None,
                SystemModstamp=dt(2024, 5, 8), HasOptedOutOfEmail=False, Score__c=None, Visits__c=0),
            row("Contact", 4, FirstName="Dee", LastName="50%_off", Email="dee@example.org", AccountId=A2,
                SystemModstamp=dt(2024, 4, 30, 12), HasOptedOutOfEmail=False, Score__c=-3.25, Visits__c=7),
            row("Contact", 5, FirstName="Eve", LastName="Deleted", Email="eve@example.org", IsDeleted=True,
                SystemModstamp=dt(2024, 5, 15, 9)),
        ],
        "Lead": [row("Lead", 1, LastName="Leady")],
        "Campaign": [row("Campaign", 1, Name="Subscribers"), row("Campaign", 2, Name="Petition", ParentId=CAMP1)],
        "CampaignMember": [
            row("CampaignMember", 1, CampaignId=CAMP1, ContactId=C[1], Status="Sent"),
            row("CampaignMember", 2, CampaignId=CAMP1, ContactId=C[2], Status="Responded"),
            row("CampaignMember", 3, CampaignId=CAMP2, ContactId=C[2], Status="Sent"),
            row("CampaignMember", 4, CampaignId=CAMP2, ContactId=C[4], Status="Sent", IsDeleted=True),
            row("CampaignMember", 5, CampaignId=CAMP2, LeadId=L1, Status="Sent"),
        ],
        "Task": [row("Task", 1, Subject="Call", WhoId=C[1]), row("Task", 2, Subject="Mail", WhoId=L1),
                 row("Task", 3, Subject="None")],
    }


def make_source() -> DictSource:
    return DictSource(SCHEMA, make_rows())


@pytest.fixture
def source() -> DictSource:
    return make_source()


def run(source: DictSource, text: str, **kwargs: Any) -> Result:
    return execute(parse(text), source, now=NOW, **kwargs)


def ids(source: DictSource, where: str, sobject: str = "Contact", **kwargs: Any) -> list[str]:
    """Short names of the rows matching ``where``: "C1" for Contact 1."""
    result = run(source, f"SELECT Id FROM {sobject} WHERE {where}", **kwargs)
    return [sobject[0] + str(int(r["Id"][7:12])) for r in result.rows]


def error(source: DictSource, text: str) -> SoqlError:
    with pytest.raises(SoqlError) as info:
        run(source, text)
    return info.value


def test_names_are_case_insensitive_and_reported_canonically(source):
    result = run(source, "select id, LASTNAME, account.NAME, ACCOUNT.parent.name from contact")
    assert result.sobject == "Contact"
    assert result.columns == ["Id", "LastName", "Account.Name", "Account.Parent.Name"]
    assert result.total_size == 4 and result.count is None


def test_without_order_by_rows_come_in_source_order_and_deleted_only_with_query_all(source):
    assert [r["LastName"] for r in run(source, "SELECT Id FROM Contact").rows] == [
        "Smith", "smithers", "O'Brien", "50%_off"]
    assert [r["LastName"] for r in run(source, "SELECT Id FROM Contact", include_deleted=True).rows][-1] == "Deleted"
    assert ids(source, "IsDeleted = true", include_deleted=True) == ["C5"]
    assert ids(source, "IsDeleted = true") == []


def test_deleted_rows_are_dropped_even_if_the_source_returns_them(source):
    class Leaky(DictSource):
        def rows(self, sobject, include_deleted):
            return self.data[sobject]

    leaky = Leaky(SCHEMA, make_rows())
    assert len(run(leaky, "SELECT Id FROM Contact").rows) == 4
    assert ids(leaky, "LastName != null") == ["C1", "C2", "C3", "C4"]


@pytest.mark.parametrize(("where", "expected"), [
    ("LastName = 'SMITH'", ["C1"]),
    ("LastName != 'smith'", ["C2", "C3", "C4"]),
    ("LastName <> 'smith'", ["C2", "C3", "C4"]),
    ("FirstName != 'ann'", ["C2", "C3", "C4"]),  # null is "not ann"
    ("FirstName = null", ["C3"]),
    ("FirstName != null", ["C1", "C2", "C4"]),
    ("FirstName < 'c'", ["C1", "C2"]),  # case-insensitive, null never ordered
    ("FirstName >= 'BOB'", ["C2", "C4"]),
    ("Level__c = 'gold'", ["C1"]),
    ("Email IN ('bob@example.org', 'nobody@x.y')", ["C2"]),
    ("Email IN ('bob@example.org', null)", ["C2", "C3"]),
    ("Email NOT IN ('bob@example.org')", ["C1", "C3", "C4"]),
    ("Email NOT IN ('bob@example.org', null)", ["C1", "C4"]),
    ("Score__c = 1.5", ["C1"]),
    ("Score__c = 2", ["C2"]),
    ("Score__c > 1.5", ["C2"]),
    ("Score__c <= 1.5", ["C1", "C4"]),
    ("Score__c < -3", ["C4"]),
    ("Score__c != 2", ["C1", "C3", "C4"]),
    ("Score__c IN (2, -3.25)", ["C2", "C4"]),
    ("Visits__c >= 3", ["C1", "C2", "C4"]),
    ("Visits__c = 0", ["C3"]),
    ("Visits__c < 1e1", ["C1", "C3", "C4"]),
    ("HasOptedOutOfEmail = true", ["C2"]),
    ("HasOptedOutOfEmail = FALSE", ["C1", "C3", "C4"]),
    ("HasOptedOutOfEmail != true", ["C1", "C3", "C4"]),
    ("Birthdate = 1990-05-01", ["C1"]),
    ("Birthdate > 1985-12-31", ["C1"]),
    ("Birthdate >= 1985-12-31", ["C1", "C2"]),
    ("Birthdate = null", ["C3", "C4"]),
    ("SystemModstamp > 2024-05-14T23:59:59Z", ["C1"]),
    ("SystemModstamp >= 2024-05-14T23:59:59Z", ["C1", "C2"]),
    ("SystemModstamp >= 2024-05-14T23:59:59.000Z", ["C1", "C2"]),
    ("SystemModstamp > 2024-05-14T23:59:58.999Z", ["C1", "C2"]),
    ("SystemModstamp = 2024-05-15T10:00:00+02:00", ["C1"]),
    ("SystemModstamp < 2024-04-30T05:00:01-07:00", ["C4"]),
    ("SystemModstamp <= 2024-04-30T05:00:00-07:00", ["C4"]),
    ("SystemModstamp IN (2024-05-08T00:00:00Z, 2024-04-30T12:00:00+00:00)", ["C3", "C4"]),
    ("SystemModstamp > 2024-05-08T00:00:00Z AND SystemModstamp <= 2024-05-15T08:00:00Z", ["C1", "C2"]),
    ("LastName = 'O\\'Brien'", ["C3"]),
    ("LastName = '50%_off'", ["C4"]),
])
def test_comparisons(source, where, expected):
    assert ids(source, where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("LastName LIKE 'smith%'", ["C1", "C2"]),
    ("LastName LIKE 'SMITH'", ["C1"]),
    ("LastName LIKE '%o%'", ["C3", "C4"]),
    ("LastName LIKE 'Smit_'", ["C1"]),
    ("LastName LIKE '_'", []),
    ("LastName LIKE '50\\%\\_off'", ["C4"]),
    ("LastName LIKE '50\\%\\_%'", ["C4"]),
    ("LastName LIKE '50_\\_off'", ["C4"]),
    ("LastName LIKE '50_off'", []),
    ("LastName LIKE 'O\\'%'", ["C3"]),
    ("LastName LIKE '.*'", []),
    ("FirstName LIKE '%'", ["C1", "C2", "C4"]),  # null never matches
    ("(NOT FirstName LIKE 'a%')", ["C2", "C3", "C4"]),
    ("Email LIKE '%@EXAMPLE.org'", ["C1", "C2", "C4"]),
])
def test_like(source, where, expected):
    assert ids(source, where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("LastName = 'Smith' OR LastName = 'smithers' OR Visits__c = 7", ["C1", "C2", "C4"]),
    ("LastName LIKE 'smith%' AND Visits__c > 5", ["C2"]),
    ("(LastName = 'Smith' OR Visits__c = 0) AND Email = null", ["C3"]),
    ("Email = null OR (Visits__c > 5 AND HasOptedOutOfEmail = false)", ["C3", "C4"]),
    ("NOT (Visits__c > 5 OR Email = null)", ["C1"]),
    ("NOT Visits__c > 5", ["C1", "C3"]),
    ("(NOT Visits__c > 5) AND (NOT LastName = 'Smith')", ["C3"]),
    ("((LastName = 'Smith'))", ["C1"]),
])
def test_logic(source, where, expected):
    assert ids(source, where) == expected


def test_ids_match_in_15_and_18_character_forms_case_sensitively(source):
    assert ids(source, f"Id = '{C[2]}'") == ["C2"]
    assert ids(source, f"Id = '{C[2][:15]}'") == ["C2"]
    assert ids(source, f"AccountId IN ('{A1[:15]}', '{A2}')") == ["C1", "C4"]
    assert ids(source, f"Id = '{C[2].lower()}'") == []
    assert ids(source, f"Id > '{C[2]}'") == ["C3", "C4"]


def test_parent_fields_in_where(source):
    assert ids(source, "Account.Name = 'acme'") == ["C1"]
    assert ids(source, "Account.Parent.Name = 'Globex'") == ["C2"]
    assert ids(source, "Account.Parent.Parent.Name LIKE 'ac%'") == ["C2"]
    assert ids(source, "Account.Name = null") == ["C3"]
    assert ids(source, "Account.Owner.Name != null") == ["C1"]
    assert ids(source, "ReportsTo.Account.Name = 'Acme'") == ["C2"]
    assert ids(source, "Who.LastName = 'Leady'", "Task") == ["T2"]
    assert ids(source, "Who.LastName = 'smith'", "Task") == ["T1"]


def test_semi_and_anti_joins(source):
    members = "SELECT ContactId FROM CampaignMember WHERE CampaignId = '{}'"
    assert ids(source, f"Id IN ({members.format(CAMP1)})") == ["C1", "C2"]
    assert ids(source, f"Id IN ({members.format(CAMP2)})") == ["C2"]  # deleted member C4 is not one
    assert ids(source, f"Id NOT IN ({members.format(CAMP1)})") == ["C3", "C4"]
    assert ids(source, f"Id IN ({members.format(CAMP1)}) AND Id IN ({members.format(CAMP2)})") == ["C2"]
    assert ids(source, f"Id IN ({members.format(CAMP1[:15])}) AND LastName = 'Smith'") == ["C1"]
    assert ids(source, "Id IN (SELECT ContactId FROM CampaignMember WHERE Campaign.Parent.Name = 'Subscribers')") == ["C2"]
    assert ids(source, "AccountId IN (SELECT Id FROM Account WHERE ParentId != null)") == ["C2", "C4"]
    assert ids(source, "AccountId NOT IN (SELECT Id FROM Account WHERE ParentId != null)") == ["C1", "C3"]
    assert ids(source, "Id IN (SELECT ContactId FROM CampaignMember)") == ["C1", "C2"]
    assert ids(source, "Id IN (SELECT WhoId FROM Task)") == ["C1"]


def test_semi_join_must_point_at_the_same_object_type(source):
    err = error(source, "SELECT Id FROM Contact WHERE Id IN (SELECT CampaignId FROM CampaignMember)")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith(
        "ERROR at Row:1:Column:44\nThe selected field 'CampaignId' in the subquery and the left operand field in "
        "the where expression in the outer query 'Id' should point to the same object type")
    for text in ("SELECT Id FROM Contact WHERE LastName IN (SELECT ContactId FROM CampaignMember)",
                 "SELECT Id FROM Contact WHERE Id IN (SELECT Status FROM CampaignMember)",
                 "SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Contact)"):
        assert error(source, text).error_code == "MALFORMED_QUERY"
    assert error(source, "SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM Nope)").error_code == "INVALID_TYPE"
    assert error(source, "SELECT Id FROM Contact WHERE Id IN (SELECT Nope FROM CampaignMember)").error_code == "INVALID_FIELD"
    assert error(source, "SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM CampaignMember "
                         "WHERE Nope = 1)").error_code == "INVALID_FIELD"


@pytest.mark.parametrize(("name", "n", "start", "end"), [
    ("today", 0, date(2024, 5, 15), date(2024, 5, 16)),
    ("yesterday", 0, date(2024, 5, 14), date(2024, 5, 15)),
    ("tomorrow", 0, date(2024, 5, 16), date(2024, 5, 17)),
    ("this_week", 0, date(2024, 5, 12), date(2024, 5, 19)),
    ("last_week", 0, date(2024, 5, 5), date(2024, 5, 12)),
    ("next_week", 0, date(2024, 5, 19), date(2024, 5, 26)),
    ("this_month", 0, date(2024, 5, 1), date(2024, 6, 1)),
    ("last_month", 0, date(2024, 4, 1), date(2024, 5, 1)),
    ("next_month", 0, date(2024, 6, 1), date(2024, 7, 1)),
    ("this_year", 0, date(2024, 1, 1), date(2025, 1, 1)),
    ("last_year", 0, date(2023, 1, 1), date(2024, 1, 1)),
    ("next_year", 0, date(2025, 1, 1), date(2026, 1, 1)),
    ("last_n_days", 7, date(2024, 5, 8), date(2024, 5, 16)),
    ("next_n_days", 7, date(2024, 5, 16), date(2024, 5, 23)),
    ("last_90_days", 0, date(2024, 2, 15), date(2024, 5, 16)),
    ("next_90_days", 0, date(2024, 5, 16), date(2024, 8, 14)),
    ("n_days_ago", 3, date(2024, 5, 12), date(2024, 5, 13)),
    ("last_n_weeks", 2, date(2024, 4, 28), date(2024, 5, 12)),
    ("next_n_weeks", 1, date(2024, 5, 19), date(2024, 5, 26)),
    ("last_n_months", 3, date(2024, 2, 1), date(2024, 5, 1)),
    ("next_n_months", 8, date(2024, 6, 1), date(2025, 2, 1)),
])
def test_date_literal_ranges(name, n, start, end):
    assert date_range(name, n, NOW.date()) == (start, end)


def test_week_starts_on_sunday():
    assert date_range("this_week", 0, date(2024, 5, 12)) == (date(2024, 5, 12), date(2024, 5, 19))
    assert date_range("this_week", 0, date(2024, 5, 18)) == (date(2024, 5, 12), date(2024, 5, 19))


@pytest.mark.parametrize(("where", "expected"), [
    ("SystemModstamp = TODAY", ["C1"]),
    ("SystemModstamp = YESTERDAY", ["C2"]),
    ("SystemModstamp != TODAY", ["C2", "C3", "C4"]),
    ("SystemModstamp < TODAY", ["C2", "C3", "C4"]),
    ("SystemModstamp <= YESTERDAY", ["C2", "C3", "C4"]),
    ("SystemModstamp > YESTERDAY", ["C1"]),
    ("SystemModstamp >= YESTERDAY", ["C1", "C2"]),
    ("SystemModstamp = LAST_N_DAYS:7", ["C1", "C2", "C3"]),
    ("SystemModstamp = LAST_N_DAYS:6", ["C1", "C2"]),
    ("SystemModstamp = THIS_MONTH", ["C1", "C2", "C3"]),
    ("SystemModstamp = LAST_MONTH", ["C4"]),
    ("SystemModstamp IN (TODAY, LAST_MONTH)", ["C1", "C4"]),
    ("SystemModstamp = NEXT_N_DAYS:3", []),
    ("Birthdate = LAST_N_DAYS:7", []),
    ("Birthdate < THIS_YEAR", ["C1", "C2"]),
    ("Birthdate = null OR Birthdate > LAST_YEAR", ["C3", "C4"]),
])
def test_relative_dates_on_datetime_and_date_fields(source, where, expected):
    assert ids(source, where) == expected


def test_today_follows_now(source):
    later = datetime(2024, 5, 16, 0, 0, tzinfo=UTC)
    assert [r["LastName"] for r in execute(parse("SELECT Id FROM Contact WHERE SystemModstamp = YESTERDAY"),
                                           source, now=later).rows] == ["Smith"]


def test_order_by(source):
    def order(clause: str, include_deleted: bool = False) -> list[str]:
        result = run(source, f"SELECT Id FROM Contact ORDER BY {clause}", include_deleted=include_deleted)
        return [r["LastName"] for r in result.rows]

    assert order("LastName") == ["50%_off", "O'Brien", "Smith", "smithers"]
    assert order("LastName DESC") == ["smithers", "Smith", "O'Brien", "50%_off"]
    assert order("FirstName") == ["O'Brien", "Smith", "smithers", "50%_off"]  # nulls first, case-insensitive
    assert order("FirstName NULLS LAST") == ["Smith", "smithers", "50%_off", "O'Brien"]
    assert order("FirstName DESC") == ["50%_off", "smithers", "Smith", "O'Brien"]
    assert order("FirstName DESC NULLS FIRST") == ["O'Brien", "50%_off", "smithers", "Smith"]
    assert order("HasOptedOutOfEmail DESC, LastName") == ["smithers", "50%_off", "O'Brien", "Smith"]
    assert order("HasOptedOutOfEmail, Visits__c DESC") == ["50%_off", "Smith", "O'Brien", "smithers"]
    assert order("Score__c DESC") == ["smithers", "Smith", "50%_off", "O'Brien"]
    assert order("Birthdate ASC NULLS LAST, SystemModstamp DESC") == ["smithers", "Smith", "O'Brien", "50%_off"]
    assert order("Account.Name, LastName") == ["O'Brien", "Smith", "50%_off", "smithers"]
    assert order("SystemModstamp", include_deleted=True)[-2:] == ["Smith", "Deleted"]
    # equal keys keep source order, ascending and descending
    assert order("HasOptedOutOfEmail") == ["Smith", "O'Brien", "50%_off", "smithers"]
    assert order("HasOptedOutOfEmail DESC") == ["smithers", "Smith", "O'Brien", "50%_off"]


def test_limit_offset_and_count(source):
    result = run(source, "SELECT Id, LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1")
    assert [r["LastName"] for r in result.rows] == ["O'Brien", "Smith"] and result.total_size == 2
    assert run(source, "SELECT Id FROM Contact LIMIT 0").rows == []
    assert run(source, "SELECT Id FROM Contact OFFSET 10").rows == []
    count = run(source, "SELECT COUNT() FROM Contact WHERE Email != null")
    assert (count.count, count.total_size, count.rows, count.columns) == (3, 3, [], [])
    assert run(source, "select count() from Contact").count == 4
    assert run(source, "SELECT COUNT() FROM Contact", include_deleted=True).count == 5
    assert run(source, "SELECT COUNT() FROM Contact LIMIT 2").count == 2
    err = error(source, "SELECT Id FROM Contact OFFSET 2001")
    assert err.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert err.message.endswith("ERROR at Row:1:Column:24\nMaximum SOQL offset allowed is 2000")
    assert run(source, "SELECT Id FROM Contact OFFSET 2000").rows == []


HINT = "Please reference your WSDL or the describe call for the appropriate names."


@pytest.mark.parametrize(("text", "code", "message"), [
    ("SELECT Id FROM Foo", "INVALID_TYPE",
     "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\nsObject type 'Foo' is not supported. If you "
     f"are attempting to use a custom object, be sure to append the '__c' after the entity name. {HINT}"),
    ("SELECT Foo FROM Contact", "INVALID_FIELD",
     "\nSELECT Foo FROM Contact\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'Contact'. If you "
     f"are attempting to use a custom field, be sure to append the '__c' after the custom field name. {HINT}"),
    ("SELECT Id, Account.Foo FROM Contact", "INVALID_FIELD",
     "\nSELECT Id, Account.Foo FROM Contact\n                   ^\nERROR at Row:1:Column:20\nNo such column 'Foo' on "
     "entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom "
     f"field name. {HINT}"),
    ("SELECT Id, Acct.Name FROM Contact", "INVALID_FIELD",
     "\nSELECT Id, Acct.Name FROM Contact\n           ^\nERROR at Row:1:Column:12\nDidn't understand relationship "
     "'Acct' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after "
     f"the custom relationship name. {HINT}"),
    ("SELECT Owner.Name FROM Lead", "INVALID_FIELD", "No such column 'Name' on entity 'Group'"),
    ("SELECT Id FROM Contact WHERE Email.Domain = 'x'", "INVALID_FIELD", "Didn't understand relationship 'Email'"),
    ("SELECT Id FROM Contact WHERE Account = 'x'", "INVALID_FIELD", "No such column 'Account' on entity 'Contact'"),
    ("SELECT Id FROM Contact WHERE AccountId.Name = 'x'", "INVALID_FIELD", "Didn't understand relationship 'AccountId'"),
    ("SELECT Id FROM Contact ORDER BY Nope", "INVALID_FIELD", "No such column 'Nope' on entity 'Contact'"),
    ("SELECT Id, LastName, id FROM Contact", "INVALID_FIELD",
     "\nSELECT Id, LastName, id FROM Contact\n                     ^\nERROR at Row:1:Column:22\n"
     "duplicate field selected: Id"),
    ("SELECT Id FROM Contact WHERE Bio__c = 'x'", "INVALID_FIELD",
     "\nSELECT Id FROM Contact WHERE Bio__c = 'x'\n                             ^\nERROR at Row:1:Column:30\n"
     "field 'Bio__c' can not be filtered in a query call"),
    ("SELECT Id FROM Contact WHERE Account.Description LIKE 'x%'", "INVALID_FIELD",
     "field 'Account.Description' can not be filtered in a query call"),
    ("SELECT Id FROM Contact ORDER BY Bio__c", "INVALID_FIELD", "field 'Bio__c' can not be sorted in a query call"),
    ("SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-01", "INVALID_FIELD",
     "\nSELECT Id FROM Contact WHERE SystemModstamp > 2024-01-01\n                                              ^\n"
     "ERROR at Row:1:Column:47\nvalue of filter criterion for field 'SystemModstamp' must be of type dateTime and "
     "should not be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE SystemModstamp > '2024-01-01T00:00:00Z'", "INVALID_FIELD",
     "value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE Birthdate = 2024-01-01T00:00:00Z", "INVALID_FIELD",
     "value of filter criterion for field 'Birthdate' must be of type date and should not be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE Birthdate IN (2024-01-01, '2024-01-02')", "INVALID_FIELD",
     "ERROR at Row:1:Column:56\nvalue of filter criterion for field 'Birthdate' must be of type date and should not "
     "be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE HasOptedOutOfEmail = 'true'", "INVALID_FIELD",
     "value of filter criterion for field 'HasOptedOutOfEmail' must be of type boolean and should not be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE LastName = 5", "INVALID_FIELD",
     "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE Account.Name = TODAY", "INVALID_FIELD",
     "value of filter criterion for field 'Account.Name' must be of type string and should be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE LastName LIKE 5", "INVALID_FIELD",
     "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE LastName LIKE null", "INVALID_FIELD",
     "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE AccountId = true", "INVALID_FIELD",
     "value of filter criterion for field 'AccountId' must be of type id and should be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE Score__c = '1'", "INVALID_FIELD",
     "value of filter criterion for field 'Score__c' must be of type double and should not be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE Visits__c = 2024-01-01", "INVALID_FIELD",
     "value of filter criterion for field 'Visits__c' must be of type integer and should not be enclosed in quotes"),
    ("SELECT Id FROM Contact WHERE Score__c LIKE '1%'", "INVALID_QUERY_FILTER_OPERATOR",
     "ERROR at Row:1:Column:39\ninvalid operator on double field"),
    ("SELECT Id FROM Contact WHERE Id LIKE '003%'", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on id field"),
    ("SELECT Id FROM Contact WHERE HasOptedOutOfEmail > false", "INVALID_QUERY_FILTER_OPERATOR",
     "invalid operator on boolean field"),
    ("SELECT Id, Account.Parent.Parent.Parent.Parent.Parent.Name FROM Contact", "MALFORMED_QUERY",
     "SOQL statements cannot query more than 5 levels of child-to-parent relationships"),
])
def test_errors(source, text, code, message):
    err = error(source, text)
    assert err.error_code == code
    assert err.message == message if message.startswith("\n") else message in err.message
    assert str(err) == err.message


def test_five_parent_levels_are_allowed(source):
    result = run(source, "SELECT Account.Parent.Parent.Parent.Parent.Name FROM Contact")
    assert result.columns == ["Account.Parent.Parent.Parent.Parent.Name"]


def test_type_errors_are_found_before_any_row_is_read(source):
    class Exploding(DictSource):
        def rows(self, sobject, include_deleted):
            raise AssertionError("rows read before validation")

    with pytest.raises(SoqlError):
        run(Exploding(SCHEMA, make_rows()), "SELECT Id FROM Contact WHERE LastName = 'a' ORDER BY Bio__c")
