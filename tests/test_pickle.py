"""Pickling compiled functions in one process: what the payload holds, what
unpickling does and does not do, shared variables, Python ops, deep graphs, versions and flags.

Cross-process shipping is in test_ship.py, signing in test_pickle_signing.py, embedded native
modules and cache export/import in test_pickle_native.py.
"""

from __future__ import annotations

import pickle
import pickletools
import struct
import sys
import time

import cloudpickle
import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.graph.fgraph import FunctionGraph
from fncache.runtime import compile as fc_compile
from fncache.runtime import pickling
from fcutil import as_format_1

# Pickles load through cache hits at both levels: each one is rebuilt and compared.
pytestmark = pytest.mark.verify_hits


def _w3() -> tuple[fc.Function, tuple]:
    """The W3 workload: logistic-regression loss."""
    X, w, b, t = ft.dmatrix("X"), ft.dvector("w"), ft.dscalar("b"), ft.dvector("t")
    p = ft.sigmoid(X @ w + b)
    loss = ft.mean(-t * ft.log(p) - (1 - t) * ft.log(1 - p))
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(50, 4)), rng.normal(size=4), 0.3, (rng.random(50) > 0.5).astype("float64"))
    return fc.function([X, w, b, t], loss, name="w3"), args


@pytest.fixture(scope="module")
def w3() -> tuple[fc.Function, tuple]:
    return _w3()


def _no_optimizer(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*a: object, **k: object) -> None:
        raise AssertionError("the optimizer ran while unpickling")

    monkeypatch.setattr("fncache.rewrite.optimize", forbidden)


def test_round_trip_is_exact_and_skips_optimizer_and_compiler(w3, monkeypatch):
    f, args = w3
    want = f(*args)
    before = fc.cache.info()["compiles"]
    _no_optimizer(monkeypatch)
    for g in (pickle.loads(pickle.dumps(f)), cloudpickle.loads(cloudpickle.dumps(f)), fc.loads(fc.dumps(f))):
        got = g(*args)
        assert got.tobytes() == want.tobytes()
        assert g.cache_key == f.cache_key and g.name == "w3"
        assert [v.name for v in g.inputs] == ["X", "w", "b", "t"]
        assert [v.type for v in g.inputs] == [v.type for v in f.inputs]
        assert len(g.optimized_graph.toposort()) == len(f.optimized_graph.toposort())
        assert len(g.original_graph.toposort()) == len(f.original_graph.toposort())
    assert fc.cache.info()["compiles"] == before


def test_payload_is_small_holds_no_binary_and_the_outer_pickle_only_bytes(w3):
    f, _ = w3
    data = pickle.dumps(f)
    assert len(data) < 8000, len(data)
    assert b"\x7fELF" not in data
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(data)]
    strings = [arg for name, arg in ops if name.endswith("UNICODE")]
    globals_ = [name for name, _ in ops if "GLOBAL" in name]
    # One STACK_GLOBAL naming our loader; the rest is one bytes object.
    assert globals_ == ["STACK_GLOBAL"]
    assert strings == ["fncache.runtime.pickling", "load_function"]
    assert sum(name.endswith("BYTES") or name == "BYTEARRAY8" for name, _ in ops) == 1


def test_shared_variables_restored_as_one_object_each(monkeypatch):
    acc = fc.shared(np.zeros(3), name="acc")
    scale = fc.shared(np.float64(2.0), name="scale")
    x = ft.dvector("x")
    f = fc.function([x], (acc * scale).sum(), updates=[(acc, acc + x)], name="acc")
    f(np.ones(3))  # acc = 1
    _no_optimizer(monkeypatch)
    g = pickle.loads(pickle.dumps(f))
    sv = {s.name: s for s in g._shared}
    assert set(sv) == {"acc", "scale"}
    np.testing.assert_array_equal(sv["acc"].get_value(), np.ones(3))
    assert sv["scale"].get_value() == 2.0
    for s in g._shared:  # the same object in both graphs and in the function
        assert any(s is v for v in g.original_graph.inputs)
        assert any(s is v for v in g.optimized_graph.inputs)
    assert g(np.ones(3)) == 6.0 and f(np.ones(3)) == 6.0
    np.testing.assert_array_equal(sv["acc"].get_value(), np.full(3, 2.0))
    sv["scale"].set_value(np.float64(10.0))  # the copy is independent of the original
    assert g(np.zeros(3)) == 60.0 and f(np.zeros(3)) == 12.0


def test_multiple_outputs_and_call_options_survive():
    x, y = ft.dvector("x"), ft.dvector("y")
    f = fc.function([x, y], [x + y, x * y], name="two", allow_input_downcast=True)
    g = pickle.loads(pickle.dumps(f))
    out = g(np.arange(3.0), y=np.ones(3, dtype="float32"))
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_array_equal(out[0], np.arange(3.0) + 1)
    assert g.allow_input_downcast and g.name == "two" and not g.trust_input
    f.trust_input = True
    assert pickle.loads(pickle.dumps(f)).trust_input


