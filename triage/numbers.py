"""Numbers in messages: number words in English and Spanish, decimal commas, temperature units.

Pure functions; the engine decides what a number means from its neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "DECIMAL_JOINERS",
    "NUMBER_JOINERS",
    "NUMBER_WORDS",
    "c_to_f",
    "f_to_c",
    "infer_temperature_unit",
    "parse_decimal",
    "parse_number_words",
]

_UNITS: dict[str, int] = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "cero": 0,
    "uno": 1,
    "una": 1,
    "un": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "treinta": 30,
    "cuarenta": 40,
    "cincuenta": 50,
    "sesenta": 60,
    "setenta": 70,
    "ochenta": 80,
    "noventa": 90,
}
_HUNDREDS: dict[str, int] = {"hundred": 100, "cien": 100, "ciento": 100}
DECIMAL_JOINERS: frozenset[str] = frozenset({"point", "punto", "coma", "con", "dot"})
NUMBER_JOINERS: frozenset[str] = frozenset({"and", "y"})
NUMBER_WORDS: frozenset[str] = frozenset(_UNITS) | frozenset(_HUNDREDS)


def parse_decimal(text: str) -> float:
    """'38,4' and '38.4' are both 38.4."""
    return float(text.replace(",", "."))


def _integer(words: Sequence[str]) -> int | None:
    current = 0
    seen = False
    for word in words:
        if word in _HUNDREDS:
            current = (current or 1) * 100 if current < 100 else current
        elif word in _UNITS:
            value = _UNITS[word]
            if not seen:
                current = value
            elif current >= 100 and current % 100 == 0 and value < 100:
                current += value  # "one hundred and one", "ciento uno"
            elif current % 100 >= 20 and current % 10 == 0 and value < 10:
                current += value  # "thirty nine", "treinta y nueve", "one hundred twenty one"
            else:
                current = current * (10 if value < 10 else 100) + value  # "one oh one" read digit by digit
        else:
            return None
        seen = True
    return current if seen else None


def parse_number_words(words: Sequence[str]) -> float | None:
    """A run of number words (joiners included) to a value: 'one hundred and one point five' -> 101.5."""
    cleaned = [w for w in words if w not in NUMBER_JOINERS]
    if not cleaned:
        return None
    for i, word in enumerate(cleaned):
        if word in DECIMAL_JOINERS:
            whole = _integer(cleaned[:i])
            frac_words = cleaned[i + 1 :]
            if whole is None or not frac_words:
                return None
            digits = "".join(str(_UNITS[w]) for w in frac_words if w in _UNITS and _UNITS[w] < 10)
            if not digits:
                frac = _integer(frac_words)
                if frac is None:
                    return None
                digits = str(frac)
            return float(f"{whole}.{digits}")
    whole = _integer(cleaned)
    return float(whole) if whole is not None else None


def f_to_c(value: float) -> float:
    return round((value - 32.0) * 5.0 / 9.0, 2)


def c_to_f(value: float) -> float:
    return round(value * 9.0 / 5.0 + 32.0, 1)


def infer_temperature_unit(value: float, explicit: str | None) -> str | None:
    """'C' or 'F' for a plausible body temperature, else None. A bare 38.4 is °C, 101.2 is °F."""
    if explicit == "C" and 30.0 <= value <= 45.0:
        return "C"
    if explicit == "F" and 86.0 <= value <= 113.0:
        return "F"
    if 34.0 <= value <= 43.5:
        return "C"
    if 93.0 <= value <= 110.0:
        return "F"
    return None
