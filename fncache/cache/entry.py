"""One cache entry on disk: stage, seal (checksums, HMAC), publish with one rename, verify, move aside.

An entry is a directory ``entries/<d[:2]>/<digest>/`` holding its files and ``meta.json``.  It is
built in a private staging directory under ``tmp/``, sealed (``meta.json`` written last, with the
sha256 and size of every file, everything fsynced) and published by a single ``rename`` of the
directory: readers see all of it or nothing, whatever moment a writer is killed at.  Published
entries are never modified (only their ``meta.json`` mtime moves, as the last-use time), so a
verified entry stays valid until it is renamed away.

Reading goes through a directory file descriptor: if the entry is renamed away (eviction) while
it is being read, every file still comes from the same directory, so a concurrent eviction is
never mistaken for damage.  Nothing is followed: a symbolic link, FIFO or directory where an
entry or one of its files belongs is damage (opened non-blocking, so it cannot hang a reader).
``meta.json`` carries the sha256 of its own body (``meta_sha256``), so every field of it is
covered, not only the files it lists.  Moving an entry aside goes through directory file
descriptors (:mod:`.safedir`), so a planted link never redirects a rename or a deletion.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import logging
import os
import re
import stat
import time
from pathlib import Path
from typing import Any, Mapping

from ..errors import CacheError
from .keys import CacheKey
from ..fs.layout import Layout
from ..fs.perms import chmod_file, make_dir
from ..fs.safedir import DIR_FLAGS, lstat_at, open_dir, parse_json, read_file, remove, write_all
from ..fs.signing import signing_key

__all__ = [
    "Entry",
    "Damaged",
    "Unwritable",
    "UNWRITABLE",
    "write_error",
    "write_all",
    "unpublished_entry",
    "META",
    "read_entry",
    "stage",
    "seal",
    "publish",
    "quarantine",
    "remove_dir",
    "valid_file_name",
    "signing_key",
    "is_digest",
]

log = logging.getLogger("fncache.cache")

META = "meta.json"
_DIGEST = re.compile(r"[0-9a-f]{64}")
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,200}")
#: Verified files up to this size are kept in memory, so read_bytes() returns exactly what was checked.
_KEEP_BYTES = 1 << 20
_CHUNK = 1 << 20
#: meta.json's mtime is the entry's last use; refreshing it more often than this buys nothing.
TOUCH_EVERY = 1.0
_RESERVED = frozenset(
    {
        "schema",
        "key",
        "kind",
        "components",
        "files",
        "size",
        "created",
        "host",
        "pid",
        "platform",
        "march",
        "hmac",
        "meta_sha256",
    }
)
_O_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
#: What a full, read-only or foreign-owned filesystem answers to a write.
UNWRITABLE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG})


class Unwritable(CacheError):
    """The compiledir cannot take a new entry (disk full, read-only, no permission); the message
    names the path.  Nothing was published."""


def write_error(e: OSError, path: Path | str) -> CacheError:
    """The :class:`CacheError` for a failed write to ``path`` (:class:`Unwritable` when the disk is
    full or read-only), naming the path."""
    cls = Unwritable if e.errno in UNWRITABLE else CacheError
    return cls(f"cannot write the cache at {path}: {e.strerror or e}")


class Damaged(Exception):
    """An entry on disk does not match its own metadata (or its signature); it must not be loaded.

    ``ino`` is the inode of the directory that was read, so the entry is moved aside only if it
    is still the one found damaged.
    """

    ino: int | None = None


def valid_file_name(name: str) -> bool:
    """A plain file name inside an entry: no separators, no dot-files, not meta.json."""
    return isinstance(name, str) and bool(_FILE_NAME.fullmatch(name)) and name != META


def _mac(meta: Mapping[str, Any], key: bytes) -> str:
    body = json.dumps(
        {k: v for k, v in meta.items() if k != "hmac"}, sort_keys=True, separators=(",", ":")
    ).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _meta_sha256(meta: Mapping[str, Any]) -> str:
    """sha256 of every field but itself and the signature, canonically encoded."""
    body = json.dumps(
        {k: v for k, v in meta.items() if k not in ("hmac", "meta_sha256")},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    return hashlib.sha256(body).hexdigest()


class Entry:
    """A published entry whose files were verified against their checksums (and HMAC) on lookup."""

    __slots__ = ("key", "path", "meta", "_blobs")

    def __init__(self, key: CacheKey, path: Path, meta: dict, blobs: dict[str, bytes] | None = None):
        self.key = key
        self.path = path
        self.meta = meta
        self._blobs = blobs or {}

    def file(self, name: str) -> Path:
        """Path of one of the entry's files (e.g. the library to ``dlopen``)."""
        if name not in self.meta["files"]:
            raise KeyError(
                f"entry {self.key.digest[:16]} has no file {name!r}; it has {sorted(self.meta['files'])}"
            )
        return self.path / name

    def read_bytes(self, name: str) -> bytes:
        """The content of a file, exactly as verified: small files come from the copy read at
        lookup, large ones are read again and checked against the checksum."""
        blob = self._blobs.get(name)
        if blob is not None:
            return blob
        path = self.file(name)
        try:
            data = read_file(path)[0]
        except OSError as e:
            raise CacheError(f"cannot read {path}: {e.strerror or e}") from None
        if hashlib.sha256(data).hexdigest() != self.meta["files"][name]["sha256"]:
            raise CacheError(f"{path} changed after it was verified")
        return data

    @property
    def files(self) -> list[str]:
        return sorted(self.meta["files"])

    def moved_to(self, path: Path) -> Entry:
        """The same verified entry after its directory was renamed to ``path`` (published)."""
        return Entry(self.key, path, self.meta, self._blobs)

    def __repr__(self) -> str:
        return f"Entry({self.key.kind!r}, {self.key.digest[:16]}…, files={self.files})"


