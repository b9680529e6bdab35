"""docs/porting.md's code blocks run as written, each in a fresh process (the guide's claims
about names and paths stay true)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "porting.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)


def test_the_guide_has_code() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_block_runs(code: str, tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]


def test_every_path_in_the_module_table_resolves() -> None:
    import importlib

    table = GUIDE.read_text().split("## Where the modules are")[1].split("\n## ")[0]
    for right in re.findall(r"^\|[^|]*\|\s*(.*?)\s*\|$", table, flags=re.M)[2:]:
        for path in re.findall(r"`(fncache(?:\.\w+)+)`", right):
            parts = path.split(".")
            obj = importlib.import_module(parts[0])
            for i, name in enumerate(parts[1:], 1):
                try:
                    obj = getattr(obj, name)
                except AttributeError:
                    obj = importlib.import_module(".".join(parts[: i + 1]))


def test_theanos_sandbox_path_gives_the_same_class() -> None:
    from fncache.sandbox.rng_mrg import MRG_RandomStreams
    from fncache.tensor.shared_randomstreams import MRG_RandomStreams as same

    assert MRG_RandomStreams is same
