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

    assert main(["downgrade", url, "base"]) == 0
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
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 2
    assert main(["upgrade"]) == 2
    assert main(["--help"]) == 0
    assert "upgrade" in capsys.readouterr().out


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
