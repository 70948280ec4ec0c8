"""The iCalendar (RFC 5545) attachment of a booking, reschedule or cancellation notice.

One ``VEVENT`` per appointment, its ``UID`` the appointment's id, so that a calendar
client that imported the booking updates the same entry on a reschedule and marks it
cancelled on a cancellation. Times carry the location's zone (``TZID`` with its
``VTIMEZONE``), so the entry shows the clinic's wall-clock time wherever the reader is.
The entry's title (``SUMMARY``) is what a calendar shows all day long: the service and
the clinic (``Check-up · Praxis Mitte``), the same on every notice about the visit, not
the notice's subject ("... is booked"); the notice's text is its ``DESCRIPTION``.
``METHOD:PUBLISH``: carebook publishes the visit; it is not a meeting invitation that
asks the patient to reply.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import pendulum
from icalendar import Calendar, Event, Timezone

from carebook.domain.messaging import Attachment, OutboundMessage

__all__ = ["ICS_KINDS", "invitation"]

ICS_KINDS = frozenset({"appointment_booked", "appointment_rescheduled", "appointment_cancelled"})
"""The notices that carry an ``.ics`` (the visit's entry, or its cancellation)."""

_PRODID = "-//carebook//carebook-smtp//EN"


def invitation(message: OutboundMessage, now: pendulum.DateTime | None = None) -> Attachment | None:
    """The ``.ics`` for ``message``, or None when its kind has none or it has no time."""
    context = message.context
    if context.kind not in ICS_KINDS or context.start is None:
        return None
    zone = ZoneInfo(context.timezone)
    stamp = (now or pendulum.now("UTC")).in_timezone("UTC")
    event = Event()
    event.add("uid", f"{context.notification.appointment_id}@carebook")
    event.add("dtstamp", stamp)
    event.add("dtstart", context.start.in_timezone("UTC").astimezone(zone))
    end = context.end or context.start
    event.add("dtend", end.in_timezone("UTC").astimezone(zone))
    # Each notice supersedes the last: a later SEQUENCE is a newer version of the entry.
    event.add("sequence", int(stamp.timestamp()))
    event.add("summary", _title(message))
    event.add("description", message.rendered.text)
    place = ", ".join(n for n in (context.location_name, context.organisation_name) if n)
    if place:
        event.add("location", place)
    cancelled = context.kind == "appointment_cancelled"
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    calendar = Calendar()
    calendar.add("prodid", _PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(_vtimezone(context.timezone, context.start.year))
    calendar.add_component(event)
    return Attachment(
        filename="appointment.ics",
        content_type="text/calendar; method=PUBLISH; charset=utf-8",
        data=calendar.to_ical(),
    )


def _title(message: OutboundMessage) -> str:
    context = message.context
    parts = [n for n in (context.service_name, context.organisation_name) if n]
    return " · ".join(parts) if parts else message.rendered.subject


@functools.lru_cache(maxsize=256)
def _vtimezone(zone: str, year: int) -> Timezone:
    """The ``VTIMEZONE`` of ``zone`` with its rules from the year before the visit to two
    years after it: enough for the entry and a reschedule, a few hundred bytes rather
    than the 68 years icalendar covers by default, and built once per zone and year
    (never changed afterwards, so calendars share it)."""
    return Timezone.from_tzid(
        zone, first_date=dt.date(year - 1, 1, 1), last_date=dt.date(year + 2, 1, 1)
    )
