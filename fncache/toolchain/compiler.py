"""Turn C source into a loadable shared object with one compiler call (no setuptools at run time).

setuptools/distutils cost ~100 ms of imports and several compiler calls per module; one
``gcc -shared -fPIC`` call is all a Python extension needs on Linux.  The flag list used here is
exactly what :func:`compile_flags` returns, which the module cache key hashes, so the key and
the binary can never disagree about how it was built.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any, Sequence

from ..config import config
from ..errors import CompileError
from ..fs.workdirs import WorkDir
from .march import cxx_command, host_march_flags, host_memo
from .process import as_c_source, join_args, run_tool, split_args

__all__ = [
    "compiler_id",
    "compile_flags",
    "compile_shared_object",
    "start_shared_object",
    "CompileJob",
    "ext_suffix",
    "python_abi_tag",
    "user_cxxflags",
]

log = logging.getLogger(__name__)

_STDERR_TAIL_LINES = 40
_ids: dict[str, dict[str, str]] = {}
_flags_memo: tuple[int, list[str]] | None = None
_python_includes: list[str] | None = None


def _probe_compiler(cxx: list[str]) -> dict[str, str]:
    import shutil
    import subprocess

    path = shutil.which(cxx[0]) or cxx[0]
    out = {"cxx": path, "version": "unknown", "target": "unknown"}
    for field, arg in (("version", "--version"), ("target", "-dumpmachine")):
        try:
            proc = run_tool([*cxx, arg])
        except (OSError, subprocess.SubprocessError) as e:
            log.warning("cannot run %s %s: %s", cxx[0], arg, e)
            continue
        lines = proc.stdout.strip().splitlines()
        if proc.returncode == 0 and lines:
            out[field] = lines[0].strip()
    return out


def compiler_id() -> dict[str, str]:
    """``{"cxx": path, "version": first --version line, "target": -dumpmachine}`` of ``config.cxx``.

    Memoised per process and per host on disk (keyed by the binary's path, size and mtime, so an
    upgrade is noticed without running the compiler).
    """
    key = config.cxx
    found = _ids.get(key)
    if found is None:
        cxx = cxx_command()
        found = host_memo(
            "compiler",
            lambda _refused: _probe_compiler(cxx),
            lambda r: all(isinstance(r.get(k), str) for k in ("cxx", "version", "target")),
        )
        _ids[key] = found
    return dict(found)


def user_cxxflags() -> list[str]:
    """The compiler flags the user chose: ``config.cxxflags`` then Theano's ``gcc__cxxflags``
    (``gcc.cxxflags``), added after them as Theano adds them after its own."""
    return [*split_args(config.cxxflags), *split_args(config.gcc__cxxflags)]


def compile_flags() -> list[str]:
    """The exact flags :func:`compile_shared_object` passes (cxxflags, expanded march, -shared -fPIC).

    Include directories are not here: they name install paths, not code; the Python and numpy
    ABI they stand for are separate key components.
    """
    global _flags_memo
    memo = _flags_memo
    if memo is not None and memo[0] == config.version:
        return list(memo[1])
    flags = [*user_cxxflags(), *host_march_flags(), "-shared", "-fPIC"]
    _flags_memo = (config.version, flags)
    return list(flags)


def ext_suffix() -> str:
    """The file suffix CPython imports extensions with, e.g. ``.cpython-311-x86_64-linux-gnu.so``."""
    from importlib.machinery import EXTENSION_SUFFIXES  # no sysconfig import on the hit path

    return EXTENSION_SUFFIXES[0]


def python_abi_tag() -> str:
    """What an extension's binary compatibility with this interpreter depends on."""
    import sys

    return f"{sys.implementation.cache_tag}{getattr(sys, 'abiflags', '')}{ext_suffix()}"


def _python_include_flags() -> list[str]:
    global _python_includes
    if _python_includes is None:
        import sysconfig

        import numpy

        paths = sysconfig.get_paths()
        dirs = [paths["include"], paths.get("platinclude", paths["include"]), numpy.get_include()]
        _python_includes = [f"-I{d}" for d in dict.fromkeys(dirs)]
    return list(_python_includes)


def _lib_flag(lib: str) -> str:
    return lib if lib.startswith("-") or "/" in lib else f"-l{lib}"


