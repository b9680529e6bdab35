"""Compilation modes: which linker runs the graph and which rewrites optimize it."""

from __future__ import annotations

import functools
import inspect
import logging
import re
from typing import Any, Callable

from .config import LINKER_SPELLINGS, MODE_NAMES, OPTIMIZER_SPELLINGS, optimizer_spelling
from .graph.args import int_arg, sequence_arg

log = logging.getLogger(__name__)

__all__ = [
    "Mode",
    "NanGuardMode",
    "DebugMode",
    "MonitorMode",
    "get_mode",
    "LINKERS",
    "OPTIMIZERS",
    "MERGE_TAGS",
]

LINKERS = ("c", "py")
OPTIMIZERS = ("fast_run", "fast_compile", None)
#: The tags of the `merge` rewrite (one node for equal nodes on equal inputs), its name first:
#: a mode runs it when it names one of them and excludes none (`Mode.merges`).
MERGE_TAGS = ("merge", "fast_run", "fast_compile")
#: The Python linker checking every value for NaN, infinities and/or big values: "nanguard:"
#: and a letter per check ("n", "i", "b"); a plain string, so pickles and inner functions
#: carry it as any other linker.
NANGUARD = "nanguard:"
#: Both linkers, every node's outputs compared (``fc.DebugMode``): "debug:" and a letter per
#: check beyond the numpy linker's own (outputs' types, inputs not declared destroyed): "c" the
#: C run-time's values, "n" no numpy perform (``check_py_code=False``: the C run-time twice),
#: "f" no NaN nor infinity, "w" / "s" the C run-time's strides (warned / raised,
#: ``require_matching_strides`` 1 / 2), "i" / "p" the C run-time again with its output buffers
#: full of garbage / of the previous run's outputs (``check_preallocated_output``); then the
#: ``stability_patience`` above 1, in digits.
DEBUG = "debug:"
#: The numpy linker calling the user's functions around each node (``fc.MonitorMode``).
MONITOR = "monitor"
#: The linkers that take flags after their prefix, and the flags each takes (DebugMode's: below).
_FLAGGED = {NANGUARD: set("nib")}
_DEBUG_FLAGS = re.compile(r"c?n?f?[ws]?i?p?([1-9][0-9]*)?")
#: Theano's ``check_preallocated_output`` values.
PREALLOCATED_OUTPUT = ("initial", "previous", "c_contiguous", "f_contiguous", "strided", "wrong_size", "ALL")
#: Those that run the C program once more, and their flags in the linker: the others are
#: layouts and sizes the C run-time never hands a step (it allocates every output itself,
#: C-contiguous and of its exact shape), and "c_contiguous" is every run's layout.
PREALLOCATED_FLAGS = {"initial": "i", "previous": "p"}


def _known_linker(linker: str) -> bool:
    if not isinstance(linker, str):
        return False
    prefix, colon, flags = linker.partition(":")
    if prefix + colon == DEBUG:
        return _DEBUG_FLAGS.fullmatch(flags) is not None
    return (
        linker in LINKERS
        or linker == MONITOR
        or (bool(colon) and set(flags) <= _FLAGGED.get(prefix + ":", set()))
    )


def debug_patience(checks: str) -> int:
    """How many times a ``DebugMode`` with these checks (the linker's flags) optimizes each
    graph: its ``stability_patience``, 1 when the flags give none."""
    digits = checks.lstrip("cnfwsip")
    return int(digits) if digits else 1


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
        if isinstance(linker, str) and linker != "auto":
            linker = LINKER_SPELLINGS.get(linker, linker)
        if not _known_linker(linker):
            spellings = [s for s in LINKER_SPELLINGS if s != "auto"]
            raise ValueError(f"Mode: unknown linker {linker!r}; expected one of {', '.join(spellings)}")
        try:
            optimizer, added, removed = OPTIMIZER_SPELLINGS[optimizer_spelling(optimizer)]
        except ValueError as e:
            raise ValueError(f"Mode: unknown optimizer {optimizer!r}; {e}") from None
        if device not in (None, "cpu", "cuda"):
            raise ValueError(f"Mode: unknown device {device!r}; expected 'cpu' or 'cuda'")
        self.linker = linker
        self.optimizer = optimizer
        including = (*sequence_arg(including, "Mode", "including", "rewrite tags"), *added)
        excluding = (*sequence_arg(excluding, "Mode", "excluding", "rewrite tags"), *removed)
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

    def merges(self) -> bool:
        """Whether the mode runs the `merge` rewrite, so that a subexpression written twice and
        written once optimize to one graph (and share a function key): read from the tags
        alone, as the rewrite registry selects passes, without loading the optimizer."""
        named = {self.optimizer, *self._including}
        return any(t in named for t in MERGE_TAGS) and not any(t in self._excluding for t in MERGE_TAGS)

    def memo_key(self) -> str:
        """What tells apart the functions compiled from one graph in one process (the inner
        functions an op keeps per mode): the signature, for a mode that holds nothing more."""
        return self.signature()

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
    if linker is not None and linker not in LINKER_SPELLINGS:
        raise ValueError(
            f"NanGuardMode: unknown linker {linker!r}; it runs the Python linker (leave linker out)"
        )
    flags = "n" * bool(nan_is_error) + "i" * bool(inf_is_error) + "b" * bool(big_is_error)
    return Mode(NANGUARD + flags, optimizer, device="cpu")


