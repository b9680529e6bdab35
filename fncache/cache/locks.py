"""Per-key build locks: one process compiles a key, the others wait and load it.

Never one lock for the whole cache (the PyTensor failure mode: every process queues behind
whoever compiles anything).  Two protocols, both from :mod:`filelock` rather than our own:

* ``flock`` (:class:`filelock.FileLock`): kernel locks, released when the holder dies, so there
  are no stale locks on local disks.  Useless across hosts on NFS mounted without lockd.
* ``lease`` (:class:`filelock.SoftFileLease`): an O_EXCL marker whose holder refreshes it every
  ``config.lease_seconds / 3``; a contender breaks it once it sees no refresh for
  ``config.lease_seconds`` on its own monotonic clock (clock skew between hosts cannot expire a
  live lease), or at once when the holder is a dead pid on the same host.  Correct across hosts
  on NFS.  Where filelock's own takeover cannot run (no exchange rename: FUSE, NFS), the waiters
  break stale leases themselves (:class:`_StaleLeaseBreaker`).
* ``auto``: what the filesystem does decides (:mod:`.fsprobe`): ``flock`` where it excludes every
  process that can reach the compiledir, else ``lease``.

A lease can, in principle, let two builders overlap (a holder frozen past expiry); that is safe
here because publication is a single rename that fails if the entry already exists.

A small ``<digest>.holder`` sidecar names the holder (host, pid, since) so :class:`LockTimeout`
and ``fncache unlock`` can say who it is.  Lock files live in ``locks/<d[:2]>/``; a builder
removes its flock file after publishing (waiters then find the entry), so they do not pile up.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ..config import config
from ..errors import CacheError, LockTimeout
from .fsprobe import filesystem_type, fs_behaviour
from ..fs.layout import Layout
from ..fs.perms import layout_for, make_dir
from ..fs.safedir import parse_json, read_file
from ..fs.workdirs import process_runs

__all__ = ["KeyLock", "lock_mode_for", "filesystem_type", "unlock_all", "pid_alive"]

log = logging.getLogger("fncache.cache")

_POLL = 0.05
#: How long an exclusive create may keep failing with EPERM while no marker is there (a lost
#: race on sshfs looks like that for an instant) before it counts as a real permission problem.
_REFUSED_GRACE = 2.0


def lock_mode_for(where: Layout | str | os.PathLike[str]) -> str:
    """``config.lock_mode`` resolved: ``auto`` picks by what the compiledir's filesystem does
    (:mod:`.fsprobe`): ``flock`` where flock excludes every process that can reach it, else ``lease``."""
    mode = config.lock_mode
    if mode != "auto":
        return mode
    layout = where if isinstance(where, Layout) else layout_for(where)
    return fs_behaviour(layout, _host()).lock_mode


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live (non-zombie) process on this host."""
    if not process_runs(pid):
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
    """The holder record, or None when it is missing or malformed: any process that can write
    the lock directory can write it, so each field is checked (a str host, a positive int pid,
    a numeric since) before anything relies on it."""
    try:
        data = parse_json(read_file(path, limit=1 << 16)[0])  # a FIFO or link here is no record
    except (OSError, ValueError):
        return None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("host"), str)
        and type(data.get("pid")) is int
        and data["pid"] > 0
        and (data.get("since") is None or _finite(data["since"]))
    ):
        log.debug("ignoring the malformed lock holder record %s", path)
        return None
    return data


def _finite(value: Any) -> bool:
    """Whether ``value`` is a number arithmetic on times can take: JSON reads ``1e999`` as
    infinity and a 400-digit number as an int no float holds."""
    return type(value) in (int, float) and abs(value) < 1e300  # False for NaN too


def _lock_paths(layout: Layout, digest: str, mode: str) -> tuple[Path, Path]:
    d = layout.locks / digest[:2]
    return d / f"{digest}.{mode}", d / f"{digest}.holder"


