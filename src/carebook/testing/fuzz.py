"""A Hypothesis fuzzer over every public use case: only carebook's errors escape.

:class:`BoundaryFuzz` is a pytest suite like :class:`~carebook.testing.flows.ServiceFlows`:
subclass it and override the ``storage`` fixture. Its test builds the test clinic
(:func:`~carebook.testing.world.make_world`, ``dispatch="manual"``), then calls use cases
found on the Carebook itself (every public method of ``cb.booking``, ``cb.admin``, ...),
each argument either a valid value of the clinic or junk: None, a wrong type, a huge or
negative int, a string with NUL or a lone surrogate, a non-UUID string, an unknown id,
an instant outside the supported years, a naive datetime. Commands are built inside
the call, from fields drawn the same way. After each call it asserts that

- it returned, or raised a :class:`~carebook.errors.CarebookError`, or a ``TypeError``
  that names the method and one of its parameters; anything else fails the test;
- after a refusal, storage is exactly as before (:meth:`BoundaryFuzz.snapshot`, by
  default :func:`~carebook.testing.snapshot.storage_state`; adapters may compare more).

Size: ``fuzz_examples`` Hypothesis examples (default 60, ``CAREBOOK_FUZZ_EXAMPLES``
overrides) of ``CALLS_PER_EXAMPLE`` calls each. :data:`CALLS` counts the calls made per
use case, for the report.
"""

from __future__ import annotations

import collections
import datetime as dt
import inspect
import os
import re
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carebook import Actor, CarebookError, Interval, Money
from carebook.payments import RequestBooking
from carebook.ports import Storage
from carebook.pricing import PriceList, PromoCode
from carebook.reminders import ReminderPolicy
from carebook.scheduling import (
    AvailabilityQuery,
    BookAppointment,
    CancelAppointment,
    Closure,
    DateOverride,
    HoldSlot,
    RescheduleAppointment,
    WeeklyHours,
    WorkingPlan,
)
from carebook.staffing import ForecastModel, StaffAvailability
from carebook.testing.snapshot import storage_state
from carebook.testing.world import DAY, World, at, make_world
from carebook.walkins import CheckIn

__all__ = ["CALLS", "CALLS_PER_EXAMPLE", "OUTCOMES", "BoundaryFuzz", "fuzz_examples", "junk"]

CALLS_PER_EXAMPLE = 20
CALLS: collections.Counter[str] = collections.Counter()
"""Calls made per use case (``feature.method``) in this process."""
OUTCOMES: collections.Counter[str] = collections.Counter()
"""How the calls ended: ``returned``, ``CarebookError`` family, ``TypeError``."""
FEATURES = ("booking", "lifecycle", "queries", "sagas", "walkins", "staffing", "admin")
FEATURES_MORE = ("pricing", "events", "reminders")
SKIP = frozenset({"sagas.set_crashpoint"})
"""Test hooks, not use cases."""


def fuzz_examples(default: int = 60) -> int:
    """Hypothesis examples per test: ``CAREBOOK_FUZZ_EXAMPLES`` or ``default``."""
    return int(os.environ.get("CAREBOOK_FUZZ_EXAMPLES", default))


def junk() -> st.SearchStrategy[Any]:
    """Values no use case takes where it expects something else."""
    return st.sampled_from(
        [
            None,
            object(),
            3.5,
            b"bytes",
            [],
            {},
            -1,
            2**31,
            2**63,
            10**18,
            True,
            "",
            "nope-not-a-uuid",
            "k\x00ey",
            "\ud800",
            "x" * 300,
            uuid.UUID("00000000-0000-4000-8000-000000000bad"),
            pendulum.datetime(9999, 12, 31, 23, 59, 59, 999999),
            dt.datetime(1, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2025, 3, 4, 11, 0),
            dt.date(9999, 12, 31),
            Decimal("1e-999999"),
        ]
    )


Draw = Callable[[st.SearchStrategy[Any]], Any]
Make = Callable[[], Any]
"""Builds one argument when the call runs (a command's constructor may refuse it)."""


