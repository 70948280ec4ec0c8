"""HTTP for hosts: the suggested status and an RFC 9457 problem-details body for any
:class:`~carebook.errors.CarebookError`.

carebook speaks no HTTP itself; a host's error handler calls :func:`problem_details`
and :func:`status_for` (or :func:`problem_response` for all three parts at once)::

    @app.exception_handler(CarebookError)          # FastAPI, say
    def carebook_error(request, exc):
        status, headers, body = problem_response(exc, instance=str(request.url.path))
        return JSONResponse(body, status_code=status, headers=headers)

The body's members (RFC 9457 section 3): ``type`` is ``urn:carebook:error:<code>``,
``title`` a fixed summary of that kind of error, ``status`` the suggested status,
``detail`` the error's message (patient-free by carebook's rule; for a 5xx a fixed
sentence instead, since a server's failure is no business of the caller), ``instance``
when the host passes one, and the extension members ``code`` and ``reason_code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from carebook import errors as e

__all__ = [
    "PROBLEM_JSON",
    "TYPE_PREFIX",
    "problem_details",
    "problem_response",
    "status_for",
    "title_for",
]

PROBLEM_JSON: Final = "application/problem+json"
"""The media type of a problem-details body (RFC 9457 section 3)."""
TYPE_PREFIX: Final = "urn:carebook:error:"
"""A problem ``type`` is this prefix and the error's ``code``."""

_TRANSIENT_RETRY_AFTER: Final = "1"

# (status, title) by class; an error takes the entry of its nearest listed ancestor, so
# an adapter's own subclass of AdapterError (say) maps as an AdapterError does.
_BY_CLASS: Final[Mapping[type[e.CarebookError], tuple[int, str]]] = {
    e.CarebookError: (500, "Internal error"),
    e.ValidationError: (422, "Invalid input"),
    e.WebhookSignatureError: (400, "Webhook signature not accepted"),
    e.WebhookPayloadError: (400, "Webhook payload not understood"),
    e.QuotaBelowUsageError: (409, "Quota below what is already used"),
    e.NotFoundError: (404, "Not found"),
    e.ForbiddenError: (403, "Forbidden"),
    e.ConflictError: (409, "Conflict with the current state"),
    e.SlotUnavailableError: (409, "Time not available"),
    e.IdempotencyConflictError: (422, "Idempotency key reused with another request"),
    e.InvalidTransitionError: (409, "Transition not allowed"),
    e.AlreadyCheckedInError: (409, "Already checked in"),
    e.RuleRejectedError: (409, "Refused by a booking rule"),
    e.StorageError: (503, "Storage unavailable"),
    e.TransientStorageError: (503, "Storage busy"),
    e.AdapterError: (502, "An outside service failed"),
    e.PaymentTimeoutError: (504, "Payment provider did not answer in time"),
    e.ConfigurationError: (500, "Configuration error"),
}

_SERVER_DETAIL: Final = "The server could not complete the request."


def _entry(error: e.CarebookError) -> tuple[int, str]:
    for cls in type(error).__mro__:
        found = _BY_CLASS.get(cls)
        if found is not None:
            return found
    return _BY_CLASS[e.CarebookError]  # pragma: no cover - every error is a CarebookError


def status_for(error: e.CarebookError) -> int:
    """The HTTP status a host should answer with.

    422 for input that is well-formed JSON but not acceptable (and for an idempotency
    key reused with another request, as the IETF Idempotency-Key draft suggests), 409
    for a command that clashes with the current state (a taken slot, a refused rule, a
    transition not allowed), 404, 403, 400 for a webhook that is not signed or not
    understood, 502/503/504 when an adapter or storage failed, 500 otherwise."""
    return _entry(error)[0]


def title_for(error: e.CarebookError) -> str:
    """The fixed, human-readable summary of the error's kind (RFC 9457 ``title``)."""
    return _entry(error)[1]


def problem_details(error: e.CarebookError, *, instance: str | None = None) -> dict[str, object]:
    """The RFC 9457 body for ``error``, ready for a JSON encoder."""
    status, title = _entry(error)
    body: dict[str, object] = {
        "type": TYPE_PREFIX + error.code,
        "title": title,
        "status": status,
        "detail": _SERVER_DETAIL if status >= 500 else str(error),
        "code": error.code,
    }
    if instance is not None:
        body["instance"] = instance
    if error.reason_code is not None:
        body["reason_code"] = error.reason_code
    return body


def problem_response(
    error: e.CarebookError, *, instance: str | None = None
) -> tuple[int, dict[str, str], dict[str, object]]:
    """``(status, headers, body)``: :func:`status_for`, the ``Content-Type`` (and a
    ``Retry-After`` of one second for a busy storage, which trying again resolves), and
    :func:`problem_details`."""
    headers = {"Content-Type": PROBLEM_JSON}
    if isinstance(error, e.TransientStorageError):
        headers["Retry-After"] = _TRANSIENT_RETRY_AFTER
    return status_for(error), headers, problem_details(error, instance=instance)