def test_python_ops_with_lambdas_and_closures_travel_in_a_plain_pickle():
    offset = np.array([1.0, 2.0, 3.0])
    vec = ft.dvector().type
    cum = ft.as_op([vec], [vec])(lambda a: np.cumsum(a))

    def shifted(a: np.ndarray) -> np.ndarray:
        return a + offset  # a closure over a local array

    shift = ft.as_op([vec], [vec])(shifted)
    x = ft.dvector("x")
    f = fc.function([x], shift(cum(x)) * 2, name="pyop")
    want = (np.cumsum([1.0, 1, 1]) + offset) * 2
    data = pickle.dumps(f)
    g = pickle.loads(data)
    np.testing.assert_array_equal(g(np.ones(3)), want)
    np.testing.assert_array_equal(pickle.loads(data)(np.ones(3)), want)


def test_a_10000_node_chain_needs_no_recursion():
    x = ft.dvector("x")
    y = x
    for i in range(10_000):
        y = ft.sin(y) if i % 2 else y * 1.0001
    f = fc.function([x], y, mode="FAST_COMPILE", name="deep")
    assert len(f.original_graph.toposort()) == 10_000
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        data = pickle.dumps(f)
        g = pickle.loads(data)
    finally:
        sys.setrecursionlimit(limit)
    assert len(g.optimized_graph.toposort()) == len(f.optimized_graph.toposort())
    np.testing.assert_array_equal(g(np.linspace(0, 1, 5)), f(np.linspace(0, 1, 5)))


def _with_format(data: bytes, fmt: int) -> bytes:
    at = len(pickling.MAGIC)
    return data[:at] + struct.pack(">H", fmt) + data[at + 2 :]


def test_unknown_format_version_names_both_versions(w3):
    f, _ = w3
    with pytest.raises(fc.PickleError) as e:
        fc.loads(_with_format(fc.dumps(f), 99))
    msg = str(e.value)
    assert "format 99" in msg and f"format {pickling.FORMAT}" in msg
    assert fc.__version__ in msg
    outer = pickle.dumps(f)  # the same refusal through pickle.loads
    at = outer.index(pickling.MAGIC)
    tampered = outer[:at] + _with_format(outer[at:], 99)
    with pytest.raises(fc.PickleError, match="format 99"):
        pickle.loads(tampered)


@pytest.mark.parametrize("bad", [b"", b"not a payload", b"\x80\x04K\x01.", None, 3])
def test_garbage_is_refused_with_pickle_error(bad):
    with pytest.raises(fc.PickleError):
        fc.loads(bad)


