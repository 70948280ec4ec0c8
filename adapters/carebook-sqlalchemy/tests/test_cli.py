"""The ``carebook-sqlalchemy`` command line: in process through ``main`` and as installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, make_url

from carebook_sqlalchemy.cli import main
from carebook_sqlalchemy.engine import make_engine
from carebook_sqlalchemy.migrate import current_revision, head_revision, upgrade
from carebook_sqlalchemy.schema import Base

SECRET = "hunter2-secret"
CAREBOOK_TABLES = frozenset(Base.metadata.tables)


def revision_of(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def with_password(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or parsed.password:
        return url
    return parsed.set(password=SECRET).render_as_string(hide_password=False)


def console_script() -> str:
    """The installed ``carebook-sqlalchemy`` script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("carebook-sqlalchemy")
    found = str(beside) if beside.exists() else shutil.which("carebook-sqlalchemy")
    if found is None:
        pytest.fail(
            "the carebook-sqlalchemy console script is not installed: "
            "pip install -e adapters/carebook-sqlalchemy",
            pytrace=False,
        )
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=False, env=dict(os.environ)
    )


# -- in process -------------------------------------------------------------------------------


def test_heads_prints_the_head_revision(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["heads"]) == 0
    assert capsys.readouterr().out.strip() == f"{head_revision()} (head)"


