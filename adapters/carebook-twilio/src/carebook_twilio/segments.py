"""How many SMS segments a text takes: GSM-7 when every character is in the GSM 03.38
alphabet, UCS-2 otherwise.

- **GSM-7**: the basic table (:data:`GSM7_BASIC`, 127 characters: the escape code 0x1B
  is not a character) costs one septet a character; the extension table
  (:data:`GSM7_EXTENSION`: ``^ { } \\ [ ~ ] | €`` and form feed) costs two, the escape and
  the character. One message holds 160 septets; a longer text is sent as concatenated
  segments of 153 (the other 7 carry the concatenation header), and an escape pair is
  never split across two segments.
- **UCS-2** (one character outside those tables is enough: an emoji, Devanagari, a
  curly quote): one message holds 70 UTF-16 code units, a concatenated segment 67. A
  character outside the Basic Multilingual Plane (most emoji) is a surrogate pair: it
  costs two units and is never split across two segments either.

The count is for the text as given: a Twilio Messaging Service with *Smart Encoding* on
may replace look-alike characters (curly quotes, dashes) and send fewer segments.
"""

from __future__ import annotations

from typing import Final, Literal

from attrs import frozen

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "MAX_BODY_CHARS",
    "SEGMENT_LIMITS",
    "SINGLE_LIMITS",
    "SegmentCount",
    "count_segments",
    "is_gsm7",
]

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet, in code order 0x00 to 0x7F, eight rows of sixteen. The
# escape code 0x1B stands in its place but is left out below: it is not a character.
_GSM7_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
GSM7_BASIC: Final = frozenset(_GSM7_TABLE) - {"\x1b"}
"""The characters of the GSM 03.38 basic table: one septet each."""
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")
"""The characters of the GSM 03.38 extension table: two septets each (escape, code)."""

SINGLE_LIMITS: Final[dict[Encoding, int]] = {"GSM-7": 160, "UCS-2": 70}
"""Units (septets, UTF-16 code units) one unsegmented message holds."""
SEGMENT_LIMITS: Final[dict[Encoding, int]] = {"GSM-7": 153, "UCS-2": 67}
"""Units one segment of a concatenated message holds."""
MAX_BODY_CHARS: Final = 1600
"""Twilio refuses a longer body (its error 21617), whatever the segment count."""


@frozen
class SegmentCount:
    """``encoding`` the text needs, its ``units`` (septets for GSM-7, UTF-16 code units
    for UCS-2), and the number of ``segments`` it is sent as. Counts only: no text."""

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 basic or extension table."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _widths(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def count_segments(text: str) -> SegmentCount:
    """The encoding, units and segments of ``text`` (see the module docstring). An empty
    text is one (empty) segment."""
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    widths = _widths(text, encoding)
    units = sum(widths)
    if units <= SINGLE_LIMITS[encoding]:
        return SegmentCount(encoding, units, 1)
    room = SEGMENT_LIMITS[encoding]
    segments, used = 1, 0
    for width in widths:
        if used + width > room:  # an escape pair or a surrogate pair stays whole
            segments, used = segments + 1, 0
        used += width
    return SegmentCount(encoding, units, segments)
