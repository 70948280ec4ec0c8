"""The worker's configuration: a TOML file, then ``CAREBOOK_*`` environment variables.

```toml
[worker]
database_url = "postgresql://carebook@db.internal/carebook"
name = "worker-1"            # default: host name and process id
poll_interval = 1.0          # seconds between two looks at what is due (0.05 to 3600)
batch_size = 100             # events one dispatch round takes (1 to 10,000)
log_level = "INFO"
notifiers = ["logging"]      # registered notifier names
storage = "sqlalchemy"       # registered storage name (the URL is its "url" option)
lease_seconds = 300          # a claimed delivery's lease (CAREBOOK_LEASE_SECONDS)
clock = "system"             # registered clock name; "file" for a demo's shared time

[worker.clock_options]       # the clock's options (the file clock's "path")

[worker.periods]             # seconds, per job (see carebook.worker.jobs)
dispatch = 0.5

channels = ["smtp"]          # channel notifiers (docs/notifications.md)
contacts = "crm"             # the host's contact directory, by registered name

[worker.channel_options.smtp]
host = "smtp.internal"

[worker.templates]           # overrides of the shipped message templates
"de/appointment_booked.txt" = "{% block subject %}...{% endblock %}..."
```

Environment variables override the file: ``CAREBOOK_DATABASE_URL``,
``CAREBOOK_WORKER_NAME``, ``CAREBOOK_POLL_INTERVAL``, ``CAREBOOK_BATCH_SIZE``,
``CAREBOOK_LOG_LEVEL``, ``CAREBOOK_NOTIFIERS`` and ``CAREBOOK_CHANNELS``
(comma-separated), ``CAREBOOK_CONTACTS``,
``CAREBOOK_LEASE_SECONDS``, ``CAREBOOK_CLOCK``, and
``CAREBOOK_PERIOD_<JOB>`` (``CAREBOOK_PERIOD_DISPATCH=0.5``). Anything wrong is a
:class:`~carebook.errors.ConfigurationError` with one line saying what, and never the
value of a password.
"""

from __future__ import annotations

import math
import os
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from attrs import frozen

from carebook.errors import ConfigurationError
from carebook.worker.jobs import JOBS, job_names

__all__ = ["ENV_PREFIX", "LOG_LEVELS", "WorkerConfig", "load_config"]

ENV_PREFIX = "CAREBOOK_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_ENV: Mapping[str, str] = {
    "CAREBOOK_DATABASE_URL": "database_url",
    "CAREBOOK_WORKER_NAME": "name",
    "CAREBOOK_POLL_INTERVAL": "poll_interval",
    "CAREBOOK_BATCH_SIZE": "batch_size",
    "CAREBOOK_LOG_LEVEL": "log_level",
    "CAREBOOK_NOTIFIERS": "notifiers",
    "CAREBOOK_CHANNELS": "channels",
    "CAREBOOK_CONTACTS": "contacts",
    "CAREBOOK_LEASE_SECONDS": "lease_seconds",
    "CAREBOOK_CLOCK": "clock",
}


def _default_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _seconds(field: str, low: float, high: float) -> Any:
    def check(_: object, __: object, value: object) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            raise ConfigurationError(f"{field} must be a number of seconds from {low} to {high}")

    return check


def _text(field: str) -> Any:
    def check(_: object, __: object, value: object) -> None:
        if not isinstance(value, str) or not value.strip() or len(value) > 2000:
            raise ConfigurationError(f"{field} must be a non-empty string")

    return check


