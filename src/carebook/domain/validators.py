"""attrs converters and validators with types mypy can follow, and the bounds they keep.

Every message names the field and never quotes the value (it may be patient data).
Strings that are stored or travel (keys, names, references, codes) must be text any
database and encoder takes: no NUL character and no lone surrogate (:func:`check_text`).
Whole numbers that are stored are bounded so that no database column overflows
(:data:`MAX_COUNT`, :func:`whole_number`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import attrs

from carebook.domain.instants import zone
from carebook.errors import ConfigurationError, ValidationError

MAX_COUNT = 1_000_000
"""The largest quota, usage limit or count a setting may hold."""
MAX_NAME = 200
"""The longest name, label or reference (characters)."""
MAX_NOTE = 2000
"""The longest free-text note (characters)."""
MAX_PAGE = 10_000
"""The most rows one read of a list (``limit=``) returns."""


def is_clean_text(value: str) -> bool:
    """True when ``value`` has no NUL character and no lone surrogate (it encodes as
    UTF-8), so that every database and JSON encoder takes it as it is."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: object, field: str, max_length: int, *, allow_empty: bool = False) -> str:
    """``value`` if it is a string of ``1`` (or ``0`` with ``allow_empty``) to
    ``max_length`` characters with no NUL and no lone surrogate; ValidationError naming
    ``field`` otherwise."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {type(value).__name__}")
    if not (0 if allow_empty else 1) <= len(value) <= max_length:
        low = 0 if allow_empty else 1
        raise ValidationError(f"{field} must be {low} to {max_length} characters")
    if not is_clean_text(value):
        raise ValidationError(f"{field} must not hold NUL characters or lone surrogates")
    return value


def text(max_length: int = MAX_NAME, *, allow_empty: bool = False) -> Any:
    """An attrs validator: :func:`check_text` on the field."""

    def check(_: Any, attribute: Any, value: Any) -> None:
        check_text(value, attribute.name, max_length, allow_empty=allow_empty)

    return check


def optional_text(max_length: int = MAX_NAME, *, allow_empty: bool = False) -> Any:
    """An attrs validator: None, or :func:`check_text` on the field."""

    def check(_: Any, attribute: Any, value: Any) -> None:
        if value is not None:
            check_text(value, attribute.name, max_length, allow_empty=allow_empty)

    return check


def check_whole(value: object, field: str, low: int, high: int) -> int:
    """``value`` if it is an int (not a bool) in ``[low, high]``; ValidationError naming
    ``field`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{field} must be a whole number from {low} to {high}")
    return value


def whole_number(low: int, high: int) -> Any:
    """An attrs validator: :func:`check_whole` on the field."""

    def check(_: Any, attribute: Any, value: Any) -> None:
        check_whole(value, attribute.name, low, high)

    return check


def optional_whole_number(low: int, high: int) -> Any:
    """An attrs validator: None, or :func:`check_whole` on the field."""

    def check(_: Any, attribute: Any, value: Any) -> None:
        if value is not None:
            check_whole(value, attribute.name, low, high)

    return check


def _iterable(value: Any) -> Iterable[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(
            f"expected a collection (list, tuple or set), got {type(value).__name__}"
        )
    return value


def to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    """``tuple(value)``; a string is refused rather than split into characters."""
    return tuple(_iterable(value))


def to_frozenset(value: Iterable[Any]) -> frozenset[Any]:
    """``frozenset(value)``; a string is refused rather than split into characters."""
    return frozenset(_iterable(value))


def instance_of(cls: type[Any] | tuple[type[Any], ...]) -> Any:
    """An attrs validator raising ValidationError (not TypeError) for a wrong type."""

    def check(_: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, cls) or (cls is int and isinstance(value, bool)):
            names = cls.__name__ if isinstance(cls, type) else " or ".join(c.__name__ for c in cls)
            raise ValidationError(f"{attribute.name} must be a {names}, got {type(value).__name__}")

    return check


E = TypeVar("E", bound=enum.Enum)


def to_enum(cls: type[E], value: Any, field: str | None = None) -> E:
    """``cls(value)``; an unknown value is a ValidationError naming ``field`` and listing
    the allowed values. The message never quotes ``value``: it may be patient data."""
    try:
        return cls(value)
    except (ValueError, TypeError):
        allowed = ", ".join(str(m.value) for m in cls)
        subject = field if field is not None else "the value"
        raise ValidationError(f"{subject} must be one of: {allowed}") from None


def each(cls: type[Any]) -> Any:
    """An attrs validator: every item of a collection is a ``cls``."""

    def check(_: Any, attribute: Any, value: Any) -> None:
        for item in value:
            if not isinstance(item, cls):
                raise ValidationError(
                    f"{attribute.name} holds {cls.__name__} values, got {type(item).__name__}"
                )

    return check


def idempotency_key(_: Any, __: Any, value: Any) -> None:
    """An attrs validator: a client's idempotency key is a string of 1 to 200 characters,
    with no NUL character and no lone surrogate."""
    if not isinstance(value, str) or not 1 <= len(value) <= 200 or not is_clean_text(value):
        raise ValidationError(
            "idempotency_key must be a string of 1 to 200 characters, "
            "without NUL characters or lone surrogates"
        )


def time_zone(_: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: an IANA time zone name. The message names the field and gives
    an example; it never quotes the value (a patient's zone is patient data)."""
    if not isinstance(value, str):
        raise ValidationError(
            f"{attribute.name} must be an IANA time zone name, got {type(value).__name__}"
        )
    try:
        zone(value)
    except ValidationError:
        raise ValidationError(
            f"{attribute.name} must be an IANA time zone name, such as Europe/London"
        ) from None


def check_option_names(cls: type[Any], options: object, what: str) -> Mapping[str, Any]:
    """``options`` as a mapping whose every key names a field of the attrs class ``cls``;
    otherwise a :class:`~carebook.errors.ConfigurationError` that lists the unknown names
    (``"unknown <what>: [...]"``) and never a value. For ``from_options`` and friends."""
    if not isinstance(options, Mapping):
        raise ConfigurationError(f"{what} must be a mapping")
    if not all(isinstance(key, str) for key in options):
        raise ConfigurationError(f"{what}: every name must be a string")
    unknown = set(options) - {f.name for f in attrs.fields(cls)}
    if unknown:
        raise ConfigurationError(f"unknown {what}: {sorted(unknown)}")
    return options
