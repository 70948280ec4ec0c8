"""A pooled PostgreSQL connection that the server dropped does not reach a caller.

The storage pings a pooled connection only after it sat idle (see
``carebook_sqlalchemy.engine``); a connection lost under a statement is reported as a
TransientStorageError, so a write is re-run on a fresh connection.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pendulum
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

import carebook_sqlalchemy.engine as engine_module
from carebook import (
    Actor,
    CarebookConfig,
    ManualClock,
    bootstrap,
)
from carebook.domain.ids import OrganisationId
from carebook.errors import TransientStorageError
from carebook_sqlalchemy import SqlStorage

pytestmark = pytest.mark.postgres

NOW = pendulum.datetime(2026, 5, 31, 12, tz="UTC")


def _backend_pids(url: str) -> list[int]:
    """Server pids of the storage's connections (every other session on this database)."""
    admin = create_engine(url, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return [int(pid) for (pid,) in rows]
    finally:
        admin.dispose()


def _terminate_all(url: str) -> int:
    pids = _backend_pids(url)
    admin = create_engine(url, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()
    return len(pids)


@pytest.fixture
def storage(pg_url: str) -> Iterator[SqlStorage]:
    storage = SqlStorage(pg_url, migrate=True)
    try:
        yield storage
    finally:
        storage.close()


def test_an_idle_connection_killed_by_the_server_is_replaced_before_use(
    storage: SqlStorage, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with storage.unit_of_work() as uow:
        assert uow.calendar.get_organisation(OrganisationId(_uuid())) is None
    assert _terminate_all(pg_url) >= 1, "the pooled connection should be on the server"
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", -1.0)  # every reuse is "idle"
    with storage.unit_of_work() as uow:  # a read: not retried, so the ping must catch it
        assert uow.calendar.get_organisation(OrganisationId(_uuid())) is None


def test_a_connection_dropped_under_a_write_is_retried_on_a_fresh_one(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cb = bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": pg_url, "migrate": True},
            notifiers=(),
            dispatch="manual",
        ),
        clock=ManualClock(NOW),
    )
    try:
        cb.admin.create_organisation(Actor.admin(), name="Before")
        assert _terminate_all(pg_url) >= 1
        # Not idle yet: no ping, so the first statement meets the dead socket.
        org = cb.admin.create_organisation(Actor.admin(), name="After")
        with cb.storage.unit_of_work() as uow:
            assert uow.calendar.get_organisation(org.id) is not None
    finally:
        cb.close()


def test_a_recently_used_connection_is_not_pinged_and_its_loss_is_transient(
    storage: SqlStorage, pg_url: str
) -> None:
    """No ping for a connection back in the pool for less than IDLE_PING_SECONDS (a busy
    pool pays no extra round trip): a read meets the dead socket, as a typed error."""
    with storage.unit_of_work() as uow:
        uow.calendar.get_organisation(OrganisationId(_uuid()))
    _terminate_all(pg_url)
    with (
        pytest.raises(TransientStorageError, match="connection was lost"),
        storage.unit_of_work() as uow,
    ):
        uow.calendar.get_organisation(OrganisationId(_uuid()))


def _uuid() -> uuid.UUID:
    return uuid.uuid4()
