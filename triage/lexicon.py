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
    "AsciiPlan",
    "FuzzyCorrector",
    "build_ascii_plan",
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


# str.translate(table) on ASCII text, done by C-speed byte and string methods: bytes.translate for the characters
# that become one ASCII character or nothing (a 256-byte table, much faster than str.translate's dict lookups),
# then str.replace for the few that become several (punctuation padded with spaces, the newline), in an order where
# no replacement brings in a character that a later one replaces.
AsciiPlan = tuple[bytes, bytes, tuple[tuple[str, str], ...]]  # byte table, bytes deleted, (character, replacement)


def build_ascii_plan(table: Mapping[int, str | None]) -> AsciiPlan | None:
    """The plan giving the same string as ``str.translate(table)`` for ASCII text, or None if there is none."""
    byte_table = bytearray(range(256))
    deleted = bytearray()
    single: list[str] = []
    several: dict[str, str] = {}
    for code in range(128):
        if code not in table:
            continue
        out = table[code]
        if out is None:
            deleted.append(code)
        elif len(out) == 1 and out.isascii():
            byte_table[code] = ord(out)
            single.append(out)
        elif len(out) == 1:
            return None  # ASCII in, not ASCII out: leave it to str.translate
        else:
            several[chr(code)] = out
    if any(out in several for out in single):
        return None  # one translate pass would not pad what it outputs; the replacements would
    order: list[tuple[str, str]] = []
    left = dict(several)
    while left:
        # next: a character whose replacement holds no other character still to be replaced
        ready = [ch for ch, out in left.items() if not any(o in out for o in left if o != ch)]
        if not ready:
            return None
        order.append((ready[0], left.pop(ready[0])))
    return bytes(byte_table), bytes(deleted), tuple(order)


def _join_decimal(m: re.Match[str]) -> str:
    return m.group(0).replace(" ", "")  # "38 , 4" -> "38,4": the same as the template r"\1\2\3"


def _may_join_decimal(s: str) -> bool:
    """False when _DECIMAL_FIX cannot match: no " . " or " , " has a possible digit on both sides.

    str.isdigit() is true for every character \\d matches (Unicode category Nd) and a few more, so a True here
    only means the regex has to look.
    """
    last = len(s) - 4
    for sep in (" . ", " , "):
        k = s.find(sep)
        while k >= 0:
            if 0 < k <= last and s[k - 1].isdigit() and s[k + 3].isdigit():
                return True
            k = s.find(sep, k + 1)
    return False


def tokenize(text: str, table: Mapping[int, str | None], plan: AsciiPlan | None = None) -> list[str]:
    """Lower case, strip accents and apostrophes, map emoji, split punctuation off words, keep 38,4 and 101.2.

    ``plan`` is ``build_ascii_plan(table)``: a faster way to the same string for ASCII text.
    """
    s = text.lower()
    if plan is not None and s.isascii():
        s = s.encode("ascii").translate(plan[0], plan[1]).decode("ascii")
        for ch, out in plan[2]:
            if ch in s:
                s = s.replace(ch, out)
    else:
        s = s.translate(table)
    if _may_join_decimal(s):
        s = _DECIMAL_FIX.sub(_join_decimal, s)
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

    __slots__ = ("_buckets", "_cache", "_cache_limit", "_clean", "_known", "_min_len")

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
        # Tokens already looked at that need no correction (the cache's None entries, plus numbers, punctuation
        # and short words): a set, so that most messages are dealt with by two set differences at C speed and
        # no token is looked at in Python. Whether a token needs a correction depends on the token alone, so a
        # token found clean once is clean for good; bounded like the cache.
        self._clean: set[str] = set()

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
        clean = self._clean
        for tok in unknown:
            fixed = cache.get(tok, "")
            if fixed == "":
                fixed = self.correct_token(tok) if len(tok) >= self._min_len and tok.isalpha() else None
            if fixed is not None:
                fixes[tok] = fixed
            else:
                clean.add(tok)
        if len(clean) >= self._cache_limit:
            self._clean = set()
        return fixes

    def fixes(self, distinct: set[str]) -> dict[str, str]:
        """{token: lexicon word} for the misspelt ones among a message's distinct tokens.

        The same as ``corrections(unknown_tokens(distinct))``: tokens known to need no correction (lexicon and
        guard words, and tokens found clean before) are removed by set differences first, so ``corrections``
        only sees the misspelt tokens and tokens never seen before.
        """
        unknown = distinct - self._known
        if unknown:
            unknown = unknown - self._clean  # iterates the few unknown tokens, not the clean set
            if unknown:
                return self.corrections(unknown)
        return {}
