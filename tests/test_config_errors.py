"""Bad configuration: every flag, set as an attribute, through ``change_flags`` or through
``FNCACHE_FLAGS``, refuses a value it cannot use when it is set, with an error naming the flag,
what it expects and the value given; nothing is kept of a refused value, an unknown flag's name
is refused with the nearest known one, and a compiledir that cannot be created is a
``CacheError`` naming it."""

from __future__ import annotations

import math
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
    assert "got" in str(info.value)  # the value given is shown
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


#: remote_cache URLs that cannot be used, each with a password that must never be shown.
BAD_REMOTE_URLS = [
    "redis://:s3cret@127.0.0.1:notaport/0",
    "redis://user:s3cret@[::1/0",
    "redis://:s3cret@127.0.0.1:99999/0",
    "rediss://:s3cret@cache/notadb",
]


def test_a_remote_cache_url_that_cannot_be_used_is_a_warning_without_its_password(caplog) -> None:
    from fncache.cache import remote

    x = ft.dvector("x")
    for i, url in enumerate(BAD_REMOTE_URLS):
        assert "s3cret" not in remote.redact(url) and "***" in remote.redact(url)
        caplog.clear()
        with fc.config.change_flags(remote_cache=url):  # compiling still works, local alone
            np.testing.assert_allclose(fc.function([x], x * (i + 0.75))(np.ones(2)), i + 0.75)
        said = " ".join(r.getMessage() for r in caplog.records)
        assert "cannot be used" in said and "remote_cache URL" in said and "s3cret" not in said, said
