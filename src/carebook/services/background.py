"""Every piece of background work, run once: what ``cb.events.run_pending()`` does.

The jobs are handed in by the composition root (this kernel module knows no feature):
hold expiry, saga resume, the walk-in sweep of one organisation, and outbox dispatch.
Each job runs on its own; one that raises is logged (ids and the exception class only)
and counted in :attr:`PendingReport.failed`, and the others still run. Dispatch runs
last, so the events the other jobs raised are delivered by the same call.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Mapping, Sized

import attrs

from carebook.domain.ids import OrganisationId
from carebook.ports import Storage

__all__ = ["PendingReport", "PendingWork"]

log = logging.getLogger("carebook.background")

_PAGE = 100


@attrs.frozen(kw_only=True)
class PendingReport:
    """What one :meth:`PendingWork.run` did, in counts."""

    holds_expired: int = 0
    """Holds cancelled because their time ran out."""
    sagas_resumed: int = 0
    """Unfinished sagas looked at (whatever they ended in)."""
    organisations_swept: int = 0
    """Organisations whose walk-in queues were swept."""
    walkin_no_shows: int = 0
    """Walk-ins recorded as no-shows by the sweeps."""
    events_dispatched: int = 0
    """Events that left the outbox (every consumer delivered or dead)."""
    failed: tuple[str, ...] = ()
    """The jobs that raised (``"expire_holds"``, ``"sweep:<organisation id>"``...)."""


class PendingWork:
    """The background jobs of one Carebook, run in a fixed order."""

    def __init__(
        self,
        storage: Storage,
        *,
        expire_holds: Callable[[], Sized],
        resume_sagas: Callable[[], Mapping[str, int]],
        sweep: Callable[[OrganisationId], Collection[object]],
        dispatch: Callable[[], int],
    ) -> None:
        self._storage = storage
        self._expire_holds = expire_holds
        self._resume_sagas = resume_sagas
        self._sweep = sweep
        self._dispatch = dispatch

    def run(self) -> PendingReport:
        """Run every job once; see the module docstring."""
        failed: list[str] = []
        expired = self._job("expire_holds", lambda: len(self._expire_holds()), failed)
        resumed = self._job("resume_sagas", lambda: sum(self._resume_sagas().values()), failed)
        swept = no_shows = 0
        for organisation_id in self._organisations(failed):
            name = f"sweep:{organisation_id}"
            found = self._job(name, functools.partial(self._swept, organisation_id), failed)
            if name not in failed:
                swept += 1
                no_shows += found
        dispatched = self._job("dispatch", self._dispatch, failed)
        return PendingReport(
            holds_expired=expired,
            sagas_resumed=resumed,
            organisations_swept=swept,
            walkin_no_shows=no_shows,
            events_dispatched=dispatched,
            failed=tuple(failed),
        )

    def _swept(self, organisation_id: OrganisationId) -> int:
        return len(self._sweep(organisation_id))

    def _organisations(self, failed: list[str]) -> list[OrganisationId]:
        found: list[OrganisationId] = []
        after: OrganisationId | None = None
        try:
            while True:
                with self._storage.unit_of_work() as uow:
                    page = uow.calendar.organisation_ids(after, _PAGE)
                found += page
                if len(page) < _PAGE:
                    return found
                after = page[-1]
        except Exception as exc:
            self._failed("list_organisations", exc, failed)
            return found

    def _job(self, name: str, job: Callable[[], int], failed: list[str]) -> int:
        try:
            return job()
        except Exception as exc:  # one job failing never stops the others
            self._failed(name, exc, failed)
            return 0

    @staticmethod
    def _failed(name: str, exc: Exception, failed: list[str]) -> None:
        failed.append(name)
        log.warning(
            "background job %s failed: %s",
            name,
            type(exc).__name__,
            extra={"job": name, "error_type": type(exc).__name__},
        )
