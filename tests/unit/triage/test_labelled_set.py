"""The labelled set: every message parametrized, plus the acceptance figures over the whole set."""

from __future__ import annotations

import pytest

from tests.unit.triage.triage_labelled import Case, load_cases, score
from triage.engine import Level, TriageEngine

CASES = load_cases()
ENGINE = TriageEngine()


def test_the_set_is_big_and_covers_both_languages_and_all_levels() -> None:
    assert len(CASES) >= 400
    assert {c.lang for c in CASES} == {"en", "es"}
    assert {c.expected for c in CASES} == set(Level)
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_message_is_not_under_triaged(case: Case) -> None:
    got = ENGINE.assess(case.text, case.context)
    if case.expected >= Level.URGENT:
        assert got.level >= Level.URGENT, f"{case.note}: {got.explain()}"
    if case.expected is Level.EMERGENCY:
        assert got.level >= Level.URGENT


def test_acceptance_figures() -> None:
    scores = score(CASES, ENGINE)
    assert scores.under == []
    assert scores.over_rate <= 0.10, scores.report()
