"""Careline triage engine: one message in, a TriageResult with its explanation out.

Pure: no I/O, no clock, no logging. The ruleset (triage/rules/ruleset.json) is read and compiled once at import.

    >>> from triage.engine import assess, PatientContext, Treatment
    >>> assess("my mom has a temp of 101.2 and chills").level
    <Level.URGENT: 'urgent'>
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final

from triage.lexicon import tokenize
from triage.numbers import c_to_f, f_to_c, infer_temperature_unit
from triage.ruleset import Combo, CompiledRuleset, Rule, load_ruleset
from triage.scanner import Scan as _Scan
from triage.scanner import Tok as _Tok
from triage.scanner import scan as scan_tokens

__all__ = [
    "RULESET_VERSION",
    "Finding",
    "Level",
    "PatientContext",
    "Treatment",
    "TriageEngine",
    "TriageResult",
    "TriageSettings",
    "assess",
]


class Level(StrEnum):
    """Ordinal triage level: NON_CLINICAL < ROUTINE < URGENT < EMERGENCY."""

    NON_CLINICAL = "non_clinical"
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    # A member is the str of its value (same hash, equal), so _RANK[self] is _RANK[self.value] without the
    # enum's Python-level value property: comparisons sit on the engine's hot path.
    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return _RANK[self] < _RANK[other]

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return _RANK[self] <= _RANK[other]

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return _RANK[self] > _RANK[other]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return _RANK[self] >= _RANK[other]

    def __str__(self) -> str:
        return self.value


_RANK: Final[dict[str, int]] = {"non_clinical": 0, "routine": 1, "urgent": 2, "emergency": 3}


class Treatment(StrEnum):
    CHEMOTHERAPY = "chemotherapy"
    IMMUNOTHERAPY = "immunotherapy"
    TARGETED = "targeted"
    RADIATION = "radiation"
    NONE = "none"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class PatientContext:
    """What the practice knows about the patient. Everything is optional; unknown treatment means chemotherapy."""

    treatment: Treatment | None = None
    days_since_dose: int | None = None
    on_anticoagulant: bool | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class TriageSettings:
    """Practice-level thresholds. US default fever 38.0 °C / 100.4 °F; UKONS practices use 37.5 °C."""

    fever_threshold_c: float = 38.0
    hypothermia_below_c: float = 36.0
    # The criteria grade 1–2 vomits a day routine and >= 6 urgent; 3–5 is not graded, so we choose the higher.
    vomiting_urgent_count: int = 3
    diarrhea_urgent_count: int = 7
    pain_score_urgent: int = 7
    spo2_emergency_below: int = 90
    nadir_first_day: int = 7
    nadir_last_day: int = 14
    assume_anticoagulant_when_unknown: bool = True

    @property
    def fever_threshold_f(self) -> float:
        return c_to_f(self.fever_threshold_c)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the engine found. Set-aside findings (negated, resolved, hypothetical) trigger nothing."""

    rule_id: str
    symptom: str
    level: Level
    matched: str
    span: tuple[int, int]  # offsets in the normalised text
    value: float | None = None
    unit: str | None = None
    negated: bool = False
    resolved: bool = False
    hypothetical: bool = False
    note: str = ""

    # The __init__ @dataclass would generate, written out (a dataclass keeps an __init__ of its own): compiled by
    # mypyc it runs natively, while a generated one runs interpreted, and the engine builds one per finding.
    def __init__(
        self,
        rule_id: str,
        symptom: str,
        level: Level,
        matched: str,
        span: tuple[int, int],
        value: float | None = None,
        unit: str | None = None,
        negated: bool = False,
        resolved: bool = False,
        hypothetical: bool = False,
        note: str = "",
    ) -> None:
        setattr_ = object.__setattr__  # frozen: the way the generated __init__ sets fields
        setattr_(self, "rule_id", rule_id)
        setattr_(self, "symptom", symptom)
        setattr_(self, "level", level)
        setattr_(self, "matched", matched)
        setattr_(self, "span", span)
        setattr_(self, "value", value)
        setattr_(self, "unit", unit)
        setattr_(self, "negated", negated)
        setattr_(self, "resolved", resolved)
        setattr_(self, "hypothetical", hypothetical)
        setattr_(self, "note", note)

    @property
    def current(self) -> bool:
        return not (self.negated or self.resolved or self.hypothetical)

    def to_dict(self) -> dict[str, object]:
        return {
            "rule_id": self.rule_id,
            "symptom": self.symptom,
            "level": self.level.value,
            "matched": self.matched,
            "span": list(self.span),
            "value": self.value,
            "unit": self.unit,
            "negated": self.negated,
            "resolved": self.resolved,
            "hypothetical": self.hypothetical,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class TriageResult:
    level: Level
    findings: tuple[Finding, ...]
    context_changes: tuple[str, ...]
    topics: frozenset[str]
    flags: frozenset[str]
    ruleset_version: str
    language: str
    corrections: tuple[tuple[str, str], ...] = ()
    assumptions: tuple[str, ...] = ()

    # The __init__ @dataclass would generate, written out so that mypyc compiles it (see Finding.__init__).
    def __init__(
        self,
        level: Level,
        findings: tuple[Finding, ...],
        context_changes: tuple[str, ...],
        topics: frozenset[str],
        flags: frozenset[str],
        ruleset_version: str,
        language: str,
        corrections: tuple[tuple[str, str], ...] = (),
        assumptions: tuple[str, ...] = (),
    ) -> None:
        setattr_ = object.__setattr__  # frozen: the way the generated __init__ sets fields
        setattr_(self, "level", level)
        setattr_(self, "findings", findings)
        setattr_(self, "context_changes", context_changes)
        setattr_(self, "topics", topics)
        setattr_(self, "flags", flags)
        setattr_(self, "ruleset_version", ruleset_version)
        setattr_(self, "language", language)
        setattr_(self, "corrections", corrections)
        setattr_(self, "assumptions", assumptions)

    @property
    def symptoms(self) -> list[str]:
        """Symptom ids of current findings, in order of first appearance, without repeats."""
        seen: dict[str, None] = {}
        for f in self.findings:
            if f.current:
                seen.setdefault(f.symptom, None)
        return list(seen)

    @property
    def current_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.current)

    @property
    def set_aside(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.current)

    def explain(self) -> str:
        lines = [f"{self.level.value.upper()} (ruleset {self.ruleset_version}, language {self.language})"]
        current = sorted(self.current_findings, key=lambda f: -f.level.rank)
        for f in current:
            lines.append("  " + _describe(f))
        if not current:
            if self.topics:
                lines.append("  no current clinical finding; topics: " + ", ".join(sorted(self.topics)))
            else:
                lines.append("  no current clinical finding")
        for change in self.context_changes:
            lines.append(f"  context: {change}")
        for a in self.assumptions:
            lines.append(f"  assumed: {a}")
        aside = self.set_aside
        for f in aside:
            why = "negated" if f.negated else "resolved/past" if f.resolved else "hypothetical/question"
            lines.append(f"  set aside ({why}): " + _describe(f))
        if self.corrections:
            lines.append("  spelling: " + ", ".join(f"{a!r} read as {b!r}" for a, b in self.corrections))
        if self.topics and current:
            lines.append("  topics: " + ", ".join(sorted(self.topics)))
        if self.flags:
            lines.append("  flags: " + ", ".join(sorted(self.flags)))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "level": self.level.value,
            "symptoms": self.symptoms,
            "findings": [f.to_dict() for f in self.findings],
            "context_changes": list(self.context_changes),
            "assumptions": list(self.assumptions),
            "topics": sorted(self.topics),
            "flags": sorted(self.flags),
            "ruleset_version": self.ruleset_version,
            "language": self.language,
            "corrections": [list(c) for c in self.corrections],
            "explanation": self.explain(),
        }


