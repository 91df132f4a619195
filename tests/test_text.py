"""Cleaning text no database can store: control characters, NUL, lone surrogates, in plain and JSON columns."""

import json

import pandas as pd

from an_sf_sync import text


def test_clean_keeps_tabs_and_newlines_and_marks_lone_surrogates():
    assert text.clean("a\x00b\x07c\x7f\x85d\te\r\nf") == "abcd\te\r\nf"
    assert text.clean("half \ud83d pair") == "half \ufffd pair"
    assert text.clean_value({"k\x00": ["v\x01", 3, None]}) == {"k": ["v", 3, None]}


def test_clean_frame_reports_changed_rows_and_cleans_json_text():
    frame = pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "name": ["Ada", "Nu\x00ll", None, "Dee"],
        "custom": [json.dumps({"employer": "Acme\x00"}), None, json.dumps({"note": "a \\u0000 as text"}),
                   json.dumps({"x": "y"})],
        "n": [1, 2, 3, 4],
    })
    assert text.clean_frame(frame, json_columns=("custom",)) == [0, 1]
    assert list(frame["name"])[:2] == ["Ada", "Null"]
    assert json.loads(frame["custom"][0]) == {"employer": "Acme"}
    assert json.loads(frame["custom"][2]) == {"note": "a \\u0000 as text"}  # text, not a control character


def test_clean_frame_leaves_clean_frames_alone():
    frame = pd.DataFrame({"id": ["a"], "name": ["Zoë 🌍\n"]})
    assert text.clean_frame(frame) == [] and frame["name"][0] == "Zoë 🌍\n"