def _valid(w: World) -> dict[str, st.SearchStrategy[Any]]:
    """Valid values of the clinic, by parameter or field name."""
    org, loc, pr, svc = w.org.id, w.loc.id, w.pr.id, w.svc.id
    patients = st.sampled_from([p.id for p in w.patients])
    starts = st.sampled_from([at(h, m) for h in range(9, 17) for m in (0, 30)])
    hours = st.just(WeeklyHours.every_day("09:00-17:00"))
    return {
        "actor": st.sampled_from(
            [Actor.admin(), Actor.system(), w.staff, Actor.patient(w.alice.id)]
        ),
        "organisation_id": st.just(org) | st.just(str(org)),
        "location_id": st.just(loc) | st.just(str(loc)),
        "practitioner_id": st.just(pr),
        "patient_id": patients | patients.map(str),
        "service_id": st.just(svc),
        "service_ids": st.just((svc,)) | st.just([str(svc)]),
        "appointment_id": st.sampled_from([a.id for a in w.appointments()]),
        "hold_id": st.none(),
        "saga_id": st.uuids(),
        "entry_id": st.uuids(),
        "start": starts,
        "end": starts.map(lambda s: s.add(days=1)),
        "window": st.just(Interval(DAY, DAY.add(days=1))),
        "interval": starts.map(lambda s: Interval(s, s.add(hours=1))),
        "idempotency_key": st.uuids().map(str),
        "correlation_id": st.none() | st.just("fuzz-correlation"),
        "name": st.sampled_from(["Dr Fuzz", "Annex", "Room 2"]),
        "timezone": st.just("Europe/London"),
        "duration": st.integers(1, 120),
        "price": st.just(Money(5000, "GBP")),
        "practitioner_ids": st.just({pr}),
        "category": st.just("room"),
        "plans": hours.map(lambda h: [WorkingPlan(location_id=loc, hours=h)]),
        "hours": hours,
        "contact_ref": st.none() | st.just("crm:4711"),
        "kind": st.just("returning"),
        "daily_quota": st.integers(0, 1000),
        "percentage": st.just(Decimal(10)),
        "threshold": st.just(Decimal(500)),
        "code": st.just("SPRING"),
        "limit": st.integers(1, 50),
        "day": st.none() | st.just(DAY.date()),
        "week_start": st.just(DAY.date()),
        "date": st.just(DAY.date()),
        "dates": st.just([DAY.date()]),
        "model": st.none() | st.just(ForecastModel(weeks=2)),
        "rules": st.none(),
        "advance": st.none() | st.just(False),
        "reason": st.just("patient_request"),
        "note": st.none() | st.just("call back"),
        "label": st.just("holiday"),
        "body": st.just(b"{}"),
        "signature": st.none() | st.just("t=1,v1=00"),
        "event": st.sampled_from(w.cb.events.pending(5)),
        "policy": st.just(ReminderPolicy()) | st.just(ReminderPolicy(offsets=(60,))),
        "jobs": st.none() | st.just(["dispatch"]),
    }


_APPOINTMENT = ("location_id", "practitioner_id", "patient_id", "service_ids", "start")
COMMANDS: dict[str, tuple[type, tuple[str, ...]]] = {
    "BookAppointment": (BookAppointment, (*_APPOINTMENT, "idempotency_key")),
    "HoldSlot": (HoldSlot, _APPOINTMENT),
    "RequestBooking": (RequestBooking, (*_APPOINTMENT, "idempotency_key")),
    "CancelAppointment": (CancelAppointment, ("appointment_id", "reason", "note")),
    "RescheduleAppointment": (RescheduleAppointment, ("appointment_id", "start")),
    "AvailabilityQuery": (AvailabilityQuery, ("service_ids", "window", "patient_id")),
    "CheckIn": (CheckIn, ("location_id", "patient_id", "idempotency_key")),
    "Closure": (Closure, ("interval", "label")),
    "WorkingPlan": (WorkingPlan, ("location_id", "hours")),
    "DateOverride": (DateOverride, ("location_id", "date")),
    "Interval": (Interval, ("start", "end")),
    "PromoCode": (PromoCode, ("code",)),
    "PriceList": (PriceList, ()),
    "Money": (Money, ()),
    "StaffAvailability": (StaffAvailability, ("practitioner_id", "hours")),
}
"""Attrs arguments a use case takes, and the fields the fuzzer fills."""


_EXTRA: dict[str, tuple[str, ...]] = {
    "add_location": ("name", "timezone"),
    "update_location": ("name",),
    "add_service": ("name", "duration", "price", "practitioner_ids"),
    "add_resource": ("name", "category"),
    "update_settings": ("daily_quota",),
}
"""``**fields`` the fuzzer passes to use cases that take them."""


def _argument(draw: Draw, name: str, hint: str, valid: dict[str, st.SearchStrategy[Any]]) -> Make:
    if draw(st.integers(0, 9)) < 3:
        value = draw(junk())
        return lambda: value
    strategy = valid.get(name)
    if strategy is None:
        for type_name, (cls, fields) in COMMANDS.items():
            if re.search(rf"\b{type_name}\b", hint):
                made = _command(draw, cls, fields, valid)
                return _listed(made) if hint.startswith("Iterable[") else made
    value = draw(strategy) if strategy is not None else draw(junk())
    return lambda: value


