"""`careline triage` as wired to triage.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.cli import EXIT_MALFORMED, main
from triage.engine import RULESET_VERSION


def test_single_message_shows_rule_words_value_unit_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["my temp is 38,4 and i have chills"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("URGENT")
    for part in ("temperature_fever", "'38,4'", "38.4 °C", "chills_rigors", RULESET_VERSION):
        assert part in out


def test_context_flags_change_the_level(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--treatment", "immunotherapy", "--days-since-dose", "9", "one loose stool today"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("URGENT")
    assert "immunotherapy raised diarrhea" in out
    assert main(["--no-anticoagulant", "fell and hit my head"]) == 0
    assert capsys.readouterr().out.startswith("URGENT")
    assert main(["--anticoagulant", "fell and hit my head"]) == 0
    assert capsys.readouterr().out.startswith("EMERGENCY")


def test_fever_threshold_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--fever-threshold-c", "37.5", "temp 37.6"]) == 0
    assert capsys.readouterr().out.startswith("URGENT")


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "chest pain"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["level"] == "emergency"
    assert "call_911" in data["flags"]


def test_jsonl_keeps_order_and_reports_malformed_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "text": "chest pain"}),
                "{not json",
                json.dumps({"id": "b", "text": "tengo fiebre de 39", "lang": "es"}),
                json.dumps({"id": "c"}),
                json.dumps({"id": 4, "text": "thanks!"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    assert main(["--jsonl", str(src), "--out", str(out)]) == EXIT_MALFORMED
    err = capsys.readouterr().err
    assert "line 2" in err
    assert "line 4" in err
    assert "chest" not in err  # never echo message text
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", 4]
    assert [r["level"] for r in rows] == ["emergency", "urgent", "non_clinical"]
    assert rows[1]["symptoms"] == ["fever"]
    assert set(rows[0]) == {"id", "level", "symptoms", "explanation"}


def test_jsonl_to_stdout_all_good(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "x", "text": "no fever"}) + "\n", encoding="utf-8")
    assert main(["--jsonl", str(src)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["level"] == "routine"


def test_no_message_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 1
    assert "give a message" in capsys.readouterr().err
