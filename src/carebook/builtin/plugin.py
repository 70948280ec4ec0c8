"""The built-in plugin: registers the standard-library adapters by name."""

from __future__ import annotations

from carebook.builtin.clocks import FileClock, ManualClock, SystemClock
from carebook.builtin.contacts import RecordingChannel, StaticDirectory
from carebook.builtin.memory import MemoryStorage
from carebook.builtin.notifiers import LoggingNotifier, RecordingNotifier
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.builtin.publishers import InProcessPublisher, RecordingPublisher
from carebook.domain.pricing.policies import BirthdayOrHighValue, PromoCodePolicy
from carebook.hookspecs import DiscountPolicyRegister, Register, hookimpl
from carebook.ports import (
    ChannelNotifier,
    Clock,
    ContactDirectory,
    EventPublisher,
    Notifier,
    PaymentGateway,
    Storage,
)


@hookimpl
def carebook_register_storage(register: Register[Storage]) -> None:
    register("memory", MemoryStorage.from_options)


@hookimpl
def carebook_register_clocks(register: Register[Clock]) -> None:
    register("system", SystemClock.from_options)
    register("manual", ManualClock.from_options)
    register("file", FileClock.from_options)


@hookimpl
def carebook_register_notifiers(register: Register[Notifier]) -> None:
    register("logging", LoggingNotifier.from_options)
    register("recording", RecordingNotifier.from_options)


@hookimpl
def carebook_register_channel_notifiers(register: Register[ChannelNotifier]) -> None:
    register("recording", RecordingChannel.from_options)


@hookimpl
def carebook_register_contact_directories(register: Register[ContactDirectory]) -> None:
    register("static", StaticDirectory.from_options)


@hookimpl
def carebook_register_event_publishers(register: Register[EventPublisher]) -> None:
    register("inprocess", InProcessPublisher.from_options)
    register("recording", RecordingPublisher.from_options)


@hookimpl
def carebook_register_payment_gateways(register: Register[PaymentGateway]) -> None:
    register("simulated", SimulatedPaymentGateway.from_options)


@hookimpl
def carebook_register_discount_policies(register: DiscountPolicyRegister) -> None:
    register(BirthdayOrHighValue())
    register(PromoCodePolicy())
