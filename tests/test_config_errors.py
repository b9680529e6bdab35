"""Bad configuration: every flag, set as an attribute, through ``change_flags`` or through
``FNCACHE_FLAGS``, refuses a value it cannot use when it is set, with an error naming the flag,
what it expects and the value given; nothing is kept of a refused value, an unknown flag's name
is refused with the nearest known one, and a compiledir that cannot be created is a
``CacheError`` naming it."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.config import Config

NAN, INF = float("nan"), float("inf")

BAD_VALUES: list[tuple[str, Any, str]] = [
    # numbers: no NaN, no infinity where a whole number or a finite wait is needed, no bool,
    # no fraction silently cut off, nothing the run-time's C int cannot hold
    ("threads", INF, "whole number"),
    ("threads", NAN, "whole number"),
    ("threads", 1.5, "whole number"),
    ("threads", "1.5", "whole number"),
    ("threads", True, "whole number"),
    ("threads", 2**31, "at most"),
    ("threads", -1, ">= 0"),
    ("openmp_elemwise_minsize", INF, "whole number"),
    ("cache_max_size", INF, "size"),
    ("cache_max_size", NAN, "size"),
    ("cache_max_size", 0.5, "whole number of bytes"),
    ("cache_max_size", "1.5", "whole number of bytes"),
    ("cache_max_size", True, "size"),
    ("lock_timeout", NAN, "number"),
    ("lock_timeout", "nan", "number"),
    ("lock_timeout", False, "number"),
    ("remote_timeout", INF, "finite"),
    ("remote_timeout", "1e400", "finite"),
    ("remote_timeout", NAN, "number"),
    ("lease_seconds", NAN, "finite"),
    # a wait longer than the clock's limit fails in every socket and sleep that is given it
    ("remote_timeout", 1e30, "at most"),
    ("lease_seconds", "1e12", "at most"),
    # text: a string, without NUL, that splits into arguments as a shell would
    ("cxx", None, "a string"),
    ("cxxflags", 3, "a string"),
    ("march", ["-O2"], "a string"),
    ("gcc__cxxflags", b"-g", "a string"),
    ("cxxflags", "'-O2", "quote"),
    ("cxx", "gcc '", "quote"),
    ("gcc__cxxflags", '-DX="a', "quote"),
    ("march", "-march='x", "quote"),
    ("cxxflags", "-O2\x00", "NUL"),
    ("remote_cache", 5, "a string"),
    ("remote_cache", b"redis://:s3cret@cache/0", "a string"),  # not shown: its repr holds the password
    # paths: not empty, not quoted, a string or path
    ("compiledir", "", "empty"),
    ("compiledir", "  ", "empty"),
    ("compiledir", None, "a path"),
    ("compiledir", ["/tmp/x"], "a path"),
    ("compiledir", '"/tmp/x"', "quotes"),
    ("compiledir", "'/tmp/x'", "quotes"),
    ("compiledir", "/tmp/a\x00b", "NUL"),
    ("signing_key", "'/etc/fncache.key'", "quotes"),
    ("signing_key", " ", "empty"),
    ("signing_key", 5, "a path"),
]


@pytest.mark.parametrize(("flag", "value", "says"), BAD_VALUES, ids=lambda p: repr(p)[:30])
def test_a_bad_value_is_refused_by_name_and_changes_nothing(flag: str, value: Any, says: str) -> None:
    before = getattr(fc.config, flag)
    with pytest.raises(ValueError, match=rf"bad value for flag '{flag}': .*{says}") as info:
        setattr(fc.config, flag, value)
    assert "got" in str(info.value) and "s3cret" not in str(info.value)  # what was given, but no password
    with pytest.raises(ValueError, match=rf"'{flag}'"), fc.config.change_flags(**{flag: value}):
        pass
    assert getattr(fc.config, flag) == before


def test_good_values_keep_working(tmp_path: Path) -> None:
    with fc.config.change_flags(threads=" 3 ", lock_timeout=INF, cache_max_size="1.5GB"):
        assert fc.config.threads == 3 and math.isinf(fc.config.lock_timeout)
        assert fc.config.cache_max_size == 1_500_000_000
    with fc.config.change_flags(threads=2.0, remote_timeout="0.5", cache_max_size=0):
        assert fc.config.threads == 2 and fc.config.remote_timeout == 0.5
    with fc.config.change_flags(compiledir=tmp_path / "cd", signing_key="", remote_cache=None):
        assert fc.config.compiledir == str(tmp_path / "cd") and fc.config.signing_key is None
    with fc.config.change_flags(cxxflags="-O2 '-DNAME=a b'", cxx="", march="none"):
        assert fc.config.cxxflags == "-O2 '-DNAME=a b'"


@pytest.mark.parametrize(
    ("given", "nearest"),
    [
        ("floatx", "floatX"),
        ("FloatX", "floatX"),
        ("on_unused_inputs", "on_unused_input"),
        ("thread", "threads"),
        ("gcc.cxxflag", "gcc__cxxflags"),
        ("compile_dir", "compiledir"),
    ],
)
def test_an_unknown_flag_names_the_nearest_known_one(monkeypatch, given: str, nearest: str) -> None:
    said = rf"unknown flag '{given}'; known flags: .* did you mean '{nearest}'\?"
    with pytest.raises(AttributeError, match=said):
        setattr(fc.config, given, "1")
    with pytest.raises(AttributeError, match=said):
        getattr(fc.config, given)
    with pytest.raises(AttributeError, match=said), fc.config.change_flags(**{given: "1"}):
        pass
    monkeypatch.setenv("FNCACHE_FLAGS", f"{given}=1")
    with pytest.raises(AttributeError, match="FNCACHE_FLAGS: " + said):
        Config()


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ("floatX", r"expected NAME=VALUE .*got 'floatX'"),
        ("floatX=float32,threads", r"expected NAME=VALUE .*got 'threads'"),
        ("=float32", r"empty flag name in '=float32'"),
        ('"floatX=float32"', r"unknown flag '\"floatX'"),
        ("floatX=float32;threads=2", r"floatX.*float32;threads=2"),
        ("compiledir='/tmp/x'", r"compiledir.*quotes"),
        ("threads=", r"threads.*whole number"),
    ],
)
def test_malformed_fncache_flags_are_refused(monkeypatch, env: str, says: str) -> None:
    monkeypatch.setenv("FNCACHE_FLAGS", env)
    with pytest.raises((ValueError, AttributeError), match="FNCACHE_FLAGS: .*" + says):
        Config()


def test_fncache_flags_spacing_empty_items_and_repeats(monkeypatch) -> None:
    # Theano's rules: items are trimmed, empty ones skipped, and the right-most of a repeated
    # flag wins (so that FNCACHE_FLAGS="$FNCACHE_FLAGS,floatX=float32" overrides)
    monkeypatch.setenv("FNCACHE_FLAGS", " floatX = float32 ,, threads=1,threads=2,")
    c = Config()
    assert c.floatX == "float32" and c.threads == 2


def test_import_with_an_unknown_flag_fails_at_once_naming_it(tmp_path: Path) -> None:
    env = {"FNCACHE_FLAGS": f"compiledir={tmp_path},floatx=float32", "PATH": "/usr/bin:/bin"}
    r = subprocess.run(
        [sys.executable, "-c", "import fncache"], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode != 0
    assert "unknown flag 'floatx'" in r.stderr.splitlines()[-1]
    assert "did you mean 'floatX'?" in r.stderr.splitlines()[-1]


def test_a_compiledir_that_cannot_be_created_is_a_cache_error_naming_it(tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    x = ft.dvector("x")
    for where in (a_file / "cache", a_file / "deeper" / "cache"):
        with fc.config.change_flags(compiledir=where), pytest.raises(fc.CacheError) as info:
            fc.function([x], ft.exp(x) + 3.25)(np.ones(2))
        assert f"compiledir {where}" in str(info.value) and "config.compiledir" in str(info.value)


#: remote_cache URLs that cannot work, each with a password that must never be shown, and what the
#: error says is wrong.
BAD_REMOTE_URLS = [
    ("redis://:s3cret@127.0.0.1:notaport/0", "bad host or port"),
    ("redis://user:s3cret@[::1/0", "bad host or port"),
    ("redis://:s3cret@127.0.0.1:99999/0", "bad host or port"),
    ("redis://:s3cret@127.0.0.1:0/0", "port 0"),
    ("rediss://:s3cret@cache/notadb", "database 'notadb' is not a number"),
    ("redis://:s3cret@cache/-1", "database '-1' is not a number"),
    ("redis://:s3cret@cache/1.5", "database '1.5' is not a number"),
    ("redis://:s3cret@cache?db=", "database '' is not a number"),
    ("redis://:s3cret@cache/99999999999", "not a number from 0 to 2147483647"),
    ("redis://:s3cret@cache/0/1", "database '0/1'"),
    ("redis://:s3cret@/0", "no host"),
    ("ftp://:s3cret@cache/0", "unsupported URL scheme 'ftp'"),
    ("redis:cache", "unsupported URL scheme"),
    ("cache:6379", "unsupported URL scheme"),
    ("user:s3cret@cache:6379", "unsupported URL scheme"),
    ("redis://cache/0?password=s3cret", "unknown parameter 'password'"),
    ("redis://:s3cret@cache/0?ssl_ca_certs=/ca.pem", "is for TLS"),
    ("rediss://:s3cret@cache/0?ssl_cert_reqs=maybe", "ssl_cert_reqs"),
    ("rediss://:s3cret@cache/0?ssl_keyfile=/k.pem", "ssl_keyfile without ssl_certfile"),
    ("redis://s3cret@cache/0", "a user without a password"),
    ("redis://:s3c ret@cache/0", "a space or control character"),
    ("redis://:s3cret@cache/0\n", "a space or control character"),
    ("redis://:s3/cret@cache/0", "bad host or port"),
    ("unix://:s3cret@cache/run/redis.sock", "a host in a unix:// URL"),
    ("unix://:s3cret@", "no socket path"),
]


@pytest.mark.parametrize(("url", "says"), BAD_REMOTE_URLS, ids=lambda p: repr(p)[:40])
def test_a_remote_cache_url_that_cannot_work_is_refused_when_set_without_its_password(
    monkeypatch, url: str, says: str
) -> None:
    refused = rf"bad value for flag 'remote_cache': .*{re.escape(says)}.*; "  # then the fix
    for set_it in (
        lambda: setattr(fc.config, "remote_cache", url),
        lambda: fc.config.change_flags(remote_cache=url).__enter__(),
    ):
        with pytest.raises(ValueError, match=refused) as info:
            set_it()
        assert "s3cret" not in str(info.value) and fc.config.remote_cache is None
    if url == url.strip():  # FNCACHE_FLAGS trims its values
        monkeypatch.setenv("FNCACHE_FLAGS", f"remote_cache={url}")
        with pytest.raises(ValueError, match="FNCACHE_FLAGS: " + refused) as info:
            Config()
        assert "s3cret" not in str(info.value)


def test_remote_cache_urls_that_work_are_taken_as_given() -> None:
    for url in (
        "redis://cache",
        "redis://alice:p%40ss@cache.internal:6380/4",
        "rediss://:pw@cache/2?ssl_cert_reqs=none&ssl_ca_certs=/ca.pem",
        "redis://[::1]:6379/0",
        "unix:///run/redis.sock?db=3",
        "",
    ):
        with fc.config.change_flags(remote_cache=url):
            assert fc.config.remote_cache == (url or None)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://user:hunter2@10.0.0.1:6380/2", "redis://user:***@10.0.0.1:6380/2"),
        ("rediss://:hunter2@cache/0", "rediss://:***@cache/0"),
        ("redis://hunter2@cache/0", "redis://***@cache/0"),  # a password without its ':'
        ("redis://:hun/ter2@cache/0", "redis://:***@cache/0"),  # does not parse: hidden anyway
        ("redis://:hunter2@[::1/0", "redis://:***@[::1/0"),
        ("user:hunter2@cache:6379", "user:***@cache:6379"),  # no scheme
        ("redis://cache/0?password=hunter2&db=1", "redis://cache/0?password=***&db=1"),
        ("unix://:hunter2@/run/redis.sock", "unix://:***@/run/redis.sock"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_one_function_hides_a_url_password_everywhere(url: str, shown: str) -> None:
    from fncache.cache import remote
    from fncache.config import redact_url

    assert redact_url(url) == shown and remote.redact(url) == shown  # the tier's is the config's


def test_printing_the_config_keeps_the_user_and_hides_the_password() -> None:
    with fc.config.change_flags(remote_cache="redis://alice:hunter2@cachehost:6379/0"):
        text, line = str(fc.config), f"{fc.config}".splitlines()
    assert "hunter2" not in text
    assert any(ln.startswith("remote_cache = 'redis://alice:***@cachehost:6379/0'") for ln in line)


def test_a_remote_cache_that_cannot_be_reached_is_a_warning_without_its_password(tmp_path, caplog) -> None:
    import socket

    from fncache.cache import CacheKey, cache

    with socket.socket() as s:  # a port nobody listens on: refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://alice:s3cret@127.0.0.1:{port}/0"
    with fc.config.change_flags(compiledir=tmp_path, remote_cache=url, remote_timeout=1.0):
        assert cache.get(CacheKey("synthetic", {"unreachable": url})) is None  # a local miss asks it
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "redis://alice:***@127.0.0.1" in said and "s3cret" not in said, said


#: Compiler flags refused in every flag that holds compiler arguments, and a word of why.
REFUSED_COMPILER_FLAGS = [
    ("-O2 -c", "'-c' stops the compiler"),
    ("-E", "'-E' stops"),
    ("-S -O1", "'-S' stops"),
    ("-fsyntax-only", "stops"),
    ("--version", "stops"),
    ("-dumpmachine", "stops"),
    ("-print-file-name=libc.so", "stops"),
    ("-o other.so", "'-o' names the output file"),
    ("-oother.so", "names the output file"),
    ("-Wl,-soname,x,-o,other.so", "'-Wl,-soname,x,-o,other.so' names the output file"),
    ("-Xlinker -o -Xlinker other.so", "names the output file"),
    # the linker's long spelling of -o (GNU ld takes any unambiguous prefix of it)
    ("-Xlinker --output=/tmp/other.so", "'--output=/tmp/other.so' names the output file"),
    ("-Wl,--outp,/tmp/other.so", "names the output file"),
    ("--coverage -fprofile-note=/tmp/x.gcno", "'-fprofile-note=/tmp/x.gcno' makes the library write"),
    ("-M", "dependency files"),
    ("-MMD -MF deps.d", "'-MMD' writes dependency files"),
    ("-Wp,-MD,deps.d", "dependency files"),
    ("-save-temps=obj", "intermediate files"),
    ("@flags.txt", "'@flags.txt' reads flags or code from a file"),
    ("-specs=my.specs", "from a file"),
    ("-include prelude.h", "from a file"),
    ("-imacros defs.h", "from a file"),
    ("-m32", "'-m32' changes the ABI"),
    ("-mx32", "ABI"),
    ("-mabi=ms", "ABI"),
    ("-fpack-struct=1", "ABI"),
    ("-fshort-enums", "ABI"),
    ("-mlong-double-128", "ABI"),
    ("-freg-struct-return", "ABI"),
    # a linker script, as a separate word, joined, or passed on by -Wl, or -Xlinker
    ("-T script.ld", "'-T' gives the linker a script or section addresses (-T FILE"),
    ("-Tscript.ld", "changes what the compiled library links and loads"),
    ("-Wl,-T,script.ld", "'-Wl,-T,script.ld' gives the linker a script"),
    ("-Wl,--script=script.ld", "gives the linker a script"),
    ("-Xlinker -T -Xlinker script.ld", "'-T' gives the linker a script"),
    # code a configuration value would run: compiler programs, wrappers, plugins
    ("-B /opt/evil", "'-B' runs a program or loads code into the compiler or the linker"),
    ("-B/opt/evil/", "must not run code"),
    ("-wrapper sh,-c,id", "'-wrapper' runs a program"),
    ("-fplugin=./evil.so", "loads code"),
    ("-Wl,-plugin,evil.so", "loads code"),
    ("-Xclang -load -Xclang evil.so", "'-load' runs a program"),
    # files written outside the cache
    ("-fdump-tree-all", "writes a file"),
    ("-aux-info /tmp/protos", "'-aux-info' writes a file"),
    ("-Wl,-Map=/tmp/link.map", "writes a file (a dump, a link map"),
    ("-Wa,-adhln=/tmp/listing", "assembler write a listing"),
    ("-fprofile-generate=/tmp/prof", "write profile data outside the cache"),
    ("-fprofile-use=/tmp/prof", "from a file the cache key does not hold"),
]


@pytest.mark.parametrize(("flags", "says"), REFUSED_COMPILER_FLAGS, ids=lambda p: repr(p)[:30])
def test_compiler_flags_fncache_cannot_build_with_are_refused_when_set(flags: str, says: str) -> None:
    for name, value in (
        ("cxxflags", f"-O2 {flags}"),
        ("gcc__cxxflags", flags),
        ("march", f"-march=x86-64 {flags}"),
        ("cxx", f"gcc {flags}"),
    ):
        before = getattr(fc.config, name)
        with pytest.raises(ValueError, match=rf"flag '{name}': .*{re.escape(says)}.*; remove it, got "):
            setattr(fc.config, name, value)
        assert getattr(fc.config, name) == before


def test_compiler_flags_that_are_the_users_choice_are_kept() -> None:
    allowed = (
        "-O3 -shared -fPIC -ffast-math -Ofast -DNAME=1 -UNDEBUG -Wall -Werror -g -fopenmp "
        "-I/opt/include -L/opt/lib -march=native -mtune=native -mavx2 -mno-avx512f "
        "-fno-math-errno -ffp-contract=off -Wl,-rpath,/opt/lib -Wl,-O1 -x c -v -pipe "
        "-DFNCACHE_DEMO_RUN=3 '-DTEXT=a b' -mcmodel=small -fvisibility=hidden "
        "-Wl,-Bsymbolic -Wl,-Bstatic -lm -Wl,-Bdynamic -fstack-usage -fprofile-generate"
    )
    with fc.config.change_flags(cxxflags=allowed, gcc__cxxflags="-g3", cxx="ccache gcc", march="none"):
        assert fc.config.cxxflags == allowed and fc.config.cxx == "ccache gcc"


#: Compiler arguments that are neither an option nor an option's separate argument: gcc would
#: build the file they name into the library, which the cache key does not hold.
STRAY_OPERANDS = [
    ("-O2 foo.c", "'foo.c' is not an option"),
    ("lib.a -O2", "'lib.a' is not an option"),
    ("-I /opt/include extra.o", "'extra.o' is not an option"),
    ("-DX=1 X", "'X' is not an option"),  # joined: the next word is no argument
    ("-O2 -", "'-' is not an option"),  # standard input
    ("-x c -Xlinker -rpath -Xlinker /opt/lib main.c", "'main.c'"),
    ("-O2 -I", "'-I' is missing its argument"),
]


@pytest.mark.parametrize(("flags", "says"), STRAY_OPERANDS, ids=lambda p: repr(p)[:30])
def test_compiler_flags_refuse_a_word_that_is_no_option(flags: str, says: str) -> None:
    for name, value in (
        ("cxxflags", flags),
        ("gcc__cxxflags", flags),
        ("march", f"-march=x86-64 {flags}"),
    ):
        before = getattr(fc.config, name)
        with pytest.raises(ValueError, match=rf"flag '{name}': {re.escape(says)}.*; got ") as info:
            setattr(fc.config, name, value)
        if "missing" not in says:
            assert "remove it (an option's argument goes right after the option" in str(info.value)
        assert getattr(fc.config, name) == before


def test_march_names_its_forms_for_a_lone_word() -> None:
    for word in ("native", "Auto", "x86-64"):
        with pytest.raises(
            ValueError, match=rf"expected auto, none or compiler flags such as -march=native, got '{word}'"
        ):
            fc.config.march = word


def test_options_with_a_separate_argument_are_kept() -> None:
    separate = (
        "-I /opt/include -isystem /opt/sys -iquote q -idirafter d -D NAME=1 -U NDEBUG -L /opt/lib "
        "-l m -x c -Xlinker -rpath -Xlinker /opt/lib -u sym -z now --param max-unroll-times=2 "
        "-Xassembler --noexecstack -A a=b"
    )
    for name, value in (
        ("cxxflags", separate),
        ("gcc__cxxflags", separate),
        ("march", f"-march=x86-64 {separate}"),
        ("march", " none "),
        ("cxx", "qemu-x86_64 -cpu Nehalem gcc"),  # a wrapper's own arguments: cxx is a command
    ):
        with fc.config.change_flags(**{name: value}):
            assert getattr(fc.config, name) == value


def test_a_signing_key_that_is_no_regular_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    from fncache.fs.signing import signing_key

    os.mkfifo(tmp_path / "key.fifo")  # reading it would wait for a writer for ever
    (tmp_path / "key.dir").mkdir()
    for path, kind in ((tmp_path / "key.fifo", "a FIFO"), (tmp_path / "key.dir", "a directory")):
        with fc.config.change_flags(signing_key=path), pytest.raises(fc.CacheError) as info:
            signing_key()
        assert f"signing_key file {path}: not a regular file (it is {kind})" in str(info.value)


def readme_flag_rows() -> list[tuple[str, str]]:
    """The rows of README's Configuration table: each flag's name and its Default cell."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return [(m[1], m[2].strip()) for m in re.finditer(r"^\| `(\w+)` \| ([^|]*) \|", section, re.M)]


