"""The delivery rules of the domain: backoff with jitter, dead letters after N attempts,
claims and their leases, an admin's retry; and the scrubber that keeps contact data out
of a stored error."""

from __future__ import annotations

import re
import uuid

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.delivery import (
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    event_settled,
    next_due,
)
from carebook.domain.ids import EventId
from carebook.domain.redaction import MAX_LENGTH, describe_failure, scrub
from carebook.errors import ConfigurationError, ValidationError

NOW = pendulum.datetime(2030, 3, 1, 9, tz="UTC")
POLICY = RetryPolicy(max_attempts=4, base_delay_seconds=10, max_delay_seconds=60)
jitters = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


def new(consumer: str = "publisher") -> Delivery:
    return Delivery.new(EventId(uuid.uuid4()), consumer, NOW)


# -- backoff -----------------------------------------------------------------------------------


@given(attempts=st.integers(min_value=1, max_value=200), jitter=jitters)
def test_the_delay_doubles_up_to_the_cap_and_jitter_keeps_it_in_its_upper_half(
    attempts: int, jitter: float
) -> None:
    ceiling = min(60, 10 * 2 ** (attempts - 1))
    delay = POLICY.delay(attempts, jitter).total_seconds()
    assert ceiling / 2 <= delay <= ceiling


@given(attempts=st.integers(min_value=1, max_value=10), a=jitters, b=jitters)
def test_more_jitter_never_means_a_shorter_wait(attempts: int, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert POLICY.delay(attempts, low) <= POLICY.delay(attempts, high)


def test_the_default_delays_are_thirty_seconds_doubling_to_an_hour() -> None:
    policy = RetryPolicy()
    ceilings = [policy.delay(n, 0.999_999).total_seconds() for n in range(1, 9)]
    assert [round(c) for c in ceilings] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert policy.max_attempts == 8


@pytest.mark.parametrize(("attempts", "jitter"), [(0, 0.5), (1, 1.0), (1, -0.1)])
def test_a_delay_outside_its_domain_is_refused(attempts: int, jitter: float) -> None:
    with pytest.raises(ValidationError):
        POLICY.delay(attempts, jitter)


@pytest.mark.parametrize(
    "options",
    [{"max_attempts": 0}, {"base_delay_seconds": 1.5}, {"max_delay_seconds": 5}, {"retries": 3}],
)
def test_bad_delivery_options_fail_at_configuration(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy.from_options({"base_delay_seconds": 10, **options})


# -- states --------------------------------------------------------------------------------------


def test_a_claim_counts_an_attempt_and_holds_a_lease() -> None:
    held = new().claimed(NOW, "t1", POLICY)
    assert (held.attempts, held.claim, held.version) == (1, "t1", 1)
    assert held.next_attempt_at == NOW.add(seconds=POLICY.lease_seconds)
    assert not held.due(NOW.add(seconds=POLICY.lease_seconds - 1))
    assert held.due(NOW.add(seconds=POLICY.lease_seconds)), "a dead dispatcher's lease runs out"
    with pytest.raises(ValidationError):
        held.claimed(NOW, "t2", POLICY)


def test_a_failure_waits_for_its_backoff_and_the_last_attempt_is_dead() -> None:
    delivery, now = new(), NOW
    for attempt in range(1, POLICY.max_attempts + 1):
        delivery = delivery.claimed(now, f"t{attempt}", POLICY)
        delivery = delivery.failed(now, f"t{attempt}", f"E: {attempt}", POLICY, 0.0)
        if attempt < POLICY.max_attempts:
            assert delivery.status is DeliveryStatus.PENDING
            assert delivery.next_attempt_at == now + POLICY.delay(attempt, 0.0)
            assert delivery.next_attempt_at is not None
            assert not delivery.due(now)
            now = delivery.next_attempt_at
    assert delivery.status is DeliveryStatus.DEAD
    assert (delivery.attempts, delivery.last_error, delivery.next_attempt_at) == (4, "E: 4", None)
    assert not delivery.due(now.add(years=1))


def test_a_failure_reported_under_a_lost_claim_changes_nothing_but_a_success_counts() -> None:
    first = new().claimed(NOW, "t1", POLICY)
    later = NOW.add(seconds=POLICY.lease_seconds)
    second = first.claimed(later, "t2", POLICY)
    assert second.failed(later, "t1", "E", POLICY, 0.5) is second
    done = second.succeeded(later)
    assert done.status is DeliveryStatus.DELIVERED
    assert done.succeeded(later) is done
    assert done.failed(later, "t2", "E", POLICY, 0.5) is done


def test_an_admin_retry_gives_a_dead_letter_a_fresh_set_of_attempts() -> None:
    delivery = new()
    for n in range(POLICY.max_attempts):
        delivery = delivery.claimed(NOW.add(hours=n), "t", POLICY)
        delivery = delivery.failed(NOW.add(hours=n), "t", "E: down", POLICY, 0.5)
    retried = delivery.retried(NOW.add(days=1))
    assert (retried.status, retried.attempts) == (DeliveryStatus.PENDING, 0)
    assert retried.due(NOW.add(days=1))
    assert retried.last_error == "E: down"
    with pytest.raises(ValidationError):
        retried.retried(NOW.add(days=1))


def test_an_event_is_settled_when_every_consumer_is_delivered_or_dead() -> None:
    a, b = new("a"), new("b")
    delivered = a.claimed(NOW, "t", POLICY).succeeded(NOW)
    pending = b.claimed(NOW, "t", POLICY).failed(NOW, "t", "E", POLICY, 0.0)
    assert not event_settled(["a", "b"], {"a": delivered, "b": pending})
    assert not event_settled(["a", "b"], {"a": delivered}), "an untried consumer is not settled"
    single = RetryPolicy(max_attempts=1)
    dead = b.claimed(NOW, "t", single).failed(NOW, "t", "E", single, 0.0)
    assert event_settled(["a", "b"], {"a": delivered, "b": dead})
    assert event_settled([], {})
    assert next_due([delivered, pending, dead]) == pending.next_attempt_at
    assert next_due([delivered, dead]) is None


# -- the scrubber -----------------------------------------------------------------------------

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80)
DIGITS4 = re.compile(r"\S*(?:\d\S*){4,}")
UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


@given(before=texts, email=st.emails(), after=texts)
def test_an_email_address_never_survives(before: str, email: str, after: str) -> None:
    out = scrub(f"{before} {email} {after}")
    assert email not in out
    assert "@" not in out


@given(
    phone=st.from_regex(r"\A\+?\d{1,3}[ .-]?\(?\d{3,4}\)?[ .-]?\d{3,4}[ .-]?\d{2,4}\Z"),
    before=texts,
)
def test_a_phone_number_never_survives(phone: str, before: str) -> None:
    out = scrub(f"{before} call {phone} now")
    assert phone not in out
    digits = "".join(ch for ch in phone if ch.isdigit())
    assert digits not in "".join(ch for ch in out if ch.isdigit())


@given(text=texts)
def test_scrubbed_text_has_no_digit_heavy_word_and_scrubs_to_itself(text: str) -> None:
    out = scrub(text)
    assert scrub(out) == out
    assert "@" not in out
    for word in UUID_TEXT.sub(" ", out).split():
        assert sum(ch.isdigit() for ch in word) < 4, word


@given(ident=st.uuids(), text=texts)
def test_carebook_ids_are_kept(ident: uuid.UUID, text: str) -> None:
    out = scrub(f"{text} event {ident} correlation {ident.hex}.")
    assert str(ident) in out
    if any(ch in "abcdef" for ch in ident.hex):
        assert ident.hex in out


def test_a_failure_keeps_the_class_the_words_and_short_codes() -> None:
    message = "550 5.1.1 <alice.smith@example.org>: mailbox unavailable, call +44 7700 900123"
    assert describe_failure("SMTPRecipientsRefused", message) == (
        "SMTPRecipientsRefused: 550 5.1.1 <email> mailbox unavailable, call <number>"
    )
    assert describe_failure("TimeoutError", "") == "TimeoutError"
    assert (
        describe_failure("E", "born 1984-03-02\nmember 00123456")
        == "E: born <number> member <number>"
    )


@given(text=st.text(max_size=3000))
def test_a_described_failure_is_one_short_line(text: str) -> None:
    out = describe_failure("RuntimeError", text)
    assert len(out) <= MAX_LENGTH
    assert "\n" not in out
    assert out.startswith("RuntimeError")
