"""The plugin manager, and the registries adapters are chosen from by name.

Built-in plugins are registered exactly like installed ones. Installed plugins are
found through the ``carebook`` entry-point group unless the environment variable
``CAREBOOK_DISABLE_PLUGIN_AUTOLOAD`` is set (to anything but ``""``/``0``).
``CAREBOOK_TRACE_PLUGINS=1`` logs every hook call to the ``carebook.plugins`` logger.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import ModuleType
from typing import Any, Generic, TypeVar

import pluggy

from carebook import hookspecs
from carebook.domain.pricing.discounts import DiscountPolicy
from carebook.domain.scheduling.rules import BUILTIN_RULES, ReservationRule
from carebook.errors import ConfigurationError, DuplicateAdapterError, UnknownAdapterError
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
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "AdapterRegistry",
    "Adapters",
    "DiscountPolicies",
    "collect_adapters",
    "collect_discount_policies",
    "make_plugin_manager",
]

ENTRY_POINT_GROUP = "carebook"
AUTOLOAD_ENV = "CAREBOOK_DISABLE_PLUGIN_AUTOLOAD"
TRACE_ENV = "CAREBOOK_TRACE_PLUGINS"
log = logging.getLogger("carebook.plugins")

T = TypeVar("T")


def _builtin_plugins() -> tuple[ModuleType, ...]:
    from carebook.builtin import plugin

    return (plugin,)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def make_plugin_manager(
    *, autoload: bool | None = None, plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """A new plugin manager with the hook specs, the built-ins, ``plugins``, and (unless
    disabled) every plugin installed under the ``carebook`` entry-point group."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for module in _builtin_plugins():
        pm.register(module, name=f"carebook.builtin.{module.__name__.rsplit('.', 1)[-1]}")
    for plugin in plugins:
        pm.register(plugin)
    if autoload is None:
        autoload = not _env_flag(AUTOLOAD_ENV)
    if autoload:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    if _env_flag(TRACE_ENV):
        pm.trace.root.setwriter(lambda message: log.debug("%s", message.rstrip()))
        pm.enable_tracing()
    return pm


class AdapterRegistry(Generic[T]):
    """Factories of one kind of adapter, by unique name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[[Mapping[str, Any]], T]] = {}

    def register(self, name: str, factory: Callable[[Mapping[str, Any]], T]) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a {self.kind} adapter needs a non-empty name")
        if name in self._factories:
            raise DuplicateAdapterError(self.kind, name)
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, options: Mapping[str, Any] | None = None) -> T:
        """Build the adapter called ``name``; UnknownAdapterError lists the installed."""
        try:
            factory = self._factories[name]
        except KeyError:
            raise UnknownAdapterError(self.kind, name, self._factories) from None
        return factory(dict(options or {}))


class Adapters:
    """Every registry, filled from one plugin manager."""

    def __init__(self) -> None:
        self.storage: AdapterRegistry[Storage] = AdapterRegistry("storage")
        self.clocks: AdapterRegistry[Clock] = AdapterRegistry("clock")
        self.notifiers: AdapterRegistry[Notifier] = AdapterRegistry("notifier")
        self.channels: AdapterRegistry[ChannelNotifier] = AdapterRegistry("channel notifier")
        self.contacts: AdapterRegistry[ContactDirectory] = AdapterRegistry("contact directory")
        self.templates: dict[str, str] = {}
        self.publishers: AdapterRegistry[EventPublisher] = AdapterRegistry("event publisher")
        self.payment_gateways: AdapterRegistry[PaymentGateway] = AdapterRegistry("payment gateway")
        self.rules: list[ReservationRule] = list(BUILTIN_RULES)

    def add_template(self, name: str, source: str) -> None:
        if name in self.templates:
            raise DuplicateAdapterError("template", name)
        self.templates[name] = source

    def add_rule(self, rule: ReservationRule) -> None:
        if not isinstance(rule, ReservationRule):
            raise ConfigurationError("a reservation rule needs 'code', 'order' and 'check'")
        if any(r.code == rule.code for r in self.rules):
            raise DuplicateAdapterError("reservation rule", rule.code)
        self.rules.append(rule)


def collect_adapters(pm: pluggy.PluginManager) -> Adapters:
    """Ask every plugin to register its adapters and rules."""
    adapters = Adapters()
    hook = pm.hook
    hook.carebook_register_storage(register=adapters.storage.register)
    hook.carebook_register_clocks(register=adapters.clocks.register)
    hook.carebook_register_notifiers(register=adapters.notifiers.register)
    hook.carebook_register_channel_notifiers(register=adapters.channels.register)
    hook.carebook_register_contact_directories(register=adapters.contacts.register)
    hook.carebook_register_templates(register=adapters.add_template)
    hook.carebook_register_event_publishers(register=adapters.publishers.register)
    hook.carebook_register_payment_gateways(register=adapters.payment_gateways.register)
    hook.carebook_register_reservation_rules(register=adapters.add_rule)
    adapters.rules.sort(key=lambda r: r.order)
    return adapters


class DiscountPolicies:
    """Discount policies by unique name; iterating gives them sorted by name, so the
    order never depends on which plugin loaded first."""

    kind = "discount policy"

    def __init__(self) -> None:
        self._policies: dict[str, DiscountPolicy] = {}

    def register(self, policy: DiscountPolicy) -> None:
        if not isinstance(policy, DiscountPolicy):
            raise ConfigurationError("a discount policy needs 'name' and 'evaluate'")
        name = policy.name
        if not isinstance(name, str) or not name:
            raise ConfigurationError("a discount policy needs a non-empty name")
        if name in self._policies:
            raise DuplicateAdapterError(self.kind, name)
        self._policies[name] = policy

    def names(self) -> list[str]:
        return sorted(self._policies)

    def get(self, name: str) -> DiscountPolicy:
        """The policy called ``name``; UnknownAdapterError lists the installed ones."""
        try:
            return self._policies[name]
        except KeyError:
            raise UnknownAdapterError(self.kind, name, self._policies) from None

    def __iter__(self) -> Iterator[DiscountPolicy]:
        return iter([self._policies[name] for name in self.names()])

    def __len__(self) -> int:
        return len(self._policies)


def collect_discount_policies(pm: pluggy.PluginManager) -> DiscountPolicies:
    """Ask every plugin for its discount policies (the built-ins included)."""
    policies = DiscountPolicies()
    pm.hook.carebook_register_discount_policies(register=policies.register)
    return policies