def test_truncated_payload_is_refused(w3):
    f, _ = w3
    data = fc.dumps(f)
    for cut in (len(pickling.MAGIC) + 1, len(pickling.MAGIC) + 4, len(data) // 2):
        with pytest.raises(fc.PickleError):
            fc.loads(data[:cut])


def test_code_flags_travel_and_are_applied_but_not_host_flags():
    k = ft.scalar("k")  # floatX-typed
    x = ft.vector("x")
    py = fc.Mode(linker="py")
    with fc.config.change_flags(floatX="float32"):
        f = fc.function([x, k], x * k + 1.5, name="f32", mode=py)
        want = f(np.arange(3, dtype="float32"), np.float32(2))
    with fc.config.change_flags(march="none"):
        h = fc.function([x], x + 1, mode=py)
    assert f.code_flags["floatX"] == "float32" and h.code_flags["march"] == "none"
    with fc.config.change_flags(reoptimize_unpickled_function=True):
        g = pickle.loads(pickle.dumps(f))
        j = pickle.loads(pickle.dumps(h))
    # The function key hashes the code flags: equal only if floatX was float32 while rebuilding.
    assert g.cache_key == f.cache_key
    assert g.code_flags["floatX"] == "float32" and fc.config.floatX == "float64"
    np.testing.assert_array_equal(g(np.arange(3, dtype="float32"), np.float32(2)), want)
    assert j.code_flags["march"] == fc.config.march  # built for this host, not the sender's


def test_reoptimize_unpickled_function_really_reoptimizes(monkeypatch):
    x = ft.dvector("x")
    f = fc.function(
        [x],
        ft.exp(x) * ft.exp(x) + (x + 0) * 1,
        mode=fc.Mode(linker="py", optimizer="fast_run"),
        name="reopt",
    )
    n_opt = len(f.optimized_graph.toposort())
    n_orig = len(f.original_graph.toposort())
    assert n_opt < n_orig
    # Ship a pickle whose "optimized" graph is not: only re-optimizing can shrink it.
    f.optimized_graph = FunctionGraph(f.original_graph.inputs, f.original_graph.outputs)
    data = pickle.dumps(f)
    assert len(pickle.loads(data).optimized_graph.toposort()) == n_orig
    calls = []
    real = fc_compile.optimize_graph

    def spy(*a: object, **k: object) -> FunctionGraph:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(fc_compile, "optimize_graph", spy)
    with fc.config.change_flags(reoptimize_unpickled_function=True):
        g = pickle.loads(data)
    assert calls == [1]
    assert len(g.optimized_graph.toposort()) == n_opt
    np.testing.assert_allclose(g(np.arange(3.0)), np.exp(np.arange(3.0)) ** 2 + np.arange(3.0))


def test_fast_compile_functions_round_trip():
    x = ft.dmatrix("x")
    f = fc.function([x], x.sum(axis=0) / 2, mode="FAST_COMPILE")
    g = pickle.loads(pickle.dumps(f))
    assert g.mode == f.mode
    np.testing.assert_array_equal(g(np.ones((2, 3))), np.ones(3))


@pytest.fixture(scope="module")
def small_payload() -> bytes:
    x = ft.dvector("x")
    w = fc.shared(np.arange(3.0), name="w")
    f = fc.function(
        [x], [x * w + 1.0, ft.exp(x).sum()], updates={w: w * 2.0}, mode="FAST_COMPILE", name="fuzzed"
    )
    return fc.dumps(f)


def test_every_bit_flip_or_truncation_is_a_pickle_error(small_payload):
    """Damage anywhere in a payload (thousands of random flips and cuts) is refused by its
    checksum before anything is unpickled, always as PickleError."""
    rng = np.random.default_rng(12)
    data = small_payload
    t0 = time.perf_counter()
    for _ in range(3000):
        at = int(rng.integers(len(data)))
        flipped = data[:at] + bytes([data[at] ^ (1 << int(rng.integers(8)))]) + data[at + 1 :]
        with pytest.raises(fc.PickleError):
            fc.loads(flipped)
    for cut in rng.integers(0, len(data), 500):
        with pytest.raises(fc.PickleError):
            fc.loads(data[: int(cut)])
    assert time.perf_counter() - t0 < 30


def test_damaged_format_1_payloads_fail_only_as_pickle_error(small_payload):
    """Format 1 has no checksum: a damaged body may still unpickle into a malformed payload. It
    must load (the damage was harmless) or fail as PickleError, never with another error."""
    rng = np.random.default_rng(10)
    data = as_format_1(small_payload)
    body_at = len(pickling.MAGIC) + 3 + data[len(pickling.MAGIC) + 2] + 1
    outcomes: dict[str, int] = {}
    for _ in range(400):
        at = int(rng.integers(body_at, len(data)))
        flipped = data[:at] + bytes([data[at] ^ (1 << int(rng.integers(8)))]) + data[at + 1 :]
        try:
            g = fc.loads(flipped)
        except fc.PickleError:
            outcomes["refused"] = outcomes.get("refused", 0) + 1
        else:
            assert isinstance(g, fc.Function)
            outcomes["loaded"] = outcomes.get("loaded", 0) + 1
    assert outcomes.get("refused", 0) > 0


@pytest.mark.parametrize("index", [2**26, 2**31 - 1])
def test_a_format_1_memo_index_past_the_payload_is_refused_at_once(small_payload, index):
    """Unpickling sizes its memo to the largest index a put names: one damaged byte in a
    format-1 body (no checksum) could make that index millions, and the load allocated and
    cleared gigabytes for tens of seconds before failing. Such a body is refused before it is
    unpickled."""
    data = as_format_1(small_payload)
    body_at = len(pickling.MAGIC) + 3 + data[len(pickling.MAGIC) + 2] + 1
    body = b"\x80\x04K\x01r" + struct.pack("<I", index) + b"."
    t0 = time.perf_counter()
    with pytest.raises(fc.PickleError, match=f"memo index {index}"):
        fc.loads(data[:body_at] + body)
    assert time.perf_counter() - t0 < 1


def test_a_payload_is_bound_to_its_function_key(small_payload, w3):
    """``fc.loads(data, key=...)`` refuses the payload of another function before unpickling it."""
    f, _ = w3
    other = fc.dumps(f)
    g = fc.loads(small_payload)
    assert fc.loads(small_payload, key=g.cache_key).cache_key == g.cache_key
    with pytest.raises(fc.PickleError, match=f"not the expected {g.cache_key}"):
        fc.loads(other, key=g.cache_key)
    with pytest.raises(fc.PickleError, match="not the expected"):  # format 1 names no key
        fc.loads(as_format_1(small_payload), key=g.cache_key)
