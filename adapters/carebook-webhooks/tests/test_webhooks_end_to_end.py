"""A booking in a Carebook wired by name (channel ``webhook``, from the plugin) arrives at
the host's endpoint as one signed POST with the rendered notice."""

from __future__ import annotations

import logging

import pytest

import carebook_webhooks.plugin
from carebook import Actor, CarebookConfig
from carebook.plugins import make_plugin_manager
from carebook.scheduling import BookAppointment
from carebook.testing.clinic import ClinicBuilder, open_carebook
from carebook.testing.world import T0, at
from carebook_webhooks import WebhookNotifier
from carebook_webhooks.testing import WebhookReceiver

pytest_plugins = ["carebook_webhooks.fixtures"]


SENTINEL = "Sentinel-Patient-Zq7"
ADDRESS = f"{SENTINEL}@example.test"


def test_a_booking_is_posted_signed_to_the_host(
    receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pm = make_plugin_manager(autoload=False, plugins=[carebook_webhooks.plugin])
    config = CarebookConfig(
        notifiers=(),
        dispatch="manual",
        channels=("webhook",),
        channel_options={"webhook": {"url": receiver.url, "secret": receiver.secret}},
        contacts="static",
        contacts_options={"addresses": {"ref-1": {"webhook": ADDRESS}}},
    )
    cb, _ = open_carebook(config, start=T0, plugin_manager=pm)
    assert isinstance(cb.channel_notifiers["webhook"], WebhookNotifier)
    clinic = ClinicBuilder.create(cb, "Northside Clinics")
    loc = clinic.location(f"{SENTINEL} Street", timezone="Europe/Berlin")
    pr = clinic.practitioner("Dr Grey", loc)
    svc = clinic.service(practitioners=[pr])
    patient = clinic.patient(contact_ref="ref-1")
    appointment = cb.booking.book(
        Actor.system(),
        BookAppointment(
            patient_id=patient.id,
            service_ids=(svc.id,),
            start=at(10),
            practitioner_id=pr.id,
            location_id=loc.id,
            idempotency_key="book-webhook",
        ),
    )
    cb.events.dispatch()

    [received] = receiver.accepted
    assert not receiver.rejected
    payload = received.payload
    assert payload["type"] == "appointment_booked"
    data = payload["data"]
    assert received.webhook_id == data["idempotency_key"]
    assert data["notification"]["recipient_role"] == "patient"
    assert data["notification"]["recipient_id"] == str(patient.id)
    assert data["notification"]["appointment_id"] == str(appointment.id)
    assert data["address"] == ADDRESS
    assert data["message"]["subject"] == "Your visit on Mar 4, 2025 is booked"
    assert data["appointment"]["start"] == "2025-03-04T11:00:00+01:00"  # 10:00 UTC, in Berlin
    assert data["appointment"]["timezone"] == "Europe/Berlin"
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert SENTINEL not in text
