"""Loading the labelled set and scoring it; shared by the tests and the terminal summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from triage.engine import Level, PatientContext, Treatment, TriageEngine

LABELLED = Path(__file__).resolve().parents[2] / "data" / "triage" / "labelled.jsonl"
LEVELS = (Level.NON_CLINICAL, Level.ROUTINE, Level.URGENT, Level.EMERGENCY)


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    text: str
    lang: str
    expected: Level
    note: str
    context: PatientContext


def _context(raw: object, lang: str) -> PatientContext:
    data = raw if isinstance(raw, dict) else {}
    treatment = data.get("treatment")
    days = data.get("days_since_dose")
    anticoag = data.get("on_anticoagulant")
    return PatientContext(
        treatment=Treatment(treatment) if isinstance(treatment, str) else None,
        days_since_dose=days if isinstance(days, int) else None,
        on_anticoagulant=anticoag if isinstance(anticoag, bool) else None,
        language=lang,
    )


def load_cases(path: Path = LABELLED) -> list[Case]:
    cases: list[Case] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        cases.append(
            Case(
                id=str(obj["id"]),
                text=str(obj["text"]),
                lang=str(obj["lang"]),
                expected=Level(obj["expected"]),
                note=str(obj["note"]),
                context=_context(obj.get("context"), str(obj["lang"])),
            )
        )
    return cases


@dataclass(slots=True)
class Scores:
    total: int = 0
    under: list[str] = field(default_factory=list)  # urgent/emergency predicted below urgent
    over: list[str] = field(default_factory=list)  # routine/non_clinical predicted urgent/emergency
    not_urgent: int = 0
    exact: int = 0
    matrix: dict[tuple[Level, Level], int] = field(default_factory=dict)

    @property
    def over_rate(self) -> float:
        return len(self.over) / self.not_urgent if self.not_urgent else 0.0

    def report(self) -> list[str]:
        lines = [
            f"triage labelled set: {self.total} messages, exact level {self.exact}/{self.total}",
            f"under-triage (urgent/emergency predicted below urgent): {len(self.under)} {self.under[:10]}",
            f"over-triage (routine/non_clinical predicted urgent+): {len(self.over)}/{self.not_urgent}"
            f" = {100 * self.over_rate:.1f}% {self.over[:10]}",
            "confusion matrix (rows expected, columns predicted):",
            "                " + "".join(f"{lv.value:>14}" for lv in LEVELS),
        ]
        for exp in LEVELS:
            row = "".join(f"{self.matrix.get((exp, pred), 0):>14}" for pred in LEVELS)
            lines.append(f"{exp.value:>16}{row}")
        return lines


def score(cases: list[Case], engine: TriageEngine | None = None) -> Scores:
    eng = engine or TriageEngine()
    scores = Scores()
    for case in cases:
        got = eng.assess(case.text, case.context).level
        scores.total += 1
        scores.matrix[(case.expected, got)] = scores.matrix.get((case.expected, got), 0) + 1
        if got is case.expected:
            scores.exact += 1
        if case.expected >= Level.URGENT and got < Level.URGENT:
            scores.under.append(case.id)
        if case.expected < Level.URGENT:
            scores.not_urgent += 1
            if got >= Level.URGENT:
                scores.over.append(case.id)
    return scores
