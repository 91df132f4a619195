"""Queries built with simple-salesforce's own ``format_soql`` mean exactly what the caller passed,
including injection-shaped values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from simple_salesforce import format_soql

from an_sf_sync_dev.sandbox.salesforce.soql import parse
from tests.sandbox.salesforce.test_soql import SCHEMA, DictSource, make_rows, make_source, row, run

TRICKY = [
    "x' OR Name != '",
    "\\' OR 1=1",
    "\\",
    "O'Brien",
    'say "hi"',
    "back\\slash\\n",
    "line\nbreak\r\n\ttab",
    "bell\b\fform",
    "snow ☃ é 𝄞 中文",
    "50%_off",
    "%",
    "_",
    "",
    "') OR (Id != '",
    "'; DELETE FROM Contact; --",
]


@pytest.fixture
def tricky_source() -> DictSource:
    rows = make_rows()
    rows["Contact"] = [row("Contact", n + 1, LastName=name, Email=f"c{n}@example.org", IsDeleted=False)
                       for n, name in enumerate(TRICKY)]
    return DictSource(SCHEMA, rows)


def names(src: DictSource, text: str) -> list[str]:
    return [r["LastName"] for r in run(src, text).rows]


@pytest.mark.parametrize("value", TRICKY)
def test_quoted_string_round_trips(tricky_source, value):
    text = format_soql("SELECT Id FROM Contact WHERE LastName = {}", value)
    assert parse(text).where.value.value == value
    assert names(tricky_source, text) == [value]
    assert value not in names(tricky_source, format_soql("SELECT Id FROM Contact WHERE LastName != {}", value))


@pytest.mark.parametrize("value", TRICKY)
def test_like_prefix_round_trips(tricky_source, value):
    text = format_soql("SELECT Id FROM Contact WHERE LastName LIKE '{:like}%'", value)
    expected = [n for n in TRICKY if n.lower().startswith(value.lower())]
    assert names(tricky_source, text) == expected


def test_lists(tricky_source):
    text = format_soql("SELECT Id FROM Contact WHERE LastName IN {} ORDER BY LastName", TRICKY[:3])
    assert names(tricky_source, text) == sorted(TRICKY[:3], key=str.lower)
    text = format_soql("SELECT Id FROM Contact WHERE LastName NOT IN {names}", names=TRICKY[1:])
    assert names(tricky_source, text) == TRICKY[:1]


def test_dates_datetimes_and_scalars():
    source = make_source()
    moment = datetime(2024, 5, 15, 10, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2)))
    text = format_soql("SELECT Id FROM Contact WHERE SystemModstamp = {} AND Birthdate = {} AND "
                       "HasOptedOutOfEmail = {} AND Email != {} AND Visits__c = {} AND Score__c = {}",
                       moment, date(1990, 5, 1), False, None, 3, 1.5)
    assert "2024-05-15T08:00:00+00:00" in text
    assert names(source, text) == ["Smith"]
    text = format_soql("SELECT Id FROM Contact WHERE SystemModstamp > {start} AND SystemModstamp <= {end}",
                       start=datetime(2024, 5, 8, tzinfo=UTC), end=datetime(2024, 5, 15, 8, tzinfo=UTC))
    assert names(source, text) == ["Smith", "smithers"]
    text = format_soql("SELECT Id FROM Contact WHERE Score__c > {}", 1e-05)
    assert names(source, text) == ["Smith", "smithers"]


def test_unicode_escapes_written_by_hand(tricky_source):
    assert names(tricky_source, "SELECT Id FROM Contact WHERE LastName = 'snow \\u2603 \\u00E9 𝄞 中文'") == [
        "snow ☃ é 𝄞 中文"]
