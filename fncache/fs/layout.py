"""The directory layout of a compiledir: the paths every cache module uses.

Who may write those directories and with which modes is :mod:`.perms`' job.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

__all__ = ["SUBDIRS", "Layout"]

#: The compiledir's own directories, made and checked when it is first used.
SUBDIRS = ("entries", "tmp", "locks", "quarantine", "trash", "stats", "hosts", "failed")


class Layout(NamedTuple):
    """The paths of one compiledir, and the modes new files and directories get there.

    ``dir_mode``/``file_mode`` are ``None`` for a private compiledir: inside a 0o700 root the
    umask's modes are harmless, and not calling chmod saves a syscall per file.

    A named tuple, not a dataclass: a warm cache hit in a fresh process imports this module, and
    making a named tuple costs about a tenth of a dataclass (nor is ``dataclasses`` imported then).
    """

    root: Path
    dir_mode: int | None
    file_mode: int | None

    @property
    def entries(self) -> Path:
        return self.root / "entries"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def trash(self) -> Path:
        return self.root / "trash"

    @property
    def stats(self) -> Path:
        return self.root / "stats"

    @property
    def hosts(self) -> Path:
        return self.root / "hosts"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    def entry_dir(self, digest: str) -> Path:
        """Where the entry of ``digest`` lives once published: two-level fan-out keeps directories small."""
        return self.root / "entries" / digest[:2] / digest
