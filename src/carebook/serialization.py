"""One cattrs converter for events, commands and domain values, to JSON and back.

Validation happens in the domain classes' own constructors, so structuring bad data
raises the same typed errors as building it in code (wrapped by cattrs in a
``ClassValidationError``; :func:`structure` unwraps the first carebook error).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import json
import re
import typing
import uuid
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar, Union

import attrs
import cattrs
import pendulum
from cattrs.preconf.json import make_converter
from cattrs.strategies import configure_tagged_union

from carebook.domain.events import EVENT_TYPES, Event
from carebook.domain.instants import require_aware
from carebook.domain.scheduling.calendar import TimeRange
from carebook.domain.validators import to_enum
from carebook.errors import CarebookError, ValidationError

__all__ = ["dumps", "event_from_json", "event_to_json", "loads", "make_carebook_converter"]

T = TypeVar("T")

AnyEvent = Union[*EVENT_TYPES]  # type: ignore[valid-type]


def _structure_datetime(value: Any, _: Any) -> pendulum.DateTime:
    if isinstance(value, dt.datetime):
        return require_aware(value)
    if not isinstance(value, str):
        raise ValidationError("a datetime must be an ISO 8601 string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError("a datetime must be an ISO 8601 string with an offset") from exc
    return require_aware(parsed)


def _structure_date(value: Any, _: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("a date must be an ISO 8601 date, YYYY-MM-DD") from exc


def _structure_time(value: Any, _: Any) -> dt.time:
    try:
        parsed = dt.time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("a time of day must be ISO 8601, HH:MM or HH:MM:SS") from exc
    if parsed.tzinfo is not None:
        raise ValidationError("a time of day is local: no offset")
    return parsed


def _structure_decimal(value: Any, _: Any) -> decimal.Decimal:
    """Decimals travel as strings ("12.5"); ints are exact too. Floats are refused."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationError(f"a decimal must be a string or an int, got {type(value).__name__}")
    try:
        number = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise ValidationError("not a decimal number") from None
    if not number.is_finite():
        raise ValidationError("a decimal must be finite")
    return number


def _strict(kind: type[Any]) -> Any:
    """Structure hooks that check the JSON type instead of coercing (12.5 is no int)."""

    def structure(value: Any, _: Any) -> Any:
        if type(value) is not kind:
            raise ValidationError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return structure


def _weekday_map(converter: cattrs.Converter) -> Any:
    """Weekly hours keyed by weekday: JSON object keys are strings ("0".."6")."""

    def structure(value: Any, _: Any) -> dict[int, tuple[TimeRange, ...]]:
        if not isinstance(value, Mapping):
            raise ValidationError("weekly hours must be a JSON object keyed by weekday")
        out: dict[int, tuple[TimeRange, ...]] = {}
        for key, ranges in value.items():
            if isinstance(key, bool) or not (
                isinstance(key, int) or (isinstance(key, str) and key.isdigit())
            ):
                raise ValidationError("weekday keys are 0 to 6")
            out[int(key)] = converter.structure(ranges, tuple[TimeRange, ...])
        return out

    return structure


def _structure_str_enum(value: Any, cls: type[enum.StrEnum]) -> enum.StrEnum:
    if not isinstance(value, str):
        allowed = ", ".join(m.value for m in cls)
        raise ValidationError(f"the value must be one of: {allowed}")
    return to_enum(cls, value)


def _is_set(tp: Any) -> bool:
    return tp in (set, frozenset) or typing.get_origin(tp) in (set, frozenset, AbstractSet)


def make_carebook_converter() -> cattrs.Converter:
    """A fresh converter that knows every carebook type; events are tagged by ``type``.

    Ints, bools and strings are checked, not coerced; sets are written sorted, so equal
    values give equal JSON in every process.
    """
    converter = make_converter()
    for kind in (int, bool, str):
        converter.register_structure_hook(kind, _strict(kind))
    # StrEnum subclasses str, so the str hook above would match it and hand back a
    # plain string; StrEnum comes first in an enum's MRO, so this hook wins.
    converter.register_structure_hook(enum.StrEnum, _structure_str_enum)
    converter.register_structure_hook_func(
        lambda tp: tp == dict[int, tuple[TimeRange, ...]], _weekday_map(converter)
    )
    converter.register_unstructure_hook_func(
        _is_set,
        lambda values: sorted(
            (converter.unstructure(v) for v in values),
            key=lambda v: json.dumps(v, sort_keys=True),
        ),
    )
    for cls in (pendulum.DateTime, dt.datetime):
        converter.register_unstructure_hook(cls, lambda d: d.isoformat())
        converter.register_structure_hook(cls, _structure_datetime)
    converter.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    converter.register_structure_hook(dt.date, _structure_date)
    converter.register_unstructure_hook(dt.time, lambda t: t.isoformat())
    converter.register_structure_hook(dt.time, _structure_time)
    converter.register_unstructure_hook(decimal.Decimal, str)
    converter.register_structure_hook(decimal.Decimal, _structure_decimal)
    converter.register_unstructure_hook(uuid.UUID, str)
    converter.register_structure_hook(uuid.UUID, lambda v, _: uuid.UUID(str(v)))
    configure_tagged_union(AnyEvent, converter, tag_name="type")
    converter.register_structure_hook(Event, lambda v, _: converter.structure(v, AnyEvent))
    converter.register_unstructure_hook(
        Event, lambda e: converter.unstructure(e, unstructure_as=AnyEvent)
    )
    return converter


@functools.cache
def _default() -> cattrs.Converter:
    return make_carebook_converter()


_NOTE = re.compile(r"@ (attribute|index) (\w+)$")


def _step(exc: BaseException) -> str:
    """The step of a field path that cattrs noted on ``exc`` ("@ attribute start")."""
    for note in getattr(exc, "__notes__", ()):
        match = _NOTE.search(note)
        if match:
            kind, name = match.groups()
            return f".{name}" if kind == "attribute" else f"[{name}]"
    return ""


def _unwrap(exc: BaseException, path: str = "") -> tuple[CarebookError, str] | None:
    """The first carebook error inside cattrs' exception groups, and its field path."""
    path += _step(exc)
    if isinstance(exc, CarebookError):
        return exc, path
    for inner in getattr(exc, "exceptions", ()):
        found = _unwrap(inner, path)
        if found is not None:
            return found
    return None


def structure(data: Any, cls: type[T]) -> T:
    """Structure ``data`` as ``cls``; invalid data raises a CarebookError."""
    if attrs.has(cls) and not isinstance(data, Mapping):
        raise ValidationError(f"{cls.__name__} must be a JSON object")
    try:
        return _default().structure(data, cls)
    except CarebookError:
        raise
    except Exception as exc:
        found = _unwrap(exc)
        if found is not None:
            error, path = found
            if type(error) is ValidationError and path:
                # Name the field (never the value): "birth_date: a date must be ..."
                raise ValidationError(f"{path.lstrip('.')}: {error}") from exc
            raise error from exc
        raise ValidationError(f"cannot read {getattr(cls, '__name__', cls)}: invalid data") from exc


def dumps(value: Any, *, unstructure_as: Any = None) -> str:
    """Canonical JSON (sorted keys) of any carebook value."""
    raw = _default().unstructure(value, unstructure_as=unstructure_as)
    return json.dumps(raw, sort_keys=True, separators=(",", ":"))


def loads(text: str, cls: type[T]) -> T:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError("not valid JSON") from exc
    return structure(raw, cls)


def event_to_json(event: Event) -> str:
    return dumps(event, unstructure_as=AnyEvent)


def event_from_json(text: str) -> Event:
    return loads(text, Event)
