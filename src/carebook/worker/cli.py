"""``carebook``: the command line of the carebook core.

    carebook worker [--config FILE] [--once]     run every piece of background work
    python -m carebook worker ...                 the same

Exit status: 0 after a clean stop (SIGTERM or SIGINT, or one round with ``--once``);
1 the database cannot be used (unreachable, a schema that is not current, another
worker already on this SQLite file); 2 bad configuration or usage. Every error is one
line on stderr, ``error: ...``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from carebook.errors import CarebookError, ConfigurationError
from carebook.worker.config import WorkerConfig, load_config
from carebook.worker.runner import Worker

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carebook", description="The carebook command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    worker = commands.add_parser(
        "worker",
        help="run background work: dispatch, hold expiry, saga resume, walk-in sweeps",
        description="Run every piece of carebook background work until SIGTERM or SIGINT.",
        epilog="Settings: a TOML file ([worker] table) and CAREBOOK_* variables; see "
        "docs/operations.md.",
    )
    worker.add_argument("--config", type=Path, help="a TOML file with a [worker] table")
    worker.add_argument("--once", action="store_true", help="run every job once, then exit")
    return parser


class _WorkerName(logging.Filter):
    """Puts the worker's name on every record, for the format and for structured sinks."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "worker"):
            record.worker = self._name
        return True


def _logging(config: WorkerConfig) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_WorkerName(config.name))
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(worker)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.log_level)
    # Libraries' own chatter (the migration check's plugin set-up) only when debugging.
    for noisy in ("alembic", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _error(message: str) -> None:
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"error: {first}", file=sys.stderr)


def _run_worker(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigurationError as exc:
        _error(str(exc))
        return EXIT_USAGE
    _logging(config)
    worker = Worker(config)
    try:
        cb = worker.open()
    except ConfigurationError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except CarebookError as exc:
        _error(str(exc))
        return EXIT_FAILED

    def stop(signum: int, _: FrameType | None) -> None:
        logging.getLogger("carebook.worker").info(
            "worker %s: %s received, stopping after this round",
            config.name,
            signal.Signals(signum).name,
        )
        worker.stop()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.run(cb, once=args.once)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        cb.close()
        worker.close()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module doc)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has printed
        if exc.code is None:
            return EXIT_OK
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return _run_worker(args)


if __name__ == "__main__":
    raise SystemExit(main())
