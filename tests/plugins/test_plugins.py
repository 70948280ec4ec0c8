"""The plugin seam: built-ins, third-party plugins, entry points, tracing, config.

Every hook in ``carebook.hookspecs`` is exercised here at least once
(``tests/plugins/test_hooks_documented.py`` checks that).
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys
import types
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pendulum
import pluggy
import pytest

import carebook
from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    ConfigurationError,
    Event,
    Money,
    NotFoundError,
    RuleRejectedError,
    bootstrap,
    scheduling,
)
from carebook.builtin import plugin as builtin_plugin
from carebook.builtin.clocks import ManualClock, SystemClock
from carebook.builtin.memory import MemoryStorage
from carebook.builtin.notifiers import LoggingNotifier, RecordingNotifier
from carebook.builtin.publishers import InProcessPublisher, RecordingPublisher
from carebook.domain.delivery import RetryPolicy
from carebook.domain.ids import EventId
from carebook.domain.notifications import Notification
from carebook.domain.payments.payment import PaymentIntent
from carebook.domain.scheduling.rules import BUILTIN_RULES
from carebook.errors import DuplicateAdapterError, UnknownAdapterError
from carebook.hookspecs import EventContext, Register, RuleRegister
from carebook.plugins import (
    AUTOLOAD_ENV,
    ENTRY_POINT_GROUP,
    TRACE_ENV,
    collect_adapters,
    make_plugin_manager,
)
from carebook.ports import Clock, EventPublisher, Notifier, PaymentGateway, Storage
from carebook.scheduling import (
    BookAppointment,
    Rejection,
    RuleContext,
    WeeklyHours,
)
from carebook.testing.clinic import ClinicBuilder

NOW = pendulum.datetime(2025, 6, 2, 13, 0, tz="UTC")  # Monday 09:00 in New York
TUESDAY_10 = pendulum.datetime(2025, 6, 3, 10, 0, tz="America/New_York")


@pytest.fixture(autouse=True)
def _no_installed_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever is installed in this environment stays out of these tests."""
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    monkeypatch.delenv(TRACE_ENV, raising=False)


# -- a third-party plugin with one adapter of every kind ----------------------------------