def test_readme_documents_every_flag_the_config_takes_and_its_default(monkeypatch) -> None:
    """A flag documented but refused, or taken but undocumented, is a bug; so is a default that
    the flag, set to what README says, would not have."""
    monkeypatch.delenv("FNCACHE_FLAGS", raising=False)
    defaults, rows = Config(), readme_flag_rows()
    names = [name for name, _ in rows]
    documented, taken = set(names), set(defaults.describe())
    assert not documented - taken, f"documented, but fc.config refuses them: {documented - taken}"
    assert not taken - documented, f"taken, but README's table does not list them: {taken - documented}"
    assert len(names) == len(documented), f"listed twice: {names}"
    printed = [line.split(" = ", 1)[0] for line in str(defaults).splitlines()]
    assert printed == sorted(names)  # print(fc.config) shows each flag once
    for name, shown in rows:
        written = re.fullmatch(r"`([^`]*)`", shown)
        if written:  # set to the documented default, the flag reads as its default
            probe = Config()
            setattr(probe, name, written[1])
            assert getattr(probe, name) == getattr(defaults, name), (name, shown)
        elif shown == "none":
            assert getattr(defaults, name) in ("", ()), name
        else:  # worked out per user
            assert name == "compiledir" and getattr(defaults, name).endswith("/fncache"), (name, shown)
