"""Reminders: the scan that sends what is due, and the ``cb.reminders`` facade."""