def _listed(make: Make) -> Make:
    return lambda: [make()]


def _command(
    draw: Draw, cls: type, fields: tuple[str, ...], valid: dict[str, st.SearchStrategy[Any]]
) -> Make:
    if cls is PromoCode:
        percent = draw(st.sampled_from([5, 0, 101, 2**63, "x", None]))
        return lambda: PromoCode.percent_off("FUZZ", percent)
    if cls is PriceList:
        return lambda: PriceList(currency="GBP")
    if cls is Money:
        amount = draw(st.sampled_from([5000, 2**63, -1, 3.5]))
        return lambda: Money(amount, "GBP")
    values = {f: draw(valid[f]) if draw(st.integers(0, 4)) else draw(junk()) for f in fields}
    if cls is StaffAvailability:
        values["location_ids"] = {draw(valid["location_id"])}
        values["max_hours"] = draw(st.sampled_from([8, -1, 2**63]))
    return lambda: cls(**values)


class BoundaryFuzz:
    """Every public use case with fuzzed arguments, on the storage under test."""

    fuzz_examples: int = fuzz_examples()

    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        """A fresh, empty storage; the adapter's test class overrides this."""
        raise NotImplementedError("override the 'storage' fixture in your test class")

    def snapshot(self, w: World) -> object:
        """Everything storage holds, to compare before and after a refused call."""
        return storage_state(w.cb.storage, w.org.id, [p.id for p in w.patients], ["SPRING"])

    @pytest.fixture
    def world(self, storage: Storage) -> Iterator[World]:
        w = make_world(storage=storage, dispatch="manual")
        w.book(w.alice, at(10), actor=w.staff)
        w.hold(w.bob, at(11))
        yield w
        w.cb.close()

    def test_only_carebook_errors_or_named_type_errors_escape(self, world: World) -> None:
        use_cases = _use_cases(world)
        valid = _valid(world)  # drawn from the clinic as set up, so examples replay

        @settings(
            max_examples=self.fuzz_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(st.data())
        def fuzz(data: st.DataObject) -> None:
            for _ in range(CALLS_PER_EXAMPLE):
                name = data.draw(st.sampled_from(sorted(use_cases)))
                self._call(data, world, name, use_cases[name], valid)

        fuzz()

    def _call(
        self,
        data: st.DataObject,
        w: World,
        name: str,
        method: Callable[..., Any],
        valid: dict[str, st.SearchStrategy[Any]],
    ) -> None:
        signature = inspect.signature(method)
        args: list[Make] = []
        kwargs: dict[str, Make] = {}
        for param in signature.parameters.values():
            if param.kind is param.VAR_KEYWORD:
                for extra in _EXTRA.get(method.__name__, ()):
                    kwargs[extra] = _argument(data.draw, extra, "", valid)
                continue
            if param.default is not param.empty and data.draw(st.booleans()):
                continue  # leave an optional argument out
            made = _argument(data.draw, param.name, str(param.annotation), valid)
            if param.kind is param.KEYWORD_ONLY:
                kwargs[param.name] = made
            else:
                args.append(made)
        CALLS[name] += 1
        before = self.snapshot(w)
        try:
            method(*[a() for a in args], **{k: v() for k, v in kwargs.items()})
        except CarebookError as error:
            OUTCOMES[type(error).__name__] += 1
        except TypeError as error:
            OUTCOMES["TypeError"] += 1
            message = str(error)
            assert f"{method.__name__}()" in message or _names_a_parameter(message, signature), (
                f"{name}: a TypeError that names no parameter: {message}"
            )
        except Exception as error:  # the boundary leaked: report what and where
            raise AssertionError(f"{name} raised {type(error).__name__}: {error}") from error
        else:
            OUTCOMES["returned"] += 1
            return
        assert self.snapshot(w) == before, f"{name} changed storage, then refused"


def _names_a_parameter(message: str, signature: inspect.Signature) -> bool:
    return any(re.search(rf"\b{p}\b", message) for p in signature.parameters)


def _use_cases(w: World) -> dict[str, Callable[..., Any]]:
    """Every public method of every feature of the Carebook, by ``feature.method``."""
    found: dict[str, Callable[..., Any]] = {}
    for feature in (*FEATURES, *FEATURES_MORE):
        facade = getattr(w.cb, feature)
        for name, member in inspect.getmembers(facade, inspect.ismethod):
            key = f"{feature}.{name}"
            if not name.startswith("_") and key not in SKIP:
                found[key] = member
    return found
