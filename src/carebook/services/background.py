"""Every piece of background work, run once: what ``cb.events.run_pending()`` does.

The jobs are handed in by the composition root (this kernel module knows no feature):
hold expiry, saga resume, the walk-in sweep of one organisation, reminders, and outbox
dispatch.
Each job runs on its own; one that raises is logged (its exception, the message scrubbed
of contact data) and counted in :attr:`PendingReport.failed`, and the others still run;
one that meets another process's change of the same item (a ConflictError) is counted in
:attr:`PendingReport.contended`. Dispatch runs last, so the events the other jobs raised
are delivered by the same call.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Mapping, Sized

import attrs

from carebook.domain.ids import OrganisationId
from carebook.domain.redaction import describe_failure
from carebook.errors import ConflictError, ValidationError
from carebook.ports import Storage

__all__ = ["JOB_NAMES", "PendingReport", "PendingWork"]

JOB_NAMES = ("expire_holds", "resume_sagas", "sweep_walkins", "send_reminders", "dispatch")
"""The background jobs, in the order one run takes them."""

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
    reminders_sent: int = 0
    """Reminders that became due and were sent (to the outbox)."""
    events_dispatched: int = 0
    """Events that left the outbox (every consumer delivered or dead)."""
    failed: tuple[str, ...] = ()
    """The jobs that raised (``"expire_holds"``, ``"sweep:<organisation id>"``...)."""
    contended: tuple[str, ...] = ()
    """The jobs that met another process's change of the same item (a ConflictError:
    another worker or host process did it first) and left it to them; not failures."""


class PendingWork:
    """The background jobs of one Carebook, run in a fixed order."""

    def __init__(
        self,
        storage: Storage,
        *,
        expire_holds: Callable[[], Sized],
        resume_sagas: Callable[[], Mapping[str, int]],
        sweep: Callable[[OrganisationId], Collection[object]],
        send_reminders: Callable[[], int],
        dispatch: Callable[[], int],
    ) -> None:
        self._storage = storage
        self._expire_holds = expire_holds
        self._resume_sagas = resume_sagas
        self._sweep = sweep
        self._send_reminders = send_reminders
        self._dispatch = dispatch

    def run(self, jobs: Collection[str] | None = None) -> PendingReport:
        """Run each job once (only those named in ``jobs``, if given: any of
        :data:`JOB_NAMES`); see the module docstring."""
        wanted = set(JOB_NAMES if jobs is None else jobs)
        unknown = sorted(wanted - set(JOB_NAMES))
        if unknown:
            raise ValidationError(
                f"unknown background jobs {unknown}; the jobs are {', '.join(JOB_NAMES)}"
            )
        failed: list[str] = []
        contended: list[str] = []
        run = functools.partial(self._job, failed=failed, contended=contended)
        expired = resumed = swept = no_shows = reminded = dispatched = 0
        if "expire_holds" in wanted:
            expired = run("expire_holds", lambda: len(self._expire_holds()))
        if "resume_sagas" in wanted:
            resumed = run("resume_sagas", lambda: sum(self._resume_sagas().values()))
        if "sweep_walkins" in wanted:
            for organisation_id in self._organisations(failed):
                name = f"sweep:{organisation_id}"
                found = run(name, functools.partial(self._swept, organisation_id))
                if name not in failed and name not in contended:
                    swept += 1
                    no_shows += found
        if "send_reminders" in wanted:
            reminded = run("send_reminders", self._send_reminders)
        if "dispatch" in wanted:
            dispatched = run("dispatch", self._dispatch)
        return PendingReport(
            holds_expired=expired,
            sagas_resumed=resumed,
            organisations_swept=swept,
            walkin_no_shows=no_shows,
            reminders_sent=reminded,
            events_dispatched=dispatched,
            failed=tuple(failed),
            contended=tuple(contended),
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

    def _job(
        self, name: str, job: Callable[[], int], *, failed: list[str], contended: list[str]
    ) -> int:
        try:
            return job()
        except ConflictError as exc:  # another process changed the same item first
            contended.append(name)
            log.info(
                "background job %s met a concurrent change (%s); left to the other process",
                name,
                exc.code,
                extra={"job": name, "error_code": exc.code},
            )
            return 0
        except Exception as exc:  # one job failing never stops the others
            self._failed(name, exc, failed)
            return 0

    @staticmethod
    def _failed(name: str, exc: Exception, failed: list[str]) -> None:
        failed.append(name)
        error = describe_failure(type(exc).__name__, str(exc))
        log.warning(
            "background job %s failed: %s",
            name,
            error,
            extra={"job": name, "error_type": type(exc).__name__, "error": error},
        )
