"""Configuration flags (README "Configuration"): ``fc.config.NAME``, ``change_flags`` and ``FNCACHE_FLAGS``.

Each flag is declared once with its default, a parser that validates a value (strings from the
environment included) and, when it changes generated code, the kind of cache key that reads it
(``fncache.cache.keys`` reads this declaration), so a flag that changes code can never be
forgotten in the key.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import threading
from typing import Any, Callable, Iterator, Mapping, NamedTuple

__all__ = [
    "config",
    "Config",
    "parse_size",
    "parse_path",
    "parse_remote_url",
    "redact_url",
    "REMOTE_SCHEMES",
    "CODE_FLAGS",
    "CODE_FLAG_KEYS",
    "LINKER_SPELLINGS",
    "OPTIMIZER_SPELLINGS",
    "optimizer_spelling",
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


def _not_bool(v: Any) -> Any:
    """A number flag refuses True and False: ``threads=True`` is a mistake, not one thread."""
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {v!r}")
    return v


def parse_size(value: Any) -> int:
    """Parse ``10GB``, ``512MiB``, ``0`` or an int into bytes (a whole number of them: ``0.5``,
    which would read as 0, no cap, is refused)."""
    expected = f"expected a size such as '10GB', '512MiB' or 0, got {value!r}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        size = value
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(value))
        if isinstance(value, bool) or not m or m.group(2).upper() not in _SIZE_UNITS:
            raise ValueError(expected)
        size = float(m.group(1)) * _SIZE_UNITS[m.group(2).upper()]
    if not math.isfinite(size) or size < 0:
        raise ValueError(expected)
    if size != int(size):
        raise ValueError(f"expected a whole number of bytes, got {value!r}")
    return int(size)


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


#: The largest count a count flag takes: the run-time reads it as a C int.
_MAX_COUNT = 2**31 - 1


def _as_float(v: Any) -> float:
    """``v`` as a float, NaN where it is no number (True and False are none): each number flag's
    check then refuses NaN with its own words."""
    try:
        return float(_not_bool(v))
    except (TypeError, ValueError):
        return math.nan


def _nonneg_int(v: Any) -> int:
    """A whole number >= 0 (``"3"`` and ``3.0`` included; ``1.5`` is refused, not cut to 1)."""
    f = _as_float(v)
    if not f.is_integer() or f < 0:
        raise ValueError(f"expected a whole number >= 0, got {v!r}")
    if f > _MAX_COUNT:  # below it, a float holds every whole number exactly
        raise ValueError(f"expected a whole number at most {_MAX_COUNT}, got {v!r}")
    return int(f)


def _seconds(*, positive: bool = False, finite: bool = False) -> Callable[[Any], float]:
    """Seconds: never NaN; > 0 where ``positive``, else >= 0; where ``finite`` (a socket's or a
    sleep's timeout), at most the longest wait the clock can represent, else also infinity (wait
    for ever: the lock loops poll a deadline)."""
    bound = "> 0" if positive else ">= 0"
    expected = (
        f"a finite number of seconds {bound} and at most {threading.TIMEOUT_MAX:g}"
        if finite
        else f"a number of seconds {bound} (or inf)"
    )

    def parse(v: Any) -> float:
        f = float(_not_bool(v))
        too_long = finite and f > threading.TIMEOUT_MAX
        if math.isnan(f) or (f <= 0 if positive else f < 0) or too_long:
            raise ValueError(f"expected {expected}, got {v!r}")
        return f

    return parse


def _text(v: Any) -> str:
    """A string without NUL characters (no command line, path or URL can hold one)."""
    if not isinstance(v, str):
        raise ValueError(f"expected a string, got {v!r} ({type(v).__name__})")
    if "\0" in v:
        raise ValueError(f"expected a string without NUL characters, got {v!r}")
    return v


#: Compiler flags refused in cxx, cxxflags, gcc__cxxflags and march, each with why (shell-style
#: patterns: a name ending in "*" is a prefix).  fncache asks the compiler for one shared library, at a path it
#: chooses, built from the code its cache key describes, for this interpreter's ABI; a flag that
#: defeats one of those would fail later and obscurely, or worse, load and compute garbage.
#: Everything else is the user's choice (README "Configuration").
_REFUSED_FLAGS = (
    (
        ("-o*", "--outp*"),  # the linker's --output, which it takes abbreviated to --outp too
        "names the output file, which fncache chooses (its own -o comes last and wins)",
    ),
    (
        ("-c", "-S", "-E", "-fsyntax-only", "-###", "--help*", "--version", "-dump*", "-print-*"),
        "stops the compiler before it writes the shared library fncache loads",
    ),
    (
        (
            *("-T*", "--script*", "-dT", "--version-script*", "--dynamic-list*"),
            *("--retain-symbols-file*", "--just-symbols*"),
        ),
        "gives the linker a script or section addresses (-T FILE, -Wl,--script=FILE, -Ttext=ADDR, "
        "a symbol list: -Wl,--version-script=FILE): it changes what the compiled library links and "
        "loads, from a file the cache key does not hold",
    ),
    (
        (
            *("-B*", "-wrapper", "-fplugin*", "-fpass-plugin=*", "-iplugindir=*", "-plugin*"),
            *("--plugin*", "-load", "--ld-path=*", "-fuse-ld=*/*", "--gcc-toolchain*"),
            *("--gcc-install-dir*", "-ccc-install-dir*"),
        ),
        "runs a program or loads code into the compiler or the linker (a directory of compiler "
        "programs, a wrapper, a plugin): a configuration value must not run code of its choosing",
    ),
    (
        ("-fdump-*", "-aux-info", "-fopt-info*=*", "-Map*", "--Map*", "--dependency-file*", "--out-implib*"),
        "writes a file (a dump, a link map, an import library) outside the cache",
    ),
    (("-a*=*", "--MD"), "makes the assembler write a listing or dependency file outside the cache"),
    (
        ("-fprofile-generate=*", "-fprofile-dir=*", "-fprofile-prefix-path=*", "-fprofile-note=*"),
        "makes the library write profile data outside the cache when it runs (or the compiler, its notes)",
    ),
    (("-M*",), "writes dependency files (-MD, -MF, ...) or makes them instead of the library (-M, -MM)"),
    (("-save-temps*",), "leaves intermediate files in the working directory and beside the library"),
    (
        (
            *("@*", "-specs=*", "--specs=*", "-include", "-imacros", "-include-pch"),
            *("-fprofile-use=*", "-fauto-profile*"),
        ),
        "reads flags or code from a file the cache key does not hold, so editing it would not rebuild",
    ),
    (
        (
            *("-m16", "-m32", "-mx32", "-mabi=*", "-mlong-double-*", "-m96bit-long-double"),
            *("-m128bit-long-double", "-fpack-struct*", "-fshort-enums", "-fshort-wchar"),
            *("-freg-struct-return", "-fpcc-struct-return"),
        ),
        "changes the ABI: the library would not load into this Python, or would misread numpy's structures",
    ),
)

#: The linker's own -B options (passed with -Wl,): they choose how symbols bind, not where the
#: compiler finds its programs (gcc's -B), and are the user's choice.
_LINKER_B_OPTIONS = frozenset(
    ("-Bstatic", "-Bdynamic", "-Bsymbolic", "-Bsymbolic-functions", "-Bno-symbolic", "-Bshareable", "-Bgroup")
)


def _refused_flag(word: str) -> str | None:
    """Why the compiler argument ``word`` is refused (``_REFUSED_FLAGS``, shell-style patterns),
    or None; the options that ``-Wl,``, ``-Wp,`` and ``-Wa,`` pass on are checked too."""
    import fnmatch  # only when such a flag is set: not on every `import fncache`

    if word.startswith(("-Wl,", "-Wp,", "-Wa,")):
        passed = word.split(",")[1:]
        if word.startswith("-Wl,"):  # to the compiler itself, -Bsymbolic is -B symbolic
            passed = [w for w in passed if w not in _LINKER_B_OPTIONS]
        return next(filter(None, map(_refused_flag, passed)), None)
    for names, why in _REFUSED_FLAGS:
        if any(fnmatch.fnmatchcase(word, n) for n in names):
            return why
    return None


#: gcc's options whose argument may be the next word (``-I dir``, ``-x c``; the refused ones
#: above aside): that word is no file to compile or link.
_OPTIONS_WITH_ARGUMENT = frozenset(
    (
        *("-D", "-U", "-A", "-I", "-iquote", "-isystem", "-idirafter", "-iprefix", "-iwithprefix"),
        *("-iwithprefixbefore", "-isysroot", "-imultilib", "-L", "-l", "-u", "-z", "-x", "--param"),
        *("-Xlinker", "-Xassembler", "-Xpreprocessor"),
    )
)


def _operand_error(words: list[str]) -> str | None:
    """What is wrong with the first word of ``words`` that is neither an option nor the separate
    argument of one (``-I dir``): gcc would compile or link such a word (``foo.c``, ``lib.a``,
    ``-`` for standard input) into the library although the cache key does not hold the file."""
    wants = None  # the option whose argument the next word is
    for word in words:
        if wants is not None:
            wants = None
        elif word.startswith("-") and word != "-":
            wants = word if word in _OPTIONS_WITH_ARGUMENT else None
        else:
            return (
                f"{word!r} is not an option: gcc would compile or link it into the library, but the "
                "cache key does not hold that file; remove it (an option's argument goes right after the "
                "option: -I dir or -Idir)"
            )
    if wants is not None:
        return f"{wants!r} is missing its argument; give it one ({wants} VALUE) or remove it"
    return None


def _args(v: Any) -> str:
    """A string a shell would split into arguments (a compiler and any wrapper: ``ccache gcc``,
    ``qemu-x86_64 -cpu Nehalem gcc``): quotes balanced, and none of the flags fncache cannot build
    with (``_REFUSED_FLAGS``), so that a mistake is refused here rather than when a function is
    first compiled."""
    _words(v)
    return v


def _words(v: Any) -> list[str]:
    """``v`` split as a shell would (``_args``), each word checked against ``_REFUSED_FLAGS``."""
    _text(v)
    import shlex  # only when such a flag is set: not on every `import fncache`

    try:
        words = shlex.split(v)
    except ValueError as e:  # shlex says "No closing quotation"
        raise ValueError(f"{e} (a quote is not closed), got {v!r}") from None
    for word in words:  # the word after -Xlinker too: it is checked as the flag it is
        why = _refused_flag(word)
        if why is not None:
            raise ValueError(
                f"{word!r} {why}; remove it, got {v!r} (README's Configuration section lists the refused flags)"
            )
    return words


def _flags(v: Any) -> str:
    """Compiler flags (``_args``) that are only options and their arguments (``_operand_error``)."""
    why = _operand_error(_words(v))
    if why is not None:
        raise ValueError(f"{why}; got {v!r}")
    return v


def _march(v: Any) -> str:
    """``auto``, ``none`` or compiler flags (``_flags``)."""
    words = v.split() if isinstance(v, str) else []
    if words in (["auto"], ["none"]):
        return v
    if len(words) == 1 and not words[0].startswith("-"):  # march=native, for gcc's -march=native
        raise ValueError(f"expected auto, none or compiler flags such as -march=native, got {v!r}")
    return _flags(v)


def parse_path(v: Any) -> str:
    """A path, made absolute: not empty, no NUL, and not wrapped in quotes (quotes inside
    FNCACHE_FLAGS are part of the value; quote the whole variable in the shell instead)."""
    s = os.fspath(v) if isinstance(v, (str, os.PathLike)) else None
    if not isinstance(s, str):  # bytes paths too: the cache's paths are text
        raise ValueError(f"expected a path (a string or os.PathLike), got {v!r} ({type(v).__name__})")
    if not s.strip():
        raise ValueError(f"expected a path, got an empty one: {v!r}")
    if "\0" in s:
        raise ValueError(f"expected a path without NUL characters, got {v!r}")
    if len(s) > 1 and s[0] == s[-1] and s[0] in "'\"":
        raise ValueError(
            f"the path is wrapped in quotes, which would be part of its name, got {v!r}; "
            "give it unquoted (FNCACHE_FLAGS=compiledir=/path, quoting the whole variable in the shell)"
        )
    return os.path.abspath(os.path.expanduser(s))


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``parse``, or None for None, ``""``, ``"None"`` or ``"none"`` (the flag is off)."""

    def parse_optional(v: Any) -> Any:
        return None if v is None or (isinstance(v, str) and v in ("", "None", "none")) else parse(v)

    return parse_optional


