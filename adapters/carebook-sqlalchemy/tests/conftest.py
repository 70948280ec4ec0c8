"""Fixtures for the carebook-sqlalchemy tests: database URLs for SQLite and PostgreSQL.

PostgreSQL comes from ``CAREBOOK_PG_URL`` (default: the local server, user postgres,
database test). Each PostgreSQL fixture creates its own database, named
``carebook_t_<hex>``, and drops it afterwards (``WITH (FORCE)``). When the server
cannot be reached the PostgreSQL tests are skipped with the reason, except under
``CI=true``, where they fail: CI must not go green by skipping them.

The fixtures hand out empty databases; a test (or a fixture built on these) runs the
migrations itself.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_admin_url() -> URL:
    url = make_url(os.environ.get("CAREBOOK_PG_URL") or DEFAULT_PG_URL)
    if url.drivername == "postgresql":  # the adapter's driver is psycopg 3
        url = url.set(drivername="postgresql+psycopg")
    return url


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file database (not yet created) in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'carebook.db'}"


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """A URL of a reachable PostgreSQL server (skip, or fail under CI=true, if none)."""
    url = _pg_admin_url()
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        message = (
            f"PostgreSQL not reachable at {url.render_as_string(hide_password=True)} "
            f"({detail}); set CAREBOOK_PG_URL to a server where the user may create databases"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    finally:
        engine.dispose()
    return _render(url)


@contextmanager
def _fresh_pg_database(admin_url: str) -> Iterator[str]:
    """Create an empty database on the server of ``admin_url``; drop it on exit."""
    admin = make_url(admin_url)
    name = f"carebook_t_{secrets.token_hex(6)}"
    engine = create_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield _render(admin.set(database=name))
        finally:
            with engine.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test alone."""
    with _fresh_pg_database(pg_admin_url) as url:
        yield url


@pytest.fixture(scope="module")
def pg_module_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database shared by the tests of one module."""
    with _fresh_pg_database(pg_admin_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of each backend: a SQLite file, then PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url = request.getfixturevalue(fixture)
    assert isinstance(url, str)
    return url