def keep_failed_source(source: str, name: str, command: list[str], stderr: str, suffix: str = ".c") -> str:
    """Copy the source and the compiler log where a user can find them after the staging dir is gone.

    ``suffix`` names the language (the CUDA backend keeps ``.cu`` files here too).  Returns where
    the source is kept; never raises (a full or read-only disk must not hide the compiler's error).
    """
    from ..fs.perms import layout_for

    tag = hashlib.sha256(source.encode()).hexdigest()[:16]
    kept = f"{name}-{tag}{suffix}"
    texts = {kept: source, f"{name}-{tag}.log": f"$ {join_args(command)}\n{stderr}"}
    try:
        layout = layout_for(config.compiledir)
        _write_files(layout.root, ("failed",), texts)
        return str(layout.failed / kept)
    except Exception as e:  # the compiledir itself may be the problem; the source must survive anyway
        log.debug("keeping failed source in the temp dir: %s", e)
    try:
        where = _private_temp_dir()
        _write_files(where, (), texts)
        return str(where / kept)
    except OSError as e:
        return f"nowhere ({e.strerror or e}: the disk is full or read-only)"


def _write_files(root: Path, parts: tuple[str, ...], texts: dict[str, str]) -> None:
    """Write each text as a file in ``root/parts``, never through a symbolic link planted there."""
    from ..fs.safedir import write_all
    from ..fs.safedir import opened

    with opened(root, *parts) as dfd:
        for file_name, text in texts.items():
            fd = os.open(
                file_name,
                os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o644,
                dir_fd=dfd,
            )
            try:
                # a flag or path of another encoding (a surrogate in a str) as its own bytes
                write_all(fd, text.encode(errors="surrogateescape"))
            finally:
                os.close(fd)


def _private_temp_dir() -> Path:
    """``$TMPDIR/fncache-failed-<uid>``, if it is this user's own directory; else a new one."""
    import tempfile  # here: only a failed compile needs it, and a warm hit imports this module

    where = Path(tempfile.gettempdir()) / f"fncache-failed-{os.getuid()}"
    try:
        where.mkdir(mode=0o700)
    except FileExistsError:
        st = os.lstat(where)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
            return Path(tempfile.mkdtemp(prefix="fncache-failed-"))
    return where


def compile_shared_object(source: str, out_dir: Path, name: str, **options: Any) -> Path:
    """Write ``out_dir/<name>.c`` and build ``out_dir/<name><EXT_SUFFIX>`` with one compiler
    call, waited for: :func:`start_shared_object` (which takes the same ``options``), then
    :meth:`CompileJob.wait`. Raises :class:`CompileError` with the command, the stderr tail and
    where the source was kept."""
    return start_shared_object(source, out_dir, name, **options).wait()


class CompileJob:
    """The compiler calls of :func:`start_shared_object`, running while the caller does other
    work: :meth:`wait` gives its output file, :meth:`cancel` stops them. One call, or one per
    part of a source built in parts and then one linking their objects (``link``). Each call
    starts at once where a compiler slot is free, else when one frees (``slots.py``)."""

    def __init__(
        self, source: str, name: str, commands: list[list[str]], target: Path, link: list[str] | None = None
    ) -> None:
        from .slots import Call

        self.source = source
        self.name = name
        self.commands = commands
        self.link = link
        self.target = target
        self.started = time.perf_counter()
        self.calls: list[Call] = []
        # The compiler's temporary files go into a work directory of this process: a compiler
        # killed with it (kill -9 of a job) leaves them where the next build removes them, not
        # in $TMPDIR for good.
        self._temps: WorkDir | None = WorkDir()
        try:
            for command in commands:
                self.calls.append(Call(command, self._temp_dir()))
        except BaseException:
            self.cancel()
            raise

    def wait(self) -> Path:
        """The output file, once the compiler has written it; :class:`CompileError` if it failed."""
        from .slots import Call

        failure = None
        try:
            for call in self.calls:
                failure = _ended(call, _output_of(call.argv))
                if failure is not None:
                    break
            if failure is None and self.link is not None:
                link = Call(self.link, self._temp_dir())
                self.calls.append(link)
                failure = _ended(link, self.target)
        except BaseException:  # interrupted: no compiler is left running behind
            self.cancel()
            raise
        if failure is not None:
            self.cancel()
            raise compile_error(f"compiling {self.name}", failure[1], failure[0], self.source, self.name)
        self._remove_temps()
        if self.link is not None:
            self._remove_objects()
        log.debug("compiled %s in %.3fs", self.name, time.perf_counter() - self.started)
        return self.target

    def cancel(self) -> None:
        """Stop the compiler calls that still run or wait for a slot (their output is not wanted)."""
        for call in self.calls:
            call.cancel()
        self._remove_temps()
        if self.link is not None:
            self._remove_objects()

    def _temp_dir(self) -> str | None:
        return None if self._temps is None else str(self._temps.path)

    def _remove_temps(self) -> None:
        """Once every call has ended (a compiler still running keeps writing there)."""
        temps, self._temps = self._temps, None
        if temps is not None:
            temps.close()

    def _remove_objects(self) -> None:
        """The parts' objects are the link's input only: the output directory keeps the source
        and the library, as after one call."""
        for command in self.commands:
            try:
                os.unlink(_output_of(command))
            except OSError:
                pass


