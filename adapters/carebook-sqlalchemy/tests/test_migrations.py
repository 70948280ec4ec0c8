"""The packaged Alembic migrations: they build exactly the ORM schema, on SQLite and PostgreSQL.

``db_url`` (conftest) is a fresh empty database per test: a SQLite file, then a PostgreSQL
database of its own (marked ``postgres``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, make_url, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import AddConstraint

from carebook.errors import ConfigurationError, StorageError
from carebook_sqlalchemy import migrate
from carebook_sqlalchemy.engine import make_engine
from carebook_sqlalchemy.migrate import (
    MIGRATIONS_DIR,
    MigrationError,
    SchemaNotCurrentError,
    current_revision,
    downgrade,
    head_revision,
    require_current,
    upgrade,
)
from carebook_sqlalchemy.schema import Base

SECRET = "s3cret-pw"
CAREBOOK_TABLES = frozenset(Base.metadata.tables)


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    with engine_for(url) as engine:
        return set(inspect(engine).get_table_names())


def with_password(url: str) -> tuple[str, str | None]:
    """``url`` with a password in it (PostgreSQL; trust auth ignores it) and that password."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url, None
    if parsed.password:  # a configured server with real credentials: keep them
        return url, str(parsed.password)
    return parsed.set(password=SECRET).render_as_string(hide_password=False), SECRET


# -- the script directory ---------------------------------------------------------------------


def test_the_packaged_history_is_linear_with_one_head() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert script.get_heads() == [head_revision()]
    revisions = list(script.walk_revisions())
    assert revisions[0].revision == head_revision()
    assert revisions[-1].down_revision is None


# -- the schema the migrations build ----------------------------------------------------------


def test_migrations_produce_exactly_the_orm_metadata(db_url: str) -> None:
    upgrade(db_url)
    with engine_for(db_url) as engine, engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert table_names(db_url) == CAREBOOK_TABLES | {"alembic_version"}


def _declared_names() -> dict[str, set[str | None]]:
    names: dict[str, set[str | None]] = {}
    for table in Base.metadata.tables.values():
        declared: set[str | None] = {
            c.name if isinstance(c.name, str) else None
            for c in table.constraints
            if not isinstance(c, ExcludeConstraint)
        }
        declared |= {index.name for index in table.indexes}
        names[table.name] = declared
    return names


def _reflected_names(engine: Engine) -> dict[str, set[str | None]]:
    inspector = inspect(engine)
    names: dict[str, set[str | None]] = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        found: set[str | None] = {inspector.get_pk_constraint(table)["name"]}
        found |= {fk["name"] for fk in inspector.get_foreign_keys(table)}
        found |= {uq["name"] for uq in inspector.get_unique_constraints(table)}
        found |= {ck["name"] for ck in inspector.get_check_constraints(table)}
        found |= {
            ix["name"]
            for ix in inspector.get_indexes(table)
            if "duplicates_constraint" not in ix  # PostgreSQL: the index behind a constraint
        }
        names[table] = found
    return names


def test_every_constraint_and_index_has_the_declared_name(db_url: str) -> None:
    # compare_metadata ignores check constraints and most names: compare them here.
    upgrade(db_url)
    with engine_for(db_url) as engine:
        assert _reflected_names(engine) == _declared_names()


def test_the_pending_outbox_index_is_partial(db_url: str) -> None:
    upgrade(db_url)
    with engine_for(db_url) as engine, engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outbox_pending'"
            expected = "WHERE (dispatched_at IS NULL)"
        else:
            sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_pending'"
            expected = "WHERE dispatched_at IS NULL"
        definition = connection.execute(text(sql)).scalar_one()
    assert definition.endswith(expected), definition


