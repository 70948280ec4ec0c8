"""Business settings: per organisation, overridable per location. Never constants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from attrs import frozen

from carebook.domain.validators import instance_of
from carebook.errors import ValidationError

__all__ = ["MAX_RESCHEDULES", "BookingPolicy"]

MAX_RESCHEDULES = 100
"""The highest ``max_reschedules`` a policy may set."""


def _minutes(low: int, high: int) -> Callable[[Any, attrs.Attribute[int], int], None]:
    def check(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{attribute.name} must be a whole number")
        if not low <= value <= high:
            raise ValidationError(f"{attribute.name} must be between {low} and {high}")

    return check


@frozen(kw_only=True)
class BookingPolicy:
    """The knobs a clinic turns; every duration is in whole minutes.

    - ``slot_interval``: spacing of offered start times, from each working block's start.
    - ``min_notice``: how soon before its start a slot may still be booked.
    - ``horizon_days``: how far ahead bookings are accepted.
    - ``hold_minutes``: how long a proposed hold keeps its slot.
    - ``cancel_notice``: how soon before start a patient may still cancel (staff override).
    - ``reschedule_notice``: how soon before its (current) start an appointment may still
      be moved, and ``max_reschedules``: how many times one appointment may be moved.
      Staff may override both by giving a reason, which is recorded with the move.
    - ``session_window_before`` / ``session_window_after``: when a treatment session may
      start, relative to the appointment's start.
    - ``no_show_grace``: how long after the start a no-show may be recorded.
    - ``require_confirmation``: bookings wait in ``pending`` until reception confirms.
    """

    slot_interval: int = attrs.field(default=15, validator=_minutes(1, 1440))
    min_notice: int = attrs.field(default=60, validator=_minutes(0, 525_600))
    horizon_days: int = attrs.field(default=90, validator=_minutes(1, 3660))
    hold_minutes: int = attrs.field(default=10, validator=_minutes(1, 1440))
    cancel_notice: int = attrs.field(default=0, validator=_minutes(0, 525_600))
    reschedule_notice: int = attrs.field(default=0, validator=_minutes(0, 525_600))
    max_reschedules: int = attrs.field(default=3, validator=_minutes(0, MAX_RESCHEDULES))
    session_window_before: int = attrs.field(default=30, validator=_minutes(0, 1440))
    session_window_after: int = attrs.field(default=60, validator=_minutes(0, 1440))
    no_show_grace: int = attrs.field(default=15, validator=_minutes(0, 1440))
    require_confirmation: bool = attrs.field(default=True, validator=instance_of(bool))
