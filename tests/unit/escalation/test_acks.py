"""Nurse SMS reply codes."""

from __future__ import annotations

import pytest

from triage.acks import Ack, Close, Escalate, ReplyAction, Unrecognised, help_text, parse_reply
from triage.wording import SMS_SEGMENT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42A", Ack(42)),
        ("42 a", Ack(42)),
        ("42a", Ack(42)),
        ("#42 A", Ack(42)),
        ("  #42   a. ", Ack(42)),
        ("42-A!", Ack(42)),
        ("042a", Ack(42)),
        ("42 ack", Ack(42)),
        ("Ack 42", Ack(42)),
        ("a42", Ack(42)),
        ("A #42", Ack(42)),
        ("４２Ａ", Ack(42)),  # full-width, from some phone keyboards
        ("A", Ack(None)),
        ("a", Ack(None)),
        ("ack", Ack(None)),
        ("ACK.", Ack(None)),
        ("acepto", Ack(None)),
        ("42C", Close(42)),
        ("42 close", Close(42)),
        ("c", Close(None)),
        ("42E", Escalate(42)),
        ("#42e", Escalate(42)),
        ("esc 42", Escalate(42)),
        ("E", Escalate(None)),
        ("123456789a", Ack(123456789)),
    ],
)
def test_codes(text: str, expected: ReplyAction) -> None:
    assert parse_reply(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "42",
        "#42",
        "ok",
        "yes",
        "thanks",
        "can't take 42a",
        "42a please",
        "42a 43a",
        "42x",
        "0a",
        "1234567890a",  # ten digits: not one of ours
        "4 2 a",
        "42 a b",
        "STOP",
        "help",
        "my patient in room 4 needs 2a",
    ],
)
def test_anything_else_is_unrecognised(text: str) -> None:
    assert parse_reply(text) == Unrecognised()


def test_unrecognised_keeps_no_text() -> None:
    assert Unrecognised.__slots__ == ()


@pytest.mark.parametrize("language", ["en", "es", "fr", "es-MX"])
def test_help_text_is_one_ascii_segment_and_explains_the_codes(language: str) -> None:
    text = help_text(language)
    assert text.isascii()
    assert len(text) <= SMS_SEGMENT
    for code in ("42A", "42C", "42E"):
        assert code in text


def test_help_text_languages() -> None:
    assert "reply" in help_text()
    assert "responda" in help_text("es")
    assert help_text("fr") == help_text("en")
