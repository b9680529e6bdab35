"""How the toolchain runs a compiler or one of its tools: in the C locale (their messages are
parsed), with no standard input, and with their output captured as text."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

__all__ = ["run_tool"]


def run_tool(
    argv: list[str], *, input: str | None = None, timeout: float | None = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to completion; raises ``OSError`` when it cannot start and
    ``subprocess.TimeoutExpired`` past ``timeout`` seconds."""
    import subprocess  # only when a tool runs: not on the import path of a warm process

    return subprocess.run(
        argv,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "LC_ALL": "C"},
    )
