"""Text normalisation, trie-built alternation regexes and lexicon-bounded fuzzy correction.

Pure and I/O free: everything here works on strings handed in by the ruleset loader.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Final

from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = [
    "FuzzyCorrector",
    "build_translation",
    "normalize",
    "normalize_phrase",
    "tokenize",
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
# Punctuation that becomes a token of its own ("fever," -> "fever ,"); decimals are stitched back afterwards.
_PUNCT_TOKENS = ".,;:!?$%#°"
_DECIMAL_FIX = re.compile(r"(\d) ([.,]) (\d)")


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
    for ch in _PUNCT_TOKENS:
        table[ord(ch)] = f" {ch} "
    table[ord("º")] = " ° "
    for src, dst in emoji.items():
        if len(src) == 1:
            table[ord(src)] = dst
        else:  # an emoji with a variation selector: its base character carries the meaning
            table[ord(src[0])] = dst
    return table


def tokenize(text: str, table: Mapping[int, str | None]) -> list[str]:
    """Lower case, strip accents and apostrophes, map emoji, split punctuation off words, keep 38,4 and 101.2."""
    s = text.lower().translate(table)
    if " . " in s or " , " in s:
        s = _DECIMAL_FIX.sub(r"\1\2\3", s)
    return s.split()


def normalize(text: str, table: Mapping[int, str | None]) -> str:
    """The normalised text: tokens joined by single spaces."""
    return " ".join(tokenize(text, table))


def normalize_phrase(phrase: str) -> str:
    """Normalise a lexicon phrase the way messages are normalised (accents are also decomposed here)."""
    decomposed = unicodedata.normalize("NFKD", phrase.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.translate({ord(c): None for c in _DROP}).translate({ord(c): " " for c in _SPACE})
    plain = plain.translate({ord(c): f" {c} " for c in _PUNCT_TOKENS})
    return " ".join(_DECIMAL_FIX.sub(r"\1\2\3", plain).split())


# Two edits are allowed only when the token or the lexicon word has at least this many letters: "tempature" is
# "temperature", "hemorage" is "hemorrhage", but "mandarme" (send me) is not "matarme" (kill myself). Among words
# of eight letters and fewer, two edits reach too many real words and inflections nobody listed.
_TWO_EDITS_FROM: Final = 9


class FuzzyCorrector:
    """Corrects misspelt tokens towards lexicon words only.

    A token is a candidate when it is alphabetic, at least ``min_len`` long, not itself a lexicon word and not a
    protected ordinary word (an English or Spanish word that happens to sit close to a lexicon word: "never" is
    not "fever", and the inflected forms the guard builder generates: "mandarme" is not "matarme").
    Candidates must share the first letter with the target and be one edit away; two edits only when the token
    or the target is long (``_TWO_EDITS_FROM`` letters). Results are cached per token.
    """

    __slots__ = ("_buckets", "_cache", "_cache_limit", "_known", "_min_len")

    def __init__(
        self,
        vocabulary: Iterable[str],
        known: Iterable[str],
        *,
        min_len: int = 4,
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
        """Words never corrected: the lexicon's own words, marker words and the guard's ordinary words."""
        return self._known

    @property
    def vocabulary(self) -> frozenset[str]:
        """The lexicon words a token may be corrected into."""
        return frozenset(w for bucket in self._buckets.values() for w in bucket)

    def correct_token(self, token: str) -> str | None:
        """The lexicon word a misspelt token stands for, or None."""
        cached = self._cache.get(token, "")
        if cached != "":
            return cached
        result: str | None = None
        if len(token) >= self._min_len and token not in self._known:
            bucket = self._buckets.get(token[0])
            if bucket:
                result = self._nearest(token, bucket)
        if len(self._cache) >= self._cache_limit:
            self._cache.clear()
        self._cache[token] = result
        return result

    @staticmethod
    def _nearest(token: str, bucket: list[str]) -> str | None:
        best = process.extractOne(token, bucket, scorer=OSA.distance, score_cutoff=1)
        if best is not None:
            return best[0]
        long_token = len(token) >= _TWO_EDITS_FROM
        for word, _, _ in process.extract(token, bucket, scorer=OSA.distance, score_cutoff=2, limit=None):
            if long_token or len(word) >= _TWO_EDITS_FROM:
                return word
        return None

    def unknown_tokens(self, tokens: Iterable[str]) -> set[str]:
        return set(tokens) - self._known

    def corrections(self, unknown: Iterable[str]) -> dict[str, str]:
        """{token: lexicon word} for the misspelt tokens among ``unknown`` (tokens not known already)."""
        fixes: dict[str, str] = {}
        cache = self._cache
        for tok in unknown:
            fixed = cache.get(tok, "")
            if fixed == "":
                fixed = self.correct_token(tok) if len(tok) >= self._min_len and tok.isalpha() else None
            if fixed is not None:
                fixes[tok] = fixed
        return fixes
