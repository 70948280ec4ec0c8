"""A durable journal for the simulated gateway: its state survives the process.

Every change the gateway makes (an intent stored or settled, a webhook numbered) is
appended as one JSON line and flushed to disk with ``fsync`` before the call returns,
exactly like a provider that has acted. A new gateway given the same file replays it
and answers as the old one would: the same intents, the same idempotency keys, the same
ledger. A line torn by a crash while it was written is ignored (that change never
returned to its caller). One process uses a journal at a time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from carebook.builtin.payments.ledger import Ledger
from carebook.domain.payments.payment import PaymentIntent
from carebook.errors import ConfigurationError

__all__ = ["Journal", "tuples"]


def tuples(value: Any) -> Any:
    """JSON arrays back into the tuples they were written from (fingerprints)."""
    if isinstance(value, list):
        return tuple(tuples(v) for v in value)
    return value


class Journal:
    """Append-only JSON lines, fsynced."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot open the payment ledger file: {exc}") from None

    def replay(self) -> Iterator[dict[str, Any]]:
        """Every complete record, oldest first."""
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.endswith("\n"):
                    return  # torn by a crash mid-write: the change never returned
                yield json.loads(line)

    def restore(
        self,
        intents: dict[str, PaymentIntent],
        requests: dict[str, tuple[tuple[object, ...], str]],
        ledger: Ledger,
    ) -> int:
        """Replay the file into a gateway's tables; returns how many webhook events it
        had numbered."""
        events = 0
        for record in self.replay():
            if record["op"] == "event":
                events += 1
                continue
            intent = PaymentIntent(**record["intent"])
            intents[intent.id] = intent
            if record["op"] == "store":
                requests[record["key"]] = (tuples(record["fp"]), intent.id)
                ledger.record(intent.status, intent, record["amount"], record["key"])
            else:
                ledger.record(intent.status, intent, intent.amount, intent.idempotency_key)
        return events

    def append(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()
