"""The layers of the code run one way (docs/architecture.md).

Top level: web -> builder -> runtime -> engine, never back. Inside engine/, each layer
is a folder (or, for the base, a module of engine/ itself) and imports only from the
layers below it. No first-party import hides inside a function: an import that would
close a cycle must be solved by moving code, not by deferring the import.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("web", "builder", "runtime", "engine")          # highest first
FIRST_PARTY = set(PACKAGES)

# Bottom to top. A module of engine/ itself (engine/errors.py...) is in "base".
ENGINE_LAYERS = ("base", "formula", "storage", "definition", "fields", "computed", "automations", "rewards",
                 "referrals", "query", "dashboards", "workflow", "compiled", "validation", "upkeep", "schema_change")


def engine_layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (ROOT / "engine" / f"{parts[1]}.py").exists():
        return "base"
    return parts[1]


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name[:-len(".__init__")] if name.endswith(".__init__") else name


def first_party_imports(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level?) of every first-party import; the
    imports under a module-level `if TYPE_CHECKING:` count as module level."""
    top = set()
    for node in tree.body:
        top.add(id(node))
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            top.update(id(inner) for inner in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            if module.split(".")[0] in FIRST_PARTY:
                found.append((module, node.lineno, id(node) in top))
    return found


def problems_of(module: str, source: str) -> list[str]:
    problems = []
    package = module.split(".")[0]
    for imported, line, at_top in first_party_imports(ast.parse(source)):
        where = f"{module}:{line} imports {imported}"
        if not at_top:
            problems.append(f"{where} inside a function or class: move it to the top of the module")
        target = imported.split(".")[0]
        if PACKAGES.index(target) < PACKAGES.index(package):
            problems.append(f"{where}: {package} may not import {target} (web -> builder -> runtime -> engine)")
        elif package == target == "engine":
            low, high = engine_layer(module), engine_layer(imported)
            if high not in ENGINE_LAYERS:
                problems.append(f"{where}: engine/{high} is not a known layer; add it to ENGINE_LAYERS")
            elif ENGINE_LAYERS.index(high) > ENGINE_LAYERS.index(low):
                problems.append(f"{where}: layer {low!r} may not import the higher layer {high!r}")
    return problems


def project_modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).exists() else ():
            if "alembic" not in path.parts or "versions" not in path.parts:
                yield module_name(path), path


def test_engine_folders_are_all_layers():
    folders = {p.name for p in (ROOT / "engine").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(ENGINE_LAYERS) - {"base"}


def test_imports_run_one_way():
    problems = [p for module, path in project_modules() for p in problems_of(module, path.read_text("utf-8"))]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("module, source, expected", [
    ("engine.fields.text", "from engine.upkeep.upkeep import Upkeep\n", "may not import the higher layer 'upkeep'"),
    ("engine.fields.text", "def f():\n    from engine.errors import Problem\n", "inside a function"),
    ("engine.errors", "import runtime.apps\n", "engine may not import runtime"),
    ("runtime.apps", "from web.cli import main\n", "runtime may not import web"),
])
def test_the_check_catches_each_kind_of_wrong_arrow(module, source, expected):
    problems = problems_of(module, source)
    assert len(problems) == 1 and expected in problems[0], problems


def test_the_check_allows_arrows_down_and_type_checking_imports():
    source = ("from typing import TYPE_CHECKING\nfrom engine.fields.base import FieldType\n"
              "if TYPE_CHECKING:\n    from engine.compiled.app import App\n")
    assert problems_of("engine.fields.text", source) == ["engine.fields.text:4 imports engine.compiled.app: "
                                                         "layer 'fields' may not import the higher layer 'compiled'"]
    assert problems_of("engine.upkeep.upkeep", source) == []
