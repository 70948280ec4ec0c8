"""The whole storage contract of :mod:`carebook.testing` on SQLite and on PostgreSQL,
one class per database.

Each test gets a fresh database (a SQLite file in its temporary directory, or a
PostgreSQL database of its own from ``pg_url``), migrated by ``SqlStorage(migrate=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carebook.ports import Storage
from carebook.testing import StorageContract
from carebook_sqlalchemy import SqlStorage

HOLD_EXAMPLES = 50
"""Examples of the hold-expiry properties: a database round trip costs more than memory."""


def _storage(url: str) -> Iterator[Storage]:
    storage = SqlStorage(url, migrate=True)
    try:
        yield storage
    finally:
        storage.close()


class TestSqliteStorage(StorageContract):
    hold_examples = HOLD_EXAMPLES

    @pytest.fixture
    def storage(self, sqlite_url: str) -> Iterator[Storage]:
        yield from _storage(sqlite_url)


@pytest.mark.postgres
class TestPostgresStorage(StorageContract):
    hold_examples = HOLD_EXAMPLES

    @pytest.fixture
    def storage(self, pg_url: str) -> Iterator[Storage]:
        yield from _storage(pg_url)


def test_sql_storage_satisfies_the_storage_protocol(sqlite_url: str) -> None:
    storage: Storage = SqlStorage(sqlite_url, migrate=True)  # checked by mypy as well
    try:
        assert isinstance(storage, SqlStorage)
    finally:
        storage.close()
