"""Names and packaging: what is installed under which name, and no attribute hiding a subpackage."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import fncache
import fncache as fc
from fncache.cache import Compiledir

REPO = Path(fncache.__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_package_folder_is_installed_under_its_name():
    tool = _pyproject()["tool"]["setuptools"]
    dirs = {name: REPO / path for name, path in tool["package-dir"].items()}
    dirs.setdefault("fncache", REPO / "fncache")
    found = set()
    for top, folder in dirs.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder).parts
            found.add(".".join((top, *rel)))
    assert set(tool["packages"]) == found
    assert "cli" not in tool["packages"] and tool["package-dir"] == {"fncache_cli": "cli"}


def test_the_version_is_written_once():
    project = _pyproject()["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert _pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "fncache.__version__"}
    from importlib import metadata

    assert metadata.version("fncache") == fc.__version__


def test_fc_cache_is_the_subpackage_and_answers_as_the_default_compiledir(tmp_path):
    import fncache.cache.remote

    assert fc.cache is sys.modules["fncache.cache"]
    assert fncache.cache.remote.remote_info is sys.modules["fncache.cache.remote"].remote_info
    from fncache.config import config

    with config.change_flags(compiledir=str(tmp_path / "cd")):
        assert fc.cache.path == tmp_path / "cd"
        assert fc.cache.info()["entries"] == 0
        assert fc.cache.stats() == fc.cache.cache.stats()


def test_the_package_forwards_exactly_the_compiledir_api_and_no_submodule_takes_one_of_its_names():
    public = {n for n in dir(Compiledir) if not n.startswith("_")}
    assert fncache.cache._COMPILEDIR_API == public
    submodules = {m.name for m in pkgutil.iter_modules(fncache.cache.__path__)}
    assert not submodules & public, "a submodule would hide the compiledir's method of that name"
    for name in submodules:
        importlib.import_module(f"fncache.cache.{name}")
    assert callable(fc.cache.info) and callable(fc.cache.purge)


def test_the_remote_tier_is_reached_as_the_docs_write_it(tmp_path):
    code = "import fncache; print(callable(fncache.cache.remote.remote_info), callable(fncache.cache.info))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_no_top_level_cli_package_is_importable_outside_the_checkout(tmp_path):
    code = (
        "import importlib.util, json; "
        "print(json.dumps([importlib.util.find_spec(n) is not None for n in ('cli', 'fncache_cli')]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[false, true]"


def test_no_package_reads_a_builtin_name_one_of_its_submodules_takes():
    """Importing ``fncache.tensor.type`` binds ``type`` in ``fncache.tensor``'s namespace, so a
    ``type(...)`` call in that package's ``__init__`` calls the module once anything imported
    it (``ft.clip`` failed so after a test touched ``fncache.tensor.type``)."""
    import ast
    import builtins

    root = Path(fncache.__file__).parent
    found = []
    for init in root.rglob("__init__.py"):
        taken = {p.stem for p in init.parent.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}
        shadowed = taken & set(dir(builtins))
        for node in ast.walk(ast.parse(init.read_text())):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in shadowed:
                found.append(f"{init.relative_to(root.parent)}:{node.lineno}: {node.id}")
    assert not found, found
    importlib.import_module("fncache.tensor.type")
    assert fc.tensor.clip(fc.tensor.vector("x", dtype="int8"), -1, 300).dtype == "int8"
