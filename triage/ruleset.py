"""The versioned triage ruleset: JSON data under triage/rules/, loaded once into typed, frozen objects.

Everything derived (the phrase tables the scanner walks, the fuzzy corrector) is built here
once per ruleset and shared by every engine using it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Final

from triage.lexicon import AsciiPlan, FuzzyCorrector, build_ascii_plan, build_translation, normalize_phrase
from triage.numbers import DECIMAL_JOINERS, NUMBER_JOINERS, NUMBER_WORDS
from triage.scanner import Lexicon, build_trie

__all__ = [
    "LEVEL_NAMES",
    "Combo",
    "CompiledRuleset",
    "Rule",
    "load_ruleset",
]

LEVEL_NAMES: Final = ("non_clinical", "routine", "urgent", "emergency")

# Roles a phrase can carry in the scanner. A phrase can carry several (e.g. "bleeding": two terms).
MARKER_KINDS: Final = (
    "negation",
    "resolved_pre",
    "resolved_post",
    "resolved_sentence",
    "past",
    "current",
    "hypothetical",
    "boundary",
    "antipyretic",
    "recurred",
)
# Phrases that only exist to swallow a marker inside them ("not sure if" is not a hypothetical "if").
_FILLERS: Final = (
    "not sure if",
    "not sure whether",
    "dont know if",
    "dont know whether",
    "wondering if",
    "unsure if",
    "see if",
    "check if",
    "not sure",
    "no se si",
    "no estoy seguro si",
    "no estoy segura si",
    "no one",
    "no matter",
    "no problem",
    "no worries",
    "not a problem",
    "not yet",
    "no way",
    "no rush",
    "no hurry",
    "does not matter",
    "doesnt matter",
    "if possible",
    "if you can",
    "if thats ok",
    "if that is ok",
    "if not",
    "if so",
    "even if",
    "as if",
    "no rush",
    "thats not",
    "did not know",
    "didnt know",
    "no pasa nada",
    "no hay prisa",
    "si es posible",
    "si puede",
    "si pueden",
    "no se",
)


@dataclass(frozen=True, slots=True)
class Demote:
    if_terms: frozenset[str]
    unless_terms: frozenset[str]
    level: str
    why: str


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    symptom: str
    level: str
    match: tuple[tuple[str, ...], ...]
    window: int = 6
    same_sentence: bool = False
    negation_immune: bool = False
    set_aside_level: str | None = None
    treatment_levels: tuple[tuple[str, str], ...] = ()
    nadir: bool = False
    anticoagulant_level: str | None = None
    count_setting: str | None = None
    fever_like: bool = False
    weak: bool = False
    generic: bool = False
    flags: frozenset[str] = frozenset()
    demote: Demote | None = None
    explain: str = ""


@dataclass(frozen=True, slots=True)
class Combo:
    id: str
    symptom: str
    level: str
    all_of: tuple[frozenset[str], ...] = ()
    min_n: int = 0
    min_of: frozenset[str] = frozenset()
    anticoagulant_level: str | None = None
    explain: str = ""
    # derived: symptoms of which one at least must be present for the combination to hold (the first "all" group,
    # else the "min_of" set when n >= 1), so the engine can rule most combinations out with one isdisjoint; empty
    # when nothing can make it hold, None when there is no such set
    trigger: frozenset[str] | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        trigger: frozenset[str] | None = None
        if self.all_of:
            trigger = self.all_of[0]
        elif self.min_n >= 1:
            trigger = self.min_of
        elif not self.min_n:
            trigger = frozenset()
        object.__setattr__(self, "trigger", trigger)


@dataclass(frozen=True, slots=True)
class CompiledRuleset:
    version: str
    rules: tuple[Rule, ...]
    combos: tuple[Combo, ...]
    lexicon: Lexicon
    translation: dict[int, str | None]
    rules_by_term: dict[str, tuple[Rule, ...]]
    rule_order: dict[str, int]
    fuzzy: FuzzyCorrector
    # number context: single words looked up around a number
    temp_context: frozenset[str]
    not_temp_before: frozenset[str]
    not_temp_after: frozenset[str]
    vomit_count_units: frozenset[str]  # phrases, up to four words
    stool_count_units: frozenset[str]
    pain_context: frozenset[str]
    oxygen_context: frozenset[str]
    opt_out_exact: frozenset[str]
    chitchat_words: frozenset[str]
    spanish_hints: frozenset[str]
    # derived: rules_by_term with each rule's position in rule_order, so the engine collects candidate rules
    # without looking their ids up for every message
    keyed_rules_by_term: dict[str, tuple[tuple[int, Rule], ...]] = field(init=False, default_factory=dict)
    # derived: the translation done faster for ASCII text (triage.lexicon.tokenize)
    ascii_plan: AsciiPlan | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        keyed = {t: tuple((self.rule_order[r.id], r) for r in rules) for t, rules in self.rules_by_term.items()}
        object.__setattr__(self, "keyed_rules_by_term", keyed)
        object.__setattr__(self, "ascii_plan", build_ascii_plan(self.translation))


class RulesetError(ValueError):
    """The ruleset data is malformed."""


def _obj(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise RulesetError(f"{where}: expected an object")
    return {str(k): v for k, v in value.items()}


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise RulesetError(f"{where}: expected a string")
    return value


def _strs(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesetError(f"{where}: expected a list of strings")
    return [str(v) for v in value]


def _level(value: object, where: str) -> str:
    level = _str(value, where)
    if level not in LEVEL_NAMES:
        raise RulesetError(f"{where}: unknown level {level!r}")
    return level


def _langs(value: object, where: str) -> list[str]:
    """A {"en": [...], "es": [...]} object or a plain list, as normalised phrases."""
    if isinstance(value, list):
        phrases = _strs(value, where)
    else:
        phrases = []
        for lang, items in _obj(value, where).items():
            phrases.extend(_strs(items, f"{where}.{lang}"))
    return [p for p in (normalize_phrase(x) for x in phrases) if p]


def _parse_rule(raw: object, i: int, terms: set[str]) -> Rule:
    where = f"rules[{i}]"
    data = _obj(raw, where)
    match_raw = data.get("match")
    if not isinstance(match_raw, list) or not match_raw:
        raise RulesetError(f"{where}.match: expected a non-empty list")
    match: list[tuple[str, ...]] = []
    for j, conj in enumerate(match_raw):
        names = _strs(conj, f"{where}.match[{j}]")
        for name in names:
            if name not in terms:
                raise RulesetError(f"{where}.match[{j}]: unknown term {name!r}")
        match.append(tuple(names))
    demote: Demote | None = None
    if "demote" in data:
        d = _obj(data["demote"], f"{where}.demote")
        demote = Demote(
            if_terms=frozenset(_strs(d.get("if", []), f"{where}.demote.if")),
            unless_terms=frozenset(_strs(d.get("unless", []), f"{where}.demote.unless")),
            level=_level(d.get("level"), f"{where}.demote.level"),
            why=_str(d.get("why", ""), f"{where}.demote.why"),
        )
    tl = _obj(data.get("treatment_levels", {}), f"{where}.treatment_levels")
    window = data.get("window", 6)
    if not isinstance(window, int):
        raise RulesetError(f"{where}.window: expected an integer")
    return Rule(
        id=_str(data.get("id"), f"{where}.id"),
        symptom=_str(data.get("symptom"), f"{where}.symptom"),
        level=_level(data.get("level"), f"{where}.level"),
        match=tuple(match),
        window=window,
        same_sentence=bool(data.get("same_sentence", False)),
        negation_immune=bool(data.get("negation_immune", False)),
        set_aside_level=_level(data["set_aside_level"], where) if "set_aside_level" in data else None,
        treatment_levels=tuple((k, _level(v, f"{where}.treatment_levels")) for k, v in tl.items()),
        nadir=bool(data.get("nadir", False)),
        anticoagulant_level=(_level(data["anticoagulant_level"], where) if "anticoagulant_level" in data else None),
        count_setting=_str(data["count_setting"], where) if "count_setting" in data else None,
        fever_like=bool(data.get("fever_like", False)),
        weak=bool(data.get("weak", False)),
        generic=bool(data.get("generic", False)),
        flags=frozenset(_strs(data.get("flags", []), f"{where}.flags")),
        demote=demote,
        explain=_str(data.get("explain", ""), f"{where}.explain"),
    )


def _parse_combo(raw: object, i: int) -> Combo:
    where = f"combos[{i}]"
    data = _obj(raw, where)
    all_raw = data.get("all", [])
    if not isinstance(all_raw, list):
        raise RulesetError(f"{where}.all: expected a list")
    groups = tuple(frozenset(_strs(g, f"{where}.all")) for g in all_raw)
    min_n = 0
    min_of: frozenset[str] = frozenset()
    if "min_of" in data:
        m = _obj(data["min_of"], f"{where}.min_of")
        n = m.get("n")
        if not isinstance(n, int):
            raise RulesetError(f"{where}.min_of.n: expected an integer")
        min_n = n
        min_of = frozenset(_strs(m.get("of"), f"{where}.min_of.of"))
    return Combo(
        id=_str(data.get("id"), f"{where}.id"),
        symptom=_str(data.get("symptom"), f"{where}.symptom"),
        level=_level(data.get("level"), f"{where}.level"),
        all_of=groups,
        min_n=min_n,
        min_of=min_of,
        anticoagulant_level=(_level(data["anticoagulant_level"], where) if "anticoagulant_level" in data else None),
        explain=_str(data.get("explain", ""), f"{where}.explain"),
    )


def _read_json(name: str) -> object:
    return json.loads(resources.files("triage.rules").joinpath(name).read_text(encoding="utf-8"))


def load_ruleset(raw: object | None = None, guard: object | None = None) -> CompiledRuleset:
    """Build the compiled ruleset from JSON data (the packaged ruleset.json by default)."""
    data = _obj(_read_json("ruleset.json") if raw is None else raw, "ruleset")
    version = _str(data.get("version"), "version")

    terms_raw = _obj(data.get("terms"), "terms")
    term_phrases: dict[str, list[str]] = {name: _langs(value, f"terms.{name}") for name, value in terms_raw.items()}
    rules_raw = data.get("rules")
    combos_raw = data.get("combos", [])
    if not isinstance(rules_raw, list) or not isinstance(combos_raw, list):
        raise RulesetError("rules and combos must be lists")
    rules = tuple(_parse_rule(r, i, set(term_phrases)) for i, r in enumerate(rules_raw))
    combos = tuple(_parse_combo(c, i) for i, c in enumerate(combos_raw))

    markers = _obj(data.get("markers"), "markers")
    topics_raw = _obj(data.get("topics"), "topics")

    phrase_terms: dict[str, list[str]] = {}
    for name, phrases in term_phrases.items():
        for p in phrases:
            phrase_terms.setdefault(p, []).append(name)
    phrase_markers: dict[str, list[str]] = {}
    for kind in MARKER_KINDS:
        for p in _langs(markers.get(kind, []), f"markers.{kind}"):
            phrase_markers.setdefault(p, []).append(kind)
    for p in _FILLERS:
        phrase_markers.setdefault(normalize_phrase(p), []).append("filler")
    for w in NUMBER_WORDS | DECIMAL_JOINERS:
        phrase_markers.setdefault(w, []).append("numword")
    for w in NUMBER_JOINERS:
        phrase_markers.setdefault(w, []).append("numjoin")
    phrase_topics: dict[str, list[str]] = {}
    for topic, value in topics_raw.items():
        for p in _langs(value, f"topics.{topic}"):
            phrase_topics.setdefault(p, []).append(topic)

    all_phrases = set(phrase_terms) | set(phrase_markers) | set(phrase_topics)
    lexicon = Lexicon(
        phrase_terms={k: tuple(v) for k, v in phrase_terms.items()},
        phrase_markers={k: tuple(v) for k, v in phrase_markers.items()},
        phrase_topics={k: tuple(v) for k, v in phrase_topics.items()},
        trie=build_trie(sorted(all_phrases)),
        singles=frozenset(p for p in all_phrases if " " not in p) | frozenset(".,;:!?$"),
        pairs=frozenset((words[0], words[1]) for words in (p.split(" ") for p in all_phrases) if len(words) > 1),
    )

    rules_by_term: dict[str, list[Rule]] = {}
    for rule in rules:
        for conj in rule.match:
            if rule not in rules_by_term.setdefault(conj[0], []):
                rules_by_term[conj[0]].append(rule)

    emoji = {k: _str(v, "emoji") for k, v in _obj(data.get("emoji", {}), "emoji").items()}

    vocabulary: set[str] = set()
    for p in list(phrase_terms) + list(phrase_topics):
        vocabulary.update(w for w in p.split() if w.isalpha())
    known: set[str] = set(vocabulary)
    for p in phrase_markers:
        known.update(p.split())
    chitchat = {normalize_phrase(w) for w in _strs(data.get("chitchat_words", []), "chitchat_words")}
    known |= chitchat
    guard_data = _obj(_read_json("fuzzy_guard.json") if guard is None else guard, "fuzzy_guard")
    known.update(_strs(guard_data.get("words", []), "fuzzy_guard.words"))

    def words(name: str) -> frozenset[str]:
        return frozenset(_langs(markers.get(name, []), f"markers.{name}"))

    return CompiledRuleset(
        version=version,
        rules=rules,
        combos=combos,
        lexicon=lexicon,
        translation=build_translation(emoji),
        rules_by_term={k: tuple(v) for k, v in rules_by_term.items()},
        rule_order={r.id: i for i, r in enumerate(rules)},
        fuzzy=FuzzyCorrector(vocabulary, known),
        temp_context=words("temp_context"),
        not_temp_before=words("not_temp_before") | {"$", "#"},
        not_temp_after=words("not_temp_after") | {"%", "/"},
        vomit_count_units=words("vomit_count_units"),
        stool_count_units=words("stool_count_units"),
        pain_context=words("pain_score_context"),
        oxygen_context=words("oxygen_context"),
        opt_out_exact=frozenset(normalize_phrase(p) for p in _strs(data.get("opt_out_exact", []), "opt_out")),
        chitchat_words=frozenset(chitchat),
        spanish_hints=frozenset(_strs(data.get("spanish_hints", []), "spanish_hints")),
    )
