"""The composition root: configuration + plugin manager -> one Carebook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pluggy
from attrs import frozen

from carebook.app import Carebook
from carebook.domain.actors import Actor
from carebook.domain.delivery import RetryPolicy
from carebook.domain.events import Event
from carebook.domain.validators import check_option_names
from carebook.errors import ConfigurationError
from carebook.plugins import collect_adapters, collect_discount_policies, make_plugin_manager
from carebook.ports import (
    ChannelNotifier,
    Clock,
    ContactDirectory,
    EventPublisher,
    MessageRenderer,
    Notifier,
    PaymentGateway,
    Storage,
)
from carebook.services.admin.calendar import CalendarAdmin
from carebook.services.admin.pricing import PricingAdmin
from carebook.services.background import PendingWork
from carebook.services.booking.service import Booking
from carebook.services.context import Deps
from carebook.services.dispatch import Dispatcher, Events, Subscriber
from carebook.services.lifecycle.service import Lifecycle
from carebook.services.messaging import ChannelSender
from carebook.services.queries.service import Queries
from carebook.services.reminders.service import Reminders
from carebook.services.saga.runtime import SagaRuntime, SagaSettings
from carebook.services.saga.service import BookingSagas
from carebook.services.staffing.service import Staffing
from carebook.services.walkins import queue as walkin_queue
from carebook.services.walkins.service import WalkIns

__all__ = ["CarebookConfig", "bootstrap"]


@frozen
class _EventContext:
    """What ``carebook_on_event`` implementations get besides the event."""

    instance_name: str


@frozen
class _HookObserver:
    """Hands every delivered event to the plugins' ``carebook_on_event``."""

    hook: Any
    context: _EventContext

    def __call__(self, event: Event) -> None:
        self.hook.carebook_on_event(event=event, context=self.context)


