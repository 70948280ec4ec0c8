"""Bad check-ins get a typed error and change nothing: storage reads back the same."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from carebook import (
    Actor,
    ForbiddenError,
    Interval,
    LocationId,
    NotFoundError,
    PatientId,
    RuleRejectedError,
    ValidationError,
)
from carebook.domain.walkins.queue import CheckedIn, CheckIn, CheckInChannel
from carebook.errors import AlreadyCheckedInError, CarebookError
from carebook.scheduling import (
    BookAppointment,
    Closure,
    ClosureKind,
    PatientKind,
)
from carebook.testing.walkin_world import T0, WalkInClinic, make_walkin_clinic


@pytest.fixture
def clinic() -> WalkInClinic:
    clinic = make_walkin_clinic(practitioners=2, patients=4)
    clinic.clock.set(T0.add(hours=1))
    clinic.on_duty(*clinic.at())
    return clinic


def refused_and_unchanged(
    clinic: WalkInClinic, error: type[CarebookError], attempt: Callable[[], object]
) -> CarebookError:
    """``attempt`` raises ``error`` and every walk-in table, appointment and pending
    event reads back exactly as before."""
    before = clinic.snapshot()
    with pytest.raises(error) as raised:
        attempt()
    assert clinic.snapshot() == before
    return raised.value


def check_in(clinic: WalkInClinic, **fields: object) -> Callable[[], object]:
    values: dict[str, object] = {
        "location_id": clinic.loc.id,
        "patient_id": clinic.patients[1].id,
        **fields,
    }
    return lambda: clinic.cb.walkins.check_in(Actor.admin(), CheckIn(**values))  # type: ignore[arg-type]


def test_check_in_before_opening_is_location_closed() -> None:
    clinic = make_walkin_clinic(hours="09:00-20:00")  # the clock says 08:00
    clinic.on_duty(*clinic.at())
    error = refused_and_unchanged(clinic, RuleRejectedError, check_in(clinic))
    assert isinstance(error, RuleRejectedError) and error.reason_code == "location_closed"


def test_check_in_during_an_emergency_closure_is_location_closed(clinic: WalkInClinic) -> None:
    now = clinic.clock.now()
    clinic.cb.admin.add_closure(
        clinic.staff,
        clinic.loc.id,
        Closure(interval=Interval(now, now.add(hours=1)), kind=ClosureKind.EMERGENCY),
    )
    error = refused_and_unchanged(clinic, RuleRejectedError, check_in(clinic))
    assert isinstance(error, RuleRejectedError) and error.reason_code == "location_closed"


def test_an_unknown_patient_is_not_found(clinic: WalkInClinic) -> None:
    attempt = check_in(clinic, patient_id=PatientId(uuid.uuid4()))
    error = refused_and_unchanged(clinic, NotFoundError, attempt)
    assert isinstance(error, NotFoundError) and error.kind == "patient"


def test_an_unknown_location_is_not_found(clinic: WalkInClinic) -> None:
    attempt = check_in(clinic, location_id=LocationId(uuid.uuid4()))
    error = refused_and_unchanged(clinic, NotFoundError, attempt)
    assert isinstance(error, NotFoundError) and error.kind == "location"


def test_a_patient_of_another_organisation_is_not_found(clinic: WalkInClinic) -> None:
    stranger = make_walkin_clinic().patients[0]
    error = refused_and_unchanged(clinic, NotFoundError, check_in(clinic, patient_id=stranger.id))
    assert str(stranger.id) in str(error)


def test_a_duplicate_check_in_is_refused(clinic: WalkInClinic) -> None:
    first = clinic.walk_in(clinic.patients[1])
    assert isinstance(first, CheckedIn)
    error = refused_and_unchanged(clinic, AlreadyCheckedInError, check_in(clinic))
    assert isinstance(error, AlreadyCheckedInError) and error.reason_code == "already_checked_in"
    # Checked in as a walk-in, the patient may not check in for a booking as well.
    patient = clinic.new_patient(PatientKind.RETURNING)
    booking = clinic.cb.booking.book(
        clinic.staff,
        BookAppointment(
            location_id=clinic.loc.id,
            practitioner_id=clinic.at()[1].id,
            patient_id=patient.id,
            service_ids=[clinic.service.id],
            start=T0.add(hours=2, minutes=30),
            idempotency_key="later-today",
        ),
    )
    assert isinstance(clinic.walk_in(patient), CheckedIn)
    for_booking = CheckIn(
        location_id=clinic.loc.id, patient_id=patient.id, appointment_id=booking.id
    )
    refused_and_unchanged(
        clinic, AlreadyCheckedInError, lambda: clinic.cb.walkins.check_in(clinic.staff, for_booking)
    )


def test_a_location_without_walk_ins_refuses_check_ins(clinic: WalkInClinic) -> None:
    annex = clinic.cb.admin.add_location(
        Actor.admin(), organisation_id=clinic.org.id, name="Annex", timezone="Europe/London"
    )
    error = refused_and_unchanged(clinic, RuleRejectedError, check_in(clinic, location_id=annex.id))
    assert isinstance(error, RuleRejectedError) and error.reason_code == "queue_not_configured"


def test_checking_in_for_someone_elses_appointment_is_refused() -> None:
    clinic = make_walkin_clinic(patients=4)
    owner, intruder = clinic.patients[1], clinic.patients[3]
    appointment = clinic.cb.booking.book(
        clinic.staff,
        BookAppointment(
            location_id=clinic.loc.id,
            practitioner_id=clinic.at()[0].id,
            patient_id=owner.id,
            service_ids=[clinic.service.id],
            start=T0.add(hours=2),
            idempotency_key="owner-1",
        ),
    )
    clinic.clock.set(T0.add(hours=1, minutes=30))
    as_intruder = CheckIn(
        location_id=clinic.loc.id, patient_id=intruder.id, appointment_id=appointment.id
    )
    refused_and_unchanged(
        clinic,
        NotFoundError,
        lambda: clinic.cb.walkins.check_in(Actor.patient(intruder.id), as_intruder),
    )
    refused_and_unchanged(
        clinic, ValidationError, lambda: clinic.cb.walkins.check_in(clinic.staff, as_intruder)
    )
    refused_and_unchanged(
        clinic,
        ForbiddenError,
        lambda: clinic.cb.walkins.check_in(Actor.staff(make_walkin_clinic().loc.id), as_intruder),
    )


def test_a_malformed_command_is_refused_before_anything_runs() -> None:
    with pytest.raises(ValidationError):
        CheckIn(
            location_id=LocationId(uuid.uuid4()), patient_id=PatientId(uuid.uuid4()), channel="fax"
        )
    with pytest.raises(ValidationError):
        CheckIn(
            location_id=LocationId(uuid.uuid4()),
            patient_id=PatientId(uuid.uuid4()),
            channel=CheckInChannel.APP,
            idempotency_key="x" * 201,
        )
