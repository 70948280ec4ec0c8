"""Webhooks: HMAC-SHA256 signatures with a timestamp tolerance, parsing, and the reducer."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.payments.payment import STATUS_RANK, PaymentStatus
from carebook.domain.payments.webhooks import (
    EVENT_TYPES,
    PaymentState,
    PaymentWebhookEvent,
    apply_payment_event,
    fold_payment_events,
    parse_event,
    sign_payload,
    verify_and_parse,
    verify_signature,
)
from carebook.errors import ValidationError, WebhookPayloadError, WebhookSignatureError

NOW = pendulum.datetime(2025, 6, 2, 10, 0, tz="UTC")
T = int(NOW.timestamp())
SECRET = "whsec_Sentinel-Secret-K9"
BODY_MARK = "Sentinel-Body-P4"


def event(
    status: PaymentStatus,
    event_id: str = "evt_1",
    intent_id: str = "pi_1",
    refunded: int = 0,
    seconds: int = 0,
) -> PaymentWebhookEvent:
    return PaymentWebhookEvent(
        event_id=event_id,
        type=f"payment_intent.{status.value}",
        intent_id=intent_id,
        amount=4_000,
        currency="EUR",
        amount_refunded=refunded,
        created=NOW.add(seconds=seconds),
    )


BODY = event(PaymentStatus.CAPTURED).to_json()


def refusal(body: bytes, header: str | None, secret: str = SECRET, **kw: Any) -> str:
    with pytest.raises(WebhookSignatureError) as error:
        verify_signature(body, header, secret, now=kw.pop("now", NOW), **kw)
    message = str(error.value)
    assert SECRET not in message and "Sentinel" not in message
    assert BODY.decode() not in message
    return error.value.reason_code


# -- signatures --------------------------------------------------------------------------


def test_a_signed_body_verifies_and_parses() -> None:
    header = sign_payload(BODY, SECRET, T)
    assert verify_signature(BODY, header, SECRET, now=NOW) == T
    parsed = verify_and_parse(BODY, header, SECRET, now=NOW)
    assert parsed == event(PaymentStatus.CAPTURED)
    assert parsed.status is PaymentStatus.CAPTURED


def test_the_scheme_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign_payload(BODY, SECRET, T) == f"t={T},v1={expected}"
    assert sign_payload(BODY, SECRET.encode(), T) == sign_payload(BODY, SECRET, T)


def test_a_tampered_body_is_refused() -> None:
    header = sign_payload(BODY, SECRET, T)
    tampered = BODY.replace(b"4000", b"1")
    assert tampered != BODY
    assert refusal(tampered, header) == "signature_mismatch"
    assert refusal(BODY + b" ", header) == "signature_mismatch"


def test_a_wrong_secret_is_refused() -> None:
    assert refusal(BODY, sign_payload(BODY, "whsec_other", T)) == "signature_mismatch"


def test_a_changed_timestamp_breaks_the_signature() -> None:
    digest = sign_payload(BODY, SECRET, T).split("v1=")[1]
    assert refusal(BODY, f"t={T + 1},v1={digest}") == "signature_mismatch"


def test_the_timestamp_tolerance_applies_both_ways() -> None:
    assert refusal(BODY, sign_payload(BODY, SECRET, T - 301)) == "timestamp_too_old"
    assert verify_signature(BODY, sign_payload(BODY, SECRET, T - 300), SECRET, now=NOW) == T - 300
    assert refusal(BODY, sign_payload(BODY, SECRET, T + 301)) == "timestamp_in_future"
    assert verify_signature(BODY, sign_payload(BODY, SECRET, T + 300), SECRET, now=NOW)
    old = sign_payload(BODY, SECRET, T - 60)
    assert refusal(BODY, old, tolerance=30) == "timestamp_too_old"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_header_is_refused(header: str | None) -> None:
    assert refusal(BODY, header) == "signature_missing"


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"t={T}",
        "v1=" + "a" * 64,
        f"t=abc,v1={'a' * 64}",
        f"t={T},t={T},v1={'a' * 64}",
        f"t={T},v1=nothex",
        f"t={T},v1={'A' * 64}",
        f"t={T},v1={'a' * 63}",
        f"t=-{T},v1={'a' * 64}",
        f"t={T},v1={'a' * 64}," + "x=y," * 2000,
    ],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    assert refusal(BODY, header) == "signature_malformed"


def test_any_of_several_v1_signatures_may_match_during_rotation() -> None:
    good = sign_payload(BODY, SECRET, T).split("v1=")[1]
    old = sign_payload(BODY, "whsec_retired", T).split("v1=")[1]
    assert verify_signature(BODY, f"t={T},v1={old},v0=ignored,v1={good}", SECRET, now=NOW) == T


def test_bad_arguments_are_validation_errors() -> None:
    header = sign_payload(BODY, SECRET, T)
    with pytest.raises(ValidationError):
        verify_signature(BODY.decode(), header, SECRET, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        verify_signature(BODY, header, "", now=NOW)
    with pytest.raises(ValidationError):
        verify_signature(BODY, header, SECRET, now=NOW.naive())
    with pytest.raises(ValidationError):
        verify_signature(BODY, header, SECRET, now=NOW, tolerance=-1)
    with pytest.raises(ValidationError):
        sign_payload(BODY, SECRET, -5)


def test_signature_errors_are_validation_errors_with_reason_codes() -> None:
    assert issubclass(WebhookSignatureError, ValidationError)
    assert issubclass(WebhookPayloadError, ValidationError)


# -- parsing -----------------------------------------------------------------------------


def body_of(payload: Any) -> bytes:
    return json.dumps(payload).encode()


GOOD = json.loads(BODY)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not json " + BODY_MARK.encode(),
        body_of([1, 2]),
        body_of({"id": "evt", "type": "payment_intent.captured", "created": T}),
        body_of(GOOD | {"type": "charge.succeeded"}),
        body_of(GOOD | {"type": ["x"]}),
        body_of(GOOD | {"id": ""}),
        body_of(GOOD | {"created": "yesterday"}),
        body_of(GOOD | {"created": True}),
        body_of(GOOD | {"data": GOOD["data"] | {"amount": 1.5}}),
        body_of(GOOD | {"data": GOOD["data"] | {"amount": -1}}),
        body_of(GOOD | {"data": GOOD["data"] | {"currency": BODY_MARK}}),
        body_of(GOOD | {"data": {"amount": 1}}),
    ],
)
def test_a_malformed_event_is_a_payload_error_that_does_not_echo_the_body(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError) as error:
        parse_event(body)
    assert error.value.reason_code == "webhook_malformed"
    assert BODY_MARK not in str(error.value)


def test_every_status_has_an_event_type_that_round_trips() -> None:
    assert set(EVENT_TYPES.values()) == set(PaymentStatus)
    for status in PaymentStatus:
        assert parse_event(event(status).to_json()).status is status


def test_nothing_unsigned_is_parsed() -> None:
    with pytest.raises(WebhookSignatureError):
        verify_and_parse(b"{not even json", None, SECRET, now=NOW)


# -- the reducer -------------------------------------------------------------------------


def test_a_duplicate_event_is_applied_once() -> None:
    captured = event(PaymentStatus.CAPTURED)
    once = apply_payment_event(PaymentState(intent_id="pi_1"), captured)
    twice = apply_payment_event(once, captured)
    assert twice is once
    assert twice.applied == 1
    assert twice.status is PaymentStatus.CAPTURED


def test_captured_before_authorised_ends_captured() -> None:
    final = fold_payment_events(
        "pi_1",
        [event(PaymentStatus.CAPTURED, "evt_2"), event(PaymentStatus.AUTHORISED, "evt_1")],
    )
    assert final.status is PaymentStatus.CAPTURED
    assert final.applied == 2


def test_a_stale_authorised_after_a_refund_does_not_regress_it() -> None:
    final = fold_payment_events(
        "pi_1",
        [
            event(PaymentStatus.REFUNDED, "evt_3", refunded=4_000),
            event(PaymentStatus.PARTIALLY_REFUNDED, "evt_2", refunded=1_000),
            event(PaymentStatus.AUTHORISED, "evt_1"),
        ],
    )
    assert (final.status, final.amount_refunded) == (PaymentStatus.REFUNDED, 4_000)


def test_events_for_another_intent_or_currency_are_refused() -> None:
    state = PaymentState(intent_id="pi_1")
    with pytest.raises(ValidationError):
        apply_payment_event(state, event(PaymentStatus.CAPTURED, intent_id="pi_2"))
    after = apply_payment_event(state, event(PaymentStatus.AUTHORISED))
    other = PaymentWebhookEvent(
        event_id="evt_9",
        type="payment_intent.captured",
        intent_id="pi_1",
        amount=4_000,
        currency="USD",
        created=NOW,
    )
    with pytest.raises(ValidationError):
        apply_payment_event(after, other)
    assert after.status is PaymentStatus.AUTHORISED  # unchanged


def test_the_rank_is_a_total_order_over_every_status() -> None:
    assert sorted(STATUS_RANK, key=STATUS_RANK.__getitem__)[0] is PaymentStatus.PENDING
    assert len(set(STATUS_RANK.values())) == len(PaymentStatus)


LIFECYCLES = [
    [PaymentStatus.PENDING, PaymentStatus.AUTHORISED, PaymentStatus.CAPTURED],
    [PaymentStatus.AUTHORISED, PaymentStatus.CANCELLED],
    [PaymentStatus.PENDING, PaymentStatus.FAILED],
    [
        PaymentStatus.AUTHORISED,
        PaymentStatus.CAPTURED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    ],
]


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[PaymentWebhookEvent], list[PaymentWebhookEvent]]:
    """One intent's events in order, and the same events shuffled and repeated."""
    statuses = draw(st.sampled_from(LIFECYCLES))
    refunded = 0
    events = []
    for i, status in enumerate(statuses):
        if status is PaymentStatus.PARTIALLY_REFUNDED:
            refunded += 1_000
        elif status is PaymentStatus.REFUNDED:
            refunded = 4_000
        events.append(event(status, f"evt_{i}", refunded=refunded, seconds=i))
    repeats = draw(st.lists(st.sampled_from(events), max_size=2 * len(events)))
    delivered = draw(st.permutations(events + repeats))
    return events, delivered


@given(deliveries())
def test_the_final_state_is_independent_of_order_and_duplication(
    case: tuple[list[PaymentWebhookEvent], list[PaymentWebhookEvent]],
) -> None:
    in_order, delivered = case
    expected = fold_payment_events("pi_1", in_order)
    assert fold_payment_events("pi_1", delivered) == expected
    assert expected.status is in_order[-1].status
    assert expected.applied == len(in_order)
