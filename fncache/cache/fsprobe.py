"""What the filesystem under a compiledir does, found by doing it, once per process and compiledir.

The lock and publish code cannot go by a filesystem's name alone: a FUSE client (sshfs, s3fs,
gcsfuse, ...) has a name that says nothing about the network behind it, and two filesystems of
one name behave differently with different mount options.  So the first lock taken in a
compiledir (or ``fncache info``) tries the operations the cache relies on, in a private
directory under ``tmp/`` named like a staging directory (the janitor removes it if the process
dies meanwhile):

* **flock works**: an exclusive ``flock`` succeeds and excludes a second open file on this host;
* **exchange rename**: ``renameat2(RENAME_EXCHANGE)`` swaps two names.  filelock takes over a
  stale lease with it; FUSE and the Linux NFS client answer ``EINVAL``, and filelock then leaves
  the stale lease in place, so :mod:`.locks` breaks it in another way there;
* **"exists" errno**: what ``rename(dir, non-empty dir)`` fails with.  Local filesystems say
  ``ENOTEMPTY``/``EEXIST``; sshfs says ``EPERM`` (SFTP has one generic failure code), and its
  exclusive creates and ``mkdir`` can fail the same way under races.

Whether ``flock`` on one client excludes processes on *other* clients cannot be observed from
one client.  It is judged from the filesystem type: a filesystem of this kernel (ext4, xfs,
btrfs, tmpfs, overlay, ...) has no other client; any other type (network, cluster, FUSE, or one
not known here) is taken to have clients whose flocks this host cannot see.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import shutil
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..fs.layout import Layout
from ..fs.perms import make_dir

__all__ = ["FsBehaviour", "fs_behaviour", "filesystem_type", "LOCAL_FS"]

log = logging.getLogger("fncache.cache")

#: Filesystems whose only client is this kernel: flock excludes every process that can open a file there.
LOCAL_FS = frozenset(
    {
        "ext2",
        "ext3",
        "ext4",
        "xfs",
        "btrfs",
        "tmpfs",
        "ramfs",
        "overlay",
        "zfs",
        "f2fs",
        "bcachefs",
        "jfs",
        "reiserfs",
        "nilfs2",
        "hfsplus",
        "apfs",
        "vfat",
        "exfat",
        "ntfs3",
        "hugetlbfs",
    }
)
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class FsBehaviour:
    """The answers of one probe (see the module docstring)."""

    fstype: str
    #: flock here also excludes processes on other clients (judged from ``fstype``)
    flock_across_clients: bool
    #: flock succeeded and excluded a second open file on this host
    flock_works: bool
    #: renameat2(RENAME_EXCHANGE) swapped two names (filelock's stale-lease takeover can work)
    exchange_rename: bool
    #: errno name of rename(dir, non-empty dir), e.g. ENOTEMPTY (local) or EPERM (sshfs)
    exists_errno: str

    @property
    def lock_mode(self) -> str:
        """What ``lock_mode=auto`` uses: ``flock`` only where it provably excludes every process."""
        return "flock" if self.flock_works and self.flock_across_clients else "lease"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lock_mode": self.lock_mode}


_fs_memo: dict[str, str] = {}
_memo: dict[tuple[str, int], FsBehaviour] = {}
_memo_lock = threading.Lock()


def filesystem_type(path: str | os.PathLike[str]) -> str:
    """The type of the filesystem holding ``path`` (longest mount-point prefix in /proc/mounts)."""
    real = os.path.realpath(path)
    with _memo_lock:
        found = _fs_memo.get(real)
        if found is not None:
            return found
        best, fstype = "", "unknown"
        try:
            with open("/proc/mounts") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) < 3:
                        continue
                    mnt = parts[1].encode().decode("unicode_escape")  # /proc/mounts escapes spaces as \040
                    inside = real == mnt or real.startswith(mnt.rstrip("/") + "/")
                    if inside and len(mnt) >= len(best):
                        best, fstype = mnt, parts[2]
        except OSError:
            pass
        _fs_memo[real] = fstype
        return fstype


def fs_behaviour(layout: Layout, host: str) -> FsBehaviour:
    """The probed behaviour of the filesystem holding ``layout.root`` (memoized per process)."""
    memo_key = (str(layout.root), os.stat(layout.root).st_dev)
    found = _memo.get(memo_key)
    if found is not None:
        return found
    found = _probe(layout, host)
    log.debug("fncache: filesystem of %s: %s", layout.root, found)
    with _memo_lock:
        return _memo.setdefault(memo_key, found)


def _probe(layout: Layout, host: str) -> FsBehaviour:
    fstype = filesystem_type(layout.root)
    work = layout.tmp / f"{host}.{os.getpid()}.{os.urandom(6).hex()}"
    try:
        make_dir(layout.tmp, layout.dir_mode)
        os.mkdir(work)
    except OSError as e:  # a read-only compiledir: lookups work, nothing is built, lease is the safe answer
        return FsBehaviour(
            fstype=fstype,
            flock_across_clients=fstype in LOCAL_FS,
            flock_works=False,
            exchange_rename=False,
            exists_errno=f"not probed ({e.strerror or e})",
        )
    try:
        return FsBehaviour(
            fstype=fstype,
            flock_across_clients=fstype in LOCAL_FS,
            flock_works=_flock_works(work),
            exchange_rename=_exchange_works(work),
            exists_errno=_exists_errno(work),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _flock_works(work: Path) -> bool:
    path = work / "flock"
    first = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    second = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(first, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            fcntl.flock(second, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False
    except OSError:
        return False
    finally:
        os.close(second)
        os.close(first)


def _exchange_works(work: Path) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # C library older than glibc 2.28
        return False
    a, b = work / "a", work / "b"
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        return False
    return a.read_bytes() == b"b" and b.read_bytes() == b"a"


def _exists_errno(work: Path) -> str:
    src, dst = work / "src", work / "dst"
    os.mkdir(src)
    os.mkdir(dst)
    (dst / "x").write_bytes(b"")
    try:
        os.rename(src, dst)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "none (a non-empty directory was replaced)"
