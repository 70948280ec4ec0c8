"""The booking saga's coordinator: request a booking, drive sagas step by step, resume
after a crash, read a saga's status and timeline.

Saga state lives in storage, never in this object: every step re-reads the saga, asks
it for :meth:`~carebook.domain.payments.saga.BookingSaga.next_action`, runs that step (see
:mod:`carebook.services.saga.steps`) and records the result with its events in one
transaction. So any coordinator (this process after a restart, another process, the
event dispatcher delivering a saga event again) can pick a saga up where it stands.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.events import Event, SagaEvent
from carebook.domain.ids import SagaId
from carebook.domain.payments.saga import BookingSaga, SagaAction
from carebook.errors import ConflictError, ForbiddenError, NotFoundError
from carebook.services.boundary import checked_api
from carebook.services.saga.request import RequestBooking, request_booking
from carebook.services.saga.runtime import SagaRuntime
from carebook.services.saga.steps import STEPS
from carebook.services.saga.webhooks import WebhookOutcome, handle_webhook

__all__ = ["MAX_STEPS", "BookingSagas", "WebhookOutcome"]

MAX_STEPS = 16
"""Steps one :meth:`BookingSagas.advance` runs at most (a saga needs at most seven)."""
log = logging.getLogger("carebook.saga")


@checked_api
class BookingSagas:
    """``cb.sagas``: booking through the payment saga (see docs/booking-saga.md)."""

    def __init__(self, runtime: SagaRuntime) -> None:
        self._rt = runtime

    @property
    def runtime(self) -> SagaRuntime:
        return self._rt

    def set_crashpoint(self, crashpoint: Callable[[str], None]) -> None:
        """Tests only: called with a crash point name (``committed``, ``gateway_called``,
        ``compensating``) each time the coordinator passes one."""
        self._rt.crashpoint = crashpoint

    # -- commands --------------------------------------------------------------------------
    def request(
        self,
        actor: Actor,
        command: RequestBooking,
        *,
        correlation_id: str | None = None,
        advance: bool | None = None,
    ) -> BookingSaga:
        """Hold the slot, price it, reserve the discount quota; then pay and confirm or
        compensate, unless ``advance`` is False (default: with inline dispatch only;
        otherwise the dispatcher or :meth:`resume` drives it). Refusals raise and
        change nothing."""
        saga = request_booking(self._rt, actor, command, correlation_id)
        if (self._rt.inline if advance is None else advance) and not saga.finished:
            return self._advance(saga)
        return saga

    def advance(self, saga_id: SagaId) -> BookingSaga:
        """Run the saga's next steps until it ends or has to wait; returns it as stored.

        Idempotent: a finished saga, or one another coordinator just moved, is left as
        it is. A step interrupted by a crash runs again from its start."""
        return self._advance(self._get(saga_id))

    def _advance(self, saga: BookingSaga) -> BookingSaga:
        for _ in range(MAX_STEPS):
            action = saga.next_action(self._rt.deps.clock.now())
            if action is SagaAction.NONE:
                break
            try:
                saga, moved = STEPS[action](self._rt, saga)
            except ConflictError:  # another coordinator moved it first: look again
                saga, moved = self._get(saga.id), True
            if not moved:
                break
        self._rt.deps.after_commit()
        if not saga.finished:  # delivering its events (inline dispatch) may have moved it
            saga = self._get(saga.id)
        return saga

    def resume(self) -> collections.Counter[str]:
        """Drive every unfinished saga as far as it goes now (after a restart, and from
        time to time: a payment's deadline is only noticed when a saga is looked at).
        Returns how many ended in each status (``awaiting_payment`` and
        ``compensating``: still waiting)."""
        outcome: collections.Counter[str] = collections.Counter()
        after = None
        while True:
            with self._rt.deps.storage.unit_of_work() as uow:
                page = uow.sagas.unfinished(100, after)
            if not page:
                return outcome
            for saga in page:
                outcome[self._advance(saga).status.value] += 1
            after = (page[-1].requested_at, page[-1].id)

    def handle_event(self, event: Event) -> None:
        """An event consumer: a saga event nudges its saga on. Delivering an event
        twice, or events out of order, changes nothing: the stored saga decides."""
        if not isinstance(event, SagaEvent):
            return
        with self._rt.deps.storage.unit_of_work() as uow:
            saga = uow.sagas.get(event.saga_id)
        if saga is not None and not saga.finished:
            self._advance(saga)

    def handle_webhook(self, body: bytes, signature: str | None) -> WebhookOutcome:
        """Verify and apply a payment provider's webhook (once per provider event id),
        then move the saga on; see :mod:`carebook.services.saga.webhooks`."""
        return handle_webhook(self._rt, self.advance, body, signature)

    # -- queries -------------------------------------------------------------------------
    def status(self, actor: Actor, saga_id: SagaId) -> BookingSaga:
        """The saga as stored; to a patient, another patient's saga does not exist."""
        return self._visible(actor, saga_id)

    def timeline(self, actor: Actor, saga_id: SagaId) -> list[Event]:
        """Every event of the saga, oldest first (same visibility as :meth:`status`)."""
        self._visible(actor, saga_id)
        with self._rt.deps.storage.unit_of_work() as uow:
            return uow.sagas.timeline(saga_id)

    def _get(self, saga_id: SagaId) -> BookingSaga:
        with self._rt.deps.storage.unit_of_work() as uow:
            saga = uow.sagas.get(saga_id)
        if saga is None:
            raise NotFoundError("booking saga", saga_id)
        return saga

    def _visible(self, actor: Actor, saga_id: SagaId) -> BookingSaga:
        saga = self._get(saga_id)
        if actor.kind is ActorKind.PATIENT:
            if saga.patient_id != actor.patient_id:
                raise NotFoundError("booking saga", saga_id)
        elif not actor.works_at(saga.location_id):
            raise ForbiddenError(f"{actor.kind.value} may not see booking saga {saga_id}")
        return saga
