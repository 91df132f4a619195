"""The evaluator over a large table: a SystemModstamp window, a semi-join and a sort stay fast."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from an_sf_sync_dev.sandbox.salesforce.soql import csv_row, execute, parse
from tests.sandbox.salesforce.test_soql import SCHEMA, DictSource

ROWS = 200_000
START = datetime(2024, 1, 1, tzinfo=UTC)


def big_source() -> DictSource:
    contacts = [{"Id": f"003{n:012d}AAA", "IsDeleted": n % 50 == 0, "LastName": f"Name{n % 997}",
                 "Email": f"p{n}@example.org", "SystemModstamp": START + timedelta(seconds=n), "AccountId": None}
                for n in range(ROWS)]
    members = [{"Id": f"00v{n:012d}AAA", "IsDeleted": False, "CampaignId": "701000000000001AAA",
                "ContactId": f"003{n:012d}AAA"} for n in range(0, ROWS, 4)]
    return DictSource(SCHEMA, {"Contact": contacts, "CampaignMember": members})


def test_window_and_semi_join_over_200k_rows():
    source = big_source()
    query = parse(
        "SELECT Id, Email, LastName, SystemModstamp FROM Contact "
        f"WHERE SystemModstamp > {(START + timedelta(seconds=ROWS // 2)).isoformat()} "
        "AND Id IN (SELECT ContactId FROM CampaignMember WHERE CampaignId = '701000000000001AAA') "
        "AND (LastName LIKE 'name1%' OR Email != null) "
        "ORDER BY SystemModstamp DESC, Id")
    began = time.perf_counter()
    result = execute(query, source)
    elapsed = time.perf_counter() - began
    print(f"\nSOQL over {ROWS} rows: {elapsed:.2f}s, {result.total_size} matched")
    # members are the 24,999 multiples of 4 in the window; the 999 multiples of 100 are deleted
    assert result.total_size == 24_000
    assert result.rows[0]["SystemModstamp"] == START + timedelta(seconds=ROWS - 4)
    assert csv_row(result, result.rows[-1], source)[0] == f"003{ROWS // 2 + 4:012d}AAA"
    assert elapsed < 5
