"""Ship entries between compiledirs as one tar archive, verified again on the receiving side.

The archive holds ``fncache-bundle.json`` (format, origin, the list of entries) and
``entries/<digest>/<file>`` members.  Import never trusts the archive: members are streamed (no
``extractall``, so no path traversal or links), each entry is staged and installed as every
entry is (:func:`.install.install_staged`: fsynced, checked against its own ``meta.json`` exactly
as a lookup would — checksums, the digest recomputed from its components, the HMAC when a
signing key is set — and only then published with the usual atomic rename).
"""

from __future__ import annotations

import contextlib
import json
import logging
import lzma
import os
import shutil
import time
import zlib
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import CacheError
from .entry import META, Damaged, is_digest, read_entry, remove_dir, stage, valid_file_name, write_error
from .install import install_staged
from ..fs.layout import Layout
from ..fs.safedir import open_regular, parse_json, read_file

__all__ = ["export_entries", "import_entries", "open_archive"]

log = logging.getLogger("fncache.cache")

#: What reading an archive raises when it is truncated or damaged (compressed streams fail with
#: their own errors).
_READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)

MANIFEST = "fncache-bundle.json"
FORMAT = 1


#: An archive's compression by the end of its name.
ARCHIVE_SUFFIXES = {".tar": "", ".tar.gz": "gz", ".tgz": "gz", ".tar.xz": "xz", ".tar.bz2": "bz2"}


def _named_compression(name: str) -> str | None:
    return next((c for s, c in ARCHIVE_SUFFIXES.items() if name.endswith(s) and name != s), None)


def archive_compression(path: Path) -> str:
    """The compression an archive's name asks for ("" for none); a name that says none of them
    (``out.zip``, ``-``) is refused rather than given a plain tar archive it does not describe."""
    comp = _named_compression(path.name)
    if comp is None:
        raise ValueError(
            f"an archive's name ends in {', '.join(ARCHIVE_SUFFIXES)} (which chooses its "
            f"compression); got {str(path)!r}"
        )
    return comp


def _tar_mode(path: Path, write: bool) -> str:
    if write:
        return "w:" + archive_compression(path)
    return "r:" + (_named_compression(path.name) or "*")  # a plain or unnamed one: by its content


def _add(tar: Any, name: str, data: bytes) -> None:
    import io
    import tarfile

    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


def export_entries(layout: Layout, path: Path, digests: Iterable[str], host: str) -> dict[str, Any]:
    """Write the verified entries among ``digests`` into one archive (atomically); damaged ones are skipped."""
    import tarfile

    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    exported, skipped, size = [], [], 0
    try:
        with tarfile.open(tmp, _tar_mode(path, write=True)) as tar:
            for digest in digests:
                try:
                    found = read_entry(layout.entry_dir(digest), digest, None, touch=False)
                except Damaged as e:
                    skipped.append({"key": digest, "reason": str(e)})
                    continue
                if found is None:
                    skipped.append({"key": digest, "reason": "no such entry"})
                    continue
                entry = found[0]
                try:  # the bytes that were verified, not whatever the path holds a moment later
                    datas = {name: entry.read_bytes(name) for name in entry.files}
                    datas[META] = read_file(entry.path / META)[0]
                except (OSError, CacheError) as e:
                    skipped.append({"key": digest, "reason": str(e)})
                    continue
                for name, data in datas.items():
                    _add(tar, f"entries/{digest}/{name}", data)
                    size += len(data)
                exported.append(digest)
            manifest = json.dumps(
                {"format": FORMAT, "host": host, "created": time.time(), "entries": exported}, indent=1
            ).encode()
            _add(tar, MANIFEST, manifest)
        os.replace(tmp, path)
    except OSError as e:
        raise CacheError(f"cannot write cache archive {path}: {e.strerror or e}") from None
    finally:
        with contextlib.suppress(OSError):  # not there (ENOTDIR too): the error above says why
            tmp.unlink()
    return {"path": str(path), "exported": exported, "skipped": skipped, "size": size}


