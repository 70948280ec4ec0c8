"""Reminders through the public API: part of :class:`~carebook.testing.flows.ServiceFlows`,
so every storage runs it. :class:`ReminderFlows` needs the ``make_world`` fixture."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from carebook import Actor
from carebook.domain import events as ev
from carebook.domain.instants import to_epoch
from carebook.domain.reminders import DEFAULT_POLICY, ReminderPolicy, scan_windows
from carebook.errors import ForbiddenError, NotFoundError
from carebook.scheduling import CancelAppointment, RescheduleAppointment
from carebook.testing.world import World, at

__all__ = ["ReminderFlows"]

MakeWorld = Callable[..., World]


def _due(w: World) -> list[ev.ReminderDue]:
    return [e for e in w.cb.events.pending(1000) if isinstance(e, ev.ReminderDue)]


class ReminderFlows:
    """``cb.reminders`` on the storage under test (the world's clock is T0, the day
    before the appointments at ``at(...)``)."""

    def test_each_reminder_goes_once_and_reaches_the_patient(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(14), actor=w.staff)
        system = Actor.system()
        assert w.cb.reminders.send_due(system) == 0  # 30 hours ahead: nothing yet
        w.clock.set(at(14).subtract(hours=24))
        assert w.cb.reminders.send_due(system) == 1
        assert w.cb.reminders.send_due(system) == 0
        w.clock.set(at(12))
        assert w.cb.reminders.send_due(system) == 1
        assert [(e.appointment_id, e.offset_minutes) for e in _due(w)] == [
            (booked.id, 1440),
            (booked.id, 120),
        ]
        event = _due(w)[0]
        assert set(attrs.asdict(event)) == {
            "event_id", "occurred_at", "correlation_id", "organisation_id", "appointment_id",
            "location_id", "practitioner_id", "patient_id", "start", "offset_minutes",
        }  # fmt: skip
        w.cb.events.dispatch()
        reminders = [n for n in w.sent if n.kind == "appointment_reminder"]
        assert [(n.recipient_role, n.recipient_id) for n in reminders] == [
            ("patient", w.alice.id),
            ("patient", w.alice.id),
        ]

    def test_a_cancelled_visit_gets_no_reminder(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(14), actor=w.staff)
        w.cb.lifecycle.cancel(w.staff, CancelAppointment(appointment_id=booked.id))
        w.clock.set(at(13))
        assert w.cb.reminders.send_due(Actor.system()) == 0
        assert _due(w) == []

    def test_a_late_scan_sends_only_the_nearest_and_nothing_after_the_start(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world(dispatch="manual")
        w.book(w.alice, at(14), actor=w.staff)
        w.book(w.bob, at(10), actor=w.staff)
        w.clock.set(at(13))  # the worker was down since the day before
        assert w.cb.reminders.send_due(Actor.system()) == 1  # Bob's visit has started
        assert [(e.patient_id, e.offset_minutes) for e in _due(w)] == [(w.alice.id, 120)]
        assert w.cb.reminders.send_due(Actor.system()) == 0

    def test_a_moved_visit_is_reminded_for_its_new_time(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(14), actor=w.staff)
        w.clock.set(at(11))
        assert w.cb.reminders.send_due(Actor.system()) == 1  # the 24 h one, late
        w.cb.lifecycle.reschedule(
            w.staff, RescheduleAppointment(appointment_id=booked.id, start=at(16))
        )
        w.clock.set(at(12))  # the old time's 2 h one is never sent; the new time's 24 h one is
        assert w.cb.reminders.send_due(Actor.system()) == 1
        w.clock.set(at(14))
        assert w.cb.reminders.send_due(Actor.system()) == 1
        assert [(e.start, e.offset_minutes) for e in _due(w)] == [
            (at(14), 1440),
            (at(16), 1440),
            (at(16), 120),
        ]

    def test_policies_are_per_organisation_and_for_administrators(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world(dispatch="manual")
        admin = Actor.admin()
        assert w.cb.reminders.policy(admin, w.org.id) == DEFAULT_POLICY
        only_an_hour = ReminderPolicy(offsets=(60,))
        w.cb.reminders.set_policy(admin, w.org.id, only_an_hour)
        assert w.cb.reminders.policy(admin, w.org.id) == only_an_hour
        with pytest.raises(ForbiddenError):
            w.cb.reminders.set_policy(w.staff, w.org.id, DEFAULT_POLICY)
        with pytest.raises(NotFoundError):
            w.cb.reminders.set_policy(admin, w.loc.id, DEFAULT_POLICY)  # type: ignore[arg-type]
        assert w.cb.reminders.policy(admin, w.org.id) == only_an_hour
        w.book(w.alice, at(14), actor=w.staff)
        w.clock.set(at(12))
        assert w.cb.reminders.send_due(Actor.system()) == 0  # no 2 h reminder any more
        w.clock.set(at(13))
        assert w.cb.reminders.send_due(Actor.system()) == 1

    def test_an_offset_of_no_policy_of_its_own_is_settled_once(self, make_world: MakeWorld) -> None:
        """The scan looks for every offset of any policy (and the default's); an
        organisation whose own policy lacks one settles it in the ledger, so the next
        scans do not read that appointment again for it."""
        w = make_world(dispatch="manual")
        system = Actor.system()
        w.cb.reminders.set_policy(system, w.org.id, ReminderPolicy(offsets=(60,)))
        booked = w.book(w.alice, at(14), actor=w.staff)
        start = to_epoch(booked.start)
        w.clock.set(at(14).subtract(hours=23))
        assert w.cb.reminders.send_due(system) == 0
        with w.cb.storage.unit_of_work() as uow:
            assert uow.reminders.sent([booked.id]) == {(booked.id, 1440, start)}
            windows = scan_windows(
                [DEFAULT_POLICY, *uow.reminders.policies()], to_epoch(w.clock.now())
            )
            assert (
                uow.reminders.upcoming(to_epoch(w.clock.now()), start, 10, unsettled=windows) == []
            )
        w.clock.set(at(14).subtract(minutes=59))
        assert w.cb.reminders.send_due(system) == 1
        assert [e.offset_minutes for e in _due(w)] == [60]
