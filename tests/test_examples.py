"""Every example script runs, as a newcomer would run it, and says what it promises."""

from __future__ import annotations

import functools
import importlib.util
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# examples/_*.py are helper modules of the examples, not examples.
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))

EXPECTED_LINES: dict[str, list[str]] = {
    "push_to_browser.py": [
        "      screen: AppointmentBooked      Tue 10:00 booked",
        "      screen: AppointmentRescheduled Tue 10:00 -> Tue 11:30",
        "      screen: WaitTimeChanged        wait 0 min, 0 waiting (on_duty)",
        "      screen: WaitTimeChanged        wait 60 min, 2 waiting (check_in)",
        "      screen: AppointmentCancelled   reason patient_request, by patient",
        "   frames: 9, ids unique: True",
        "   Last-Event-ID = frame 2: it gets frames 3-9: True",
        "   Ana's own stream after frame 1: ['AppointmentRescheduled', 'AppointmentCancelled']",
        "   'Dr Roth' or 'Praxis' in a frame: False",
    ],
    "clinic_day_worker.py": [
        "   the worker sent 4 notices (3 booked, 1 cancelled)",
        "   Sun 10:00  Ana  24 h before  [hi]",
        "   Sun 11:30  Ben  24 h before  [de]",
        "   Mon 08:00  Ana   2 h before  [hi]",
        "   Mon 09:30  Ben   2 h before  [de]",
        "   after the last visit: 0 more, none for Cy",
        "   Ben  [de] Erinnerung: Ihr Termin am Montag, 9. Juni 2025, 11:30",
        "   Ana  [hi] अनुस्मारक: सोमवार, 9 जून 2025, 10:00 am की आपकी अपॉइंटमेंट",
        "   Ana  .ics: Check-up · Praxis Mitte, Mon 09 Jun 10:00 Europe/Berlin, CONFIRMED",
        "   Cy   [en] Your visit on Jun 9, 2025 is cancelled",
        "   Cy   .ics: Check-up · Praxis Mitte, Mon 09 Jun 15:00 Europe/Berlin, CANCELLED",
        "6. SIGTERM: the worker exits 0",
    ],
    "reminders.py": [
        "   Sat 09:00 CET  Ana  24 h before Sun 10:00 CEST",
        "   Sun 08:00 CEST Ana   2 h before Sun 10:00 CEST",
        "   Sun 22:00 CEST Ben  10 h before Mon 08:30 CEST",
        "3. 4 reminders, none for Cy, none twice",
        "   Ben  [de] Erinnerung: Ihr Termin am Montag, 31. März 2025, 08:30",
        "   Ana  [hi] अनुस्मारक: रविवार, 30 मार्च 2025, 10:00 am की आपकी अपॉइंटमेंट",
    ],
    "worker_on_sqlite.py": [
        "2. worker: the hold is cancelled and every event is delivered",
        "3. a second worker on this SQLite file: exit 1",
        "4. SIGTERM: the worker exits 0",
        "   its log: 1 notice sent, ids only: notify kind=appointment_booked to=patient",
        "   its log: a round with holds_expired=1: True",
    ],
    "reschedule_a_visit.py": [
        "   Wed 15:00  Dr Blue  booked",
        "   same appointment: True; retry moved again: False",
        "   15:00 with Dr Blue refused: practitioner_busy",
        "   10:00 with Dr Grey booked: booked",
        "   by Ana refused: reschedule_limit",
        "   by reception, overriding: Wed 16:00, moves so far 2",
        "   AppointmentRescheduled  Wed 10:00 -> Wed 15:00  overridden=False",
        "   appointment_rescheduled  previous_practitioner Dr Grey",
    ],
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
    "booking_saga.py": [
        "   11:30:00   DiscountQuotaReserved  quota day 2025-06-02",
        "   price    base INR 1100.00, to pay INR 968.00, discount birthday_or_high_value",
        "   11:30:00   PricingCalculated",
        "   11:30:00   PaymentCompleted       intent pi_sim_000001",
        "   11:30:00   BookingConfirmed",
        "   status   failed (card_declined)",
        "   11:32:00   CompensationTriggered  reason card_declined",
        "   11:32:00   DiscountQuotaReleased  quota day 2025-06-02",
        "   11:32:00   AppointmentCancelled   reason booking_failed",
        "   11:32:00   BookingFailed          reason card_declined",
        "   refused  discount_quota_exhausted",
        "   nothing stored or charged: 0 holds, no timeline, INR 0.00 charged",
        "   net captured INR 968.00",
    ],
    "custom_rule_plugin.py": [
        "     550  no_lunch_bookings   <- from the plugin",
        "== free starts around lunch: 11:30, 13:00, 13:15",
        "    1000  slot_not_offered",
        "   refused        reason_code=no_lunch_bookings",
        "   message        location Midtown takes no bookings between 12:00 and 13:00",
        "   booked         status=booked",
        "6 audit lines written",
    ],
    "multi_office_day.py": [
        "   office         block         walk-ins: forecast  drawn  current  plan",
        "   practitioner-hours: current 48, demand-based plan 48",
        "   staffing  office          arrived  seen  turned away  left  no-shows  mean wait"
        "  max wait  utilisation",
    ],
}