def _check_preallocated(value: Any) -> tuple[str, ...]:
    """Theano's ``check_preallocated_output``, a list of its names or one string of them
    joined by ":" or ","; "ALL" stands for every one."""
    if value is None:
        return ()
    names = [n for n in re.split("[:,]", value) if n] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"DebugMode: check_preallocated_output must be a list of names; got {value!r}")
    bad = [n for n in names if n not in PREALLOCATED_OUTPUT]
    if bad:
        raise ValueError(
            f"DebugMode: unknown check_preallocated_output {bad!r}; expected some of "
            f"{', '.join(PREALLOCATED_OUTPUT)}"
        )
    if "ALL" in names:
        return PREALLOCATED_OUTPUT[:-1]
    return tuple(dict.fromkeys(names))


@functools.lru_cache(maxsize=None)
def _note_preallocated(names: tuple[str, ...], why: str) -> None:
    log.warning("fncache: DebugMode(check_preallocated_output=%r) checks nothing: %s", list(names), why)


def DebugMode(
    optimizer: str | None = "fast_run",
    stability_patience: int | None = None,
    check_c_code: bool | None = None,
    check_py_code: bool | None = None,
    check_isfinite: bool | None = None,
    check_preallocated_output: list[str] | tuple[str, ...] | str | None = None,
    require_matching_strides: int | None = None,
    linker: str | None = None,
) -> Mode:
    """Theano's debugging mode, slow by design: runs every node of the optimized graph with
    numpy (its ``perform``) and checks that it modified no input it does not declare destroyed
    (``BadDestroyMap``), that no output shares memory with an input it does not declare viewed
    or destroyed (``BadViewMap``), that each output has its variable's dtype, ndim and static sizes and,
    with ``check_isfinite`` (default True), no NaN nor infinity (``InvalidValueError``); with
    ``check_c_code`` (default True), every node is also run by the C run-time on the same inputs and the
    outputs compared (``BadThunkOutput`` past Theano's tolerances). The function returns the
    numpy values. Errors are ``fncache.errors.DebugModeError``s.

    Theano's other keywords: ``require_matching_strides`` (0, the default: no check; 1: a
    warning; 2: ``StridesMismatch``) compares the strides of each output of the two linkers
    where both have one shape; ``stability_patience`` (None: 1) optimizes each graph that many
    times and raises ``StochasticOrder`` if the optimized graphs differ.

    ``check_py_code=False`` leaves the numpy perform out: the C run-time runs the whole graph
    (its values are returned and checked for their types and, with ``check_isfinite``, NaN),
    then each node again, alone, on the inputs the first run gave it; the two runs must agree
    (``BadThunkOutput``: a kernel or op that is not deterministic, or reads memory it does not
    own) and the second may change no input its node does not declare destroyed
    (``BadDestroyMap``). It needs ``check_c_code``.

    ``check_preallocated_output`` (Theano's names; "ALL": every one) runs the nodes' C program
    again for each of "previous" (each step's output buffer holds the previous run's output)
    and "initial" (each holds garbage, every bit set) and compares once more: a kernel that
    reads its output before writing it, or leaves part of it unwritten, is caught. The other
    names check nothing more: the C run-time allocates every output itself, C-contiguous and of
    its exact shape, so a step is never handed an "f_contiguous", "strided" or "wrong_size"
    buffer, and "c_contiguous" is what every run has."""
    if linker is not None and linker not in LINKER_SPELLINGS:
        raise ValueError(f"DebugMode: unknown linker {linker!r}; it runs both linkers (leave linker out)")
    check_c = check_c_code is None or bool(check_c_code)
    check_py = check_py_code is None or bool(check_py_code)
    if not (check_c or check_py):
        raise ValueError(
            "DebugMode: check_c_code=False and check_py_code=False leave nothing to run; give "
            "check_py_code=False alone (the C run-time, run twice) or check_c_code=False alone "
            "(the numpy perform)"
        )
    strides = int_arg(
        0 if require_matching_strides is None else require_matching_strides,
        "DebugMode",
        "require_matching_strides",
        minimum=0,
        fix="0 (no check), 1 (warn) or 2 (raise)",
    )
    if strides > 2:
        raise ValueError(
            f"DebugMode: require_matching_strides must be 0 (no check), 1 (warn) or 2 (raise), got {strides}"
        )
    patience = int_arg(
        1 if stability_patience is None else stability_patience,
        "DebugMode",
        "stability_patience",
        minimum=1,
        fix="how many times each graph is optimized",
    )
    prealloc = _check_preallocated(check_preallocated_output)
    runs = "".join(PREALLOCATED_FLAGS[n] for n in PREALLOCATED_FLAGS if n in prealloc) if check_c else ""
    if prealloc and not runs:
        _note_preallocated(
            prealloc,
            "the preallocated buffers are the C run-time's, which check_c_code=False leaves out"
            if not check_c
            else "fncache's C run-time allocates every output itself, C-contiguous and of its exact "
            "shape, so no step is ever handed another layout or size; 'initial' and 'previous' are "
            "the checks that apply",
        )
    flags = (
        "c" * check_c
        + "n" * (not check_py)
        + "f" * (check_isfinite is None or bool(check_isfinite))
        + ("", "w", "s")[strides]
        + runs
        + (str(patience) if patience > 1 else "")
    )
    return Mode(DEBUG + flags, optimizer, device="cpu")


