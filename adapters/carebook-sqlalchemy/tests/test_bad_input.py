"""Bad storage configuration: every malformed or unsupported URL, unreachable database,
refused login and wrong option gives a typed carebook error (ConfigurationError or
StorageError) whose message names the problem, and the password in the URL never shows:
not in ``str(error)``, not in ``repr(error)``, not in the formatted traceback (with its
chained driver error), not in any log record.

Each case runs twice: ``SqlStorage(url, ...)`` directly and through
``carebook.bootstrap(CarebookConfig(storage="sqlalchemy", storage_options=...))``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlalchemy import make_url

import carebook
from carebook import (
    CarebookConfig,
    CarebookError,
    ConfigurationError,
    ManualClock,
    StorageError,
)
from carebook_sqlalchemy import SqlStorage

SECRET = "S3cretPassw0rd"
NOW = pendulum.datetime(2025, 3, 3, 8, 0, tz="UTC")

Opener = Callable[[Mapping[str, Any]], object]


def open_directly(options: Mapping[str, Any]) -> object:
    rest = {k: v for k, v in options.items() if k != "url"}
    return SqlStorage(options["url"], **rest) if "url" in options else SqlStorage.from_options({})


def open_by_config(options: Mapping[str, Any]) -> object:
    return carebook.bootstrap(
        CarebookConfig(storage="sqlalchemy", storage_options=dict(options), notifiers=()),
        clock=ManualClock(NOW),
    )


def open_from_mapping(options: Mapping[str, Any]) -> object:
    """As a host app does with a parsed TOML/JSON configuration file."""
    config = CarebookConfig.from_mapping(
        {"storage": "sqlalchemy", "storage_options": dict(options), "notifiers": []}
    )
    return carebook.bootstrap(config, clock=ManualClock(NOW))


@pytest.fixture(
    params=[open_directly, open_by_config, open_from_mapping],
    ids=["SqlStorage", "bootstrap", "from_mapping"],
)
def opener(request: pytest.FixtureRequest) -> Opener:
    opener: Opener = request.param
    return opener


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at any level, from any logger (SQLAlchemy, Alembic, carebook)."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def refused(
    opener: Opener,
    options: Mapping[str, Any],
    error: type[CarebookError],
    *fragments: str,
    logs: pytest.LogCaptureFixture,
) -> CarebookError:
    """Opening with ``options`` raises ``error`` naming every fragment, secret-free."""
    with pytest.raises(CarebookError) as caught:
        opened = opener(options)
        close = getattr(opened, "close", None)
        if close is not None:
            close()
    raised = caught.value
    assert isinstance(raised, error), f"{type(raised).__name__}: {raised}"
    message = str(raised)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message
    assert_secret_free(raised, logs)
    return raised


def assert_secret_free(raised: BaseException, logs: pytest.LogCaptureFixture) -> None:
    assert SECRET not in str(raised)
    assert SECRET not in repr(raised)
    assert SECRET not in "".join(traceback.format_exception(raised))
    assert SECRET not in logs.text
    for record in logs.records:
        assert SECRET not in record.getMessage()


# -- malformed and unsupported URLs ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "sqlite:/x",
        f"://u:{SECRET}@host/db",
        f"postgresql//u:{SECRET}@host/db",
    ],
)
def test_a_malformed_url_is_a_configuration_error(
    opener: Opener, url: str, logs: pytest.LogCaptureFixture
) -> None:
    refused(opener, {"url": url}, ConfigurationError, "malformed storage URL", logs=logs)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (f"mysql://u:{SECRET}@host/db", "mysql"),
        ("mssql+pyodbc://u@host/db", "mssql"),
        (f"oracle://u:{SECRET}@host/db", "oracle"),
    ],
)
def test_an_unsupported_database_is_named(
    opener: Opener, url: str, named: str, logs: pytest.LogCaptureFixture
) -> None:
    refused(
        opener,
        {"url": url},
        ConfigurationError,
        f"unsupported database '{named}'",
        "sqlite and postgresql",
        logs=logs,
    )


@pytest.mark.parametrize(
    ("url", "driver", "wanted"),
    [
        (f"postgresql+psycopg2://u:{SECRET}@127.0.0.1/db", "psycopg2", "postgresql+psycopg"),
        (f"postgresql+asyncpg://u:{SECRET}@127.0.0.1/db", "asyncpg", "postgresql+psycopg"),
        ("sqlite+aiosqlite:///clinic.db", "aiosqlite", "sqlite+pysqlite"),
    ],
)
def test_an_unsupported_driver_is_named_with_the_supported_one(
    opener: Opener, url: str, driver: str, wanted: str, logs: pytest.LogCaptureFixture
) -> None:
    refused(
        opener,
        {"url": url},
        ConfigurationError,
        f"unsupported driver '{driver}'",
        wanted,
        logs=logs,
    )


@pytest.mark.parametrize("url", ["", "   ", None, 42])
def test_an_empty_or_non_text_url_asks_for_a_url(
    opener: Opener, url: object, logs: pytest.LogCaptureFixture
) -> None:
    refused(opener, {"url": url}, ConfigurationError, "needs a 'url' option", logs=logs)


@pytest.mark.parametrize(
    "url",
    [f"postgresql://u:{SECRET}@127.0.0.1:notaport/db", f"postgresql://u:{SECRET}@[::1/db"],
    ids=["port-not-a-number", "unclosed-ipv6-bracket"],
)
def test_a_url_with_a_bad_port_is_a_configuration_error(
    url: str, logs: pytest.LogCaptureFixture
) -> None:
    refused(open_directly, {"url": url}, ConfigurationError, "malformed storage URL", logs=logs)


# -- options ---------------------------------------------------------------------------------


def test_the_url_option_is_required(opener: Opener, logs: pytest.LogCaptureFixture) -> None:
    if opener is open_directly:
        pytest.skip("SqlStorage() takes the URL as its first argument")
    refused(opener, {"migrate": True}, ConfigurationError, "needs a 'url' option", logs=logs)


def test_an_unknown_option_is_named(
    opener: Opener, sqlite_url: str, logs: pytest.LogCaptureFixture
) -> None:
    if opener is open_directly:
        pytest.skip("SqlStorage() passes unknown keywords on to SQLAlchemy's create_engine")
    refused(
        opener,
        {"url": sqlite_url, "migrat": True, "password": SECRET},
        ConfigurationError,
        "unknown sqlalchemy storage options",
        "migrat",
        logs=logs,
    )
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists(), "nothing was created"


@pytest.mark.parametrize(
    ("option", "value"),
    [("busy_timeout_ms", "abc"), ("pool_size", "ten"), ("echo", 3), ("migrate", "no")],
)
def test_an_option_of_the_wrong_type_is_a_configuration_error(
    sqlite_url: str, option: str, value: object, logs: pytest.LogCaptureFixture
) -> None:
    refused(
        open_by_config, {"url": sqlite_url, option: value}, ConfigurationError, option, logs=logs
    )


# -- databases that cannot be used -------------------------------------------------------------


def test_an_unreachable_server_is_a_storage_error_naming_the_address(
    opener: Opener, logs: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:1/x"
    error = refused(
        opener,
        {"url": url, "migrate": True},
        StorageError,
        "cannot reach the database",
        "127.0.0.1:1",
        "connection refused",
        logs=logs,
    )
    assert "postgres:***@" in str(error)  # the URL is shown, its password hidden


def test_an_unknown_host_is_a_storage_error_naming_the_problem(
    logs: pytest.LogCaptureFixture,
) -> None:
    url = f"postgresql://postgres:{SECRET}@no-such-host.invalid:5432/x"
    refused(open_directly, {"url": url}, StorageError, "resolve", logs=logs)


def test_a_sqlite_file_that_cannot_be_opened_is_a_storage_error(
    opener: Opener, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'clinic.db'}"
    refused(
        opener,
        {"url": url, "migrate": True},
        StorageError,
        "cannot reach the database",
        "unable to open database file",
        logs=logs,
    )


@pytest.fixture
def pg_server(pg_admin_url: str) -> tuple[str, int]:
    """Host and port of the reachable PostgreSQL server (skips, or fails under CI, if none)."""
    url = make_url(pg_admin_url)
    return url.host or "127.0.0.1", url.port or 5432


@pytest.mark.postgres
def test_a_role_that_does_not_exist_is_a_storage_error_without_the_password(
    opener: Opener, pg_server: tuple[str, int], logs: pytest.LogCaptureFixture
) -> None:
    # The test server trusts local logins, so a wrong password cannot be shown to fail;
    # a role that does not exist is refused at login the same way, password and all.
    host, port = pg_server
    url = f"postgresql://nobody_here:{SECRET}@{host}:{port}/test"
    error = refused(
        opener,
        {"url": url, "migrate": True},
        StorageError,
        'role "nobody_here" does not exist',
        logs=logs,
    )
    assert "nobody_here:***@" in str(error)


@pytest.mark.postgres
def test_a_database_that_does_not_exist_is_a_storage_error_naming_it(
    opener: Opener, pg_server: tuple[str, int], logs: pytest.LogCaptureFixture
) -> None:
    host, port = pg_server
    url = f"postgresql://postgres:{SECRET}@{host}:{port}/carebook_no_such_db"
    refused(
        opener,
        {"url": url},
        StorageError,
        'database "carebook_no_such_db" does not exist',
        logs=logs,
    )


@pytest.mark.postgres
def test_an_unmigrated_database_names_the_upgrade_command_without_the_password(
    opener: Opener, pg_url: str, logs: pytest.LogCaptureFixture
) -> None:
    url = make_url(pg_url).set(password=SECRET).render_as_string(hide_password=False)
    error = refused(
        opener,
        {"url": url},
        StorageError,
        "has no carebook schema",
        "carebook-sqlalchemy upgrade",
        logs=logs,
    )
    assert "put the password back in place of ***" in str(error)
