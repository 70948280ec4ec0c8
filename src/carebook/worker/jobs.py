"""The worker's jobs: what each does, how often, and what happens when it is late.

The names are those of :class:`carebook.services.background.PendingWork` (what
``cb.events.run_pending()`` runs), so a host with its own scheduler and the worker do the
same work. Periods are defaults; ``[worker.periods]`` or ``CAREBOOK_PERIOD_<JOB>``
change them.
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["JOBS", "Job", "job_names"]


@frozen(kw_only=True)
class Job:
    """One piece of background work."""

    name: str
    period: float
    """Seconds between two runs (the default)."""
    does: str
    if_late: str
    """What a patient or the clinic notices when the job runs late."""


JOBS: tuple[Job, ...] = (
    Job(
        name="expire_holds",
        period=30.0,
        does="cancels holds whose time ran out (reason hold_expired)",
        if_late=(
            "nothing a patient sees: an expired hold stops blocking its slot at its expiry, "
            "whether or not it is cancelled yet; only the cancellation event comes later"
        ),
    ),
    Job(
        name="resume_sagas",
        period=60.0,
        does="moves unfinished booking sagas on: payment timeouts, retries, compensation",
        if_late=(
            "a booking whose payment provider went quiet stays pending longer, and its "
            "hold may expire first (the saga then compensates)"
        ),
    ),
    Job(
        name="sweep_walkins",
        period=60.0,
        does="records walk-ins who left the queue unseen as no-shows, per organisation",
        if_late="the live wait estimate counts patients who already left",
    ),
    Job(
        name="send_reminders",
        period=60.0,
        does="sends the reminders that are due (docs/reminders.md), each once",
        if_late=(
            "a reminder goes out later, but still before the visit; once the visit has "
            "started it is not sent"
        ),
    ),
    Job(
        name="dispatch",
        period=1.0,
        does="delivers committed events to the publisher, subscribers and notifiers",
        if_late="notices and host events arrive later; nothing is lost",
    ),
)
"""Every job, in the order one round runs them (dispatch last, so that what the others
raised goes out in the same round)."""


def job_names() -> tuple[str, ...]:
    return tuple(job.name for job in JOBS)
