"""Compilation modes: which linker runs the graph and which rewrites optimize it."""

from __future__ import annotations

from typing import Any

__all__ = ["Mode", "get_mode", "LINKERS", "OPTIMIZERS"]

LINKERS = ("c", "py")
OPTIMIZERS = ("fast_run", "fast_compile", None)


class Mode:
    """A linker (``"c"``: the whole graph in one native module; ``"py"``: numpy), an optimizer
    (``"fast_run"``, ``"fast_compile"`` or ``None``), rewrite tags to include or exclude, and a
    device (``"cpu"``, ``"cuda"``; ``None`` = ``config.device``)."""

    __slots__ = ("linker", "optimizer", "_including", "_excluding", "device")

    def __init__(
        self,
        linker: str = "c",
        optimizer: str | None = "fast_run",
        including: tuple[str, ...] | list[str] = (),
        excluding: tuple[str, ...] | list[str] = (),
        device: str | None = None,
    ) -> None:
        if linker == "cvm":
            linker = "c"
        if linker not in LINKERS:
            raise ValueError(f"Mode: unknown linker {linker!r}; expected one of {LINKERS}")
        if optimizer is not None:
            optimizer = str(optimizer).lower()
        if optimizer == "none":
            optimizer = None
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"Mode: unknown optimizer {optimizer!r}; expected one of {OPTIMIZERS}")
        if device not in (None, "cpu", "cuda"):
            raise ValueError(f"Mode: unknown device {device!r}; expected 'cpu' or 'cuda'")
        self.linker = linker
        self.optimizer = optimizer
        self._including = tuple(sorted(set(including)))
        self._excluding = tuple(sorted(set(excluding)))
        self.device = device

    def including(self, *tags: str) -> "Mode":
        """A new mode that also runs the rewrites with these tags."""
        return Mode(
            self.linker,
            self.optimizer,
            self._including + tags,
            tuple(t for t in self._excluding if t not in tags),
            self.device,
        )

    def excluding(self, *tags: str) -> "Mode":
        """A new mode that skips the rewrites with these tags."""
        return Mode(
            self.linker,
            self.optimizer,
            tuple(t for t in self._including if t not in tags),
            self._excluding + tags,
            self.device,
        )

    @property
    def included_tags(self) -> tuple[str, ...]:
        return self._including

    @property
    def excluded_tags(self) -> tuple[str, ...]:
        return self._excluding

    def signature(self) -> str:
        return (
            f"linker={self.linker};optimizer={self.optimizer};"
            f"including={','.join(self._including)};excluding={','.join(self._excluding)};"
            f"device={self.device}"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mode) and self.signature() == other.signature()

    def __hash__(self) -> int:
        return hash(self.signature())

    def __repr__(self) -> str:
        return (
            f"Mode(linker={self.linker!r}, optimizer={self.optimizer!r}, including="
            f"{self._including}, excluding={self._excluding}, device={self.device!r})"
        )

    def __reduce__(self):
        return (Mode, (self.linker, self.optimizer, self._including, self._excluding, self.device))


FAST_RUN = Mode("c", "fast_run")
FAST_COMPILE = Mode("py", "fast_compile")


def get_mode(mode: Any) -> Mode:
    """``None`` -> ``config.mode``; a name (``"FAST_RUN"``...) or a Mode."""
    from .config import config

    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        m = mode
    elif isinstance(mode, str) and mode.upper() in ("FAST_RUN", "FAST_COMPILE"):
        m = FAST_RUN if mode.upper() == "FAST_RUN" else FAST_COMPILE
    else:
        raise ValueError(f"unknown mode {mode!r}: use 'FAST_RUN', 'FAST_COMPILE' or fc.Mode(...)")
    if m.device is None:
        m = Mode(m.linker, m.optimizer, m.included_tags, m.excluded_tags, config.device)
    return m
