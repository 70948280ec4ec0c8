"""Scheduling: the clinic calendar, availability, reservation rules and appointments."""
