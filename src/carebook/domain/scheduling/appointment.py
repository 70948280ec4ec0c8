"""The Appointment aggregate and its lifecycle (FHIR R4 Appointment.status).

Transitions are an explicit table; a transition not in it raises
InvalidTransitionError and returns nothing, so the stored appointment is unchanged.
Methods return ``(new_appointment, events)``; the aggregate itself is immutable.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
from attrs import frozen

from carebook.domain import events as ev
from carebook.domain.actors import ActorKind
from carebook.domain.ids import (
    AppointmentId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.busy import expiry_epoch, hold_blocks, hold_expiry, now_epoch
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.domain.validators import to_tuple
from carebook.errors import InvalidTransitionError, RuleRejectedError

__all__ = [
    "OCCUPYING",
    "TRANSITIONS",
    "Action",
    "Appointment",
    "AppointmentStatus",
    "Move",
    "SessionStatus",
    "TreatmentSession",
]


class AppointmentStatus(enum.StrEnum):
    """FHIR R4 Appointment.status values carebook uses."""

    PROPOSED = "proposed"
    PENDING = "pending"
    BOOKED = "booked"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    NOSHOW = "noshow"
    ENTERED_IN_ERROR = "entered-in-error"


class Action(enum.StrEnum):
    REQUEST = "request"
    BOOK = "book"
    CONFIRM = "confirm"
    CHECK_IN = "check in"
    START_SESSION = "start a session for"
    COMPLETE = "complete"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    EXPIRE = "expire"
    NO_SHOW = "mark as no-show"
    ENTER_IN_ERROR = "mark entered-in-error"


S = AppointmentStatus
TRANSITIONS: dict[tuple[AppointmentStatus, Action], AppointmentStatus] = {
    (S.PROPOSED, Action.REQUEST): S.PENDING,
    (S.PROPOSED, Action.BOOK): S.BOOKED,
    (S.PROPOSED, Action.CANCEL): S.CANCELLED,
    (S.PROPOSED, Action.EXPIRE): S.CANCELLED,
    (S.PENDING, Action.CONFIRM): S.BOOKED,
    (S.PENDING, Action.CANCEL): S.CANCELLED,
    (S.PENDING, Action.RESCHEDULE): S.PENDING,
    (S.BOOKED, Action.CHECK_IN): S.ARRIVED,
    (S.BOOKED, Action.RESCHEDULE): S.BOOKED,
    (S.BOOKED, Action.CANCEL): S.CANCELLED,
    (S.BOOKED, Action.NO_SHOW): S.NOSHOW,
    (S.ARRIVED, Action.START_SESSION): S.ARRIVED,
    (S.ARRIVED, Action.COMPLETE): S.FULFILLED,
    (S.ARRIVED, Action.CANCEL): S.CANCELLED,
    **{
        (status, Action.ENTER_IN_ERROR): S.ENTERED_IN_ERROR
        for status in S
        if status is not S.ENTERED_IN_ERROR
    },
}
"""Every allowed (status, action) pair and the status it leads to."""

OCCUPYING: frozenset[AppointmentStatus] = frozenset(
    {S.PROPOSED, S.PENDING, S.BOOKED, S.ARRIVED, S.FULFILLED}
)
"""Statuses whose appointment occupies its time (a proposed hold only until it expires)."""


class SessionStatus(enum.StrEnum):
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"


@frozen(kw_only=True)
class TreatmentSession:
    """The clinical session of an arrived appointment."""

    status: SessionStatus
    started_at: pendulum.DateTime
    completed_at: pendulum.DateTime | None = None


@frozen(kw_only=True)
class Move:
    """One reschedule, kept with the appointment it moved: the idempotency key it was
    asked with (scoped to the appointment) and the request's fingerprint, from where to
    where, when, by which kind of actor, and the reason staff gave to override the
    policy (free text: kept out of ``repr``, events and logs)."""

    idempotency_key: str | None
    fingerprint: str
    from_start: pendulum.DateTime
    to_start: pendulum.DateTime
    at: pendulum.DateTime
    by: str
    override_reason: str | None = attrs.field(default=None, repr=False)


@frozen(kw_only=True)
class Appointment:
    """One patient with one practitioner (and resources) for one or more services.

    ``start``/``end`` bound the service time; ``occupied_start``/``occupied_end`` add the
    buffers and are what may never overlap another active appointment.
    ``hold_expires_at`` is a whole second: a finer one is rounded up (see
    :func:`~carebook.domain.scheduling.busy.hold_expiry`).
    """

    id: AppointmentId
    organisation_id: OrganisationId
    location_id: LocationId
    practitioner_id: PractitionerId
    patient_id: PatientId
    service_ids: tuple[ServiceId, ...] = attrs.field(converter=to_tuple)
    resource_ids: tuple[ResourceId, ...] = attrs.field(converter=to_tuple)
    start: pendulum.DateTime
    end: pendulum.DateTime
    occupied_start: pendulum.DateTime
    occupied_end: pendulum.DateTime
    status: AppointmentStatus
    created_at: pendulum.DateTime
    hold_expires_at: pendulum.DateTime | None = attrs.field(default=None, converter=hold_expiry)
    session: TreatmentSession | None = None
    cancel_reason: str | None = None
    idempotency_key: str | None = None
    request_fingerprint: str | None = None
    moves: tuple[Move, ...] = attrs.field(default=(), converter=to_tuple)
    version: int = 1

    # -- queries -------------------------------------------------------------------
    def occupies(self, now: pendulum.DateTime) -> bool:
        """True if this appointment blocks its time at ``now``."""
        if self.status not in OCCUPYING:
            return False
        if self.status is S.PROPOSED:
            expires = self.hold_expires_at
            return expires is not None and hold_blocks(expiry_epoch(expires), now_epoch(now))
        return True

    @property
    def occupied_epochs(self) -> tuple[int, int]:
        return to_epoch(self.occupied_start), to_epoch(self.occupied_end)

    # -- transitions -----------------------------------------------------------------
    def _move(self, action: Action, **changes: Any) -> Appointment:
        target = TRANSITIONS.get((self.status, action))
        if target is None:
            raise InvalidTransitionError("appointment", self.status.value, action.value)
        return attrs.evolve(self, status=target, version=self.version + 1, **changes)

    def _event(self, cls: Callable[..., ev.Event], stamp: ev.EventStamp, **extra: Any) -> ev.Event:
        return cls(
            **stamp.meta(),
            organisation_id=self.organisation_id,
            appointment_id=self.id,
            location_id=self.location_id,
            practitioner_id=self.practitioner_id,
            patient_id=self.patient_id,
            **extra,
        )

    def booked_event(self, stamp: ev.EventStamp) -> ev.Event:
        """The event announcing this appointment as it stands now (held or booked)."""
        if self.status is S.PROPOSED:
            assert self.hold_expires_at is not None
            return self._event(
                ev.AppointmentHeld,
                stamp,
                start=self.start,
                end=self.end,
                expires_at=self.hold_expires_at,
            )
        return self._event(
            ev.AppointmentBooked, stamp, start=self.start, end=self.end, status=self.status.value
        )

    def finalise_hold(
        self, stamp: ev.EventStamp, *, confirmed: bool
    ) -> tuple[Appointment, list[ev.Event]]:
        """Turn a live hold into a pending (or, when ``confirmed``, booked) appointment."""
        if self.status is S.PROPOSED and not self.occupies(stamp.now):
            raise RuleRejectedError("hold_expired", f"hold {self.id} has expired")
        new = self._move(Action.BOOK if confirmed else Action.REQUEST, hold_expires_at=None)
        return new, [new.booked_event(stamp)]

    def confirm(self, stamp: ev.EventStamp) -> tuple[Appointment, list[ev.Event]]:
        new = self._move(Action.CONFIRM)
        return new, [new._event(ev.AppointmentConfirmed, stamp)]

    def check_in(self, stamp: ev.EventStamp) -> tuple[Appointment, list[ev.Event]]:
        if stamp.now >= self.end:
            raise RuleRejectedError("too_late", f"appointment {self.id} has already ended")
        new = self._move(Action.CHECK_IN)
        return new, [new._event(ev.PatientArrived, stamp)]

    def start_session(
        self, stamp: ev.EventStamp, policy: BookingPolicy
    ) -> tuple[Appointment, list[ev.Event]]:
        """Start treatment: only for an arrived patient, within the policy's window."""
        if self.session is not None:
            raise InvalidTransitionError("appointment", "in session", Action.START_SESSION.value)
        target = TRANSITIONS.get((self.status, Action.START_SESSION))
        if target is None:
            raise InvalidTransitionError(
                "appointment", self.status.value, Action.START_SESSION.value
            )
        earliest = self.start.subtract(minutes=policy.session_window_before)
        latest = self.start.add(minutes=policy.session_window_after)
        if not earliest <= stamp.now <= latest:
            raise RuleRejectedError(
                "outside_session_window",
                f"a session may start from {policy.session_window_before} min before to "
                f"{policy.session_window_after} min after the appointment start",
            )
        session = TreatmentSession(status=SessionStatus.IN_PROGRESS, started_at=stamp.now)
        new = self._move(Action.START_SESSION, session=session)
        return new, [new._event(ev.SessionStarted, stamp)]

    def complete_session(self, stamp: ev.EventStamp) -> tuple[Appointment, list[ev.Event]]:
        if self.session is None or self.session.status is not SessionStatus.IN_PROGRESS:
            raise InvalidTransitionError("appointment", "without a running session", "complete")
        session = attrs.evolve(self.session, status=SessionStatus.COMPLETED, completed_at=stamp.now)
        new = self._move(Action.COMPLETE, session=session)
        return new, [new._event(ev.SessionCompleted, stamp)]

    def check_cancel_notice(
        self, now: pendulum.DateTime, policy: BookingPolicy, *, by: ActorKind
    ) -> None:
        """A patient may cancel until ``cancel_notice`` minutes before the start, else
        RuleRejectedError ``cancel_notice``; staff, administrators and the system may
        always cancel."""
        if by is ActorKind.PATIENT and now > self.start.subtract(minutes=policy.cancel_notice):
            raise RuleRejectedError(
                "cancel_notice",
                f"patients may cancel up to {policy.cancel_notice} minutes before the start",
            )

    def cancel(
        self, stamp: ev.EventStamp, *, reason: str, by: str, expire: bool = False
    ) -> tuple[Appointment, list[ev.Event]]:
        if self.session is not None:
            raise InvalidTransitionError("appointment", "in session", Action.CANCEL.value)
        new = self._move(Action.EXPIRE if expire else Action.CANCEL, cancel_reason=reason)
        return new, [new._event(ev.AppointmentCancelled, stamp, reason=reason, by=by)]

    def check_reschedule(
        self, now: pendulum.DateTime, policy: BookingPolicy, *, overridden: bool
    ) -> None:
        """May this appointment be moved at ``now``? Only a ``pending`` or ``booked`` one
        (InvalidTransitionError otherwise); and, unless staff override the policy, not
        later than ``reschedule_notice`` minutes before its current start
        (``reschedule_notice``) nor more than ``max_reschedules`` times
        (``reschedule_limit``)."""
        if (self.status, Action.RESCHEDULE) not in TRANSITIONS:
            raise InvalidTransitionError("appointment", self.status.value, Action.RESCHEDULE.value)
        if overridden:
            return
        if now > self.start.subtract(minutes=policy.reschedule_notice):
            raise RuleRejectedError(
                "reschedule_notice",
                f"appointments may be moved up to {policy.reschedule_notice} minutes "
                "before their start",
            )
        if len(self.moves) >= policy.max_reschedules:
            raise RuleRejectedError(
                "reschedule_limit",
                f"an appointment may be moved at most {policy.max_reschedules} times",
            )

    def rescheduled(
        self, target: Appointment, stamp: ev.EventStamp, move: Move
    ) -> tuple[Appointment, list[ev.Event]]:
        """This appointment at ``target``'s time, practitioner, location and resources
        (``target`` is what the reservation decision returned for the new slot), with
        ``move`` recorded; the id, status, services, price and payment stay. Call
        :meth:`check_reschedule` first."""
        self._move(Action.RESCHEDULE)  # the status check, once more
        new = attrs.evolve(
            self,
            location_id=target.location_id,
            practitioner_id=target.practitioner_id,
            resource_ids=target.resource_ids,
            start=target.start,
            end=target.end,
            occupied_start=target.occupied_start,
            occupied_end=target.occupied_end,
            moves=(*self.moves, move),
            version=self.version + 1,
        )
        event = new._event(
            ev.AppointmentRescheduled,
            stamp,
            previous_start=self.start,
            previous_end=self.end,
            previous_location_id=self.location_id,
            previous_practitioner_id=self.practitioner_id,
            start=new.start,
            end=new.end,
            reschedules=len(new.moves),
            overridden=move.override_reason is not None,
        )
        return new, [event]

    def no_show(
        self, stamp: ev.EventStamp, policy: BookingPolicy
    ) -> tuple[Appointment, list[ev.Event]]:
        if stamp.now < self.start.add(minutes=policy.no_show_grace):
            raise RuleRejectedError(
                "too_early_for_no_show",
                f"a no-show may be recorded {policy.no_show_grace} min after the start",
            )
        new = self._move(Action.NO_SHOW)
        return new, [new._event(ev.AppointmentNoShow, stamp)]

    def enter_in_error(self, stamp: ev.EventStamp) -> tuple[Appointment, list[ev.Event]]:
        new = self._move(Action.ENTER_IN_ERROR)
        return new, [new._event(ev.AppointmentEnteredInError, stamp)]
