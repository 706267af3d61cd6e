"""The packages form a stack (docs/architecture.md): each imports only the ones below it, never one above.

Every import counts, including those inside functions, which is where a cycle likes to hide.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Bottom to top. A package may import its own modules and any package lower in the list.
STACK = ("core", "layers", "gis", "importers", "web", "api")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import of a project package in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name.split(".")[0]) for name in names if name.split(".")[0] in STACK]
    return found


def upward_imports() -> list[str]:
    wrong = []
    for rank, package in enumerate(STACK):
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, target in imports_of(path):
                if STACK.index(target) > rank:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}/ (above {package}/)")
    return wrong


def test_no_import_runs_up_the_stack():
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from api.app import create_app\n", encoding="utf-8")
    assert imports_of(module) == [(2, "api")]