@pytest.mark.postgres
def test_postgres_has_btree_gist_and_the_three_declared_exclusion_constraints(
    pg_url: str,
) -> None:
    upgrade(pg_url)
    with engine_for(pg_url) as engine, engine.connect() as connection:
        declared = {}
        for table in Base.metadata.tables.values():
            for constraint in table.constraints:
                if isinstance(constraint, ExcludeConstraint):
                    ddl = str(AddConstraint(constraint).compile(dialect=engine.dialect))
                    declared[str(constraint.name)] = ddl.split(f"{constraint.name} ", 1)[1]
        rows = connection.execute(
            text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'x'")
        )
        found = {str(name): str(definition) for name, definition in rows}
        extension = connection.execute(
            text("SELECT count(*) FROM pg_extension WHERE extname = 'btree_gist'")
        ).scalar_one()
    assert len(declared) == 3
    assert found == declared
    assert extension == 1


@pytest.mark.postgres
def test_postgres_rejects_overlapping_rows_inserted_with_raw_sql(pg_url: str) -> None:
    """The backstop: the exclusion constraint itself refuses an overlap, half-open."""
    upgrade(pg_url)
    ids = {
        name: f"00000000-0000-0000-0000-00000000000{n}"
        for n, name in enumerate(("org", "loc", "pra", "pat", "a1", "a2", "a3", "a4"), 1)
    }

    def appointment(key: str, start: int, end: int, status: str, blocks: bool) -> str:
        return (
            "INSERT INTO appointments (id, organisation_id, location_id, practitioner_id, "
            "patient_id, status, start_at, occupied_start, occupied_end, blocks_time, version, "
            f"data) VALUES ('{ids[key]}', '{ids['org']}', '{ids['loc']}', '{ids['pra']}', "
            f"'{ids['pat']}', '{status}', {start}, {start}, {end}, {blocks}, 1, '{{}}')"
        )

    with engine_for(pg_url) as engine:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"INSERT INTO organisations VALUES ('{ids['org']}', '{{}}')")
            for key, table in (("loc", "locations"), ("pra", "practitioners")):
                connection.exec_driver_sql(
                    f"INSERT INTO {table} VALUES ('{ids[key]}', '{ids['org']}', '{{}}')"
                )
            connection.exec_driver_sql(
                f"INSERT INTO patients VALUES ('{ids['pat']}', '{ids['org']}', '{{}}')"
            )
            connection.exec_driver_sql(appointment("a1", 1000, 2000, "booked", True))
            # Half-open: [2000, 3000) touches [1000, 2000) without overlapping it.
            connection.exec_driver_sql(appointment("a2", 2000, 3000, "booked", True))
            # A row that no longer blocks time may overlap.
            connection.exec_driver_sql(appointment("a3", 1500, 2500, "cancelled", False))
        with pytest.raises(IntegrityError) as caught, engine.begin() as connection:
            connection.exec_driver_sql(appointment("a4", 1500, 2500, "pending", True))
    assert getattr(caught.value.orig, "sqlstate", None) == "23P01"


# -- upgrade, downgrade, current --------------------------------------------------------------


def test_upgrade_records_the_head_revision(db_url: str) -> None:
    with engine_for(db_url) as engine:
        assert current_revision(engine) is None
        upgrade(db_url)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
        require_current(engine, db_url)


def test_upgrade_accepts_an_engine_and_leaves_it_usable(db_url: str) -> None:
    with engine_for(db_url) as engine:
        upgrade(engine)
        assert current_revision(engine) == head_revision()


def test_upgrading_twice_is_a_no_op_that_keeps_the_data(db_url: str) -> None:
    upgrade(db_url)
    with engine_for(db_url) as engine:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO inbox (consumer, event_id) VALUES ('audit', :id)"),
                {"id": "0" * 32},
            )
        upgrade(db_url)
        upgrade(engine, "head")
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM inbox")).scalar_one() == 1


def test_downgrade_to_base_leaves_no_carebook_tables(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "base")
    assert table_names(db_url) & CAREBOOK_TABLES == set()
    with engine_for(db_url) as engine:
        assert current_revision(engine) is None
    upgrade(db_url)  # and back again
    assert table_names(db_url) >= CAREBOOK_TABLES


