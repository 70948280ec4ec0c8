"""Language tags (BCP 47, RFC 5646): the one check every preferred language passes.

A tag is checked for well-formedness (RFC 5646 section 2.1 syntax: a 2-3 letter
primary language, then optional extlang, script, region, variant, extension and
private-use subtags), not against the IANA registry. The 5-8 letter primary subtags the
syntax reserves, which the registry has never assigned, are refused too, so a word such
as ``english`` is not mistaken for a tag: ``de``, ``hi-IN``, ``zh-Hant-TW`` and
``sr-Latn-RS`` pass; ``english``, ``en_US`` and ``e`` do not. The
canonical form keeps the registry's case conventions (language lower, script title,
region upper), so ``EN-us`` is stored as ``en-US``.
"""

from __future__ import annotations

import re

from carebook.errors import ValidationError

__all__ = ["MAX_LANGUAGE_TAG", "canonical_language", "optional_language"]

MAX_LANGUAGE_TAG = 35
"""The longest tag accepted (characters): RFC 5646 section 4.4.1 asks implementations
to take at least 35."""

_TAG = re.compile(
    r"""
    ^(?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3})
    (?:-(?P<script>[a-z]{4}))?
    (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
    (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*
    (?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*
    (?:-x(?:-[a-z0-9]{1,8})+)?$
    """,
    re.VERBOSE,
)


def canonical_language(value: object, field: str = "language") -> str:
    """``value`` as a well-formed BCP 47 tag in canonical case; ValidationError naming
    ``field`` (never quoting the value) otherwise."""
    if not isinstance(value, str) or not value.isascii() or len(value) > MAX_LANGUAGE_TAG:
        raise ValidationError(f"{field} must be a BCP 47 language tag such as 'en' or 'hi-IN'")
    match = _TAG.match(value.lower())
    if match is None:
        raise ValidationError(f"{field} must be a BCP 47 language tag such as 'en' or 'hi-IN'")
    parts = value.lower().split("-")
    out = [parts[0]]
    private = False
    for part in parts[1:]:
        if part == "x" or private:
            private = True
            out.append(part)
        elif len(part) == 4 and part.isalpha() and part == match["script"]:
            out.append(part.title())
        elif part == match["region"] and len(part) == 2:
            out.append(part.upper())
        else:
            out.append(part)
    return "-".join(out)


def optional_language(value: object) -> str | None:
    """An attrs converter: None, or :func:`canonical_language` of ``value``."""
    return None if value is None else canonical_language(value)
