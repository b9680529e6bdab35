"""Install verified bytes: the one way an entry enters ``entries/``.

Every route that publishes an entry goes through :func:`install_staged` — a fresh build sealed in
its staging directory, a copy fetched from the remote tier, an entry imported from an archive —
so all of them give the same guarantees, in this order:

1. the files are in a private staging directory under ``tmp/``, on the compiledir's own
   filesystem (so the publishing rename is atomic);
2. every file and the staging directory itself are fsynced;
3. the staged entry is verified exactly as a lookup verifies one (``meta.json``'s own checksum,
   every file's size and sha256, the key, the HMAC when a signing key is set), and it may hold
   no file its ``meta.json`` does not list;
4. it is published with one rename, and the shard directory is fsynced (:func:`.entry.publish`).

A rename that loses the race to another writer of the same key (the rename fails however the
filesystem says so: ENOTEMPTY, EEXIST, or EPERM on sshfs; docs/cache.md) verifies the winner's
entry and hands that out; a damaged winner is moved aside and the place taken again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Mapping

from ..errors import CacheError
from ..fs.layout import Layout
from ..fs.perms import chmod_file
from ..fs.safedir import write_all
from .entry import META, Damaged, Entry, publish, quarantine, read_entry, remove_dir, stage, write_error
from .keys import CacheKey

__all__ = ["Installed", "install_staged", "install_bytes", "write_files"]

log = logging.getLogger("fncache.cache")

_O_SYNC_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
#: How often a publish is tried again after the entry in its place proved damaged and was moved aside.
_ATTEMPTS = 2


class Installed:
    """The outcome of an install: the verified entry now in ``entries/`` and whether it is the one
    installed here (``published``, with its ``size`` on disk) or another writer's that won the race."""

    __slots__ = ("entry", "published", "size")

    def __init__(self, entry: Entry, published: bool, size: int):
        self.entry = entry
        self.published = published
        self.size = size


def _sync_staged(staging: Path) -> int:
    """fsync every file of a staged entry, then the directory; their total size in bytes."""
    total = 0
    for item in os.scandir(staging):
        path = Path(item.path)
        try:
            fd = os.open(path, _O_SYNC_READ)
        except OSError as e:  # a link or a FIFO a build left: verification names it
            raise Damaged(f"file {item.name}: {e.strerror}") from None
        try:
            total += os.fstat(fd).st_size
            os.fsync(fd)
        except OSError as e:
            raise write_error(e, path) from None
        finally:
            os.close(fd)
    try:
        fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise write_error(e, staging) from None
    return total


def install_staged(
    layout: Layout, staging: Path, digest: str, key: CacheKey | None, *, built_here: bool = False
) -> Installed:
    """Make the entry staged (files and ``meta.json``) at ``staging`` durable, verify it and publish
    it as ``entries/<digest>``.

    With ``key`` the entry must be exactly that key's and runnable on this CPU (it is about to be
    loaded, as after a lookup); without it (an imported entry) the digest is recomputed from its
    stored components.  ``built_here`` (a build sealed by this process, which may target another
    CPU) skips the CPU check of the staged entry; an entry another writer published first is
    checked all the same.  Raises
    :class:`Damaged` when the staged entry does not verify (nothing is published),
    :class:`CacheError` (:class:`~.entry.Unwritable` for a full or read-only disk) when it cannot be
    written or published.  ``staging`` is left for the caller to remove (empty once published).
    """
    size = _sync_staged(staging)
    found = read_entry(staging, digest, key, touch=False, check_runnable=not built_here)
    if found is None:
        raise Damaged("the staged entry vanished")
    staged = found[0]
    unlisted = sorted(set(os.listdir(staging)) - {META} - set(staged.files))
    if unlisted:
        raise Damaged(f"it holds files its {META} does not list: {', '.join(unlisted)}")
    final = layout.entry_dir(digest)
    for _ in range(_ATTEMPTS):
        try:
            done = publish(staging, final, layout)
        except OSError as e:
            raise write_error(e, final) from None
        if done:
            return Installed(staged.moved_to(final), True, size)
        try:  # another writer published this key first: theirs is used if it verifies
            theirs = read_entry(final, digest, key, touch=True)
        except Damaged as e:
            quarantine(final, str(e), layout, expected_ino=e.ino)
            continue  # the place is free again
        if theirs is not None:
            return Installed(theirs[0], False, 0)
        # theirs was evicted or purged meanwhile: the place is free again
    raise CacheError(f"cannot publish entry {digest[:16]}: {final} keeps being replaced")


def install_bytes(layout: Layout, host: str, key: CacheKey, files: Mapping[str, bytes]) -> Installed:
    """Install an entry given as bytes (``meta.json`` among them), e.g. a copy from another tier:
    written into a fresh staging directory, then :func:`install_staged`.  The names must already
    be checked (:func:`.entry.valid_file_name`).  OSError when the files cannot be written."""
    staging = stage(layout, host)
    try:
        write_files(staging, files, layout.file_mode)
        return install_staged(layout, staging, key.digest, key)
    finally:
        remove_dir(staging, layout)


def write_files(staging: Path, files: Mapping[str, bytes], mode: int | None = None) -> None:
    """Write each file whole into a staging directory (new names only; ``mode`` when the
    compiledir sets one).  OSError when one cannot be written."""
    for name, data in files.items():
        fd = os.open(
            staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644
        )
        try:
            chmod_file(fd, mode)
            write_all(fd, data)
        finally:
            os.close(fd)
