"""Plugin rules in the availability search: a rule that may refuse a slot the search
would offer declares that it filters search results too, so a host never offers a slot
that fails when it is clicked.

A reservation rule (:class:`~carebook.domain.scheduling.rules.ReservationRule`) that also
has an ``offered`` method is a :class:`SearchFilter`. After the search has found the free
starts, each filter is called once per (location, practitioner) with all their starts,
in bulk, and returns the ones it keeps. The filter must agree with the rule's ``check``:
a start it keeps is one ``check`` accepts for that slot (the plugin tests show how to
prove it). The built-in rules need no filter: the search computes their answer already.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import pendulum
from attrs import frozen

from carebook.domain.ids import LocationId, PatientId, PractitionerId
from carebook.domain.scheduling.availability import AvailabilityResult, SlotShape
from carebook.domain.scheduling.calendar import Location, Practitioner
from carebook.domain.scheduling.clinic import ClinicCalendar

__all__ = ["SearchContext", "SearchFilter", "apply_search_filters", "search_filters"]


@frozen(kw_only=True)
class SearchContext:
    """What a filter may look at for one (location, practitioner) of a search."""

    calendar: ClinicCalendar
    location: Location
    practitioner: Practitioner
    shape: SlotShape
    """Durations of the requested services (seconds): ``duration``, ``before``, ``after``."""
    patient_id: PatientId | None
    now: pendulum.DateTime


@runtime_checkable
class SearchFilter(Protocol):
    """A rule that also filters the availability search."""

    @property
    def code(self) -> str: ...

    def offered(self, ctx: SearchContext, starts: Sequence[int]) -> Iterable[int]:
        """The starts (epoch seconds, service time ``[t, t + ctx.shape.duration)``) of
        ``starts`` that the rule would accept; any others are not offered."""
        ...


def search_filters(rules: Sequence[object]) -> tuple[SearchFilter, ...]:
    """The rules among ``rules`` that filter search results, in pipeline order (the
    answer for a tuple of rules is remembered: a search asks for every query)."""
    if isinstance(rules, tuple):
        try:
            return _filters_of(rules)
        except TypeError:  # a rule that is not hashable: look each time
            pass
    return tuple(r for r in rules if isinstance(r, SearchFilter))


@functools.lru_cache(maxsize=64)
def _filters_of(rules: tuple[object, ...]) -> tuple[SearchFilter, ...]:
    return tuple(r for r in rules if isinstance(r, SearchFilter))


def apply_search_filters(
    result: AvailabilityResult,
    filters: Sequence[SearchFilter],
    calendar: ClinicCalendar,
    *,
    patient_id: PatientId | None,
    now: pendulum.DateTime,
) -> AvailabilityResult:
    """``result`` without the starts some filter does not keep."""
    if not filters or not result:
        return result

    def keep(
        location_id: LocationId, practitioner_id: PractitionerId, starts: list[int]
    ) -> set[int]:
        ctx = SearchContext(
            calendar=calendar,
            location=calendar.location(location_id),
            practitioner=calendar.practitioner(practitioner_id),
            shape=result.shape,
            patient_id=patient_id,
            now=now,
        )
        kept = set(starts)
        for f in filters:
            if not kept:
                break
            kept &= set(f.offered(ctx, sorted(kept)))
        return kept

    return result.keeping(keep)
