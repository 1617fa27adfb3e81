"""One pass over a normalised message: lexicon phrases, markers, topics, numbers, clause and sentence breaks.

The message is split on spaces (C speed); only tokens that can start a lexicon phrase, punctuation and numbers are
looked at in Python, and phrases are matched longest first from a dict of first words. Word indices are token
indices, character spans are offsets in the normalised text (" ".join(tokens)).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import accumulate, compress
from operator import add, or_
from typing import Final, NamedTuple

from triage.numbers import DECIMAL_JOINERS, NUMBER_JOINERS, NUMBER_WORDS, parse_decimal, parse_number_words

__all__ = ["Lexicon", "Scan", "Tok", "TrieNode", "build_trie", "scan"]

TrieNode = tuple[dict[str, "TrieNode"], str]


def build_trie(phrases: list[str]) -> dict[str, TrieNode]:
    """A token trie: each node is (children by next word, the phrase ending at this node or "")."""
    root: dict[str, list[object]] = {}
    for p in phrases:
        words = p.split(" ")
        level = root
        for depth, word in enumerate(words):
            node = level.setdefault(word, [{}, ""])
            if depth == len(words) - 1:
                node[1] = p
            children = node[0]
            if not isinstance(children, dict):  # pragma: no cover - built just above
                raise TypeError("trie node")
            level = children

    def freeze(level: dict[str, list[object]]) -> dict[str, TrieNode]:
        out: dict[str, TrieNode] = {}
        for word, (children, phrase) in level.items():
            if not isinstance(children, dict) or not isinstance(phrase, str):  # pragma: no cover
                raise TypeError("trie node")
            out[word] = (freeze(children), phrase)
        return out

    return freeze(root)


_NUMBER_RE: Final = re.compile(r"(\d{1,4}(?:[.,]\d{1,2})?)(f|c|x|°f|°c)?")
_SCORE_RE: Final = re.compile(r"(10|\d)(?:[.,]5)?/10")
_PUNCT: Final = frozenset(".,;:!?")
_DIGITS: Final = "0123456789"
_SCORE_TAIL_2: Final = (["/", "10"], ["de", "10"], ["over", "10"])
_SENTENCE: Final = frozenset(".!?;")
_NUMBERISH: Final = NUMBER_WORDS | DECIMAL_JOINERS | NUMBER_JOINERS


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The phrase tables a scan needs (built once by the ruleset loader)."""

    phrase_terms: dict[str, tuple[str, ...]]
    phrase_markers: dict[str, tuple[str, ...]]
    phrase_topics: dict[str, tuple[str, ...]]
    trie: dict[str, TrieNode]  # token trie of every phrase: word -> (children, phrase if one ends here)
    singles: frozenset[str]  # one-word phrases and punctuation: a token worth a look on its own
    pairs: frozenset[tuple[str, str]]  # first two words of longer phrases


class Tok(NamedTuple):
    """A phrase, marker or number found in the message (a NamedTuple: cheap to build in the hot loop)."""

    kind: str  # "term", "marker", "num", "score"
    name: str
    start: int  # character offsets in the normalised text
    end: int
    clause: int
    sentence: int
    word: int  # first and last token index
    word_last: int
    value: float = 0.0
    decimal: bool = False
    unit: str = ""


@dataclass(slots=True)
class Scan:
    tokens: list[str]
    norm: str
    terms: dict[str, list[Tok]] = field(default_factory=dict)
    markers: dict[str, list[Tok]] = field(default_factory=dict)
    numbers: list[Tok] = field(default_factory=list)
    scores: list[Tok] = field(default_factory=list)
    topics: set[str] = field(default_factory=set)
    current_sentences: set[int] = field(default_factory=set)


def _is_digit_start(tok: str) -> bool:
    return tok[0] in _DIGITS