class KeyLock:
    """Exclusive right to build one key, across processes (and hosts, in lease mode)."""

    def __init__(self, layout: Layout, digest: str, label: str, *, timeout: float | None = None):
        self.layout = layout
        self.digest = digest
        self.label = label
        self.mode = lock_mode_for(layout)
        self.timeout = float(config.lock_timeout if timeout is None else timeout)
        self.lease_seconds = float(config.lease_seconds)
        self.path, self.holder_path = _lock_paths(layout, digest, self.mode)
        self._lock: Any = None

    def _make(self) -> Any:
        import filelock

        kw: dict[str, Any] = {"timeout": self.timeout, "poll_interval": _POLL}
        if self.layout.file_mode is not None:
            kw["mode"] = self.layout.file_mode
        if self.mode == "lease":
            return filelock.SoftFileLease(str(self.path), lease_duration=self.lease_seconds, **kw)
        return filelock.FileLock(str(self.path), **kw)

    def __enter__(self) -> KeyLock:
        make_dir(self.path.parent, self.layout.dir_mode)
        self._lock = self._make()
        self._acquire()
        record = {
            "host": _host(),
            "pid": os.getpid(),
            "since": time.time(),
            "mode": self.mode,
            "what": self.label,
        }
        tmp = self.holder_path.with_name(f".{self.holder_path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            tmp.write_text(json.dumps(record))
            os.replace(tmp, self.holder_path)
        except OSError as e:  # the sidecar is for messages only
            log.debug("cannot write lock holder file %s: %s", self.holder_path, e)
        return self

    def _acquire(self) -> None:
        """filelock's attempts, one per poll, with what some filesystems need in between."""
        import filelock

        breaker = None
        if self.mode == "lease" and not fs_behaviour(self.layout, _host()).exchange_rename:
            breaker = _StaleLeaseBreaker(self._lock, self.path, self.lease_seconds, self.layout.file_mode)
        deadline = time.monotonic() + self.timeout
        refused_since: float | None = None
        while True:
            try:
                self._lock.acquire(blocking=False)
                return
            except filelock.Timeout:
                refused_since = None
            except FileNotFoundError:
                # The lock file was unlinked in the middle of the attempt (a builder discards its
                # flock file after publishing): filelock checks for that with fstat's st_nlink,
                # but on sshfs fstat of an unlinked file fails with ENOENT.  Try a fresh file.
                refused_since = None
            except filelock.LeaseSettingsMismatch as e:
                raise CacheError(
                    f"{e}. Set the same config.lease_seconds in every process that shares the "
                    f"compiledir {self.layout.root}"
                ) from None
            except PermissionError as e:
                # sshfs answers an exclusive create that lost a race with EPERM, not EEXIST: a
                # marker in place means the lock is held; none there for long is a real refusal.
                if e.errno != errno.EPERM:
                    raise
                if os.path.lexists(self.path):
                    refused_since = None
                elif refused_since is None:
                    refused_since = time.monotonic()
                elif time.monotonic() - refused_since > _REFUSED_GRACE:
                    raise CacheError(
                        f"cannot create the lock file {self.path}: {e.strerror}; check that "
                        f"this user may write {self.path.parent}"
                    ) from None
            if breaker is not None:
                breaker.poll()
            if time.monotonic() >= deadline:
                raise LockTimeout(self._timeout_message())
            time.sleep(_POLL)

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
        return (
            f"waited {self.timeout:g}s (config.lock_timeout) for the {self.mode} lock of cache key "
            f"{self.digest[:16]} ({self.label}), held by {who}. If that process is gone or stuck, run "
            f"`fncache unlock` (stale locks only) or `fncache unlock --force` "
            f"(fc.cache.unlock(force=True)); lock file: {self.path}"
        )

    def discard(self) -> None:
        """Remove the flock file while holding it: the key is published, so a waiter that then
        locks a fresh file re-checks, finds the entry and builds nothing."""
        if self.mode == "flock":
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        holder = _read_holder(self.holder_path)
        if holder is not None and holder.get("pid") == os.getpid() and holder.get("host") == _host():
            try:
                os.unlink(self.holder_path)
            except OSError:
                pass
        self._lock.release()


def _read_marker(path: Path) -> tuple[bytes, int] | None:
    """A marker's content and mtime (what changes when its holder refreshes or is replaced)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:  # sshfs: fstat of a file unlinked since it was opened fails with ENOENT
        st = os.fstat(fd)
        return os.read(fd, 4096), st.st_mtime_ns
    except FileNotFoundError:
        return None
    finally:
        os.close(fd)


#: The inode of the initial pid namespace (PROC_PID_INIT_INO in linux/proc_ns.h).
_INITIAL_PID_NS = 0xEFFFFFFC


def _lease_host() -> str:
    """This host as filelock names it in lease markers: the host name, plus the pid namespace when
    it is not the initial one (a pid of another namespace cannot be checked from here).  Should a
    filelock release spell it otherwise, no marker matches and a dead holder's lease on this host
    is broken at expiry, like another host's: later, never wrongly."""
    import socket  # here: only a build takes a lease, and a warm hit should not pay this import

    name = socket.gethostname()
    try:
        ns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return name
    return name if ns == _INITIAL_PID_NS else f"{name}?pidns-{ns:x}"


def _start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (as filelock records it), if readable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


class _StaleLeaseBreaker:
    """Breaks stale leases where filelock cannot: on filesystems without an exchange rename.

    filelock (4.3) takes a stale marker over with ``renameat2(RENAME_EXCHANGE)``, so that a
    marker stays at the lock path throughout.  FUSE (sshfs) and the Linux NFS client refuse that
    call with ``EINVAL``, and filelock then leaves the stale marker where it is: every waiter
    would time out.  There, between two attempts, a waiter breaks the stale marker itself:

    1. a marker is stale when its holder is a dead process of this host, or when neither its
       content nor its mtime changed for ``lease_seconds`` on this process's monotonic clock
       (the holder refreshes it every third of that; clocks of other hosts play no part);
    2. the waiter takes a guard, ``<lock>.breaking``, by exclusive create, so one waiter breaks
       at a time (a guard whose writer died or went silent is itself broken the same way);
    3. under the guard it checks the marker is still the one it judged stale, renames it aside
       under a unique name and checks the renamed file is that marker; if a successor's marker
       was caught instead, it is put back with ``link()``, which never overwrites a newer one;
    4. the stale marker is deleted; the next attempt creates a new one through filelock.
    """

    def __init__(self, lock: Any, path: Path, lease_seconds: float, file_mode: int | None):
        self.lock = lock
        self.path = path
        self.guard = path.with_name(path.name + ".breaking")
        self.lease_seconds = lease_seconds
        self.file_mode = 0o600 if file_mode is None else file_mode
        self._seen: dict[Path, tuple[tuple[bytes, int], float]] = {}

    def _unchanged_for(self, path: Path, state: tuple[bytes, int]) -> float:
        now = time.monotonic()
        seen = self._seen.get(path)
        if seen is None or seen[0] != state:
            self._seen[path] = (state, now)
            return 0.0
        return now - seen[1]

    def _stale(self, state: tuple[bytes, int]) -> str | None:
        """Why the marker in ``state`` is stale (for the log), or None while it may be live."""
        owner = self.lock.owner
        if owner is not None and _read_marker(self.path) == state:  # the owner read is of this marker
            if owner.hostname == _lease_host():
                if not pid_alive(owner.pid):
                    return f"its holder, pid {owner.pid} on this host, is gone"
                started = _start_time(owner.pid)  # the pid may have been reused by another process
                if owner.start is not None and started is not None and started != owner.start % 2**64:
                    return f"its holder, pid {owner.pid} on this host, is gone (the pid was reused)"
            lease_seconds = max(self.lease_seconds, owner.lease_duration or 0.0)
        else:
            lease_seconds = self.lease_seconds
        unchanged = self._unchanged_for(self.path, state)
        if unchanged >= lease_seconds:
            who = f"pid {owner.pid} on host {owner.hostname}" if owner is not None else "an unknown holder"
            return f"{who} did not refresh it for {unchanged:.0f}s"
        return None

    def poll(self) -> None:
        state = _read_marker(self.path)
        if state is None:
            return
        why = self._stale(state)
        if why is None or not self._take_guard():
            return
        try:
            if _read_marker(self.path) != state:  # refreshed or replaced while we took the guard
                return
            aside = self.path.with_name(
                f"{self.path.name}.stale.{_host()}.{os.getpid()}.{os.urandom(4).hex()}"
            )
            try:
                os.rename(self.path, aside)
            except FileNotFoundError:
                return
            if _read_marker(aside) == state:
                os.unlink(aside)
                log.warning("fncache: broke the stale lease %s: %s", self.path, why)
                return
            try:  # a newer holder's marker: put it back, unless yet another one is there already
                os.link(aside, self.path)
            except OSError as e:
                log.warning(
                    "fncache: could not put back the lease %s moved aside by mistake (%s); its "
                    "holder and the next one may build the same key at once (harmless)",
                    self.path,
                    e,
                )
            os.unlink(aside)
        finally:
            try:
                os.unlink(self.guard)
            except FileNotFoundError:
                pass

    def _take_guard(self) -> bool:
        try:
            fd = os.open(self.guard, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, self.file_mode)
        except (FileExistsError, PermissionError):  # EPERM: sshfs's answer to a lost create race
            self._break_stale_guard()
            return False
        try:
            os.write(fd, f"{_host()}\n{os.getpid()}\n".encode())
        finally:
            os.close(fd)
        return True

    def _break_stale_guard(self) -> None:
        state = _read_marker(self.guard)
        if state is None:
            return
        host, _, pid = state[0].decode(errors="replace").partition("\n")
        pid = pid.strip()
        dead = host == _host() and pid.isdigit() and not pid_alive(int(pid))
        if dead or self._unchanged_for(self.guard, state) >= self.lease_seconds:
            try:
                os.unlink(self.guard)
            except FileNotFoundError:
                pass


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
    owner = filelock.SoftFileLease(str(lock_path), lease_duration=config.lease_seconds).owner
    lease_seconds = config.lease_seconds
    if owner is not None:
        holder = {**(holder or {}), "host": owner.hostname, "pid": owner.pid}
        lease_seconds = max(lease_seconds, owner.lease_duration or 0.0)
    if holder is None:
        try:  # unreadable marker: stale once nobody refreshed it for a lease period
            return None, "stale" if time.time() - lock_path.stat().st_mtime > lease_seconds else "live"
        except FileNotFoundError:
            return None, "free"
    if holder.get("host") == _host():
        return holder, "live" if pid_alive(int(holder.get("pid", 0))) else "stale"
    try:
        age = time.time() - lock_path.stat().st_mtime
    except FileNotFoundError:
        return holder, "free"
    return holder, "stale" if age > lease_seconds else "live"


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
                log.warning(
                    "fncache unlock: %s %s lock of %s held by %s",
                    action,
                    suffix,
                    digest[:16],
                    f"pid {holder.get('pid')} on {holder.get('host')}" if holder else "unknown",
                )
            elif state == "free":
                (path.with_suffix(".holder")).unlink(missing_ok=True)
            if state != "free" or holder:
                report.append(
                    {
                        "key": digest,
                        "mode": suffix,
                        "state": state,
                        "action": action,
                        "host": (holder or {}).get("host"),
                        "pid": (holder or {}).get("pid"),
                        "what": (holder or {}).get("what"),
                    }
                )
        for path in shard.glob("*.holder"):  # a holder record whose lock file is gone
            stem = path.name[: -len(".holder")]
            if not any((shard / f"{stem}.{m}").exists() for m in ("flock", "lease")):
                path.unlink(missing_ok=True)
    return report
