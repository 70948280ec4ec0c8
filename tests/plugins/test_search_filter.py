"""Plugin rules in the availability search: a rule that declares ``offered`` filters the
search, in bulk, so that every slot a search offers is one booking accepts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import carebook
from carebook import Interval, RuleRejectedError
from carebook.hookspecs import RuleRegister
from carebook.plugins import make_plugin_manager
from carebook.scheduling import (
    AvailabilityQuery,
    CancelAppointment,
    Rejection,
    RuleContext,
    SearchContext,
)
from carebook.testing.world import DAY, World, at, make_world


class NoQuarterPast:
    """Refuses starts at :15 and :45 local time; filters the search the same way."""

    code = "no_quarter_past"
    order = 650

    def __init__(self, *, filters: bool = True) -> None:
        self.calls: list[tuple[object, object, int]] = []
        self._filters = filters

    @staticmethod
    def _quarter(start: pendulum.DateTime, timezone: str) -> bool:
        return start.in_timezone(timezone).minute in (15, 45)

    def check(self, ctx: RuleContext) -> Rejection | None:
        if self._quarter(ctx.request.start, ctx.location.timezone):
            return Rejection(self.code, "no bookings at a quarter past or to")
        return None

    def offered(self, ctx: SearchContext, starts: Sequence[int]) -> Iterable[int]:
        self.calls.append((ctx.location.id, ctx.practitioner.id, len(starts)))
        zone = ctx.location.timezone
        return [t for t in starts if not self._quarter(pendulum.from_timestamp(t), zone)]


class OnlyChecks(NoQuarterPast):
    """The same rule without the search filter (it has no ``offered``)."""

    offered = None  # type: ignore[assignment]


class Plugin:
    def __init__(self, rule: object) -> None:
        self.rule = rule

    @carebook.hookimpl
    def carebook_register_reservation_rules(self, register: RuleRegister) -> None:
        register(self.rule)  # type: ignore[arg-type]


def world_with(rule: object) -> World:
    return make_world(dispatch="manual", plugin_manager=make_plugin_manager(plugins=[Plugin(rule)]))


def search(w: World, start: pendulum.DateTime, hours: int) -> list[pendulum.DateTime]:
    query = AvailabilityQuery(
        service_ids=(w.svc.id,), window=Interval(start, start.add(hours=hours)), patient_id=w.bob.id
    )
    return [s.start for s in w.cb.booking.search_availability(w.staff, w.org.id, query)]


def test_a_filtering_rule_keeps_its_refusals_out_of_the_search() -> None:
    rule = NoQuarterPast()
    w = world_with(rule)
    starts = search(w, at(9), 3)
    assert starts and all(s.minute in (0, 30) for s in starts)
    assert at(9, 15) not in starts and at(9, 30) in starts
    assert rule.calls == [(w.loc.id, w.pr.id, 12)]  # once per practitioner, all starts at once


def test_without_offered_the_rule_only_refuses_on_booking() -> None:
    w = world_with(OnlyChecks())
    assert at(9, 15) in search(w, at(9), 1)
    with pytest.raises(RuleRejectedError) as refused:
        w.book(w.bob, at(9, 15))
    assert refused.value.reason_code == "no_quarter_past"


def test_a_filter_cannot_add_a_start_the_search_did_not_find() -> None:
    class Generous(NoQuarterPast):
        def offered(self, ctx: SearchContext, starts: Sequence[int]) -> Iterable[int]:
            return [*starts, int(at(20).timestamp())]

    w = world_with(Generous())
    assert at(20) not in search(w, at(9), 12)


@settings(max_examples=15, deadline=None)
@given(
    hour=st.integers(0, 23), hours=st.integers(1, 10), taken=st.sets(st.integers(0, 31), max_size=6)
)
def test_every_offered_slot_books(hour: int, hours: int, taken: set[int]) -> None:
    """Whatever is already booked, each start the filtered search offers is accepted."""
    w = world_with(NoQuarterPast())
    for quarter in sorted(taken):
        with contextlib.suppress(RuleRejectedError):  # a quarter past: the rule refuses it
            w.book(w.alice, at(9).add(minutes=15 * quarter), actor=w.staff)
    refused: list[str | None] = []
    for start in search(w, DAY.add(hours=hour), hours):
        try:
            booked = w.book(w.bob, start, actor=w.staff)
        except RuleRejectedError as refusal:
            refused.append(refusal.reason_code)
            continue
        w.cb.lifecycle.cancel(w.staff, CancelAppointment(appointment_id=booked.id))
    assert refused == []