def scan(lex: Lexicon, tokens: list[str]) -> Scan:
    norm = " ".join(tokens)
    result = Scan(tokens, norm)
    if not norm:
        return result
    n = len(tokens)
    lens = list(map(len, tokens))
    # ends[i] - 1 is the end offset of token i in the normalised text (tokens joined by one space)
    ends: list[int] = list(map(add, accumulate(lens), range(1, n + 1)))

    def start_of(i: int) -> int:
        return ends[i] - lens[i] - 1

    trie = lex.trie
    # Tokens worth a look, found at C speed (no Python-level loop over every token): a one-word phrase, the
    # first two words of a longer one, or anything sorting before ":" (numbers and punctuation).
    following = tokens[1:]
    following.append("")
    wanted = map(
        or_,
        map(
            or_, map(lex.singles.__contains__, tokens), map(lex.pairs.__contains__, zip(tokens, following, strict=True))
        ),
        map(":".__gt__, tokens),
    )
    hits = list(compress(range(n), wanted))
    phrase_terms = lex.phrase_terms
    phrase_markers = lex.phrase_markers
    phrase_topics = lex.phrase_topics
    clause = 0
    sentence = 0
    skip = -1
    for i in hits:
        if i < skip:
            continue
        tok = tokens[i]
        node = trie.get(tok)
        phrase = ""
        k = 0
        j = i
        while node is not None:
            children, ends_here = node
            if ends_here:
                phrase = ends_here
                k = j - i + 1
            j += 1
            if j >= n or not children:
                break
            node = children.get(tokens[j])
        if not phrase:
            if tok in _PUNCT:
                clause += 1
                if tok in _SENTENCE:
                    sentence += 1
                continue
            if tok == "$":
                result.topics.add("billing")
                continue
            if _is_digit_start(tok):
                if tok in phrase_terms:  # "911"
                    for t in phrase_terms[tok]:
                        result.terms.setdefault(t, []).append(
                            Tok("term", t, start_of(i), ends[i] - 1, clause, sentence, i, i)
                        )
                    continue
                m = _SCORE_RE.fullmatch(tok)
                if m is not None:
                    result.scores.append(
                        Tok("score", tok, start_of(i), ends[i] - 1, clause, sentence, i, i, float(m.group(1)))
                    )
                    continue
                m = _NUMBER_RE.fullmatch(tok)
                if m is None:
                    continue  # 101/62, 10/12, 555-..., 2nd
                value = parse_decimal(m.group(1))
                decimal = "." in m.group(1) or "," in m.group(1)
                unit = (m.group(2) or "").lstrip("°")
                last = i
                nxt = tokens[i + 1 : i + 4]
                if nxt[:2] in _SCORE_TAIL_2 or nxt[:3] == ["out", "of", "10"]:
                    last = i + (2 if nxt[:2] in _SCORE_TAIL_2 else 3)
                    result.scores.append(
                        Tok("score", tok, start_of(i), ends[last] - 1, clause, sentence, i, last, value)
                    )
                    skip = last + 1
                    continue
                # "38 con 5", "101 point 2"
                if not decimal and len(nxt) >= 2 and nxt[0] in DECIMAL_JOINERS:
                    frac_tok = nxt[1]
                    if frac_tok.isdigit() and len(frac_tok) <= 2:
                        value = float(f"{int(value)}.{frac_tok}")
                        decimal = True
                        last = i + 2
                    elif frac_tok in NUMBER_WORDS:
                        frac = parse_number_words(["zero", "point", frac_tok])
                        if frac is not None:
                            value = round(int(value) + frac, 2)
                            decimal = True
                            last = i + 2
                result.numbers.append(
                    Tok("num", tok, start_of(i), ends[last] - 1, clause, sentence, i, last, value, decimal, unit)
                )
                skip = last + 1
                continue
            continue
        last = i + k - 1
        markers = phrase_markers.get(phrase, ())
        if k == 1 and "numword" in markers:
            # a run of number words: "one hundred and one point five", "treinta y ocho"
            j = i
            while j < n and tokens[j] in _NUMBERISH:
                j += 1
            while j > i and (tokens[j - 1] in NUMBER_JOINERS or tokens[j - 1] in DECIMAL_JOINERS):
                j -= 1
            words = tokens[i:j]
            if any(w in NUMBER_WORDS for w in words):
                value_opt = parse_number_words(words)
                if value_opt is not None:
                    decimal = any(w in DECIMAL_JOINERS for w in words)
                    result.numbers.append(
                        Tok(
                            "num",
                            " ".join(words),
                            start_of(i),
                            ends[j - 1] - 1,
                            clause,
                            sentence,
                            i,
                            j - 1,
                            value_opt,
                            decimal,
                        )
                    )
                    if j - 1 > last or phrase not in phrase_terms:
                        skip = j
                        continue
        start = start_of(i)
        end = ends[last] - 1
        terms = phrase_terms.get(phrase)
        if terms:
            for t in terms:
                result.terms.setdefault(t, []).append(Tok("term", t, start, end, clause, sentence, i, last))
        broke = False
        for mk in markers:
            if mk == "numword":
                continue
            if mk in ("boundary", "numjoin"):
                if not broke:
                    clause += 1
                    broke = True
                continue
            result.markers.setdefault(mk, []).append(Tok("marker", mk, start, end, clause, sentence, i, last))
            if mk == "current":
                result.current_sentences.add(sentence)
        topics = phrase_topics.get(phrase)
        if topics:
            result.topics.update(topics)
        skip = last + 1
    return result
