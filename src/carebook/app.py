"""The Carebook object: every use case, wired to one set of adapters.

Build it with :func:`carebook.bootstrap`; two Carebooks never share state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from carebook.domain import events as ev
from carebook.domain.actors import Actor
from carebook.domain.ids import AppointmentId, OrganisationId, PatientId, SagaId
from carebook.domain.payments.saga import BookingSaga
from carebook.domain.pricing.discounts import DiscountPolicy
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.availability import AvailabilityQuery, AvailabilityResult
from carebook.domain.scheduling.rules import ReservationRule
from carebook.ports import Clock, EventPublisher, Notifier, PaymentGateway, Storage
from carebook.services.admin.calendar import CalendarAdmin
from carebook.services.admin.pricing import PricingAdmin
from carebook.services.booking import book as booking
from carebook.services.booking.commands import BookAppointment, CancelAppointment, HoldSlot
from carebook.services.context import Deps
from carebook.services.dispatch import Dispatcher
from carebook.services.lifecycle import transitions as lifecycle
from carebook.services.queries import appointments as queries
from carebook.services.saga.request import RequestBooking
from carebook.services.saga.runtime import SagaRuntime, SagaSettings
from carebook.services.saga.service import BookingSagas
from carebook.services.staffing.service import Staffing
from carebook.services.walkins import queue as walkin_queue
from carebook.services.walkins.service import WalkIns

__all__ = ["Carebook"]


@attrs.frozen
class _EventContext:
    instance_name: str


def _nothing() -> None:
    """Manual dispatch: the host app calls Carebook.dispatch()."""


class Carebook:
    """The booking core for one host application. Methods take an Actor first.

    Every command runs in one unit of work; a command that raises changed nothing.
    Each command accepts ``correlation_id=`` (one is generated otherwise); it is on
    every event and log line the command causes.
    """

    def __init__(
        self,
        *,
        storage: Storage,
        clock: Clock,
        notifiers: Mapping[str, Notifier],
        publisher: EventPublisher,
        rules: Sequence[ReservationRule],
        payment_gateway: PaymentGateway | None = None,
        hook: Any,
        inline_dispatch: bool = True,
        name: str = "carebook",
        discount_policies: Sequence[DiscountPolicy] = (),
        saga_settings: SagaSettings | None = None,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.notifiers = dict(notifiers)
        self.publisher = publisher
        self.payment_gateway = payment_gateway
        """The configured gateway, if any (the booking saga drives it)."""
        self.name = name
        context = _EventContext(name)
        self.dispatcher = Dispatcher(
            storage,
            publisher,
            self.notifiers,
            lambda event: self._on_event(hook, context, event),
        )
        self._deps = Deps(
            storage=storage,
            clock=clock,
            rules=tuple(sorted(rules, key=lambda r: r.order)),
            after_commit=self._after_commit if inline_dispatch else _nothing,
            transition_observers=(walkin_queue.sync,),
        )
        self.admin = CalendarAdmin(self._deps)
        """Calendar set-up: organisations, locations, practitioners, services..."""
        self.walkins = WalkIns(self._deps)
        """Walk-in check-ins, the queues, practitioners on duty and live wait times."""
        self.staffing = Staffing(self._deps)
        """Demand history, forecasts and staffing plans (docs/staffing.md)."""
        self.pricing = PricingAdmin(self._deps)
        """Prices, discount settings, promo codes and their audit trail (admin only)."""
        self.sagas = BookingSagas(
            SagaRuntime(
                deps=self._deps,
                gateway=payment_gateway,
                policies=tuple(discount_policies),
                settings=saga_settings or SagaSettings(),
                inline=inline_dispatch,
            )
        )
        """Booking through the payment saga: request, resume, webhooks, status, timeline."""

    def _on_event(self, hook: Any, context: _EventContext, event: ev.Event) -> None:
        hook.carebook_on_event(event=event, context=context)
        self.sagas.handle_event(event)  # a saga event nudges its saga on

    def _after_commit(self) -> None:
        self.dispatcher.run()

    @property
    def rules(self) -> tuple[ReservationRule, ...]:
        """The reservation pipeline, in order."""
        return tuple(self._deps.rules)

    # -- availability and booking -------------------------------------------------
    def search_availability(
        self, actor: Actor, organisation_id: OrganisationId, query: AvailabilityQuery
    ) -> AvailabilityResult:
        """Free slots for the query: one calendar load and one busy-time query.

        A patient's search also hides times they are already booked.
        """
        return queries.search_availability(self._deps, actor, organisation_id, query)

    def hold(
        self, actor: Actor, command: HoldSlot, *, correlation_id: str | None = None
    ) -> Appointment:
        """Hold a slot (``proposed``) for the policy's ``hold_minutes``."""
        return booking.hold(self._deps, actor, command, correlation_id)

    def book(
        self, actor: Actor, command: BookAppointment, *, correlation_id: str | None = None
    ) -> Appointment:
        """Book after every reservation rule passes; storage guarantees no overlap.

        Patients' bookings are ``pending`` when the policy requires confirmation;
        staff bookings are ``booked``. Idempotent per (patient, key).
        """
        return booking.book(self._deps, actor, command, correlation_id)

    # -- booking through the payment saga ---------------------------------------------
    def request_booking(
        self, actor: Actor, command: RequestBooking, *, correlation_id: str | None = None
    ) -> BookingSaga:
        """Hold, price (discounts, the daily quota), pay and confirm; see ``cb.sagas``."""
        return self.sagas.request(actor, command, correlation_id=correlation_id)

    def booking_status(self, actor: Actor, saga_id: SagaId) -> BookingSaga:
        """Where a booking saga stands (a patient sees only their own)."""
        return self.sagas.status(actor, saga_id)

    def booking_timeline(self, actor: Actor, saga_id: SagaId) -> list[ev.Event]:
        """Every event of a booking saga, oldest first (a patient sees only their own)."""
        return self.sagas.timeline(actor, saga_id)

    # -- lifecycle ---------------------------------------------------------------------
    def confirm(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        return lifecycle.confirm(self._deps, actor, appointment_id, correlation_id)

    def check_in(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        return lifecycle.check_in(self._deps, actor, appointment_id, correlation_id)

    def start_session(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        return lifecycle.start_session(self._deps, actor, appointment_id, correlation_id)

    def complete_session(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        return lifecycle.complete_session(self._deps, actor, appointment_id, correlation_id)

    def mark_no_show(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        return lifecycle.mark_no_show(self._deps, actor, appointment_id, correlation_id)

    def enter_in_error(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        return lifecycle.enter_in_error(self._deps, actor, appointment_id, correlation_id)

    def cancel(
        self, actor: Actor, command: CancelAppointment, *, correlation_id: str | None = None
    ) -> Appointment:
        return lifecycle.cancel(self._deps, actor, command, correlation_id)

    def expire_holds(
        self, actor: Actor, *, correlation_id: str | None = None
    ) -> list[AppointmentId]:
        return lifecycle.expire_holds(self._deps, actor, correlation_id)

    # -- queries -----------------------------------------------------------------------
    def get_appointment(self, actor: Actor, appointment_id: AppointmentId) -> Appointment:
        """One appointment; to a patient, another's appointment does not exist."""
        return queries.get_appointment(self._deps, actor, appointment_id)

    def patient_appointments(self, actor: Actor, patient_id: PatientId) -> list[Appointment]:
        """A patient's appointments, earliest first (staff: only at their locations)."""
        return queries.list_patient_appointments(self._deps, actor, patient_id)

    # -- events --------------------------------------------------------------------------
    def dispatch(self) -> int:
        """Deliver committed events now (needed with ``dispatch="manual"``)."""
        return self.dispatcher.run()

    def pending_events(self, limit: int = 100) -> list[ev.Event]:
        """Committed events not yet delivered, oldest first."""
        with self.storage.unit_of_work() as uow:
            return uow.outbox.pending(limit)

    def close(self) -> None:
        """Release the storage adapter's resources."""
        self.storage.close()
