"""The boundary (issue 10, section 4): each example the fuzzer found, as a specification.

A wrong Python type is a TypeError naming the method and the parameter, raised before any
work; a wrong value is a ValidationError naming the field, never quoting the value; ids
take their string form; a setting that would break later calls is refused when it is set.
Every refusal leaves storage as it was. The same examples on SQLite are in
adapters/carebook-sqlalchemy/tests/test_boundary.py (through :func:`boundary_examples`).
"""

from __future__ import annotations

import inspect

import pytest

from carebook import Actor, Carebook
from carebook.builtin.memory import MemoryStorage
from carebook.services.boundary import is_checked
from carebook.testing.boundary_examples import EXAMPLES, check_string_ids, run_example
from carebook.testing.world import make_world


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_of_the_issue_is_refused_where_it_enters(name: str) -> None:
    run_example(name, MemoryStorage())


def test_ids_in_their_string_form_book_like_the_uuids() -> None:
    check_string_ids(MemoryStorage())


def test_every_public_use_case_checks_its_arguments() -> None:
    w = make_world()
    unchecked = [
        f"{feature}.{name}"
        for feature in _features(w.cb)
        for name, member in inspect.getmembers(getattr(w.cb, feature), inspect.ismethod)
        if not name.startswith("_") and not is_checked(member)
    ]
    assert unchecked == []


def test_the_check_names_the_method_and_the_parameter_and_not_the_value() -> None:
    w = make_world()
    with pytest.raises(TypeError) as refused:
        w.cb.queries.patient_appointments(Actor.system(), 447700900123)  # type: ignore[arg-type]
    assert str(refused.value) == (
        "patient_appointments(): patient_id must be PatientId (a UUID or its string form), not int"
    )
    assert "7700" not in str(refused.value)


def test_an_optional_collection_takes_none_a_collection_and_refuses_anything_else() -> None:
    w = make_world()
    assert w.cb.events.run_pending(None).failed == ()
    assert w.cb.events.run_pending(["dispatch"]).failed == ()
    with pytest.raises(TypeError) as refused:
        w.cb.events.run_pending(5)  # type: ignore[arg-type]
    assert "run_pending(): jobs must be" in str(refused.value)


def _features(cb: Carebook) -> list[str]:
    import attrs

    return [
        a.name
        for a in attrs.fields(type(cb))
        if a.name
        in {
            "booking",
            "lifecycle",
            "queries",
            "sagas",
            "walkins",
            "staffing",
            "admin",
            "pricing",
            "events",
            "reminders",
        }
    ]
