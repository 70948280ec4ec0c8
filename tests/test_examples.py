"""Every example script runs, as a newcomer would run it, and says what it promises."""

from __future__ import annotations

import functools
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

EXPECTED_LINES: dict[str, list[str]] = {
    "quickstart.py": [
        "   location       Manhattan      America/New_York",
        "   location       Chicago Loop   America/Chicago",
        "   Manhattan      Tue 3 Jun  09:00–09:45   13:00   Dr Ada Osei",
        "   Chicago Loop   Tue 3 Jun  08:00–08:45   13:00   Dr Lena Park",
        "   appointment-1  pending    Tue 09:00 EDT  Dr Ada Osei      for Maya (new)",
        "   appointment-1  booked     Tue 09:00 EDT  Dr Ada Osei      for Maya (new)",
        "   retry with the same idempotency key returns appointment-1: True",
        "   reason code    practitioner_busy",
        "   message        practitioner Dr Ada Osei already has an appointment at that time",
        "   appointment-2  proposed   Tue 08:15 CDT  Dr Lena Park     for Jon (returning)",
        "   the hold keeps Pool 1 and the slot until Mon 08:20 CDT",
        "   appointment-2  booked     Tue 08:15 CDT  Dr Lena Park     for Jon (returning)",
        "   appointment-1  cancelled  Tue 09:00 EDT  Dr Ada Osei      for Maya (new)",
        "   13:00:00   AppointmentBooked      appointment-1   status=pending",
        "   13:10:00   AppointmentHeld        appointment-2   expires_at=13:20 UTC",
        "   13:24:00   AppointmentCancelled   appointment-1   reason=patient_request by=patient",
        "   appointment_cancelled    practitioner  Dr Ada Osei      appointment-1",
    ],
    "custom_rule_plugin.py": [
        "     550  no_lunch_bookings   <- from the plugin",
        "    1000  slot_not_offered",
        "   refused        reason_code=no_lunch_bookings",
        "   message        location Midtown takes no bookings between 12:00 and 13:00",
        "   booked         status=booked",
        "6 audit lines written",
    ],
}


def needs_sql_storage(script: Path) -> None:
    """Skip (with the reason) an example on SQLite when the adapter is not installed,
    as in ``nox -s tests_core``; with it installed, as in CI, the example runs."""
    if 'storage="sqlalchemy"' in script.read_text(encoding="utf-8"):
        pytest.importorskip("carebook_sqlalchemy", reason="the example stores in SQLite")


@functools.cache
def run(script: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``script`` once per test session; the result and the seconds it took."""
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    return result, time.perf_counter() - began


def test_examples_are_found() -> None:
    assert {p.name for p in EXAMPLES} >= set(EXPECTED_LINES)


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_cleanly(script: Path) -> None:
    needs_sql_storage(script)
    result, _ = run(script)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip()


@pytest.mark.parametrize("name", sorted(EXPECTED_LINES))
def test_example_prints_its_key_lines(name: str) -> None:
    needs_sql_storage(ROOT / "examples" / name)
    result, _ = run(ROOT / "examples" / name)
    lines = result.stdout.splitlines()
    missing = [line for line in EXPECTED_LINES[name] if line not in lines]
    assert not missing, result.stdout


def test_quickstart_output_is_deterministic() -> None:
    needs_sql_storage(ROOT / "examples" / "quickstart.py")
    first, _ = run(ROOT / "examples" / "quickstart.py")
    second = subprocess.run(
        [sys.executable, "examples/quickstart.py"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert first.stdout == second.stdout


def test_custom_rule_plugin_audit_lines_carry_ids_not_names() -> None:
    result, _ = run(ROOT / "examples" / "custom_rule_plugin.py")
    audit = [line for line in result.stdout.splitlines() if "audit[lunch-demo]" in line]
    assert len(audit) == 6
    assert not any("Haddad" in line or "Midtown Clinic" in line for line in audit)
