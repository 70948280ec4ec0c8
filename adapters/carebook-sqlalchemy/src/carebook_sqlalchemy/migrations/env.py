"""Alembic environment for carebook-sqlalchemy, configured programmatically.

:mod:`carebook_sqlalchemy.migrate` builds the Alembic ``Config`` in code (no alembic.ini)
and hands over an open connection, already inside a transaction, in
``config.attributes["connection"]`` (Alembic's "sharing a connection" recipe). The
migrations run in that transaction: on PostgreSQL the DDL is transactional, and on
SQLite the transaction was started with ``BEGIN IMMEDIATE`` by the adapter's engine.

Run without a shared connection (say, ``alembic -x`` tooling pointed at this directory
with a ``sqlalchemy.url`` main option), it builds its own engine with
:func:`carebook_sqlalchemy.engine.make_engine`. Offline mode
(:func:`carebook_sqlalchemy.migrate.sql`, ``carebook-sqlalchemy upgrade --sql``) writes
the SQL for the URL's dialect instead of running it, with literal values, and needs no
database.
Logging is left to the host application: a library does not call ``fileConfig``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from carebook_sqlalchemy.schema import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    shared = context.config.attributes.get("connection")
    if isinstance(shared, Connection):
        _run(shared)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "carebook migrations need a connection in config.attributes['connection'] "
            "or a sqlalchemy.url option; use carebook_sqlalchemy.migrate.upgrade()"
        )
    from carebook_sqlalchemy.engine import WRITE_OPTION, make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                _run(connection)
    finally:
        engine.dispose()


def _run_offline() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("offline carebook migrations need a sqlalchemy.url option")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
