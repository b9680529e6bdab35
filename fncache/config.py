"""Configuration flags (README "Configuration"): ``fc.config.NAME``, ``change_flags`` and ``FNCACHE_FLAGS``.

Each flag is declared once with its default, a parser that validates a value (strings from the
environment included) and, when it changes generated code, the kind of cache key that reads it
(``fncache.cache.keys`` reads this declaration), so a flag that changes code can never be
forgotten in the key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from typing import Any, Callable, Iterator, NamedTuple

__all__ = [
    "config",
    "Config",
    "parse_size",
    "CODE_FLAGS",
    "CODE_FLAG_KEYS",
    "LINKER_SPELLINGS",
    "MODE_NAMES",
    "DEBUGGING_MODE_NAMES",
]

_SIZE_UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def parse_size(value: Any) -> int:
    """Parse ``10GB``, ``512MiB``, ``0`` or an int into bytes."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"size must be >= 0, got {value!r}")
        return int(value)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(value))
    if not m or m.group(2).upper() not in _SIZE_UNITS:
        raise ValueError(f"expected a size such as '10GB', '512MiB' or 0, got {value!r}")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).upper()])


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(v: Any) -> str:
        s = str(v)
        if s not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {v!r}")
        return s

    return parse


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected True or False, got {v!r}")


def _nonneg_int(v: Any) -> int:
    i = int(v)
    if i < 0:
        raise ValueError(f"expected an integer >= 0, got {v!r}")
    return i


def _nonneg_float(v: Any) -> float:
    f = float(v)
    if f < 0:
        raise ValueError(f"expected a number >= 0, got {v!r}")
    return f


def _positive_float(v: Any) -> float:
    f = float(v)
    if not f > 0 or f == float("inf"):
        raise ValueError(f"expected a finite number > 0, got {v!r}")
    return f


def _ignored_minsize(v: Any) -> int:
    """Theano's ``openmp_elemwise_minsize``, taken so that a Theano flag string works: fncache's
    run-time decides per loop, by size and by the time one thread was measured taking, which
    loops use threads (README "How a loop is split over threads"); a fixed size would make
    cheap loops of that size wait for sleeping threads."""
    size = _nonneg_int(v)
    logging.getLogger(__name__).warning(
        "fncache: flag openmp_elemwise_minsize=%d is accepted and changes nothing: the run-time "
        "splits a loop over threads from 32768 elements, and below 524288 only once one thread "
        "was measured taking 50 us for it; threads=1 (or openmp=False) keeps every loop on one thread",
        size,
    )
    return size


def _optional_str(v: Any) -> str | None:
    if v is None or str(v) in ("", "None", "none"):
        return None
    return str(v)


def _cuda_arch(v: Any) -> str:
    s = str(v)
    if s != "auto" and not re.fullmatch(r"sm_[0-9]{2,3}[a-z]?", s):
        raise ValueError(f"expected 'auto' or an architecture such as 'sm_90', got {v!r}")
    return s


#: The named modes, upper-cased, and the one each stands for: Theano's and PyTensor's default
#: "Mode" is FAST_RUN (``fncache.mode.get_mode`` reads this table too; DebugMode's names are
#: ``fncache.mode.DEBUG_MODE_NAMES``: config is below it).
MODE_NAMES = {"FAST_RUN": "FAST_RUN", "FAST_COMPILE": "FAST_COMPILE", "MODE": "FAST_RUN"}
#: The debugging modes by name, upper-cased, and how ``config.mode`` spells each.
DEBUGGING_MODE_NAMES = {"DEBUGMODE": "DEBUGMODE", "DEBUG_MODE": "DEBUG_MODE", "NANGUARDMODE": "NanGuardMode"}


def _mode(v: Any) -> str:
    s = str(v).upper()
    if s not in (*MODE_NAMES, *DEBUGGING_MODE_NAMES):
        raise ValueError(
            f"expected FAST_RUN, FAST_COMPILE, Mode (FAST_RUN), DebugMode or NanGuardMode, got {v!r}"
        )
    return MODE_NAMES.get(s) or DEBUGGING_MODE_NAMES[s]


def _test_value_mode(v: Any) -> str:
    s = str(v)
    if s == "pdb":
        raise ValueError(
            "'pdb' (Theano's debugger on a missing test value) is not supported; use 'raise' and "
            "run the script under python -m pdb"
        )
    return _choice("off", "ignore", "warn", "raise")(s)


#: Theano's and PyTensor's linker names: every one but "py" runs compiled code where an op has
#: it, which fncache's C run-time does. The flag and ``fc.Mode(linker=...)`` both read them.
LINKER_SPELLINGS = {
    "auto": "auto",
    "c": "c",
    "py": "py",
    **dict.fromkeys(("cvm", "cvm_nogc", "vm", "vm_nogc", "c|py", "c|py_nogc"), "c"),
}


def _linker(v: Any) -> str:
    s = str(v)
    if s not in LINKER_SPELLINGS:
        raise ValueError(f"expected one of {', '.join(LINKER_SPELLINGS)}, got {v!r}")
    return LINKER_SPELLINGS[s]


