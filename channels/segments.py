"""SMS segment counting: GSM-7 (160 / 153 per part) or UCS-2 (70 / 67 per part, in UTF-16 code units).

Rate limits and costs count segments, not messages (courier #45): an accented Spanish text can be UCS-2.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets or UTF-16 code units
    segments: int


def count_segments(text: str) -> SegmentInfo:
    septets = 0
    for ch in text:
        if ch in GSM7_BASIC:
            septets += 1
        elif ch in GSM7_EXTENDED:
            septets += 2
        else:
            units = len(text.encode("utf-16-le")) // 2
            return SegmentInfo("UCS-2", units, _parts(units, 70, 67))
    return SegmentInfo("GSM-7", septets, _parts(septets, 160, 153))


def _parts(units: int, single: int, multi: int) -> int:
    if units <= single:
        return 1
    return -(-units // multi)
