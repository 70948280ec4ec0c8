"""The documentation is tested: its code runs and it names what the code has.

Every ```python block in README.md and docs/*.md runs; the blocks of one file run in
order in one namespace (a fresh module per file), so a page can build on its earlier
blocks. Blocks that are not meant to run use another language tag (text, toml, console).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

import carebook
from carebook import hookspecs, ports
from carebook.domain.scheduling.appointment import TRANSITIONS, Action
from carebook.domain.scheduling.rules import BUILTIN_RULES
from carebook.scheduling import AppointmentStatus

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
DOC_FILES = [README, *sorted(DOCS.glob("*.md"))]
EXPECTED_PAGES = {
    "architecture.md",
    "ports.md",
    "hooks.md",
    "writing-an-adapter.md",
    "guarantees.md",
    "lifecycle.md",
    "storage-sqlalchemy.md",
    "staffing.md",
    "walk-ins.md",
    "pricing-and-payments.md",
    "booking-saga.md",
    "operations.md",
    "errors.md",
    "changes.md",
    "reminders.md",
    "notifications.md",
}
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
ALLOWED_FENCES = {"python", "text", "toml", "console", "ini"}
LINK = re.compile(r"\]\(([^)\s]+)\)")


def fenced_blocks(path: Path) -> list[tuple[str, int, str]]:
    """``(language, first line number of the code, code)`` for each fenced block."""
    text = path.read_text(encoding="utf-8")
    return [
        (match.group(1), text.count("\n", 0, match.start(2)) + 1, match.group(2))
        for match in FENCE.finditer(text)
    ]


def doc_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_expected_page_exists() -> None:
    assert {p.name for p in DOCS.glob("*.md")} >= EXPECTED_PAGES


@pytest.mark.parametrize("path", DOC_FILES, ids=doc_id)
def test_python_blocks_run_in_order(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [(line, code) for lang, line, code in fenced_blocks(path) if lang == "python"]
    if any('storage="sqlalchemy"' in code for _, code in blocks):
        pytest.importorskip("carebook_sqlalchemy", reason=f"{path.name} stores in SQLite")
    stem = re.sub(r"\W", "_", path.stem)
    module = types.ModuleType(f"carebook_docs_{stem}")
    module.__file__ = str(path)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for line, code in blocks:
        # Pad so that a traceback points at the line in the Markdown file.
        compiled = compile("\n" * (line - 1) + code, str(path), "exec")
        exec(compiled, module.__dict__)


@pytest.mark.parametrize("path", DOC_FILES, ids=doc_id)
def test_code_fences_use_known_languages(path: Path) -> None:
    """An untagged or ``py`` block would silently escape the runner above."""
    languages = {lang for lang, _, _ in fenced_blocks(path)}
    assert languages <= ALLOWED_FENCES, f"use one of {sorted(ALLOWED_FENCES)}"


@pytest.mark.parametrize("path", DOC_FILES, ids=doc_id)
def test_relative_links_point_at_files_that_exist(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        file_part = target.split("#", 1)[0]
        assert (path.parent / file_part).exists(), f"{doc_id(path)} links to missing {target}"


def test_readme_carries_the_two_set_up_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -e . -e adapters/carebook-sqlalchemy && "
        ".venv/bin/python examples/quickstart.py"
    ) in text
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' "
        "-e 'adapters/carebook-sqlalchemy[test]' -e 'adapters/carebook-smtp[test]' "
        "-e 'adapters/carebook-webhooks[test]' -e 'adapters/carebook-twilio[test]' "
        "&& .venv/bin/python -m pytest"
    ) in text


def test_ci_installs_what_the_readme_test_command_installs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    for adapter in sorted((ROOT / "adapters").glob("carebook-*")):
        install = f"-e 'adapters/{adapter.name}[test]'"
        assert install in ci, f".ci/run does not install {adapter.name}"
        assert install in readme, f"the README's test command does not install {adapter.name}"
    assert "python -m pytest" in ci


def test_readme_is_the_package_long_description() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["readme"] == "README.md"


def test_readme_links_every_docs_page() -> None:
    text = README.read_text(encoding="utf-8")
    for page in EXPECTED_PAGES:
        assert f"(docs/{page})" in text, page


def test_readme_names_every_nox_session() -> None:
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    sessions = re.findall(r"@nox\.session[^\n]*\ndef (\w+)\(", noxfile)
    text = README.read_text(encoding="utf-8")
    assert sessions
    for session in sessions:
        assert f"nox -s {session}" in text, session


def test_every_port_is_documented() -> None:
    text = (DOCS / "ports.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (\w+)\s*$", text, flags=re.MULTILINE))
    for name in ("Storage", "UnitOfWork", "Clock", "Notifier", "EventPublisher", "PaymentGateway"):
        assert name in headings, name
    for name in ports.__all__:
        assert f"`{name}`" in text or f"## {name}" in text, name


def test_every_builtin_reason_code_is_in_the_guarantees() -> None:
    text = (DOCS / "guarantees.md").read_text(encoding="utf-8")
    for rule in BUILTIN_RULES:
        assert re.search(rf"\|\s*{rule.order}\s*\|\s*`{rule.code}`\s*\|", text), rule.code


def test_lifecycle_page_names_every_status_and_transition() -> None:
    text = (DOCS / "lifecycle.md").read_text(encoding="utf-8")
    for status in AppointmentStatus:
        assert f"`{status.value}`" in text, status
    for (status, action), target in TRANSITIONS.items():
        if action is Action.ENTER_IN_ERROR:
            continue  # documented once, for every status
        row = rf"\|\s*`{status.value}`\s*\|[^|\n]*`{action.value}`[^|\n]*\|\s*`{target.value}`"
        assert re.search(row, text), (status.value, action.value, target.value)


def test_hooks_page_mentions_the_hook_marker() -> None:
    text = (DOCS / "hooks.md").read_text(encoding="utf-8")
    assert "@carebook.hookimpl" in text
    assert carebook.hookimpl is hookspecs.hookimpl


# -- what the docs import ------------------------------------------------------------------

INTERNAL = ("carebook.domain", "carebook.services", "carebook.app", "carebook.bootstrap")
"""The layers behind the public modules: a user reaches them through carebook,
carebook.scheduling, .walkins, .pricing, .payments, .staffing, .events, and the modules
adapter authors use (ports, hookspecs, errors, serialization, testing, builtin, plugins)."""
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
ADAPTER_READMES = sorted((ROOT / "adapters").glob("*/README.md"))


def private_imports(code: str) -> list[str]:
    """Each carebook import in ``code`` that reaches past the public modules."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            pairs = [(node.module, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Import):
            pairs = [(alias.name, alias.name) for alias in node.names]
        else:
            continue
        for module, target in pairs:
            if not module.startswith("carebook"):
                continue
            internal = module in INTERNAL or module.startswith(tuple(f"{m}." for m in INTERNAL))
            if internal or any(p.startswith("_") for p in target.split(".")):
                found.append(target)
    return found


