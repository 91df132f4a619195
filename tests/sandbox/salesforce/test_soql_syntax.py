"""The SOQL parser: what it accepts, and that everything else is MALFORMED_QUERY at the right spot."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from an_sf_sync_dev.sandbox.salesforce.soql import SoqlError, parse
from an_sf_sync_dev.sandbox.salesforce.soql_syntax import Comparison, Logical, Not


def where(text: str):
    return parse(f"SELECT Id FROM Contact WHERE {text}").where


def literal(text: str):
    return where(f"X = {text}").value


def malformed(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as info:
        parse(text)
    assert info.value.error_code == "MALFORMED_QUERY"
    return info.value


def test_full_statement_keeps_every_clause():
    q = parse("select Id, account.Name, Contact.Account.Owner.Name from contact "
              "where (not Name like 'Sm%') and Email != null "
              "order by LastName desc nulls first, Id limit 5 offset 2")
    assert [p.parts for p in q.fields] == [("Id",), ("account", "Name"), ("Contact", "Account", "Owner", "Name")]
    assert q.sobject == "contact" and not q.is_count
    assert isinstance(q.where, Logical) and q.where.op == "and"
    assert isinstance(q.where.items[0], Not)
    assert [(k.path.parts, k.descending, k.nulls_first) for k in q.order_by] == [
        (("LastName",), True, True), (("Id",), False, True)]
    assert (q.limit, q.offset) == (5, 2)


def test_clauses_python_soql_parser_used_to_drop_are_kept():
    q = parse("SELECT Id FROM Contact WHERE Name LIKE 'Sm%' LIMIT 5")
    assert q.where.op == "like" and q.limit == 5
    assert isinstance(where("NOT Name = 'x'"), Not)
    assert where("Name NOT IN ('a')").op == "not in"
    assert literal("LAST_N_DAYS:7").value == ("last_n_days", 7)


def test_count():
    q = parse("SELECT COUNT() FROM Contact WHERE Email = null")
    assert q.is_count and q.fields == ()


def test_order_by_defaults_nulls_first_for_asc_last_for_desc():
    q = parse("SELECT Id FROM Contact ORDER BY A, B ASC, C DESC, D DESC NULLS FIRST, E NULLS LAST")
    assert [(k.descending, k.nulls_first) for k in q.order_by] == [
        (False, True), (False, True), (True, False), (True, True), (False, False)]


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("'abc'", "string", "abc"),
    ("null", "null", None),
    ("NULL", "null", None),
    ("TRUE", "boolean", True),
    ("false", "boolean", False),
    ("42", "number", Decimal(42)),
    ("-1.5", "number", Decimal("-1.5")),
    ("1e-05", "number", Decimal("0.00001")),
    ("2024-01-02", "date", date(2024, 1, 2)),
    ("2024-01-02T03:04:05Z", "datetime", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2024-01-02T03:04:05+01:00", "datetime", datetime(2024, 1, 2, 2, 4, 5, tzinfo=UTC)),
    ("2024-01-02T03:04:05-08:00", "datetime", datetime(2024, 1, 2, 11, 4, 5, tzinfo=UTC)),
    ("2024-01-02T03:04:05.123Z", "datetime", datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)),
    ("2024-01-02T03:04:05.000+00:00", "datetime", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("today", "relative", ("today", 0)),
    ("Next_N_Days:30", "relative", ("next_n_days", 30)),
])
def test_literals(text, kind, value):
    lit = literal(text)
    assert (lit.kind, lit.value) == (kind, value)


@pytest.mark.parametrize(("raw", "decoded"), [
    (r"'it\'s'", "it's"),
    (r"'say \"hi\"'", 'say "hi"'),
    (r"'a\\b'", "a\\b"),
    (r"'\n\r\t\b\f'", "\n\r\t\b\f"),
    (r"'\N\R\T\B\F'", "\n\r\t\b\f"),
    (r"'\u00e9\u2603'", "é☃"),
    ("'snow ☃ é 𝄞'", "snow ☃ é 𝄞"),
    ("'100%_'", "100%_"),
])
def test_string_escapes(raw, decoded):
    assert literal(raw).value == decoded


@pytest.mark.parametrize(("pattern", "matches", "misses"), [
    ("'Sm%'", ["Smith", "sm", "SMALL"], ["Asmith"]),
    ("'_b'", ["ab", "Xb"], ["b", "abb"]),
    (r"'50\%'", ["50%"], ["500"]),
    (r"'a\_c'", ["a_c"], ["abc"]),
    ("'a.c*'", ["a.c*"], ["abc", "a.cc"]),
    (r"'x\'y%'", ["x'y", "X'Yz"], ["xy"]),
    (r"'back\\%'", ["back\\slash"], ["backslash"]),
])
def test_like_patterns(pattern, matches, misses):
    import re

    regex = re.compile(where(f"Name LIKE {pattern}").value.value, re.IGNORECASE | re.DOTALL)
    assert all(regex.fullmatch(m) for m in matches)
    assert not any(regex.fullmatch(m) for m in misses)


def test_semi_join_and_anti_join():
    cond = where("Id IN (SELECT ContactId FROM CampaignMember WHERE CampaignId = '701') "
                 "AND Id NOT IN (SELECT ContactId FROM CampaignMember WHERE Status = 'x')")
    first, second = cond.items
    assert isinstance(first, Comparison) and first.op == "in" and first.value.sobject == "CampaignMember"
    assert second.op == "not in" and second.value.where.path.parts == ("Status",)


@pytest.mark.parametrize(("text", "column", "message"), [
    ("invalid", 1, "unexpected token: 'invalid'"),
    ("SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3", 46, "unexpected token: 'OR'"),
    ("SELECT Id FROM Contact WHERE A = 1 OR B = 2 AND C = 3", 45, "unexpected token: 'AND'"),
    ("SELECT Id FROM Contact WHERE NOT A = 1 AND B = 2", 40, "unexpected token: 'AND'"),
    ("SELECT Id FROM Contact WHERE A = 1 AND NOT B = 2", 40, "unexpected token: 'NOT'"),
    ("SELECT Id FROM Contact WHERE Name LIKE 'Sm%' LIMIT 5 x", 54, "unexpected token: 'x'"),
    ("SELECT Id FROM Contact;", 23, "unexpected token: ';'"),
    ("SELECT Id FROM Contact c", 24, "unexpected token: 'c'"),
    ("SELECT Id FROM Contact GROUP BY Id", 24, "unexpected token: 'GROUP'"),
    ("SELECT Id FROM Contact WITH SECURITY_ENFORCED", 24, "unexpected token: 'WITH'"),
    ("SELECT Id FROM Contact FOR UPDATE", 24, "unexpected token: 'FOR'"),
    ("SELECT Id FROM Contact USING SCOPE Mine", 24, "unexpected token: 'USING'"),
    ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", 12, "unexpected token: '('"),
    ("SELECT toLabel(Status) FROM Lead", 15, "unexpected token: '('"),
    ("SELECT COUNT(Id) FROM Contact", 8, "aggregate functions other than COUNT() are not supported"),
    ("SELECT FROM Contact", 8, "unexpected token: 'FROM'"),
    ("SELECT Id, FROM Contact", 12, "unexpected token: 'FROM'"),
    ("SELECT Id,, Name FROM Contact", 11, "unexpected token: ','"),
    ("SELECT Id Contact", 11, "unexpected token: 'Contact'"),
    ("SELECT Id FROM", 15, "unexpected token: '<EOF>'"),
    ("SELECT Id FROM Contact WHERE", 29, "unexpected token: '<EOF>'"),
    ("SELECT Id FROM Contact WHERE Name =", 36, "unexpected token: '<EOF>'"),
    ("SELECT Id FROM Contact WHERE Name = 'a' AND", 44, "unexpected token: '<EOF>'"),
    ("SELECT Id FROM Contact WHERE ()", 31, "unexpected token: ')'"),
    ("SELECT Id FROM Contact WHERE (Name = 'a'", 41, "unexpected token: '<EOF>'"),
    ("SELECT Id FROM Contact WHERE Name = \"a\"", 37, "unexpected token: '\"'"),
    ("SELECT Id FROM Contact WHERE Name = 'a", 37, "unterminated quoted string"),
    ("SELECT Id FROM Contact WHERE Name = Smith", 37, "unexpected token: 'Smith'"),
    ("SELECT Id FROM Contact WHERE Name IN ()", 39, "unexpected token: ')'"),
    ("SELECT Id FROM Contact WHERE Name IN 'a'", 38, "unexpected token: ''a''"),
    ("SELECT Id FROM Contact WHERE Name NOT 'a'", 39, "unexpected token: ''a''"),
    ("SELECT Id FROM Contact WHERE Name # 'a'", 35, "unexpected token: '#'"),
    ("SELECT Id FROM Contact WHERE Name INCLUDES ('a')", 35, "unexpected token: 'INCLUDES'"),
    ("SELECT Id FROM Contact LIMIT -1", 30, "unexpected token: '-1'"),
    ("SELECT Id FROM Contact LIMIT 1.5", 30, "unexpected token: '1.5'"),
    ("SELECT Id FROM Contact OFFSET x", 31, "unexpected token: 'x'"),
    ("SELECT Id FROM Contact OFFSET 1 LIMIT 1", 33, "unexpected token: 'LIMIT'"),
    ("SELECT Id FROM Contact ORDER Name", 30, "unexpected token: 'Name'"),
    ("SELECT Id FROM Contact ORDER BY Name NULLS", 43, "unexpected token: '<EOF>'"),
    ("SELECT Id FROM Contact ORDER BY Name DESC ASC", 43, "unexpected token: 'ASC'"),
    ("SELECT COUNT() FROM Contact ORDER BY Name", 38, "Ordered field must be grouped or aggregated: Name"),
    ("SELECT Id FROM Contact WHERE Name = 'a\\x'", 39, "Invalid string literal: invalid escape sequence '\\x'"),
    ("SELECT Id FROM Contact WHERE Name = 'a\\_'", 39, "Invalid string literal: invalid escape sequence '\\_'"),
    ("SELECT Id FROM Contact WHERE Name = 'a\\%'", 39, "Invalid string literal: invalid escape sequence '\\%'"),
    ("SELECT Id FROM Contact WHERE Name = '\\u12'", 38, "Invalid string literal: invalid escape sequence '\\u'"),
    ("SELECT Id FROM Contact WHERE D > 2024-01-01T00:00:00", 44, "unexpected token: 'T00'"),
    ("SELECT Id FROM Contact WHERE D > 2024-13-01", 34, "invalid date or dateTime literal: 2024-13-01"),
    ("SELECT Id FROM Contact WHERE D > 2024-02-30T00:00:00Z", 34,
     "invalid date or dateTime literal: 2024-02-30T00:00:00Z"),
    ("SELECT Id FROM Contact WHERE D > LAST_N_DAYS", 34, "invalid date literal: LAST_N_DAYS"),
    ("SELECT Id FROM Contact WHERE D > LAST_N_DAYS: 7", 34, "invalid date literal: LAST_N_DAYS"),
    ("SELECT Id FROM Contact WHERE D > LAST_N_DAYS:x", 34, "invalid date literal: LAST_N_DAYS"),
    ("SELECT Id FROM Contact WHERE D > TODAY:3", 39, "unexpected token: ':'"),
    ("SELECT Id FROM Contact WHERE D > LAST_DECADE", 34, "unexpected token: 'LAST_DECADE'"),
])
def test_malformed(text, column, message):
    error = malformed(text)
    assert error.message.endswith(f"ERROR at Row:1:Column:{column}\n{message}")
    assert error.message.startswith(f"\n{text}\n{' ' * (column - 1)}^\n")


@pytest.mark.parametrize(("text", "message"), [
    ("SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM CampaignMember) OR Name = 'a'",
     "Semi join sub-selects are not allowed with the 'OR' operator"),
    ("SELECT Id FROM Contact WHERE Name = 'a' OR (Id IN (SELECT ContactId FROM CampaignMember))",
     "Semi join sub-selects are not allowed with the 'OR' operator"),
    ("SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM CampaignMember WHERE "
     "CampaignId IN (SELECT Id FROM Campaign))", "Nesting of semi join sub-selects is not supported"),
    ("SELECT Id FROM Contact WHERE Id IN (SELECT ContactId, Id FROM CampaignMember)",
     "a semi join sub-select must select exactly one field of its object"),
    ("SELECT Id FROM Contact WHERE Id IN (SELECT Contact.Id FROM CampaignMember)",
     "a semi join sub-select must select exactly one field of its object"),
    ("SELECT Id FROM Contact WHERE Id IN (SELECT COUNT() FROM CampaignMember)",
     "a semi join sub-select must select exactly one field of its object"),
    ("SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM CampaignMember ORDER BY Id)",
     "unexpected token: 'ORDER'"),
    ("SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM CampaignMember LIMIT 1)",
     "unexpected token: 'LIMIT'"),
    ("SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM CampaignMember) AND "
     "Id IN (SELECT ContactId FROM CampaignMember) AND Id NOT IN (SELECT ContactId FROM CampaignMember)",
     "Maximum 2 semi join sub-selects are allowed"),
])
def test_semi_join_restrictions(text, message):
    assert malformed(text).message.endswith("\n" + message)


def test_error_points_at_the_right_row_of_a_multiline_query():
    error = malformed("SELECT Id\nFROM Contact\n  WHERE Name = 'a' AND B = 1 OR C = 2")
    assert error.message == ("\n  WHERE Name = 'a' AND B = 1 OR C = 2\n"
                             "                             ^\nERROR at Row:3:Column:30\nunexpected token: 'OR'")


def test_keywords_are_not_field_names_but_can_be_relationship_parts():
    malformed("SELECT Id FROM Contact WHERE Name = 'a' AND not = 1")
    assert where("Order.Name = 'x'").path.parts == ("Order", "Name")
    assert parse("SELECT Id FROM Order").sobject == "Order"
