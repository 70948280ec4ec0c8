"""The worker's configuration: TOML file, environment variables over it, and one clear
line for anything wrong."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from carebook.bootstrap import CarebookConfig, bootstrap
from carebook.builtin.clocks import FileClock
from carebook.errors import ConfigurationError
from carebook.worker import JOBS, Worker, WorkerConfig, load_config

URL = "postgresql://carebook:s3cret-pass@db.internal/carebook"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "worker.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_only_a_database_url() -> None:
    config = load_config(environ={"CAREBOOK_DATABASE_URL": URL})
    assert config.database_url == URL
    assert (config.poll_interval, config.batch_size, config.log_level) == (1.0, 100, "INFO")
    assert config.notifiers == ("logging",)
    assert {j.name: config.period(j.name) for j in JOBS} == {j.name: j.period for j in JOBS}
    assert "s3cret" not in repr(config)


def test_a_file_and_the_environment_over_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[worker]
database_url = "sqlite:///clinic.db"
name = "w1"
poll_interval = 0.5
batch_size = 50
notifiers = ["logging", "recording"]

[worker.periods]
dispatch = 2
expire_holds = 10

[worker.notifier_options.logging]
logger = "clinic.notify"
""",
    )
    env = {
        "CAREBOOK_DATABASE_URL": URL,
        "CAREBOOK_BATCH_SIZE": "25",
        "CAREBOOK_PERIOD_DISPATCH": "0.25",
        "CAREBOOK_NOTIFIERS": "logging, smtp",
        "CAREBOOK_LOG_LEVEL": "DEBUG",
    }
    config = load_config(path, env)
    assert config.database_url == URL  # the environment wins
    assert (config.name, config.poll_interval, config.batch_size) == ("w1", 0.5, 25)
    assert config.notifiers == ("logging", "smtp")
    assert config.log_level == "DEBUG"
    assert config.period("dispatch") == 0.25
    assert config.period("expire_holds") == 10
    assert config.period("resume_sagas") == 60
    assert config.notifier_options == {"logging": {"logger": "clinic.notify"}}


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "no database URL"),
        (
            {"CAREBOOK_DATABASE_URL": URL, "CAREBOOK_POLL_INTERVAL": "soon"},
            "CAREBOOK_POLL_INTERVAL must be a number",
        ),
        (
            {"CAREBOOK_DATABASE_URL": URL, "CAREBOOK_POLL_INTERVAL": "0"},
            "poll_interval must be a number of seconds",
        ),
        (
            {"CAREBOOK_DATABASE_URL": URL, "CAREBOOK_POLL_INTERVAL": "nan"},
            "poll_interval must be a number of seconds",
        ),
        (
            {"CAREBOOK_DATABASE_URL": URL, "CAREBOOK_BATCH_SIZE": "1.5"},
            "CAREBOOK_BATCH_SIZE must be a whole number",
        ),
        (
            {"CAREBOOK_DATABASE_URL": URL, "CAREBOOK_BATCH_SIZE": "0"},
            "batch_size must be a whole number from 1",
        ),
        ({"CAREBOOK_DATABASE_URL": URL, "CAREBOOK_LOG_LEVEL": "LOUD"}, "log_level must be one of"),
        (
            {"CAREBOOK_DATABASE_URL": URL, "CAREBOOK_PERIOD_LAUNDRY": "5"},
            "CAREBOOK_PERIOD_LAUNDRY names no job",
        ),
        (
            {"CAREBOOK_DATABASE_URL": URL, "CAREBOOK_PERIOD_DISPATCH": "-1"},
            "the period of dispatch must be",
        ),
        ({"CAREBOOK_DATABASE_URL": " "}, "database_url must be a non-empty string"),
    ],
)
def test_bad_environment_is_one_clear_line(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_config(environ=env)
    message = str(refused.value)
    assert says in message
    assert "\n" not in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[worker\n", "is not valid TOML"),
        ("[workers]\ndatabase_url = 'x'\n", "unknown table [workers]"),
        ("[worker]\ndatabase_url = 'x'\ncolour = 'red'\n", "unknown worker setting 'colour'"),
        ("[worker]\ndatabase_url = 'x'\nbatch_size = true\n", "batch_size must be a whole number"),
        ("[worker]\ndatabase_url = 'x'\nnotifiers = 'logging'\n", "notifiers must be a list"),
        ("[worker]\ndatabase_url = 'x'\n[worker.periods]\nlaundry = 1\n", "unknown job 'laundry'"),
        (
            "[worker]\ndatabase_url = 'x'\nnotifier_options = 3\n",
            "notifier_options must be a table",
        ),
        ("[worker]\ndatabase_url = 'x'\nchannels = 'smtp'\n", "channels must be a list"),
        ("[worker]\ndatabase_url = 'x'\ncontacts = 3\n", "contacts must be the name"),
        ("[worker]\ndatabase_url = 'x'\n[worker.templates]\nx = 3\n", "templates must be"),
    ],
)
def test_a_bad_file_is_one_clear_line(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_config(write(tmp_path, text), {})
    assert says in str(refused.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no configuration file at"):
        load_config(tmp_path / "absent.toml", {"CAREBOOK_DATABASE_URL": URL})


def test_the_config_value_validates_itself() -> None:
    with pytest.raises(ConfigurationError):
        WorkerConfig(database_url=URL, batch_size=20_000)


def test_the_operations_page_has_one_row_per_job_with_its_period() -> None:
    import re

    page = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text("utf-8")
    for job in JOBS:
        row = re.search(rf"^\| `{job.name}` \|[^|]+\| ([0-9.]+) s \|", page, re.MULTILINE)
        assert row is not None, job.name
        assert float(row.group(1)) == job.period


def test_channels_contacts_and_templates_come_from_the_file_and_the_environment(
    tmp_path: Path,
) -> None:
    text = """
[worker]
database_url = "sqlite:///clinic.db"
channels = ["smtp"]
contacts = "crm"

[worker.channel_options.smtp]
host = "smtp.internal"

[worker.contacts_options]
base_url = "https://crm.internal"

[worker.templates]
"de/appointment_booked.txt" = "{% block subject %}Gebucht{% endblock %}"
"""
    config = load_config(write(tmp_path, text), {})
    assert (config.channels, config.contacts) == (("smtp",), "crm")
    assert config.channel_options == {"smtp": {"host": "smtp.internal"}}
    assert config.contacts_options == {"base_url": "https://crm.internal"}
    assert list(config.templates) == ["de/appointment_booked.txt"]
    env = load_config(
        write(tmp_path, text), {"CAREBOOK_CHANNELS": "smtp, twilio", "CAREBOOK_CONTACTS": "static"}
    )
    assert (env.channels, env.contacts) == (("smtp", "twilio"), "static")


def test_the_clock_comes_from_the_file_and_the_environment(tmp_path: Path) -> None:
    text = """
[worker]
database_url = "sqlite:///clinic.db"
clock = "file"

[worker.clock_options]
path = "/run/demo/now"
"""
    config = load_config(write(tmp_path, text), {})
    assert (config.clock, config.clock_options) == ("file", {"path": "/run/demo/now"})
    assert load_config(write(tmp_path, text), {"CAREBOOK_CLOCK": "system"}).clock == "system"
    assert load_config(environ={"CAREBOOK_DATABASE_URL": URL}).clock == "system"


def test_a_bad_clock_setting_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="clock must be a non-empty string"):
        load_config(environ={"CAREBOOK_DATABASE_URL": URL, "CAREBOOK_CLOCK": " "})
    bad = write(tmp_path, '[worker]\ndatabase_url = "sqlite:///x.db"\nclock_options = 3\n')
    with pytest.raises(ConfigurationError, match="clock_options must be a table"):
        load_config(bad, {})


def test_the_worker_reads_the_configured_clock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    bootstrap(
        CarebookConfig(storage="sqlalchemy", storage_options={"url": url, "migrate": True})
    ).close()
    start = pendulum.datetime(2030, 1, 7, 8)
    shared = FileClock.create(tmp_path / "now", start)
    worker = Worker(
        WorkerConfig(
            database_url=url, notifiers=(), clock="file", clock_options={"path": str(shared.path)}
        )
    )
    cb = worker.open()
    try:
        assert cb.clock.now() == start
        shared.advance(hours=25)
        assert cb.clock.now() == start.add(hours=25)
    finally:
        cb.close()
        worker.close()


def test_a_clock_that_cannot_be_built_stops_the_worker_before_any_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    bootstrap(
        CarebookConfig(storage="sqlalchemy", storage_options={"url": url, "migrate": True})
    ).close()
    worker = Worker(
        WorkerConfig(
            database_url=url,
            notifiers=(),
            clock="file",
            clock_options={"path": str(tmp_path / "absent")},
        )
    )
    with pytest.raises(ConfigurationError, match="no clock file"):
        worker.open()
    # the one-worker lock was given back: a corrected worker starts
    fixed = Worker(WorkerConfig(database_url=url, notifiers=()))
    fixed.open().close()
    fixed.close()
