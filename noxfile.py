"""Developer sessions: ``nox`` runs lint, typecheck, tests and examples; ``nox -s bench`` etc."""

from __future__ import annotations

from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "tests", "examples"]

ROOT = Path(__file__).parent
# The notifier adapters (adapters/carebook-<x> besides the SQL storage), with their tests' extras.
ADAPTERS = [
    arg
    for path in sorted(ROOT.glob("adapters/carebook-*"))
    if path.name != "carebook-sqlalchemy"
    for arg in ("-e", f"adapters/{path.name}[test]")
]


def _dev_requirement(name: str) -> str:
    """The requirement for ``name`` as pinned in the ``dev`` extra of pyproject.toml."""
    pyproject = nox.project.load_toml(ROOT / "pyproject.toml")
    for requirement in pyproject["project"]["optional-dependencies"]["dev"]:
        if Requirement(requirement).name == name:
            return str(requirement)
    raise LookupError(f"{name} is not in the dev extra of pyproject.toml")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite, core and adapters (benchmarks excluded); extra arguments
    go to pytest."""
    session.install("-e", ".[test]", "-e", "adapters/carebook-sqlalchemy[test]", *ADAPTERS)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def tests_core(session: nox.Session) -> None:
    """The core's tests with no adapter installed: carebook needs no SQLAlchemy."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "tests", *session.posargs)


@nox.session
def stress(session: nox.Session) -> None:
    """The concurrency tests at full size (PostgreSQL 16 processes x 200 attempts,
    SQLite 8 x 200), the same-slot contest (8 processes x 100 rounds on PostgreSQL), the
    worker takeover (16 SIGKILLs) and the SMTP reliability soak (60 s of 4 booking
    processes and 2 workers, a SIGKILL every 10 s: 5); CI runs them at 16 x 50, 8 x 50,
    8 x 15, 3 and a 15 s soak (a SIGKILL every 5 s: 2)."""
    session.install("-e", ".[test]", "-e", "adapters/carebook-sqlalchemy[test]", *ADAPTERS)
    session.run(
        "python",
        "-m",
        "pytest",
        "adapters/carebook-sqlalchemy/tests/test_concurrency.py",
        "adapters/carebook-sqlalchemy/tests/test_contest.py",
        "adapters/carebook-sqlalchemy/tests/test_worker.py",
        "adapters/carebook-smtp/tests/test_smtp_soak_pg.py",
        *session.posargs,
        env={"CAREBOOK_STRESS_SCALE": "full"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint, ruff format check, and the layering contract (import-linter)."""
    session.install(_dev_requirement("ruff"))
    # The whole tree, as CI does: Python files and the Python blocks in Markdown.
    session.run("ruff", "check")
    session.run("ruff", "format", "--check")
    # The contracts in pyproject.toml read the import graph of both distributions.
    session.install("-e", ".[test]", "-e", "adapters/carebook-sqlalchemy")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict (configured in pyproject.toml) over src and tests."""
    session.install(
        "-e",
        ".[test]",
        "-e",
        "adapters/carebook-sqlalchemy[test]",
        *ADAPTERS,
        _dev_requirement("mypy"),
    )
    session.run("mypy")


@nox.session
def examples(session: nox.Session) -> None:
    """Run every examples/*.py script (``_*.py`` are their helpers, not examples); the
    session fails if any script exits non-zero. The plot extra draws the charts."""
    # carebook-smtp[test]: clinic_day_worker.py sends real e-mail to a local aiosmtpd.
    session.install(
        "-e",
        ".[plot,messages]",
        "-e",
        "adapters/carebook-sqlalchemy",
        "-e",
        "adapters/carebook-smtp[test]",
    )
    scripts = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
    if not scripts:
        session.log("no example scripts found")
        return
    for script in scripts:
        session.log(f"example: {script.relative_to(ROOT)}")
        session.run("python", str(script))


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks in tests/benchmarks, with their printed results shown."""
    # carebook-smtp[test]: the e-mail throughput bench sends through it to aiosmtpd.
    session.install(
        "-e",
        ".[test]",
        "-e",
        "adapters/carebook-sqlalchemy[postgres]",
        "-e",
        "adapters/carebook-smtp[test]",
    )
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/benchmarks",
        "-p",
        "no:cacheprovider",
        "-s",
        "-q",
        "--override-ini",
        "addopts=",
        "--timeout=0",
        *session.posargs,
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Documentation checks: every hook and port documented, doc snippets run."""
    session.install("-e", ".[test]")
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/test_docs.py",
        "tests/plugins/test_hooks_documented.py",
        *session.posargs,
    )
