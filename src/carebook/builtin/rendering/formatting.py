"""Babel formatting for templates: dates, times, zones and money in the recipient's
locale and the location's zone. Each filter reads ``locale`` and ``timezone`` from the
template's context, so a template writes ``{{ start | date }}`` and nothing more."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import babel
from babel import dates, numbers
from jinja2 import pass_context
from jinja2.runtime import Context

from carebook.domain.money import Money

__all__ = ["FILTERS", "babel_locale"]


def babel_locale(tag: str) -> babel.Locale:
    """The Babel locale for a BCP 47 tag: the whole tag, else its language, else English."""
    for candidate in (tag, tag.split("-")[0]):
        try:
            return babel.Locale.parse(candidate, sep="-")
        except (babel.UnknownLocaleError, ValueError):
            continue
    return babel.Locale("en")


def _where(context: Context) -> tuple[babel.Locale, zoneinfo.ZoneInfo]:
    return babel_locale(context["locale"]), zoneinfo.ZoneInfo(context["timezone"])


@pass_context
def date(context: Context, value: dt.datetime, format: str = "full") -> str:
    """The local date, e.g. "Sonntag, 5. April 2026" (``format``: full, long, medium, short)."""
    locale, zone = _where(context)
    return dates.format_date(value.astimezone(zone), format, locale=locale)


@pass_context
def time(context: Context, value: dt.datetime, format: str = "short") -> str:
    """The local time of day, e.g. "10:00" or "10:00 AM"."""
    locale, zone = _where(context)
    return dates.format_time(value, format, tzinfo=zone, locale=locale)


@pass_context
def when(context: Context, value: dt.datetime) -> str:
    """Date and time together, e.g. "Sunday, April 5, 2026, 10:00 AM"."""
    return f"{date(context, value)}, {time(context, value)}"


@pass_context
def zone(context: Context, _value: Any = None) -> str:
    """The location's zone as its city, in the recipient's language ("Berlin", "बर्लिन")."""
    locale, tz = _where(context)
    return str(dates.get_timezone_location(tz, locale=locale, return_city=True))


@pass_context
def money(context: Context, value: Money | None) -> str:
    """An amount with its currency in the recipient's locale, e.g. "12,50 €"; "" for
    None (an appointment without a price)."""
    if value is None:
        return ""
    locale, _ = _where(context)
    major = Decimal(value.amount).scaleb(-value.minor_unit_exponent)
    return str(numbers.format_currency(major, value.currency, locale=locale))


FILTERS = {"date": date, "time": time, "when": when, "zone": zone, "money": money}
