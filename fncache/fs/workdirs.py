"""Private work directories under $TMPDIR, and the removal of those a killed process left.

What a process builds outside the compiledir (a kernel library's compiler call started early, a
build on a full or read-only compiledir, the host's target detection, a verified hit's rebuild,
a compiler's temporary files) goes into a directory ``<pid>-<random>`` inside the user's
``fncache-work-<uid>`` (0700) in the temporary directory (``tempfile.gettempdir()``: $TMPDIR,
else /tmp). The process holds a lock (``flock``) on its directory while it works there and
removes it afterwards. A process killed outright (``kill -9``, the out-of-memory killer, a
scheduler's time limit) cannot: each process making a work directory removes those of processes
that are gone, so a node's /tmp does not fill with compiler outputs. The lock, which the kernel
drops with its holder, is what says a directory is still in use: a process of another pid
namespace sharing /tmp may look gone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
from pathlib import Path
from typing import Any

__all__ = ["PID_MAX", "WorkDir", "dead_process_dirs", "new_private_dir", "process_runs", "user_dir"]

#: The name of the user's directory holding the work directories (``-<uid>`` added).
WORK = "fncache-work"


def user_dir(base: str, name: str) -> str:
    """``<base>/<name>-<uid>``, the user's directory for private directories of one kind: made
    0700 if missing, used only if it is a real directory of this user that nobody else can
    write; else ``base`` itself (each private directory is private either way, only the removal
    of a dead process's needs the parent)."""
    parent = os.path.join(base, f"{name}-{os.getuid()}")
    try:
        os.mkdir(parent, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return base
    try:
        st = os.lstat(parent)
    except OSError:
        return base
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        return base
    return parent


def new_private_dir(base: str, name: str) -> tuple[str, str]:
    """A new directory ``<pid>-<random>`` (0700) of this process inside :func:`user_dir`
    ``(base, name)``, made by a mkdir that fails where the name exists (never one somebody else
    made): ``(parent, path)``."""
    for _ in range(100):
        parent = user_dir(base, name)
        path = os.path.join(parent, f"{os.getpid()}-{os.urandom(8).hex()}")
        try:
            os.mkdir(path, 0o700)
        except (FileExistsError, FileNotFoundError):  # a name taken, or the parent just removed
            continue
        return parent, path
    raise FileExistsError(f"no new directory could be made under {base}")


#: The largest pid Linux gives (``PID_MAX_LIMIT`` is far below): a number read from a name or a
#: record past it, or below 1 (which ``kill`` takes for a process group), is no process.
PID_MAX = 2**31 - 1


def process_runs(pid: int) -> bool:
    """Whether process ``pid`` runs (as any user) in this pid namespace; a number that is no pid
    (names and records of the compiledir and $TMPDIR may hold any) runs nothing."""
    if not 1 <= pid <= PID_MAX:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it runs, as another user
        return True
    return True


def _locked(path: str) -> int | None:
    """A descriptor of directory ``path`` holding its lock, or None: another process holds it,
    or ``path`` is gone or was replaced meanwhile."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held, there = os.fstat(fd), os.lstat(path)
        if (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def dead_process_dirs(parent: str) -> list[str]:
    """The paths of the ``<pid>-<random>`` directories in ``parent`` whose process no longer
    runs in this pid namespace (none where ``parent`` cannot be read)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    return [
        os.path.join(parent, name)
        for name in names
        if (pid := name.partition("-")[0]).isdigit()
        and int(pid) != os.getpid()
        and not process_runs(int(pid))
    ]


def _remove_dead(parent: str) -> None:
    """Remove the work directories in ``parent`` of processes that are gone and hold no lock."""
    for path in dead_process_dirs(parent):
        fd = _locked(path)
        if fd is None:
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)


class WorkDir:
    """A new private work directory of this process (``path``), locked until :meth:`close`
    removes it; making one removes those that killed processes left."""

    __slots__ = ("path", "_fd")

    def __init__(self) -> None:
        import tempfile  # where it made them before: $TMPDIR if usable, else the next usable

        base = tempfile.gettempdir()
        for _ in range(100):
            parent, path = new_private_dir(base, WORK)
            fd = _locked(path)  # None: taken for a dead process's and removed meanwhile
            if fd is not None:
                break
        else:
            raise FileExistsError(f"no new directory could be locked under {base}")
        self.path, self._fd = Path(path), fd
        if parent != base:
            _remove_dead(parent)

    def close(self) -> None:
        """Remove the directory and what it holds, and the user's directory holding it once no
        other is there. Once; later calls do nothing."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(fd)
        if self.path.parent.name == f"{WORK}-{os.getuid()}":
            try:
                os.rmdir(self.path.parent)
            except OSError:
                pass

    def __enter__(self) -> "WorkDir":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
