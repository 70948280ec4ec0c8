"""The reminder policy and the rule for when a reminder is due.

**Due time.** A reminder ``offset`` minutes before an appointment is due at
``start - offset`` as elapsed time, computed on the UTC instant: a reminder 24 hours
before a Monday 09:00 visit in Berlin after the spring change is due at Sunday 08:00
local time, 24 real hours earlier, not at "the same wall time the day before".

**Quiet hours.** If that instant falls inside the location's quiet hours (local wall
time, e.g. 21:00 to 08:00), the reminder moves **earlier**, to the start of that quiet
period, so the patient still hears before the visit and is never woken. (Later would be
safer for sleep but can land after the visit: a 2-hour reminder for 08:30 is due at 06:30;
moved later it would be 08:00, moved earlier it is 21:00 the evening before.)

**Which go now.** At ``now``, an appointment that still occupies its time and has not
started gets the reminders that are due; when several are due at once (the worker was
down), only the one nearest the start is sent and the others are recorded as passed, so
a patient never gets two reminders in one go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import attrs
import pendulum
from attrs import frozen

from carebook.domain.instants import zone
from carebook.errors import ValidationError

__all__ = [
    "DEFAULT_POLICY",
    "MAX_OFFSET_MINUTES",
    "ReminderPolicy",
    "due_at",
    "reminders_to_send",
]

MAX_OFFSET_MINUTES = 30 * 24 * 60
"""The earliest a reminder may be: 30 days before the start."""
_CHANNEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


def _offsets(value: object) -> tuple[int, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("offsets must be a list of minutes before the start")
    items = tuple(value)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int):
            raise ValidationError("each reminder offset must be a whole number of minutes")
        if not 1 <= item <= MAX_OFFSET_MINUTES:
            raise ValidationError(
                f"each reminder offset must be from 1 to {MAX_OFFSET_MINUTES} minutes"
            )
    if len(set(items)) != len(items):
        raise ValidationError("reminder offsets must not repeat")
    if len(items) > 10:
        raise ValidationError("a policy has at most 10 reminder offsets")
    return tuple(sorted(items, reverse=True))


def _channels(value: object) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("channels must be a list of channel names, e.g. ['email', 'sms']")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str) or not 1 <= len(item) <= 32 or set(item) - _CHANNEL_CHARS:
            raise ValidationError("a channel name is 1 to 32 lower-case letters, digits, - or _")
    if len(set(items)) != len(items):
        raise ValidationError("reminder channels must not repeat")
    return items


def _quiet(_: object, attribute: attrs.Attribute[dt.time | None], value: object) -> None:
    if value is not None and (not isinstance(value, dt.time) or value.tzinfo is not None):
        raise ValidationError(f"{attribute.name} must be a local time of day (no zone) or None")


@frozen(kw_only=True)
class ReminderPolicy:
    """An organisation's reminders.

    - ``offsets``: minutes before the start, each from 1 to 30 days, no repeats (kept
      latest first); empty means no reminders.
    - ``channels``: channel names by preference (``"email"``, ``"sms"``): a reminder
      goes on the first of them the recipient can be reached on, and on no other
      (:meth:`channel_for`). Empty means every channel notifier sends it.
    - ``quiet_from`` / ``quiet_until``: local quiet hours at the location (both or
      neither); ``quiet_from`` after ``quiet_until`` spans midnight.
    """

    offsets: tuple[int, ...] = attrs.field(default=(24 * 60, 2 * 60), converter=_offsets)
    channels: tuple[str, ...] = attrs.field(default=(), converter=_channels)
    quiet_from: dt.time | None = attrs.field(default=None, validator=_quiet)
    quiet_until: dt.time | None = attrs.field(default=None, validator=_quiet)

    def channel_for(self, channel: str, reachable: Callable[[str], bool]) -> bool:
        """Whether a reminder goes out on ``channel``: always when no preference is
        set; else only when ``channel`` is the first preferred one that
        ``reachable(name)`` says the recipient can be reached on."""
        if not self.channels:
            return True
        chosen = next((c for c in self.channels if reachable(c)), None)
        return chosen == channel

    def __attrs_post_init__(self) -> None:
        if (self.quiet_from is None) != (self.quiet_until is None):
            raise ValidationError("quiet_from and quiet_until go together")
        if self.quiet_from is not None and self.quiet_from == self.quiet_until:
            raise ValidationError("quiet hours must not start and end at the same time")

    @property
    def longest(self) -> int:
        """The largest offset (minutes), 0 for none: how far ahead a scan must look."""
        return self.offsets[0] if self.offsets else 0

    @property
    def earliest_shift(self) -> int:
        """The most minutes quiet hours can move a reminder earlier: their local length,
        plus an hour for a daylight-saving night; 0 without quiet hours."""
        if self.quiet_from is None or self.quiet_until is None:
            return 0
        begin = self.quiet_from.hour * 60 + self.quiet_from.minute
        end = self.quiet_until.hour * 60 + self.quiet_until.minute
        return (end - begin) % (24 * 60) + 60


def scan_windows(policies: Iterable[ReminderPolicy], now: int) -> tuple[tuple[int, int], ...]:
    """``(offset, latest start)`` pairs, epoch seconds, for a scan at ``now``: an
    appointment starting after ``now`` can be due for ``offset`` only if it starts by
    that latest start (the offset, plus the largest quiet-hours shift of any policy).
    Every offset of any of ``policies``, largest first."""
    stored = list(policies)
    offsets = sorted({o for p in stored for o in p.offsets}, reverse=True)
    shift = max((p.earliest_shift for p in stored), default=0)
    return tuple((o, now + (o + shift) * 60) for o in offsets)


DEFAULT_POLICY = ReminderPolicy()
"""24 hours and 2 hours before, on every channel, no quiet hours."""


def _quiet_start(local: pendulum.DateTime, policy: ReminderPolicy) -> pendulum.DateTime | None:
    """The start of the quiet period ``local`` is in, or None."""
    begin, end = policy.quiet_from, policy.quiet_until
    if begin is None or end is None:
        return None
    t = local.time().replace(tzinfo=None)
    day = local.date()
    if begin < end:
        inside, start_day = begin <= t < end, day
    elif t >= begin:
        inside, start_day = True, day
    else:
        inside, start_day = t < end, day - dt.timedelta(days=1)
    if not inside:
        return None
    return pendulum.datetime(
        start_day.year,
        start_day.month,
        start_day.day,
        begin.hour,
        begin.minute,
        begin.second,
        tz=local.timezone,
    )


def due_at(
    start: pendulum.DateTime, offset: int, policy: ReminderPolicy, timezone: str
) -> pendulum.DateTime:
    """When the reminder ``offset`` minutes before ``start`` is due (UTC): see the
    module docstring."""
    raw = start.in_timezone("UTC").subtract(minutes=offset)
    quiet = _quiet_start(raw.in_timezone(zone(timezone)), policy)
    if quiet is None:
        return raw
    moved = quiet.in_timezone("UTC")
    return moved if moved <= raw else raw  # a DST gap at the quiet start never moves it later


def reminders_to_send(
    start: pendulum.DateTime,
    policy: ReminderPolicy,
    timezone: str,
    now: pendulum.DateTime,
    already: frozenset[int] = frozenset(),
) -> tuple[int | None, tuple[int, ...]]:
    """``(offset to send now or None, offsets that passed unsent)`` for an appointment
    starting at ``start`` that occupies its time: the due offsets not in ``already``;
    the one nearest the start is sent, earlier ones are recorded as passed. Nothing once
    the appointment has started."""
    if now >= start:
        return None, ()
    due = [
        o for o in policy.offsets if o not in already and due_at(start, o, policy, timezone) <= now
    ]
    if not due:
        return None, ()
    nearest = min(due)
    return nearest, tuple(o for o in due if o != nearest)
