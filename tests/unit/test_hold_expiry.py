"""When a hold stops holding: one comparison (carebook.domain.scheduling.busy), exact to
the microsecond for the whole-second expiries an Appointment keeps."""

from __future__ import annotations

import datetime as dt

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.scheduling.appointment import AppointmentStatus
from carebook.domain.scheduling.busy import expiry_epoch, hold_blocks, hold_expiry, now_epoch
from carebook.testing import builders as b

NOW = pendulum.datetime(2030, 1, 7, 8, 10)
CLINIC = b.small_clinic()

instants = st.integers(0, 10**13).map(lambda us: NOW + dt.timedelta(microseconds=us))


def test_a_finer_expiry_is_rounded_up_to_the_next_whole_second() -> None:
    assert hold_expiry(NOW.add(microseconds=700_000)) == NOW.add(seconds=1)
    assert hold_expiry(NOW.add(microseconds=1)) == NOW.add(seconds=1)
    assert hold_expiry(NOW.add(microseconds=999_999)) == NOW.add(seconds=1)
    assert hold_expiry(NOW) == NOW
    assert hold_expiry(None) is None


def test_the_review_case_blocks_until_the_rounded_expiry() -> None:
    """Expiry asked for 08:10:00.700, looked at 08:10:00.010: still held."""
    expiry = expiry_epoch(NOW.add(microseconds=700_000))
    assert hold_blocks(expiry, now_epoch(NOW.add(microseconds=10_000)))
    assert hold_blocks(expiry, now_epoch(NOW.add(microseconds=999_999)))
    assert not hold_blocks(expiry, now_epoch(NOW.add(seconds=1)))


@given(expires=instants, now=instants)
def test_a_hold_blocks_exactly_while_now_is_before_its_rounded_expiry(
    expires: pendulum.DateTime, now: pendulum.DateTime
) -> None:
    rounded = hold_expiry(expires)
    assert rounded is not None
    assert expires <= rounded < expires + dt.timedelta(seconds=1)
    assert rounded.microsecond == 0
    assert expiry_epoch(rounded) == expiry_epoch(expires)  # stored the same either way
    assert hold_blocks(expiry_epoch(expires), now_epoch(now)) is (now < rounded)


@given(expires=instants, now=instants)
def test_an_appointment_reports_the_expiry_it_enforces(
    expires: pendulum.DateTime, now: pendulum.DateTime
) -> None:
    hold = CLINIC.appointment(
        NOW.add(days=30), status=AppointmentStatus.PROPOSED, hold_expires_at=expires
    )
    rounded = hold.hold_expires_at
    assert rounded is not None and rounded == hold_expiry(expires)
    assert hold.occupies(now) is (now < rounded)
    assert hold.occupies(now) is hold_blocks(expiry_epoch(expires), now_epoch(now))
