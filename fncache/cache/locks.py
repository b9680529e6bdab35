"""Per-key build locks: one process compiles a key, the others wait and load it.

Never one lock for the whole cache (the PyTensor failure mode: every process queues behind
whoever compiles anything).  Two protocols, both from :mod:`filelock` rather than our own:

* ``flock`` (:class:`filelock.FileLock`): kernel locks, released when the holder dies, so there
  are no stale locks on local disks.  Useless across hosts on NFS mounted without lockd.
* ``lease`` (:class:`filelock.SoftFileLease`): an O_EXCL marker whose holder refreshes it every
  ``LEASE_SECONDS / 3``; a contender breaks it once it sees no refresh for ``LEASE_SECONDS`` on
  its own monotonic clock (clock skew between hosts cannot expire a live lease), or at once when
  the holder is a dead pid on the same host.  Correct across hosts on NFS.
* ``auto``: ``lease`` on network/cluster filesystems (from ``/proc/mounts``), else ``flock``.

A lease can, in principle, let two builders overlap (a holder frozen past expiry); that is safe
here because publication is a single rename that fails if the entry already exists.

A small ``<digest>.holder`` sidecar names the holder (host, pid, since) so :class:`LockTimeout`
and ``fncache unlock`` can say who it is.  Lock files live in ``locks/<d[:2]>/``; a builder
removes its flock file after publishing (waiters then find the entry), so they do not pile up.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ..config import config
from ..errors import LockTimeout
from .perms import Layout, make_dir
from .safedir import read_file

__all__ = ["KeyLock", "lock_mode_for", "filesystem_type", "unlock_all", "pid_alive", "LEASE_SECONDS"]

log = logging.getLogger("fncache.cache")

#: Every contender must agree on it (filelock enforces that), so it is a constant, not a flag.
LEASE_SECONDS = 30.0
_POLL = 0.05
_NETWORK_FS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "ceph", "cephfs", "glusterfs",
    "fuse.glusterfs", "fuse.beegfs", "fuse.sshfs", "fuse.cephfs", "9p", "afs", "ocfs2", "gfs2",
    "pvfs2", "orangefs", "panfs", "wekafs", "fuse.juicefs", "virtiofs"})
_fs_memo: dict[str, str] = {}
_fs_lock = threading.Lock()


def filesystem_type(path: str | os.PathLike[str]) -> str:
    """The type of the filesystem holding ``path`` (longest mount-point prefix in /proc/mounts)."""
    real = os.path.realpath(path)
    with _fs_lock:
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


def lock_mode_for(root: Path) -> str:
    """``config.lock_mode`` resolved: ``auto`` picks ``lease`` on network filesystems, else ``flock``."""
    mode = config.lock_mode
    if mode != "auto":
        return mode
    return "lease" if filesystem_type(root) in _NETWORK_FS else "flock"


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live (non-zombie) process on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def _host() -> str:
    return os.uname().nodename or "localhost"


def _read_holder(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(read_file(path, limit=1 << 16)[0])  # a FIFO or link here is no record
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _lock_paths(layout: Layout, digest: str, mode: str) -> tuple[Path, Path]:
    d = layout.locks / digest[:2]
    return d / f"{digest}.{mode}", d / f"{digest}.holder"


class KeyLock:
    """Exclusive right to build one key, across processes (and hosts, in lease mode)."""

    def __init__(self, layout: Layout, digest: str, label: str, *, timeout: float | None = None):
        self.layout = layout
        self.digest = digest
        self.label = label
        self.mode = lock_mode_for(layout.root)
        self.timeout = float(config.lock_timeout if timeout is None else timeout)
        self.path, self.holder_path = _lock_paths(layout, digest, self.mode)
        self._lock: Any = None

    def _make(self) -> Any:
        import filelock
        kw: dict[str, Any] = {"timeout": self.timeout, "poll_interval": _POLL}
        if self.layout.file_mode is not None:
            kw["mode"] = self.layout.file_mode
        if self.mode == "lease":
            return filelock.SoftFileLease(str(self.path), lease_duration=LEASE_SECONDS, **kw)
        return filelock.FileLock(str(self.path), **kw)

    def __enter__(self) -> KeyLock:
        import filelock
        make_dir(self.path.parent, self.layout.dir_mode)
        self._lock = self._make()
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise LockTimeout(self._timeout_message()) from None
        record = {"host": _host(), "pid": os.getpid(), "since": time.time(), "mode": self.mode,
                  "what": self.label}
        tmp = self.holder_path.with_name(f".{self.holder_path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            tmp.write_text(json.dumps(record))
            os.replace(tmp, self.holder_path)
        except OSError as e:  # the sidecar is for messages only
            log.debug("cannot write lock holder file %s: %s", self.holder_path, e)
        return self

    def _timeout_message(self) -> str:
        holder = _read_holder(self.holder_path)
        if holder is None and self.mode == "lease":
            owner = self._lock.owner
            if owner is not None:
                holder = {"host": owner.hostname, "pid": owner.pid}
        if holder is None:
            who = "an unknown holder (it wrote no holder record)"
        else:
            since = holder.get("since")
            age = f", holding it for {time.time() - since:.0f}s" if isinstance(since, (int, float)) else ""
            who = f"pid {holder.get('pid')} on host {holder.get('host')}{age}"
        return (f"waited {self.timeout:g}s (config.lock_timeout) for the {self.mode} lock of cache key "
                f"{self.digest[:16]} ({self.label}), held by {who}. If that process is gone or stuck, run "
                f"`fncache unlock` (stale locks only) or `fncache unlock --force` "
                f"(fc.cache.unlock(force=True)); lock file: {self.path}")

    def discard(self) -> None:
        """Remove the flock file while holding it: the key is published, so a waiter that then
        locks a fresh file re-checks, finds the entry and builds nothing."""
        if self.mode == "flock":
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        holder = _read_holder(self.holder_path)
        if holder is not None and holder.get("pid") == os.getpid() and holder.get("host") == _host():
            try:
                os.unlink(self.holder_path)
            except OSError:
                pass
        self._lock.release()


def _holder_of(lock_path: Path, mode: str) -> tuple[dict[str, Any] | None, str]:
    """Who holds ``lock_path`` and whether it is ``free``, ``stale`` or ``live``."""
    import filelock
    holder = _read_holder(lock_path.with_suffix(".holder"))
    if mode == "flock":
        probe = filelock.FileLock(str(lock_path), timeout=0)
        try:
            probe.acquire()
        except filelock.Timeout:
            return holder, "live"
        except OSError:
            return holder, "free"
        try:
            os.unlink(lock_path)  # removed while we hold it, so nobody else can be using this inode
        except OSError:
            pass
        probe.release()
        return holder, ("stale" if holder else "free")
    owner = filelock.SoftFileLease(str(lock_path), lease_duration=LEASE_SECONDS).owner
    if owner is not None:
        holder = {**(holder or {}), "host": owner.hostname, "pid": owner.pid}
    if holder is None:
        try:  # unreadable marker: stale once nobody refreshed it for a lease period
            return None, "stale" if time.time() - lock_path.stat().st_mtime > LEASE_SECONDS else "live"
        except FileNotFoundError:
            return None, "free"
    if holder.get("host") == _host():
        return holder, "live" if pid_alive(int(holder.get("pid", 0))) else "stale"
    try:
        age = time.time() - lock_path.stat().st_mtime
    except FileNotFoundError:
        return holder, "free"
    return holder, "stale" if age > LEASE_SECONDS else "live"


def unlock_all(layout: Layout, force: bool = False) -> list[dict[str, Any]]:
    """Remove stale locks (dead or silent holders); live ones too with ``force``. Reports each lock seen."""
    report = []
    if layout.locks.is_symlink() or not layout.locks.is_dir():
        return report
    for shard in sorted(layout.locks.iterdir()):
        if shard.is_symlink() or not shard.is_dir():  # never delete through a planted link
            continue
        for path in sorted(shard.iterdir()):
            digest, _, suffix = path.name.partition(".")
            if suffix not in ("flock", "lease"):
                continue
            holder, state = _holder_of(path, suffix)
            action = "none"
            if state == "stale" or (state == "live" and force):
                for p in (path, path.with_suffix(".holder")):
                    try:
                        os.unlink(p)
                    except FileNotFoundError:
                        pass
                action = "removed" if state == "stale" else "broken"
                log.warning("fncache unlock: %s %s lock of %s held by %s", action, suffix, digest[:16],
                            f"pid {holder.get('pid')} on {holder.get('host')}" if holder else "unknown")
            elif state == "free":
                (path.with_suffix(".holder")).unlink(missing_ok=True)
            if state != "free" or holder:
                report.append({"key": digest, "mode": suffix, "state": state, "action": action,
                               "host": (holder or {}).get("host"), "pid": (holder or {}).get("pid"),
                               "what": (holder or {}).get("what")})
        for path in shard.glob("*.holder"):  # a holder record whose lock file is gone
            stem = path.name[: -len(".holder")]
            if not any((shard / f"{stem}.{m}").exists() for m in ("flock", "lease")):
                path.unlink(missing_ok=True)
    return report