def _ended(call: Any, target: Path) -> tuple[list[str], tuple[str, str]] | None:
    """None when ``call`` (a ``slots.Call``) ended having written ``target``, else (its command,
    (reason, its output))."""
    try:
        returncode, out, err = call.result()
    except OSError as e:
        return call.argv, _not_started(e, "set fc.config.cxx")
    outcome = _outcome(returncode, err + out, target)
    return None if outcome is None else (call.argv, outcome)


def _output_of(command: list[str]) -> Path:
    return Path(command[command.index("-o") + 1])


def start_shared_object(
    source: str,
    out_dir: Path,
    name: str,
    *,
    extra_flags: Sequence[str] = (),
    libs: Sequence[str] = (),
    include_dirs: Sequence[str] = (),
    python_ext: bool = True,
    parts: int = 1,
) -> CompileJob:
    """Write ``out_dir/<name>.c`` and start the compiler call building it into
    ``out_dir/<name><EXT_SUFFIX>``, not waited for (:func:`compile_shared_object` waits).

    ``libs`` are names (``m``) or ready flags (``-lm``, ``/path/libx.a``).  With ``python_ext``
    the Python and numpy include dirs are added and the suffix is CPython's ``EXT_SUFFIX``
    (so the file imports as module ``name``, which must define ``PyInit_<name>``); otherwise
    ``.so`` (a plain library, such as the generated kernels). ``parts`` > 1: the source is
    compiled by that many calls at once, call ``k`` with ``-DFC_LIB_PART=k`` (the source keeps
    part k's code under it), into objects that one more call links with the same flags."""
    out_dir = Path(out_dir)
    src = out_dir / f"{name}.c"
    src.write_text(source)
    target = out_dir / f"{name}{ext_suffix() if python_ext else '.so'}"
    flags = [
        *compile_flags(),
        *(_python_include_flags() if python_ext else []),
        *(f"-I{d}" for d in include_dirs),
        *extra_flags,
    ]
    linked = [_lib_flag(lib) for lib in libs]
    if parts <= 1:
        return CompileJob(
            source, name, [[*cxx_command(), *flags, "-o", str(target), *as_c_source(src), *linked]], target
        )
    objects = [str(out_dir / f"{name}.part{k}.o") for k in range(parts)]
    commands = [
        [*cxx_command(), *flags, "-c", f"-DFC_LIB_PART={k}", "-o", obj, *as_c_source(src)]
        for k, obj in enumerate(objects)
    ]
    return CompileJob(
        source, name, commands, target, link=[*cxx_command(), *flags, "-o", str(target), *objects, *linked]
    )


def run_compiler(command: list[str], target: Path, hint: str) -> tuple[str, str] | None:
    """Run one compiler command; None when it wrote ``target``, else (reason, its output)."""
    try:
        with WorkDir() as temps:  # as CompileJob's calls
            proc = run_tool(command, timeout=None, tmpdir=str(temps.path))
    except OSError as e:
        return _not_started(e, hint)
    return _outcome(proc.returncode, proc.stderr + proc.stdout, target)


def _not_started(e: OSError, hint: str) -> tuple[str, str]:
    return (f"could not start the compiler ({e}); {hint}", "")


def _outcome(returncode: int, output: str, target: Path) -> tuple[str, str] | None:
    """None when a finished compiler call wrote ``target``, else (reason, its output)."""
    if returncode != 0:
        return (f"exit status {returncode}", output)
    if not target.is_file():
        return ("the compiler reported success but wrote no output file", output)
    return None


def compile_error(
    what: str, failure: tuple[str, str], command: list[str], source: str, name: str, suffix: str = ".c"
) -> CompileError:
    """The CompileError users see: the command, the output's tail and the kept source."""
    reason, output = failure
    kept = keep_failed_source(source, name, command, output, suffix=suffix)
    tail = "\n".join(output.splitlines()[-_STDERR_TAIL_LINES:])
    return CompileError(
        f"{what} failed: {reason}\n"
        f"command: {join_args(command)}\n"
        f"compiler output (last {_STDERR_TAIL_LINES} lines):\n{tail}\n"
        f"source kept at: {kept} (compiler log next to it)"
    )