def test_upgrade_current_and_downgrade(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = with_password(db_url)

    assert main(["current", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("none (no carebook schema)")
    assert "carebook-sqlalchemy upgrade '" in out

    assert main(["upgrade", url]) == 0
    out = capsys.readouterr().out
    assert f"from none (no carebook schema) to {head_revision()}" in out
    assert revision_of(url) == head_revision()

    assert main(["upgrade", url, "--revision", "head"]) == 0
    assert "nothing to do" in capsys.readouterr().out

    assert main(["current", url]) == 0
    assert capsys.readouterr().out.strip() == f"{head_revision()} (head)"

    assert main(["downgrade", url, "base", "--yes"]) == 0
    assert f"from {head_revision()} to none" in capsys.readouterr().out
    assert table_names(url) & CAREBOOK_TABLES == set()

    password = make_url(url).password
    if password:
        assert password not in capsys.readouterr().out


def test_an_unsupported_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upgrade", f"mysql://clinic:{SECRET}@localhost/clinic"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: unsupported database 'mysql'")
    assert SECRET not in captured.err + captured.out


def test_a_malformed_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["current", "no url at all"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_an_unreachable_database_is_an_error_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Port 1 on the loopback: nothing listens there, the refusal is immediate.
    url = f"postgresql+psycopg://clinic:{SECRET}@127.0.0.1:1/clinic"
    assert main(["upgrade", url]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ")
    assert "127.0.0.1" in captured.err
    assert SECRET not in captured.err + captured.out


def test_an_unknown_revision_is_an_error(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upgrade", sqlite_url, "--revision", "nope"]) == 1
    assert "nope" in capsys.readouterr().err


def test_usage_errors_and_help_return_instead_of_exiting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAREBOOK_DATABASE_URL", raising=False)
    assert main([]) == 2
    assert main(["upgrade"]) == 2
    assert "CAREBOOK_DATABASE_URL" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "upgrade" in capsys.readouterr().out


def test_the_url_comes_from_the_environment_and_an_argument_wins(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAREBOOK_DATABASE_URL", sqlite_url)
    assert main(["upgrade"]) == 0
    assert revision_of(sqlite_url) == head_revision()
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["current", other]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("none (no carebook schema)")
    assert revision_of(other) is None


def test_current_check_fails_while_the_schema_is_behind(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["current", db_url, "--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: schema not current: none (no carebook schema)")
    assert err.count("\n") == 1
    assert main(["upgrade", db_url, "--revision", "0003"]) == 0
    assert main(["current", db_url, "--check"]) == 1
    assert "0003; this version needs" in capsys.readouterr().err
    assert main(["upgrade", db_url]) == 0
    assert main(["current", db_url, "--check"]) == 0


def test_downgrade_to_base_needs_yes_and_changes_nothing_without_it(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = with_password(db_url)
    assert main(["upgrade", url]) == 0
    before = table_names(url)
    assert main(["downgrade", url, "base"]) == 2
    err = capsys.readouterr().err
    assert "pass --yes" in err
    password = make_url(url).password
    if password:
        assert str(password) not in err
    assert table_names(url) == before
    assert revision_of(url) == head_revision()
    assert main(["downgrade", url, "-1"]) == 0  # a step back needs no confirmation
    assert revision_of(url) != head_revision()


def test_version_names_the_package_and_the_schema_head(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("carebook-sqlalchemy 0.")
    assert f"schema head {head_revision()}" in out


def test_offline_sql_needs_no_database_and_hides_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Port 1 has no server: the SQL is written without connecting.
    url = f"postgresql+psycopg://clinic:{SECRET}@127.0.0.1:1/clinic"
    assert main(["upgrade", url, "--sql"]) == 0
    sql = capsys.readouterr().out
    assert "CREATE EXTENSION IF NOT EXISTS btree_gist" in sql
    assert "EXCLUDE USING gist" in sql
    assert sql.rstrip().endswith("COMMIT;")
    assert f"UPDATE alembic_version SET version_num='{head_revision()}'" in sql
    assert SECRET not in sql

    assert main(["upgrade", url, "--sql", "--revision", "0003:head"]) == 0
    ranged = capsys.readouterr().out
    assert "Running upgrade 0003 -> 0004" in ranged
    assert "Running upgrade  -> 0001" not in ranged

    assert main(["downgrade", url, "head:0003", "--sql"]) == 0
    assert "DROP TABLE deliveries" in capsys.readouterr().out
    assert main(["downgrade", url, "base", "--sql"]) == 2
    assert "FROM:TO" in capsys.readouterr().err


def test_offline_sql_runs_on_a_fresh_postgresql_database(pg_url: str) -> None:
    """What --sql prints is what upgrade does: run it by hand, and the schema is current."""
    from sqlalchemy import text

    from carebook_sqlalchemy import migrate

    script = migrate.sql(pg_url)
    engine = make_engine(pg_url)
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            cursor = raw.cursor()
            cursor.execute(script.replace("BEGIN;", "", 1).rsplit("COMMIT;", 1)[0])
            raw.commit()
        migrate.require_current(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM deliveries")).scalar() == 0
    finally:
        engine.dispose()


# -- as installed -----------------------------------------------------------------------------


def test_the_console_script_upgrades_a_database(db_url: str) -> None:
    url = with_password(db_url)
    script = console_script()

    upgraded = run(script, "upgrade", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert revision_of(url) == head_revision()

    current = run(script, "current", url)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == f"{head_revision()} (head)"

    password = make_url(url).password
    if password:
        assert password not in upgraded.stdout + upgraded.stderr + current.stdout


def test_the_console_script_reports_errors_on_stderr(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "carebook.db"
    result = run(console_script(), "upgrade", f"sqlite:///{missing}")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_python_dash_m_runs_the_command_line(sqlite_url: str) -> None:
    result = run(sys.executable, "-m", "carebook_sqlalchemy", "upgrade", sqlite_url)
    assert result.returncode == 0, result.stderr
    assert revision_of(sqlite_url) == head_revision()

    heads = run(sys.executable, "-m", "carebook_sqlalchemy", "heads")
    assert heads.stdout.strip() == f"{head_revision()} (head)"


def test_the_python_call_and_the_command_line_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_call = f"sqlite:///{tmp_path / 'call.db'}"
    by_cli = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(by_call)
    assert main(["upgrade", by_cli]) == 0
    assert table_names(by_call) == table_names(by_cli)
    assert revision_of(by_call) == revision_of(by_cli) == head_revision()
