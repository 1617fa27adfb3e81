"""Prints the labelled-set figures (under-triage, over-triage %, confusion matrix) after the test run."""

from __future__ import annotations

import pytest

from tests.unit.triage.triage_labelled import load_cases, score


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    scores = score(load_cases())
    terminalreporter.section("triage labelled set")
    for line in scores.report():
        terminalreporter.write_line(line)
