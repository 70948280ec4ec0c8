"""``carebook-sqlalchemy``: manage the schema of a carebook database.

    carebook-sqlalchemy upgrade [URL] [--revision REV] [--sql]   create or upgrade the schema
    carebook-sqlalchemy downgrade [URL] REVISION [--yes] [--sql] go back ("base" drops it)
    carebook-sqlalchemy current [URL] [--check]                  the database's revision
    carebook-sqlalchemy heads                                    the revision this code needs
    carebook-sqlalchemy --version

URL defaults to the environment variable ``CAREBOOK_DATABASE_URL`` (the variable the
carebook worker reads too); an argument wins. ``--sql`` prints the SQL instead of running
it, without connecting (for a DBA to review). ``downgrade base`` drops every carebook
table and refuses to run without ``--yes``. ``current --check`` exits 1 when the schema is
not the one this version needs (for a deployment's readiness check).

Exit status: 0 success, 1 the database or a migration failed (or ``--check`` found the
schema behind), 2 bad usage (a malformed or unsupported URL, no URL at all, ``downgrade
base`` without ``--yes``, a PostgreSQL URL without psycopg installed). Errors go to
stderr as one line, ``error: ...``; a password in the URL is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata

from sqlalchemy import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from carebook.errors import CarebookError, ConfigurationError
from carebook_sqlalchemy import migrate
from carebook_sqlalchemy.engine import make_engine, redact
from carebook_sqlalchemy.errors import translate

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

URL_VARIABLE = "CAREBOOK_DATABASE_URL"
"""The environment variable a missing URL argument is read from."""


class _BehindError(CarebookError):
    """``current --check`` found the schema not at head (the message says what to run)."""

    code = "schema_behind"


def _version() -> str:
    try:
        mine = metadata.version("carebook-sqlalchemy")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare source tree
        mine = "unknown"
    return f"{migrate.COMMAND} {mine} (schema head {migrate.head_revision()})"


def _url_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url",
        metavar="URL",
        nargs="?",
        default=None,
        help=f"the storage URL (default: ${URL_VARIABLE})",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=migrate.COMMAND,
        description="Manage the schema of a carebook SQLAlchemy database (SQLite or PostgreSQL).",
        epilog="URL examples: sqlite:///clinic.db  postgresql://user:password@host:5432/dbname",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sql_help = "print the SQL instead of running it (no database connection)"

    up = commands.add_parser("upgrade", help="create or upgrade the schema (default: to head)")
    _url_argument(up)
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.add_argument("--sql", action="store_true", help=sql_help + "; --revision may be FROM:TO")

    down = commands.add_parser("downgrade", help="downgrade the schema ('base' drops it)")
    _url_argument(down)
    down.add_argument("revision", metavar="REVISION", help="target revision, e.g. base or -1")
    down.add_argument("--yes", action="store_true", help="confirm a downgrade to base")
    down.add_argument("--sql", action="store_true", help=sql_help + "; REVISION is FROM:TO")

    current = commands.add_parser("current", help="show the database's schema revision")
    _url_argument(current)
    current.add_argument("--check", action="store_true", help="exit 1 unless the schema is at head")

    commands.add_parser("heads", help="show the schema revision this version needs")
    return parser


def _describe(revision: str | None) -> str:
    return "none (no carebook schema)" if revision is None else revision


def _upgrade(engine: Engine, url: str, revision: str) -> None:
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    if before == after:
        print(f"{redact(url)} is already at revision {_describe(after)}; nothing to do")
    else:
        print(f"upgraded {redact(url)} from {_describe(before)} to {_describe(after)}")


def _downgrade(engine: Engine, url: str, revision: str) -> None:
    before = migrate.current_revision(engine)
    migrate.downgrade(engine, revision)
    after = migrate.current_revision(engine)
    if before == after:
        print(f"{redact(url)} is already at revision {_describe(after)}; nothing to do")
    else:
        print(f"downgraded {redact(url)} from {_describe(before)} to {_describe(after)}")


def _current(engine: Engine, url: str, *, check: bool) -> None:
    revision = migrate.current_revision(engine)
    head = migrate.head_revision()
    if revision == head:
        print(f"{revision} (head)")
        return
    behind = f"{_describe(revision)}; this version needs {head}: {migrate.upgrade_command(url)}"
    if check:
        raise _BehindError(f"schema not current: {behind}")
    print(behind)


def _url(args: argparse.Namespace) -> str:
    url: str | None = args.url or os.environ.get(URL_VARIABLE) or None
    if url is None:
        raise ConfigurationError(f"no database URL: pass URL or set {URL_VARIABLE}")
    return url


def _run(args: argparse.Namespace) -> None:
    if args.command == "heads":
        print(f"{migrate.head_revision()} (head)")
        return
    url = _url(args)
    if args.command == "downgrade" and args.revision == "base" and not args.yes and not args.sql:
        raise ConfigurationError(
            f"downgrade to base drops every carebook table at {redact(url)}; pass --yes to confirm"
        )
    if getattr(args, "sql", False):
        down = args.command == "downgrade"
        print(migrate.sql(url, args.revision, down=down), end="")
        return
    engine = make_engine(url)
    try:
        if args.command == "upgrade":
            _upgrade(engine, url, args.revision)
        elif args.command == "downgrade":
            _downgrade(engine, url, args.revision)
        else:
            _current(engine, url, check=args.check)
    finally:
        engine.dispose()


def _scrub(message: str, url: str | None) -> str:
    """The message with the URL's password (if any) replaced by ``***``, defensively."""
    if url is None:
        return message
    try:
        password = make_url(url).password
    except Exception:
        return message.replace(url, redact(url))
    if password:
        message = message.replace(f":{password}@", ":***@")
        if len(str(password)) >= 4:  # a shorter one would garble the message
            message = message.replace(str(password), "***")
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module doc)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already printed
        if exc.code is None:
            return EXIT_OK
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    url: str | None = getattr(args, "url", None) or os.environ.get(URL_VARIABLE) or None
    try:
        _run(args)
    except ConfigurationError as exc:
        print(f"error: {_scrub(str(exc), url)}", file=sys.stderr)
        return EXIT_USAGE
    except CarebookError as exc:
        print(f"error: {_scrub(str(exc), url)}", file=sys.stderr)
        return EXIT_FAILED
    except SQLAlchemyError as exc:
        where = redact(url) if url is not None else "the database"
        print(f"error: {_scrub(str(translate(exc, where)), url)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
