"""carebook.http: every error has a stable code, a status and an RFC 9457 body."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pytest

import carebook_sqlalchemy.migrate  # noqa: F401  (its errors join the hierarchy)
from carebook import errors as e
from carebook.http import PROBLEM_JSON, TYPE_PREFIX, problem_details, problem_response, status_for
from carebook.testing.world import at, make_world

SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def _subclasses(cls: type[e.CarebookError]) -> Iterator[type[e.CarebookError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


ALL: list[type[e.CarebookError]] = [e.CarebookError, *_subclasses(e.CarebookError)]
PUBLIC = [
    cls
    for cls in ALL
    if not cls.__name__.startswith("_") and cls.__module__.split(".")[0] != "tests"
]


def test_the_hierarchy_is_found_in_core_and_adapter() -> None:
    names = {cls.__name__ for cls in PUBLIC}
    assert {"SlotUnavailableError", "RuleRejectedError", "SchemaNotCurrentError"} <= names
    assert len(PUBLIC) >= 22


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_every_public_error_class_names_its_own_snake_case_code(
    cls: type[e.CarebookError],
) -> None:
    assert "code" in vars(cls), f"{cls.__name__} inherits its code"
    assert SNAKE.match(cls.code)


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in PUBLIC]
    assert len(codes) == len(set(codes))


def _examples() -> list[tuple[e.CarebookError, int]]:
    return [
        (e.ValidationError("start must be aware"), 422),
        (e.WebhookSignatureError("signature_mismatch", "bad"), 400),
        (e.WebhookPayloadError("not an event"), 400),
        (e.QuotaBelowUsageError("quota below usage"), 409),
        (e.NotFoundError("appointment", uuid.UUID(int=1)), 404),
        (e.ForbiddenError("no"), 403),
        (e.SlotUnavailableError("taken"), 409),
        (e.IdempotencyConflictError("reused"), 422),
        (e.InvalidTransitionError("appointment", "cancelled", "confirm"), 409),
        (e.AlreadyCheckedInError("queued"), 409),
        (e.RuleRejectedError("minimum_notice", "too late"), 409),
        (e.StorageError("down"), 503),
        (e.TransientStorageError("busy"), 503),
        (e.AdapterError("smtp 451"), 502),
        (e.PaymentTimeoutError("capture", "k1"), 504),
        (e.ConfigurationError("bad"), 500),
        (e.UnknownAdapterError("notifier", "fax", ["smtp"]), 500),
        (e.CarebookError("?"), 500),
    ]


@pytest.mark.parametrize(("error", "status"), _examples(), ids=lambda x: type(x).__name__)
def test_status_for_each_kind(error: e.CarebookError, status: int) -> None:
    assert status_for(error) == status
    body = problem_details(error)
    assert body["status"] == status
    assert body["type"] == TYPE_PREFIX + error.code
    assert body["code"] == error.code
    assert isinstance(body["title"], str) and body["title"]
    json.dumps(body)  # ready for any JSON encoder


def test_client_errors_carry_the_message_server_errors_do_not() -> None:
    client = problem_details(e.RuleRejectedError("minimum_notice", "book 2 h ahead"))
    assert client["detail"] == "minimum_notice: book 2 h ahead"
    assert client["reason_code"] == "minimum_notice"
    server = problem_details(e.StorageError("connection to db.internal:5432 refused"))
    assert "db.internal" not in str(server)
    assert "reason_code" not in server


def test_instance_and_headers() -> None:
    status, headers, body = problem_response(e.TransientStorageError("busy"), instance="/book")
    assert (status, headers["Content-Type"], headers["Retry-After"]) == (503, PROBLEM_JSON, "1")
    assert body["instance"] == "/book"
    _, plain, _ = problem_response(e.NotFoundError("patient", uuid.UUID(int=2)))
    assert "Retry-After" not in plain


def test_an_adapters_own_subclass_maps_as_its_nearest_ancestor() -> None:
    class SmsGatewayRefused(e.AdapterError):
        code = "sms_refused"

    body = problem_details(SmsGatewayRefused("provider said 21610"))
    assert (body["status"], body["type"]) == (502, TYPE_PREFIX + "sms_refused")


def test_a_real_refusal_from_the_facade_becomes_a_409_with_its_reason() -> None:
    w = make_world(dispatch="manual")
    w.book(w.alice, at(10))
    with pytest.raises(e.CarebookError) as caught:
        w.book(w.bob, at(10))
    body = problem_details(caught.value)
    assert body["status"] == 409
    assert body["reason_code"] == "practitioner_busy"
    assert str(w.bob.id) not in json.dumps(body)