def _optimizer(v: Any) -> str | None:
    if v is None or str(v).lower() == "none":
        return None
    return _choice("auto", "fast_run", "fast_compile")(str(v).lower())


def _tags(v: Any) -> tuple[str, ...]:
    """Rewrite tags: a ':'-separated string (Theano's spelling in THEANO_FLAGS) or a sequence."""
    items = v.split(":") if isinstance(v, str) else list(v) if isinstance(v, (list, tuple)) else [v]
    if not all(isinstance(t, str) for t in items):
        raise ValueError(f"expected tags separated by ':' (or a list of strings), got {v!r}")
    return tuple(t.strip() for t in items if t.strip())


def user_cache_dir(name: str) -> str:
    """``$XDG_CACHE_HOME/<name>``, else ``~/.cache/<name>``: where per-user state goes (the
    default compiledir, this user's host records, the compiler fingerprint's memo).

    Written here rather than asked of platformdirs, which answers the same on Linux: importing
    it costs about 5 ms, paid by every fresh process on its first cache hit."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, name)


def _default_compiledir() -> str:
    return user_cache_dir("fncache")


def _shown(name: str, value: Any) -> Any:
    """A flag's value as printing the config shows it: a URL's password left out."""
    if name == "remote_cache" and isinstance(value, str) and "@" in value and "://" in value:
        scheme, rest = value.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return value


class _Flag(NamedTuple):
    # A named tuple, not a dataclass: every process imports this module, and making a named
    # tuple costs about a tenth of a dataclass (nor is ``dataclasses`` imported then).
    default: Any
    parse: Callable[[Any], Any]
    doc: str
    #: The kind of cache key that reads this flag ("function", "kernel_library" or "cuda"), or None
    #: when the flag changes no generated code (fncache.cache.keys composes every key).
    changes_code: str | None = None


_FLAGS: dict[str, _Flag] = {
    "compiledir": _Flag(
        None,
        lambda v: os.path.abspath(os.path.expanduser(str(v))),
        "root of the cache; may be on a shared filesystem",
    ),
    "mode": _Flag("FAST_RUN", _mode, "default compilation mode"),
    "linker": _Flag(
        "auto",
        _linker,
        "linker of functions compiled without an fc.Mode: auto (the mode's), c or py "
        "(Theano's cvm, vm, c|py and their _nogc forms mean c)",
    ),
    "optimizer": _Flag(
        "auto",
        _optimizer,
        "rewrites of functions compiled without an fc.Mode: auto (the mode's), fast_run, fast_compile or None",
    ),
    "optimizer_including": _Flag((), _tags, "rewrite tags added to modes given by name, ':'-separated"),
    "optimizer_excluding": _Flag((), _tags, "rewrite tags removed from modes given by name, ':'-separated"),
    "profile": _Flag(
        False, _bool, "profile every function (as profile=True) and print each one's summary at exit"
    ),
    "floatX": _Flag(
        "float64",
        _choice("float32", "float64"),
        "dtype for Python floats and ft.scalar() without dtype",
        "function",
    ),
    "device": _Flag("cpu", _choice("cpu", "cuda"), "cpu or cuda", "function"),
    "cuda_arch": _Flag("auto", _cuda_arch, "GPU architecture to build for", "cuda"),
    "cxx": _Flag(
        "gcc",
        str,
        "C compiler (it may hold a wrapper: 'ccache gcc'); '' (Theano's: none) runs the modes given by "
        "name with the Python linker",
        "kernel_library",
    ),
    "cxxflags": _Flag("-O3", str, "the compiler's optimization and other flags", "kernel_library"),
    "gcc__cxxflags": _Flag(
        "",
        str,
        "flags added after cxxflags (Theano's gcc.cxxflags, also spelled so)",
        "kernel_library",
    ),
    "march": _Flag("auto", str, "auto (detected), a flags string, or none", "kernel_library"),
    "vector_width": _Flag(
        "auto",
        _choice("auto", "default", "128", "256", "512"),
        "preferred SIMD width: auto (measured per host), default (the compiler's), or 128/256/512 bits",
        "kernel_library",
    ),
    "threads": _Flag(0, _nonneg_int, "threads for large arrays; 0 = all cores"),
    "openmp": _Flag(True, _bool, "False: every loop on one thread, whatever threads says (Theano's flag)"),
    "openmp_elemwise_minsize": _Flag(
        200000,
        _ignored_minsize,
        "Theano's: accepted, changes nothing (fncache's run-time chooses which loops use threads)",
    ),
    "warn_float64": _Flag(
        "ignore",
        _choice("ignore", "warn", "raise"),
        "what to do when a float64 is created from non-float64 inputs",
    ),
    "exception_verbosity": _Flag(
        "low", _choice("low", "high"), "high: run-time errors show the graph node and source line"
    ),
    "allow_gc": _Flag(True, _bool, "free intermediates after each call"),
    "on_unused_input": _Flag(
        "raise",
        _choice("raise", "warn", "ignore"),
        "what fc.function does with an input the outputs do not read, where its on_unused_input is "
        "not given: raise, warn or ignore",
    ),
    "reoptimize_unpickled_function": _Flag(
        False, _bool, "re-run the optimizer on the original graph when unpickling"
    ),
    "lock_mode": _Flag("auto", _choice("auto", "flock", "lease"), "cache lock protocol"),
    "lock_timeout": _Flag(600.0, _nonneg_float, "seconds to wait for a lock"),
    "lease_seconds": _Flag(
        30.0,
        _positive_float,
        "seconds without a refresh after which another host may break a lease; "
        "every process sharing a compiledir must use the same value",
    ),
    "cache_max_size": _Flag(10 * 10**9, parse_size, "size cap of the compiledir (0 = none)"),
    "signing_key": _Flag(None, _optional_str, "path of an HMAC key file"),
    "remote_cache": _Flag(None, _optional_str, "redis://host:port/db remote tier"),
    "remote_timeout": _Flag(2.0, _nonneg_float, "seconds any remote-tier call may wait"),
    "cache_verify_hits": _Flag(
        False,
        _bool,
        "on a cache hit, rebuild the entry and compare it with the stored one (slow: for tests of the keys)",
    ),
    "allow_shared_compiledir": _Flag(False, _bool, "accept a compiledir that other users can write"),
    "print_test_value": _Flag(
        False, _bool, "a variable's repr shows its test value on a second line (when it has one)"
    ),
    "compute_test_value": _Flag(
        "off",
        _test_value_mode,
        "evaluate each node as it is built on its inputs' tag.test_value: off, ignore, warn or raise "
        "(what to do when an input has none)",
    ),
}


def _flag_name(name: str) -> str:
    """A flag's name as declared: Theano's section spelling ``gcc.cxxflags`` is ``gcc__cxxflags``."""
    return name.replace(".", "__")


#: Flags whose value changes generated code, and the kind of key that reads each.
CODE_FLAG_KEYS: dict[str, str] = {n: f.changes_code for n, f in sorted(_FLAGS.items()) if f.changes_code}
CODE_FLAGS: tuple[str, ...] = tuple(CODE_FLAG_KEYS)


class Config:
    """The flag registry. Read and write flags as attributes."""

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_version", 0)
        for name, flag in _FLAGS.items():
            self._values[name] = flag.default
        self._values["compiledir"] = _default_compiledir()
        env = os.environ.get("FNCACHE_FLAGS", "")
        for item in filter(None, (p.strip() for p in env.split(","))):
            if "=" not in item:
                raise ValueError(f"FNCACHE_FLAGS: expected name=value, got {item!r}")
            name, value = item.split("=", 1)
            self._set(name.strip(), value.strip(), source="FNCACHE_FLAGS")

    def _set(self, given: str, value: Any, source: str = "config") -> None:
        name = _flag_name(given)
        if name not in _FLAGS:
            raise AttributeError(
                f"{source}: unknown flag {given!r}; known flags: {', '.join(sorted(_FLAGS))}"
            )
        try:
            parsed = _FLAGS[name].parse(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{source}: bad value for flag {name!r}: {e}") from None
        self._values[name] = parsed
        object.__setattr__(self, "_version", self._version + 1)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[_flag_name(name)]
        except KeyError:
            raise AttributeError(f"unknown flag {name!r}; known flags: {', '.join(sorted(_FLAGS))}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._set(name, value)

    @property
    def version(self) -> int:
        """Bumped on every change: lets hot paths cache derived values cheaply."""
        return self._version

    @contextlib.contextmanager
    def change_flags(self, **flags: Any) -> Iterator[None]:
        """Temporarily set flags: ``with config.change_flags(floatX='float32'): ...``."""
        old = {_flag_name(k): self._values[_flag_name(k)] for k in flags if _flag_name(k) in self._values}
        try:
            for k, v in flags.items():
                self._set(k, v)
            yield
        finally:
            for k, v in old.items():
                self._values[k] = v
            object.__setattr__(self, "_version", self._version + 1)

    def loop_threads(self) -> int:
        """The threads the run-time's loops may use: ``threads`` (0: one per core), or 1 where
        ``openmp`` is off."""
        return int(self._values["threads"]) if self._values["openmp"] else 1

    def code_flags(self) -> dict[str, Any]:
        """The flags that change generated code, by name (for cache keys and pickles)."""
        return {n: self._values[n] for n in CODE_FLAGS}

    def __str__(self) -> str:
        """Every flag, its value and what it does, one a line (``print(fc.config)``, as
        Theano's and PyTensor's)."""
        return "\n".join(
            f"{n} = {_shown(n, self._values[n])!r}  # {f.doc}" for n, f in sorted(_FLAGS.items())
        )

    def describe(self) -> dict[str, str]:
        return {n: f.doc for n, f in _FLAGS.items()}


config = Config()
