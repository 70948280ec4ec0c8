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
    (S.BOOKED, Action.CHECK_IN): S.ARRIVED,
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
