"""The scanner's shortcuts (per-token memos, set-based candidate search, per-phrase actions) change nothing."""

from __future__ import annotations

from triage import scanner
from triage.engine import _default_ruleset, assess
from triage.lexicon import tokenize
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
