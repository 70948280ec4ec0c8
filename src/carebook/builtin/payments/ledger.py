"""The simulated gateway's ledger: every movement, append-only, with totals for tests."""

from __future__ import annotations

import threading

from attrs import frozen

from carebook.domain.payments.payment import PaymentIntent, PaymentStatus
from carebook.errors import ValidationError

__all__ = ["Ledger", "LedgerEntry"]

_REFUNDS = (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED)


@frozen(kw_only=True)
class LedgerEntry:
    """One movement. ``kind`` is the status it produced: ``authorised`` (a hold),
    ``failed`` (a decline), ``pending`` (an unanswered call), ``captured``, ``cancelled``,
    ``partially_refunded`` or ``refunded`` (``amount`` is what this movement refunded)."""

    sequence: int
    kind: PaymentStatus
    intent_id: str
    amount: int
    currency: str
    idempotency_key: str


class Ledger:
    """Append-only and thread-safe; readers get snapshots."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LedgerEntry] = []

    def record(self, kind: PaymentStatus, intent: PaymentIntent, amount: int, key: str) -> None:
        with self._lock:
            self._entries.append(
                LedgerEntry(
                    sequence=len(self._entries) + 1,
                    kind=kind,
                    intent_id=intent.id,
                    amount=amount,
                    currency=intent.currency,
                    idempotency_key=key,
                )
            )

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        with self._lock:
            return tuple(self._entries)

    def charges_for(self, idempotency_key: str) -> tuple[LedgerEntry, ...]:
        return tuple(e for e in self.entries if e.idempotency_key == idempotency_key)

    def total(self, kinds: tuple[PaymentStatus, ...], currency: str | None) -> int:
        """Sum of the movements of ``kinds``; ``currency`` is required when the ledger
        holds several (adding yen to euros means nothing)."""
        entries = self.entries
        if currency is None and len({e.currency for e in entries}) > 1:
            raise ValidationError("the ledger holds several currencies: name one")
        return sum(
            e.amount
            for e in entries
            if e.kind in kinds and (currency is None or e.currency == currency)
        )

    def captured(self, currency: str | None) -> int:
        return self.total((PaymentStatus.CAPTURED,), currency)

    def refunded(self, currency: str | None) -> int:
        return self.total(_REFUNDS, currency)