def test_the_import_check_sees_a_private_import() -> None:
    code = "from carebook.domain.money import apply_percentage\nfrom carebook import _x\n"
    assert private_imports(code) == ["carebook.domain.money.apply_percentage", "carebook._x"]
    assert private_imports("from carebook.pricing import apply_percentage\n") == []
    assert private_imports("from carebook import bootstrap\n") == []  # the function
    assert private_imports("from carebook.bootstrap import bootstrap\n") != []


@pytest.mark.parametrize("path", [*DOC_FILES, *ADAPTER_READMES], ids=doc_id)
def test_docs_import_only_from_public_modules(path: Path) -> None:
    code = "\n".join(c for lang, _, c in fenced_blocks(path) if lang == "python")
    assert private_imports(code) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=doc_id)
def test_examples_import_only_from_public_modules(path: Path) -> None:
    assert private_imports(path.read_text(encoding="utf-8")) == []


STORAGE_TEST_FILE = (
    "# tests/test_contract.py, in a storage adapter's distribution",
    "# tests/test_contract.py, continued",
)


def test_a_storage_adapter_following_the_page_runs_the_whole_contract_and_every_flow(
    tmp_path: Path,
) -> None:
    """The storage adapter's test file of writing-an-adapter.md, written out as it stands,
    collects exactly the memory storage's contract and flow tests, and they pass."""
    blocks = fenced_blocks(DOCS / "writing-an-adapter.md")
    code = [c for lang, _, c in blocks if lang == "python" and c.startswith(STORAGE_TEST_FILE)]
    assert len(code) == len(STORAGE_TEST_FILE)
    test_file = tmp_path / "test_contract.py"
    test_file.write_text("\n".join(code), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")

    def pytest_run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def names(listing: str, *classes: str) -> list[str]:
        return sorted(
            line.split("::", 2)[2]
            for line in listing.splitlines()
            if line.count("::") >= 2 and line.split("::")[1] in classes
        )

    ours = pytest_run(
        "--collect-only",
        "--import-mode=importlib",
        f"{ROOT}/tests/contract/test_builtin_contracts.py::TestMemoryStorage",
        f"{ROOT}/tests/services/test_flows.py::TestMemoryFlows",
        str(test_file),
    )
    theirs = names(ours, "TestMyStorage", "TestMyStorageFlows")
    assert theirs
    assert theirs == names(ours, "TestMemoryStorage", "TestMemoryFlows")
    assert f"{len(theirs)} passed" in pytest_run(str(test_file))
