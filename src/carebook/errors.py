"""The error hierarchy: one root, a family per kind of failure.

Every error raised by carebook (and by a well-behaved adapter) is a
:class:`CarebookError`. Messages name ids and reason codes, never patient data.
A command that raises has changed nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

__all__ = [
    "AdapterError",
    "AlreadyCheckedInError",
    "CarebookError",
    "ConfigurationError",
    "ConflictError",
    "DuplicateAdapterError",
    "ForbiddenError",
    "IdempotencyConflictError",
    "InvalidTransitionError",
    "NotFoundError",
    "PaymentTimeoutError",
    "QuotaBelowUsageError",
    "RuleRejectedError",
    "SlotUnavailableError",
    "StorageError",
    "TransientStorageError",
    "UnknownAdapterError",
    "ValidationError",
    "WebhookPayloadError",
    "WebhookSignatureError",
]


class CarebookError(Exception):
    """Root of every error carebook raises.

    ``code`` names the kind of error: stable, snake_case and unique per class (an
    adapter's own subclass sets its own). ``reason_code``, where an error has one, names
    the particular rule or case (``practitioner_busy``, ``minimum_notice``...); it is
    None otherwise. Hosts branch on these, never on the message.
    :mod:`carebook.http` maps them to HTTP statuses and problem-details bodies.
    """

    code: ClassVar[str] = "carebook_error"
    reason_code: str | None = None


class ValidationError(CarebookError, ValueError):
    """Input is malformed: naive datetime, end before start, float money, unknown zone..."""

    code: ClassVar[str] = "invalid_input"


class NotFoundError(CarebookError, LookupError):
    """The thing named does not exist (or, to a patient, is not theirs)."""

    code: ClassVar[str] = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class ConflictError(CarebookError):
    """The command is well-formed but clashes with the current state."""

    code: ClassVar[str] = "conflict"


class SlotUnavailableError(ConflictError):
    """The time is already taken for a practitioner, resource or patient."""

    code: ClassVar[str] = "slot_unavailable"

    reason_code = "slot_unavailable"


class IdempotencyConflictError(ConflictError):
    """An idempotency key was reused with a different request."""

    code: ClassVar[str] = "idempotency_conflict"

    reason_code = "idempotency_conflict"


class InvalidTransitionError(ConflictError):
    """A lifecycle transition not allowed from the current status."""

    code: ClassVar[str] = "invalid_transition"

    def __init__(self, entity: str, current: str, action: str) -> None:
        article = "an" if entity[:1] in "aeiou" else "a"
        super().__init__(f"cannot {action} {article} {entity} that is {current}")
        self.entity = entity
        self.current = current
        self.action = action


class RuleRejectedError(CarebookError):
    """A business rule refused the command.

    ``reason_code`` is stable and machine-readable (``minimum_notice``,
    ``location_closed`` ...); the message is for people.
    """

    code: ClassVar[str] = "rule_rejected"
    reason_code: str

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(f"{reason_code}: {message}")
        self.reason_code = reason_code
        self.message = message


class ForbiddenError(CarebookError, PermissionError):
    """The actor may not perform this use case on this object."""

    code: ClassVar[str] = "forbidden"


class StorageError(CarebookError):
    """A storage adapter failed (driver error, unreachable database...)."""

    code: ClassVar[str] = "storage_failed"


class TransientStorageError(StorageError):
    """A conflict that trying again resolves (serialization failure, deadlock, a busy
    SQLite file). The service layer re-runs the unit of work a bounded number of times."""

    code: ClassVar[str] = "storage_busy"


class AdapterError(CarebookError):
    """Any other adapter (notifier, gateway, clock) failed."""

    code: ClassVar[str] = "adapter_failed"


class ConfigurationError(CarebookError):
    """The configuration or plugin set-up is wrong."""

    code: ClassVar[str] = "misconfigured"


class UnknownAdapterError(ConfigurationError, LookupError):
    """No adapter is registered under the requested name."""

    code: ClassVar[str] = "unknown_adapter"

    def __init__(self, kind: str, name: str, installed: Iterable[str]) -> None:
        names = ", ".join(sorted(installed)) or "(none)"
        super().__init__(f"no {kind} adapter named {name!r}; installed: {names}")
        self.kind = kind
        self.name = name
        self.installed = tuple(sorted(installed))


class DuplicateAdapterError(ConfigurationError):
    """Two plugins registered an adapter under the same name."""

    code: ClassVar[str] = "duplicate_adapter"

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} adapter {name!r} is registered twice")
        self.kind = kind
        self.name = name


class PaymentTimeoutError(AdapterError):
    """A payment gateway call did not answer in time: it **may have acted**.

    Retry with the same idempotency key (which never acts twice) or read the intent back;
    ``operation`` and ``idempotency_key`` say which call it was.
    """

    code: ClassVar[str] = "payment_timeout"

    reason_code = "payment_timeout"

    def __init__(self, operation: str, idempotency_key: str) -> None:
        super().__init__(f"payment {operation} timed out (idempotency key {idempotency_key})")
        self.operation = operation
        self.idempotency_key = idempotency_key


class WebhookSignatureError(ValidationError):
    """A webhook's signature header is missing, malformed, wrong or out of time.

    ``reason_code``: ``signature_missing``, ``signature_malformed``,
    ``signature_mismatch`` (a tampered body or a wrong secret), ``timestamp_too_old`` or
    ``timestamp_in_future``. The message never quotes the secret or the body.
    """

    code: ClassVar[str] = "webhook_signature"
    reason_code: str

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(f"{reason_code}: {message}")
        self.reason_code = reason_code


class WebhookPayloadError(ValidationError):
    """A correctly signed webhook whose body is not a payment event carebook understands.

    ``reason_code`` is ``webhook_malformed``; the message never quotes the body.
    """

    code: ClassVar[str] = "webhook_malformed"

    reason_code = "webhook_malformed"


class AlreadyCheckedInError(ConflictError):
    """The patient is already in a queue (checked in and not yet seen, left or gone)."""

    code: ClassVar[str] = "already_checked_in"

    reason_code = "already_checked_in"


class QuotaBelowUsageError(ValidationError):
    """A daily discount quota was set below what today has already used; nothing changed."""

    code: ClassVar[str] = "quota_below_usage"

    reason_code = "quota_below_usage"
