"""fc.RandomStream: numpy's SFC64 seeded by (seed, variable number, call number), the call
counter carried in a shared variable. The same seed gives the same numbers in both modes, with
1, 2 or 3 threads, on a cache hit in another process and after a pickle round trip; the
distributions match numpy's."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES

SEED = 1234


def _graph(rs: "fc.RandomStream"):
    n = ft.lscalar("n")
    return [n], [rs.uniform(-1, 2, size=(n, 3)), rs.normal(1.5, 2.0, size=(n,)),
                 rs.integers(-5, 5, size=(2, n), dtype="int16"), rs.choice(10, size=4,
                                                                         replace=False),
                 rs.permutation(7), rs.normal(size=(n,), dtype="float32"),
                 rs.choice(np.array([1.5, 2.5, 3.5]), size=(n,), p=np.array([0.2, 0.3, 0.5]))]


def _expected(n: int) -> list[list[np.ndarray]]:
    """Two calls' worth of numbers from numpy's SFC64 with the documented seeds: call c of
    variable k draws from a generator seeded by SeedSequence((seed, k, c)) (a normal's block j:
    (seed, k, c, j)), so a call's numbers depend only on the seed and the calls before it."""
    draws = [lambda g: g.uniform(-1, 2, size=(n, 3)),
             lambda g: 1.5 + 2.0 * g.standard_normal((n,)),
             lambda g: g.integers(-5, 5, size=(2, n), dtype="int16"),
             lambda g: g.choice(10, size=4, replace=False), lambda g: g.permutation(7),
             lambda g: g.standard_normal((n,), dtype=np.float32) * np.float32(1) + np.float32(0),
             lambda g: g.choice(np.array([1.5, 2.5, 3.5]), size=(n,),
                                p=np.array([0.2, 0.3, 0.5]))]
    normals = (1, 5)                    # one block (n is small): its seed ends with 0
    return [[draw(np.random.Generator(np.random.SFC64(np.random.SeedSequence(
        (SEED, k, c, 0) if k in normals else (SEED, k, c))))) for k, draw in enumerate(draws)]
        for c in range(2)]


def _same(got: list, want: list, what: str) -> None:
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == np.asarray(w).dtype, f"{what} output {k}: {g.dtype}"
        np.testing.assert_array_equal(g, w, err_msg=f"{what} output {k}")


@pytest.mark.parametrize("mode", MODES)
def test_numbers_are_numpys_sfc64_with_the_documented_seeds(mode: str) -> None:
    ins, outs = _graph(fc.RandomStream(SEED))
    f = fc.function(ins, outs, mode=mode)
    want = _expected(5)
    _same(f(5), want[0], "call 1")
    _same(f(5), want[1], "call 2")        # the counter advanced: new numbers
    assert not np.array_equal(want[0][0], want[1][0])
    counters = [o.owner.inputs[0].get_value() for o in outs]
    assert [(c.dtype, c.shape, int(c)) for c in counters] == [(np.uint64, (), 2)] * len(outs)


