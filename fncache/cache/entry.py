"""One cache entry on disk: stage, seal (checksums, HMAC), publish with one rename, verify, move aside.

An entry is a directory ``entries/<d[:2]>/<digest>/`` holding its files and ``meta.json``.  It is
built in a private staging directory under ``tmp/``, sealed (``meta.json`` written last, with the
sha256 and size of every file, everything fsynced) and published by a single ``rename`` of the
directory: readers see all of it or nothing, whatever moment a writer is killed at.  Published
entries are never modified (only their ``meta.json`` mtime moves, as the last-use time), so a
verified entry stays valid until it is renamed away.

Reading goes through a directory file descriptor: if the entry is renamed away (eviction) while
it is being read, every file still comes from the same directory, so a concurrent eviction is
never mistaken for damage.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, Mapping

from ..config import config
from ..errors import CacheError
from .keys import CacheKey
from .perms import Layout, chmod_file, make_dir

__all__ = ["Entry", "Damaged", "META", "read_entry", "stage", "seal", "publish", "quarantine",
           "remove_dir", "valid_file_name", "signing_key", "is_digest"]

log = logging.getLogger("fncache.cache")

META = "meta.json"
_DIGEST = re.compile(r"[0-9a-f]{64}")
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,200}")
#: Verified files up to this size are kept in memory, so read_bytes() returns exactly what was checked.
_KEEP_BYTES = 1 << 20
_CHUNK = 1 << 20
#: meta.json's mtime is the entry's last use; refreshing it more often than this buys nothing.
TOUCH_EVERY = 1.0
_RESERVED = frozenset({"schema", "key", "kind", "components", "files", "size", "created", "host",
                       "pid", "platform", "march", "hmac"})
_O_DIR = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_O_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)

_key_memo: tuple[str, int, bytes] | None = None


class Damaged(Exception):
    """An entry on disk does not match its own metadata (or its signature); it must not be loaded.

    ``ino`` is the inode of the directory that was read, so the entry is moved aside only if it
    is still the one found damaged.
    """

    ino: int | None = None


def valid_file_name(name: str) -> bool:
    """A plain file name inside an entry: no separators, no dot-files, not meta.json."""
    return isinstance(name, str) and bool(_FILE_NAME.fullmatch(name)) and name != META


def signing_key() -> bytes | None:
    """The HMAC key named by ``config.signing_key`` (re-read when the file changes), or None."""
    global _key_memo
    path = config.signing_key
    if not path:
        return None
    try:
        st = os.stat(path)
        if _key_memo is not None and _key_memo[:2] == (path, st.st_mtime_ns):
            return _key_memo[2]
        data = Path(path).read_bytes()
    except OSError as e:
        raise CacheError(f"cannot read signing_key file {path}: {e}") from None
    if not data.strip():
        raise CacheError(f"signing_key file {path} is empty")
    _key_memo = (path, st.st_mtime_ns, data)
    return data


def _mac(meta: Mapping[str, Any], key: bytes) -> str:
    body = json.dumps({k: v for k, v in meta.items() if k != "hmac"}, sort_keys=True,
                      separators=(",", ":")).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


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
            raise KeyError(f"entry {self.key.digest[:16]} has no file {name!r}; it has {sorted(self.meta['files'])}")
        return self.path / name

    def read_bytes(self, name: str) -> bytes:
        """The content of a file; small files come from the verified copy read at lookup."""
        blob = self._blobs.get(name)
        if blob is not None:
            return blob
        data = self.file(name).read_bytes()
        if hashlib.sha256(data).hexdigest() != self.meta["files"][name]["sha256"]:
            raise CacheError(f"{self.path / name} changed after it was verified")
        return data

    @property
    def files(self) -> list[str]:
        return sorted(self.meta["files"])

    def __repr__(self) -> str:
        return f"Entry({self.key.kind!r}, {self.key.digest[:16]}…, files={self.files})"


def _read_checked(dfd: int, name: str, want: Mapping[str, Any]) -> bytes | None:
    """Read and check one file through the entry's directory fd; return its bytes when small."""
    try:
        fd = os.open(name, _O_READ, dir_fd=dfd)
    except OSError as e:
        raise Damaged(f"file {name}: {e.strerror}") from None
    h = hashlib.sha256()
    size = 0
    keep = []
    try:
        while chunk := os.read(fd, _CHUNK):
            h.update(chunk)
            size += len(chunk)
            if size <= _KEEP_BYTES:
                keep.append(chunk)
    finally:
        os.close(fd)
    if size != want.get("size") or h.hexdigest() != want.get("sha256"):
        raise Damaged(f"file {name}: size {size} / checksum differ from meta.json")
    return b"".join(keep) if size <= _KEEP_BYTES else None


def read_entry(entry_dir: Path, digest: str, key: CacheKey | None, *, touch: bool) -> tuple[Entry, float] | None:
    """Load and fully verify the entry at ``entry_dir``; None if there is none, :class:`Damaged` if bad.

    With ``key`` the metadata must name exactly that key; without (verify, import) the digest is
    recomputed from the stored components.  Returns the entry and its last-use time.
    """
    try:
        dfd = os.open(entry_dir, _O_DIR)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return _read_open_entry(dfd, entry_dir, digest, key, touch)
    except Damaged as e:
        e.ino = os.fstat(dfd).st_ino
        raise
    finally:
        os.close(dfd)


