"""Shipping native code: ``fc.dumps(f, embed_native=True)`` carries this host's module,
used by a receiver only when platform, ABI, CPU and checksum fit; ``fc.cache.export`` /
``import_`` move entries between compiledirs so a receiver compiles nothing.

The no-compiler receiver runs in a fresh process in test_ship.py.
"""

from __future__ import annotations

import logging
import pickle
import sys

import numpy as np
import pytest

import fncache as fc
from fcutil import damaged, damaged_inner_module, payload_body, rows_functions, with_body
from fncache import tensor as ft

ELF = b"\x7fELF"


@pytest.fixture(scope="module")
def w3():
    X, w, b, t = ft.dmatrix("X"), ft.dvector("w"), ft.dscalar("b"), ft.dvector("t")
    p = ft.sigmoid(X @ w + b)
    f = fc.function([X, w, b, t], ft.mean(-t * ft.log(p) - (1 - t) * ft.log(1 - p)))
    rng = np.random.default_rng(1)
    args = (rng.normal(size=(20, 3)), rng.normal(size=3), 0.1, (rng.random(20) > 0.5) * 1.0)
    return f, args


def _compiles() -> dict[str, int]:
    return {k: int(v["compiles"]) for k, v in fc.cache.stats()["per_kind"].items()}


def test_embedding_is_opt_in(w3):
    f, _ = w3
    plain, embedded = fc.dumps(f), fc.dumps(f, embed_native=True)
    assert ELF not in plain and ELF not in pickle.dumps(f)
    assert ELF in embedded and len(embedded) > len(plain) + 5000


def test_embedded_module_is_used_when_it_fits(w3, tmp_path, caplog):
    f, args = w3
    payload = fc.dumps(f, embed_native=True)
    with fc.config.change_flags(compiledir=str(tmp_path)):  # empty: only the payload can help
        g = fc.loads(payload)
        assert g(*args).tobytes() == f(*args).tobytes()
        assert fc.cache.info()["compiles"] == 0
    assert "not using the embedded" not in caplog.text


def test_embedded_module_refused_for_another_cpu(w3, tmp_path, caplog):
    f, args = w3
    payload = fc.dumps(f, embed_native=True)
    caplog.set_level(logging.INFO, logger="fncache")
    with fc.config.change_flags(compiledir=str(tmp_path), march="-march=x86-64"):
        g = fc.loads(payload)
        assert _compiles() == {"kernel_library": 1}  # compiled for this "CPU" from the optimized graph
    np.testing.assert_allclose(g(*args), f(*args), rtol=1e-13)
    assert "not using the embedded native module" in caplog.text and "march" in caplog.text


def test_damaged_embedded_module_is_not_loaded(w3, caplog):
    f, args = w3
    payload = fc.dumps(f, embed_native=True)
    caplog.set_level(logging.INFO, logger="fncache")
    # the suite's compiledir has the module: the fallback finds it
    g = fc.loads(damaged(payload, payload.index(ELF) + 2000))
    assert g(*args).tobytes() == f(*args).tobytes()
    assert "checksum" in caplog.text


@pytest.fixture(scope="module")
def jacobians():
    return rows_functions()["jacobian"]


def test_inner_modules_are_embedded_and_used(jacobians, tmp_path, caplog):
    f, args, _ = jacobians
    plain, embedded = fc.dumps(f), fc.dumps(f, embed_native=True)
    assert ELF not in plain
    # the outer module and one per inner function: J's, J of J's and the one inside J of J's
    assert embedded.count(ELF) == 4
    caplog.set_level(logging.INFO, logger="fncache")
    with fc.config.change_flags(compiledir=str(tmp_path)):  # empty: only the payload can help
        g = fc.loads(embedded)
        for got, want in zip(g(*args), f(*args)):
            assert got.tobytes() == want.tobytes()
        assert fc.cache.info()["compiles"] == 0
    assert "not using the embedded" not in caplog.text


def test_damaged_inner_module_is_not_loaded(jacobians, caplog):
    f, args, _ = jacobians
    payload = fc.dumps(f, embed_native=True)
    caplog.set_level(logging.INFO, logger="fncache")
    g = fc.loads(damaged_inner_module(payload))
    for got, want in zip(g(*args), f(*args)):  # the suite's compiledir has the module
        assert got.tobytes() == want.tobytes()
    assert "not using the embedded native module of 'jacobian_rows'" in caplog.text
    assert "checksum" in caplog.text


def test_signature_covers_inner_modules(jacobians, tmp_path):
    f, _, _ = jacobians
    key = tmp_path / "key"
    key.write_bytes(b"k" * 32)
    with fc.config.change_flags(signing_key=str(key)):
        payload = fc.dumps(f, embed_native=True)
        with pytest.raises(fc.PickleError, match="signature does not verify"):
            fc.loads(damaged_inner_module(payload))


def test_inner_function_of_another_graph_is_refused(jacobians):
    """A payload whose inner functions are swapped between two ops (resealed): each carried
    function must compute its op's inner graph."""
    f, _, _ = jacobians
    payload = fc.dumps(f, embed_native=True)
    p = payload_body(payload)
    a, b = p["inner"]
    p["inner"] = {a: p["inner"][b], b: p["inner"][a]}
    with pytest.raises(
        fc.PickleError, match="inner function it carries for JacobianRows.* computes another graph"
    ):
        fc.loads(with_body(payload, p))


def test_inner_functions_nested_without_end_are_refused(w3):
    """A forged payload nesting inner functions far deeper than any derivative does: refused
    before anything is rebuilt, never a RecursionError."""
    f, _ = w3
    payload = fc.dumps(f)
    p = q = payload_body(payload)
    for _ in range(5000):  # deeper than the interpreter's recursion limit
        q["inner"] = {"k": dict(q, inner={})}
        q = q["inner"]["k"]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # to write it; a forger writes the opcodes directly
    try:
        forged = with_body(payload, p)
    finally:
        sys.setrecursionlimit(limit)
    with pytest.raises(fc.PickleError, match="inner functions nested more than 32 deep"):
        fc.loads(forged)


def test_export_import_between_compiledirs(tmp_path):
    a, b, archive = tmp_path / "a", tmp_path / "b", tmp_path / "entries.tar.gz"
    x = ft.dmatrix("x")
    with fc.config.change_flags(compiledir=str(a)):
        f = fc.function([x], ft.tanh(x).sum(axis=1) * 3.0, name="exported")
        want = f(np.ones((2, 3)))
        report = fc.cache.export(archive)
        assert len(report["exported"]) == 2  # the function entry and its native module
    data = pickle.dumps(f)
    with fc.config.change_flags(compiledir=str(b)):
        assert fc.cache.import_(archive)["imported"] == report["exported"]
        g = pickle.loads(data)
        assert g(np.ones((2, 3))).tobytes() == want.tobytes()
        h = fc.function([x], ft.tanh(x).sum(axis=1) * 3.0)  # and fc.function hits, too
        assert h.cache_key == f.cache_key
        info = fc.cache.info()
        assert info["compiles"] == 0 and info["hits"] >= 2 and info["entries"] == 2
