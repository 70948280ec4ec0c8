"""Reminders: when a patient hears of a coming visit, and how often.

:class:`ReminderPolicy` is an organisation's setting (offsets before the start, the
channels by preference, quiet hours); :func:`due_at` is the one rule for when a reminder
is due; :func:`reminders_to_send` decides, for one appointment at one moment, which
reminders go now.
"""

from carebook.domain.reminders.policy import (
    DEFAULT_POLICY,
    MAX_OFFSET_MINUTES,
    ReminderPolicy,
    due_at,
    reminders_to_send,
    scan_windows,
)

__all__ = [
    "DEFAULT_POLICY",
    "MAX_OFFSET_MINUTES",
    "ReminderPolicy",
    "due_at",
    "reminders_to_send",
    "scan_windows",
]
