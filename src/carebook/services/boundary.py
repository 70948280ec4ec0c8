"""The boundary: every public use case checks the Python types of its arguments first.

:func:`checked_api` wraps each public method of a facade class (``cb.booking``,
``cb.admin``, ...). It reads the method's type hints once, when the class is defined,
and builds one cheap check per parameter; a call then runs those checks before any work:

- an argument of the wrong Python type is a ``TypeError`` naming the method and the
  parameter (``book(): actor must be Actor, not NoneType``); the value is never quoted;
- an id parameter (a ``NewType`` over :class:`uuid.UUID`) also takes the id's string
  form, which is parsed; a string that is not a UUID is a
  :class:`~carebook.errors.ValidationError` naming the parameter
  (:func:`carebook.domain.ids.parse_id`);
- ``X | None``, enums, ``Literal`` and collections (``Iterable[X]``, ``Sequence[X]``,
  ``frozenset[X]``: the container and each item, one level deep; an ``Iterable`` is
  read once, into a tuple) are understood; ``Any`` and ``object`` take anything.

Values (ranges, lengths, text) are the domain's to check, once, where the value is built.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from carebook.domain.ids import parse_id

__all__ = ["checked", "checked_api", "is_checked"]

C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])
Check = Callable[[Any], Any]
"""Returns the argument (an id's string form parsed), or raises."""

_ID_FORMS = (uuid.UUID, str)
_COLLECTIONS = (
    collections.abc.Iterable,
    collections.abc.Sequence,
    collections.abc.Collection,
    collections.abc.Set,
    frozenset,
    tuple,
    list,
    set,
)


def _name(hint: Any) -> str:
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", None) or str(hint)


def _is_id(hint: Any) -> bool:
    return isinstance(hint, typing.NewType) and hint.__supertype__ is uuid.UUID


class _Plan:
    """How to check one parameter: accepted classes, ids, literals, items."""

    def __init__(self, where: str, param: str, hint: Any) -> None:
        self.where = where
        self.param = param
        self.types: list[type] = []
        self.ids: list[Any] = []
        self.literals: list[Any] = []
        self.items: list[_Plan] = []
        self.materialise = False
        self.any = False
        self.callable = False
        self.names: list[str] = []
        for option in _options(hint):
            self._add(option)

    def _add(self, hint: Any) -> None:
        origin = typing.get_origin(hint)
        if hint is Any or hint is object:
            self.any = True
        elif _is_id(hint):
            self.ids.append(hint)
            self.names.append(f"{hint.__name__} (a UUID or its string form)")
        elif origin is typing.Literal:
            self.literals.extend(typing.get_args(hint))
            self.names.append(" or ".join(repr(v) for v in typing.get_args(hint)))
        elif origin is collections.abc.Callable or hint is collections.abc.Callable:
            self.callable = True
            self.names.append("a callable")
        elif origin in _COLLECTIONS:
            self.types.append(origin if isinstance(origin, type) else object)
            args = [a for a in typing.get_args(hint) if a is not Ellipsis]
            if len(args) == 1:
                self.items.append(_Plan(self.where, f"{self.param} items", args[0]))
            self.materialise = origin is collections.abc.Iterable
            self.names.append(f"a collection of {_name(args[0]) if len(args) == 1 else 'values'}")
        elif isinstance(hint, type):
            self.types.append(hint)
            self.names.append(_name(hint))
        else:  # a hint this boundary does not know: let it pass rather than guess
            self.any = True

    def check(self) -> Check:
        if self.any:
            return _identity
        accepted = tuple(self.types)
        refuse_bool = int in accepted and bool not in accepted
        no_str = str not in accepted and any(t in _COLLECTIONS for t in accepted)
        message = f"{self.where}(): {self.param} must be {' or '.join(self.names)}, not "
        ids, literals, items = self.ids, self.literals, [p.check() for p in self.items]
        callable_ok, materialise, param = self.callable, self.materialise, self.param
        # The fast path: an argument of exactly an accepted class (a plain class, not a
        # collection whose items need a look) is accepted by one set lookup.
        exact = frozenset() if items else frozenset(t for t in accepted if t not in _COLLECTIONS)
        text = (str, bytes)
        none_ok = type(None) in accepted

        def check(value: Any) -> Any:
            if type(value) in exact or (value is None and none_ok):
                return value
            if isinstance(value, accepted) and not (
                (refuse_bool and isinstance(value, bool)) or (no_str and isinstance(value, text))
            ):
                if items:
                    value = _each(value, items[0], materialise)
                return value
            if ids and isinstance(value, _ID_FORMS):
                return parse_id(value, param)
            if literals and value in literals:
                return value
            if callable_ok and callable(value):
                return value
            raise TypeError(message + type(value).__name__)

        return check


def _each(value: Any, check: Check, materialise: bool) -> Any:
    """The collection with each item checked (ids parsed); an Iterable read into a tuple."""
    values = tuple(value) if materialise else value
    checked_items = [check(item) for item in values]
    if materialise:
        return tuple(checked_items)
    if any(a is not b for a, b in zip(checked_items, values, strict=False)):
        return type(value)(checked_items)
    return value


def _apply(check: Check, value: Any) -> Any:
    return check(value)


def _identity(value: Any) -> Any:
    return value


def _options(hint: Any) -> list[Any]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return list(typing.get_args(hint))
    return [hint]


def checked(method: F) -> F:
    """Wrap ``method`` (a facade's use case) so that its arguments are checked first."""
    where = method.__name__
    hints = typing.get_type_hints(method)
    signature = inspect.signature(method)
    positional: list[Check] = []
    by_name: dict[str, Check] = {}
    for index, param in enumerate(signature.parameters.values()):
        if index == 0 or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue  # self; **fields are the domain's to check
        check = _Plan(where, param.name, hints.get(param.name, Any)).check()
        by_name[param.name] = check
        if param.kind is param.POSITIONAL_OR_KEYWORD:
            positional.append(check)
    if not by_name:
        method.__carebook_checked__ = True  # type: ignore[attr-defined]
        return method

    most = len(positional)

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if args and len(args) <= most:
            args = tuple(map(_apply, positional, args))
        if kwargs:
            for key, value in kwargs.items():
                check = by_name.get(key)
                if check is not None:
                    kwargs[key] = check(value)
        return method(self, *args, **kwargs)

    wrapper.__carebook_checked__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def checked_api(cls: C) -> C:
    """A class decorator: :func:`checked` on every public method of ``cls``."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, checked(member))
    return cls


def is_checked(method: object) -> bool:
    """True when ``method`` checks its arguments (tests use it to find a forgotten one)."""
    function = getattr(method, "__func__", method)
    return bool(getattr(function, "__carebook_checked__", False))
