"""Scrub contact data out of free text before it is stored or logged.

A consumer's exception message is written from outside carebook (an SMTP server's reply,
an HTTP body, a driver's message) and may quote an address or a number the core never
meant to keep. :func:`scrub` removes what would identify a person and keeps what helps an
operator: the words, short status codes (``550``, ``5.1.1``) and carebook's own ids.

- any whitespace-free run holding an ``@`` (an e-mail address) becomes ``<email>``;
- digits grouped with spaces, dots, dashes, slashes or brackets that hold seven digits or
  more (a phone number) become ``<number>``;
- any remaining whitespace-free run holding four digits or more (a date of birth, a card
  or member number, a postcode, a port) becomes ``<number>``;
- UUIDs, dashed or as 32 hex digits (the ids events and logs carry), are kept as they are;
Scrubbing is idempotent: scrubbed text scrubs to itself. :func:`describe_failure` also
cuts the text to :data:`MAX_LENGTH` characters.
"""

from __future__ import annotations

import re

__all__ = ["MAX_LENGTH", "describe_failure", "scrub"]

MAX_LENGTH = 500
"""The longest scrubbed text kept (an ellipsis marks a cut)."""

_ID = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|(?=[0-9]*[a-fA-F])[0-9a-fA-F]{32})(?![0-9A-Za-z])"
)
_EMAIL = re.compile(r"\S*@\S*")
_GROUPED_DIGITS = re.compile(r"[+(]?\d(?:[\d().\-/]|\s(?=[\d(+]))*")
_TOKEN = re.compile(r"\S+")
_PHONE_DIGITS = 7
_TOKEN_DIGITS = 4


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _scrub_piece(text: str) -> str:
    text = _EMAIL.sub("<email>", text)
    text = _GROUPED_DIGITS.sub(
        lambda m: "<number>" if _digits(m.group()) >= _PHONE_DIGITS else m.group(), text
    )
    return _TOKEN.sub(
        lambda m: "<number>" if _digits(m.group()) >= _TOKEN_DIGITS else m.group(), text
    )


def scrub(text: str) -> str:
    """``text`` without e-mail addresses, phone numbers or digit-heavy words (ids kept)."""
    out: list[str] = []
    last = 0
    for match in _ID.finditer(text):
        out.append(_scrub_piece(text[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(_scrub_piece(text[last:]))
    return "".join(out)


def describe_failure(kind: str, message: str) -> str:
    """``"Kind: scrubbed message"`` on one line, at most :data:`MAX_LENGTH` characters:
    what a delivery keeps of a consumer's exception (``kind`` is its class name)."""
    text = scrub(" ".join(f"{kind}: {message}".split())).removesuffix(":")
    if len(text) <= MAX_LENGTH:
        return text
    cut = text[: MAX_LENGTH - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut) + "…"
