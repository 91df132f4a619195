"""Cleaning text no database can store: control characters, NUL, lone surrogates, in plain and JSON columns."""

import json

from an_sf_sync import text


def test_clean_keeps_tabs_and_newlines_and_marks_lone_surrogates():
    assert text.clean("a\x00b\x07c\x7f\x85d\te\r\nf") == "abcd\te\r\nf"
    assert text.clean("half \ud83d pair") == "half \ufffd pair"
    assert text.clean_value({"k\x00": ["v\x01", 3, None]}) == {"k": ["v", 3, None]}


def test_clean_rows_reports_changed_rows_and_cleans_json_text():
    rows = [["a", "Ada", json.dumps({"employer": "Acme\x00"}), 1],
            ["b", "Nu\x00ll", None, 2],
            ["c", None, json.dumps({"note": "a \\u0000 as text"}), 3],
            ["d", "Dee", json.dumps({"x": "y"}), 4]]
    assert text.clean_rows(rows, ["id", "name", "custom", "n"], json_columns=("custom",)) == [0, 1]
    assert [row[1] for row in rows][:2] == ["Ada", "Null"]
    assert json.loads(rows[0][2]) == {"employer": "Acme"}
    assert json.loads(rows[2][2]) == {"note": "a \\u0000 as text"}  # text, not a control character


def test_clean_rows_cleans_del_and_c1_controls_that_json_text_keeps_raw():
    # as extract writes JSON columns: ensure_ascii=False leaves DEL and the C1 controls unescaped
    rows = [["a", json.dumps({"employer": "U\x7fmbrella\x85"}, ensure_ascii=False)]]
    assert text.clean_rows(rows, ["id", "custom"], json_columns=("custom",)) == [0]
    assert json.loads(rows[0][1]) == {"employer": "Umbrella"}


def test_clean_rows_leaves_clean_rows_alone():
    rows = [["a", "Zoë 🌍\n"]]
    assert text.clean_rows(rows, ["id", "name"]) == [] and rows[0][1] == "Zoë 🌍\n"


def test_an_email_address_is_marked_not_shortened_into_another():
    rows = [["a", "a\x00b@example.org", json.dumps(["c\x07d@example.org", "ok@example.org"]), "Nu\x00ll"]]
    columns = ["id", "email", "other_emails", "name"]
    assert text.clean_rows(rows, columns, json_columns=("other_emails",),
                           address_columns=("email", "other_emails")) == [0]
    assert rows[0][1] == "a\ufffdb@example.org" and rows[0][3] == "Null"
    assert json.loads(rows[0][2]) == ["c\ufffdd@example.org", "ok@example.org"]