class TaggedStorage(MemoryStorage):
    """Memory storage that remembers the options it was built with."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__()
        self.options = dict(options)


class FixedClock:
    def __init__(self, options: Mapping[str, Any]) -> None:
        self.instant = pendulum.parse(options["at"])

    def now(self) -> pendulum.DateTime:
        assert isinstance(self.instant, pendulum.DateTime)
        return self.instant


class CollectingNotifier:
    def __init__(self, options: Mapping[str, Any]) -> None:
        self.channel = options.get("channel", "sms")
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


class CollectingPublisher:
    def __init__(self, options: Mapping[str, Any]) -> None:
        self.topic = options.get("topic", "carebook")
        self.published: list[Event] = []

    def publish(self, event: Event) -> None:
        self.published.append(event)


class FakeGateway:
    """A payment gateway that approves everything and remembers idempotency keys."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.currency = options.get("currency", "USD")
        self.intents: dict[str, PaymentIntent] = {}

    def authorise(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> PaymentIntent:
        for intent in self.intents.values():
            if intent.idempotency_key == idempotency_key:
                return intent
        intent = PaymentIntent(
            id=f"pi_{len(self.intents) + 1}",
            amount=amount,
            currency=currency,
            status="authorised",
            idempotency_key=idempotency_key,
            metadata=metadata,
        )
        self.intents[intent.id] = intent
        return intent

    def _set(self, intent_id: str, status: str) -> PaymentIntent:
        self.intents[intent_id] = attrs.evolve(self.intents[intent_id], status=status)
        return self.intents[intent_id]

    def capture(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        return self._set(intent_id, "captured")

    def cancel(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        return self._set(intent_id, "cancelled")

    def refund(self, intent_id: str, *, amount: int, idempotency_key: str) -> PaymentIntent:
        return self._set(intent_id, "refunded")

    def retrieve(self, intent_id: str) -> PaymentIntent:
        return self.intents[intent_id]


class ClinicPaused:
    """A reservation rule that refuses every booking while ``paused`` is set."""

    code = "clinic_paused"
    order = 50

    def __init__(self) -> None:
        self.paused = False
        self.seen: list[RuleContext] = []

    def check(self, ctx: RuleContext) -> Rejection | None:
        self.seen.append(ctx)
        return Rejection(self.code, "the clinic is paused") if self.paused else None


class ThirdPartyPlugin:
    """What an installed distribution would expose through its entry point."""

    def __init__(self) -> None:
        self.rule = ClinicPaused()
        self.events: list[tuple[str, Event]] = []

    @carebook.hookimpl
    def carebook_register_storage(self, register: Register[Storage]) -> None:
        register("tagged", TaggedStorage)

    @carebook.hookimpl
    def carebook_register_clocks(self, register: Register[Clock]) -> None:
        register("fixed", FixedClock)

    @carebook.hookimpl
    def carebook_register_notifiers(self, register: Register[Notifier]) -> None:
        register("collecting", CollectingNotifier)

    @carebook.hookimpl
    def carebook_register_event_publishers(self, register: Register[EventPublisher]) -> None:
        register("collecting", CollectingPublisher)

    @carebook.hookimpl
    def carebook_register_payment_gateways(self, register: Register[PaymentGateway]) -> None:
        register("fake-pay", FakeGateway)

    @carebook.hookimpl
    def carebook_register_reservation_rules(self, register: RuleRegister) -> None:
        register(self.rule)

    @carebook.hookimpl
    def carebook_on_event(self, event: Event, context: EventContext) -> None:
        self.events.append((context.instance_name, event))


THIRD_PARTY_CONFIG = CarebookConfig(
    storage="tagged",
    storage_options={"dsn": "memory://tests"},
    clock="fixed",
    clock_options={"at": NOW.isoformat()},
    notifiers=("collecting", "recording"),
    notifier_options={"collecting": {"channel": "push"}},
    publisher="collecting",
    publisher_options={"topic": "clinic-events"},
    name="third-party",
)


@attrs.frozen
class Clinic:
    organisation_id: carebook.OrganisationId
    location_id: carebook.LocationId
    practitioner_id: carebook.PractitionerId
    service_id: carebook.ServiceId
    patient_id: carebook.PatientId

    def booking(self, key: str, start: pendulum.DateTime = TUESDAY_10) -> BookAppointment:
        return BookAppointment(
            location_id=self.location_id,
            practitioner_id=self.practitioner_id,
            patient_id=self.patient_id,
            service_ids=[self.service_id],
            start=start,
            idempotency_key=key,
        )


def set_up_clinic(cb: Carebook) -> Clinic:
    clinic = ClinicBuilder.create(cb, "Plugin Clinic")
    weekdays = range(5)
    location = clinic.location(
        "Midtown",
        timezone="America/New_York",
        hours=WeeklyHours.every_day("08:00-18:00", weekdays=weekdays),
    )
    practitioner = clinic.practitioner(
        "Dr Plug", location, hours=WeeklyHours.every_day("09:00-17:00", weekdays=weekdays)
    )
    service = clinic.service("Check-up", practitioners=[practitioner], price=Money(5_000, "USD"))
    patient = clinic.patient()
    return Clinic(clinic.org.id, location.id, practitioner.id, service.id, patient.id)


def manual_carebook(**config: Any) -> Carebook:
    return bootstrap(CarebookConfig(**config), clock=ManualClock(NOW))


# -- built-ins -----------------------------------------------------------------------------


def test_plugin_manager_registers_the_builtin_plugin_like_any_other() -> None:
    pm = make_plugin_manager()
    assert pm.get_plugin("carebook.builtin.plugin") is builtin_plugin
    assert pm.project_name == "carebook"
    assert builtin_plugin in pm.get_plugins()


def test_builtin_adapters_are_registered_by_name() -> None:
    adapters = collect_adapters(make_plugin_manager())
    assert adapters.storage.names() == ["memory"]
    assert adapters.clocks.names() == ["file", "manual", "system"]
    assert adapters.notifiers.names() == ["logging", "recording"]
    assert adapters.publishers.names() == ["inprocess", "recording"]
    assert adapters.payment_gateways.names() == ["simulated"]
    assert [r.code for r in adapters.rules] == [r.code for r in BUILTIN_RULES]


def test_builtin_adapters_are_built_from_their_names() -> None:
    adapters = collect_adapters(make_plugin_manager())
    assert isinstance(adapters.storage.create("memory"), MemoryStorage)
    assert isinstance(adapters.clocks.create("system"), SystemClock)
    manual = adapters.clocks.create("manual", {"start": "2025-06-02T13:00:00+00:00"})
    assert isinstance(manual, ManualClock)
    assert manual.now() == NOW
    assert isinstance(adapters.notifiers.create("logging"), LoggingNotifier)
    assert isinstance(adapters.notifiers.create("recording"), RecordingNotifier)
    assert isinstance(adapters.publishers.create("inprocess"), InProcessPublisher)
    assert isinstance(adapters.publishers.create("recording"), RecordingPublisher)


def test_default_config_bootstraps_the_builtin_adapters() -> None:
    cb = bootstrap()
    assert isinstance(cb.storage, MemoryStorage)
    assert isinstance(cb.clock, SystemClock)
    assert list(cb.notifiers) == ["logging"]
    assert isinstance(cb.notifiers["logging"], LoggingNotifier)
    assert isinstance(cb.publisher, InProcessPublisher)
    assert [r.code for r in cb.rules] == [r.code for r in BUILTIN_RULES]


def test_builtin_rules_run_in_steps_of_one_hundred() -> None:
    assert [r.order for r in BUILTIN_RULES] == list(range(100, 1001, 100))


def test_adapter_options_reach_the_builtin_factories() -> None:
    cb = bootstrap(
        CarebookConfig(clock="manual", clock_options={"start": "2025-06-02T13:00:00+00:00"})
    )
    assert cb.clock.now() == NOW


# -- unknown and duplicate names -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "kind", "installed"),
    [
        ("storage", "storage", "memory"),
        ("clock", "clock", "file, manual, system"),
        ("notifiers", "notifier", "logging, recording"),
        ("publisher", "event publisher", "inprocess, recording"),
    ],
)
def test_unknown_adapter_name_fails_at_bootstrap_listing_the_installed_ones(
    field: str, kind: str, installed: str
) -> None:
    value: str | tuple[str, ...] = ("nosuch",) if field == "notifiers" else "nosuch"
    config = CarebookConfig.from_mapping({field: value})
    with pytest.raises(UnknownAdapterError) as caught:
        bootstrap(config)
    error = caught.value
    assert error.kind == kind
    assert error.name == "nosuch"
    assert str(error) == f"no {kind} adapter named 'nosuch'; installed: {installed}"
    assert isinstance(error, ConfigurationError)


def test_unknown_adapter_error_lists_third_party_names_too() -> None:
    pm = make_plugin_manager(plugins=[ThirdPartyPlugin()])
    with pytest.raises(UnknownAdapterError, match="installed: memory, tagged"):
        bootstrap(CarebookConfig(storage="sqlite"), plugin_manager=pm)


def test_unknown_payment_gateway_lists_the_installed_ones() -> None:
    adapters = collect_adapters(make_plugin_manager())
    with pytest.raises(UnknownAdapterError, match=r"installed: simulated"):
        adapters.payment_gateways.create("stripe")


class ShadowsMemory:
    @carebook.hookimpl
    def carebook_register_storage(self, register: Register[Storage]) -> None:
        register("memory", TaggedStorage)


class ShadowsInPast:
    @carebook.hookimpl
    def carebook_register_reservation_rules(self, register: RuleRegister) -> None:
        rule = ClinicPaused()
        rule.code = "in_past"
        register(rule)


def test_duplicate_adapter_name_fails_at_bootstrap() -> None:
    pm = make_plugin_manager(plugins=[ShadowsMemory()])
    with pytest.raises(DuplicateAdapterError) as caught:
        bootstrap(plugin_manager=pm)
    assert (caught.value.kind, caught.value.name) == ("storage", "memory")
    assert str(caught.value) == "storage adapter 'memory' is registered twice"


def test_duplicate_reservation_rule_code_fails_at_bootstrap() -> None:
    pm = make_plugin_manager(plugins=[ShadowsInPast()])
    with pytest.raises(DuplicateAdapterError, match="'in_past' is registered twice"):
        bootstrap(plugin_manager=pm)


def test_the_same_plugin_twice_is_a_duplicate() -> None:
    pm = make_plugin_manager(plugins=[ThirdPartyPlugin(), ThirdPartyPlugin()])
    with pytest.raises(DuplicateAdapterError):
        collect_adapters(pm)


class BadNames:
    @carebook.hookimpl
    def carebook_register_notifiers(self, register: Register[Notifier]) -> None:
        register("", CollectingNotifier)


class NotARule:
    @carebook.hookimpl
    def carebook_register_reservation_rules(self, register: RuleRegister) -> None:
        register(object())  # type: ignore[arg-type]


@pytest.mark.parametrize("plugin", [BadNames(), NotARule()], ids=["empty-name", "not-a-rule"])
def test_malformed_registrations_are_configuration_errors(plugin: object) -> None:
    with pytest.raises(ConfigurationError):
        collect_adapters(make_plugin_manager(plugins=[plugin]))


# -- a third-party plugin, chosen through CarebookConfig --------------------------------------


def test_third_party_adapters_are_chosen_by_name_with_their_options() -> None:
    plugin = ThirdPartyPlugin()
    cb = bootstrap(THIRD_PARTY_CONFIG, plugin_manager=make_plugin_manager(plugins=[plugin]))
    assert isinstance(cb.storage, TaggedStorage)
    assert cb.storage.options == {"dsn": "memory://tests"}
    assert isinstance(cb.clock, FixedClock)
    assert cb.clock.now() == NOW
    assert list(cb.notifiers) == ["collecting", "recording"]
    collecting = cb.notifiers["collecting"]
    assert isinstance(collecting, CollectingNotifier)
    assert collecting.channel == "push"
    assert isinstance(cb.publisher, CollectingPublisher)
    assert cb.publisher.topic == "clinic-events"
    assert cb.name == "third-party"


def test_third_party_adapters_carry_a_booking_end_to_end() -> None:
    plugin = ThirdPartyPlugin()
    cb = bootstrap(THIRD_PARTY_CONFIG, plugin_manager=make_plugin_manager(plugins=[plugin]))
    clinic = set_up_clinic(cb)
    appointment = cb.booking.book(Actor.staff(clinic.location_id), clinic.booking("k1"))

    assert isinstance(cb.publisher, CollectingPublisher)
    assert [e.type for e in cb.publisher.published][-1] == "AppointmentBooked"
    collecting = cb.notifiers["collecting"]
    assert isinstance(collecting, CollectingNotifier)
    assert [(n.kind, n.appointment_id) for n in collecting.sent] == [
        ("appointment_booked", appointment.id)
    ]
    assert appointment.created_at == NOW


def test_payment_gateways_are_registered_by_name() -> None:
    adapters = collect_adapters(make_plugin_manager(plugins=[ThirdPartyPlugin()]))
    assert adapters.payment_gateways.names() == ["fake-pay", "simulated"]
    gateway = adapters.payment_gateways.create("fake-pay", {"currency": "EUR"})
    assert isinstance(gateway, PaymentGateway)
    intent = gateway.authorise(amount=5_000, currency="EUR", idempotency_key="p1", metadata={})
    again = gateway.authorise(amount=5_000, currency="EUR", idempotency_key="p1", metadata={})
    assert again == intent
    assert gateway.capture(intent.id, idempotency_key="c1").status == "captured"


def test_third_party_reservation_rule_joins_the_pipeline_by_order() -> None:
    plugin = ThirdPartyPlugin()
    cb = bootstrap(
        CarebookConfig(clock="manual", clock_options={"start": NOW.isoformat()}),
        plugin_manager=make_plugin_manager(plugins=[plugin]),
    )
    assert [r.code for r in cb.rules][:2] == ["clinic_paused", "service_not_offered"]
    assert [r.order for r in cb.rules] == sorted(r.order for r in cb.rules)

    clinic = set_up_clinic(cb)
    staff = Actor.staff(clinic.location_id)
    plugin.rule.paused = True
    with pytest.raises(RuleRejectedError) as caught:
        cb.booking.book(staff, clinic.booking("paused"))
    assert caught.value.reason_code == "clinic_paused"
    assert caught.value.message == "the clinic is paused"
    assert cb.queries.patient_appointments(staff, clinic.patient_id) == []

    plugin.rule.paused = False
    booked = cb.booking.book(staff, clinic.booking("open"))
    assert booked.status is scheduling.AppointmentStatus.BOOKED
    ctx = plugin.rule.seen[-1]
    assert ctx.request.patient_id == clinic.patient_id
    assert ctx.location.id == clinic.location_id
    assert ctx.now == NOW


def test_a_rule_refusal_runs_before_later_builtin_rules() -> None:
    """The plugin rule (order 50) answers before ``in_past`` (200) would."""
    plugin = ThirdPartyPlugin()
    plugin.rule.paused = True
    cb = bootstrap(
        CarebookConfig(clock="manual", clock_options={"start": NOW.isoformat()}),
        plugin_manager=make_plugin_manager(plugins=[plugin]),
    )
    clinic = set_up_clinic(cb)
    past = pendulum.datetime(2025, 6, 2, 8, 0, tz="America/New_York")
    with pytest.raises(RuleRejectedError) as caught:
        cb.booking.book(Actor.admin(), clinic.booking("past", start=past))
    assert caught.value.reason_code == "clinic_paused"


# -- carebook_on_event ----------------------------------------------------------------------------


def test_on_event_observers_see_each_committed_event_with_the_instance_name() -> None:
    plugin = ThirdPartyPlugin()
    cb = bootstrap(
        CarebookConfig(name="front-desk", clock="manual", clock_options={"start": NOW.isoformat()}),
        plugin_manager=make_plugin_manager(plugins=[plugin]),
    )
    clinic = set_up_clinic(cb)
    appointment = cb.booking.book(Actor.staff(clinic.location_id), clinic.booking("k"))
    names = {name for name, _ in plugin.events}
    types_seen = [e.type for _, e in plugin.events]
    assert names == {"front-desk"}
    assert types_seen == ["CalendarChanged"] * 5 + ["AppointmentBooked"]
    booked = plugin.events[-1][1]
    assert getattr(booked, "appointment_id") == appointment.id  # noqa: B009
    assert cb.events.pending() == []


def test_on_event_with_manual_dispatch_waits_for_dispatch() -> None:
    plugin = ThirdPartyPlugin()
    cb = bootstrap(
        CarebookConfig(dispatch="manual"),
        plugin_manager=make_plugin_manager(plugins=[plugin]),
        clock=ManualClock(NOW),
    )
    cb.admin.create_organisation(Actor.admin(), name="Quiet Clinic")
    assert plugin.events == []
    assert len(cb.events.pending()) == 1
    assert cb.events.dispatch() == 1
    assert [e.type for _, e in plugin.events] == ["CalendarChanged"]
    assert cb.events.pending() == []


class FlakyObserver:
    """Fails on the first delivery of each event, then succeeds."""

    def __init__(self) -> None:
        self.attempts: list[EventId] = []

    @carebook.hookimpl
    def carebook_on_event(self, event: Event, context: EventContext) -> None:
        first = event.event_id not in self.attempts
        self.attempts.append(event.event_id)
        if first:
            raise RuntimeError("observer is down")


def test_a_failing_observer_gets_the_event_again_once_its_backoff_passed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    observer = FlakyObserver()
    cb = bootstrap(
        CarebookConfig(notifiers=()),
        plugin_manager=make_plugin_manager(plugins=[observer]),
        clock=ManualClock(NOW),
    )
    with caplog.at_level(logging.WARNING, logger="carebook.dispatch"):
        org = cb.admin.create_organisation(Actor.admin(), name="Flaky Clinic")
    [pending] = cb.events.pending()
    assert "RuntimeError" in caplog.text
    assert str(pending.event_id) in caplog.text

    assert cb.events.dispatch() == 0, "not before its backoff"
    assert isinstance(cb.clock, ManualClock)
    cb.clock.advance(seconds=RetryPolicy().base_delay_seconds)
    assert cb.events.dispatch() == 1
    assert observer.attempts == [pending.event_id, pending.event_id]
    assert cb.events.pending() == []
    assert org.name not in caplog.text


# -- entry points and the autoload switch -----------------------------------------------------


@pytest.fixture
def recorded_autoload(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace pluggy's entry-point loading with a recorder of the groups asked for."""
    calls: list[str] = []

    def fake_load(self: pluggy.PluginManager, group: str, name: str | None = None) -> int:
        calls.append(group)
        return 0

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", fake_load)
    return calls


@pytest.mark.parametrize("value", ["1", "yes", "true"])
def test_autoload_env_var_turns_entry_point_loading_off(
    monkeypatch: pytest.MonkeyPatch, recorded_autoload: list[str], value: str
) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, value)
    make_plugin_manager()
    bootstrap()
    assert recorded_autoload == []


@pytest.mark.parametrize("value", [None, "", "0"])
def test_entry_points_load_unless_the_env_var_is_set(
    monkeypatch: pytest.MonkeyPatch, recorded_autoload: list[str], value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    else:
        monkeypatch.setenv(AUTOLOAD_ENV, value)
    make_plugin_manager()
    bootstrap()
    assert recorded_autoload == [ENTRY_POINT_GROUP, ENTRY_POINT_GROUP]


def test_explicit_autoload_argument_wins_over_the_env_var(
    monkeypatch: pytest.MonkeyPatch, recorded_autoload: list[str]
) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    make_plugin_manager(autoload=True)
    monkeypatch.delenv(AUTOLOAD_ENV)
    make_plugin_manager(autoload=False)
    assert recorded_autoload == [ENTRY_POINT_GROUP]


class FakeDistribution:
    """Just enough of importlib.metadata.Distribution for pluggy's entry-point loading."""

    def __init__(self, *entry_points: importlib.metadata.EntryPoint) -> None:
        self.entry_points = importlib.metadata.EntryPoints(entry_points)
        self.metadata = {"name": "carebook-fake-adapter"}


@pytest.fixture
def installed_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """A module ``carebook_fake_adapter`` installed under the ``carebook`` group."""
    module = types.ModuleType("carebook_fake_adapter")

    @carebook.hookimpl
    def carebook_register_storage(register: Register[Storage]) -> None:
        register("fake-sql", TaggedStorage)

    module.carebook_register_storage = carebook_register_storage  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    distribution = FakeDistribution(
        importlib.metadata.EntryPoint(
            name="fake-sql", value="carebook_fake_adapter", group=ENTRY_POINT_GROUP
        ),
        importlib.metadata.EntryPoint(
            name="unrelated", value="carebook_no_such_module", group="other.group"
        ),
    )
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: [distribution])
    yield module


def test_installed_entry_point_plugin_is_loaded_and_selectable(
    monkeypatch: pytest.MonkeyPatch, installed_plugin: types.ModuleType
) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV)
    pm = make_plugin_manager()
    assert pm.get_plugin("fake-sql") is installed_plugin
    cb = bootstrap(CarebookConfig(storage="fake-sql", storage_options={"path": ":memory:"}))
    assert isinstance(cb.storage, TaggedStorage)
    assert cb.storage.options == {"path": ":memory:"}


def test_installed_entry_point_plugin_is_ignored_when_autoload_is_off(
    installed_plugin: types.ModuleType,
) -> None:
    pm = make_plugin_manager()
    assert pm.get_plugin("fake-sql") is None
    with pytest.raises(UnknownAdapterError, match=r"installed: memory$"):
        bootstrap(CarebookConfig(storage="fake-sql"))


# -- tracing --------------------------------------------------------------------------------------


def test_trace_env_var_logs_every_hook_call(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(TRACE_ENV, "1")
    with caplog.at_level(logging.DEBUG, logger="carebook.plugins"):
        cb = bootstrap(clock=ManualClock(NOW))
        cb.admin.create_organisation(Actor.admin(), name="Traced Clinic")
    messages = [r.getMessage() for r in caplog.records if r.name == "carebook.plugins"]
    for hook in (
        "carebook_register_storage",
        "carebook_register_clocks",
        "carebook_register_notifiers",
        "carebook_register_event_publishers",
        "carebook_register_payment_gateways",
        "carebook_register_reservation_rules",
        "carebook_on_event",
    ):
        assert any(hook in message for message in messages), hook
    assert not any("Traced Clinic" in message for message in messages)


def test_no_hook_trace_without_the_env_var(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="carebook.plugins"):
        bootstrap()
    assert [r for r in caplog.records if r.name == "carebook.plugins"] == []


# -- isolation and configuration ---------------------------------------------------------------


def test_two_carebooks_do_not_share_state() -> None:
    first = manual_carebook(publisher="recording", notifiers=("recording",))
    second = manual_carebook(publisher="recording", notifiers=("recording",))
    clinic = set_up_clinic(first)
    first.booking.book(Actor.admin(), clinic.booking("only-in-first"))

    assert first.storage is not second.storage
    assert first.publisher is not second.publisher
    assert first.notifiers["recording"] is not second.notifiers["recording"]
    assert isinstance(second.publisher, RecordingPublisher)
    assert second.publisher.published == []
    with pytest.raises(NotFoundError):
        second.queries.patient_appointments(Actor.admin(), clinic.patient_id)
    with second.storage.unit_of_work() as uow:
        assert uow.calendar.get_organisation(clinic.organisation_id) is None


def test_two_carebooks_share_no_plugin_manager_state() -> None:
    plugin = ThirdPartyPlugin()
    with_plugin = bootstrap(
        CarebookConfig(clock="manual", clock_options={"start": NOW.isoformat()}),
        plugin_manager=make_plugin_manager(plugins=[plugin]),
    )
    without = manual_carebook()
    assert "clinic_paused" in [r.code for r in with_plugin.rules]
    assert "clinic_paused" not in [r.code for r in without.rules]
    set_up_clinic(without)
    assert plugin.events == []


def test_config_from_mapping_builds_the_same_config() -> None:
    config = CarebookConfig.from_mapping(
        {"storage": "memory", "clock": "manual", "notifiers": ["recording"], "name": "x"}
    )
    assert config == CarebookConfig(
        storage="memory", clock="manual", notifiers=("recording",), name="x"
    )


def test_config_from_mapping_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown configuration keys: \['databse'\]"):
        CarebookConfig.from_mapping({"storage": "memory", "databse": "x"})


def test_config_rejects_an_unknown_dispatch_mode() -> None:
    with pytest.raises(ConfigurationError, match="dispatch"):
        CarebookConfig(dispatch="later")


def test_a_single_notifier_name_is_a_one_name_tuple() -> None:
    assert CarebookConfig(notifiers="recording").notifiers == ("recording",)
