"""Modules stay small: a library module longer than 400 lines says at its top why."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "src", *sorted((ROOT / "adapters").glob("*/src"))]
LIMIT = 400
REASON = "Longer than 400 lines because"


def test_every_library_module_is_short_or_says_why() -> None:
    too_long = []
    for source in SOURCES:
        for module in sorted(source.rglob("*.py")):
            lines = module.read_text(encoding="utf-8").splitlines()
            if len(lines) > LIMIT and not any(REASON in line for line in lines[:20]):
                too_long.append(f"{module.relative_to(ROOT)}: {len(lines)} lines")
    assert too_long == [], f"split by concept, or write {REASON!r} at the top"
