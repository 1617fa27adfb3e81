"""One pass over a normalised message: lexicon phrases, markers, topics, numbers, clause and sentence breaks.

The message is split on spaces (C speed); each token is looked up once in a table built with the lexicon (one-word
phrases that start no longer one act straight from it), only tokens that can start a longer phrase, number words,
punctuation and numbers go further, and phrases are matched longest first from a dict of first words. Word indices
are token indices, character spans are offsets in the normalised text (" ".join(tokens)).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
# what may follow a number and change its reading: a score tail ("/ 10", "out of 10") or a decimal joiner
_NUMBER_FOLLOWERS: Final = frozenset(("/", "de", "over", "out")) | DECIMAL_JOINERS


# terms; a number word; a term at all; markers to record with their clause offset; clause breaks; "current"; topics
_Action = tuple[tuple[str, ...], bool, bool, tuple[tuple[str, int], ...], int, bool, tuple[str, ...]]
# terms; markers to record with their clause offset; clause breaks; sentence breaks; "current"; topics
_StaticAction = tuple[tuple[str, ...], tuple[tuple[str, int], ...], int, int, bool, tuple[str, ...]]
# Lexicon.look's entries for Lexicon.walk's tokens, told apart by their clause breaks (a real action has 0 or 1).
# Compared by value: mypyc may build a new tuple for each use of a Final tuple constant.
_ALWAYS: Final = -1
_IF_PAIR: Final = -2
_WALK_ALWAYS: Final[_StaticAction] = ((), (), _ALWAYS, 0, False, ())
_WALK_IF_PAIR: Final[_StaticAction] = ((), (), _IF_PAIR, 0, False, ())


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The phrase tables a scan needs (built once by the ruleset loader)."""

    phrase_terms: dict[str, tuple[str, ...]]
    phrase_markers: dict[str, tuple[str, ...]]
    phrase_topics: dict[str, tuple[str, ...]]
    trie: dict[str, TrieNode]  # token trie of every phrase: word -> (children, phrase if one ends here)
    singles: frozenset[str]  # one-word phrases and punctuation: a token worth a look on its own
    pairs: frozenset[tuple[str, str]]  # first two words of longer phrases
    # derived: first words of longer phrases that are not worth a look on their own
    pair_firsts: frozenset[str] = field(init=False, default=frozenset())

    # derived: what finding a phrase does to a scan, worked out once per phrase instead of once per occurrence
    actions: dict[str, _Action] = field(init=False, default_factory=dict)
    # derived: the action of each one-word phrase that starts no longer phrase and is not a number word (most hits,
    # e.g. "and", "fever", "nurse"). For these tokens the trie walk can only end on the token itself, so the scan
    # takes the action straight away: (terms, markers to record with their clause offset, clause breaks,
    # sentence breaks, "current", topics), exactly what the general path does with a one-word phrase.
    # Punctuation that is no phrase is here too: one clause break, and a sentence break for ". ! ? ;".
    static: dict[str, _StaticAction] = field(init=False, default_factory=dict)
    # derived: the other tokens worth a look: True for one-word phrases (not in static) and tokens sorting before
    # ":" (numbers), always looked at; False for first words of longer phrases, looked at when the next token
    # makes a pair in ``pairs``. Any other token is worth a look only if it sorts before ":".
    walk: dict[str, bool] = field(init=False, default_factory=dict)
    # derived: static and walk in one table, so that the scan looks most tokens up once: a static action, or
    # _WALK_ALWAYS / _WALK_IF_PAIR for walk's True / False
    look: dict[str, _StaticAction] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pair_firsts", frozenset(a for a, _ in self.pairs) - self.singles)
        actions: dict[str, _Action] = {}
        for phrase in {*self.phrase_terms, *self.phrase_markers, *self.phrase_topics}:
            markers = self.phrase_markers.get(phrase, ())
            recorded: list[tuple[str, int]] = []
            breaks = 0
            for mk in markers:
                if mk == "numword":
                    continue
                if mk in ("boundary", "numjoin"):
                    breaks = 1
                    continue
                recorded.append((mk, breaks))
            actions[phrase] = (
                self.phrase_terms.get(phrase, ()),
                "numword" in markers,
                phrase in self.phrase_terms,
                tuple(recorded),
                breaks,
                "current" in markers,
                self.phrase_topics.get(phrase, ()),
            )
        object.__setattr__(self, "actions", actions)
        static: dict[str, _StaticAction] = {}
        for phrase, (terms, numword, _, recorded_, breaks_, current, topics) in actions.items():
            node = self.trie.get(phrase)
            if node is not None and not node[0] and node[1] == phrase and not numword:
                static[phrase] = (terms, recorded_, breaks_, 0, current, topics)
        for p in _PUNCT:
            if p not in self.trie:
                static[p] = ((), (), 1, 1 if p in _SENTENCE else 0, False, ())
        object.__setattr__(self, "static", static)
        walk = {w: w in self.singles or w < ":" for w in self.singles | self.pair_firsts if w not in static}
        object.__setattr__(self, "walk", walk)
        look = dict(static)
        look.update((w, _WALK_ALWAYS if always else _WALK_IF_PAIR) for w, always in walk.items())
        object.__setattr__(self, "look", look)


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

    # The __init__ @dataclass would generate, written out (a dataclass keeps an __init__ of its own) so that mypyc
    # compiles it: a generated one runs interpreted, once per message.
    def __init__(
        self,
        tokens: list[str],
        norm: str,
        terms: dict[str, list[Tok]] | None = None,
        markers: dict[str, list[Tok]] | None = None,
        numbers: list[Tok] | None = None,
        scores: list[Tok] | None = None,
        topics: set[str] | None = None,
        current_sentences: set[int] | None = None,
    ) -> None:
        self.tokens = tokens
        self.norm = norm
        self.terms = {} if terms is None else terms
        self.markers = {} if markers is None else markers
        self.numbers = [] if numbers is None else numbers
        self.scores = [] if scores is None else scores
        self.topics = set() if topics is None else topics
        self.current_sentences = set() if current_sentences is None else current_sentences


