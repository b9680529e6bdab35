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
            source = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            if source.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                if not alias.name.startswith("_") or alias.name.startswith("__"):
                    project_modules.add(alias.asname or alias.name)
                elif not (source == package and node.level):  # a package's own private modules
                    found.append(f"{path.relative_to(folder.parent)}:{node.lineno}: from {source} import {alias.name}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in project_modules and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                found.append(f"{path.relative_to(folder.parent)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


#: The one exception, the same as in the layer contracts: cpuid is read through the compiled C
#: run-time, an extension module that only its own package and the CPU probe load.
CPU_PROBE = ("fncache/toolchain/cpu.py", "from fncache.codegen import _c_runtime")


def test_no_module_of_the_library_imports_another_modules_private_names():
    found = _private_reaches("fncache", PACKAGES["fncache"])
    assert [(f.split(":")[0], f.split(": ", 1)[1]) for f in found] == [CPU_PROBE], found


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
