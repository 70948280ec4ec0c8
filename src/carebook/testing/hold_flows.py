"""Holds through the public API, to the microsecond: part of
:class:`~carebook.testing.flows.ServiceFlows`, so every storage runs it.

A hold keeps its slot until its ``hold_expires_at`` and not a microsecond longer: before
it, the slot is not offered to anyone else, another patient's booking is refused and the
holder's own booking of the hold is accepted; from it on, the reverse. The expiry
carebook reports is a whole second, rounded up from ``now + hold_minutes`` (in the
holder's favour), and it is the one every storage enforces.

:class:`HoldFlows` needs the ``make_world`` fixture of ``ServiceFlows``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar

import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carebook import Actor, Interval, RuleRejectedError
from carebook.domain import events as ev
from carebook.scheduling import Appointment, AppointmentStatus, AvailabilityQuery
from carebook.scheduling import CancelAppointment as Cancel
from carebook.testing.world import DAY, T0, World, at

__all__ = ["HoldFlows"]

S = AppointmentStatus
SECOND = 1_000_000
"""Microseconds."""


def _offered(w: World, start: pendulum.DateTime) -> bool:
    """Whether a search for Bob offers ``start`` with the world's practitioner."""
    query = AvailabilityQuery(
        service_ids=(w.svc.id,),
        window=Interval(start.subtract(hours=1), start.add(hours=1)),
        practitioner_ids={w.pr.id},
        patient_id=w.bob.id,
    )
    found = w.cb.booking.search_availability(Actor.system(), w.org.id, query)
    return start in [s.start for s in found]


def _attempt(call: Callable[[], Appointment]) -> tuple[Appointment | None, str | None]:
    """What ``call`` booked and None, or None and the reason code it was refused with."""
    try:
        return call(), None
    except RuleRejectedError as refused:
        return None, refused.reason_code


def _release(w: World, *appointments: Appointment | None) -> None:
    """Cancel those of ``appointments`` that still occupy their slot."""
    for appointment in appointments:
        if appointment is None:
            continue
        current = w.cb.queries.get_appointment(Actor.system(), appointment.id)
        if current.status in (S.PROPOSED, S.PENDING, S.BOOKED):
            w.cb.lifecycle.cancel(w.staff, Cancel(appointment_id=current.id, reason="test"))


class HoldFlows:
    """A hold keeps its slot exactly until its reported expiry, on the storage under test."""

    hold_examples: ClassVar[int] = 100
    """Examples of the hold-expiry property; an adapter on a slower storage may lower it."""

    def test_a_hold_keeps_its_slot_until_its_expiry_to_the_microsecond(
        self, make_world: Callable[..., World]
    ) -> None:
        """The review's case: a hold made at 08:00:00.700 for 10 minutes, looked at
        from 08:10:00.010 on."""
        w = make_world(dispatch="manual")
        made = w.clock.set(T0.add(microseconds=700_000))
        held = w.hold(w.alice, at(10))
        expires = held.hold_expires_at
        assert expires is not None
        asked = made.add(minutes=10)  # 08:10:00.700
        assert asked <= expires < asked + dt.timedelta(seconds=1)  # rounded up, if at all

        for now in (T0.add(minutes=10, microseconds=10_000), expires - dt.timedelta(seconds=0.69)):
            w.clock.set(now)
            assert not _offered(w, at(10)), now
            before = w.snapshot()
            assert _attempt(lambda: w.book(w.bob, at(10))) == (None, "practitioner_busy")
            assert w.snapshot() == before
        assert w.cb.lifecycle.expire_holds(Actor.system()) == []

        booked = w.book(w.alice, at(10), hold_id=held.id)

        assert booked.id == held.id
        assert booked.status is S.PENDING
        assert booked.hold_expires_at is None
        # What was announced and reported is what was enforced: a whole second.
        (event,) = [e for e in w.cb.events.pending(1000) if isinstance(e, ev.AppointmentHeld)]
        assert event.expires_at == expires
        assert expires.microsecond == 0

    def test_from_its_expiry_on_a_hold_frees_its_slot_for_others(
        self, make_world: Callable[..., World]
    ) -> None:
        w = make_world(dispatch="manual")
        w.clock.set(T0.add(microseconds=700_000))
        held = w.hold(w.alice, at(10))
        expires = held.hold_expires_at
        assert expires is not None

        w.clock.set(expires - dt.timedelta(microseconds=1))
        assert not _offered(w, at(10))
        w.clock.set(expires)  # half-open: the expiry instant is free

        assert _offered(w, at(10))
        owners = _attempt(lambda: w.book(w.alice, at(10), hold_id=held.id))
        assert owners == (None, "hold_expired")
        bobs = w.book(w.bob, at(10))
        assert bobs.status is S.PENDING
        assert w.cb.lifecycle.expire_holds(Actor.system()) == [held.id]

    def test_a_hold_is_offered_to_others_exactly_when_now_reaches_its_expiry(
        self, make_world: Callable[..., World]
    ) -> None:
        """Property: for a hold made at any instant and any later ``now`` (both with
        sub-second parts), the slot is offered to others, another patient's booking is
        accepted, the holder's booking refused and the hold listed by ``expire_holds``
        exactly when ``now >= hold_expires_at``."""
        w = make_world(dispatch="manual", hold_minutes=1)
        hold_time = 60 * SECOND
        since_hold = st.integers(0, 2 * hold_time)
        near_expiry = st.integers(-2 * SECOND, 2 * SECOND)
        at_expiry = st.integers(-2, 2)

        @settings(
            max_examples=self.hold_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            lead=st.integers(0, SECOND - 1),
            later=st.one_of(
                st.tuples(st.just("since hold"), since_hold),
                st.tuples(st.just("from expiry"), st.one_of(near_expiry, at_expiry)),
            ),
            owner_books=st.booleans(),
        )
        def check(lead: int, later: tuple[str, int], owner_books: bool) -> None:
            made = w.clock.advance(microseconds=lead)
            day = (made - T0).days  # each day Tuesday to Friday has the slot at 10:00
            assert day < 4, "the property ran out of working days"
            slot = DAY.add(days=day, hours=10)
            held = w.cb.booking.hold(Actor.patient(w.alice.id), w.hold_command(w.alice, slot))
            booked: Appointment | None = None
            try:
                expires = held.hold_expires_at
                assert expires is not None
                since, micros = later
                base = made if since == "since hold" else expires
                now = w.clock.set(max(made, base + dt.timedelta(microseconds=micros)))
                free = now >= expires

                assert _offered(w, slot) is free, (expires, now)
                if owner_books:
                    booked, refusal = _attempt(lambda: w.book(w.alice, slot, hold_id=held.id))
                    assert refusal == ("hold_expired" if free else None), (expires, now)
                else:
                    booked, refusal = _attempt(lambda: w.book(w.bob, slot))
                    assert refusal == (None if free else "practitioner_busy"), (expires, now)
                expired = w.cb.lifecycle.expire_holds(Actor.system())
                assert expired == ([held.id] if free else []), (expires, now)
                # The expiry is the asked one rounded up to a whole second, if at all.
                assert made.add(minutes=1) <= expires < made.add(minutes=1, seconds=1)
                assert expires.microsecond == 0
            finally:
                _release(w, held, booked)

        check()
