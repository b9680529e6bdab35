"""The one-way layers of docs/architecture.md: import-linter's contracts (pyproject.toml) hold,
and no module reaches into another module's private names."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fncache

REPO = Path(fncache.__file__).resolve().parent.parent
PACKAGES = {"fncache": REPO / "fncache", "fncache_cli": REPO / "cli"}


def test_the_layer_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if lint is None:
        pytest.fail("lint-imports is missing: install the test extra (pip install -e '.[test]')")
    proc = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def _module_name(top: str, folder: Path, path: Path) -> str:
    parts = path.relative_to(folder).with_suffix("").parts
    return ".".join((top, *(parts[:-1] if parts[-1] == "__init__" else parts)))


def _private_reaches(top: str, folder: Path) -> list[str]:
    """``from X import _name`` and ``X._name`` where X is another of the project's modules."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        module = _module_name(top, folder, path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(), str(path))
        project_modules: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.module == "__future__":
                continue
            base = package.split(".")
            source = (
                ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
                if node.level
                else (node.module or "")
            )
            if source.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                if not alias.name.startswith("_") or alias.name.startswith("__"):
                    project_modules.add(alias.asname or alias.name)
                elif not (source == package and node.level):  # a package's own private modules
                    found.append(
                        f"{path.relative_to(folder.parent)}:{node.lineno}: from {source} import {alias.name}"
                    )
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in project_modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{path.relative_to(folder.parent)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_of_the_library_imports_another_modules_private_names():
    assert _private_reaches("fncache", PACKAGES["fncache"]) == []


def _private_attribute_reaches(*folders: Path) -> list[str]:
    """``x._name`` (read or written) where ``_name`` is a private attribute or method of one of the
    project's classes defined in another module (``self._name = ...``, ``def _name``)."""
    trees = {
        path: ast.parse(path.read_text(), str(path))
        for folder in folders
        for path in sorted(folder.rglob("*.py"))
    }
    owners: dict[str, set[Path]] = {}
    for path, tree in trees.items():
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            for node in ast.walk(cls):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names = [node.name]
                elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names = [
                        t.attr
                        for t in targets
                        if isinstance(t, ast.Attribute)
                        and isinstance(t.value, ast.Name)
                        and t.value.id in ("self", "cls")
                    ]
                else:
                    continue
                for name in names:
                    if name.startswith("_") and not name.startswith("__"):
                        owners.setdefault(name, set()).add(path)
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in owners
                and path not in owners[node.attr]
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_reads_or_writes_another_modules_private_attributes():
    """Objects are used through their public methods and properties: e.g. the runners store a
    shared variable's update with ``store_update``, pickling reads ``shared_variables``."""
    assert _private_attribute_reaches(PACKAGES["fncache"], PACKAGES["fncache_cli"]) == []


def test_the_private_attribute_check_sees_a_reach(tmp_path):
    pkg = tmp_path / "fncache"
    pkg.mkdir()
    (pkg / "a.py").write_text(
        "class A:\n    def __init__(self):\n        self._x = 1\n    def _m(self):\n        return self._x\n"
    )
    (pkg / "b.py").write_text("def f(a):\n    a._x = 2\n    return a._m()\n")
    assert sorted(f.split(": ", 1)[1] for f in _private_attribute_reaches(pkg)) == ["a._m", "a._x"]


def test_the_command_line_tool_imports_no_private_names_of_its_modules():
    assert _private_reaches("fncache_cli", PACKAGES["fncache_cli"]) == []


def test_the_private_name_check_sees_a_reach_into_another_module(tmp_path):
    pkg = tmp_path / "fncache"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("from . import _own\n")
    (pkg / "a" / "m.py").write_text("from ..b import _hidden\nfrom .. import b\nb._field\n")
    found = _private_reaches("fncache", pkg)
    assert [f.split(": ", 1)[1] for f in found] == ["from fncache.b import _hidden", "b._field"]


def _fresh(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


def test_eval_compiles_through_the_run_time_it_never_imports():
    """The front end reaches fc.function through the hook the run-time installs: in a process that
    imported the front end alone, ``eval`` still compiles, and the run-time is loaded only then."""
    out = _fresh(
        "import sys\n"
        "import fncache.tensor as ft\n"
        "loaded = 'fncache.runtime.function' in sys.modules\n"
        "x = ft.dscalar('x')\n"
        "print(loaded, (x * 2 + 1).eval({x: 3.0}), 'fncache.runtime.function' in sys.modules)"
    )
    assert out == "False 7.0 True"


def test_the_cpu_probe_loads_nothing_of_the_code_generator():
    out = _fresh(
        "import sys\n"
        "from fncache.toolchain.cpu import cpu_features, known_features\n"
        "assert cpu_features() <= known_features()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('fncache.codegen', 'numpy'))))"
    )
    assert out == "[]"
