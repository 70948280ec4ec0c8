"""A decoded calendar is reused only while its calendar_version is current."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from sqlalchemy import event

from carebook.testing.builders import SmallClinic, small_clinic
from carebook_sqlalchemy import SqlStorage


@pytest.fixture
def storages(db_url: str) -> Iterator[tuple[SqlStorage, SqlStorage]]:
    """Two storages on one database, as two host processes would have."""
    first = SqlStorage(db_url, migrate=True)
    second = SqlStorage(db_url)
    yield first, second
    first.close()
    second.close()


@pytest.fixture
def clinic(storages: tuple[SqlStorage, SqlStorage]) -> SmallClinic:
    clinic = small_clinic()
    with storages[0].unit_of_work(write=True) as uow:
        clinic.save(uow)
        uow.commit()
    return clinic


def _load(storage: SqlStorage, clinic: SmallClinic) -> Any:
    with storage.unit_of_work() as uow:
        return uow.calendar.load(clinic.organisation.id)


def _statements(storage: SqlStorage, clinic: SmallClinic) -> int:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(storage.engine, "before_cursor_execute", count)
    try:
        _load(storage, clinic)
    finally:
        event.remove(storage.engine, "before_cursor_execute", count)
    return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])


def test_a_warm_load_costs_one_query_and_a_cold_one_five(
    storages: tuple[SqlStorage, SqlStorage], clinic: SmallClinic
) -> None:
    storage = storages[1]
    assert _statements(storage, clinic) == 5
    assert _statements(storage, clinic) == 1
    assert _load(storage, clinic) is _load(storage, clinic)


def test_a_change_made_by_another_process_is_seen_at_once(
    storages: tuple[SqlStorage, SqlStorage], clinic: SmallClinic
) -> None:
    writer, reader = storages
    before = _load(reader, clinic)
    practitioner = clinic.practitioners[0]
    renamed = attrs.evolve(practitioner, name="Dr Renamed")
    with writer.unit_of_work(write=True) as uow:
        uow.calendar.save_practitioner(renamed)
        uow.commit()
    after = _load(reader, clinic)
    assert before.practitioners[practitioner.id].name == practitioner.name
    assert after.practitioners[practitioner.id] == renamed


def test_a_rolled_back_change_never_reaches_the_cache(
    storages: tuple[SqlStorage, SqlStorage], clinic: SmallClinic
) -> None:
    storage = storages[0]
    practitioner = clinic.practitioners[0]
    with storage.unit_of_work(write=True) as uow:
        uow.calendar.save_practitioner(attrs.evolve(practitioner, name="Dr Never"))
        inside = uow.calendar.load(clinic.organisation.id)
        assert inside is not None
        assert inside.practitioners[practitioner.id].name == "Dr Never"
        uow.rollback()
    # Another transaction commits a different change: the version moves on by one, as
    # the rolled-back one would have. The cache must hold neither stale nor phantom data.
    with storage.unit_of_work(write=True) as uow:
        uow.calendar.save_practitioner(attrs.evolve(practitioner, name="Dr Real"))
        uow.commit()
    loaded = _load(storage, clinic)
    assert loaded.practitioners[practitioner.id].name == "Dr Real"
    assert _load(storages[1], clinic).practitioners[practitioner.id].name == "Dr Real"
