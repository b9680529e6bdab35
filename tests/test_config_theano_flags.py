"""Theano's and PyTensor's configuration flags for the default mode (`linker`, `optimizer`,
`optimizer_including`, `optimizer_excluding`) and `profile` (every function profiled, each
summary written at exit); a rewrite tag that names nothing is logged."""

from __future__ import annotations

import logging
import re
import subprocess
import sys

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.rewrite import registry


def _fn(mode=None):
    x = ft.dvector("x")
    return fc.function([x], ft.exp(x) * 2 + 1, mode=mode)


def _has_fused_loop(f) -> bool:
    return any("Composite" in str(n.op) for n in f.optimized_graph.toposort())


@pytest.mark.parametrize(
    ("value", "linker"), [("py", "py"), ("c", "c"), ("cvm", "c"), ("vm_nogc", "c"), ("c|py", "c")]
)
def test_linker_flag_sets_the_linker_of_named_modes_only(value: str, linker: str) -> None:
    with fc.config.change_flags(linker=value):
        for mode in (None, "FAST_RUN", "FAST_COMPILE"):
            f = _fn(mode)
            assert f.mode.linker == linker, (mode, f.mode)
            np.testing.assert_allclose(f(np.array([0.0, 1.0])), [3.0, 2 * np.e + 1])
        assert _fn(fc.Mode(linker="c")).mode.linker == "c"  # an explicit Mode is kept


def test_optimizer_flags_choose_and_tag_the_rewrites() -> None:
    assert _has_fused_loop(_fn())
    with fc.config.change_flags(optimizer="None"):
        f = _fn()
        assert f.mode.optimizer is None and not _has_fused_loop(f)
        np.testing.assert_allclose(f(np.array([0.0])), [3.0])
    with fc.config.change_flags(optimizer_excluding="fusion:inplace"):
        f = _fn("FAST_RUN")
        assert set(f.mode.excluded_tags) >= {"fusion", "inplace"} and not _has_fused_loop(f)
        assert _has_fused_loop(_fn(fc.Mode()))  # an explicit Mode is kept
    with fc.config.change_flags(optimizer="fast_compile", optimizer_including=["fusion"]):
        f = _fn()
        assert f.mode.optimizer == "fast_compile" and _has_fused_loop(f)
    # different rewrites are a different function: never answered from the other's entry
    with fc.config.change_flags(optimizer_excluding="fusion"):
        assert _fn().cache_key != _fn(fc.Mode()).cache_key


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("linker", "cvm2", "linker.*expected one of auto, c, py, cvm"),
        ("optimizer", "o9", "optimizer.*expected one of"),
        ("optimizer_excluding", 3, "optimizer_excluding.*separated by ':'"),
        ("profile", "maybe", "profile"),
    ],
)
def test_bad_values_name_the_flag(flag: str, value, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        setattr(fc.config, flag, value)


def test_a_tag_that_names_no_rewrite_is_logged_once(caplog) -> None:
    registry._UNKNOWN_TAGS_SEEN.discard("fusoin")
    with caplog.at_level(logging.WARNING, logger="fncache.rewrite.registry"):
        _fn(fc.Mode().excluding("fusoin"))
        x = ft.dvector("x")
        fc.function([x], x - 1, mode=fc.Mode().excluding("fusoin"))
    said = [r.getMessage() for r in caplog.records if "fusoin" in r.getMessage()]
    assert len(said) == 1 and "names no rewrite" in said[0] and "fusion" in said[0]


def test_profile_flag_profiles_every_function_and_prints_at_exit(tmp_path) -> None:
    script = (
        "import numpy as np, fncache as fc, fncache.tensor as ft\n"
        "fc.config.profile = True\n"
        "x = ft.dvector('x')\n"
        "f = fc.function([x], ft.exp(x) + 1, name='first')\n"
        "g = fc.function([x], x * 2, name='second', profile=False)\n"
        "for _ in range(3): f(np.ones(4)); g(np.ones(4))\n"
        "assert f.profile.fct_callcount == 3 and g.profile is None\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("Function profiling") == 1, r.stderr
    assert "Message: first" in r.stderr and "Time in 3 calls" in r.stderr
    assert "second" not in r.stderr


# -- THEANO_FLAGS / PYTENSOR_FLAGS: read by fncache never, reported when they would differ ------


def _import_fncache(tmp_path, **env: str) -> tuple[str, str]:
    """(stdout, stderr) of a fresh ``import fncache`` printing floatX and compiledir, with only
    ``env`` among the variables that set flags."""
    import os

    base = {
        k: v for k, v in os.environ.items() if k not in ("FNCACHE_FLAGS", "THEANO_FLAGS", "PYTENSOR_FLAGS")
    }
    r = subprocess.run(
        [sys.executable, "-c", "import fncache as fc; print(fc.config.floatX, fc.config.compiledir)"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip(), r.stderr.strip()


def test_theano_flags_fncache_also_has_are_named_at_import_with_the_fix_never_applied(tmp_path) -> None:
    theirs = tmp_path / "theano"
    flags = f"floatX=float32,blas__ldflags=-lblas,compiledir={theirs},nvcc.fastmath=True,,"
    out, err = _import_fncache(tmp_path, THEANO_FLAGS=flags)
    assert out.split()[0] == "float64" and out.split()[1] != str(theirs)  # not applied
    assert len(err.splitlines()) == 1, err  # one warning
    assert err.startswith(f"THEANO_FLAGS sets floatX=float32 (fncache uses 'float64'), compiledir={theirs} ")
    assert "blas" not in err and "nvcc" not in err  # Theano's own flags are Theano's business
    fix = re.search(r"set FNCACHE_FLAGS=(\S+) \(README, Configuration\)$", err)
    assert fix and fix[1] == f"floatX=float32,compiledir={theirs}", err
    out, err = _import_fncache(tmp_path, THEANO_FLAGS=flags, FNCACHE_FLAGS=fix[1])  # the fix applies them
    assert out == f"float32 {theirs}" and err == ""


def test_pytensor_flags_that_agree_say_nothing_and_values_fncache_refuses_are_named(tmp_path) -> None:
    out, err = _import_fncache(
        tmp_path, PYTENSOR_FLAGS="floatX=float64,mode=FAST_RUN,optimizer=fast_run", FNCACHE_FLAGS=""
    )
    assert err == "" and out.startswith("float64")
    out, err = _import_fncache(tmp_path, PYTENSOR_FLAGS="device=cuda0,mode=FAST_RUN,floatX=float32")
    assert err.startswith(
        "PYTENSOR_FLAGS sets floatX=float32 (fncache uses 'float64'), device=cuda0 (fncache cannot take it: "
    )
    assert "mode=" not in err and err.endswith("set FNCACHE_FLAGS=floatX=float32 (README, Configuration)")
