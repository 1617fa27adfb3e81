"""The engine's shortcuts (per-token memos, per-phrase actions, the ASCII tokenizer, the fuzzy corrector's memory of
clean tokens, written-out dataclass __init__s) change nothing."""

from __future__ import annotations

import dataclasses
import random
import re
import unicodedata

import pytest

from triage import scanner
from triage.engine import Finding, Level, _default_ruleset, assess
from triage.lexicon import FuzzyCorrector, build_ascii_plan, tokenize
from triage.scanner import Tok, scan

TEXTS = [
    "temp 101.2 and chills, pain 8/10",
    "pain is 7 out of 10 , fever 38 con 5",
    "she threw up 6 times. no fever but a little bleeding from the gums",
    "had chills this morning but they went away ; if she gets a fever we call",
    "my number is 555 123 4567 and room 101",
    "tiene fiebre de 38,4 y diarrea 5 veces",
    "one hundred and one point five degrees",
]


def _candidates(lex: scanner.Lexicon, tokens: list[str]) -> list[int]:
    """The plain definition: a one-word phrase, the first two words of a longer one, a number or punctuation."""
    nxt = [*tokens[1:], ""]
    return [
        i
        for i, (a, b) in enumerate(zip(tokens, nxt, strict=True))
        if a in lex.singles or (a, b) in lex.pairs or a < ":"
    ]


def test_same_result_cold_and_warm() -> None:
    scanner._NUMBER_CACHE.clear()
    cold = [assess(t).to_dict() for t in TEXTS]
    warm = [assess(t).to_dict() for t in TEXTS]
    assert cold == warm


def test_scan_finds_every_candidate_phrase() -> None:
    rs = _default_ruleset()
    lex = rs.lexicon
    for text in TEXTS:
        tokens = tokenize(text, rs.translation)
        result = scan(lex, tokens)
        starts = {t.word for toks in result.terms.values() for t in toks}
        starts |= {t.word for toks in result.markers.values() for t in toks}
        starts |= {t.word for t in result.numbers} | {t.word for t in result.scores}
        assert starts <= set(_candidates(lex, tokens))
        for tok in [t for toks in result.terms.values() for t in toks] + result.numbers:
            assert isinstance(tok, Tok)
            assert result.norm[tok.start : tok.end] == " ".join(tokens[tok.word : tok.word_last + 1])


def test_number_token_memo() -> None:
    assert scanner._parse_number_token("8/10") == (scanner._SCORE, 8.0, False, "")
    assert scanner._parse_number_token("38,4") == (scanner._NUMBER, 38.4, True, "")
    assert scanner._parse_number_token("101f") == (scanner._NUMBER, 101.0, False, "f")
    assert scanner._parse_number_token("2nd") == (scanner._NOT_A_NUMBER, 0.0, False, "")


# ---- shortcuts added for speed: each against the plain definition it replaces -------------------------------

_DECIMAL_FIX = re.compile(r"(\d) ([.,]) (\d)")


def _plain_tokenize(text: str, table: dict[int, str | None]) -> list[str]:
    """tokenize as first written: one str.translate, the decimal fix by a template, split."""
    s = text.lower().translate(table)
    if " . " in s or " , " in s:
        s = _DECIMAL_FIX.sub(r"\1\2\3", s)
    return s.split()


def test_tokenize_ascii_plan_and_decimal_check_change_nothing() -> None:
    rs = _default_ruleset()
    assert rs.ascii_plan is not None
    rng = random.Random(5)
    pool = [chr(c) for c in range(128)] + list("0123456789.,\n ") * 4 + ["١", "²", "🤒", "º", "é", "’", "\u200d"]
    texts = [*TEXTS, "38.4", "1.2.3", "1\n2", "a1,5b", "1 . 2", "9 ,1", "٣,٤", "38'.'5", "CAN'T, 101.2F"]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 30))) for _ in range(20_000)]
    for text in texts:
        plain = _plain_tokenize(text, rs.translation)
        assert tokenize(text, rs.translation, rs.ascii_plan) == plain, repr(text)
        assert tokenize(text, rs.translation) == plain, repr(text)


def test_decimal_check_sees_every_digit_the_regex_sees() -> None:
    digits = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Nd"]
    assert all(_DECIMAL_FIX.fullmatch(f"{d} . {d}") for d in digits)
    assert all(d.isdigit() for d in digits)  # so _may_join_decimal never says no when the regex would match


def test_ascii_plan_refuses_tables_it_cannot_follow() -> None:
    assert build_ascii_plan({ord("x"): ",", ord(","): " , "}) is None  # a one-character output padded again
    assert build_ascii_plan({ord("a"): "b c", ord("b"): "a d"}) is None  # each replacement brings the other in
    assert build_ascii_plan({ord("a"): "é"}) is None  # ASCII in, not ASCII out
    plan = build_ascii_plan({ord("\n"): " . ", ord("."): " . ", ord("'"): None, ord("-"): " "})
    assert plan is not None
    assert [ch for ch, _ in plan[2]] == [".", "\n"]  # "\n" -> " . " comes after "." is padded
    table = {ord("\n"): " . ", ord("."): " . ", ord("'"): None, ord("-"): " "}
    for text in ["a.b\nc", "can't-do\n.", "1\n2", ""]:
        assert tokenize(text, table, plan) == _plain_tokenize(text, table)


def test_lexicon_look_table_matches_the_plain_definition() -> None:
    lex = _default_ruleset().lexicon
    firsts = {a for a, _ in lex.pairs}
    for tok in {*lex.singles, *firsts, *lex.trie, "zzz", "12", "#", "99th"}:
        act = lex.look.get(tok)
        if act is None:
            assert tok not in lex.singles
            assert tok not in firsts
        elif act[2] == scanner._IF_PAIR:
            assert tok in firsts
            assert tok not in lex.singles
            assert tok >= ":"
        elif act[2] == scanner._ALWAYS:
            assert tok in lex.singles or (tok in firsts and tok < ":")
        else:  # a one-word phrase that starts no longer one, or punctuation that is no phrase
            node = lex.trie.get(tok)
            assert tok in lex.singles
            assert (node is None and tok in ".,;:!?") or (node is not None and node[1] == tok and not node[0])


def test_fuzzy_fixes_are_the_corrections_of_the_unknown_tokens() -> None:
    rs = _default_ruleset()
    fresh = FuzzyCorrector(rs.fuzzy.vocabulary, rs.fuzzy.known)
    messages = [tokenize(t, rs.translation) for t in [*TEXTS, "feaver and chils , temprature 101", "anway 2nd"]]
    for _ in range(2):  # cold, then with tokens remembered as needing no correction
        for tokens in messages:
            plain = FuzzyCorrector(rs.fuzzy.vocabulary, rs.fuzzy.known)
            assert fresh.fixes(set(tokens)) == plain.corrections(plain.unknown_tokens(tokens))


def test_written_out_dataclass_inits_behave_like_generated_ones() -> None:
    result = assess("temp 101.2 and chills")
    finding = result.findings[0]
    assert dataclasses.replace(finding) == finding
    assert dataclasses.replace(result) == result
    assert hash(finding) == hash(dataclasses.replace(finding))
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.note = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.language = "x"  # type: ignore[misc]
    assert Finding("r", "s", Level.URGENT, "m", (0, 1)) == Finding(
        rule_id="r", symptom="s", level=Level.URGENT, matched="m", span=(0, 1), note=""
    )
    scan_ = scan(_default_ruleset().lexicon, ["fever"])
    assert scan_.terms
    assert scan_.numbers == []
    assert scan_.topics == set()
    assert scan_.current_sentences == set()
