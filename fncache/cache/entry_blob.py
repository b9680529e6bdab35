"""An entry as one blob: ``meta.json`` and every file, for stores that keep one value per entry.

Format: a magic line, one JSON line ``[[name, size], ...]`` (``meta.json`` first), then the
contents back to back.  One value per entry means a reader gets all files or none.  Reading a
blob trusts nothing: :func:`unpack_entry` checks its shape, and the files it returns are
installed only after they verify (:mod:`.install`).
"""

from __future__ import annotations

import json
from typing import Any

from ..fs.safedir import parse_json
from .entry import META, Damaged, Entry, valid_file_name

__all__ = ["MAGIC", "pack_entry", "unpack_entry", "entry_summary"]

#: The first line of every blob (its format version is in it).
MAGIC = b"fncache-entry 1\n"
_MAX_HEADER = 1 << 16


def pack_entry(entry: Entry) -> bytes:
    """One blob holding ``meta.json`` and every file of a verified local entry."""
    names = [META, *entry.files]
    datas = [(entry.path / META).read_bytes(), *(entry.read_bytes(n) for n in entry.files)]
    header = json.dumps([[n, len(d)] for n, d in zip(names, datas)], separators=(",", ":")).encode()
    return b"".join([MAGIC, header, b"\n", *datas])


def unpack_entry(blob: bytes) -> dict[str, bytes]:
    """The files of a blob made by :func:`pack_entry`; :class:`Damaged` if it is not one."""
    if not blob.startswith(MAGIC):
        raise Damaged("not an fncache entry blob")
    end = blob.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_HEADER)
    if end < 0:
        raise Damaged("blob header is missing or too long")
    try:
        listing = parse_json(blob[len(MAGIC) : end])
    except ValueError:
        raise Damaged("blob header is not JSON") from None
    if not isinstance(listing, list) or not all(
        isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) and isinstance(i[1], int) and i[1] >= 0
        for i in listing
    ):
        raise Damaged("blob header is not a file list")
    names = [n for n, _ in listing]
    if names[:1] != [META] or len(set(names)) != len(names) or not all(valid_file_name(n) for n in names[1:]):
        raise Damaged("blob lists bad or repeated file names")
    if sum(size for _, size in listing) != len(blob) - end - 1:
        raise Damaged("blob is truncated or has trailing bytes")
    files, pos = {}, end + 1
    for name, size in listing:
        files[name] = blob[pos : pos + size]
        pos += size
    return files


def entry_summary(entry: Entry, blob_size: int) -> dict[str, Any]:
    """What ``fncache list --remote`` shows of an entry without downloading it."""
    meta = entry.meta
    return {
        "kind": entry.key.kind,
        "size": blob_size,
        "created": meta.get("created"),
        "host": meta.get("host"),
        "march": meta.get("march"),
        "compile_seconds": meta.get("compile_seconds"),
    }
