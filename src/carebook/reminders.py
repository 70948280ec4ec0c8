"""Reminders: the public names (see docs/reminders.md)."""

from carebook.domain.reminders import DEFAULT_POLICY, ReminderPolicy, due_at
from carebook.services.reminders.service import Reminders

__all__ = ["DEFAULT_POLICY", "ReminderPolicy", "Reminders", "due_at"]
