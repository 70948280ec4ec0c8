"""FileClock: a manual clock one process moves and others read (the Clock contract, and
what it adds: atomic writes, never backwards, typed errors that change nothing)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest

from carebook.bootstrap import CarebookConfig, bootstrap
from carebook.builtin.clocks import FileClock
from carebook.errors import AdapterError, ConfigurationError, ValidationError
from carebook.ports import Clock
from carebook.testing.contracts import ClockContract

START = pendulum.datetime(2030, 1, 7, 8)


class TestFileClock(ClockContract):
    @pytest.fixture
    def clock(self, tmp_path: Path) -> Iterator[Clock]:
        yield FileClock.create(tmp_path / "now", START)


def test_create_writes_the_instant_and_now_reads_it(tmp_path: Path) -> None:
    clock = FileClock.create(tmp_path / "now", pendulum.datetime(2030, 1, 7, 9, tz="Europe/Berlin"))
    assert clock.now() == START
    assert clock.now().timezone_name == "UTC"
    assert (tmp_path / "now").read_text(encoding="ascii").strip() == "2030-01-07T08:00:00+00:00"


def test_a_second_reader_sees_what_the_writer_moved(tmp_path: Path) -> None:
    writer = FileClock.create(tmp_path / "now", START)
    reader = FileClock(tmp_path / "now")
    assert writer.advance(hours=2) == START.add(hours=2)
    assert reader.now() == START.add(hours=2)
    writer.set(START.add(days=1))
    assert reader.now() == START.add(days=1)


def test_another_process_reads_the_time_this_one_set(tmp_path: Path) -> None:
    clock = FileClock.create(tmp_path / "now", START)
    clock.advance(minutes=90)
    script = (
        "import sys; from carebook.builtin.clocks import FileClock; "
        "print(FileClock(sys.argv[1]).now().isoformat())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "now")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == START.add(minutes=90).isoformat()


def test_a_reader_never_goes_back_when_the_file_does(tmp_path: Path) -> None:
    path = tmp_path / "now"
    reader = FileClock.create(path, START.add(hours=1))
    assert reader.now() == START.add(hours=1)
    path.write_text(START.isoformat(), encoding="ascii")  # someone wrote an earlier time
    assert reader.now() == START.add(hours=1)


def test_moving_backwards_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    clock = FileClock.create(tmp_path / "now", START)
    before = (tmp_path / "now").read_bytes()
    with pytest.raises(ValidationError):
        clock.advance(minutes=-1)
    with pytest.raises(ValidationError):
        clock.set(START.subtract(seconds=1))
    with pytest.raises(ValidationError):
        clock.set(dt.datetime(2031, 1, 1))  # naive
    assert (tmp_path / "now").read_bytes() == before
    assert clock.now() == START


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    clock = FileClock.create(tmp_path / "now", START)
    for _ in range(20):
        clock.advance(seconds=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["now"]


def test_a_missing_or_bad_file_at_start_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no clock file"):
        FileClock(tmp_path / "absent")
    (tmp_path / "bad").write_text("tomorrow-ish", encoding="ascii")
    with pytest.raises(ConfigurationError, match="ISO 8601 instant with an offset"):
        FileClock(tmp_path / "bad")
    (tmp_path / "naive").write_text("2030-01-07T08:00:00", encoding="ascii")
    with pytest.raises(ConfigurationError):
        FileClock(tmp_path / "naive")


def test_a_file_that_goes_bad_later_is_an_adapter_error(tmp_path: Path) -> None:
    path = tmp_path / "now"
    clock = FileClock.create(path, START)
    path.unlink()
    with pytest.raises(AdapterError, match="no clock file"):
        clock.now()
    path.write_text("not a time", encoding="ascii")
    with pytest.raises(AdapterError):
        clock.now()


def test_from_options_needs_a_path_and_nothing_else(tmp_path: Path) -> None:
    FileClock.create(tmp_path / "now", START)
    assert FileClock.from_options({"path": str(tmp_path / "now")}).now() == START
    with pytest.raises(ConfigurationError, match="'path'"):
        FileClock.from_options({})
    with pytest.raises(ConfigurationError, match="unknown file clock options"):
        FileClock.from_options({"path": str(tmp_path / "now"), "start": "2030-01-01"})


def test_bootstrap_builds_it_by_name(tmp_path: Path) -> None:
    FileClock.create(tmp_path / "now", START)
    cb = bootstrap(
        CarebookConfig(notifiers=(), clock="file", clock_options={"path": str(tmp_path / "now")})
    )
    try:
        assert cb.clock.now() == START
    finally:
        cb.close()