def _cuda_arch(v: Any) -> str:
    s = str(v)
    if s != "auto" and not re.fullmatch(r"sm_[0-9]{2,3}[a-z]?", s):
        raise ValueError(f"expected 'auto' or an architecture such as 'sm_90', got {v!r}")
    return s


#: The named modes, upper-cased, and the one each stands for: Theano's and PyTensor's default
#: "Mode" is FAST_RUN, and so are PyTensor 3's modes of its compiled back ends ("C", "CVM",
#: "NUMBA", "JAX", "PYTORCH", "MLX"): each runs the graph as compiled code, which fncache's is
#: (``fncache.mode.get_mode`` reads this table too; DebugMode's names are
#: ``fncache.mode.DEBUG_MODE_NAMES``: config is below it).
MODE_NAMES = {
    "FAST_RUN": "FAST_RUN",
    "FAST_COMPILE": "FAST_COMPILE",
    **dict.fromkeys(("MODE", "C", "CVM", "NUMBA", "JAX", "PYTORCH", "MLX"), "FAST_RUN"),
}
#: The debugging modes by name, upper-cased, and how ``config.mode`` spells each.
DEBUGGING_MODE_NAMES = {"DEBUGMODE": "DEBUGMODE", "DEBUG_MODE": "DEBUG_MODE", "NANGUARDMODE": "NanGuardMode"}


