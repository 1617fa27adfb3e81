"""Short SMS reply codes from nurses, GoAlert style: `42A` takes escalation #42, `42C` closes it, `42E`
escalates it now.

Pure. The whole reply must be a code, so "can't take 42a" is not read as an ack; case, spaces, `#` and
other punctuation around or inside the code are ignored (`#42 A`, `42-a.`, `ack 42` all work). A bare action
(`A`, `ack`) carries no number: it means "the only escalation open to me", and the caller must answer with
the list when there is more than one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from triage.wording import nurse_help

MAX_ID_DIGITS = 9

_ACTIONS: dict[str, Literal["ack", "close", "escalate"]] = {
    "a": "ack",
    "ack": "ack",
    "acked": "ack",
    "acknowledge": "ack",
    "acknowledged": "ack",
    "acepto": "ack",
    "aceptar": "ack",
    "c": "close",
    "close": "close",
    "closed": "close",
    "cerrar": "close",
    "e": "escalate",
    "esc": "escalate",
    "escalate": "escalate",
    "escalar": "escalate",
}

_NUMBER_FIRST = re.compile(rf"(\d{{1,{MAX_ID_DIGITS}}}) ?([a-z]+)")
_WORD_FIRST = re.compile(rf"([a-z]+) ?(\d{{1,{MAX_ID_DIGITS}}})")
_WORD_ONLY = re.compile(r"[a-z]+")
_NOT_CODE = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True, slots=True)
class Ack:
    """Take escalation `escalation_id`; None means the only one open to the sender."""

    escalation_id: int | None


@dataclass(frozen=True, slots=True)
class Close:
    """Close (resolve) the escalation; None means the only one open to the sender."""

    escalation_id: int | None


@dataclass(frozen=True, slots=True)
class Escalate:
    """Page the next step now; None means the only one open to the sender."""

    escalation_id: int | None


@dataclass(frozen=True, slots=True)
class Unrecognised:
    """Not a reply code. Answer with `help_text()`. Carries nothing: the text may hold PHI."""


ReplyAction = Ack | Close | Escalate | Unrecognised


def _normalise(text: str) -> str:
    # NFKC folds full-width digits and letters; then every run of non-alphanumerics becomes one space.
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NOT_CODE.sub(" ", folded).strip()


def _action(word: str, number: str | None) -> ReplyAction:
    kind = _ACTIONS.get(word)
    escalation_id = int(number) if number is not None else None
    if kind is None or escalation_id == 0:
        return Unrecognised()
    if kind == "ack":
        return Ack(escalation_id)
    if kind == "close":
        return Close(escalation_id)
    return Escalate(escalation_id)


def parse_reply(text: str) -> ReplyAction:
    """Read a nurse's SMS reply as an action on an escalation."""
    code = _normalise(text)
    if m := _NUMBER_FIRST.fullmatch(code):
        return _action(m.group(2), m.group(1))
    if m := _WORD_FIRST.fullmatch(code):
        return _action(m.group(1), m.group(2))
    if _WORD_ONLY.fullmatch(code):
        return _action(code, None)
    return Unrecognised()


def help_text(language: str = "en") -> str:
    """A one-segment SMS telling a nurse how to reply (ASCII)."""
    return nurse_help(language)
