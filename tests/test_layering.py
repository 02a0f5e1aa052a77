"""The layout stays true: imports point down only (README "Layout").

shixin (the commands and the demo)      on top: nothing imports it
portal, bot (the interfaces)            over the domains
search_index, casework (the domains)    over the ground; casework may read the list
core (the ground)                       imports no package of ours
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("core", "search_index", "casework", "portal", "bot", "shixin")
# What each package may import of ours, besides itself.
ALLOWED = {
    "core": set(),
    "search_index": {"core"},
    "casework": {"core", "search_index"},
    "portal": {"core", "search_index", "casework"},
    "bot": {"core", "search_index", "casework"},
    "shixin": {"core", "search_index", "casework", "portal", "bot"},
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & set(OURS)


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", OURS)
def test_imports_point_down_only(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in _modules(package)
        if (bad := _imported_packages(path) - ALLOWED[package] - {package})
    }
    assert wrong == {}, f"{package} may import only {sorted(ALLOWED[package])}"


def test_the_layering_test_sees_every_package() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages - {"tests", "benchmarks"} == set(OURS)


def test_casework_reads_the_list_through_one_named_function_only() -> None:
    imported = set()
    for path in _modules("casework"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("search_index"):
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("search_index") for a in node.names), path
    assert imported == {"search_index.entries.ever_public_entry"}
