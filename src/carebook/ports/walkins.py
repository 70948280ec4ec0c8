"""The walk-in storage port: :class:`WalkInRepository` (settings, duty, queues, learned
visit durations), reached through :attr:`carebook.ports.storage.UnitOfWork.walkins`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

import pendulum

from carebook.domain.ids import AppointmentId, LocationId, OrganisationId, PatientId, PractitionerId
from carebook.domain.walkins.queue import DutyShift, QueueEntry, QueueEntryId, WalkInSettings
from carebook.domain.walkins.waittime import DurationStats, PublishedWait

__all__ = ["WalkInRepository"]


class WalkInRepository(Protocol):
    """Walk-in settings, who is on duty where, the queues, and learned visit durations.

    Reads that feed a wait estimate (:meth:`active_entries`, :meth:`on_duty`,
    :meth:`durations`) cost what the current queue costs, never what the history does.
    A patient has at most one active queue entry: :meth:`add_entry` (and an
    :meth:`update_entry` that would make a second one active) raise ConflictError.
    """

    def lock_queue(self, location_id: LocationId) -> None:
        """Serialise changes to this location's queue until the (write) unit of work
        ends: two check-ins at one location then never race for the same slot."""
        ...

    def get_settings(self, location_id: LocationId) -> WalkInSettings | None: ...
    def save_settings(self, settings: WalkInSettings) -> None: ...
    def settings_for(self, organisation_id: OrganisationId) -> list[WalkInSettings]:
        """Every location of the organisation that takes walk-ins."""
        ...

    def on_duty(self, location_ids: Collection[LocationId]) -> list[DutyShift]: ...
    def duty_of(self, practitioner_id: PractitionerId) -> DutyShift | None: ...
    def save_duty(self, shift: DutyShift) -> None:
        """Insert or replace the practitioner's one duty row."""
        ...

    def end_duty(self, practitioner_id: PractitionerId) -> None: ...

    def add_entry(self, entry: QueueEntry) -> None: ...
    def update_entry(self, entry: QueueEntry) -> None:
        """Replace version ``entry.version - 1``; ConflictError if the stored one differs."""
        ...

    def get_entry(self, entry_id: QueueEntryId) -> QueueEntry | None: ...
    def entry_for_appointment(self, appointment_id: AppointmentId) -> QueueEntry | None: ...
    def active_entry_for_patient(self, patient_id: PatientId) -> QueueEntry | None: ...
    def entry_by_idempotency_key(self, key: str) -> QueueEntry | None: ...
    def active_entries(self, location_ids: Collection[LocationId]) -> list[QueueEntry]:
        """Waiting and in-session entries of the locations, oldest check-in first."""
        ...

    def check_ins(
        self, location_ids: Collection[LocationId], start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[QueueEntry]:
        """Entries (any status) checked in within ``[start, end)``, oldest first."""
        ...

    def durations(self, location_ids: Collection[LocationId]) -> list[DurationStats]: ...
    def save_durations(self, stats: DurationStats) -> None: ...
    def published_waits(self, location_ids: Collection[LocationId]) -> list[PublishedWait]: ...
    def save_published_wait(self, wait: PublishedWait) -> None: ...
