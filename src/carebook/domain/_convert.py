"""attrs converters with types mypy can follow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def to_frozenset(value: Iterable[Any]) -> frozenset[Any]:
    return frozenset(value)
