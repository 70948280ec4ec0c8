"""attrs converters and validators with types mypy can follow."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, TypeVar

from carebook.domain.instants import zone
from carebook.errors import ValidationError


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
    """An attrs validator: a client's idempotency key is a string of 1 to 200 characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= 200:
        raise ValidationError("an idempotency key is a string of 1 to 200 characters")


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
