"""The built-in ``"simulated"`` payment gateway and its ledger."""

from carebook.builtin.payments.simulator import (
    LedgerEntry,
    SignedWebhook,
    SimulatedMode,
    SimulatedPaymentGateway,
)

__all__ = ["LedgerEntry", "SignedWebhook", "SimulatedMode", "SimulatedPaymentGateway"]
