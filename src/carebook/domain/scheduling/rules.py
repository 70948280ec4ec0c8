"""The ordered reservation-rule pipeline a booking must pass.

Each rule answers one question and, when the answer is no, gives a stable reason code.
Built-in rules run in this order (their ``order`` numbers leave room for plug-ins):

====  ======================  =========================================================
 100  service_not_offered     every service is offered at the location by the practitioner
 200  in_past                 the start is not in the past
 300  minimum_notice          the start is at least ``min_notice`` minutes away
 400  beyond_horizon          the start is within ``horizon_days``
 500  location_closed         the service time is within opening hours, no closure overlaps
 600  practitioner_unavailable  the occupied span is within the practitioner's working time
 700  practitioner_busy       the practitioner has no other appointment then
 800  resource_unavailable    a free resource of every needed category exists
 900  patient_busy            the patient has no other appointment then
1000  slot_not_offered        the availability search offers exactly this slot
====  ======================  =========================================================

The first rejection stops the pipeline. The storage re-checks overlap inside the
transaction, so a race between two bookings still ends in one winner.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import NamedTuple, Protocol, runtime_checkable

import attrs
import pendulum
from attrs import frozen

from carebook.domain.ids import LocationId, PatientId, PractitionerId, ServiceId
from carebook.domain.instants import epoch_ceil, to_epoch
from carebook.domain.scheduling.availability import Slot, SlotShape
from carebook.domain.scheduling.busy import (
    PATIENT,
    PRACTITIONER,
    RESOURCE,
    BusyIndex,
    BusyInterval,
    Span,
    index_busy,
    owner_key,
)
from carebook.domain.scheduling.calendar import Location, Practitioner, Service
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.domain.scheduling.working_time import (
    location_blocks,
    location_closures,
    merge,
    practitioner_blocks,
    practitioner_time_off,
)
from carebook.domain.validators import to_tuple
from carebook.errors import RuleRejectedError

__all__ = [
    "BUILTIN_RULES",
    "BookingRequest",
    "Rejection",
    "ReservationRule",
    "RuleContext",
    "run_rules",
]


@frozen(kw_only=True)
class BookingRequest:
    """What a booking asks for, with every id already known to exist."""

    location_id: LocationId
    practitioner_id: PractitionerId
    patient_id: PatientId
    service_ids: tuple[ServiceId, ...] = attrs.field(converter=to_tuple)
    start: pendulum.DateTime


class Rejection(NamedTuple):
    code: str
    message: str


@attrs.define(kw_only=True)
class RuleContext:
    """What a rule may look at. Derived values are computed once, on first use."""

    calendar: ClinicCalendar
    request: BookingRequest
    busy: Sequence[BusyInterval]
    now: pendulum.DateTime
    offer: Slot | None
    exclude_appointment: uuid.UUID | None = None

    @cached_property
    def location(self) -> Location:
        return self.calendar.location(self.request.location_id)

    @cached_property
    def practitioner(self) -> Practitioner:
        return self.calendar.practitioner(self.request.practitioner_id)

    @cached_property
    def services(self) -> list[Service]:
        return [self.calendar.service(s) for s in self.request.service_ids]

    @cached_property
    def policy(self) -> BookingPolicy:
        return self.calendar.policy_for(self.request.location_id)

    @cached_property
    def shape(self) -> SlotShape:
        return SlotShape.of(self.services)

    @cached_property
    def start(self) -> int:
        return to_epoch(self.request.start)

    @property
    def end(self) -> int:
        return self.start + self.shape.duration

    @property
    def occupied(self) -> Span:
        return self.start - self.shape.before, self.end + self.shape.after

    @cached_property
    def busy_by_owner(self) -> BusyIndex:
        return index_busy(self.busy, exclude=self.exclude_appointment)


@runtime_checkable
class ReservationRule(Protocol):
    """A check a booking must pass; ``order`` places it in the pipeline."""

    @property
    def code(self) -> str:
        """The stable reason code this rule rejects with."""
        ...

    @property
    def order(self) -> int:
        """Where the rule runs: lower first (built-ins use 100..1000)."""
        ...

    def check(self, ctx: RuleContext) -> Rejection | None: ...


def _overlaps(spans: Iterable[Span], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _within(blocks: Iterable[Span], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in merge(blocks))


@frozen
class _Rule:
    code: str
    order: int

    def check(self, ctx: RuleContext) -> Rejection | None:
        ok, message = _CHECKS[self.code](ctx)
        return None if ok else Rejection(self.code, message)


def _service_offered(ctx: RuleContext) -> tuple[bool, str]:
    for service in ctx.services:
        if not service.offered_at(ctx.location.id):
            return False, f"service {service.id} is not offered at location {ctx.location.id}"
        if ctx.practitioner.id not in service.practitioner_ids:
            return False, f"practitioner {ctx.practitioner.id} does not offer service {service.id}"
    return True, ""


def _not_in_past(ctx: RuleContext) -> tuple[bool, str]:
    return ctx.start >= epoch_ceil(ctx.now), "the requested start is in the past"


def _minimum_notice(ctx: RuleContext) -> tuple[bool, str]:
    notice = ctx.policy.min_notice
    return (
        ctx.start >= epoch_ceil(ctx.now) + notice * 60,
        f"bookings need at least {notice} minutes' notice",
    )


def _horizon(ctx: RuleContext) -> tuple[bool, str]:
    days = ctx.policy.horizon_days
    return (
        ctx.start <= to_epoch(ctx.now) + days * 86_400,
        f"bookings are accepted at most {days} days ahead",
    )


def _location_open(ctx: RuleContext) -> tuple[bool, str]:
    start, end = ctx.start, ctx.end
    occ = ctx.occupied
    opened = location_blocks(ctx.location, occ[0] - 86_400, occ[1] + 86_400)
    if not _within(opened, start, end):
        return False, f"location {ctx.location.id} is not open at that time"
    if _overlaps(location_closures(ctx.location), *occ):
        return False, f"location {ctx.location.id} is closed at that time"
    return True, ""


def _practitioner_working(ctx: RuleContext) -> tuple[bool, str]:
    occ = ctx.occupied
    blocks = practitioner_blocks(ctx.practitioner, ctx.location, occ[0] - 86_400, occ[1] + 86_400)
    working = _within(blocks, *occ) and not _overlaps(practitioner_time_off(ctx.practitioner), *occ)
    return working, f"practitioner {ctx.practitioner.id} is not working at that time"


def _practitioner_free(ctx: RuleContext) -> tuple[bool, str]:
    spans = ctx.busy_by_owner.get(owner_key(PRACTITIONER, ctx.practitioner.id), [])
    return not _overlaps(spans, *ctx.occupied), (
        f"practitioner {ctx.practitioner.id} already has an appointment at that time"
    )


def _resources_free(ctx: RuleContext) -> tuple[bool, str]:
    if not ctx.shape.needs:
        return True, ""
    for category in sorted(ctx.shape.needs):
        candidates = ctx.calendar.resources_at(ctx.location.id, category)
        if not any(
            not _overlaps(ctx.busy_by_owner.get(owner_key(RESOURCE, r.id), []), *ctx.occupied)
            for r in candidates
        ):
            return False, f"no {category!r} resource is free at that time"
    return True, ""


def _patient_free(ctx: RuleContext) -> tuple[bool, str]:
    spans = ctx.busy_by_owner.get(owner_key(PATIENT, ctx.request.patient_id), [])
    return not _overlaps(spans, *ctx.occupied), "the patient already has an appointment then"


def _slot_offered(ctx: RuleContext) -> tuple[bool, str]:
    return ctx.offer is not None, "that start is not one the availability search offers"


_CHECKS = {
    "service_not_offered": _service_offered,
    "in_past": _not_in_past,
    "minimum_notice": _minimum_notice,
    "beyond_horizon": _horizon,
    "location_closed": _location_open,
    "practitioner_unavailable": _practitioner_working,
    "practitioner_busy": _practitioner_free,
    "resource_unavailable": _resources_free,
    "patient_busy": _patient_free,
    "slot_not_offered": _slot_offered,
}

BUILTIN_RULES: tuple[ReservationRule, ...] = tuple(
    _Rule(code, (n + 1) * 100) for n, code in enumerate(_CHECKS)
)
"""The built-in pipeline, in order."""


def run_rules(rules: Iterable[ReservationRule], ctx: RuleContext) -> None:
    """Run ``rules`` by ``order``; raise RuleRejectedError at the first rejection."""
    for rule in sorted(rules, key=lambda r: r.order):
        rejection = rule.check(ctx)
        if rejection is not None:
            raise RuleRejectedError(rejection.code, rejection.message)
