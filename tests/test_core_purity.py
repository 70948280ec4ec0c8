"""The core stays pure and the house keeps its shape.

Importing carebook pulls in no adapter and no SQL library. The layers point inward: the
import-linter contracts in pyproject.toml (``lint-imports``, also a step of .ci/run)
run here, and this file adds what import-linter does not check: no import circles
(between modules, or between the sibling packages of any package), no private module or
name borrowed from outside its package, and no library module over 400 lines that does
not say why. Every check counts imports under ``if TYPE_CHECKING:`` too.
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Set
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"carebook": ROOT / "src" / "carebook"} | {
    # Every adapter distribution in this repository: adapters/carebook-<x>/src/carebook_<x>.
    path.name: path
    for path in sorted((ROOT / "adapters").glob("carebook-*/src/carebook_*"))
    if path.is_dir()
}
MAX_LINES = 400
SIZE_REASON = "Longer than 400 lines because"

ADAPTER = importlib.util.find_spec("carebook_sqlalchemy") is not None
needs_adapter = pytest.mark.skipif(
    not ADAPTER, reason="carebook-sqlalchemy is not installed (nox -s tests_core)"
)


def _packages() -> tuple[str, ...]:
    """carebook and the adapters that are installed (so that grimp can import them)."""
    return tuple(
        name for name in SOURCES if name == "carebook" or importlib.util.find_spec(name) is not None
    )


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*_packages())


def _cycles(edges: Mapping[str, Set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _internal(graph: grimp.ImportGraph, module: str) -> set[str]:
    return {m for m in graph.find_modules_directly_imported_by(module) if m in graph.modules}


def test_no_module_imports_itself_through_a_circle(graph: grimp.ImportGraph) -> None:
    edges = {m: _internal(graph, m) for m in graph.modules}
    assert _cycles(edges) == []


def test_sibling_packages_import_each_other_one_way_only(graph: grimp.ImportGraph) -> None:
    circles = []
    for parent in sorted(graph.modules):
        children = graph.find_children(parent)
        if len(children) < 2:
            continue
        edges = {
            child: {
                other
                for other in children
                if other != child
                and graph.direct_import_exists(importer=child, imported=other, as_packages=True)
            }
            for child in children
        }
        circles += _cycles(edges)
    assert circles == []


@needs_adapter
def test_the_layering_contract_holds() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is in the test extra"
    result = subprocess.run(
        [lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _source_files() -> Iterator[tuple[str, Path]]:
    for package in _packages():
        base = SOURCES[package]
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            dotted = ".".join((package, *parts))
            yield dotted.removesuffix(".__init__"), path


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _borrowed(module: str, path: Path) -> Iterator[str]:
    """Imports of a private module from outside its package, and of a private name
    from outside its module."""
    home = _package_of(module, path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom) or node.module is None or node.level:
            continue
        if not node.module.startswith(_packages()):
            continue
        for alias in node.names:
            parts = f"{node.module}.{alias.name}".split(".")
            for i, part in enumerate(parts):
                owner = ".".join(parts[:i])
                if _is_private(part) and not (home == owner or home.startswith(owner + ".")):
                    yield f"{module}:{node.lineno} imports {part} from {owner}"
                    break


def test_no_private_helper_is_borrowed_across_packages() -> None:
    borrowed = [hit for module, path in _source_files() for hit in _borrowed(module, path)]
    assert borrowed == []


def test_the_borrow_check_sees_a_borrowed_helper(tmp_path: Path) -> None:
    leak = tmp_path / "leak.py"
    leak.write_text(
        "from carebook.services.booking.book import _reserve\n"
        "from carebook.domain.staffing import _flow\n"
    )
    hits = list(_borrowed("carebook.services.walkins.leak", leak))
    assert hits == [
        "carebook.services.walkins.leak:1 imports _reserve from carebook.services.booking.book",
        "carebook.services.walkins.leak:2 imports _flow from carebook.domain.staffing",
    ]
    inside = tmp_path / "plan.py"
    inside.write_text("from carebook.domain.staffing import _flow\n")
    assert list(_borrowed("carebook.domain.staffing.plan", inside)) == []


def test_modules_are_small_enough_to_read_in_one_sitting() -> None:
    long = []
    for module, path in _source_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(SIZE_REASON in line for line in lines[:30]):
            long.append(f"{module} ({len(lines)} lines)")
    assert long == []


def test_importing_carebook_loads_no_adapter_or_database_library() -> None:
    code = (
        "import sys, carebook, carebook.testing.scenarios\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'alembic', 'psycopg', 'sqlite3', 'carebook_sqlalchemy'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"CAREBOOK_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": ""},
    )
    assert result.stdout.strip() == ""
