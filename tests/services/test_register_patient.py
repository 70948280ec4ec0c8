"""``register_patient`` has a typed signature and checks ``contact_ref``.

Its keyword parameters are explicit (a keyword it does not know is Python's TypeError
naming it); ``contact_ref`` is an opaque key of 1 to 200 characters, without control
characters or lone surrogates. A wrong ``contact_ref`` (of any type) is a
ValidationError naming the field, like every other wrong value carebook is given, never
quoting it; nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import typing
import uuid

import pytest

from carebook import Actor, ValidationError
from carebook.scheduling import Patient, PatientKind, Sex
from carebook.serialization import loads
from carebook.services.admin.calendar import CalendarAdmin
from carebook.testing.world import make_world

PLANT = "tel:+44-7700-900123"


def test_register_patient_has_explicit_typed_keyword_parameters() -> None:
    signature = inspect.signature(CalendarAdmin.register_patient)
    params = signature.parameters
    assert list(params) == [
        "self",
        "actor",
        "organisation_id",
        "kind",
        "contact_ref",
        "timezone",
        "sex",
        "birth_date",
        "language",
        "correlation_id",
    ]
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in params.values())
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(params.values())[2:])
    hints = typing.get_type_hints(CalendarAdmin.register_patient)
    assert set(hints) == set(params) - {"self"} | {"return"}
    assert hints["contact_ref"] == str | None
    assert hints["birth_date"] == dt.date | None


def test_every_fact_can_be_given() -> None:
    w = make_world()
    her = w.cb.admin.register_patient(
        Actor.admin(),
        organisation_id=w.org.id,
        kind=PatientKind.RETURNING,
        contact_ref=PLANT,
        timezone="Europe/London",
        sex=Sex.FEMALE,
        birth_date=dt.date(1987, 6, 5),
    )
    assert (her.kind, her.contact_ref, her.timezone) == (
        PatientKind.RETURNING,
        PLANT,
        "Europe/London",
    )
    assert her.facts.sex is Sex.FEMALE and her.facts.birth_date == dt.date(1987, 6, 5)
    assert w.cb.admin.register_patient(Actor.admin(), organisation_id=w.org.id, kind="new")


def test_an_unknown_keyword_is_a_type_error_naming_it() -> None:
    w = make_world(dispatch="manual")
    before = w.snapshot()
    with pytest.raises(TypeError, match="name") as caught:
        w.cb.admin.register_patient(  # type: ignore[call-arg]
            Actor.admin(), organisation_id=w.org.id, name="Alice Planted"
        )
    assert "Alice Planted" not in str(caught.value)
    assert w.snapshot() == before


BAD_CONTACT_REFS = {
    "object": object(),
    "int": 447700900123,
    "bytes": PLANT.encode(),
    "empty": "",
    "too long": PLANT + "x" * 200,
    "nul": PLANT + "\x00",
    "newline": PLANT + "\n",
    "lone surrogate": PLANT + "\ud800",
}


@pytest.mark.parametrize("case", list(BAD_CONTACT_REFS))
def test_a_bad_contact_ref_is_refused_naming_the_field(case: str) -> None:
    """A wrong value is a ValidationError; a wrong Python type (an object, an int, bytes)
    is the boundary's TypeError. Either names the field, and neither quotes the value."""
    w = make_world(dispatch="manual")
    before = w.snapshot()
    with pytest.raises((ValidationError, TypeError)) as caught:
        w.cb.admin.register_patient(
            Actor.admin(),
            organisation_id=w.org.id,
            contact_ref=BAD_CONTACT_REFS[case],  # type: ignore[arg-type]
        )
    message = str(caught.value)
    assert "contact_ref" in message
    assert "200" in message or isinstance(caught.value, TypeError)
    assert "7700" not in message
    assert w.snapshot() == before


def test_a_contact_ref_of_200_characters_is_accepted() -> None:
    w = make_world()
    ref = "crm:" + "7" * 196
    assert (
        w.cb.admin.register_patient(
            Actor.admin(), organisation_id=w.org.id, contact_ref=ref
        ).contact_ref
        == ref
    )


def test_a_loaded_patient_is_checked_the_same_way() -> None:
    data = {
        "id": str(uuid.uuid4()),
        "organisation_id": str(uuid.uuid4()),
        "contact_ref": PLANT + "x" * 200,
    }
    with pytest.raises(ValidationError, match="contact_ref") as caught:
        loads(json.dumps(data), Patient)
    assert "7700" not in str(caught.value)
