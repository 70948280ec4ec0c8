"""pluggy hook specifications. Every hook is documented in docs/hooks.md.

Register-style hooks receive a ``register`` callable and may call it any number of
times; names must be unique across all plugins (a duplicate is a ConfigurationError).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import pluggy

from carebook.domain.events import Event
from carebook.domain.pricing.discounts import DiscountPolicy
from carebook.domain.scheduling.rules import ReservationRule
from carebook.ports import (
    ChannelNotifier,
    Clock,
    ContactDirectory,
    EventPublisher,
    Notifier,
    PaymentGateway,
    Storage,
)

__all__ = [
    "DiscountPolicyRegister",
    "EventContext",
    "Register",
    "RuleRegister",
    "TemplateRegister",
    "hookimpl",
    "hookspec",
]

PROJECT = "carebook"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Options = Mapping[str, Any]


T_contra = TypeVar("T_contra", contravariant=True)


class Register(Protocol[T_contra]):
    """``register(name, factory)``: ``factory(options)`` builds the adapter."""

    def __call__(self, name: str, factory: Callable[[Options], T_contra]) -> None: ...


class RuleRegister(Protocol):
    """``register(rule)``: add a ReservationRule to the booking pipeline."""

    def __call__(self, rule: ReservationRule) -> None: ...


class EventContext(Protocol):
    """What an observer gets besides the event: which Carebook dispatched it."""

    @property
    def instance_name(self) -> str: ...


@hookspec
def carebook_register_storage(register: Register[Storage]) -> None:
    """Register storage adapters by name (``"memory"`` is built in)."""


@hookspec
def carebook_register_clocks(register: Register[Clock]) -> None:
    """Register clocks by name (``"system"`` and ``"manual"`` are built in)."""


@hookspec
def carebook_register_notifiers(register: Register[Notifier]) -> None:
    """Register notifiers by name (``"logging"`` and ``"recording"`` are built in)."""


@hookspec
def carebook_register_channel_notifiers(register: Register[ChannelNotifier]) -> None:
    """Register channel notifiers by name: adapters that deliver rendered messages
    (e-mail, SMS). ``factory(options)`` returns a
    :class:`~carebook.ports.ChannelNotifier`; carebook renders each notification in the
    recipient's language, asks the host's contact directory for the address, and
    calls ``deliver``. See docs/notifications.md."""


@hookspec
def carebook_register_contact_directories(register: Register[ContactDirectory]) -> None:
    """Register contact directories by name (``"static"`` is built in, for demos): the
    host's lookup of a recipient's address on a channel, chosen with the
    ``contacts`` setting so that a separate worker process can reach patients too."""


class TemplateRegister(Protocol):
    """``register(name, source)``: a template that replaces or adds to the shipped ones
    (``"de/appointment_booked.txt"``, ``"layout.html"``)."""

    def __call__(self, name: str, source: str) -> None: ...


@hookspec
def carebook_register_templates(register: TemplateRegister) -> None:
    """Override or add message templates (see docs/notifications.md): a clinic's own
    wording, or a new language. Checked when the Carebook is built."""


@hookspec
def carebook_register_event_publishers(register: Register[EventPublisher]) -> None:
    """Register event publishers by name (``"inprocess"`` and ``"recording"`` built in)."""


@hookspec
def carebook_register_payment_gateways(register: Register[PaymentGateway]) -> None:
    """Register payment gateways by name (``"simulated"`` is built in: success, fail,
    random and timeout modes, with a ledger; see ``carebook.builtin.payments``)."""


@hookspec
def carebook_register_reservation_rules(register: RuleRegister) -> None:
    """Add reservation rules to every booking's pipeline, placed by their ``order``.

    Built-in rules use orders 100 to 1000 in steps of 100; see docs/hooks.md.
    """


@hookspec
def carebook_on_event(event: Event, context: EventContext) -> None:
    """Observe each committed domain event (audit, metrics, pushing to a host app).

    Called after commit, at least once per event: an observer with side effects must
    be idempotent (``event.event_id`` is unique). An exception is logged and the event
    is delivered to the observers again after a backoff (dead-lettered after the last
    attempt); the event's other consumers are not held back.
    """


class DiscountPolicyRegister(Protocol):
    """``register(policy)``: add a DiscountPolicy; its ``name`` must be unique."""

    def __call__(self, policy: DiscountPolicy) -> None: ...


@hookspec
def carebook_register_discount_policies(register: DiscountPolicyRegister) -> None:
    """Add discount policies, each an object with a unique ``name`` and a pure
    ``evaluate(context)``; the built-ins are ``birthday_or_high_value`` (R1) and
    ``promo_code``. Collected with ``carebook.plugins.collect_discount_policies(pm)``;
    see docs/hooks.md.
    """