def _describe(f: Finding) -> str:
    text = f"{f.level.value} {f.rule_id} [{f.symptom}]: {f.matched!r}"
    if f.value is not None:
        value = int(f.value) if f.value == int(f.value) else f.value
        text += f" = {value}" + (f" {f.unit}" if f.unit else "")
    if f.note:
        text += f" ({f.note})"
    return text


# --------------------------------------------------------------------------------------------------------------
# scanning

_NEG_WINDOW: Final = 5
# Words that may sit between a finding and "went away" in the next clause and still tie the two together.
_BRIDGE_WORDS: Final = frozenset(
    [
        "it",
        "they",
        "that",
        "this",
        "those",
        "these",
        "both",
        "all",
        "but",
        "and",
        "then",
        "finally",
        "eventually",
        "has",
        "have",
        "had",
        "is",
        "was",
        "were",
        "are",
        "yesterday",
        "morning",
        "night",
        "today",
        "afternoon",
        "evening",
        "earlier",
        "last",
        ",",
        ".",
        "pero",
        "y",
        "ya",
        "se",
        "me",
        "le",
        "los",
        "las",
        "eso",
        "ayer",
        "manana",
        "noche",
        "hoy",
        "tarde",
    ]
)
_POST_WINDOW: Final = 4


class _Raw:
    """A mutable finding under construction.

    A plain class rather than a dataclass: one is built per finding, and when mypyc compiles the engine a plain
    class gets a compiled __init__ while a dataclass's generated __init__ runs interpreted.
    """

    __slots__ = (
        "end",
        "hypothetical",
        "level",
        "negated",
        "notes",
        "resolved",
        "rule",
        "rule_id",
        "start",
        "symptom",
        "toks",
        "unit",
        "value",
    )

    def __init__(
        self,
        rule: Rule | None,
        rule_id: str,
        symptom: str,
        level: Level,
        start: int,
        end: int,
        toks: tuple[_Tok, ...],
        value: float | None = None,
        unit: str | None = None,
    ) -> None:
        self.rule = rule
        self.rule_id = rule_id
        self.symptom = symptom
        self.level = level
        self.start = start
        self.end = end
        self.toks = toks
        self.value = value
        self.unit = unit
        self.negated = False
        self.resolved = False
        self.hypothetical = False
        self.notes: list[str] = []


