"""The busy-time statements: one UNION ALL branch per kind of owner, a row per span or
a row per owner."""

from __future__ import annotations

import functools
from typing import Any

import attrs
from sqlalchemy import (
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql

from carebook.domain.scheduling.busy import PATIENT, PRACTITIONER, RESOURCE
from carebook_sqlalchemy.repositories.base import APPOINTMENTS, APPT_RESOURCES

__all__ = ["AGGREGATE_FROM_OWNERS", "BusyShape", "busy_statement"]


def _busy_branch(
    kind: str, table: Table, owner: str, ids: str, appt: str, *, shape: BusyShape
) -> Any:
    c = table.c
    # For many owners PostgreSQL takes them as one array parameter: the statement text
    # is then the same for any number of owners, so the server plans it once. A few
    # owners (a booking's) and SQLite, which has no arrays, use an expanding IN.
    among = (
        c[owner] == any_(bindparam(ids, type_=postgresql.ARRAY(Uuid)))
        if shape.arrays
        else c[owner].in_(bindparam(ids, expanding=True))
    )
    window = (
        among,
        c.occupied_end > bindparam("start"),
        c.occupied_start < bindparam("end"),
        c.blocks_time.is_(True),
        *((c[appt] != bindparam("exclude"),) if shape.excluding else ()),
    )
    if not shape.aggregated:
        # A row per span: cheapest for the handful of spans a booking reads.
        return select(
            literal(kind).label("kind"),
            cast(c[owner], String).label("owner"),
            c.occupied_start,
            c.occupied_end,
            c.hold_expires_at.label("expires"),
        ).where(*window)
    # A row per owner: its live spans as "start,end,start,end..." (a hold past its
    # expiry is left out of the text) and whether any such expired hold was seen.
    # "Live" is busy.hold_blocks in SQL: ``:now`` is busy.now_epoch, the column expiry_epoch.
    live = or_(c.hold_expires_at.is_(None), c.hold_expires_at > bindparam("now"))
    span = cast(c.occupied_start, String) + "," + cast(c.occupied_end, String)
    concat = func.string_agg if shape.arrays else func.group_concat
    return (
        select(
            literal(kind).label("kind"),
            cast(c[owner], String).label("owner"),
            concat(case((live, span), else_=None), literal(",")).label("spans"),
            func.max(case((live, 0), else_=1)).label("expired"),
        )
        .where(*window)
        .group_by(c[owner])
    )


@attrs.frozen
class BusyShape:
    """What a busy-time statement looks like: which kinds of owner it reads, whether it
    leaves an appointment out, and whether it aggregates spans per owner (searches: many
    owners), taking them as an array (PostgreSQL)."""

    wanted: tuple[bool, bool, bool]
    excluding: bool
    aggregated: bool
    arrays: bool


AGGREGATE_FROM_OWNERS = 4
"""A read for more owners than this (a search; a booking reads its practitioner, its
patient and the rooms it may use) returns a row per owner (see busy_intervals)."""

_OWNERS = (
    (PRACTITIONER, APPOINTMENTS, "practitioner_id", "practitioners", "id"),
    (PATIENT, APPOINTMENTS, "patient_id", "patients", "id"),
    (RESOURCE, APPT_RESOURCES, "resource_id", "resources", "appointment_id"),
)


@functools.cache
def busy_statement(shape: BusyShape) -> Any:
    """The busy-time query of one shape, built once."""
    branches = [
        _busy_branch(*owner, shape=shape)
        for owner, on in zip(_OWNERS, shape.wanted, strict=True)
        if on
    ]
    return branches[0] if len(branches) == 1 else union_all(*branches)
