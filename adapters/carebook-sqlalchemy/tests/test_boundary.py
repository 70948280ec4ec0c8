"""The boundary (issue 10, section 4) on SQLite: the issue's examples, ids in their string
form, and the fuzzer over every public use case, comparing every table before and after
each refused call.

``CAREBOOK_FUZZ_EXAMPLES`` sets the fuzzer's size (default 25 examples of 20 calls here:
a database round trip costs more than memory).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from carebook.ports import Storage
from carebook.testing.boundary_examples import EXAMPLES, check_string_ids, run_example
from carebook.testing.fuzz import BoundaryFuzz, fuzz_examples
from carebook.testing.world import World
from carebook_sqlalchemy import SqlStorage


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_of_the_issue_is_refused_where_it_enters(name: str, sqlite_url: str) -> None:
    run_example(name, SqlStorage(sqlite_url, migrate=True))


def test_ids_in_their_string_form_book_like_the_uuids(sqlite_url: str) -> None:
    check_string_ids(SqlStorage(sqlite_url, migrate=True))


_TABLES: dict[str, sa.MetaData] = {}


def table_rows(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: what the database holds."""
    metadata = _TABLES.get(str(engine.url))
    if metadata is None:
        metadata = _TABLES[str(engine.url)] = sa.MetaData()
        metadata.reflect(engine)
    with engine.connect() as conn:
        return {
            name: sorted((tuple(row) for row in conn.execute(table.select())), key=repr)
            for name, table in sorted(metadata.tables.items())
        }


class TestSqliteBoundaryFuzz(BoundaryFuzz):
    fuzz_examples = fuzz_examples(25)

    @pytest.fixture
    def storage(self, sqlite_url: str) -> Iterator[Storage]:
        storage = SqlStorage(sqlite_url, migrate=True)
        yield storage
        storage.close()

    def snapshot(self, w: World) -> object:
        storage = w.cb.storage
        assert isinstance(storage, SqlStorage)
        return table_rows(storage.engine)


def test_the_table_snapshot_sees_a_change(sqlite_url: str) -> None:
    """Guards the fuzzer's comparison: one booking changes the rows it reads."""
    from carebook.testing.world import at, make_world

    w = make_world(storage=SqlStorage(sqlite_url, migrate=True), dispatch="manual")
    storage = w.cb.storage
    assert isinstance(storage, SqlStorage)
    before = table_rows(storage.engine)
    w.book(w.alice, at(10))
    assert table_rows(storage.engine) != before
    w.cb.close()
