"""Patient facts: administrative sex and the facts a discount policy may look at.

:class:`~carebook.domain.scheduling.calendar.Patient` keeps them (as optional fields) and
hands them to pricing as :class:`PatientFacts`; the discount policies of
:mod:`carebook.domain.pricing` read them. They are patient data: kept out of ``repr``,
and no error message ever quotes them.
"""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata

import attrs
from attrs import frozen

from carebook.errors import ValidationError

__all__ = [
    "MAX_CONTACT_REF",
    "PatientFacts",
    "Sex",
    "to_sex",
    "validate_birth_date",
    "validate_contact_ref",
]

MAX_CONTACT_REF = 200
"""The longest ``contact_ref`` (characters): an opaque key, such as ``crm:4711``."""


class Sex(enum.StrEnum):
    """Administrative sex, with the FHIR R4 ``AdministrativeGender`` codes."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


def to_sex(value: object) -> Sex:
    """An attrs converter: ``value`` as a :class:`Sex`; a ValidationError that lists the
    codes otherwise."""
    # Never echo the value: it is patient data.
    if isinstance(value, Sex):
        return value
    if isinstance(value, str) and value in Sex._value2member_map_:
        return Sex(value)
    raise ValidationError(f"sex must be one of: {', '.join(s.value for s in Sex)}")


def validate_birth_date(_: object, __: attrs.Attribute[dt.date | None], value: object) -> None:
    """An attrs validator: a date (not a datetime) or None; the message quotes no value."""
    if value is not None and (isinstance(value, dt.datetime) or not isinstance(value, dt.date)):
        raise ValidationError("birth_date must be a date (not a datetime) or None")


def validate_contact_ref(_: object, __: attrs.Attribute[str | None], value: object) -> None:
    """An attrs validator: None, or a string of 1 to :data:`MAX_CONTACT_REF` characters
    with no control characters or lone surrogates (a key a notifier resolves, which must
    store and travel as text anywhere). A wrong type is refused the same way, as a
    ValidationError naming the field; the message never quotes the value."""
    if value is None:
        return
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_CONTACT_REF
        or any(unicodedata.category(c) in ("Cc", "Cs") for c in value)
    ):
        raise ValidationError(
            f"contact_ref must be None or a string of 1 to {MAX_CONTACT_REF} characters, "
            "without control characters"
        )


@frozen(kw_only=True)
class PatientFacts:
    """The patient facts a discount may look at. Patient data: kept out of ``repr`` and
    ``str``, and no error message ever quotes them."""

    sex: Sex = attrs.field(default=Sex.UNKNOWN, converter=to_sex, repr=False)
    birth_date: dt.date | None = attrs.field(
        default=None, validator=validate_birth_date, repr=False
    )
