"""``fncache.misc.pkl_utils``, Theano's ``dump(obj, file)`` and ``load(file)``: pickle an
object holding compiled functions, shared variables and arrays (a model's parameters) to a
binary file, and read it back. fncache's functions and shared variables pickle by themselves
(README "Pickling and shipping"), so these are ``pickle.dump``/``pickle.load`` with Theano's names; a file
may also be given by its path. Theano's own zip files are not read.

As in Theano, functions and shared variables dumped in one object load sharing them: one
object per shared variable, read and updated by every loaded function that uses it."""

from __future__ import annotations

import io
import os
import pickle
from typing import Any, BinaryIO

__all__ = ["dump", "load"]


def _binary(file: Any, what: str) -> None:
    if isinstance(file, io.TextIOBase):
        raise TypeError(
            f"{what}: the file is open in text mode; open it in binary mode "
            f"(open(path, '{'wb' if what == 'dump' else 'rb'}')) or give its path"
        )


def dump(
    obj: Any, file_handler: BinaryIO | str | os.PathLike, protocol: int = pickle.HIGHEST_PROTOCOL
) -> None:
    """Pickle ``obj`` into ``file_handler`` (a file open for binary writing, or a path)."""
    if isinstance(file_handler, (str, os.PathLike)):
        with open(file_handler, "wb") as f:
            pickle.dump(obj, f, protocol)
        return
    _binary(file_handler, "dump")
    pickle.dump(obj, file_handler, protocol)


def load(f: BinaryIO | str | os.PathLike) -> Any:
    """The object ``dump`` wrote to ``f`` (a file open for binary reading, or a path). As any
    pickle, load only files you trust."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return pickle.load(fh)
    _binary(f, "load")
    return pickle.load(f)