def _mode(v: Any) -> str:
    s = str(v).upper()
    if s not in (*MODE_NAMES, *DEBUGGING_MODE_NAMES):
        raise ValueError(
            "expected FAST_RUN, FAST_COMPILE, Mode (FAST_RUN, as are PyTensor's C, CVM, NUMBA, JAX, "
            f"PYTORCH and MLX), DebugMode or NanGuardMode, got {v!r}"
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
#: it (PyTensor 3's back ends "numba", "jax", "pytorch" and "mlx" too), which fncache's C
#: run-time does. The flag and ``fc.Mode(linker=...)`` both read them.
LINKER_SPELLINGS = {
    "auto": "auto",
    "c": "c",
    "py": "py",
    **dict.fromkeys(("cvm", "cvm_nogc", "vm", "vm_nogc", "c|py", "c|py_nogc"), "c"),
    **dict.fromkeys(("numba", "jax", "pytorch", "mlx"), "c"),
}


def _linker(v: Any) -> str:
    s = str(v)
    if s not in LINKER_SPELLINGS:
        raise ValueError(f"expected one of {', '.join(LINKER_SPELLINGS)}, got {v!r}")
    return LINKER_SPELLINGS[s]


#: The optimizers by name, lower-cased (PyTensor's ``predefined_optimizers`` too), and what each
#: runs here: fncache's optimizer, and the rewrite tags it adds and removes. PyTensor's ``o4``
#: is its default, FAST_RUN; ``o3`` is FAST_RUN without in-place rewrites and ``unsafe`` that
#: plus the rewrites tagged unsafe (assertions removed); ``o1`` is FAST_COMPILE, ``o2`` that plus fusion;
#: ``merge`` merges equal nodes and nothing more; ``minimum_compile`` is None (fncache needs no
#: rewrite to run a graph); ``stabilize`` and ``fast_run_stable`` are FAST_RUN, whose
#: stabilizing rewrites fncache runs in it. ``fncache.mode.Mode`` and the flag read this table.
OPTIMIZER_SPELLINGS: dict[str, tuple[str | None, tuple[str, ...], tuple[str, ...]]] = {
    "fast_run": ("fast_run", (), ()),
    "fast_compile": ("fast_compile", (), ()),
    "none": (None, (), ()),
    "o1": ("fast_compile", (), ()),
    "o2": ("fast_compile", ("fusion",), ()),
    "o3": ("fast_run", (), ("inplace",)),
    "o4": ("fast_run", (), ()),
    "unsafe": ("fast_run", ("unsafe",), ("inplace",)),
    "merge": (None, ("merge",), ()),
    "minimum_compile": (None, (), ()),
    "stabilize": ("fast_run", (), ()),
    "fast_run_stable": ("fast_run", (), ()),
}


def optimizer_spelling(v: Any) -> str:
    """``v`` as a key of ``OPTIMIZER_SPELLINGS`` (None is ``"none"``), or ValueError naming the
    names it takes."""
    s = "none" if v is None else str(v).lower()
    if s not in OPTIMIZER_SPELLINGS:
        raise ValueError(
            f"expected one of fast_run, fast_compile, None or PyTensor's {', '.join(list(OPTIMIZER_SPELLINGS)[3:])} "
            f"(docs/porting.md), got {v!r}"
        )
    return s


def _optimizer(v: Any) -> str | None:
    if isinstance(v, str) and v.lower() == "auto":
        return "auto"
    s = optimizer_spelling(v)
    return None if s == "none" else s


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


#: The remote tier's URL schemes: ``redis://``, ``rediss://`` (TLS) and ``unix://`` (a socket path).
REMOTE_SCHEMES = ("redis", "rediss", "unix")
#: The query parameters a remote_cache URL may carry (redis-py's names); the ``ssl_`` ones are rediss://'s.
_REMOTE_PARAMETERS = ("db", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs")
_URL_FORM = "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], rediss://... (TLS) or unix:///PATH/TO/SOCKET[?db=DB]"


def redact_url(url: str) -> str:
    """``url`` with its password hidden (the user stays): what printing the config, errors, logs
    and the ``fncache`` command show of a URL.

    Read as text, not parsed, so that it also hides the password of a URL reported because it
    does not parse (a bad port, an unclosed ``[``, a ``/`` in the password): everything before the
    last ``@`` is user information, and with no ``:`` in it all of it is taken for a password (a
    user without one is refused, so it is most likely a password without its ``:``).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    userinfo, at, tail = rest.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        rest = f"{user}:***@{tail}" if colon else f"***@{tail}"
    rest = re.sub(r"(?i)([?&;]password=)[^&;#]*", r"\1***", rest)
    return f"{scheme}{sep}{rest}"


def parse_remote_url(url: str) -> dict[str, Any]:
    """The connection settings of a remote_cache URL (redis-py's spelling: ``_URL_FORM``): every
    part checked, so that a URL that cannot work is refused when it is given, not when the tier
    first connects.  ValueError says which part is wrong, shows the URL with its password hidden
    and how to write it."""
    from urllib.parse import parse_qs, unquote, urlsplit  # only for a URL: not on every import

    shown = repr(redact_url(url))

    def bad(what: str, fix: str = f"write {_URL_FORM}") -> ValueError:
        return ValueError(f"{shown}: {what}; {fix}")

    if any(c.isspace() or not c.isprintable() for c in url):
        raise bad("a space or control character", "percent-encode it (a space is %20)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:  # an unclosed "[", a port that is no number or out of range
        raise bad(f"bad host or port ({e})") from None
    scheme = parts.scheme.lower()
    if scheme not in REMOTE_SCHEMES or "://" not in url:
        raise bad(f"unsupported URL scheme {parts.scheme!r}", f"expected one of {_URL_FORM}")
    query = parse_qs(parts.query, keep_blank_values=True)
    for name in query:
        if name not in _REMOTE_PARAMETERS:
            raise bad(f"unknown parameter {name!r}", f"the known ones are {', '.join(_REMOTE_PARAMETERS)}")
        if name.startswith("ssl_") and scheme != "rediss":
            raise bad(f"parameter {name!r} is for TLS", "use rediss:// (or leave it out)")
    q = {k: v[-1] for k, v in query.items()}
    if q.get("ssl_cert_reqs", "required") not in ("none", "optional", "required"):
        raise bad(f"ssl_cert_reqs={q['ssl_cert_reqs']!r}", "give none, optional or required")
    if "ssl_keyfile" in q and "ssl_certfile" not in q:
        raise bad("ssl_keyfile without ssl_certfile", "give the client certificate with ssl_certfile=")
    if parts.username and parts.password is None:
        raise bad(
            "a user without a password", "write USER:PASSWORD@ (or :PASSWORD@ for Redis's default user)"
        )
    out: dict[str, Any] = {
        "tls": scheme == "rediss",
        "unix": None,
        "host": None,
        "port": 6379,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "db": 0,
        "verify": q.get("ssl_cert_reqs", "required") != "none",
        "ca": q.get("ssl_ca_certs"),
        "cert": q.get("ssl_certfile"),
        "key": q.get("ssl_keyfile"),
    }
    db = q.get("db")
    if scheme == "unix":
        if parts.hostname or port is not None:
            raise bad("a host in a unix:// URL", "name the socket alone: unix:///PATH/TO/SOCKET")
        if not parts.path.strip("/"):
            raise bad("no socket path", "write unix:///PATH/TO/SOCKET")
        out["unix"] = unquote(parts.path)
    else:
        if not parts.hostname:
            raise bad("no host", f"write {scheme}://HOST[:PORT][/DB]")
        if port == 0:
            raise bad("port 0", "give a port from 1 to 65535 (Redis listens on 6379)")
        out["host"] = parts.hostname
        out["port"] = port or 6379
        path = parts.path.strip("/")
        if path and db is None:
            db = path
    if db is not None:
        if not (re.fullmatch(r"[0-9]{1,10}", db) and int(db) <= _MAX_COUNT):
            given = db if len(db) <= 20 else f"{db[:20]}..."
            raise bad(f"database {given!r} is not a number from 0 to {_MAX_COUNT}", "give its index: .../0")
        out["db"] = int(db)
    return out


def _remote_url(v: Any) -> str:
    """A remote_cache URL (:func:`parse_remote_url`); the errors never show its password."""
    if not isinstance(v, str):  # not its repr: a bytes URL would show its password
        raise ValueError(f"expected a string, got a {type(v).__name__}")
    parse_remote_url(v)
    return v


def _shown(name: str, value: Any) -> Any:
    """A flag's value as printing the config shows it: a URL's password hidden."""
    return redact_url(value) if name == "remote_cache" and value else value


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
        parse_path,
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
        _args,
        "C compiler (it may hold a wrapper: 'ccache gcc'); '' (Theano's: none) runs the modes given by "
        "name with the Python linker",
        "kernel_library",
    ),
    "cxxflags": _Flag("-O3", _flags, "the compiler's optimization and other flags", "kernel_library"),
    "gcc__cxxflags": _Flag(
        "",
        _flags,
        "flags added after cxxflags (Theano's gcc.cxxflags, also spelled so)",
        "kernel_library",
    ),
    "march": _Flag("auto", _march, "auto (detected), a flags string, or none", "kernel_library"),
    "vector_width": _Flag(
        "auto",
        _choice("auto", "default", "128", "256", "512"),
        "preferred SIMD width: auto (measured per host), default (the compiler's), or 128/256/512 bits",
        "kernel_library",
    ),
    "threads": _Flag(0, _nonneg_int, "threads for large arrays; 0 = all cores"),
    "openmp": _Flag(True, _bool, "False: every loop on one thread, whatever threads says (Theano's flag)"),
    "warn_float64": _Flag(
        "ignore",
        _choice("ignore", "warn", "raise", "pdb"),
        "what to do when a float64 is created from non-float64 inputs (pdb: warn, then stop in the debugger)",
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
    "lock_timeout": _Flag(600.0, _seconds(), "seconds to wait for a lock (inf: for ever)"),
    "lease_seconds": _Flag(
        30.0,
        _seconds(positive=True, finite=True),
        "seconds without a refresh after which another host may break a lease; "
        "every process sharing a compiledir must use the same value",
    ),
    "cache_max_size": _Flag(10 * 10**9, parse_size, "size cap of the compiledir (0 = none)"),
    "signing_key": _Flag(None, _optional(parse_path), "path of an HMAC key file"),
    "remote_cache": _Flag(None, _optional(_remote_url), "redis://host:port/db remote tier"),
    "remote_timeout": _Flag(2.0, _seconds(finite=True), "seconds any remote-tier call may wait"),
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


def _int(v: Any) -> int:
    """A whole number, negative too (``"-1"``, ``3.0``; ``1.5`` is refused, not cut to 1)."""
    f = _as_float(v)
    if not f.is_integer():
        raise ValueError(f"expected a whole number, got {v!r}")
    return int(f)


def _number(v: Any) -> float:
    """A number, infinity included, never NaN."""
    f = _as_float(v)
    if math.isnan(f):
        raise ValueError(f"expected a number, got {v!r}")
    return f


def _nonneg_number(v: Any) -> float:
    """A number >= 0 (Theano's ``lib.cnmem``)."""
    f = _number(v)
    if f < 0:
        raise ValueError(f"expected a number >= 0, got {v!r}")
    return f


def _theano_device(v: Any) -> str:
    """Theano's GPU name of ``init_gpu_device``: '' (none), ``cuda*`` or ``opencl*`` (its
    gpuarray back end), or ``gpu``/``gpu0``...``gpu15`` (its older CUDA back end, up to 0.9)."""
    s = _text(v)
    if s and not s.startswith(("cuda", "opencl")) and not re.fullmatch(r"gpu(1[0-5]|[0-9])?", s):
        raise ValueError(f"expected '', cuda*, opencl*, gpu or gpu0...gpu15, got {v!r}")
    return s


def _nvcc_flags(v: Any) -> str:
    """Theano's ``nvcc.flags``: options only, each word starting with '-' (``--machine=64``)."""
    words = _text(v).split()
    if any(not w.startswith("-") for w in words):
        raise ValueError(
            f"expected options each starting with '-' ('--machine=64', not '--machine 64'), got {v!r}"
        )
    return " ".join(words)


class _Foreign(NamedTuple):
    """A flag of Theano or PyTensor that changes nothing in fncache: taken, so that a ported
    script or flag string runs, with a warning saying why it changes nothing (``instead``)."""

    default: Any
    parse: Callable[[Any], Any]
    instead: str


_NO_C_CACHE = (
    "fncache compiles and caches its own C run-time and kernels (compiledir, cxx, cxxflags, "
    'lock_timeout; README "Configuration")'
)
_NO_REWRITE_LOG = (
    "fncache's rewrites are its own and log nothing per rewrite (optimizer_excluding=TAG skips one)"
)
_DEBUG = "give it to fc.DebugMode({}=...), which reads no flag"
_NAN_GUARD = "give it to fc.NanGuardMode({}=...), which reads no flag"
_PROFILE = (
    "fc.function(..., profile=True) or the profile flag; f.profile.summary(file, n_apply_to_print) prints it"
)
_NO_VM = "fncache runs a function as one compiled program, not PyTensor's virtual machine"
_NO_BACKEND = "fncache compiles to C itself, not with PyTensor's {} back end"
_BLAS = "fncache's matrix products call the BLAS numpy uses"
_SCAN = "fncache's scan keeps the buffers of its steps itself"
_TRACE = "exception_verbosity=high shows the line that made the failing node"
_NO_OLD_BUGS = "fncache has none of Theano's old bugs to warn of"
_GPU = 'device=cuda runs functions on the GPU found (README "GPUs"), not Theano\'s gpuarray back end'
_GPU_MEMORY = "fncache's GPU memory comes from a caching pool that grows as arrays need it"
_NVCC = (
    "fncache finds nvcc itself ($FNCACHE_NVCC, $CUDA_HOME/bin, $CUDA_PATH/bin, PATH) and chooses its flags"
)
_NO_CUDNN = "fncache calls no cuDNN: its convolutions are its own code"
_SETERR = "fncache leaves numpy's error handling as it is: call numpy.seterr() instead"
_REWRITE_TAGS = "optimizer_including and optimizer_excluding choose the rewrites"
_CUDNN_ALGOS_RUNTIME = ("guess_once", "guess_on_shape_change", "time_once", "time_on_shape_change")

#: Theano's and PyTensor's flags that fncache does not have, each with the value it reads as
#: (PyTensor's default, Theano's for a flag PyTensor dropped, or the value of fncache's own
#: equivalent: DebugMode's and NanGuardMode's defaults, what int_division does here), the
#: checks PyTensor (or Theano) makes of a value, and why setting it changes nothing here.
#: No cache key reads them.
_FOREIGN_FLAGS: dict[str, _Foreign] = {
    "cast_policy": _Foreign(
        "custom", _choice("custom", "numpy+floatX"), 'results have numpy\'s dtypes (docs/numpy.md "Dtypes")'
    ),
    "print_global_stats": _Foreign(False, _bool, _PROFILE),
    "unpickle_function": _Foreign(True, _bool, "a pickled function always loads as one (fc.loads)"),
    "optimizer_verbose": _Foreign(False, _bool, _NO_REWRITE_LOG),
    "optimizer_verbose_ignore": _Foreign("", _text, _NO_REWRITE_LOG),
    "compiler_verbose": _Foreign(False, _bool, "fncache prints nothing of its compiles"),
    "on_opt_error": _Foreign(
        "warn", _choice("warn", "raise", "pdb", "ignore"), "an error in a rewrite of fncache's is raised"
    ),
    "gcc_version_str": _Foreign(
        "", _text, "fncache asks the compiler of cxx itself; its version is in every cache key"
    ),
    "nocleanup": _Foreign(False, _bool, _NO_C_CACHE),
    "cmodule__warn_no_version": _Foreign(False, _bool, _NO_C_CACHE),
    "cmodule__remove_gxx_opt": _Foreign(False, _bool, "set cxxflags (-O0 -g for a debugger) instead"),
    "cmodule__compilation_warning": _Foreign(False, _bool, _NO_C_CACHE),
    "cmodule__preload_cache": _Foreign(
        False, _bool, "fncache's cache needs no preloading: an entry is read when used"
    ),
    "cmodule__age_thresh_use": _Foreign(
        2073600, _int, "cache_max_size caps the compiledir, least recently used entries evicted first"
    ),
    "cmodule__debug": _Foreign(False, _bool, "set cxxflags (-O0 -g -DDEBUG) instead"),
    "compile__wait": _Foreign(
        5, _int, "a process waits on one entry's lock only; lock_timeout bounds the wait"
    ),
    "compile__timeout": _Foreign(
        120,
        _int,
        "a dead compiler's lock is broken at once, a live one's after lease_seconds (lock_mode=lease)",
    ),
    "tensor__cmp_sloppy": _Foreign(0, _int, "compare with numpy's allclose and your own tolerances"),
    "lib__amdlibm": _Foreign(False, _bool, "fncache's kernels call the C library's or its own vector math"),
    "tensor__insert_inplace_optimizer_validate_nb": _Foreign(-1, _int, _NO_REWRITE_LOG),
    "traceback__limit": _Foreign(8, _int, _TRACE),
    "traceback__compile_limit": _Foreign(0, _int, _TRACE),
    "warn__ignore_bug_before": _Foreign(
        "0.9",
        _choice(
            *("None", "all", "0.3", "0.4", "0.4.1", "0.5", "0.6", "0.7", "0.8", "0.8.1", "0.8.2", "0.9"),
            *("0.10", "1.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.0.5"),
        ),
        _NO_OLD_BUGS,
    ),
    "check_input": _Foreign(True, _bool, "a call checks its inputs; f.trust_input = True skips the checks"),
    "NanGuardMode__nan_is_error": _Foreign(True, _bool, _NAN_GUARD.format("nan_is_error")),
    "NanGuardMode__inf_is_error": _Foreign(True, _bool, _NAN_GUARD.format("inf_is_error")),
    "NanGuardMode__big_is_error": _Foreign(True, _bool, _NAN_GUARD.format("big_is_error")),
    "NanGuardMode__action": _Foreign(
        "raise", _choice("raise", "warn", "pdb"), "fc.NanGuardMode raises AssertionError naming the node"
    ),
    "DebugMode__patience": _Foreign(1, _int, _DEBUG.format("stability_patience")),
    "DebugMode__check_c": _Foreign(True, _bool, _DEBUG.format("check_c_code")),
    "DebugMode__check_py": _Foreign(True, _bool, _DEBUG.format("check_py_code")),
    "DebugMode__check_finite": _Foreign(True, _bool, _DEBUG.format("check_isfinite")),
    "DebugMode__check_strides": _Foreign(0, _int, _DEBUG.format("require_matching_strides")),
    "DebugMode__warn_input_not_reused": _Foreign(
        True, _bool, "fc.DebugMode raises BadDestroyMap or BadViewMap for an op that breaks its maps"
    ),
    "DebugMode__check_preallocated_output": _Foreign("", _text, _DEBUG.format("check_preallocated_output")),
    "DebugMode__check_preallocated_output_ndim": _Foreign(
        4, _int, "fc.DebugMode's preallocated outputs are the C run-time's own (README, DebugMode)"
    ),
    "profiling__time_thunks": _Foreign(True, _bool, _PROFILE),
    "profiling__n_apply": _Foreign(20, _int, _PROFILE),
    "profiling__n_ops": _Foreign(20, _int, _PROFILE),
    "profiling__output_line_width": _Foreign(512, _int, _PROFILE),
    "profiling__min_memory_size": _Foreign(1024, _int, _PROFILE),
    "profiling__min_peak_memory": _Foreign(False, _bool, _PROFILE),
    "profiling__destination": _Foreign("stderr", _text, _PROFILE),
    "profiling__debugprint": _Foreign(False, _bool, "print f.dprint() of the profiled function"),
    "profiling__ignore_first_call": _Foreign(False, _bool, _PROFILE),
    "on_shape_error": _Foreign(
        "warn", _choice("warn", "raise"), "a shape is computed with the value, never guessed"
    ),
    "openmp_elemwise_minsize": _Foreign(
        200000,
        _nonneg_int,
        "the run-time splits a loop over threads from 32768 elements, and below 524288 only where "
        "its calls measured faster on threads; threads=1 (or openmp=False) keeps every loop on one thread",
    ),
    "optimizer_requiring": _Foreign(
        "", _text, "optimizer_including and optimizer_excluding choose the rewrites"
    ),
    "optdb__position_cutoff": _Foreign(
        math.inf, _number, "optimizer=fast_compile or None runs fewer rewrites"
    ),
    "optdb__max_use_ratio": _Foreign(8.0, _number, "fncache's rewrites run a fixed number of passes"),
    "cycle_detection": _Foreign(
        "regular", _choice("regular", "fast"), "fncache's in-place rewrite makes no cycles to detect"
    ),
    "check_stack_trace": _Foreign("off", _choice("off", "log", "warn", "raise"), _TRACE),
    "profile_optimizer": _Foreign(False, _bool, _PROFILE),
    "profile_memory": _Foreign(False, _bool, _PROFILE),
    "vm__lazy": _Foreign(None, _optional(_bool), _NO_VM),
    "numba__fastmath": _Foreign(
        True, _bool, _NO_BACKEND.format("Numba") + "; cxxflags=-ffast-math is the like"
    ),
    "numba__cache": _Foreign(
        True, _bool, _NO_BACKEND.format("Numba") + "; every compiled function is cached"
    ),
    "compiledir_format": _Foreign(
        "compiledir_%(short_platform)s-%(processor)s-%(python_version)s-%(python_bitwidth)s",
        _text,
        "fncache keys each entry by host and Python itself: one compiledir serves them all",
    ),
    "base_compiledir": _Foreign(None, _optional(parse_path), "set compiledir, the cache's root"),
    "blas__ldflags": _Foreign("", _text, _BLAS),
    "blas__check_openmp": _Foreign(True, _bool, _BLAS),
    "scan__allow_gc": _Foreign(False, _bool, _SCAN),
    "scan__allow_output_prealloc": _Foreign(True, _bool, _SCAN),
    # Theano 1.0's flags that PyTensor dropped (and a few of Theano 0.9's, nvcc's and lib.cnmem),
    # with Theano's defaults and checks
    "int_division": _Foreign(
        "floatX",
        _choice("int", "raise", "floatX"),
        "x / y of integers is a float of floatX's dtype (Theano's int_division=floatX); x // y divides integers",
    ),
    "deterministic": _Foreign(
        "default",
        _choice("default", "more"),
        "fncache's kernels add no values with atomic operations, the nondeterminism deterministic=more avoided",
    ),
    "init_gpu_device": _Foreign("", _theano_device, _GPU),
    "force_device": _Foreign(False, _bool, _GPU + "; device=cuda raises where no GPU can be used"),
    "print_active_device": _Foreign(True, _bool, _GPU),
    "enable_initial_driver_test": _Foreign(True, _bool, _GPU),
    "contexts": _Foreign("", _text, _GPU),
    "cuda__enabled": _Foreign(True, _bool, _GPU),
    "cuda__root": _Foreign("", _text, _NVCC),
    "nvcc__flags": _Foreign("", _nvcc_flags, _NVCC),
    "nvcc__compiler_bindir": _Foreign("", _text, _NVCC),
    "nvcc__fastmath": _Foreign(
        False, _bool, "fncache builds its CUDA kernels with IEEE math, so that NaN and inf are numpy's"
    ),
    "lib__cnmem": _Foreign(0.0, _nonneg_number, _GPU_MEMORY),
    "gpuarray__preallocate": _Foreign(0.0, _number, _GPU_MEMORY),
    "gpuarray__sched": _Foreign("default", _choice("default", "multi", "single"), _GPU),
    "gpuarray__single_stream": _Foreign(True, _bool, _GPU),
    "gpuarray__sync": _Foreign(False, _bool, _GPU),
    "gpuelemwise__sync": _Foreign(True, _bool, _GPU),
    "gpu__local_elemwise_fusion": _Foreign(True, _bool, "optimizer_excluding=fusion skips fncache's fusion"),
    "tensor__local_elemwise_fusion": _Foreign(
        True, _bool, "optimizer_excluding=fusion skips fncache's fusion"
    ),
    "assert_no_cpu_op": _Foreign(
        "ignore",
        _choice("ignore", "warn", "raise", "pdb"),
        "docs/cuda.md lists the ops device=cuda runs on the host",
    ),
    "dnn__enabled": _Foreign("auto", _choice("auto", "True", "False", "no_check"), _NO_CUDNN),
    "dnn__conv__algo_fwd": _Foreign(
        "small",
        _choice(
            *("small", "none", "large", "fft", "fft_tiling", "winograd", "winograd_non_fused"),
            *_CUDNN_ALGOS_RUNTIME,
        ),
        _NO_CUDNN,
    ),
    "dnn__conv__algo_bwd_data": _Foreign(
        "none",
        _choice(
            *("none", "deterministic", "fft", "fft_tiling", "winograd", "winograd_non_fused"),
            *_CUDNN_ALGOS_RUNTIME,
        ),
        _NO_CUDNN,
    ),
    "dnn__conv__algo_bwd_filter": _Foreign(
        "none",
        _choice(
            *("none", "deterministic", "fft", "small", "winograd_non_fused", "fft_tiling"),
            *_CUDNN_ALGOS_RUNTIME,
        ),
        _NO_CUDNN,
    ),
    "dnn__conv__precision": _Foreign(
        "as_input_f32", _choice("as_input_f32", "as_input", "float16", "float32", "float64"), _NO_CUDNN
    ),
    "magma__enabled": _Foreign(False, _bool, "fncache's linear algebra runs on the host (docs/cuda.md)"),
    "magma__include_path": _Foreign("", _text, "fncache's linear algebra runs on the host (docs/cuda.md)"),
    "magma__library_path": _Foreign("", _text, "fncache's linear algebra runs on the host (docs/cuda.md)"),
    "ctc__root": _Foreign("", _text, "fncache's ctc is its own code, not Baidu's library"),
    "conv__assert_shape": _Foreign(
        False,
        _bool,
        "a convolution's declared input_shape and filter_shape are checked against its inputs' on every call",
    ),
    "experimental__unpickle_gpu_on_cpu": _Foreign(False, _bool, _GPU),
    "experimental__local_alloc_elemwise_assert": _Foreign(True, _bool, _NO_REWRITE_LOG),
    "compute_test_value_opt": _Foreign(
        "off",
        _choice("off", "ignore", "warn", "raise", "pdb"),
        "compute_test_value evaluates the nodes as they are built; fncache's rewrites make none to evaluate",
    ),
    "cache_optimizations": _Foreign(False, _bool, "fncache caches each compiled function whole (compiledir)"),
    "metaopt__verbose": _Foreign(0, _int, _NO_REWRITE_LOG),
    "metaopt__optimizer_including": _Foreign("", _text, _REWRITE_TAGS),
    "metaopt__optimizer_excluding": _Foreign("", _text, _REWRITE_TAGS),
    "scan__debug": _Foreign(False, _bool, _SCAN),
    "numpy__seterr_all": _Foreign(
        "ignore", _choice("ignore", "warn", "raise", "call", "print", "log", "None"), _SETERR
    ),
    **dict.fromkeys(
        ("numpy__seterr_divide", "numpy__seterr_over", "numpy__seterr_under", "numpy__seterr_invalid"),
        _Foreign("None", _choice("None", "ignore", "warn", "raise", "call", "print", "log"), _SETERR),
    ),
    # their defaults as warn.ignore_bug_before's, 0.9, makes them
    **dict.fromkeys(
        (
            *("warn__argmax_pushdown_bug", "warn__gpusum_01_011_0111_bug", "warn__sum_sum_bug"),
            *("warn__sum_div_dimshuffle_bug", "warn__subtensor_merge_bug", "warn__gpu_set_subtensor1"),
            *("warn__vm_gc_bug", "warn__signal_conv2d_interface", "warn__reduce_join"),
            *("warn__inc_set_subtensor1", "warn__identify_1pexp_bug"),
        ),
        _Foreign(False, _bool, _NO_OLD_BUGS),
    ),
    "warn__inc_subtensor1_opt": _Foreign(True, _bool, _NO_OLD_BUGS),
}


def _flag_name(name: str) -> str:
    """A flag's name as declared: Theano's section spelling ``gcc.cxxflags`` is ``gcc__cxxflags``."""
    return name.replace(".", "__")


#: Flags whose value changes generated code, and the kind of key that reads each.
CODE_FLAG_KEYS: dict[str, str] = {n: f.changes_code for n, f in sorted(_FLAGS.items()) if f.changes_code}
CODE_FLAGS: tuple[str, ...] = tuple(CODE_FLAG_KEYS)


def _unknown(given: str, source: str = "config") -> str:
    """The error for a flag name that is none: the known ones, and the nearest of them."""
    import difflib  # only for this error: not on every `import fncache`

    by_lower = {n.lower(): n for n in (*_FLAGS, *_FOREIGN_FLAGS)}
    near = difflib.get_close_matches(_flag_name(given).lower(), by_lower, n=1, cutoff=0.75)
    hint = f"; did you mean {by_lower[near[0]]!r}?" if near else ""
    return (
        f"{source}: unknown flag {given!r}; known flags: {', '.join(sorted(_FLAGS))}, and Theano's "
        f'and PyTensor\'s others, taken and changing nothing (docs/porting.md "Flags"){hint}'
    )


class Config:
    """The flag registry. Read and write flags as attributes."""

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_version", 0)
        for name, flag in (*_FLAGS.items(), *_FOREIGN_FLAGS.items()):
            self._values[name] = flag.default
        self._values["compiledir"] = _default_compiledir()
        self._set_from(os.environ.get("FNCACHE_FLAGS", ""), source="FNCACHE_FLAGS")

    def _set_from(self, flags: str, source: str) -> None:
        """Set the flags of ``NAME=VALUE,NAME=VALUE`` (Theano's syntax: items and names trimmed,
        empty items skipped, the right-most of a repeated flag wins)."""
        for item in filter(None, (p.strip() for p in flags.split(","))):
            name, eq, value = item.partition("=")
            if not eq:
                raise ValueError(
                    f"{source}: expected NAME=VALUE items separated by ',' "
                    f"(e.g. floatX=float32,threads=2), got {redact_url(item)!r}"
                )
            if not name.strip():
                raise ValueError(f"{source}: empty flag name in {redact_url(item)!r}; write NAME=VALUE")
            self._set(name.strip(), value.strip(), source=source)

    def _set(self, given: str, value: Any, source: str = "config") -> None:
        name = _flag_name(given)
        flag = _FLAGS.get(name) or _FOREIGN_FLAGS.get(name)
        if flag is None:
            raise AttributeError(_unknown(given, source))
        try:
            parsed = flag.parse(value)
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(f"{source}: bad value for flag {name!r}: {e}") from None
        self._values[name] = parsed
        if isinstance(flag, _Foreign):  # nothing reads it: no derived value to refresh
            logging.getLogger(__name__).warning(
                "fncache: flag %s=%r (Theano's and PyTensor's) is accepted and changes nothing: %s",
                name,
                parsed,
                flag.instead,
            )
            return
        object.__setattr__(self, "_version", self._version + 1)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[_flag_name(name)]
        except KeyError:
            pass
        if any(n.startswith(f"{_flag_name(name)}__") for n in self._values):
            return _Section(self, name)  # Theano's config.traceback.limit
        raise AttributeError(_unknown(name))

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


class _Section:
    """A section of Theano's flags (``config.traceback``): ``config.traceback.limit`` reads and
    sets the flag ``traceback__limit``."""

    __slots__ = ("_config", "_name")

    def __init__(self, cfg: Config, name: str) -> None:
        object.__setattr__(self, "_config", cfg)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, f"{self._name}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._config, f"{self._name}.{name}", value)


#: The environment variables Theano and PyTensor read their flags from; fncache reads neither.
_FOREIGN_FLAG_VARIABLES = ("THEANO_FLAGS", "PYTENSOR_FLAGS")
#: Their defaults spelled differently from fncache's: a variable restating one asks for the
#: default, which fncache's own default already is (its ``optimizer=auto`` is the named mode's
#: rewrites, FAST_RUN's by default), so it is not a difference worth a warning.
_FOREIGN_DEFAULTS = {"optimizer": ("fast_run", "o4")}


def foreign_flags_warnings(cfg: Config, environ: Mapping[str, str]) -> list[str]:
    """One warning per variable of ``_FOREIGN_FLAG_VARIABLES`` in ``environ`` that sets a flag
    fncache also has to a value other than ``cfg``'s: a script ported from Theano or PyTensor
    keeps its ``THEANO_FLAGS=floatX=float32``, and fncache must not run with float64 in silence
    (nor take another library's variable as its own: only ``FNCACHE_FLAGS`` sets its flags).
    Flags fncache does not have, and items that are not ``NAME=VALUE``, are that library's."""
    out = []
    for var in _FOREIGN_FLAG_VARIABLES:
        differ, refused = [], []
        for item in filter(None, (p.strip() for p in environ.get(var, "").split(","))):
            given, eq, value = (t.strip() for t in item.partition("="))
            name = _flag_name(given)
            if not eq or name not in _FLAGS:
                continue
            try:
                parsed = _FLAGS[name].parse(value)
            except (TypeError, ValueError, OverflowError) as e:
                refused.append(
                    f"{given}={_brief(redact_url(value))} (fncache cannot take it: {_brief(str(e), 5 * _BRIEF_CHARS)})"
                )
                continue
            restates_default = (
                parsed in _FOREIGN_DEFAULTS.get(name, ()) and cfg._values[name] == _FLAGS[name].default
            )
            if parsed != cfg._values[name] and not restates_default:
                differ.append((given, value, name))
        if not differ and not refused:
            continue
        parts = [
            f"{given}={_brief(redact_url(v))} (fncache uses {_shown(n, cfg._values[n])!r})"
            for given, v, n in differ
        ]
        text = f"{var} sets {', '.join(parts + refused)}, which fncache does not apply: it reads FNCACHE_FLAGS only"
        if differ:
            wanted = ",".join(f"{n}={redact_url(v)}" for _, v, n in differ)
            # the suggestion is to be copied: whole, or not spelled out where a value is shown clipped
            whole = all(_brief(redact_url(v)) == redact_url(v) for _, v, _ in differ)
            shown = f"={wanted}" if whole else " to them"
            text += f"; to apply them, set FNCACHE_FLAGS{shown} (README, Configuration)"
        out.append(text)
    return out


#: The most characters of a value a foreign-flags warning shows (a variable may hold a long one).
_BRIEF_CHARS = 80


def _brief(text: str, limit: int = _BRIEF_CHARS) -> str:
    """``text`` as one warning line shows it: control characters escaped (a newline would split
    the line), its ends where it is longer than ``limit`` (a reason is longer than a value)."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}...{text[-half:]} ({len(text)} characters)"


def _warn_of_foreign_flags(cfg: Config) -> None:
    for text in foreign_flags_warnings(cfg, os.environ):
        logging.getLogger(__name__).warning("%s", text)


config = Config()
_warn_of_foreign_flags(config)
