"""Hypothesis strategies for carebook's values, events and commands.

Every strategy builds values through the classes' own constructors with explicit
per-field strategies, so whatever it draws is valid. Instants are UTC pendulum
DateTimes in whole seconds between the years 2000 and 2100.

One module per concept, all re-exported here: :mod:`.values` (ids, names, instants,
opening hours, money), :mod:`.calendar` (policies and calendar rows),
:mod:`.appointments`, :mod:`.events` and :mod:`.commands`.
"""

from __future__ import annotations

from carebook.testing.strategies.appointments import appointments
from carebook.testing.strategies.calendar import (
    booking_policies,
    locations,
    organisations,
    patients,
    practitioners,
    resources,
    services,
)
from carebook.testing.strategies.commands import (
    book_appointment_commands,
    cancel_appointment_commands,
    commands,
    hold_slot_commands,
)
from carebook.testing.strategies.events import events, events_of_type
from carebook.testing.strategies.values import (
    TIMEZONES,
    aware_datetimes,
    clean_text,
    codes,
    currencies,
    day_ranges,
    ids,
    intervals,
    money,
    names,
    time_ranges,
    timezones,
    weekly_hours,
)

__all__ = [
    "TIMEZONES",
    "appointments",
    "aware_datetimes",
    "book_appointment_commands",
    "booking_policies",
    "cancel_appointment_commands",
    "clean_text",
    "codes",
    "commands",
    "currencies",
    "day_ranges",
    "events",
    "events_of_type",
    "hold_slot_commands",
    "ids",
    "intervals",
    "locations",
    "money",
    "names",
    "organisations",
    "patients",
    "practitioners",
    "resources",
    "services",
    "time_ranges",
    "timezones",
    "weekly_hours",
]