def monitor_takes_fgraph(func: Callable[..., Any]) -> bool | None:
    """How ``MonitorMode`` calls ``func``: False as Theano's ``(i, node, fn)``, True as
    PyTensor's ``(fgraph, i, node, fn)``, None when it takes neither."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # a builtin without a signature: Theano's form
        return False
    for takes_fgraph, args in ((False, (0, None, None)), (True, (None, 0, None, None))):
        try:
            sig.bind(*args)
        except TypeError:
            continue
        return takes_fgraph
    return None


class MonitorMode(Mode):
    """Theano's ``MonitorMode``: the numpy linker, calling ``pre_func(i, node, fn)`` before and
    ``post_func(i, node, fn)`` after each node runs (``i``: its position in the optimized
    graph; a function of four arguments is called as PyTensor's, ``(fgraph, i, node, fn)``,
    ``fgraph`` the optimized graph), where ``fn.inputs`` and ``fn.outputs`` are lists of one-element lists holding the
    values (outputs: ``[None]`` before the node runs). A value a function puts in a cell is the
    one used. The functions are not part of the function's cache key; the inner functions of
    ``scan`` and ``ifelse`` call them too. On the host."""

    __slots__ = ("pre_func", "post_func")

    def __init__(
        self,
        pre_func: Callable[[int, Any, Any], Any] | None = None,
        post_func: Callable[[int, Any, Any], Any] | None = None,
        optimizer: str | None = "default",
        linker: str | None = None,
        including: tuple[str, ...] | list[str] = (),
        excluding: tuple[str, ...] | list[str] = (),
    ) -> None:
        if linker not in (None, "py", MONITOR):
            raise ValueError(
                f"MonitorMode: unknown linker {linker!r}; it runs the Python linker (leave linker out)"
            )
        for name, fn in (("pre_func", pre_func), ("post_func", post_func)):
            if fn is not None and (not callable(fn) or monitor_takes_fgraph(fn) is None):
                raise TypeError(
                    f"MonitorMode: {name} must be a function of (i, node, fn) or (fgraph, i, node, fn), or None; got {fn!r}"
                )
        super().__init__(
            MONITOR, "fast_run" if optimizer == "default" else optimizer, including, excluding, "cpu"
        )
        self.pre_func = pre_func
        self.post_func = post_func

    def including(self, *tags: str) -> "MonitorMode":
        m = super().including(*tags)
        return MonitorMode(self.pre_func, self.post_func, m.optimizer, None, m.included_tags, m.excluded_tags)

    def excluding(self, *tags: str) -> "MonitorMode":
        m = super().excluding(*tags)
        return MonitorMode(self.pre_func, self.post_func, m.optimizer, None, m.included_tags, m.excluded_tags)

    def memo_key(self) -> str:
        # the functions take no part in the cache key, but an inner function compiled for one
        # MonitorMode must not be reused under another
        return f"{self.signature()};monitor={id(self.pre_func)},{id(self.post_func)}"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MonitorMode)
            and self.signature() == other.signature()
            and (self.pre_func, self.post_func) == (other.pre_func, other.post_func)
        )

    def __hash__(self) -> int:
        return hash(self.signature())

    def __repr__(self) -> str:
        return f"MonitorMode(pre_func={self.pre_func!r}, post_func={self.post_func!r}, optimizer={self.optimizer!r})"

    def __reduce__(self):
        return (
            MonitorMode,
            (self.pre_func, self.post_func, self.optimizer, None, self._including, self._excluding),
        )


FAST_RUN = Mode("c", "fast_run")
FAST_COMPILE = Mode("py", "fast_compile")
#: Theano's names of ``DebugMode()`` as a mode string (``mode="DebugMode"``), upper-cased.
DEBUG_MODE_NAMES = ("DEBUGMODE", "DEBUG_MODE")


def get_mode(mode: Any = None) -> Mode:
    """``None`` (the default) -> ``config.mode``; a name (``"FAST_RUN"``, ``"FAST_COMPILE"``, ``"DebugMode"``
    or ``"DEBUG_MODE"``, ``"NanGuardMode"`` (every check on, as Theano's); Theano's and
    PyTensor's ``"Mode"`` is FAST_RUN, and so are PyTensor 3's compiled back ends ``"C"``,
    ``"CVM"``, ``"NUMBA"``, ``"JAX"``, ``"PYTORCH"``, ``"MLX"``) or a Mode. ``"FAST_RUN"`` and ``"FAST_COMPILE"`` take
    ``config.linker``, ``config.optimizer`` and the tags of ``config.optimizer_including`` /
    ``optimizer_excluding`` where they are set, and the Python linker where ``config.cxx`` is
    ``''`` (no C compiler, Theano's meaning)."""
    from .config import config

    if mode is None:
        mode = config.mode
    named = isinstance(mode, str) and mode.upper() in MODE_NAMES
    if isinstance(mode, Mode):
        m = mode
    elif named:
        m = FAST_RUN if MODE_NAMES[mode.upper()] == "FAST_RUN" else FAST_COMPILE
    elif isinstance(mode, str) and mode.upper() in DEBUG_MODE_NAMES:
        m = DebugMode()
    elif isinstance(mode, str) and mode.upper() == "NANGUARDMODE":
        m = NanGuardMode()
    else:
        raise ValueError(
            f"unknown mode {mode!r}: use 'FAST_RUN', 'FAST_COMPILE', 'DebugMode', 'NanGuardMode' or "
            "fc.Mode(...) (PyTensor's 'Mode', 'C', 'CVM', 'NUMBA', 'JAX', 'PYTORCH' and 'MLX' are FAST_RUN)"
        )
    if not named:
        if m.device is None:
            m = Mode(m.linker, m.optimizer, m.included_tags, m.excluded_tags, config.device)
        return m
    # FAST_RUN and FAST_COMPILE given by name take Theano's flags (config.linker, optimizer,
    # optimizer_including and optimizer_excluding; cxx='', no C compiler, is the Python
    # linker, as in Theano); an fc.Mode says all it wants itself.
    linker = m.linker if config.linker == "auto" else config.linker
    if not config.cxx.strip() and config.device == "cpu":
        linker = "py"
    return Mode(
        linker,
        m.optimizer if config.optimizer == "auto" else config.optimizer,
        m.included_tags + config.optimizer_including,
        m.excluded_tags + config.optimizer_excluding,
        config.device,
    )