# --------------------------------------------------------------------------------------------------------------
# the engine


class TriageEngine:
    """Assess messages against one compiled ruleset and one practice's settings. Thread-safe, reusable."""

    __slots__ = ("_rs", "settings")

    def __init__(self, settings: TriageSettings | None = None, ruleset: CompiledRuleset | None = None) -> None:
        self.settings = settings or TriageSettings()
        self._rs = ruleset or _default_ruleset()

    @property
    def ruleset_version(self) -> str:
        return self._rs.version

    def assess(self, text: str, context: PatientContext | None = None) -> TriageResult:
        rs = self._rs
        ctx = context or _NO_CONTEXT
        tokens = tokenize(text, rs.translation, rs.ascii_plan)
        corrections: list[tuple[str, str]] = []
        fixes = rs.fuzzy.fixes(set(tokens))
        if fixes:
            # the same as tokens = [fixes.get(t, t) for t in tokens]: the few misspelt tokens are found with
            # list.index (C speed) and replaced in place (the list is this call's own, fresh from tokenize);
            # a correction is a known word, never a key of fixes, so replacing one key cannot create another
            for wrong, right in fixes.items():
                i = -1
                for _ in range(tokens.count(wrong)):
                    i = tokens.index(wrong, i + 1)
                    tokens[i] = right
            corrections = sorted(fixes.items())
        scan = scan_tokens(rs.lexicon, tokens)
        return _Assessment(rs, self.settings, ctx, scan, tuple(corrections)).result()


_NO_CONTEXT: Final = PatientContext()  # frozen: one shared instance instead of one per message


@lru_cache(maxsize=1)
def _default_ruleset() -> CompiledRuleset:
    return load_ruleset()


_DEFAULT_RULESET: Final = _default_ruleset()
RULESET_VERSION: Final[str] = _DEFAULT_RULESET.version


@lru_cache(maxsize=16)
def _engine_for(settings: TriageSettings) -> TriageEngine:
    return TriageEngine(settings)


def assess(text: str, context: PatientContext | None = None, settings: TriageSettings | None = None) -> TriageResult:
    """Assess one message with the packaged ruleset (default settings unless given)."""
    return _engine_for(settings or TriageSettings()).assess(text, context)


_PUNCT_TOKENS: Final = frozenset(".,;:!?")
_LIST_JOINERS: Final = frozenset({"and", "or", "y", "o", "ni", ","})
_ANSWER_NO: Final = frozenset({"no", "none", "nope", "negative", "nada", "ninguno", "ninguna", "nah", "denies"})


_COUNT_ADJECTIVES: Final = frozenset(("loose", "watery", "liquid", "more", "big", "small"))
# first words of the count unit phrases (plus the adjectives above), per unit set: a quick no for most numbers
_UNIT_FIRST_WORDS: Final[dict[frozenset[str], frozenset[str]]] = {}
_NO_TOKS: Final[list[_Tok]] = []  # shared empty results: never appended to
_NO_CLAUSES: Final[dict[int, list[_Tok]]] = {}


@lru_cache(maxsize=16)
def _temperature_notes(s: TriageSettings) -> tuple[str, str, str]:
    """The notes of a fever, a low and a normal reading: they depend on the settings only (formatted once)."""
    return (
        f">= {s.fever_threshold_c:g} °C / {s.fever_threshold_f:g} °F",
        f"< {s.hypothermia_below_c:g} °C",
        f"< {s.fever_threshold_c:g} °C / {s.fever_threshold_f:g} °F",
    )


def _unit_first_words(units: frozenset[str]) -> frozenset[str]:
    firsts = _UNIT_FIRST_WORDS.get(units)
    if firsts is None:
        firsts = _UNIT_FIRST_WORDS[units] = frozenset(u.split(" ")[0] for u in units) | _COUNT_ADJECTIVES
    return firsts


# Enum .value is a Python-level property: the values the engine needs, looked up once.
_TREATMENT_VALUES: Final[dict[Treatment, str]] = {t: t.value for t in Treatment}
_CHEMOTHERAPY: Final = Treatment.CHEMOTHERAPY.value
_IMMUNOTHERAPY: Final = Treatment.IMMUNOTHERAPY.value


def _lv(name: str) -> Level:
    level = _LEVEL_BY_NAME.get(name)
    return Level(name) if level is None else level


