"""Every hook is documented and tested (datasette's rule): adding a hook to
``carebook.hookspecs`` without a ``## <hook>`` section in docs/hooks.md, or without a
test that names it, fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from carebook import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS_DOC = ROOT / "docs" / "hooks.md"
TESTS = ROOT / "tests"
THIS_FILE = Path(__file__).resolve()

HOOKS = sorted(
    name
    for name, value in vars(hookspecs).items()
    if name.startswith("carebook_") and inspect.isfunction(value)
)


def documented_hooks() -> set[str]:
    text = HOOKS_DOC.read_text(encoding="utf-8")
    return set(re.findall(r"^## `?(carebook_\w+)`?\s*$", text, flags=re.MULTILINE))


def test_hookspecs_define_hooks() -> None:
    assert "carebook_register_storage" in HOOKS
    assert "carebook_on_event" in HOOKS


def test_every_hookspec_carries_the_hookspec_marker() -> None:
    for name in HOOKS:
        assert hasattr(getattr(hookspecs, name), "carebook_spec"), name


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_section_in_docs_hooks_md(hook: str) -> None:
    assert hook in documented_hooks(), f"docs/hooks.md needs a '## {hook}' section"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_named_by_a_test(hook: str) -> None:
    files = [p for p in TESTS.rglob("*.py") if p.resolve() != THIS_FILE]
    users = [p for p in files if re.search(rf"\b{hook}\b", p.read_text(encoding="utf-8"))]
    assert users, f"no test under tests/ exercises {hook}"


def test_docs_hooks_md_documents_no_hook_that_does_not_exist() -> None:
    assert documented_hooks() <= set(HOOKS)