@contextlib.contextmanager
def open_archive(path: Path) -> Iterator[Any]:
    """The archive at ``path`` as a readable ``tarfile.TarFile``, its first member already read.

    Every way a path can fail to be an archive is a :class:`CacheError` naming it here, before an
    import touches the compiledir: missing, unreadable, no regular file (a directory; a FIFO,
    opened without waiting for a writer) or not a tar archive of the compression its name says.
    """
    import tarfile

    try:
        fd = open_regular(path)
    except FileNotFoundError:
        raise CacheError(f"no such archive: {path}") from None
    except OSError as e:
        raise CacheError(f"cannot read cache archive {path}: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as fh:
        mode = _tar_mode(Path(path), write=False)
        try:
            tar = tarfile.open(fileobj=fh, mode=mode)
        except (*_READ_ERRORS, tarfile.TarError) as e:
            # "r:*" tried every compression and lists each failure: one line says it better
            why = "no tar archive, plain or compressed" if mode == "r:*" else f"{type(e).__name__}: {e}"
            raise CacheError(f"cannot read cache archive {path}: {why}") from None
        with tar:
            yield tar


def import_entries(layout: Layout, tar: Any, path: Path, host: str) -> dict[str, Any]:
    """Import every entry of ``tar`` (:func:`open_archive` of ``path``, an archive made by
    :func:`export_entries`) that verifies; report the rest."""
    import tarfile

    staged: dict[str, Path] = {}
    bad: list[dict[str, str]] = []
    work = stage(layout, host)
    try:
        try:
            manifest = _stage_members(tar, path, layout, work, staged, bad)
        except (*_READ_ERRORS, tarfile.TarError) as e:
            raise CacheError(f"cannot read cache archive {path}: {type(e).__name__}: {e}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise CacheError(f"{path} is not an fncache cache archive (format {FORMAT})")
        imported, skipped, nbytes = [], [], 0
        for digest, d in staged.items():
            try:
                done = install_staged(layout, d, digest, None)
            except Damaged as e:
                bad.append({"key": digest, "reason": str(e)})
                continue
            if done.published:
                imported.append(digest)
                nbytes += done.size
            else:
                skipped.append(digest)
        return {
            "path": str(path),
            "imported": imported,
            "skipped": skipped,
            "bad": bad,
            "origin": manifest.get("host"),
            "bytes": nbytes,
        }
    finally:
        remove_dir(work, layout)


def _stage_members(
    tar: Any, path: Path, layout: Layout, work: Path, staged: dict[str, Path], bad: list[dict[str, str]]
) -> Any:
    """Stream the archive's entry members into ``work/<digest>/`` (``staged[digest]``) and return
    its manifest; odd members are reported in ``bad``.  Reading errors propagate."""
    manifest = None
    for member in tar:
        if member.name == MANIFEST and member.isfile() and member.size < 1 << 24:
            try:
                manifest = parse_json(tar.extractfile(member).read())  # type: ignore[union-attr]
            except ValueError:
                raise CacheError(f"{path}: unreadable {MANIFEST}") from None
            continue
        parts = member.name.split("/")
        if (
            len(parts) != 3
            or parts[0] != "entries"
            or not is_digest(parts[1])
            or not (valid_file_name(parts[2]) or parts[2] == META)
            or not member.isfile()
        ):
            bad.append({"key": member.name, "reason": "unexpected archive member (skipped)"})
            continue
        d = staged.get(parts[1])
        if d is None:
            d = staged[parts[1]] = work / parts[1]
            d.mkdir()
            if layout.dir_mode is not None:
                os.chmod(d, layout.dir_mode)
        src = tar.extractfile(member)
        try:
            with open(d / parts[2], "wb") as out:
                shutil.copyfileobj(src, out)  # type: ignore[misc]
                if layout.file_mode is not None:
                    os.fchmod(out.fileno(), layout.file_mode)
        except OSError as e:
            raise write_error(e, d / parts[2]) from None
    return manifest
