"""Text normalisation, trie-built alternation regexes and lexicon-bounded fuzzy correction.

Pure and I/O free: everything here works on strings handed in by the ruleset loader.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = [
    "FuzzyCorrector",
    "build_translation",
    "normalize",
    "normalize_phrase",
    "trie_pattern",
]

_ACCENTS = {
    "á": "a",
    "à": "a",
    "â": "a",
    "ä": "a",
    "ã": "a",
    "é": "e",
    "è": "e",
    "ê": "e",
    "ë": "e",
    "í": "i",
    "ì": "i",
    "î": "i",
    "ï": "i",
    "ó": "o",
    "ò": "o",
    "ô": "o",
    "ö": "o",
    "õ": "o",
    "ú": "u",
    "ù": "u",
    "û": "u",
    "ü": "u",
    "ñ": "n",
    "ç": "c",
}
# Characters dropped so that "can't", "cant" and "can’t" meet, and punctuation that only separates words.
_DROP = "'’‘`´\u200d\ufe0f"
_SPACE = '-–—_"“”()[]{}<>*~|\\=+@^…«»¿¡\t\r'


def build_translation(emoji: Mapping[str, str]) -> dict[int, str | None]:
    """One str.translate table: accents, apostrophes, separators, newlines, emoji to words."""
    table: dict[int, str | None] = {}
    for src, dst in _ACCENTS.items():
        table[ord(src)] = dst
    for ch in _DROP:
        table[ord(ch)] = None
    for ch in _SPACE:
        table[ord(ch)] = " "
    table[ord("\n")] = " . "
    table[ord("º")] = "°"
    for src, dst in emoji.items():
        if len(src) == 1:
            table[ord(src)] = dst
        else:  # an emoji with a variation selector: its base character carries the meaning
            table[ord(src[0])] = dst
    return table


def normalize(text: str, table: Mapping[int, str | None]) -> str:
    """Lower case, strip accents and apostrophes, map emoji, collapse whitespace."""
    return " ".join(text.lower().translate(table).split())


def normalize_phrase(phrase: str) -> str:
    """Normalise a lexicon phrase the way messages are normalised (accents are also decomposed here)."""
    decomposed = unicodedata.normalize("NFKD", phrase.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.translate({ord(c): None for c in _DROP}).translate({ord(c): " " for c in _SPACE})
    return " ".join(plain.split())


def trie_pattern(phrases: Iterable[str]) -> str:
    """A regex alternation built from a character trie: fast in Python's backtracking engine, longest first."""
    root: dict[str, dict[str, object]] = {}
    end = ""  # the empty key marks the end of a phrase
    for phrase in phrases:
        if not phrase:
            continue
        node: dict[str, object] = root  # type: ignore[assignment]
        for ch in phrase:
            child = node.get(ch)
            if not isinstance(child, dict):
                child = {}
                node[ch] = child
            node = child
        node[end] = {}

    def render(node: Mapping[str, object]) -> str:
        terminal = end in node
        branches: list[str] = []
        singles: list[str] = []
        for ch in sorted(k for k in node if k != end):
            child = node[ch]
            assert isinstance(child, dict)
            sub = render(child)
            if sub == "":
                singles.append(re.escape(ch))
            else:
                branches.append(re.escape(ch) + sub)
        if singles:
            branches.append(singles[0] if len(singles) == 1 else "[" + "".join(singles) + "]")
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if terminal:
            if len(branches) == 1 and not body.startswith("(?:"):
                body = "(?:" + body + ")"
            return body + "?"
        return body

    return render(root)


def _max_distance(length: int) -> int:
    return 1 if length <= 6 else 2


class FuzzyCorrector:
    """Corrects misspelt tokens towards lexicon words only.

    A token is a candidate when it is alphabetic, at least ``min_len`` long, not itself a lexicon word and not a
    protected ordinary word (an English or Spanish word that happens to sit close to a lexicon word: "never" is
    not "fever"). Candidates must share the first letter with the target. Results are cached per token.
    """

    __slots__ = ("_buckets", "_cache", "_cache_limit", "_known", "_min_len")

    def __init__(
        self,
        vocabulary: Iterable[str],
        known: Iterable[str],
        *,
        min_len: int = 5,
        cache_limit: int = 200_000,
    ) -> None:
        vocab = sorted({w for w in vocabulary if len(w) >= min_len and w.isalpha()})
        self._buckets: dict[str, list[str]] = {}
        for word in vocab:
            self._buckets.setdefault(word[0], []).append(word)
        self._known: frozenset[str] = frozenset(known) | frozenset(vocab)
        self._min_len = min_len
        self._cache: dict[str, str | None] = {}
        self._cache_limit = cache_limit

    @property
    def known(self) -> frozenset[str]:
        return self._known

    def correct_token(self, token: str) -> str | None:
        """The lexicon word a misspelt token stands for, or None."""
        cached = self._cache.get(token, "")
        if cached != "":
            return cached
        result: str | None = None
        if len(token) >= self._min_len and token not in self._known:
            bucket = self._buckets.get(token[0])
            if bucket:
                limit = _max_distance(len(token))
                best = process.extractOne(token, bucket, scorer=OSA.distance, score_cutoff=limit)
                if best is not None:
                    result = best[0]
        if len(self._cache) >= self._cache_limit:
            self._cache.clear()
        self._cache[token] = result
        return result

    def unknown_tokens(self, tokens: Iterable[str]) -> set[str]:
        return set(tokens) - self._known
