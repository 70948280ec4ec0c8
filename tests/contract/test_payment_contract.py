"""The simulated payment gateway passes the PaymentGateway contract suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.domain.payments.payment import PaymentStatus
from carebook.ports import PaymentGateway
from carebook.testing.contracts import PaymentGatewayContract


class TestSimulatedPaymentGateway(PaymentGatewayContract):
    @pytest.fixture
    def gateway(self) -> Iterator[PaymentGateway]:
        yield SimulatedPaymentGateway(mode="success")

    def test_the_ledger_matches_what_the_port_reports(self) -> None:
        gateway = SimulatedPaymentGateway()
        intent = self.captured(gateway)
        gateway.refund(intent.id, amount=345, idempotency_key="ref-1")
        assert gateway.captured_total() == gateway.retrieve(intent.id).amount_captured
        assert gateway.refunded_total() == gateway.retrieve(intent.id).amount_refunded == 345


class TestSimulatedGatewayInRandomModeWithNoFailures(PaymentGatewayContract):
    """Random mode with a failure rate of 0 behaves like success mode."""

    @pytest.fixture
    def gateway(self) -> Iterator[PaymentGateway]:
        yield SimulatedPaymentGateway(mode="random", seed=7, failure_rate=0)

    def test_every_authorisation_is_approved(self, gateway: PaymentGateway) -> None:
        statuses = {self.authorise(gateway, f"k{i}").status for i in range(50)}
        assert statuses == {PaymentStatus.AUTHORISED}
