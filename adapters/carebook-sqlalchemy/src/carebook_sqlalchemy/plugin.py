"""Registers the ``sqlalchemy`` storage with carebook (entry-point group ``carebook``)."""

from __future__ import annotations

from carebook.hookspecs import Register, hookimpl
from carebook.ports import Storage
from carebook_sqlalchemy.storage import SqlStorage


@hookimpl
def carebook_register_storage(register: Register[Storage]) -> None:
    register("sqlalchemy", SqlStorage.from_options)