def _batch(_: object, __: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise ConfigurationError("batch_size must be a whole number from 1 to 10000")


def _lease(_: object, __: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 86_400:
        raise ConfigurationError("lease_seconds must be a whole number from 1 to 86400")


def _level(_: object, __: object, value: object) -> None:
    if value not in LOG_LEVELS:
        raise ConfigurationError(f"log_level must be one of {', '.join(LOG_LEVELS)}")


def _names(field: str) -> Any:
    def check(_: object, __: object, value: object) -> None:
        if not isinstance(value, tuple) or not all(isinstance(n, str) and n for n in value):
            raise ConfigurationError(f"{field} must be a list of registered {field[:-1]} names")

    return check


def _notifiers(_: object, __: object, value: object) -> None:
    _names("notifiers")(_, __, value)


def _table(field: str, of: type) -> Any:
    def check(_: object, __: object, value: object) -> None:
        if not isinstance(value, Mapping) or not all(isinstance(v, of) for v in value.values()):
            raise ConfigurationError(f"{field} must be a table")

    return check


def _contacts(_: object, __: object, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigurationError("contacts must be the name of a registered contact directory")


def _periods(_: object, __: object, value: object) -> None:
    if not isinstance(value, Mapping):
        raise ConfigurationError("periods must be a table of job = seconds")
    unknown = sorted(set(value) - set(job_names()))
    if unknown:
        raise ConfigurationError(
            f"unknown job {unknown[0]!r} in periods; the jobs are {', '.join(job_names())}"
        )
    for job, seconds in value.items():
        _seconds(f"the period of {job}", 0.01, 86_400)(None, None, seconds)


def _options(_: object, __: object, value: object) -> None:
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        raise ConfigurationError("notifier_options must be a table of notifier = {options}")


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@frozen(kw_only=True)
class WorkerConfig:
    """What one worker process runs against, and how often it runs each job."""

    database_url: str = attrs.field(validator=_text("database_url"), repr=False)
    name: str = attrs.field(factory=_default_name, validator=_text("name"))
    poll_interval: float = attrs.field(default=1.0, validator=_seconds("poll_interval", 0.05, 3600))
    batch_size: int = attrs.field(default=100, validator=_batch)
    log_level: str = attrs.field(default="INFO", validator=_level)
    notifiers: tuple[str, ...] = attrs.field(
        default=("logging",), converter=_tuple, validator=_notifiers
    )
    notifier_options: Mapping[str, Mapping[str, Any]] = attrs.field(
        factory=dict, validator=_options, repr=False
    )
    channels: tuple[str, ...] = attrs.field(
        default=(), converter=_tuple, validator=_names("channels")
    )
    channel_options: Mapping[str, Mapping[str, Any]] = attrs.field(
        factory=dict, validator=_table("channel_options", Mapping), repr=False
    )
    contacts: str | None = attrs.field(default=None, validator=_contacts)
    contacts_options: Mapping[str, Any] = attrs.field(
        factory=dict, validator=_table("contacts_options", object), repr=False
    )
    templates: Mapping[str, str] = attrs.field(
        factory=dict, validator=_table("templates", str), repr=False
    )
    storage: str = attrs.field(default="sqlalchemy", validator=_text("storage"))
    lease_seconds: int = attrs.field(default=300, validator=_lease)
    """How long a claimed delivery is this worker's; after a crash, the wait before
    another worker takes it."""
    periods: Mapping[str, float] = attrs.field(factory=dict, validator=_periods)
    clock: str = attrs.field(default="system", validator=_text("clock"))
    """The registered clock every job reads: ``system`` in production; ``file``
    (:class:`~carebook.builtin.clocks.FileClock`) lets a demo move the worker's time."""
    clock_options: Mapping[str, Any] = attrs.field(
        factory=dict, validator=_table("clock_options", object)
    )

    def period(self, job: str) -> float:
        """Seconds between two runs of ``job``."""
        if job in self.periods:
            return float(self.periods[job])
        return next(j.period for j in JOBS if j.name == job)


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(f"no configuration file at {path}") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(document) - {"worker"})
    if unknown:
        raise ConfigurationError(f"unknown table [{unknown[0]}] in {path}; expected [worker]")
    worker = document.get("worker", {})
    if not isinstance(worker, dict):
        raise ConfigurationError(f"[worker] in {path} must be a table")
    return dict(worker)


def _number(variable: str, text: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigurationError(f"{variable} must be {what}") from None


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for variable, field in _ENV.items():
        if variable not in environ:
            continue
        text = environ[variable]
        if field == "poll_interval":
            found[field] = _number(variable, text, float)
        elif field in ("batch_size", "lease_seconds"):
            found[field] = _number(variable, text, int)
        elif field in ("notifiers", "channels"):
            found[field] = tuple(n.strip() for n in text.split(",") if n.strip())
        else:
            found[field] = text
    periods: dict[str, float] = {}
    for variable, text in environ.items():
        if variable.startswith(ENV_PREFIX + "PERIOD_"):
            job = variable.removeprefix(ENV_PREFIX + "PERIOD_").lower()
            if job not in job_names():
                raise ConfigurationError(
                    f"{variable} names no job; the jobs are {', '.join(job_names())}"
                )
            periods[job] = float(_number(variable, text, float))
    if periods:
        found["periods"] = periods
    return found


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> WorkerConfig:
    """The configuration from the TOML file at ``path`` (if any), overridden by
    ``environ`` (default: ``os.environ``)."""
    data = _from_file(path) if path is not None else {}
    env = _from_environment(os.environ if environ is None else environ)
    if "periods" in env and isinstance(data.get("periods"), Mapping):
        env["periods"] = {**data["periods"], **env["periods"]}
    data.update(env)
    if "database_url" not in data:
        raise ConfigurationError(
            "no database URL: set CAREBOOK_DATABASE_URL or database_url in [worker]"
        )
    known = {a.name for a in attrs.fields(WorkerConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigurationError(f"unknown worker setting {unknown[0]!r}")
    try:
        return WorkerConfig(**data)
    except TypeError as exc:  # pragma: no cover - every field has a validator
        raise ConfigurationError(f"bad worker configuration: {exc}") from None
