"""The key that signs cache entries, host records and pickles (HMAC), named by ``config.signing_key``."""

from __future__ import annotations

import os

from ..config import config
from ..errors import CacheError
from .safedir import open_regular

__all__ = ["signing_key"]

_key_memo: tuple[str, int, bytes] | None = None


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
        with os.fdopen(open_regular(path), "rb") as fh:  # a FIFO must not hang every compile
            data = fh.read()
    except OSError as e:
        raise CacheError(f"cannot read signing_key file {path}: {e.strerror or e}") from None
    if not data.strip():
        raise CacheError(f"signing_key file {path} is empty")
    _key_memo = (path, st.st_mtime_ns, data)
    return data