def _read_open_entry(dfd: int, entry_dir: Path, digest: str, key: CacheKey | None,
                     touch: bool) -> tuple[Entry, float]:
    try:
        mfd = os.open(META, _O_READ, dir_fd=dfd)
    except OSError as e:
        raise Damaged(f"{META}: {e.strerror}") from None
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
    finally:
        os.close(mfd)
    try:
        meta = json.loads(raw)
    except ValueError:
        raise Damaged(f"{META} is not valid JSON") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        raise Damaged(f"{META} lacks the file list")
    if meta.get("key") != digest:
        raise Damaged(f"{META} names key {str(meta.get('key'))[:16]}, not {digest[:16]}")
    if key is not None:
        if meta.get("kind") != key.kind or meta.get("components") != dict(key.components):
            raise Damaged(f"{META} kind/components do not match the key")
        _check_runnable(meta)  # a lookup by this host's key: the code is about to be loaded
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
    from ..build.cpu import entry_missing_features
    missing = entry_missing_features(meta)
    if missing:
        raise Damaged(f"{META} says its code needs CPU features this CPU lacks: {', '.join(missing)}")


def stage(layout: Layout, host: str) -> Path:
    """A new private staging directory; its name carries host and pid so a janitor can tell it is stale."""
    name = f"{host}.{os.getpid()}.{secrets.token_hex(6)}"
    path = layout.tmp / name
    try:
        os.mkdir(path)
    except FileNotFoundError:
        make_dir(layout.tmp, layout.dir_mode)
        os.mkdir(path)
    if layout.dir_mode is not None:
        os.chmod(path, layout.dir_mode)
    return path


def _fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
        os.fsync(f.fileno())
    return h.hexdigest(), size


def seal(staging: Path, key: CacheKey, extra: Mapping[str, Any], layout: Layout, *, host: str,
         platform: str) -> tuple[dict, int]:
    """Checksum every staged file, write ``meta.json`` last (signed when a key is set), fsync all.

    Returns the metadata and the entry's bytes on disk (files plus ``meta.json``).
    """
    clash = sorted(_RESERVED & set(extra))
    if clash:
        raise ValueError(f"entry metadata may not set reserved fields {clash}")
    files = {}
    total = 0
    for item in sorted(os.scandir(staging), key=lambda e: e.name):
        if not item.is_file(follow_symlinks=False) or not valid_file_name(item.name):
            raise CacheError(f"a cache build may only write plain files with simple names into its "
                             f"staging directory; found {item.name!r} in {staging}")
        if layout.file_mode is not None:
            os.chmod(item.path, layout.file_mode)
        sha, size = _hash_file(Path(item.path))
        files[item.name] = {"sha256": sha, "size": size}
        total += size
    if not files:
        raise CacheError(f"the build for {key!r} wrote no files into {staging}")
    meta = {**extra, "schema": 1, "key": key.digest, "kind": key.kind,
            "components": dict(key.components), "files": files, "size": total,
            "created": time.time(), "host": host, "pid": os.getpid(), "platform": platform,
            "march": key.components.get("march", "")}
    sk = signing_key()
    if sk is not None:
        meta["hmac"] = _mac(meta, sk)
    body = json.dumps(meta, indent=1, sort_keys=True, default=str).encode()
    fd = os.open(staging / META, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        chmod_file(fd, layout.file_mode)
        os.write(fd, body)
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_path(staging)
    return meta, total + len(body)


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
        raise CacheError(f"cannot publish cache entry {final.name[:16]}: rename {staging} -> {final} "
                         f"failed: {e.strerror or e}") from None
    try:
        _fsync_path(final.parent)
    except OSError as e:  # durability only; the entry is published either way
        log.debug("fsync of %s failed: %s", final.parent, e)
    return True


def remove_dir(path: Path, layout: Layout) -> bool:
    """Rename ``path`` into ``trash/`` (atomic for readers), then delete it. False if it was gone."""
    dest = layout.trash / f"{path.name}.{secrets.token_hex(4)}"
    try:
        os.rename(path, dest)
    except FileNotFoundError:
        if not path.exists():
            return False
        make_dir(layout.trash, layout.dir_mode)
        os.rename(path, dest)
    shutil.rmtree(dest, ignore_errors=True)
    return True


def quarantine(entry_dir: Path, reason: str, layout: Layout, *, expected_ino: int | None = None) -> Path | None:
    """Move a damaged entry aside (``quarantine/<digest>.<time>.<rand>``) and say why in the log.

    ``expected_ino`` guards against moving a fresh, good entry that replaced the damaged one
    while we looked at it.
    """
    try:
        if expected_ino is not None and os.stat(entry_dir).st_ino != expected_ino:
            return None
        dest = layout.quarantine / f"{entry_dir.name}.{int(time.time())}.{secrets.token_hex(3)}"
        try:
            os.rename(entry_dir, dest)
        except FileNotFoundError:
            if not entry_dir.exists():
                return None
            make_dir(layout.quarantine, layout.dir_mode)
            os.rename(entry_dir, dest)
    except OSError as e:
        log.warning("fncache: damaged cache entry %s (%s) could not be moved aside: %s", entry_dir, reason, e)
        return None
    try:
        (dest / "QUARANTINED").write_text(f"{time.ctime()}: {reason}\n")
    except OSError:
        pass
    log.warning("fncache: damaged cache entry %s (%s); moved to %s, it will be rebuilt", entry_dir.name[:16],
                reason, dest)
    return dest


def is_digest(name: str) -> bool:
    return bool(_DIGEST.fullmatch(name))
