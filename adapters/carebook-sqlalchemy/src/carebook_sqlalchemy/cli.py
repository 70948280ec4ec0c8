"""``carebook-sqlalchemy``: manage the schema of a carebook database.

    carebook-sqlalchemy upgrade URL [--revision REV]   create or upgrade the schema
    carebook-sqlalchemy downgrade URL REVISION         go back ("base": drop every table)
    carebook-sqlalchemy current URL                    show the database's revision
    carebook-sqlalchemy heads                          show the revision this code needs

Exit status: 0 success, 1 the database or a migration failed, 2 bad usage (a malformed
or unsupported URL included, and a PostgreSQL URL without psycopg installed). Errors go
to stderr as one line, ``error: ...``; a password in the URL is never printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=migrate.COMMAND,
        description="Manage the schema of a carebook SQLAlchemy database (SQLite or PostgreSQL).",
        epilog="URL examples: sqlite:///clinic.db  postgresql://user:password@host:5432/dbname",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("upgrade", help="create or upgrade the schema (default: to head)")
    up.add_argument("url", metavar="URL", help="the storage URL")
    up.add_argument("--revision", default="head", help="target revision (default: head)")

    down = commands.add_parser("downgrade", help="downgrade the schema ('base' drops it)")
    down.add_argument("url", metavar="URL", help="the storage URL")
    down.add_argument("revision", metavar="REVISION", help="target revision, e.g. base or -1")

    current = commands.add_parser("current", help="show the database's schema revision")
    current.add_argument("url", metavar="URL", help="the storage URL")

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


def _current(engine: Engine, url: str) -> None:
    revision = migrate.current_revision(engine)
    head = migrate.head_revision()
    if revision == head:
        print(f"{revision} (head)")
    else:
        print(f"{_describe(revision)}; this version needs {head}: {migrate.upgrade_command(url)}")


def _run(args: argparse.Namespace) -> None:
    if args.command == "heads":
        print(f"{migrate.head_revision()} (head)")
        return
    url: str = args.url
    engine = make_engine(url)
    try:
        if args.command == "upgrade":
            _upgrade(engine, url, args.revision)
        elif args.command == "downgrade":
            _downgrade(engine, url, args.revision)
        else:
            _current(engine, url)
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
    url: str | None = getattr(args, "url", None)
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