def test_one_or_two_threads_and_both_modes_agree() -> None:
    results = []
    for mode, threads in (("FAST_RUN", 1), ("FAST_RUN", 2), ("FAST_COMPILE", 0)):
        with fc.config.change_flags(threads=threads):
            ins, outs = _graph(fc.RandomStream(SEED))
            f = fc.function(ins, outs, mode=mode)
            results.append([f(1000), f(1000)])
    for r in results[1:]:
        for c in range(2):
            _same(r[c], results[0][c], "threads/modes")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_large_normal_draw_is_the_same_blocks_with_any_thread_count(dtype: str) -> None:
    """A normal draw of several blocks (the last one partial) fills them on the threads; block
    j of call c comes from the seed (seed, k, c, j) whatever the thread count."""
    from fncache.tensor.random import NORMAL_BLOCK
    n = 3 * NORMAL_BLOCK + 123
    got = []
    for threads in (1, 2, 3):
        with fc.config.change_flags(threads=threads):
            rs = fc.RandomStream(SEED)
            rs.uniform()                                        # variable 0
            f = fc.function([], [rs.normal(-2.0, 3.0, size=(n,), dtype=dtype),
                                 rs.normal(np.array([[0.0], [10.0]]), 0.5, size=(2, n // 2),
                                           dtype=dtype)])
            got.append([f(), f()])
    for c in range(2):
        blocks = [np.random.Generator(np.random.SFC64(np.random.SeedSequence((SEED, 1, c, j))))
                  .standard_normal(min(NORMAL_BLOCK, n - j * NORMAL_BLOCK), dtype=dtype)
                  for j in range(4)]
        want = np.concatenate(blocks) * np.dtype(dtype).type(3.0) + np.dtype(dtype).type(-2.0)
        blocks = [np.random.Generator(np.random.SFC64(np.random.SeedSequence((SEED, 2, c, j))))
                  .standard_normal(min(NORMAL_BLOCK, 2 * (n // 2) - j * NORMAL_BLOCK),
                                   dtype=dtype) for j in range(4)]
        want2 = (np.array([[0.0], [10.0]]) + 0.5 * np.concatenate(blocks).reshape(2, n // 2))
        for r in got:
            _same(r[c], [want, want2.astype(dtype)], f"call {c + 1}")
    assert abs(got[0][0][0].mean() + 2) < 0.05 and abs(got[0][0][0].std() - 3) < 0.05


def test_normal_refuses_a_negative_scale_and_unbroadcastable_parameters() -> None:
    rs = fc.RandomStream(SEED)
    with pytest.raises(ValueError, match="scale < 0"):
        fc.function([], rs.normal(0.0, -1.0, size=3))()
    with pytest.raises(ValueError, match="broadcast to size"):
        fc.function([], rs.normal(np.zeros(4), 1.0, size=(3,)))()


def test_pickle_carries_the_counter() -> None:
    ins, outs = _graph(fc.RandomStream(SEED))
    f = fc.function(ins, outs)
    f(4)
    g = pickle.loads(pickle.dumps(f))
    _same(g(4), f(4), "after a pickle round trip")


def test_same_numbers_on_a_cache_hit_in_other_processes(tmp_path) -> None:
    code = textwrap.dedent(f"""
        import sys, numpy as np, fncache as fc
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_random import _graph
        ins, outs = _graph(fc.RandomStream({SEED}))
        f = fc.function(ins, outs)
        np.save(sys.argv[1], np.concatenate([np.ravel(o).astype('float64') for o in f(6)]))
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    for k in range(2):                  # the second process finds the first one's entry
        subprocess.run([sys.executable, "-c", code, str(tmp_path / f"r{k}.npy")], env=env,
                       check=True, timeout=300)
    assert any((tmp_path / "cache").rglob("*"))
    want = np.concatenate([np.ravel(o).astype("float64") for o in _expected(6)[0]])
    for k in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"r{k}.npy"), want)


def test_distributions() -> None:
    rs = fc.RandomStream(7)
    u, z, i = rs.uniform(2, 3, size=100_000), rs.normal(-1, 0.5, size=100_000), \
        rs.integers(3, size=1000, dtype="uint8")
    c, p = rs.choice(ft.arange(20), size=20, replace=False), rs.permutation(np.arange(12.0))
    uv, zv, iv, cv, pv = fc.function([], [u, z, i, c, p])()
    assert uv.dtype == zv.dtype == "float64" and iv.dtype == "uint8"
    assert 2 <= uv.min() and uv.max() < 3 and abs(uv.mean() - 2.5) < 0.01
    assert abs(zv.mean() + 1) < 0.01 and abs(zv.std() - 0.5) < 0.01
    assert set(iv.tolist()) == {0, 1, 2}
    assert sorted(cv.tolist()) == list(range(20)) and sorted(pv.tolist()) == list(range(12))
    assert u.type.shape == (100_000,) and rs.normal().ndim == 0


def test_explicit_updates_win_and_bad_arguments_are_refused() -> None:
    rs = fc.RandomStream(3)
    u = rs.uniform(size=3)
    counter = u.owner.inputs[0]
    f = fc.function([], u, updates=[(counter, counter)])     # hold the counter: same numbers
    np.testing.assert_array_equal(f(), f())
    with pytest.raises(TypeError, match="seed"):
        fc.RandomStream(-1)
    with pytest.raises(TypeError, match="float32 or float64"):
        rs.normal(dtype="int32")
    with pytest.raises(TypeError, match="integer dtype"):
        rs.integers(5, dtype="float64")
    with pytest.raises(ValueError, match="choice"):
        fc.function([], rs.choice(3, size=5, replace=False))()


from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: E402,F401


@needs_emulator
def test_same_numbers_on_the_emulated_cuda_device(emulated) -> None:
    x = ft.dvector("x")
    got, want = [], []
    for mode, out in ((CUDA, got), ("FAST_RUN", want)):
        rs = fc.RandomStream(SEED)
        f = fc.function([x], [rs.normal(size=4) * x, rs.uniform(size=(2,))], mode=mode)
        for _ in range(2):
            out += [np.asarray(v.get() if hasattr(v, "get") else v) for v in f(np.ones(4))]
    _same(got, want, "CUDA")
