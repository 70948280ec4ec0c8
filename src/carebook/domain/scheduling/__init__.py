"""Scheduling: the clinic calendar and patient facts, availability, reservation rules and
appointments."""