def _open_regular(dfd: int, name: str) -> int:
    """Open an entry's file without following a link or blocking; anything but a regular file is damage."""
    try:
        fd = os.open(name, _O_READ, dir_fd=dfd)
    except OSError as e:
        raise Damaged(f"file {name}: {e.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as e:
        os.close(fd)
        raise Damaged(f"file {name}: {e.strerror}") from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise Damaged(f"file {name} is not a regular file (mode {stat.filemode(mode)})")
    return fd


def unpublished_entry(key: CacheKey, where: Path, files: dict[str, bytes], extra: Mapping[str, Any]) -> Entry:
    """An entry held only in memory (the compiledir could not take it): its files are the bytes given."""
    meta = {
        **extra,
        "key": key.digest,
        "kind": key.kind,
        "components": dict(key.components),
        "files": {n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in files.items()},
    }
    return Entry(key, where, meta, files)


def _read_checked(dfd: int, name: str, want: Mapping[str, Any]) -> bytes | None:
    """Read and check one file through the entry's directory fd; return its bytes when small."""
    fd = _open_regular(dfd, name)
    h = hashlib.sha256()
    size = 0
    keep = []
    try:
        while chunk := os.read(fd, _CHUNK):
            h.update(chunk)
            size += len(chunk)
            if size <= _KEEP_BYTES:
                keep.append(chunk)
    except OSError as e:
        raise Damaged(f"file {name}: {e.strerror}") from None
    finally:
        os.close(fd)
    if size != want.get("size") or h.hexdigest() != want.get("sha256"):
        raise Damaged(f"file {name}: size {size} / checksum differ from meta.json")
    return b"".join(keep) if size <= _KEEP_BYTES else None


def read_entry(
    entry_dir: Path, digest: str, key: CacheKey | None, *, touch: bool, check_runnable: bool = True
) -> tuple[Entry, float] | None:
    """Load and fully verify the entry at ``entry_dir``; None if there is none, :class:`Damaged` if bad.

    With ``key`` the metadata must name exactly that key and (unless ``check_runnable`` is false)
    its code must run on this CPU; without (verify, import) the digest is recomputed from the
    stored components.  Returns the entry and its last-use time.
    """
    try:
        dfd = os.open(entry_dir, DIR_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise Damaged(f"entry directory: {e.strerror}") from None
        st = _lstat(entry_dir)
        if st is None:
            return None
        damaged = Damaged("a symbolic link or file where an entry directory belongs")
        damaged.ino = st.st_ino
        raise damaged from None
    try:
        return _read_open_entry(dfd, entry_dir, digest, key, touch, check_runnable)
    except Damaged as e:
        e.ino = os.fstat(dfd).st_ino
        raise
    finally:
        os.close(dfd)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _read_open_entry(
    dfd: int, entry_dir: Path, digest: str, key: CacheKey | None, touch: bool, check_runnable: bool
) -> tuple[Entry, float]:
    mfd = _open_regular(dfd, META)
    try:
        st = os.fstat(mfd)
        raw = b"".join(iter(lambda: os.read(mfd, _CHUNK), b""))
        last_used = st.st_mtime
        if touch and time.time() - st.st_mtime > TOUCH_EVERY:
            try:
                os.utime(mfd)
                last_used = time.time()
            except OSError:  # someone else's entry in a shared dir: LRU gets coarser, nothing breaks
                pass
    except OSError as e:
        raise Damaged(f"{META}: {e.strerror}") from None
    finally:
        os.close(mfd)
    try:
        meta = parse_json(raw)
    except ValueError:
        raise Damaged(f"{META} is not valid JSON") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        raise Damaged(f"{META} lacks the file list")
    if meta.get("meta_sha256") != _meta_sha256(meta):
        raise Damaged(
            f"{META}'s own checksum (meta_sha256) does not match its fields"
            if "meta_sha256" in meta
            else f"{META} has no checksum of its own (an older fncache wrote it)"
        )
    if meta.get("key") != digest:
        raise Damaged(f"{META} names key {str(meta.get('key'))[:16]}, not {digest[:16]}")
    if key is not None:
        if meta.get("kind") != key.kind or meta.get("components") != dict(key.components):
            raise Damaged(f"{META} kind/components do not match the key")
        if check_runnable:  # a lookup by this host's key: the code is about to be loaded
            _check_runnable(meta)
    else:
        try:
            key = CacheKey(meta["kind"], meta["components"])
        except (KeyError, TypeError, ValueError) as e:
            raise Damaged(f"{META} has no usable key: {e}") from None
        if key.digest != digest:
            raise Damaged(f"{META}'s components hash to {key.digest[:16]}, not {digest[:16]}")
    sk = signing_key()
    if sk is not None:
        mac = meta.get("hmac")
        if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(meta, sk)):
            raise Damaged("missing or wrong HMAC signature (signing_key is set)")
    blobs = {}
    for name, want in meta["files"].items():
        if not valid_file_name(name) or not isinstance(want, dict):
            raise Damaged(f"{META} lists a bad file name {name!r}")
        blob = _read_checked(dfd, name, want)
        if blob is not None:
            blobs[name] = blob
    return Entry(key, entry_dir, meta, blobs), last_used


def _check_runnable(meta: dict) -> None:
    """A library that needs CPU features this CPU lacks would end the process with SIGILL: an
    entry found under this host's key that records such features is damaged (its key names
    this host's march), never loaded."""
    from ..toolchain.cpu import entry_missing_features

    missing = entry_missing_features(meta)
    if missing:
        raise Damaged(f"{META} says its code needs CPU features this CPU lacks: {', '.join(missing)}")


def stage(layout: Layout, host: str) -> Path:
    """A new private staging directory; its name carries host and pid so a janitor can tell it is stale.

    :class:`Unwritable` when the compiledir is full or read-only."""
    # os.urandom, not secrets.token_hex: importing secrets (and random) would cost every fresh
    # process about 2 ms on its first cache hit (tests/test_warm_hit.py)
    name = f"{host}.{os.getpid()}.{os.urandom(6).hex()}"
    path = layout.tmp / name
    try:
        try:
            os.mkdir(path)
        except FileNotFoundError:
            make_dir(layout.tmp, layout.dir_mode)
            os.mkdir(path)
        if layout.dir_mode is not None:
            os.chmod(path, layout.dir_mode)
    except OSError as e:
        raise write_error(e, path) from None
    return path


def _fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_file(path: Path) -> tuple[str, int]:
    """sha256 and size of a staged file."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def seal(
    staging: Path, key: CacheKey, extra: Mapping[str, Any], layout: Layout, *, host: str, platform: str
) -> dict:
    """Checksum every staged file and write ``meta.json`` last (signed when a key is set).

    Returns the metadata.  Making the entry durable, verifying and publishing it is
    :func:`.install.install_staged`'s job.  Every byte is written, or
    :class:`Unwritable`/:class:`CacheError` names the path that failed.
    """
    clash = sorted(_RESERVED & set(extra))
    if clash:
        raise ValueError(f"entry metadata may not set reserved fields {clash}")
    files = {}
    total = 0
    where: Path = staging
    try:
        for item in sorted(os.scandir(staging), key=lambda e: e.name):
            if not item.is_file(follow_symlinks=False) or not valid_file_name(item.name):
                raise CacheError(
                    f"a cache build may only write plain files with simple names into its "
                    f"staging directory; found {item.name!r} in {staging}"
                )
            where = Path(item.path)
            if layout.file_mode is not None:
                os.chmod(item.path, layout.file_mode)
            sha, size = _hash_file(where)
            files[item.name] = {"sha256": sha, "size": size}
            total += size
        if not files:
            raise CacheError(f"the build for {key!r} wrote no files into {staging}")
        meta = {
            **extra,
            "schema": 1,
            "key": key.digest,
            "kind": key.kind,
            "components": dict(key.components),
            "files": files,
            "size": total,
            "created": time.time(),
            "host": host,
            "pid": os.getpid(),
            "platform": platform,
            "march": key.components.get("march", ""),
        }
        # Sums are taken over the metadata as it will read back (values JSON cannot hold become strings).
        meta = json.loads(json.dumps(meta, default=str))
        meta["meta_sha256"] = _meta_sha256(meta)
        sk = signing_key()
        if sk is not None:
            meta["hmac"] = _mac(meta, sk)
        body = json.dumps(meta, indent=1, sort_keys=True).encode()
        where = staging / META
        fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            chmod_file(fd, layout.file_mode)
            write_all(fd, body)
        finally:
            os.close(fd)
    except OSError as e:
        raise write_error(e, where) from None
    return meta


def publish(staging: Path, final: Path, layout: Layout) -> bool:
    """Rename the sealed staging dir into place; False when an entry of that key is there already
    (another writer published it first: the caller verifies theirs)."""
    try:
        try:
            os.rename(staging, final)
        except FileNotFoundError:
            if not staging.is_dir():
                raise CacheError(f"staging directory {staging} vanished before it was published") from None
            make_dir(final.parent, layout.dir_mode)
            os.rename(staging, final)
    except OSError as e:
        # Not by errno: renaming onto a non-empty directory fails with ENOTEMPTY or EEXIST on local
        # filesystems but with EPERM on sshfs (SFTP has one generic failure code).
        if os.path.lexists(final):
            return False
        raise CacheError(
            f"cannot publish cache entry {final.name[:16]}: rename {staging} -> {final} "
            f"failed: {e.strerror or e}"
        ) from None
    try:
        _fsync_path(final.parent)
    except OSError as e:  # durability only; the entry is published either way
        log.debug("fsync of %s failed: %s", final.parent, e)
    return True


def _aside(layout: Layout, name: str) -> int:
    """A descriptor of ``trash/`` or ``quarantine/`` (created when missing), never through a link."""
    try:
        return open_dir(layout.root, (name,))
    except FileNotFoundError:
        make_dir(layout.root / name, layout.dir_mode)
        return open_dir(layout.root, (name,))


def _move_aside(path: Path, layout: Layout, where: str, dest: str, expected_ino: int | None) -> int | None:
    """Rename ``path`` (inside the compiledir) to ``<where>/<dest>`` through directory descriptors.

    Returns the descriptor of ``<where>`` (the caller closes it), or None when ``path`` is gone
    or is no longer the inode ``expected_ino``.  Raises :class:`Foreign` when a directory on the
    way is a link, OSError when the rename fails.
    """
    parent = open_dir(layout.root, path.parent.relative_to(layout.root).parts)
    try:
        st = lstat_at(parent, path.name)
        if st is None or (expected_ino is not None and st.st_ino != expected_ino):
            return None
        afd = _aside(layout, where)
        try:
            os.rename(path.name, dest, src_dir_fd=parent, dst_dir_fd=afd)
        except BaseException as e:
            os.close(afd)
            if isinstance(e, FileNotFoundError):
                return None
            raise
        return afd
    finally:
        os.close(parent)


def remove_dir(path: Path, layout: Layout) -> bool:
    """Rename ``path`` into ``trash/`` (atomic for readers), then delete it. False if it was gone.

    Never raises: a failure (a planted link on the way, a read-only disk) is logged and False
    returned, so cleaning up never hides the error that made it necessary.
    """
    dest = f"{path.name}.{os.urandom(4).hex()}"
    try:
        tfd = _move_aside(path, layout, "trash", dest, None)
    except (OSError, CacheError) as e:
        log.warning("fncache: could not remove %s: %s", path, e)
        return False
    if tfd is None:
        return False
    try:
        remove(tfd, dest)
    except OSError as e:  # it is in trash/ already: the janitor finishes it
        log.debug("fncache: deleting %s/%s: %s", layout.trash, dest, e)
    finally:
        os.close(tfd)
    return True


def quarantine(
    entry_dir: Path, reason: str, layout: Layout, *, expected_ino: int | None = None
) -> Path | None:
    """Move a damaged entry aside (``quarantine/<digest>.<time>.<rand>``) and say why in the log.

    ``expected_ino`` guards against moving a fresh, good entry that replaced the damaged one
    while we looked at it.
    """
    name = f"{entry_dir.name}.{int(time.time())}.{os.urandom(3).hex()}"
    try:
        qfd = _move_aside(entry_dir, layout, "quarantine", name, expected_ino)
    except (OSError, CacheError) as e:
        log.warning("fncache: damaged cache entry %s (%s) could not be moved aside: %s", entry_dir, reason, e)
        return None
    if qfd is None:
        return None
    dest = layout.quarantine / name
    try:
        dfd = os.open(name, DIR_FLAGS, dir_fd=qfd)  # not if what was moved is a link or a file
        try:
            fd = os.open(
                "QUARANTINED",
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o644,
                dir_fd=dfd,
            )
            try:
                write_all(fd, f"{time.ctime()}: {reason}\n".encode())
            finally:
                os.close(fd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    finally:
        os.close(qfd)
    log.warning(
        "fncache: damaged cache entry %s (%s); moved to %s, it will be rebuilt",
        entry_dir.name[:16],
        reason,
        dest,
    )
    return dest


def is_digest(name: str) -> bool:
    return bool(_DIGEST.fullmatch(name))
