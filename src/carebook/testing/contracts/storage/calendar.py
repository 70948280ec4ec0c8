"""Storage contract: calendar rows (organisations, locations, practitioners, services,
resources) and patients, and the calendar of one organisation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import attrs
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
from carebook.domain.instants import Interval
from carebook.domain.money import Money
from carebook.domain.scheduling.calendar import (
    Closure,
    ClosureKind,
    DateOverride,
    PatientKind,
    ResourceKind,
    WeeklyHours,
)
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.ports import Storage, UnitOfWork
from carebook.testing import builders as b
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import NOW, StorageContractBase, at

__all__ = ["CalendarStorageContract"]


def _rich_rows() -> dict[str, Any]:
    """One row of each calendar kind using every optional field, all of one organisation."""
    org = b.organisation(policy=BookingPolicy(slot_interval=10, require_confirmation=False))
    loc = attrs.evolve(
        b.location(org, hours=("08:00-12:00", "13:00-19:30"), weekdays=range(5)),
        closures=[
            Closure(interval=Interval(at(0), at(23, 59)), kind=ClosureKind.EMERGENCY),
            Closure(interval=Interval(NOW, NOW.add(hours=2)), label="inventory"),
        ],
        policy=BookingPolicy(min_notice=0, hold_minutes=5),
    )
    other = b.location(org, timezone="America/New_York", name="Second Avenue")
    practitioner = attrs.evolve(
        b.practitioner(org, loc, other, breaks=("12:00-12:30",)),
        overrides=[DateOverride(location_id=loc.id, date=at(0).date(), ranges=["10:00-11:00"])],
        time_off=[Interval(at(15), at(17))],
    )
    return {
        "organisation": org,
        "location": loc,
        "second_location": other,
        "practitioner": practitioner,
        "service": b.service(
            org,
            duration=45,
            price=Money(1250, "KWD"),
            practitioners=[practitioner],
            needs=["room", "ultrasound"],
            buffer_before=5,
            buffer_after=10,
            locations=[loc],
        ),
        "resource": b.resource(loc, category="ultrasound", kind=ResourceKind.EQUIPMENT),
        "patient": b.patient(
            org, kind=PatientKind.RETURNING, contact_ref="crm:42", timezone="Asia/Kathmandu"
        ),
    }


_GETTERS: dict[str, Callable[[UnitOfWork, Any], object]] = {
    "organisation": lambda uow, ident: uow.calendar.get_organisation(ident),
    "location": lambda uow, ident: uow.calendar.get_location(ident),
    "second_location": lambda uow, ident: uow.calendar.get_location(ident),
    "practitioner": lambda uow, ident: uow.calendar.get_practitioner(ident),
    "service": lambda uow, ident: uow.calendar.get_service(ident),
    "resource": lambda uow, ident: uow.calendar.get_resource(ident),
    "patient": lambda uow, ident: uow.patients.get(ident),
}


class CalendarStorageContract(StorageContractBase):
    """Calendar and patient rows round-trip; a calendar loads one organisation's rows."""

    @pytest.mark.parametrize("kind", _GETTERS)
    def test_saved_row_reads_back_equal(self, storage: Storage, kind: str) -> None:
        rows = _rich_rows()
        with storage.unit_of_work(write=True) as uow:
            uow.calendar.save_organisation(rows["organisation"])
            uow.calendar.save_location(rows["location"])
            uow.calendar.save_location(rows["second_location"])
            uow.calendar.save_practitioner(rows["practitioner"])
            uow.calendar.save_service(rows["service"])
            uow.calendar.save_resource(rows["resource"])
            uow.patients.save(rows["patient"])
            uow.commit()
        with storage.unit_of_work() as uow:
            assert _GETTERS[kind](uow, rows[kind].id) == rows[kind]

    def test_saving_again_replaces_the_stored_row(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        renamed = attrs.evolve(clinic.location, name="Renamed", opening_hours=WeeklyHours())
        returning = attrs.evolve(clinic.patients[0], kind=PatientKind.RETURNING)
        with storage.unit_of_work(write=True) as uow:
            uow.calendar.save_location(renamed)
            uow.patients.save(returning)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.calendar.get_location(renamed.id) == renamed
            assert uow.patients.get(returning.id) == returning

    def test_a_unit_of_work_reads_its_own_uncommitted_rows(self, storage: Storage) -> None:
        org = b.organisation()
        patient = b.patient(org)
        with storage.unit_of_work(write=True) as uow:
            uow.calendar.save_organisation(org)
            uow.patients.save(patient)
            assert uow.calendar.get_organisation(org.id) == org
            assert uow.patients.get(patient.id) == patient

    def test_get_of_an_unknown_id_returns_none(self, storage: Storage, clinic: SmallClinic) -> None:
        with storage.unit_of_work() as uow:
            assert uow.calendar.get_organisation(OrganisationId(uuid.uuid4())) is None
            assert uow.calendar.get_location(LocationId(uuid.uuid4())) is None
            assert uow.calendar.get_practitioner(PractitionerId(uuid.uuid4())) is None
            assert uow.calendar.get_service(ServiceId(uuid.uuid4())) is None
            assert uow.calendar.get_resource(ResourceId(uuid.uuid4())) is None
            assert uow.patients.get(PatientId(uuid.uuid4())) is None
            assert uow.appointments.get(AppointmentId(uuid.uuid4())) is None
            assert uow.calendar.load(OrganisationId(uuid.uuid4())) is None

    def test_load_returns_exactly_that_organisations_calendar(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        second = b.location(clinic.organisation, name="Annex")
        annex_room = b.resource(second, name="Annex room")
        rival = b.small_clinic(name="Rival Clinic")
        with storage.unit_of_work(write=True) as uow:
            uow.calendar.save_location(second)
            uow.calendar.save_resource(annex_room)
            rival.save(uow)
            uow.commit()
        with storage.unit_of_work() as uow:
            loaded = uow.calendar.load(clinic.organisation.id)
        assert loaded == ClinicCalendar.build(
            clinic.organisation,
            [clinic.location, second],
            clinic.practitioners,
            [clinic.service],
            [*clinic.resources, annex_room],
        )
