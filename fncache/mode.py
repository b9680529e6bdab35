"""Compilation modes: which linker runs the graph and which rewrites optimize it."""

from __future__ import annotations

from typing import Any

__all__ = ["Mode", "NanGuardMode", "get_mode", "LINKERS", "OPTIMIZERS"]

LINKERS = ("c", "py")
OPTIMIZERS = ("fast_run", "fast_compile", None)
#: The Python linker checking every value for NaN, infinities and/or big values: "nanguard:"
#: and a letter per check ("n", "i", "b"); a plain string, so pickles and inner functions
#: carry it as any other linker.
NANGUARD = "nanguard:"


def _known_linker(linker: str) -> bool:
    return linker in LINKERS or (
        isinstance(linker, str) and linker.startswith(NANGUARD) and set(linker[len(NANGUARD) :]) <= set("nib")
    )


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
        if not _known_linker(linker):
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


def NanGuardMode(
    nan_is_error: bool = True,
    inf_is_error: bool = True,
    big_is_error: bool = True,
    optimizer: str | None = "fast_run",
    linker: str | None = None,
) -> Mode:
    """Theano's and PyTensor's debugging mode: the Python linker, checking the function's
    inputs and shared values and every node's outputs for NaN (``nan_is_error``), infinities
    (``inf_is_error``) and absolute values above 1e10 (``big_is_error``); the first found
    raises ``AssertionError`` naming the node and the value. On the host whatever
    ``config.device`` says."""
    if linker not in (None, "py", "c", "cvm"):
        raise ValueError(
            f"NanGuardMode: unknown linker {linker!r}; it runs the Python linker (leave linker out)"
        )
    flags = "n" * bool(nan_is_error) + "i" * bool(inf_is_error) + "b" * bool(big_is_error)
    return Mode(NANGUARD + flags, optimizer, device="cpu")


FAST_RUN = Mode("c", "fast_run")
FAST_COMPILE = Mode("py", "fast_compile")


def get_mode(mode: Any) -> Mode:
    """``None`` -> ``config.mode``; a name (``"FAST_RUN"``...) or a Mode. A name's mode takes
    ``config.linker``, ``config.optimizer`` and the tags of ``config.optimizer_including`` /
    ``optimizer_excluding`` where they are set."""
    from .config import config

    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        m = mode
    elif isinstance(mode, str) and mode.upper() in ("FAST_RUN", "FAST_COMPILE"):
        m = FAST_RUN if mode.upper() == "FAST_RUN" else FAST_COMPILE
    else:
        raise ValueError(f"unknown mode {mode!r}: use 'FAST_RUN', 'FAST_COMPILE' or fc.Mode(...)")
    if isinstance(mode, Mode):
        if m.device is None:
            m = Mode(m.linker, m.optimizer, m.included_tags, m.excluded_tags, config.device)
        return m
    # A mode given by name takes Theano's flags (config.linker, optimizer, optimizer_including
    # and optimizer_excluding); an fc.Mode says all it wants itself.
    return Mode(
        m.linker if config.linker == "auto" else config.linker,
        m.optimizer if config.optimizer == "auto" else config.optimizer,
        m.included_tags + config.optimizer_including,
        m.excluded_tags + config.optimizer_excluding,
        config.device,
    )