# Tok(...) runs the NamedTuple's Python-level __new__; building the tuple directly skips it (all fields given).
_new_tok: Final = tuple.__new__


def _is_digit_start(tok: str) -> bool:
    return tok[0] in _DIGITS


_NOT_A_NUMBER: Final = 0
_SCORE: Final = 1
_NUMBER: Final = 2
_NumberToken = tuple[int, float, bool, str]  # kind, value, decimal, unit
_NUMBER_CACHE: Final[dict[str, _NumberToken]] = {}
_NUMBER_CACHE_LIMIT: Final = 100_000


def _parse_number_token(tok: str) -> _NumberToken:
    """What a token starting with a digit reads as on its own: a "7/10" score, a number with its unit, or neither.

    Depends on the token only, so it is memoised (bounded) across messages.
    """
    parsed: _NumberToken
    m = _SCORE_RE.fullmatch(tok)
    if m is not None:
        parsed = (_SCORE, float(m.group(1)), False, "")
    else:
        m = _NUMBER_RE.fullmatch(tok)
        if m is None:
            parsed = (_NOT_A_NUMBER, 0.0, False, "")
        else:
            digits = m.group(1)
            parsed = (_NUMBER, parse_decimal(digits), "." in digits or "," in digits, (m.group(2) or "").lstrip("°"))
    if len(_NUMBER_CACHE) >= _NUMBER_CACHE_LIMIT:
        _NUMBER_CACHE.clear()
    _NUMBER_CACHE[tok] = parsed
    return parsed


def _end(tokens: list[str], first: int, last: int, start: int) -> int:
    """The end offset in the normalised text of tokens[first : last + 1], tokens[first] starting at ``start``."""
    end = start + len(tokens[first])
    for x in range(first + 1, last + 1):
        end += 1 + len(tokens[x])
    return end


