"""A PostgreSQL URL without psycopg installed: a one-line hint, not a traceback.

psycopg is the ``postgres`` extra. Without it, ``bootstrap()`` (and ``SqlStorage``,
``make_engine``) raise a ConfigurationError saying what to install, and the command line
prints that one line on stderr and exits non-zero. The missing module is simulated with
``sys.modules["psycopg"] = None``, which makes ``import psycopg`` fail as if absent: in
this process (monkeypatched) and in a subprocess for the command line.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import carebook
from carebook import CarebookConfig, ConfigurationError
from carebook_sqlalchemy.engine import make_engine

# Never reached: the driver is missing before any connection is tried.
URL = "postgresql://postgres@127.0.0.1:5432/carebook_missing_driver"
HINT = "carebook-sqlalchemy[postgres]"


@pytest.fixture
def no_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "psycopg" or n.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)


@pytest.mark.usefixtures("no_psycopg")
def test_bootstrap_says_which_extra_to_install() -> None:
    config = CarebookConfig(storage="sqlalchemy", storage_options={"url": URL})
    with pytest.raises(ConfigurationError) as caught:
        carebook.bootstrap(config)
    message = str(caught.value)
    assert HINT in message and "psycopg" in message
    assert "\n" not in message
    assert caught.value.__suppress_context__, "no chained ModuleNotFoundError traceback"


@pytest.mark.usefixtures("no_psycopg")
def test_make_engine_says_which_extra_to_install() -> None:
    with pytest.raises(ConfigurationError, match=r"carebook-sqlalchemy\[postgres\]"):
        make_engine(URL)


def _without_psycopg(code: str) -> subprocess.CompletedProcess[str]:
    script = "import sys\nsys.modules['psycopg'] = None\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_command_line_prints_one_line_and_exits_non_zero() -> None:
    result = _without_psycopg(
        f"""
        from carebook_sqlalchemy.cli import main
        raise SystemExit(main(["current", "{URL}"]))
        """
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and HINT in lines[0]
    assert "Traceback" not in result.stderr


def test_bootstrap_in_a_fresh_process_raises_the_configuration_error() -> None:
    result = _without_psycopg(
        f"""
        import carebook
        from carebook import CarebookConfig, ConfigurationError
        config = CarebookConfig(storage="sqlalchemy", storage_options={{"url": "{URL}"}})
        try:
            carebook.bootstrap(config)
        except ConfigurationError as exc:
            print(type(exc).__name__, exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ConfigurationError ") and HINT in result.stdout
