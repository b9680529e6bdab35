"""Directories of the compiledir, listed, read and changed without following symbolic links.

Whoever can write the compiledir can plant a symbolic link where the cache expects one of its
own directories (``entries``, ``entries/<shard>``, ``trash``, ``tmp``, ``quarantine``, ...) or
one of its entries.  Code that walked or deleted by path would follow it and delete, with the
rights of whoever runs maintenance, whatever the link points to.  So everything that lists,
moves or deletes inside the compiledir goes through directory file descriptors opened
``O_NOFOLLOW | O_DIRECTORY`` one component at a time from the root, acts only on names of the
shape the cache itself gives, and reports anything else (:class:`Foreign`) without touching it.
Unlinking a symbolic link removes the link, never what it points to.

Files are opened the same way, non-blocking and checked to be regular files (:func:`read_file`):
a FIFO or a directory in place of a file is damage, not a reason to hang.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import CacheError

__all__ = [
    "Foreign",
    "DIR_FLAGS",
    "open_dir",
    "opened",
    "names",
    "remove",
    "read_file",
    "open_regular",
    "describe",
    "write_all",
    "replace_file",
    "parse_json",
]

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1 << 20


class Foreign(CacheError):
    """A path inside the compiledir is not what the cache made there (a symbolic link, a file
    where a directory belongs, a name the cache never gives); the cache leaves it alone."""


def _shown(name: str) -> str:
    """``name`` as it is when printable, else quoted with its control characters escaped
    (``repr``): a name there is anybody's with write access to the compiledir, and a message
    quoting it raw would let them drive the reader's terminal (retitle it, clear it, forge lines)."""
    return name if name.isprintable() else repr(name)


def describe(path: Path) -> str:
    """Why ``path`` is foreign, and what to do about it; the name and a link's target (anybody's
    with write access to the compiledir) with their control characters escaped."""
    try:
        st = os.lstat(path)
    except OSError as e:
        what = f"cannot be inspected ({e.strerror})"
    else:
        if stat.S_ISLNK(st.st_mode):
            try:
                what = f"is a symbolic link to {_shown(os.readlink(path))}"
            except OSError:
                what = "is a symbolic link"
        elif stat.S_ISDIR(st.st_mode):
            what = "is a directory with a name the cache never gives"
        else:
            what = f"is not a directory the cache made (mode {stat.filemode(st.st_mode)})"
    shown = _shown(str(path))
    return (
        f"{shown} {what}; fncache never follows, deletes or writes through it. Check who put it "
        f"there, then remove it by hand (`rm {shown}`: removes the link itself, not its target)"
    )


def open_dir(root: Path, parts: Sequence[str]) -> int:
    """A file descriptor of ``root/parts...``, each part opened without following a link.

    ``root`` itself (the configured compiledir) may be reached through links.  Raises
    FileNotFoundError when a part is missing and :class:`Foreign` when one is a link or no
    directory.
    """
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, part in enumerate(parts):
            try:
                sub = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise Foreign(describe(root.joinpath(*parts[: i + 1]))) from None
                raise
            os.close(fd)
            fd = sub
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def opened(root: Path, *parts: str) -> Iterator[int]:
    """:func:`open_dir` as a context manager."""
    fd = open_dir(root, parts)
    try:
        yield fd
    finally:
        os.close(fd)


def open_sub(dfd: int, name: str, path: Path) -> int | None:
    """The subdirectory ``name`` of ``dfd`` (``path`` names it in errors); None if it is gone."""
    try:
        return os.open(name, DIR_FLAGS, dir_fd=dfd)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Foreign(describe(path)) from None
        raise


def names(dfd: int) -> list[str]:
    """The names in the directory ``dfd``, sorted."""
    return sorted(os.listdir(dfd))


def lstat_at(dfd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def remove(dfd: int, name: str) -> None:
    """Delete ``name`` in ``dfd``: a directory with all it holds (links inside are unlinked, never
    followed), anything else unlinked."""
    st = lstat_at(dfd, name)
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=dfd, ignore_errors=True)
    else:
        try:
            os.unlink(name, dir_fd=dfd)
        except FileNotFoundError:
            pass


def read_file(name: str, dfd: int | None = None, *, limit: int | None = None) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file ``name`` (relative to ``dfd``) and its stat.

    Opened without following a link and without blocking; a FIFO, device, directory or link in
    its place raises OSError (``EINVAL`` for a file of the wrong type) instead of hanging.
    ``limit`` caps what is read (OSError ``EFBIG`` past it).
    """
    fd = os.open(name, _FILE_FLAGS, dir_fd=dfd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file (mode {stat.filemode(st.st_mode)})", name)
        chunks = []
        size = 0
        while chunk := os.read(fd, _CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                raise OSError(errno.EFBIG, f"larger than {limit} bytes", name)
        return b"".join(chunks), st
    finally:
        os.close(fd)


def open_regular(path: str | os.PathLike[str]) -> int:
    """A blocking read-only descriptor of the regular file at ``path``, a path a user gave (links
    followed). Opened without blocking first: a FIFO would wait for a writer for ever; it, a
    directory, a device or a socket raises OSError ``EINVAL`` saying which it is."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO"}.get(
            stat.S_IFMT(mode), "a device or socket"
        )
        raise OSError(errno.EINVAL, f"not a regular file (it is {kind})", os.fspath(path))
    os.set_blocking(fd, True)
    return fd


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` or raise: a short write (a nearly full disk) is retried, and
    one that writes nothing is ENOSPC."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[n:]


def replace_file(path: Path, data: bytes, mode: int | None) -> None:
    """Give ``path`` the content ``data`` atomically: a new file of a random name is written next to
    it (created exclusively, so never through a planted link), then renamed over it.  OSError
    when that fails; the temporary file is removed."""
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def parse_json(raw: bytes | str) -> object:
    """``json.loads`` of a file anybody with write access to the compiledir may have written:
    JSON nested deeper than the parser recurses (``[[[[...`` a few thousand deep), and numbers
    no reader can take (``NaN``, ``Infinity``, ``1e999``, an int past 64 bits, which no float
    holds), are a ValueError like any other malformed JSON, never a RecursionError or an
    OverflowError from whatever reads the number later."""
    try:
        return json.loads(raw, parse_int=_int, parse_float=_float, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def _int(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"JSON number out of range: {text[:20]}")
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"JSON number out of range: {text[:20]}")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"JSON holds {text}, which is no number")
