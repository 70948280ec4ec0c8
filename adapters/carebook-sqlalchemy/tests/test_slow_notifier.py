"""A slow notifier on SQLite never blocks another writer: notifications are sent after
the commit, outside every transaction, even with inline dispatch (the default).

One Carebook books (and, inline, notifies through a notifier that waits until the test
lets it go); a second Carebook on the same database file, as another process of the host
app would, registers a patient meanwhile. The register must complete while the notifier
is still waiting. Events, not wall-clock thresholds, order the two.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from carebook import Actor
from carebook.builtin.notifiers import RecordingNotifier
from carebook.domain.notifications import Notification
from carebook.testing.world import World, at, make_world
from carebook_sqlalchemy import SqlStorage

GIVE_UP = 60.0
"""Seconds a blocked thread waits before the test fails instead of hanging."""


class SlowNotifier(RecordingNotifier):
    """Signals ``sending`` on entry, then waits for ``release`` before it records."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = threading.Event()
        self.release = threading.Event()

    def send(self, notification: Notification) -> None:
        self.sending.set()
        assert self.release.wait(GIVE_UP), "the test never released the notifier"
        super().send(notification)


@pytest.fixture
def slow() -> Iterator[SlowNotifier]:
    notifier = SlowNotifier()
    yield notifier
    notifier.release.set()


@pytest.mark.parametrize("dispatch", ["inline", "manual"])
def test_a_slow_notifier_does_not_block_another_processes_register_patient(
    sqlite_url: str, slow: SlowNotifier, dispatch: str
) -> None:
    w: World = make_world(
        storage=SqlStorage(sqlite_url, migrate=True), dispatch=dispatch, notifiers={"slow": slow}
    )
    other = w.another(SqlStorage(sqlite_url))
    errors: list[BaseException] = []

    def book_and_notify() -> None:
        try:
            w.book(w.alice, at(10))
            if dispatch == "manual":
                w.cb.events.dispatch()
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    booking = threading.Thread(target=book_and_notify)
    booking.start()
    try:
        assert slow.sending.wait(GIVE_UP), "the notifier was never called"

        patient = other.admin.register_patient(Actor.admin(), organisation_id=w.org.id)

        assert not slow.release.is_set() and slow.sent == [], "the notifier is still sending"
        assert patient.organisation_id == w.org.id
        (booked,) = other.queries.patient_appointments(Actor.admin(), w.alice.id)
        assert booked.start == at(10), "the booking committed before its notification"
    finally:
        slow.release.set()
        booking.join(GIVE_UP)
        other.close()
        w.cb.close()
    assert errors == []
    assert [n.kind for n in slow.sent] == ["appointment_booked"]