def test_a_failed_upgrade_changes_nothing(db_url: str) -> None:
    # A table in the way of the last CREATE TABLE: everything before it must roll back.
    with engine_for(db_url) as engine, engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE inbox (x INTEGER)")
    with pytest.raises(StorageError):
        upgrade(db_url)
    assert table_names(db_url) == {"inbox"}


def test_concurrent_upgrades_of_one_database_all_succeed(db_url: str) -> None:
    # Open the database once first: the race between first connections to a brand-new
    # SQLite file (switching it to WAL) belongs to the engine's tests, not to migrations.
    with engine_for(db_url) as engine:
        engine.connect().close()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(db_url)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with engine_for(db_url) as engine:
        assert current_revision(engine) == head_revision()


def test_upgrade_to_an_unknown_revision_is_a_typed_error(sqlite_url: str) -> None:
    with pytest.raises(MigrationError, match="nope"):
        upgrade(sqlite_url, "nope")


def test_upgrade_of_a_malformed_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        upgrade("not a url")
    with pytest.raises(ConfigurationError, match="mysql"):
        upgrade("mysql://user:pw@localhost/db")


# -- require_current: a clear "run migrations" error before any work starts -------------------


def _assert_names_the_command_without_the_password(
    error: SchemaNotCurrentError, password: str | None
) -> None:
    message = str(error)
    assert "carebook-sqlalchemy upgrade '" in message
    assert head_revision() in message
    if password is not None:
        assert password not in message
        assert ":***@" in message
    assert isinstance(error, StorageError)


def test_an_empty_database_is_refused_with_the_upgrade_command(db_url: str) -> None:
    url, password = with_password(db_url)
    with engine_for(url) as engine:
        with pytest.raises(SchemaNotCurrentError) as caught:
            require_current(engine, url)
        assert "has no carebook schema" in str(caught.value)
        assert caught.value.current is None
        _assert_names_the_command_without_the_password(caught.value, password)
        with pytest.raises(SchemaNotCurrentError) as default_url:
            require_current(engine)  # the engine's own URL, password hidden too
        _assert_names_the_command_without_the_password(default_url.value, password)


def test_a_database_downgraded_to_base_is_refused(db_url: str) -> None:
    url, password = with_password(db_url)
    upgrade(url)
    downgrade(url, "base")
    with engine_for(url) as engine, pytest.raises(SchemaNotCurrentError) as caught:
        require_current(engine, url)
    _assert_names_the_command_without_the_password(caught.value, password)


def test_a_database_at_an_older_revision_is_refused(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, password = with_password(db_url)
    upgrade(url)
    older = head_revision()
    # The code moves on to a newer head than the database has.
    monkeypatch.setattr(migrate, "head_revision", lambda: "9999_newer")
    with engine_for(url) as engine, pytest.raises(SchemaNotCurrentError) as caught:
        require_current(engine, url)
    message = str(caught.value)
    assert f"is at schema revision {older!r}" in message
    assert "needs revision '9999_newer'" in message
    assert "carebook-sqlalchemy upgrade '" in message
    if password is not None:
        assert password not in message


def test_a_database_from_a_newer_version_is_refused_without_suggesting_upgrade(
    db_url: str,
) -> None:
    upgrade(db_url)
    with engine_for(db_url) as engine:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        with pytest.raises(SchemaNotCurrentError) as caught:
            require_current(engine, db_url)
        assert "'9999_future'" in str(caught.value)
        assert "newer carebook-sqlalchemy" in str(caught.value)
        with pytest.raises(MigrationError, match="9999_future"):
            upgrade(engine)


def test_a_database_at_head_is_accepted(db_url: str) -> None:
    url, _ = with_password(db_url)
    upgrade(url)
    with engine_for(url) as engine:
        require_current(engine, url)