def scan(lex: Lexicon, tokens: list[str]) -> Scan:
    norm = " ".join(tokens)
    result = Scan(tokens, norm)
    if not norm:
        return result
    n = len(tokens)

    trie = lex.trie
    phrase_terms = lex.phrase_terms
    actions = lex.actions
    look = lex.look
    pairs = lex.pairs
    clause = 0
    sentence = 0
    skip = -1
    pos = 0  # start offset of the next token in the normalised text (tokens joined by one space)
    for i, tok in enumerate(tokens):
        start = pos
        pos += len(tok) + 1
        if i < skip:
            continue
        # Tokens worth a look: a one-word phrase, the first two words of a longer one, or anything sorting
        # before ":" (numbers and punctuation); the others are passed over.
        act = look.get(tok)
        if act is None:
            if tok >= ":":
                if tok[0] != "x" or not 2 <= len(tok) <= 3 or not tok[1:].isdigit():
                    continue  # no phrase starts with it, and no number
                tok = tok[1:] + "x"  # "diarrhea x9": a count, as "9x"
        elif act[2] == _IF_PAIR:
            if i + 1 >= n or (tok, tokens[i + 1]) not in pairs:
                continue  # the first word of longer phrases, but not followed by a second word of one
        elif act[2] != _ALWAYS:
            # a one-word phrase that starts no longer one: the general path below with k == 1, without the walk
            terms, recorded, breaks, stops, current, topics = act
            if terms or recorded:
                end = start + len(tok)
                for t in terms:
                    result.terms.setdefault(t, []).append(
                        _new_tok(Tok, ("term", t, start, end, clause, sentence, i, i, 0.0, False, ""))
                    )
                for mk, offset in recorded:
                    result.markers.setdefault(mk, []).append(
                        _new_tok(Tok, ("marker", mk, start, end, clause + offset, sentence, i, i, 0.0, False, ""))
                    )
            if current:
                result.current_sentences.add(sentence)
            clause += breaks
            sentence += stops
            if topics:
                result.topics.update(topics)
            continue  # skip = i + 1 would skip nothing
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
                            Tok("term", t, start, start + len(tok), clause, sentence, i, i)
                        )
                    continue
                parsed = _NUMBER_CACHE.get(tok)
                if parsed is None:
                    parsed = _parse_number_token(tok)
                kind, value, decimal, unit = parsed
                if kind == _SCORE:
                    result.scores.append(Tok("score", tok, start, start + len(tok), clause, sentence, i, i, value))
                    continue
                if kind == _NOT_A_NUMBER:
                    continue  # 101/62, 10/12, 555-..., 2nd
                last = i
                if i + 1 < n and tokens[i + 1] in _NUMBER_FOLLOWERS:  # most numbers are followed by nothing special
                    nxt = tokens[i + 1 : i + 4]
                    if nxt[:2] in _SCORE_TAIL_2 or nxt[:3] == ["out", "of", "10"]:
                        last = i + (2 if nxt[:2] in _SCORE_TAIL_2 else 3)
                        result.scores.append(
                            Tok("score", tok, start, _end(tokens, i, last, start), clause, sentence, i, last, value)
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
                    _new_tok(
                        Tok,
                        (
                            "num",
                            tok,
                            start,
                            start + len(tok) if last == i else _end(tokens, i, last, start),
                            clause,
                            sentence,
                            i,
                            last,
                            value,
                            decimal,
                            unit,
                        ),
                    )
                )
                skip = last + 1
                continue
            continue
        last = i + k - 1
        terms, numword, in_terms, recorded, breaks, current, topics = actions[phrase]
        if k == 1 and numword:
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
                            start,
                            _end(tokens, i, j - 1, start),
                            clause,
                            sentence,
                            i,
                            j - 1,
                            value_opt,
                            decimal,
                        )
                    )
                    if j - 1 > last or not in_terms:
                        skip = j
                        continue
        end = start + len(tok) if last == i else _end(tokens, i, last, start)
        for t in terms:
            result.terms.setdefault(t, []).append(
                _new_tok(Tok, ("term", t, start, end, clause, sentence, i, last, 0.0, False, ""))
            )
        for mk, offset in recorded:
            result.markers.setdefault(mk, []).append(
                _new_tok(Tok, ("marker", mk, start, end, clause + offset, sentence, i, last, 0.0, False, ""))
            )
        if current:
            result.current_sentences.add(sentence)
        clause += breaks
        if topics:
            result.topics.update(topics)
        skip = last + 1
    return result
