"""The saga storage port: :class:`SagaRepository` (booking sagas and their event
timelines), reached through :attr:`carebook.ports.storage.UnitOfWork.sagas`.

Every implementation runs :class:`carebook.testing.contracts.SagaStorageContract`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pendulum

from carebook.domain.events import Event
from carebook.domain.ids import SagaId
from carebook.domain.payments.saga import BookingSaga

__all__ = ["SagaRepository"]


class SagaRepository(Protocol):
    """Booking sagas and each saga's event timeline."""

    def get(self, saga_id: SagaId) -> BookingSaga | None: ...
    def add(self, saga: BookingSaga) -> None:
        """Insert a new saga; ConflictError if its id or idempotency key exists (or
        TransientStorageError for a key a concurrent writer just took: a retry finds it)."""
        ...

    def update(self, saga: BookingSaga) -> None:
        """Replace version ``saga.version - 1``; ConflictError if the stored one differs."""
        ...

    def by_idempotency_key(self, key: str) -> BookingSaga | None: ...
    def by_intent(self, intent_id: str) -> BookingSaga | None: ...
    def unfinished(
        self, limit: int = 100, after: tuple[pendulum.DateTime, SagaId] | None = None
    ) -> list[BookingSaga]:
        """Sagas not yet confirmed or failed, oldest request first; ``after`` continues
        from the ``(requested_at, id)`` of the last one of the previous page."""
        ...

    def append_timeline(self, saga_id: SagaId, events: Sequence[Event]) -> None:
        """Keep ``events`` in the saga's timeline (written with the change, like the outbox)."""
        ...

    def timeline(self, saga_id: SagaId) -> list[Event]:
        """Every event of the saga, oldest first."""
        ...