def needs_sql_storage(script: Path) -> None:
    """Skip (with the reason) an example on SQLite when the adapter is not installed,
    as in ``nox -s tests_core``; with it installed, as in CI, the example runs."""
    if 'storage="sqlalchemy"' in script.read_text(encoding="utf-8"):
        pytest.importorskip("carebook_sqlalchemy", reason="the example stores in SQLite")


@functools.cache
def run(script: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``script`` with ``args`` once per test session; the result and the seconds
    it took."""
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(script), *args],
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


# -- multi_office_day.py: one day at three offices, a fixed roster against the plan --------

MULTI_OFFICE = ROOT / "examples" / "multi_office_day.py"
OFFICE_ROW = re.compile(
    r"^   (current|plan)\s+(Northgate|Market Square|Riverside|all offices)\s+"
    r"(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+\.\d)\s+(\d+)\s+(\d+)%$"
)
TURNED_AWAY = re.compile(r"^   turned away: current staffing (\d+), demand-based plan (\d+)$")


@pytest.fixture(scope="module")
def multi_office(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], float, Path]:
    """The example run with its chart written into a fresh temporary directory."""
    png = tmp_path_factory.mktemp("multi_office_day") / "waits.png"
    result, seconds = run(MULTI_OFFICE, "--png", str(png))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result, seconds, png


def office_rows(stdout: str) -> dict[tuple[str, str], tuple[int, ...]]:
    """(run, office) -> arrived, seen, turned away, left, no-shows, max wait, utilisation."""
    rows: dict[tuple[str, str], tuple[int, ...]] = {}
    for line in stdout.splitlines():
        found = OFFICE_ROW.match(line)
        if found:
            run_name, office, *numbers = found.groups()
            rows[(run_name, office)] = tuple(int(n) for n in numbers if "." not in n)
    return rows


def test_multi_office_day_summarises_both_runs_per_office(
    multi_office: tuple[subprocess.CompletedProcess[str], float, Path],
) -> None:
    result, seconds, _ = multi_office
    rows = office_rows(result.stdout)
    offices = ("Northgate", "Market Square", "Riverside", "all offices")
    assert set(rows) == {(r, o) for r in ("current", "plan") for o in offices}, result.stdout
    for (run_name, office), (arrived, seen, away, left, no_shows, _, used) in rows.items():
        # every walk-in is accounted for once, and nobody is busier than on duty
        assert arrived == seen + away + left + no_shows, (run_name, office)
        assert 0 <= used <= 100
    for office in offices:  # the same day in both runs
        assert rows[("current", office)][0] == rows[("plan", office)][0]
    assert rows[("current", "all offices")][0] > 0
    assert seconds < 60  # a few seconds in practice; CI runs every example


def test_multi_office_day_plan_turns_away_no_more_than_the_fixed_roster(
    multi_office: tuple[subprocess.CompletedProcess[str], float, Path],
) -> None:
    result, _, _ = multi_office
    [totals] = [m for m in map(TURNED_AWAY.match, result.stdout.splitlines()) if m]
    current, planned = (int(n) for n in totals.groups())
    rows = office_rows(result.stdout)
    assert (current, planned) == (
        rows[("current", "all offices")][2],
        rows[("plan", "all offices")][2],
    )
    assert planned <= current, result.stdout
    assert "both runs staff 48 practitioner-hours" in result.stdout


def test_multi_office_day_writes_a_png_chart(
    multi_office: tuple[subprocess.CompletedProcess[str], float, Path],
) -> None:
    result, _, png = multi_office
    if importlib.util.find_spec("matplotlib") is None:
        assert "install carebook[plot] for the chart" in result.stdout
        assert not png.exists()
        return
    assert f"   chart: {png}" in result.stdout.splitlines()
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # two panels of lines, not an empty canvas


def test_multi_office_day_is_deterministic_and_prints_no_patient_ids(
    multi_office: tuple[subprocess.CompletedProcess[str], float, Path],
) -> None:
    with_png, _, _ = multi_office
    default, _ = run(MULTI_OFFICE)  # the same default seed, the chart in the temp directory

    def without_chart(stdout: str) -> list[str]:
        return [line for line in stdout.splitlines() if not line.startswith("   chart: ")]

    assert without_chart(default.stdout) == without_chart(with_png.stdout)
    uuid_like = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert not uuid_like.search(with_png.stdout)


def test_booking_saga_output_is_deterministic() -> None:
    first, _ = run(ROOT / "examples" / "booking_saga.py")
    second = subprocess.run(
        [sys.executable, "examples/booking_saga.py"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert first.stdout == second.stdout
