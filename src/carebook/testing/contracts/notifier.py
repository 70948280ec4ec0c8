"""The Notifier contract: ``send`` accepts any notification, tolerates a repeated send
(with the same ``idempotency_key``) and logs no patient data."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import ClassVar

import attrs
import pytest

from carebook.domain.ids import AppointmentId, EventId
from carebook.domain.notifications import Notification
from carebook.ports import Notifier

__all__ = ["SENTINEL", "NotifierContract", "make_notification"]

SENTINEL = "Sentinel-Patient-Zq7-do-not-log"
"""Stands in for patient data (a name, a phone number) that must never reach a log."""

KINDS = ("appointment_held", "appointment_booked", "appointment_cancelled", "reminder")
ROLES = ("patient", "practitioner", "reception")


def make_notification(
    kind: str = "appointment_booked",
    recipient_role: str = "patient",
    *,
    recipient_id: uuid.UUID | None = None,
    locale: str = "en",
) -> Notification:
    """A notification with fresh ids (and ``recipient_id`` if given)."""
    return Notification(
        kind=kind,
        recipient_role=recipient_role,
        recipient_id=recipient_id or uuid.uuid4(),
        appointment_id=AppointmentId(uuid.uuid4()),
        event_id=EventId(uuid.uuid4()),
        correlation_id=uuid.uuid4().hex,
        locale=locale,
    )


class NotifierContract:
    """Every Notifier adapter passes these tests; override the ``notifier`` fixture.

    An adapter that resolves contact details should, in its fixture, resolve every
    recipient to details containing :attr:`sentinel` (a name, an address), so that
    :meth:`test_no_log_record_carries_patient_data` can prove they stay out of logs.
    """

    sentinel: ClassVar[str] = SENTINEL

    @pytest.fixture
    def notifier(self) -> Iterator[Notifier]:
        """The notifier under test; the adapter's test class overrides this."""
        raise NotImplementedError("override the 'notifier' fixture in your test class")

    def test_notifier_satisfies_the_notifier_protocol(self, notifier: Notifier) -> None:
        assert isinstance(notifier, Notifier)

    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("role", ROLES)
    def test_send_accepts_a_notification_and_does_not_raise(
        self, notifier: Notifier, kind: str, role: str
    ) -> None:
        notifier.send(make_notification(kind, role))

    def test_sending_the_same_notification_twice_does_not_raise(self, notifier: Notifier) -> None:
        notification = make_notification()
        notifier.send(notification)
        notifier.send(notification)

    def test_a_repeated_send_carries_the_same_idempotency_key(self, notifier: Notifier) -> None:
        """After a crash between a send and its record, the dispatcher sends again: with
        the same key, which a notifier that can deduplicate passes to its channel."""
        notification = make_notification()
        again = attrs.evolve(notification, correlation_id=uuid.uuid4().hex)
        assert again.idempotency_key == notification.idempotency_key
        assert make_notification().idempotency_key != notification.idempotency_key
        notifier.send(notification)
        notifier.send(again)

    def test_no_log_record_carries_patient_data(
        self, notifier: Notifier, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        for role in ROLES:
            notifier.send(make_notification(recipient_role=role, locale="de"))
        for record in caplog.records:
            assert self.sentinel not in record.getMessage()
            assert self.sentinel not in repr(vars(record))
