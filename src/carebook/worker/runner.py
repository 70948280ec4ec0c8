"""The worker's loop: run each job when its period is up, stop cleanly when asked.

A round runs the jobs that are due through ``cb.events.run_pending(jobs=...)`` (the same
code a host's own scheduler calls), so a job that fails is logged and the others still
run, and a job that met another worker's change is counted as contended and left to it.
:meth:`Worker.stop` (the CLI calls it on SIGTERM and SIGINT) lets the current round
finish and ends the loop; nothing is cut off in the middle of a transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pluggy

from carebook.app import Carebook
from carebook.bootstrap import CarebookConfig, bootstrap
from carebook.services.background import PendingReport
from carebook.worker.config import WorkerConfig
from carebook.worker.jobs import JOBS
from carebook.worker.locking import SqliteWorkerLock, sqlite_path

__all__ = ["Worker"]

log = logging.getLogger("carebook.worker")


def _counts(report: PendingReport) -> dict[str, int]:
    return {
        "holds_expired": report.holds_expired,
        "sagas_resumed": report.sagas_resumed,
        "organisations_swept": report.organisations_swept,
        "walkin_no_shows": report.walkin_no_shows,
        "reminders_sent": report.reminders_sent,
        "events_dispatched": report.events_dispatched,
    }


class Worker:
    """One worker process's loop over one database."""

    def __init__(
        self,
        config: WorkerConfig,
        *,
        plugin_manager: pluggy.PluginManager | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._pm = plugin_manager
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._lock: SqliteWorkerLock | None = None
        self.rounds = 0

    def open(self) -> Carebook:
        """Take the SQLite one-worker lock (if SQLite) and build the Carebook; raises
        AnotherWorkerError, ConfigurationError or StorageError (say, a schema that is not
        current) before any work starts."""
        database = sqlite_path(self.config.database_url)
        if database is not None:
            self._lock = SqliteWorkerLock(database)
            self._lock.acquire()
        try:
            return bootstrap(
                CarebookConfig(
                    storage=self.config.storage,
                    storage_options={"url": self.config.database_url},
                    clock=self.config.clock,
                    clock_options=self.config.clock_options,
                    notifiers=self.config.notifiers,
                    notifier_options=self.config.notifier_options,
                    channels=self.config.channels,
                    channel_options=self.config.channel_options,
                    contacts=self.config.contacts,
                    contacts_options=self.config.contacts_options,
                    templates=self.config.templates,
                    dispatch="manual",
                    dispatch_batch=self.config.batch_size,
                    delivery_options={"lease_seconds": self.config.lease_seconds},
                    name=self.config.name,
                ),
                plugin_manager=self._pm,
            )
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def stop(self) -> None:
        """Finish the current round, then leave :meth:`run` (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, cb: Carebook, *, once: bool = False) -> None:
        """Run rounds until :meth:`stop` (or one round, with ``once``)."""
        extra = {"worker": self.config.name}
        log.info(
            "worker %s started: jobs %s",
            self.config.name,
            ", ".join(f"{j.name} every {self.config.period(j.name):g} s" for j in JOBS),
            extra=extra,
        )
        next_due = {job.name: 0.0 for job in JOBS}
        while not self._stop.is_set():
            now = self._monotonic()
            due = [job.name for job in JOBS if next_due[job.name] <= now]
            if due:
                self._round(cb, due)
                for name in due:
                    next_due[name] = now + self.config.period(name)
            if once:
                break
            wait = min(next_due.values()) - self._monotonic()
            self._stop.wait(max(0.0, min(wait, self.config.poll_interval)))
        log.info("worker %s stopped after %d rounds", self.config.name, self.rounds, extra=extra)

    def _round(self, cb: Carebook, due: list[str]) -> None:
        report = cb.events.run_pending(jobs=due)
        self.rounds += 1
        counts = _counts(report)
        extra = {
            "worker": self.config.name,
            "jobs": due,
            "failed": list(report.failed),
            "contended": list(report.contended),
            **counts,
        }
        busy = {k: v for k, v in counts.items() if v}
        if report.failed:
            log.warning("round %s: failed %s", ",".join(due), list(report.failed), extra=extra)
        elif busy or report.contended:
            shown = " ".join(f"{k}={v}" for k, v in busy.items())
            log.info("round %s: %s", ",".join(due), shown or "contended", extra=extra)
        else:
            log.debug("round %s: nothing due", ",".join(due), extra=extra)