def _nothing() -> None:
    """Manual dispatch: the host app calls ``cb.events.dispatch()``."""


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@frozen(kw_only=True)
class CarebookConfig:
    """Which adapters to use, by registered name, and their options.

    ``dispatch="inline"`` delivers events right after each command commits (after the
    commit, in the caller's thread); ``"manual"`` leaves it to the host app calling
    ``cb.events.dispatch()`` or ``cb.events.run_pending()`` (``dispatch_batch``: events
    per dispatch round, 1 to 10,000). ``delivery_options`` set
    the retry rule (:class:`~carebook.domain.delivery.RetryPolicy`: ``max_attempts``,
    ``base_delay_seconds``, ``max_delay_seconds``, ``lease_seconds``).
    ``saga_options`` configure the booking saga (:class:`SagaSettings`:
    ``payment_timeout_minutes``, ``confirm_grace_minutes``, ``webhook_secret``,
    ``webhook_tolerance``). ``channels`` name channel notifiers (e-mail, SMS) with
    their ``channel_options``; they need a ``contacts`` directory (by name, with
    ``contacts_options``) and render with the built-in templates, which ``templates``
    (name to source) override. See docs/notifications.md.
    """

    storage: str = "memory"
    storage_options: Mapping[str, Any] = attrs.field(factory=dict)
    clock: str = "system"
    clock_options: Mapping[str, Any] = attrs.field(factory=dict)
    notifiers: tuple[str, ...] = attrs.field(default=("logging",), converter=_names)
    notifier_options: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    publisher: str = "inprocess"
    publisher_options: Mapping[str, Any] = attrs.field(factory=dict)
    payment_gateway: str | None = None
    payment_gateway_options: Mapping[str, Any] = attrs.field(factory=dict)
    dispatch: str = "inline"
    dispatch_batch: int = 100
    name: str = "carebook"
    saga_options: Mapping[str, Any] = attrs.field(factory=dict)
    delivery_options: Mapping[str, Any] = attrs.field(factory=dict)
    channels: tuple[str, ...] = attrs.field(default=(), converter=_names)
    channel_options: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    contacts: str | None = None
    contacts_options: Mapping[str, Any] = attrs.field(factory=dict)
    templates: Mapping[str, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if self.dispatch not in ("inline", "manual"):
            raise ConfigurationError("dispatch must be 'inline' or 'manual'")
        batch = self.dispatch_batch
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 10_000:
            raise ConfigurationError("dispatch_batch must be a whole number from 1 to 10000")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CarebookConfig:
        """From a plain mapping (a parsed TOML/JSON file); unknown keys are errors."""
        return cls(**check_option_names(cls, data, "configuration keys"))


def bootstrap(
    config: CarebookConfig | None = None,
    *,
    plugin_manager: pluggy.PluginManager | None = None,
    storage: Storage | None = None,
    clock: Clock | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
    publisher: EventPublisher | None = None,
    payment_gateway: PaymentGateway | None = None,
    channel_notifiers: Mapping[str, ChannelNotifier] | None = None,
    contacts: ContactDirectory | None = None,
    renderer: MessageRenderer | None = None,
) -> Carebook:
    """Build a Carebook. Adapters come from ``config`` by name unless passed directly
    (tests pass fakes). Unknown names fail here, listing what is installed.

    This is the one place where things are wired: the use cases' dependencies, the
    booking saga's runtime, and the explicit list of event subscribers.
    """
    config = config or CarebookConfig()
    pm = plugin_manager or make_plugin_manager()
    adapters = collect_adapters(pm)
    if storage is None:
        storage = adapters.storage.create(config.storage, config.storage_options)
    if clock is None:
        clock = adapters.clocks.create(config.clock, config.clock_options)
    if notifiers is None:
        notifiers = {
            name: adapters.notifiers.create(name, config.notifier_options.get(name, {}))
            for name in config.notifiers
        }
    if channel_notifiers is None:
        channel_notifiers = {
            name: adapters.channels.create(name, config.channel_options.get(name, {}))
            for name in config.channels
        }
    if channel_notifiers:
        if contacts is None:
            if config.contacts is None:
                raise ConfigurationError(
                    "channel notifiers need a contact directory: set 'contacts' to a "
                    "registered directory or pass contacts="
                )
            contacts = adapters.contacts.create(config.contacts, config.contacts_options)
        if renderer is None:
            renderer = _builtin_renderer({**adapters.templates, **config.templates})
        notifiers = dict(notifiers) | _senders(
            storage, renderer, contacts, channel_notifiers, set(notifiers)
        )
    if publisher is None:
        publisher = adapters.publishers.create(config.publisher, config.publisher_options)
    if payment_gateway is None and config.payment_gateway is not None:
        payment_gateway = adapters.payment_gateways.create(
            config.payment_gateway, config.payment_gateway_options
        )
    inline = config.dispatch == "inline"
    policy = RetryPolicy.from_options(config.delivery_options)

    def drain() -> None:
        """Inline dispatch: drain the outbox after each command commits."""
        dispatcher.run()

    rules = tuple(sorted(adapters.rules, key=lambda r: r.order))
    deps = Deps(
        storage=storage,
        clock=clock,
        rules=rules,
        after_commit=drain if inline else _nothing,
        # In-transaction observers of every lifecycle transition: the walk-in queue
        # follows sessions, no-shows and cancellations without lifecycle importing it.
        transition_observers=(walkin_queue.sync,),
    )
    sagas = BookingSagas(
        SagaRuntime(
            deps=deps,
            gateway=payment_gateway,
            policies=tuple(collect_discount_policies(pm)),
            settings=SagaSettings.from_options(config.saga_options),
            inline=inline,
        )
    )
    # After the publisher, every delivered event goes to these, in this order; then
    # to the notifiers. The names key their deliveries: never rename one.
    subscribers: dict[str, Subscriber] = {
        "hooks": _HookObserver(pm.hook, _EventContext(config.name)),  # carebook_on_event
        "sagas": sagas.handle_event,  # a saga event nudges its saga on
    }
    dispatcher = Dispatcher(
        storage,
        clock,
        publisher,
        notifiers,
        subscribers,
        policy=policy,
        batch=config.dispatch_batch,
    )
    lifecycle, walkins, reminders = Lifecycle(deps), WalkIns(deps), Reminders(deps)
    jobs = PendingWork(
        storage,
        expire_holds=lambda: lifecycle.expire_holds(Actor.system()),
        resume_sagas=sagas.resume,
        sweep=lambda organisation_id: walkins.sweep(Actor.system(), organisation_id).no_shows,
        send_reminders=lambda: reminders.send_due(Actor.system()),
        dispatch=dispatcher.run,
    )
    return Carebook(
        booking=Booking(deps),
        lifecycle=lifecycle,
        queries=Queries(deps),
        sagas=sagas,
        walkins=walkins,
        staffing=Staffing(deps),
        admin=CalendarAdmin(deps),
        pricing=PricingAdmin(deps),
        events=Events(storage, clock, dispatcher, jobs),
        reminders=reminders,
        storage=storage,
        clock=clock,
        notifiers=dict(notifiers),
        channel_notifiers=dict(channel_notifiers),
        publisher=publisher,
        payment_gateway=payment_gateway,
        rules=rules,
        name=config.name,
    )


def _senders(
    storage: Storage,
    renderer: MessageRenderer,
    contacts: ContactDirectory,
    channel_notifiers: Mapping[str, ChannelNotifier],
    taken: set[str],
) -> dict[str, Notifier]:
    """Each channel notifier behind the Notifier port, under its own name (the name
    keys its deliveries, like a notifier's)."""
    clash = sorted(taken & set(channel_notifiers))
    if clash:
        raise ConfigurationError(f"a notifier and a channel notifier share the name {clash[0]!r}")
    reach = {n.channel: n.requires_address for n in channel_notifiers.values()}
    return {
        name: ChannelSender(storage, renderer, contacts, notifier, reach)
        for name, notifier in channel_notifiers.items()
    }


def _builtin_renderer(templates: Mapping[str, str]) -> MessageRenderer:
    try:
        from carebook.builtin.rendering import TemplateRenderer
    except ImportError:
        raise ConfigurationError(
            "the built-in message renderer needs Jinja2 and Babel: "
            "pip install 'carebook[messages]' (or pass renderer=)"
        ) from None
    return TemplateRenderer(templates)
