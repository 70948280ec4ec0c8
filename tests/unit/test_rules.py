"""The reservation-rule pipeline (every reason code, its order, plug-in rules) and the
reservation decision that runs it for every booking path.

The clinic is in UTC, open 08:00-18:00; the practitioner works 09:00-17:00 with a break
12:00-13:00; a 30-minute service every 15 minutes; now is 2026-05-01 and bookings need
no notice unless a test says so. The requested start is Monday 2026-06-01 10:00.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import attrs
import pendulum
import pytest

from carebook.domain.ids import (
    AppointmentId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.instants import Interval, to_epoch
from carebook.domain.money import Money
from carebook.domain.scheduling.appointment import AppointmentStatus
from carebook.domain.scheduling.availability import AvailabilityQuery, find_slots
from carebook.domain.scheduling.busy import PATIENT, PRACTITIONER, RESOURCE, BusyInterval
from carebook.domain.scheduling.calendar import (
    Closure,
    ClosureKind,
    Location,
    Organisation,
    Practitioner,
    Resource,
    Service,
    WeeklyHours,
    WorkingPlan,
)
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.domain.scheduling.reservation import busy_window, decide_reservation
from carebook.domain.scheduling.rules import (
    BUILTIN_RULES,
    BookingRequest,
    Rejection,
    ReservationRule,
    RuleContext,
    run_rules,
)
from carebook.errors import CarebookError, RuleRejectedError

NOW = pendulum.datetime(2026, 5, 1, tz="UTC")
PATIENT_ID = PatientId(uuid.UUID(int=7))

CODES = [
    "service_not_offered",
    "in_past",
    "minimum_notice",
    "beyond_horizon",
    "location_closed",
    "practitioner_unavailable",
    "practitioner_busy",
    "resource_unavailable",
    "patient_busy",
    "slot_not_offered",
]


def at(hhmm: str, day: int = 1) -> pendulum.DateTime:
    hour, minute = map(int, hhmm.split(":"))
    return pendulum.datetime(2026, 6, day, hour, minute, tz="UTC")


@attrs.frozen
class World:
    calendar: ClinicCalendar
    location: Location
    practitioner: Practitioner
    outsider: Practitioner
    service: Service
    roomy: Service
    room: Resource


def world(
    *,
    policy: BookingPolicy | None = None,
    closures: Sequence[Closure] = (),
    time_off: Sequence[Interval] = (),
    buffer_before: int = 0,
) -> World:
    org = Organisation(
        id=OrganisationId(uuid.uuid4()),
        name="Clinic",
        policy=policy or BookingPolicy(min_notice=0, horizon_days=90, slot_interval=15),
    )
    loc = Location(
        id=LocationId(uuid.uuid4()),
        organisation_id=org.id,
        name="Main",
        timezone="UTC",
        opening_hours=WeeklyHours.every_day("08:00-18:00"),
        closures=closures,
    )
    plan = WorkingPlan(
        location_id=loc.id,
        hours=WeeklyHours.every_day("09:00-17:00"),
        breaks=WeeklyHours.every_day("12:00-13:00"),
    )
    doc = Practitioner(
        id=PractitionerId(uuid.uuid4()),
        organisation_id=org.id,
        name="Dr Rule",
        plans=[plan],
        time_off=time_off,
    )
    outsider = Practitioner(
        id=PractitionerId(uuid.uuid4()),
        organisation_id=org.id,
        name="Dr Outsider",
        plans=[attrs.evolve(plan)],
    )
    svc = Service(
        id=ServiceId(uuid.uuid4()),
        organisation_id=org.id,
        name="Check-up",
        duration=30,
        price=Money(3000, "EUR"),
        buffer_before=buffer_before,
        practitioner_ids={doc.id},
    )
    roomy = attrs.evolve(
        svc, id=ServiceId(uuid.uuid4()), name="Laser session", needs=frozenset({"room"})
    )
    room = Resource(id=ResourceId(uuid.uuid4()), location_id=loc.id, name="Room 1", category="room")
    cal = ClinicCalendar.build(org, [loc], [doc, outsider], [svc, roomy], [room])
    return World(cal, loc, doc, outsider, svc, roomy, room)


def context(
    w: World,
    start: pendulum.DateTime,
    *,
    busy: Sequence[BusyInterval] = (),
    now: pendulum.DateTime = NOW,
    service: Service | None = None,
    practitioner: Practitioner | None = None,
) -> RuleContext:
    """The context a booking builds: the offer comes from the availability search."""
    svc = service or w.service
    doc = practitioner or w.practitioner
    request = BookingRequest(
        location_id=w.location.id,
        practitioner_id=doc.id,
        patient_id=PATIENT_ID,
        service_ids=[svc.id],
        start=start,
    )
    query = AvailabilityQuery(
        service_ids=[svc.id],
        window=Interval(start, start.add(seconds=1)),
        location_ids={w.location.id},
        practitioner_ids={doc.id},
        patient_id=PATIENT_ID,
    )
    offer = find_slots(w.calendar, busy, query, now).offer(doc.id, w.location.id, to_epoch(start))
    return RuleContext(calendar=w.calendar, request=request, busy=busy, now=now, offer=offer)


def rejection(ctx: RuleContext, rules: Sequence[ReservationRule] = BUILTIN_RULES) -> str | None:
    try:
        run_rules(rules, ctx)
    except RuleRejectedError as exc:
        assert exc.message
        assert exc.reason_code in str(exc)
        return exc.reason_code
    return None


def check(code: str, ctx: RuleContext) -> Rejection | None:
    rule = next(r for r in BUILTIN_RULES if r.code == code)
    return rule.check(ctx)


def taken(kind: str, owner: uuid.UUID, start: str, end: str) -> BusyInterval:
    return BusyInterval(kind, owner, to_epoch(at(start)), to_epoch(at(end)), uuid.uuid4())


# --- the pipeline itself --------------------------------------------------------------------


def test_builtin_rules_run_in_the_documented_order() -> None:
    assert [r.code for r in BUILTIN_RULES] == CODES
    assert [r.order for r in BUILTIN_RULES] == [100 * (n + 1) for n in range(len(CODES))]
    assert all(isinstance(r, ReservationRule) for r in BUILTIN_RULES)


def test_a_valid_request_passes_every_rule() -> None:
    w = world()
    ctx = context(w, at("10:00"))
    assert ctx.offer is not None
    assert rejection(ctx) is None
    assert all(rule.check(ctx) is None for rule in BUILTIN_RULES)


def test_rule_rejection_is_a_carebook_error_with_a_stable_code() -> None:
    w = world()
    with pytest.raises(RuleRejectedError) as info:
        run_rules(BUILTIN_RULES, context(w, at("10:07")))
    assert isinstance(info.value, CarebookError)
    assert info.value.reason_code == "slot_not_offered"


# --- each reason code -----------------------------------------------------------------------


def test_service_not_offered_by_this_practitioner() -> None:
    w = world()
    ctx = context(w, at("10:00"), practitioner=w.outsider)
    assert rejection(ctx) == "service_not_offered"


def test_service_not_offered_at_this_location() -> None:
    w = world()
    elsewhere = attrs.evolve(
        w.service, id=ServiceId(uuid.uuid4()), location_ids=frozenset({LocationId(uuid.uuid4())})
    )
    cal = attrs.evolve(w.calendar, services={**w.calendar.services, elsewhere.id: elsewhere})
    ctx = context(attrs.evolve(w, calendar=cal), at("10:00"), service=elsewhere)
    assert rejection(ctx) == "service_not_offered"


def test_in_past() -> None:
    w = world()
    ctx = context(w, at("10:00"), now=at("10:01"))
    assert rejection(ctx) == "in_past"
    assert check("in_past", context(w, at("10:00"), now=at("10:00"))) is None


def test_in_past_with_a_sub_second_now() -> None:
    w = world()
    now = at("10:00").add(microseconds=500_000)
    found = check("in_past", context(w, at("10:00"), now=now))
    assert found is not None
    assert found.code == "in_past"


def test_minimum_notice() -> None:
    w = world(policy=BookingPolicy(min_notice=120, slot_interval=15))
    assert rejection(context(w, at("10:00"), now=at("08:01"))) == "minimum_notice"
    assert rejection(context(w, at("10:00"), now=at("08:00"))) is None


def test_beyond_horizon() -> None:
    w = world(policy=BookingPolicy(min_notice=0, horizon_days=7, slot_interval=15))
    now = at("10:00")
    assert rejection(context(w, at("10:15", day=8), now=now)) == "beyond_horizon"
    assert rejection(context(w, at("10:00", day=8), now=now)) is None


def test_location_closed_outside_opening_hours() -> None:
    w = world()
    ctx = context(w, at("18:30"))
    assert rejection(ctx) == "location_closed"


def test_location_closed_by_a_closure() -> None:
    closure = Closure(interval=Interval(at("10:15"), at("10:20")), kind=ClosureKind.EMERGENCY)
    w = world(closures=[closure])
    assert rejection(context(w, at("10:00"))) == "location_closed"
    assert rejection(context(w, at("10:30"))) is None


def test_closure_counts_against_the_buffer_too() -> None:
    closure = Closure(interval=Interval(at("09:50"), at("10:00")))
    w = world(closures=[closure], buffer_before=10)
    assert rejection(context(w, at("10:00"))) == "location_closed"


def test_practitioner_unavailable_before_their_hours() -> None:
    w = world()
    assert rejection(context(w, at("08:30"))) == "practitioner_unavailable"


def test_practitioner_unavailable_during_a_break() -> None:
    w = world()
    assert rejection(context(w, at("11:45"))) == "practitioner_unavailable"


def test_practitioner_unavailable_when_buffer_falls_outside_working_time() -> None:
    w = world(buffer_before=10)
    # 09:00 is open and in service time, but the buffer from 08:50 is not working time.
    ctx = context(w, at("09:00"))
    assert check("location_closed", ctx) is None
    assert rejection(ctx) == "practitioner_unavailable"


def test_practitioner_unavailable_on_time_off() -> None:
    w = world(time_off=[Interval(at("10:00"), at("11:00"))])
    assert rejection(context(w, at("10:30"))) == "practitioner_unavailable"
    assert rejection(context(w, at("11:00"))) is None


def test_practitioner_busy() -> None:
    w = world()
    busy = [taken(PRACTITIONER, w.practitioner.id, "10:15", "10:45")]
    assert rejection(context(w, at("10:00"), busy=busy)) == "practitioner_busy"
    assert rejection(context(w, at("10:45"), busy=busy)) is None


def test_another_practitioners_busy_time_is_no_reason() -> None:
    w = world()
    busy = [taken(PRACTITIONER, w.outsider.id, "09:00", "17:00")]
    assert rejection(context(w, at("10:00"), busy=busy)) is None


def test_resource_unavailable() -> None:
    w = world()
    busy = [taken(RESOURCE, w.room.id, "10:00", "10:30")]
    assert rejection(context(w, at("10:00"), busy=busy, service=w.roomy)) == "resource_unavailable"
    assert rejection(context(w, at("10:30"), busy=busy, service=w.roomy)) is None
    assert rejection(context(w, at("10:00"), busy=busy)) is None  # needs no room


def test_resource_unavailable_when_the_location_has_none_of_the_category() -> None:
    w = world()
    cal = attrs.evolve(w.calendar, resources={})
    ctx = context(attrs.evolve(w, calendar=cal), at("10:00"), service=w.roomy)
    assert check("resource_unavailable", ctx) is not None
    assert rejection(ctx) == "resource_unavailable"


def test_patient_busy() -> None:
    w = world()
    busy = [taken(PATIENT, PATIENT_ID, "10:20", "10:25")]
    assert rejection(context(w, at("10:00"), busy=busy)) == "patient_busy"
    other = [taken(PATIENT, uuid.uuid4(), "10:00", "10:30")]
    assert rejection(context(w, at("10:00"), busy=other)) is None


def test_slot_not_offered_for_an_off_grid_start() -> None:
    w = world()
    ctx = context(w, at("10:07"))
    assert ctx.offer is None
    # Every other rule is satisfied: the grid is the only reason.
    assert [r.code for r in BUILTIN_RULES if r.check(ctx) is not None] == ["slot_not_offered"]
    assert rejection(ctx) == "slot_not_offered"


@pytest.mark.parametrize("code", CODES)
def test_each_rule_rejects_only_with_its_own_code(code: str) -> None:
    w = world(policy=BookingPolicy(min_notice=60, horizon_days=7, slot_interval=15))
    now = at("07:00")
    scenarios = {
        "service_not_offered": context(w, at("10:00"), now=now, practitioner=w.outsider),
        "in_past": context(w, at("06:00"), now=now),
        "minimum_notice": context(w, at("07:30"), now=now),
        "beyond_horizon": context(w, at("10:00", day=9), now=now),
        "location_closed": context(w, at("07:30", day=2), now=now),
        "practitioner_unavailable": context(w, at("12:15"), now=now),
        "practitioner_busy": context(
            w, at("10:00"), now=now, busy=[taken(PRACTITIONER, w.practitioner.id, "10:00", "11:00")]
        ),
        "resource_unavailable": context(
            w,
            at("10:00"),
            now=now,
            service=w.roomy,
            busy=[taken(RESOURCE, w.room.id, "10:00", "11:00")],
        ),
        "patient_busy": context(
            w, at("10:00"), now=now, busy=[taken(PATIENT, PATIENT_ID, "10:00", "11:00")]
        ),
        "slot_not_offered": context(w, at("10:05"), now=now),
    }
    ctx = scenarios[code]
    found = check(code, ctx)
    assert found is not None
    assert found.code == code
    assert found.message
    assert rejection(ctx) == code
    # Every rule earlier in the pipeline accepts this request.
    earlier = [r for r in BUILTIN_RULES if r.order < found_order(code)]
    assert all(r.check(ctx) is None for r in earlier)


def found_order(code: str) -> int:
    return next(r.order for r in BUILTIN_RULES if r.code == code)


# --- order, first rejection, plug-in rules ----------------------------------------------------


@attrs.define
class Spy:
    """A rule that records that it ran, then delegates (or rejects on its own)."""

    code: str
    order: int
    calls: list[str]
    inner: ReservationRule | None = None
    reject: bool = False

    def check(self, ctx: RuleContext) -> Rejection | None:
        self.calls.append(self.code)
        if self.inner is not None:
            return self.inner.check(ctx)
        return Rejection(self.code, "rejected by a plug-in") if self.reject else None


def spied(calls: list[str]) -> list[ReservationRule]:
    return [Spy(r.code, r.order, calls, inner=r) for r in BUILTIN_RULES]


def test_pipeline_stops_at_the_first_rejection_in_order() -> None:
    w = world()
    # In the past, outside working hours, practitioner busy and off grid: all fail.
    busy = [taken(PRACTITIONER, w.practitioner.id, "06:00", "08:00")]
    ctx = context(w, at("06:05"), busy=busy, now=at("09:00"))
    failing = [r.code for r in BUILTIN_RULES if r.check(ctx) is not None]
    assert failing[0] == "in_past"
    assert len(failing) > 3
    calls: list[str] = []
    assert rejection(ctx, list(reversed(spied(calls)))) == "in_past"
    assert calls == ["service_not_offered", "in_past"]


def test_pipeline_runs_every_rule_in_order_when_all_pass() -> None:
    calls: list[str] = []
    assert rejection(context(world(), at("10:00")), list(reversed(spied(calls)))) is None
    assert calls == CODES


def test_custom_rule_with_order_150_runs_between_100_and_200() -> None:
    calls: list[str] = []
    custom = Spy("deposit_required", 150, calls)
    assert isinstance(custom, ReservationRule)
    rules = sorted([*spied(calls), custom], key=lambda r: r.order)
    assert rejection(context(world(), at("10:00")), rules) is None
    assert calls[:3] == ["service_not_offered", "deposit_required", "in_past"]
    assert len(calls) == len(CODES) + 1


def test_custom_rule_rejection_stops_the_builtin_rules_after_it() -> None:
    calls: list[str] = []
    custom = Spy("deposit_required", 150, calls, reject=True)
    rules = sorted([*spied(calls), custom], key=lambda r: r.order)
    # The start is in the past too, but the plug-in at 150 runs (and rejects) first.
    ctx = context(world(), at("10:00"), now=at("11:00"))
    assert rejection(ctx, rules) == "deposit_required"
    assert calls == ["service_not_offered", "deposit_required"]


def test_custom_rule_after_a_rejecting_builtin_never_runs() -> None:
    calls: list[str] = []
    custom = Spy("deposit_required", 150, calls, reject=True)
    rules = [*spied(calls), custom]
    w = world()
    ctx = context(w, at("10:00"), practitioner=w.outsider)
    assert rejection(ctx, rules) == "service_not_offered"
    assert calls == ["service_not_offered"]


# --- the reservation decision that every booking path takes ---------------------------------


def request_for(w: World, start: pendulum.DateTime, service: Service) -> BookingRequest:
    return BookingRequest(
        location_id=w.location.id,
        practitioner_id=w.practitioner.id,
        patient_id=PATIENT_ID,
        service_ids=[service.id],
        start=start,
    )


def test_the_busy_window_spans_the_buffers_and_names_only_the_needed_owners() -> None:
    w = world(buffer_before=10)
    plain = busy_window(w.calendar, request_for(w, at("10:00"), w.service))
    assert (plain.start, plain.end) == (to_epoch(at("09:50")), to_epoch(at("10:30")))
    assert plain.practitioner_ids == (w.practitioner.id,)
    assert plain.patient_ids == (PATIENT_ID,)
    assert plain.resource_ids == ()
    roomy = busy_window(w.calendar, request_for(w, at("10:00"), w.roomy))
    assert roomy.resource_ids == (w.room.id,)


def test_a_reservation_is_decided_as_a_proposed_appointment_with_its_occupied_span() -> None:
    w = world(buffer_before=10)
    ident = AppointmentId(uuid.uuid4())
    decided = decide_reservation(
        w.calendar,
        request_for(w, at("10:00"), w.roomy),
        [],
        BUILTIN_RULES,
        NOW,
        appointment_id=ident,
    )
    assert decided.id == ident
    assert decided.status is AppointmentStatus.PROPOSED
    assert (decided.start, decided.end) == (at("10:00"), at("10:30"))
    assert (decided.occupied_start, decided.occupied_end) == (at("09:50"), at("10:30"))
    assert decided.resource_ids == (w.room.id,)
    assert decided.created_at == NOW


def test_a_reservation_is_refused_by_the_first_rule_against_the_busy_time() -> None:
    w = world()
    request = request_for(w, at("10:00"), w.service)
    held = AppointmentId(uuid.uuid4())
    span = to_epoch(at("10:00")), to_epoch(at("10:30"))
    busy = [BusyInterval(PRACTITIONER, w.practitioner.id, *span, held)]
    with pytest.raises(RuleRejectedError) as refused:
        decide_reservation(
            w.calendar,
            request,
            busy,
            BUILTIN_RULES,
            NOW,
            appointment_id=AppointmentId(uuid.uuid4()),
        )
    assert refused.value.reason_code == "practitioner_busy"
    # The hold being turned into this booking is no collision.
    decided = decide_reservation(
        w.calendar,
        request,
        busy,
        BUILTIN_RULES,
        NOW,
        appointment_id=AppointmentId(uuid.uuid4()),
        exclude=held,
    )
    assert decided.start == at("10:00")
