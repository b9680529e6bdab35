"""How the toolchain runs a compiler or one of its tools: in the C locale (their messages are
parsed), with no standard input, and with their output captured as text (a byte that is no
UTF-8, as a flag or a path of another encoding brings into a message, read as U+FFFD: the
message is only shown, and a strict decoding would lose it, and the exit status, to an error
of its own)."""

from __future__ import annotations

import logging
import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

__all__ = ["run_tool", "start_tool", "run_side_by_side", "as_c_source", "split_args", "join_args"]

log = logging.getLogger(__name__)

#: Printable ASCII but quotes and backslashes, and the blanks shlex splits at: shlex splits a
#: text of these at its blanks and nowhere else.
_PLAIN_ARGS = re.compile(r"[ \t\r\n!#-&(-\[\]-~]*")


def split_args(text: str) -> list[str]:
    """``shlex.split(text)`` (a compiler command, its flags), without importing shlex for the
    usual text, which quotes nothing: a warm cache hit in a fresh process reads such flags for
    its library's key, and the import would cost it a third of a millisecond."""
    if _PLAIN_ARGS.fullmatch(text):
        return text.split()
    import shlex

    return shlex.split(text)


def join_args(argv: list[str]) -> str:
    """``shlex.join(argv)``: a command line to show (a log, an error)."""
    import shlex

    return shlex.join(argv)


def as_c_source(path: str | os.PathLike) -> list[str]:
    """``path`` on a compiler's command line as a C file whatever the driver: ``g++`` or
    ``clang++`` (Theano's ``cxx`` named a C++ compiler) would compile a ``.c`` file as C++,
    whose mangled names the run-time would not find."""
    return ["-x", "c", str(path), "-x", "none"]


def _c_locale(tmpdir: str | None = None) -> dict[str, str]:
    """The environment of a tool: the C locale, and its temporary files in ``tmpdir`` if given."""
    env = {**os.environ, "LC_ALL": "C"}
    if tmpdir is not None:
        env["TMPDIR"] = tmpdir
    return env


def run_tool(
    argv: list[str], *, input: str | None = None, timeout: float | None = 60, tmpdir: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to completion (its temporary files in ``tmpdir`` if given); raises ``OSError``
    when it cannot start and ``subprocess.TimeoutExpired`` past ``timeout`` seconds."""
    import subprocess  # only when a tool runs: not on the import path of a warm process

    return subprocess.run(
        argv,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        env=_c_locale(tmpdir),
    )


def start_tool(argv: list[str], tmpdir: str | None = None) -> subprocess.Popen[str]:
    """Start ``argv`` reading nothing from stdin, its output captured as text (its temporary
    files in ``tmpdir`` if given), and return at once (``communicate()`` waits for it); raises
    ``OSError`` when it cannot start."""
    import subprocess

    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=_c_locale(tmpdir),
    )


def run_side_by_side(argvs: list[list[str]], tmpdir: str | None = None) -> list[tuple[int, str, str] | None]:
    """Run compiler driver calls reading nothing from stdin, all at once (they are independent
    and each mostly waits on its own process start; their temporary files in ``tmpdir`` if
    given): ``(returncode, stdout, stderr)`` of each, None for one that could not be run."""
    import subprocess

    procs: list[subprocess.Popen | None] = []
    for argv in argvs:
        try:
            procs.append(start_tool(argv, tmpdir))
        except OSError as e:
            log.warning("cannot run %s: %s", join_args(argv), e)
            procs.append(None)
    results: list[tuple[int, str, str] | None] = []
    for argv, proc in zip(argvs, procs):
        if proc is None:
            results.append(None)
            continue
        try:
            out, err = proc.communicate(timeout=60)
            results.append((proc.returncode, out, err))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            log.warning("%s did not finish in 60 s", join_args(argv))
            results.append(None)
    return results
