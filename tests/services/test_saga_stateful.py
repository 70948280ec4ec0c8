"""A Hypothesis state machine over the booking saga (memory storage, simulated gateway).

Rules: book (full price, discounted, with a promo code), pay ok / pay fail / pay time out
(advance a saga with the gateway in that mode), crash (a step interrupted at a crash
point, then a restart: a new Carebook on the same storage and gateway, nothing kept in
memory), redeliver (saga events and payment webhooks again), advance the clock, cancel
an appointment, change the configuration, resume. After every step no money is captured
twice, every saga keeps what its status allows, and the quota used equals the units held;
at the end, after a resume, every saga is finished and captured money equals the
confirmed bookings.
"""

from __future__ import annotations

import contextlib

import attrs
import pendulum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from carebook import Actor, Carebook
from carebook.domain.events import Event
from carebook.domain.payments.saga import BookingSaga
from carebook.errors import CarebookError, QuotaBelowUsageError
from carebook.pricing import PromoCode
from carebook.scheduling import CancelAppointment
from carebook.services.saga.runtime import CRASH_POINTS
from carebook.testing.saga_world import (
    SECRET,
    SagaClinic,
    make_saga_clinic,
    money_problems,
    quota_problems,
)

ADMIN = Actor.admin()


class SimulatedCrash(BaseException):
    """The process died here (BaseException: nothing in carebook may catch it)."""


class SagaMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clinic: SagaClinic = make_saga_clinic(practitioners=3, dispatch="manual")
        self.clinic.cb.pricing.create_promo_code(
            ADMIN, organisation_id=self.clinic.org.id, promo=PromoCode.percent_off("TEN", 10)
        )
        self.slots = 0
        self.start = self.clinic.clock.now()
        self.events: list[Event] = []

    # -- helpers -------------------------------------------------------------------------
    @property
    def cb(self) -> Carebook:
        return self.clinic.cb

    def pick(self, index: int) -> BookingSaga | None:
        sagas = self.clinic.sagas()
        return sagas[index % len(sagas)] if sagas else None

    def remember(self) -> None:
        seen = {e.event_id for e in self.events}
        self.events += [e for e in self.cb.events.pending(10_000) if e.event_id not in seen]

    def advance(self, index: int, mode: str) -> None:
        saga = self.pick(index)
        if saga is None:
            return
        self.clinic.gateway.set_mode(mode)
        self.cb.sagas.advance(saga.id)
        self.remember()

    # -- rules ----------------------------------------------------------------------------
    def next_slot(self) -> tuple[int, pendulum.DateTime]:
        """Slots move forward with the clock: practitioner ``k % 3``, half-hourly."""
        earliest = self.clinic.clock.now().add(days=1).start_of("day")
        if self.start < earliest:
            self.start, self.slots = earliest, 0
        n = self.slots
        self.slots += 1
        if self.slots % len(self.clinic.practitioners) == 0:
            self.start = self.start.add(minutes=30)
        return n, self.start

    @rule(kinds=st.lists(st.sampled_from(["full", "discounted", "promo"]), min_size=1, max_size=3))
    def book(self, kinds: list[str]) -> None:
        for kind in kinds:
            n, start = self.next_slot()
            command = attrs.evolve(
                self.clinic.command(
                    n, discounted=kind == "discounted", promo="TEN" if kind == "promo" else None
                ),
                start=start,
            )
            before = len(self.clinic.saga_ids)
            try:
                saga = self.cb.sagas.request(Actor.patient(command.patient_id), command)
            except CarebookError:
                assert len(self.clinic.saga_ids) == before  # a refusal stores nothing
                continue
            self.clinic.saga_ids.append(saga.id)
        self.remember()

    @rule(index=st.integers(0, 50))
    def pay_ok(self, index: int) -> None:
        self.advance(index, "success")

    @rule(index=st.integers(0, 50))
    def pay_fail(self, index: int) -> None:
        self.advance(index, "fail")

    @rule(index=st.integers(0, 50))
    def pay_times_out(self, index: int) -> None:
        self.advance(index, "timeout")

    @rule(
        index=st.integers(0, 50),
        point=st.sampled_from(CRASH_POINTS),
        hit=st.integers(1, 4),
        mode=st.sampled_from(["success", "fail", "timeout"]),
    )
    def crash(self, index: int, point: str, hit: int, mode: str) -> None:
        saga = self.pick(index)
        if saga is None:
            return
        hits = [0]

        def crashpoint(name: str) -> None:
            if name == point:
                hits[0] += 1
                if hits[0] == hit:
                    raise SimulatedCrash(name)

        self.cb.sagas.set_crashpoint(crashpoint)
        self.clinic.gateway.set_mode(mode)
        with contextlib.suppress(SimulatedCrash):
            self.cb.sagas.advance(saga.id)
        self.clinic = self.clinic.restart()  # nothing but storage and gateway survives
        self.remember()

    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        if not self.events:
            return
        for event in data.draw(st.lists(st.sampled_from(self.events), max_size=4)):
            self.cb.sagas.handle_event(event)
        self.remember()

    @rule(index=st.integers(0, 50), times=st.integers(1, 2))
    def webhook(self, index: int, times: int) -> None:
        intents = self.clinic.gateway.intents()
        if not intents:
            return
        hook = self.clinic.gateway.webhook_for(
            intents[index % len(intents)].id, SECRET, self.clinic.clock.now()
        )
        for _ in range(times):
            with contextlib.suppress(CarebookError):  # e.g. the gateway timing out
                self.cb.sagas.handle_webhook(hook.body, hook.signature)
        self.remember()

    @rule(minutes=st.sampled_from([1, 5, 14, 30, 24 * 60]))
    def advance_clock(self, minutes: int) -> None:
        self.clinic.clock.advance(minutes=minutes)

    @rule(index=st.integers(0, 50))
    def cancel(self, index: int) -> None:
        saga = self.pick(index)
        if saga is not None:
            with contextlib.suppress(CarebookError):  # already cancelled, in the past...
                self.cb.lifecycle.cancel(
                    ADMIN, CancelAppointment(appointment_id=saga.appointment_id)
                )
            self.remember()

    @rule(
        quota=st.integers(0, 4),
        exhausted=st.sampled_from(["reject", "proceed_without_discount"]),
        percentage=st.sampled_from(["0", "12", "50"]),
    )
    def change_config(self, quota: int, exhausted: str, percentage: str) -> None:
        org = self.clinic.org.id
        before = self.cb.pricing.config(ADMIN, org)
        try:
            self.cb.pricing.update_settings(
                ADMIN,
                organisation_id=org,
                daily_quota=quota,
                on_quota_exhausted=exhausted,
                percentage=percentage,
            )
        except QuotaBelowUsageError:
            assert self.cb.pricing.config(ADMIN, org) == before
        self.remember()

    @precondition(lambda self: bool(self.clinic.saga_ids))
    @rule()
    def resume(self) -> None:
        self.clinic.gateway.set_mode("success")
        self.cb.sagas.resume()
        self.remember()

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def money_and_quota_hold(self) -> None:
        sagas = self.clinic.sagas()
        assert money_problems(sagas, self.clinic.gateway, settled=False) == []
        with self.cb.storage.unit_of_work() as uow:
            assert quota_problems(sagas, uow.pricing.quota_used) == []

    def teardown(self) -> None:
        self.clinic.gateway.set_mode("success")
        self.cb.sagas.set_crashpoint(lambda _: None)
        self.cb.sagas.resume()
        sagas = self.clinic.sagas()
        assert money_problems(sagas, self.clinic.gateway, settled=True) == []
        with self.cb.storage.unit_of_work() as uow:
            assert quota_problems(sagas, uow.pricing.quota_used) == []


SagaMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_booking_saga_state_machine = SagaMachine.TestCase
