"""The tests are laid out like the code (tests/engine/<area>, tests/runtime/<area>,
tests/web/cli, tests/docs), and what they share lives in tests/support:

- no test module imports another test module (a helper it needs moves to tests/support);
- every folder holding Python files is a package, so that two test modules of the same
  name in different folders never collide;
- nothing but conftest.py and this module sits directly in tests/;
- tests/support holds no test modules (pytest would collect them, and every test imports it).
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import TESTS

ALLOWED_AT_THE_ROOT = {"__init__.py", "conftest.py", "test_layout.py"}


def python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    """The dotted name pytest imports a file under (tests/ is a package)."""
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every module an `import` or `from ... import` in the file may name, at any depth
    (imports inside functions too), relative ones resolved against the file's package;
    for `from a import b` both `a` and `a.b` (b may be a module)."""
    source = path.read_text(encoding="utf-8") if source is None else source
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def is_test_module(name: str) -> bool:
    """tests.engine.formula.test_vectors, or test_vectors as a rootdir-relative import."""
    last = name.rsplit(".", 1)[-1]
    return last.startswith("test_") and (name.startswith("tests.") or "." not in name)


def test_no_test_module_imports_another_test_module():
    offences = [f"{path.relative_to(TESTS.parent)} imports {name}"
                for path in python_files() for name in sorted(imported_modules(path)) if is_test_module(name)]
    assert not offences, ("test modules must not import each other; move what they share to a module of "
                          "tests/support/ and import it from there:\n  " + "\n  ".join(offences))


def test_every_folder_with_python_files_is_a_package():
    folders = {parent for path in python_files() for parent in path.parents if parent.is_relative_to(TESTS)}
    missing = sorted(str(folder.relative_to(TESTS.parent)) for folder in folders
                     if not (folder / "__init__.py").exists())
    assert not missing, ("these test folders have no __init__.py, so two test modules of the same name could "
                         "collide; add an empty __init__.py to each: " + ", ".join(missing))


def test_nothing_but_conftest_and_this_module_sits_directly_in_tests():
    stray = sorted(path.name for path in TESTS.glob("*.py") if path.name not in ALLOWED_AT_THE_ROOT)
    assert not stray, (f"tests/ holds {', '.join(stray)}: move test modules to the folder of the code they "
                       "test (tests/engine/<area>, tests/runtime/<area>, tests/web/cli, tests/docs) and shared "
                       "helpers to tests/support/")


def test_support_holds_no_test_modules():
    tests = sorted(path.name for path in (TESTS / "support").rglob("test_*.py"))
    assert not tests, (f"tests/support/ holds test modules ({', '.join(tests)}); they belong beside the code "
                       "they test, tests/support/ is for what test modules share")


def test_the_checks_see_what_they_check():
    """The scan resolves the imports it must refuse (so the checks above cannot pass blind)."""
    probe = TESTS / "engine" / "formula" / "test_probe.py"
    source = ("from tests.engine.formula import test_vectors\nfrom .test_sql import FIELDS\n"
              "def f():\n    import tests.docs.test_docs_cli\n")
    refused = {name for name in imported_modules(probe, source) if is_test_module(name)}
    assert refused == {"tests.engine.formula.test_vectors", "tests.engine.formula.test_sql",
                       "tests.docs.test_docs_cli"}
    shared = imported_modules(probe, "from tests.support.fields import make\nfrom ...support import paths\n")
    assert shared == {"tests.support.fields", "tests.support.fields.make", "tests.support", "tests.support.paths"}
    assert not {name for name in shared if is_test_module(name)}
