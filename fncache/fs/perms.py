"""Who may write the compiledir: its creation, the modes of what is made in it, and the check
that no other account can write it.

Anyone who can write a compiledir runs native code in every process that reads it, so a new
compiledir is created private (0o700) and an existing one that another account could write is
refused unless the user opted in with ``config.allow_shared_compiledir``.  When sharing is
enabled on a group-writable root, new directories are made ``g+rwxs`` and files ``g+rw`` so the
group keeps working in it whatever each member's umask is.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

from ..config import config
from ..errors import CacheError
from .layout import SUBDIRS, Layout
from .safedir import Foreign, describe

__all__ = ["layout_for", "make_dir", "chmod_file", "check_dirs"]

_layouts: dict[tuple[str, bool], Layout] = {}
_layouts_lock = threading.Lock()


def make_dir(path: Path, mode: int | None) -> None:
    """Create ``path`` and missing parents (0o700, or the shared mode): even a compiledir deleted
    under a running process comes back private."""
    try:
        created = _mkdir_new(path)
    except FileNotFoundError:
        make_dir(path.parent, mode)
        created = _mkdir_new(path)
    if created and mode is not None:
        os.chmod(path, mode)


def _mkdir_new(path: Path) -> bool:
    """``mkdir``; False when the name exists already (sshfs answers a lost race with EPERM, not EEXIST)."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return False
    except PermissionError:
        if path.is_dir():
            return False
        raise
    return True


def chmod_file(fd: int, mode: int | None) -> None:
    """Give a file the shared mode (no-op for a private compiledir; a file of another member stays as is)."""
    if mode is not None:
        try:
            os.fchmod(fd, mode)
        except PermissionError:
            pass


def _problems(path: Path, st: os.stat_result) -> list[str]:
    out = []
    if st.st_uid != os.geteuid():
        out.append(f"{path} is owned by uid {st.st_uid}, not by you (uid {os.geteuid()})")
    if st.st_mode & stat.S_IWOTH:
        out.append(f"{path} is writable by every user (mode {stat.filemode(st.st_mode)})")
    elif st.st_mode & stat.S_IWGRP:
        out.append(f"{path} is writable by group id {st.st_gid} (mode {stat.filemode(st.st_mode)})")
    return out


def _refusal(problems: list[str]) -> str:
    return (
        "refusing to use a compiledir that another account can write: "
        + "; ".join(problems)
        + ". Whoever can write it can run code in your processes. Use a private directory "
        "(fc.config.compiledir = ... or FNCACHE_FLAGS=compiledir=...), or, to share it on "
        "purpose with a group: `chgrp GROUP DIR && chmod 2770 DIR` and set "
        "fc.config.allow_shared_compiledir = True (ideally with signing_key, a key file "
        "only the group can read). See docs/cache.md."
    )


def _subdir_problems(path: Path, mode: int | None) -> list[str]:
    """Create one of the compiledir's directories, or check the one there: it must be a real
    directory (a link would redirect every write and deletion, so it is refused even in a shared
    compiledir) that no other account can write."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        try:
            make_dir(path, mode)
        except OSError:  # a read-only or full compiledir: its writes fail later, with the path
            pass
        return []
    if not stat.S_ISDIR(st.st_mode):
        raise Foreign(f"refusing to use compiledir {path.parent}: {describe(path)}")
    return _problems(path, st)


def check_dirs(paths: list[Path]) -> None:
    """Refuse fan-out directories (``entries/<d[:2]>``, ``locks/<d[:2]>``) that another account can
    write, as :func:`layout_for` refuses the root; one ``lstat`` each, done once per process and
    shard by the caller.  Missing ones are fine: the cache creates them with the right mode."""
    problems = []
    for path in paths:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode):  # a link is reported by the walks, never followed
            problems += _problems(path, st)
    if problems and not config.allow_shared_compiledir:
        raise CacheError(_refusal(problems))


def layout_for(root: str | os.PathLike[str]) -> Layout:
    """Create (0o700) or check the compiledir at ``root`` and return its layout.

    Checked once per process and path: the root and each of its directories (one ``stat``
    each); the fan-out directories are checked on first use (:func:`check_dirs`).  Raises :class:`CacheError` when any could be written by
    someone else and ``config.allow_shared_compiledir`` is off, and :class:`~.safedir.Foreign`
    when one of the cache's directories is a symbolic link or no directory.
    """
    root = Path(os.path.abspath(os.fspath(root)))
    allow = bool(config.allow_shared_compiledir)
    memo_key = (str(root), allow)
    found = _layouts.get(memo_key)
    if found is not None:
        return found
    with _layouts_lock:
        try:
            if root.parent != root:
                os.makedirs(root.parent, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(root, 0o700)
        except OSError as e:  # a parent that is a file, read-only or missing on a mount
            why = "is not a directory" if isinstance(e, FileExistsError) else f"({e.strerror or e})"
            raise CacheError(
                f"cannot create compiledir {root}: {e.filename or root} {why}; set config.compiledir "
                "(FNCACHE_FLAGS=compiledir=...) to a directory this user can create or write"
            ) from None
        try:
            st = os.stat(root)
        except OSError as e:
            raise CacheError(f"cannot use compiledir {root}: {e}; set config.compiledir") from None
        if not stat.S_ISDIR(st.st_mode):
            raise CacheError(f"compiledir {root} exists and is not a directory")
        problems = _problems(root, st)
        if problems and not allow:
            raise CacheError(_refusal(problems))
        shared = bool(st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))
        dir_mode = (0o2770 if not st.st_mode & stat.S_IWOTH else 0o2777) if shared else None
        file_mode = (0o660 if not st.st_mode & stat.S_IWOTH else 0o666) if shared else None
        layout = Layout(root, dir_mode, file_mode)
        for name in SUBDIRS:
            problems += _subdir_problems(root / name, dir_mode)
        if problems and not allow:
            raise CacheError(_refusal(problems))
        _layouts[memo_key] = layout
        return layout