_LEVEL_BY_NAME: Final[dict[str, Level]] = {level.value: level for level in Level}


class _Assessment:
    """The per-message work: statuses, numbers, context, combinations. Not shared between messages."""

    def __init__(
        self,
        rs: CompiledRuleset,
        settings: TriageSettings,
        ctx: PatientContext,
        scan: _Scan,
        corrections: tuple[tuple[str, str], ...],
    ) -> None:
        self.rs = rs
        self.settings = settings
        self.ctx = ctx
        self.scan = scan
        self.corrections = corrections
        self.context_changes: list[str] = []
        self.assumptions: list[str] = []
        self._term_ending_at: dict[int, _Tok] | None = None  # built on first use (lists "fever and chills")
        self._clause_markers: dict[str, dict[int, list[_Tok]]] = {}
        for kind, toks in scan.markers.items():
            per_clause: dict[int, list[_Tok]] = {}
            for m in toks:
                per_clause.setdefault(m.clause, []).append(m)
            self._clause_markers[kind] = per_clause
        # Where a status marker sits at all: a finding elsewhere cannot be set aside, so its checks are skipped.
        cm = self._clause_markers
        self._neg_clauses: dict[int, list[_Tok]] = cm.get("negation", _NO_CLAUSES)
        self._res_clauses: set[int] = set(cm.get("resolved_pre", _NO_CLAUSES))
        self._res_clauses.update(cm.get("past", _NO_CLAUSES))
        for c in cm.get("resolved_post", _NO_CLAUSES):
            self._res_clauses.add(c)
            self._res_clauses.add(c - 1)
        self._res_sentences: set[int] = {m.sentence for m in scan.markers.get("resolved_sentence", _NO_TOKS)}
        hyp = cm.get("hypothetical", _NO_CLAUSES)
        self._first_hyp_clause: int = min(hyp) if hyp else len(scan.tokens) + 1

    # ---- status of a token ----------------------------------------------------------------------------------

    def _markers(self, kind: str) -> list[_Tok]:
        return self.scan.markers.get(kind, _NO_TOKS)

    def _in_clause(self, kind: str, clause: int) -> list[_Tok]:
        return self._clause_markers.get(kind, _NO_CLAUSES).get(clause, _NO_TOKS)

    def _negated(self, tok: _Tok) -> bool:
        # "fever? no." / "fever: none"
        tokens = self.scan.tokens
        n = len(tokens)
        w = tok.word_last
        if (
            w + 2 < n
            and tokens[w + 1] in (":", "?", "-")
            and tokens[w + 2] in _ANSWER_NO
            and (w + 3 >= n or tokens[w + 3] in _PUNCT_TOKENS)
        ):
            return True
        neg = self._neg_clauses.get(tok.clause)
        if neg:
            for m in neg:
                if m.end <= tok.start and tok.word - m.word_last <= _NEG_WINDOW:
                    return True
        return False

    def _recurred(self, tok: _Tok) -> bool:
        """'it came back', 'again', 'still' later in the same sentence: whatever was resolved is current."""
        return any(m.sentence == tok.sentence and m.start >= tok.start for m in self._markers("recurred"))

    def _resolved(self, tok: _Tok, *, post: bool = True) -> bool:
        if self._recurred(tok):
            return False
        current_here = tok.sentence in self.scan.current_sentences or any(
            m.sentence == tok.sentence for m in self._markers("recurred")
        )
        for m in self._in_clause("resolved_pre", tok.clause):
            if m.end <= tok.start and tok.word - m.word_last <= _NEG_WINDOW:
                return True
        if post:
            for m in self._in_clause("resolved_post", tok.clause):
                if m.start >= tok.end and m.word - tok.word_last <= _POST_WINDOW:
                    between = [n for n in self._in_clause("negation", tok.clause) if tok.end <= n.start < m.start]
                    if not between:
                        return True
            # "had chills this morning but they went away": the next clause, with only pronouns in between
            for m in self._in_clause("resolved_post", tok.clause + 1):
                if m.word - tok.word_last <= _POST_WINDOW + 4 and all(
                    w in _BRIDGE_WORDS for w in self.scan.tokens[tok.word_last + 1 : m.word]
                ):
                    return True
            if not current_here:
                for m in self._markers("resolved_sentence"):
                    if m.sentence == tok.sentence and m.start >= tok.end:
                        return True
        return not current_here and bool(self._in_clause("past", tok.clause))

    def _hypothetical(self, tok: _Tok) -> bool:
        if any(m.end <= tok.start for m in self._in_clause("hypothetical", tok.clause)):
            return True
        # a list carries the hypothetical on: "watch for fever and chills", "si me da fiebre o vomito"
        tokens = self.scan.tokens
        if tok.word >= 2 and tokens[tok.word - 1] in _LIST_JOINERS:
            ending_at = self._term_ending_at
            if ending_at is None:
                ending_at = {t.word_last: t for toks in self.scan.terms.values() for t in toks}
                self._term_ending_at = ending_at
            prev = ending_at.get(tok.word - 2)
            if prev is not None and prev.clause < tok.clause:
                return self._hypothetical(prev)
        return False

    def _status(self, raw: _Raw, *, negation_immune: bool = False, post: bool = True) -> None:
        for tok in raw.toks:
            if not negation_immune and self._negated(tok):
                raw.negated = True
            if (tok.clause in self._res_clauses or tok.sentence in self._res_sentences) and self._resolved(
                tok, post=post
            ):
                raw.resolved = True
            if tok.clause >= self._first_hyp_clause and self._hypothetical(tok):
                raw.hypothetical = True

    # ---- rules ----------------------------------------------------------------------------------------------

    def _match_rules(self) -> list[_Raw]:
        terms = self.scan.terms
        candidates: dict[int, Rule] = {}
        keyed = self.rs.keyed_rules_by_term
        for t in terms:
            for key, rule in keyed.get(t, ()):  # key: rule_order[rule.id]
                candidates[key] = rule
        found: list[_Raw] = []
        for idx in sorted(candidates) if len(candidates) > 1 else candidates:  # the ruleset's order: stable output
            rule = candidates[idx]
            seen_spans: set[tuple[int, int]] = set()
            for conj in rule.match:
                if len(conj) == 1:
                    # one term (most conjunctions): the general loop below with toks == [first]
                    firsts = terms.get(conj[0])
                    if firsts is None:
                        continue
                    for first in firsts:
                        span = (first.start, first.end)
                        if span in seen_spans:
                            continue
                        seen_spans.add(span)
                        raw = _Raw(rule, rule.id, rule.symptom, _lv(rule.level), first.start, first.end, (first,))
                        self._status(raw, negation_immune=rule.negation_immune)
                        found.append(raw)
                    continue
                missing = False
                for name in conj:
                    if name not in terms:
                        missing = True
                        break
                if missing:
                    continue
                for first in terms[conj[0]]:
                    toks = [first]
                    for other in conj[1:]:
                        best: _Tok | None = None
                        for cand in terms[other]:
                            same = (
                                (cand.sentence == first.sentence)
                                if rule.same_sentence
                                else (cand.clause == first.clause)
                            )
                            if not same or cand is first or abs(cand.word - first.word) > rule.window:
                                continue
                            if cand.start < first.end and cand.end > first.start:
                                continue  # the same words cannot play two parts
                            if best is None or abs(cand.word - first.word) < abs(best.word - first.word):
                                best = cand
                        if best is None:
                            break
                        toks.append(best)
                    if len(toks) != len(conj):
                        continue
                    if len(toks) == 1:
                        start, end = first.start, first.end
                    else:
                        start = min(t.start for t in toks)
                        end = max(t.end for t in toks)
                    if (start, end) in seen_spans:
                        continue
                    seen_spans.add((start, end))
                    raw = _Raw(rule, rule.id, rule.symptom, _lv(rule.level), start, end, tuple(toks))
                    self._status(raw, negation_immune=rule.negation_immune)
                    found.append(raw)
        return found

    # ---- numbers --------------------------------------------------------------------------------------------

    def _numbers(self, found: list[_Raw]) -> None:
        s = self.settings
        rs = self.rs
        tokens = self.scan.tokens
        for sc in self.scan.scores:
            if not 0 <= sc.value <= 10:
                continue
            level = Level.URGENT if sc.value >= s.pain_score_urgent else Level.ROUTINE
            raw = _Raw(None, "pain_score", "pain_score", level, sc.start, sc.end, (sc,), sc.value, "/10")
            raw.notes.append(f">= {s.pain_score_urgent}/10" if level is Level.URGENT else f"< {s.pain_score_urgent}/10")
            self._status(raw, post=False)
            found.append(raw)
        numbers = self.scan.numbers
        if numbers:
            count_firsts = _unit_first_words(rs.stool_count_units) | _unit_first_words(rs.vomit_count_units)
        for num in numbers:
            value = num.value
            if value > 113.0 or value <= 0:
                continue  # no count, score, saturation or body temperature is out there
            after = tokens[num.word_last + 1 : num.word_last + 5]
            # counts: "threw up 6 times", "8 bms today", "6x"
            # (_unit_phrase is False unless the next word may start a unit phrase: most numbers stop at that test)
            if value == int(value) and 0 < value < 60 and (num.unit == "x" or (after and after[0] in count_firsts)):
                stool = self._unit_phrase(after, rs.stool_count_units)
                vomit = num.unit == "x" or (not stool and self._unit_phrase(after, rs.vomit_count_units))
                if stool or vomit:
                    self._attach_count(found, num, int(value), stool=stool)
                    continue
            if value < 30.0 and not (value <= 10 and value == int(value)):
                continue  # not a saturation (50-100), a spoken pain score (0-10) or a body temperature (30-113)
            before = tokens[max(0, num.word - 4) : num.word]
            # oxygen saturation
            if 50 <= value <= 100 and not rs.oxygen_context.isdisjoint(before):
                low = value < s.spo2_emergency_below
                raw = _Raw(
                    None,
                    "oxygen_saturation",
                    "low_oxygen" if low else "oxygen_reading",
                    Level.EMERGENCY if low else Level.ROUTINE,
                    num.start,
                    num.end,
                    (num,),
                    value,
                    "%",
                )
                raw.notes.append(f"SpO2 < {s.spo2_emergency_below}%" if low else "SpO2 reading")
                self._status(raw, post=False)
                found.append(raw)
                continue
            # pain score spoken as "pain is an 8"
            spoken_score = value <= 10 and value == int(value) and not (after and after[0] in rs.not_temp_after)
            if spoken_score and not rs.pain_context.isdisjoint(tokens[max(0, num.word - 5) : num.word]):
                level = Level.URGENT if value >= s.pain_score_urgent else Level.ROUTINE
                raw = _Raw(None, "pain_score", "pain_score", level, num.start, num.end, (num,), value, "/10")
                self._status(raw, post=False)
                found.append(raw)
                continue
            if value < 30.0:
                continue  # _temperature would say no
            temp = self._temperature(num, before, after)
            if temp is not None:
                found.append(temp)

    @staticmethod
    def _unit_phrase(after: list[str], units: frozenset[str]) -> bool:
        if not after:
            return False
        if after[0] not in _unit_first_words(units):
            return False  # no unit phrase starts here and no "loose", "more" ... before one
        for k in (1, 2, 3, 4):
            if len(after) >= k and " ".join(after[:k]) in units:
                return True
        # "6 loose stools", "3 more bms"
        return len(after) >= 2 and after[0] in _COUNT_ADJECTIVES and (after[1] in units)

    def _attach_count(self, found: list[_Raw], num: _Tok, count: int, *, stool: bool) -> None:
        wanted = ("diarrhea",) if stool else ("vomiting", "diarrhea")
        best: _Raw | None = None
        for raw in found:
            if raw.rule is None or raw.rule.count_setting is None or raw.symptom not in wanted:
                continue
            if raw.toks[0].sentence != num.sentence and abs(raw.start - num.start) > 100:
                continue
            if best is None or abs(raw.start - num.start) < abs(best.start - num.start):
                best = raw
        if best is None:
            if not stool:
                return
            rule = next(r for r in self.rs.rules if r.symptom == "diarrhea" and r.count_setting)
            best = _Raw(rule, rule.id, rule.symptom, _lv(rule.level), num.start, num.end, (num,))
            self._status(best, negation_immune=True, post=False)
            found.append(best)
        best.value = float(count)
        best.unit = "per day"
        best.start = min(best.start, num.start)
        best.end = max(best.end, num.end)
        threshold = (
            self.settings.vomiting_urgent_count if best.symptom == "vomiting" else self.settings.diarrhea_urgent_count
        )
        if count >= threshold and best.level < Level.URGENT:
            best.level = Level.URGENT
            best.notes.append(f"{count} >= {threshold} a day")
        elif count < threshold:
            best.notes.append(f"{count} < {threshold} a day")

    def _temperature(self, num: _Tok, before: list[str], after: list[str]) -> _Raw | None:
        rs = self.rs
        s = self.settings
        value = num.value
        if not (30.0 <= value <= 113.0):
            return None
        # what sits right before: "room 101", "$ 100.40", "bp 101", "cycle 3"; phone numbers and times
        prev = before[-2:]
        if any(w in rs.not_temp_before for w in prev):
            return None
        if prev and prev[-1][:1].isdigit():
            return None
        if after and (after[0] in (":", "/", "%") or after[0][:1].isdigit()):
            return None
        explicit: str | None = num.unit.upper() if num.unit in ("f", "c") else None
        rest = list(after)
        has_degree = False
        if rest and rest[0] in ("°", "degrees", "degree", "deg", "grados", "grado"):
            rest = rest[1:]
            has_degree = True
        unit_word = rest[0] if rest else ""
        if explicit is None:
            if unit_word in ("f", "fahrenheit", "farenheit", "fahrenheight", "°f"):
                explicit = "F"
            elif unit_word in ("c", "celsius", "centigrade", "centigrados", "centigrado", "celcius", "°c"):
                explicit = "C"
            elif not has_degree and unit_word in rs.not_temp_after:
                return None
        unit = infer_temperature_unit(value, explicit)
        if unit is None:
            return None
        if not (num.decimal or explicit or has_degree):
            tokens = self.scan.tokens
            window = tokens[max(0, num.word - 12) : num.word_last + 7]
            if rs.temp_context.isdisjoint(window):
                return None
        value_c = value if unit == "C" else f_to_c(value)
        thr = s.fever_threshold_c
        notes = _temperature_notes(s)
        if value_c >= thr:
            level, rule_id, symptom = Level.URGENT, "temperature_fever", "fever"
            note = notes[0]
        elif value_c < s.hypothermia_below_c:
            level, rule_id, symptom = Level.URGENT, "temperature_low", "hypothermia"
            note = notes[1]
        else:
            level, rule_id, symptom = Level.ROUTINE, "temperature_normal", "temperature_below_threshold"
            note = notes[2]
        if explicit is None:
            note += f"; unit inferred as °{unit}"
        raw = _Raw(None, rule_id, symptom, level, num.start, num.end, (num,), value, "°" + unit)
        raw.notes.append(note)
        self._status(raw, post=False)
        return raw

    # ---- context --------------------------------------------------------------------------------------------

    def _treatments(self) -> set[str]:
        treatment = self.ctx.treatment
        if treatment is None:
            self.assumptions.append("treatment unknown: active chemotherapy")
            result = {_CHEMOTHERAPY}
        else:
            result = {_TREATMENT_VALUES[treatment]}
        if self._mentioned("immuno_mention") and _IMMUNOTHERAPY not in result:
            result.add(_IMMUNOTHERAPY)
            self.assumptions.append("message mentions immunotherapy")
        return result

    def _mentioned(self, term: str) -> bool:
        """The message says so, and does not negate it ("not on any blood thinners")."""
        return any(not self._negated(t) for t in self.scan.terms.get(term, []))

    def _anticoagulated(self) -> tuple[bool, str]:
        if self.ctx.on_anticoagulant:
            return True, "on an anticoagulant"
        if self._mentioned("anticoag_mention"):
            return True, "message mentions a blood thinner"
        if self.ctx.on_anticoagulant is None and self.settings.assume_anticoagulant_when_unknown:
            return True, "anticoagulant status unknown, assumed yes"
        return False, ""

    def _apply_context(self, found: list[_Raw]) -> None:
        treatments = self._treatments()
        days = self.ctx.days_since_dose
        s = self.settings
        in_nadir = days is not None and s.nadir_first_day <= days <= s.nadir_last_day and _CHEMOTHERAPY in treatments
        anticoag: tuple[bool, str] | None = None
        for raw in found:
            rule = raw.rule
            if rule is None:
                continue
            for treatment, level_name in rule.treatment_levels:
                level = _lv(level_name)
                if treatment in treatments and level > raw.level:
                    raw.level = level
                    self.context_changes.append(f"{treatment} raised {rule.id} to {level.value}")
            if rule.nadir and in_nadir and raw.level < Level.URGENT:
                raw.level = Level.URGENT
                self.context_changes.append(
                    f"day {days} after chemotherapy (nadir {s.nadir_first_day}-{s.nadir_last_day}) "
                    f"raised {rule.id} to urgent"
                )
            if rule.anticoagulant_level is not None:
                if anticoag is None:
                    anticoag = self._anticoagulated()
                level = _lv(rule.anticoagulant_level)
                if anticoag[0] and level > raw.level:
                    raw.level = level
                    self.context_changes.append(f"{anticoag[1]}: raised {rule.id} to {level.value}")

    # ---- fever word vs readings, demotions, generic findings ------------------------------------------------

    def _reconcile(self, found: list[_Raw]) -> None:
        readings = [r for r in found if r.rule is None and r.rule_id.startswith("temperature_") and self._cur(r)]
        if self._markers("antipyretic"):  # the loop changes nothing without an antipyretic marker
            for raw in found:
                rule = raw.rule
                if rule is not None and rule.fever_like and raw.resolved and not raw.negated:
                    raw.resolved = False
                    raw.notes.append("brought down by an antipyretic still counts")
        if readings and all(r.rule_id == "temperature_normal" for r in readings):
            for raw in found:
                if raw.rule is not None and raw.rule.id == "fever_reported" and self._cur(raw):
                    raw.level = Level.ROUTINE
                    raw.notes.append("the reading given is below the threshold")
        for raw in found:
            rule = raw.rule
            if rule is None or rule.demote is None or not self._cur(raw):
                continue
            d = rule.demote
            sent = raw.toks[0].sentence
            has_if = any(t.sentence == sent for name in d.if_terms for t in self.scan.terms.get(name, []))
            has_unless = any(t.sentence == sent for name in d.unless_terms for t in self.scan.terms.get(name, []))
            if has_if and not has_unless:
                raw.level = _lv(d.level)
                raw.notes.append(d.why)
        # generic findings step aside for a specific finding on the same words
        if not any(r.rule is not None and r.rule.generic for r in found):
            return  # nothing generic: every finding is kept
        specific = [r for r in found if r.rule is not None and not r.rule.generic]
        keep: list[_Raw] = []
        for raw in found:
            if (
                raw.rule is not None
                and raw.rule.generic
                and any(o.start < raw.end and raw.start < o.end for o in specific)
            ):
                continue
            keep.append(raw)
        found[:] = keep

    @staticmethod
    def _cur(raw: _Raw) -> bool:
        return not (raw.negated or raw.resolved or raw.hypothetical)

    def _combos(self, found: list[_Raw]) -> None:
        current = [r for r in found if self._cur(r)]
        symptoms = {r.symptom for r in current}
        if len(symptoms) < 2:
            return  # every combination needs two symptoms at least
        for combo in self.rs.combos:
            trigger = combo.trigger
            if trigger is not None and trigger.isdisjoint(symptoms):
                continue  # a symptom it needs is missing: _combo_holds would say no
            if not self._combo_holds(combo, symptoms):
                continue
            parts = [r for r in current if r.symptom in combo.min_of or any(r.symptom in g for g in combo.all_of)]
            start = min(r.start for r in parts)
            end = max(r.end for r in parts)
            raw = _Raw(None, combo.id, combo.symptom, _lv(combo.level), start, end, ())
            raw.notes.append(" + ".join(sorted({r.symptom for r in parts})))
            if combo.anticoagulant_level is not None:
                on, why = self._anticoagulated()
                level = _lv(combo.anticoagulant_level)
                if on and level > raw.level:
                    raw.level = level
                    self.context_changes.append(f"{why}: raised {combo.id} to {level.value}")
            found.append(raw)
            symptoms.add(combo.symptom)

    @staticmethod
    def _combo_holds(combo: Combo, symptoms: set[str]) -> bool:
        if combo.all_of and not all(group & symptoms for group in combo.all_of):
            return False
        if combo.min_n and len(combo.min_of & symptoms) < combo.min_n:
            return False
        return bool(combo.all_of or combo.min_n)

    # ---- result ---------------------------------------------------------------------------------------------

    def _topics(self) -> set[str]:
        topics = set(self.scan.topics)
        norm = self.scan.norm
        bare = norm.strip(" .!?,;:")
        if bare in self.rs.opt_out_exact:
            topics.add("opt_out")
        tokens = self.scan.tokens
        if 0 < len(tokens) <= 16:
            # every word (punctuation aside) is chit-chat, and there is a word (most messages: no at the first)
            chitchat = self.rs.chitchat_words
            words = 0
            for w in tokens:
                if w in _PUNCT_TOKENS:
                    continue
                if w not in chitchat:
                    break
                words += 1
            else:
                if words:
                    topics.add("chitchat")
        return topics

    def _language(self) -> str:
        if self.ctx.language:
            return self.ctx.language
        hints = self.rs.spanish_hints
        words = self.scan.tokens[:80]
        hits = 0
        for w in words:
            if w in hints:
                hits += 1
        return "es" if hits >= 2 and hits * 6 >= len(words) else "en"

    def result(self) -> TriageResult:
        found = self._match_rules()
        self._numbers(found)
        self._reconcile(found)
        self._apply_context(found)
        self._combos(found)
        topics = self._topics()

        level = Level.NON_CLINICAL
        flags: set[str] = set()
        clinical = False
        for raw in found:
            rule = raw.rule
            weak = rule is not None and rule.weak
            if not weak:
                clinical = True
            if self._cur(raw):
                if not (weak and topics) and _RANK[raw.level] > _RANK[level]:
                    level = raw.level  # max(level, raw.level)
                if rule is not None:
                    flags |= rule.flags
            elif rule is not None and rule.set_aside_level is not None:
                aside = _lv(rule.set_aside_level)
                level = max(level, aside)
                flags |= rule.flags
                raw.notes.append(f"set aside, but still {aside.value}")
        if level is Level.NON_CLINICAL and (clinical or not (topics or not self.scan.norm.strip())):
            level = Level.ROUTINE
        if level is Level.EMERGENCY:
            flags.add("call_911")

        findings = tuple(
            Finding(
                rule_id=r.rule_id,
                symptom=r.symptom,
                level=r.level,
                matched=self.scan.norm[r.start : r.end],
                span=(r.start, r.end),
                value=r.value,
                unit=r.unit,
                negated=r.negated,
                resolved=r.resolved,
                hypothetical=r.hypothetical,
                note="; ".join(r.notes),
            )
            for r in sorted(found, key=lambda r: r.start)
        )
        return TriageResult(
            level=level,
            findings=findings,
            context_changes=tuple(dict.fromkeys(self.context_changes)),
            topics=frozenset(topics),
            flags=frozenset(flags),
            ruleset_version=self.rs.version,
            language=self._language(),
            corrections=self.corrections,
            assumptions=tuple(dict.fromkeys(self.assumptions)),
        )
