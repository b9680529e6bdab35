"""``ft.set_subtensor`` / ``ft.inc_subtensor`` (and ``x[idx].set(y)`` / ``x[idx].inc(y)``):
against numpy's copy-then-assign (``out = x.copy(); out[idx] = y`` / ``+= y``) over index
patterns (ints, negative ints, slices with steps of both signs, symbolic bounds, empty regions,
1-d to 3-d, ``y`` broadcast to the region) under both linkers; their gradients against central
differences; a pickled function run in another process; what is refused, and how."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: F401  (emulated: a fixture)
from fcutil import fd_check_grads

# (x's shape, the index, y's shape): every int and slice bound is also tried as a symbolic
# int scalar given when the function runs.
CASES: list[tuple[tuple[int, ...], tuple, tuple[int, ...]]] = [
    ((5,), (2,), ()),
    ((5,), (-1,), ()),
    ((5,), (slice(1, 4),), (3,)),
    ((5,), (slice(1, 4),), ()),  # a scalar broadcast over the region
    ((5,), (slice(None, None, 2),), (3,)),
    ((5,), (slice(None, None, -1),), (5,)),
    ((6,), (slice(4, 0, -2),), (2,)),
    ((5,), (slice(-2, None),), (1,)),  # size 1 broadcast to 2
    ((5,), (slice(3, 1),), (0,)),  # an empty region
    ((5,), (slice(3, 1),), ()),
    ((3, 4), (1,), (4,)),
    ((3, 4), (-1, 2), ()),
    ((3, 4), (slice(None), 1), (3,)),
    ((3, 4), (slice(0, 2), slice(1, None)), (2, 3)),
    ((3, 4), (slice(0, 2), slice(1, None)), (3,)),  # a row broadcast over rows
    ((3, 4), (slice(0, 2), slice(1, None)), (2, 1)),  # a column broadcast over columns
    ((3, 4), (slice(None, None, -1), slice(None, None, 3)), (3, 2)),
    ((3, 4), (slice(1, 1),), (4,)),  # 0 rows
    ((2, 3, 4), (1,), (3, 4)),
    ((2, 3, 4), (slice(None), -2), (2, 4)),
    ((2, 3, 4), (slice(None), slice(None, None, -2), slice(1, 3)), (1, 2, 2)),
    ((2, 3, 4), (0, 1, slice(None, None, -1)), (4,)),
    ((2, 3, 4), (slice(1, None), slice(0, 2), 3), ()),
]


def _bounds(key: tuple) -> list[int]:
    """The int values in ``key`` in order (ints, then each slice's start, stop, step)."""
    out: list[int] = []
    for k in key:
        parts = [k.start, k.stop, k.step] if isinstance(k, slice) else [k]
        out.extend(p for p in parts if p is not None)
    return out


def _symbolic_key(key: tuple, scalars: list[Any]) -> tuple:
    """``key`` with its ints replaced, in `_bounds` order, by ``scalars``."""
    it = iter(scalars)

    def sub(p: Any) -> Any:
        return None if p is None else next(it)

    return tuple(
        slice(sub(k.start), sub(k.stop), sub(k.step)) if isinstance(k, slice) else sub(k) for k in key
    )


def _build_all() -> tuple[list, list, list]:
    """One input list and one output list for every case: set and inc, constant and symbolic
    bounds, function and method spellings; plus numpy's results for the values given."""
    rng = np.random.default_rng(0)
    inputs: list = []
    values: list = []
    outs: list = []
    wants: list = []
    for c, (xshape, key, yshape) in enumerate(CASES):
        x = ft.TensorType("float64", (None,) * len(xshape))(f"x{c}")
        y = ft.TensorType("float64", (None,) * len(yshape))(f"y{c}")
        xv, yv = rng.standard_normal(xshape), rng.standard_normal(yshape)
        scalars = [ft.lscalar(f"b{c}_{k}") for k in range(len(_bounds(key)))]
        inputs += [x, y, *scalars]
        values += [xv, yv, *_bounds(key)]
        want_set, want_inc = xv.copy(), xv.copy()
        want_set[key] = yv
        want_inc[key] += yv
        for k in (key, _symbolic_key(key, scalars)):
            outs += [ft.set_subtensor(x[k], y), ft.inc_subtensor(x[k], y), x[k].set(y), x[k].inc(y)]
            wants += [want_set, want_inc, want_set, want_inc]
    return inputs, values, list(zip(outs, wants))


@pytest.mark.parametrize("linker", ["py", "c"])
def test_matches_numpy_copy_then_assign(linker: str) -> None:
    inputs, values, pairs = _build_all()
    f = fc.function(inputs, [o for o, _ in pairs], mode=fc.Mode(linker=linker))
    before = [np.copy(v) for v in values]
    got = f(*values)
    for k, (g, (out, want)) in enumerate(zip(got, pairs)):
        np.testing.assert_array_equal(g, want, err_msg=f"output {k}: {out}")
        assert g.dtype == want.dtype
    for v, b in zip(values, before):
        np.testing.assert_array_equal(v, b)  # x is never modified


@pytest.mark.parametrize("linker", ["py", "c"])
def test_x_is_not_modified_for_its_other_readers(linker: str) -> None:
    """Several results written into the same x, and x read after them: each is a copy."""
    x, y = ft.dmatrix("x"), ft.dvector("y")
    a = ft.set_subtensor(x[0], y)
    b = ft.inc_subtensor(x[:, 1], 2.0)
    c = ft.set_subtensor(a[1:], 0.0)  # a set of a set
    f = fc.function([x, y], [a, b, c, x * 1.0, ft.sum(x)], mode=fc.Mode(linker=linker))
    xv, yv = np.arange(6.0).reshape(3, 2), np.array([7.0, 8.0])
    ga, gb, gc, gx, gs = f(xv, yv)
    wa = xv.copy()
    wa[0] = yv
    wb = xv.copy()
    wb[:, 1] += 2.0
    wc = wa.copy()
    wc[1:] = 0.0
    for got, want in ((ga, wa), (gb, wb), (gc, wc), (gx, xv), (gs, xv.sum())):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(xv, np.arange(6.0).reshape(3, 2))


def test_constants_fold_to_the_same_values() -> None:
    """All-constant operands fold when the graph is optimized; the values are numpy's."""
    xv = np.arange(12.0).reshape(3, 4)
    x = ft.constant(xv)
    s = ft.lscalar("s")
    outs = [ft.set_subtensor(x[1:, ::2], np.array([-1.0, -2.0])), ft.inc_subtensor(x[-1], 10.0) * s]
    f = fc.function([s], outs)
    want0 = xv.copy()
    want0[1:, ::2] = [-1.0, -2.0]
    want1 = xv.copy()
    want1[-1] += 10.0
    got = f(3)
    np.testing.assert_array_equal(got[0], want0)
    np.testing.assert_array_equal(got[1], want1 * 3)


@pytest.mark.parametrize("linker", ["py", "c"])
def test_dtypes_cast_as_numpy_assignment(linker: str) -> None:
    """``y`` is cast to ``x``'s dtype where numpy's same-kind rule allows it."""
    x, y = ft.fvector("x"), ft.dvector("y")
    i, j = ft.ivector("i"), ft.bvector("j")
    outs = [ft.set_subtensor(x[1:], y), ft.inc_subtensor(i[:2], j), ft.inc_subtensor(i[0], 3)]
    f = fc.function([x, y, i, j], outs, mode=fc.Mode(linker=linker))
    xv, yv = np.ones(3, np.float32), np.array([1e-3, 2.5])
    iv, jv = np.arange(3, dtype=np.int32), np.array([True, False])
    got = f(xv, yv, iv, jv)
    assert [g.dtype for g in got] == [np.float32, np.int32, np.int32]
    np.testing.assert_array_equal(got[0], np.array([1, 1e-3, 2.5], np.float32))
    np.testing.assert_array_equal(got[1], [1, 1, 2])
    np.testing.assert_array_equal(got[2], [3, 1, 2])


@pytest.mark.parametrize("linker", ["py", "c"])
def test_gradients_match_central_differences(linker: str) -> None:
    x, y, r, s = ft.dmatrix("x"), ft.dvector("y"), ft.dmatrix("r"), ft.dscalar("s")
    i, j = ft.lscalar("i"), ft.lscalar("j")
    cases = {
        "set_row": (lambda x, y, r, s, i, j: ft.set_subtensor(x[1], y * x[0]), [0, 1]),
        "inc_row": (lambda x, y, r, s, i, j: ft.inc_subtensor(x[1], y * x[0]), [0, 1]),
        "set_broadcast_row": (lambda x, y, r, s, i, j: ft.set_subtensor(x[i:j:-1], y) * x, [0, 1]),
        "inc_broadcast_col": (lambda x, y, r, s, i, j: ft.inc_subtensor(x[:, ::2], r) ** 2, [0, 2]),
        "set_scalar": (lambda x, y, r, s, i, j: ft.set_subtensor(x[i:, 1:], s) * x, [0, 3]),
        "inc_scalar_empty": (lambda x, y, r, s, i, j: ft.inc_subtensor(x[i:j], s) * x, [0, 3]),
        "set_of_inc": (
            lambda x, y, r, s, i, j: ft.set_subtensor(ft.inc_subtensor(x[:, 0], s)[0], y * s),
            [0, 1, 3],
        ),
    }
    xv = np.random.default_rng(1).standard_normal((3, 3))
    yv = np.array([0.5, -1.5, 2.0])
    rv = np.array([[0.3], [-0.7], [1.1]])  # (3, 1) broadcast over x[:, ::2]'s 2 columns
    fd_check_grads(
        [x, y, r, s, i, j],
        cases,
        [[xv, yv, rv, np.array(1.3), np.array(2), np.array(0)]],
        mode=fc.Mode(linker=linker),
    )


def test_second_derivatives_through_set() -> None:
    """The gradient of a set is itself a set (the region zeroed): it differentiates again."""
    x = ft.dvector("x")
    cost = ft.sum(ft.set_subtensor(x[1:], x[:-1] ** 2) ** 2)
    h = ft.hessian(cost, x)
    f = fc.function([x], h, mode=fc.Mode(linker="py"))
    xv = np.array([0.5, -1.0, 2.0])
    # cost = x0^2 + x0^4 + x1^4: the Hessian is diagonal except x2, which is overwritten
    np.testing.assert_allclose(f(xv), np.diag([2 + 12 * xv[0] ** 2, 12 * xv[1] ** 2, 0.0]), rtol=1e-12)


@needs_emulator
def test_cuda_mode_runs_them_on_the_host(emulated) -> None:
    """In a cuda mode they run as their numpy code on the host, between device kernels (the
    CPU emulator of the CUDA execution model stands in for the GPU)."""
    x, y, k = ft.fmatrix("x"), ft.fvector("y"), ft.lscalar("k")
    outs = [ft.set_subtensor(x[:, k:], y) * 2, ft.inc_subtensor(x[0], y[0]) + 1]
    f = fc.function([x, y, k], outs, mode=CUDA)
    xv, yv = np.arange(6, dtype="float32").reshape(2, 3), np.array([9, 8], "float32")
    got = [np.asarray(g.get()) for g in f(xv, yv, 1)]
    want_set, want_inc = xv.copy(), xv.copy()
    want_set[:, 1:] = yv
    want_inc[0] += yv[0]
    np.testing.assert_array_equal(got[0], want_set * 2)
    np.testing.assert_array_equal(got[1], want_inc + 1)


def test_rop_of_a_linear_write_is_the_same_write() -> None:
    """Rop (two reverse passes, through the gradient's own gradient): for the linear map
    (x, y) -> inc(x[::-2], y), the product with (vx, vy) is inc(vx[::-2], vy)."""
    x, y, vx, vy = ft.dmatrix("x"), ft.dvector("y"), ft.dmatrix("vx"), ft.dvector("vy")
    jv = ft.Rop(ft.inc_subtensor(x[::-2], y), [x, y], [vx, vy])
    f = fc.function([x, y, vx, vy], jv, mode=fc.Mode(linker="py"))
    rng = np.random.default_rng(2)
    xv, vxv, yv, vyv = (
        rng.standard_normal((3, 4)),
        rng.standard_normal((3, 4)),
        rng.standard_normal(4),
        rng.standard_normal(4),
    )
    want = vxv.copy()
    want[::-2] += vyv
    np.testing.assert_allclose(f(xv, yv, vxv, vyv), want, rtol=1e-14)


_CHILD = """
import pickle, sys
import numpy as np
f = pickle.loads(sys.stdin.buffer.read())
out = f(np.arange(6.0).reshape(2, 3), np.array([9.0, 8.0]), 1)
sys.stdout.write(repr([o.tolist() for o in out]))
"""


def test_pickled_function_runs_in_another_process(tmp_path: Path) -> None:
    x, y, k = ft.dmatrix("x"), ft.dvector("y"), ft.lscalar("k")
    out = [
        ft.set_subtensor(x[:, k:], y),
        x[0].inc(y[0]),
        ft.grad(ft.sum(ft.inc_subtensor(x[1, ::-2], y) ** 2), y),
    ]
    f = fc.function([x, y, k], out)
    want = [o.tolist() for o in f(np.arange(6.0).reshape(2, 3), np.array([9.0, 8.0]), 1)]
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'}",
    }
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], input=pickle.dumps(f), env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert eval(proc.stdout.decode()) == want


def test_ops_are_keyed_by_their_index_and_kind() -> None:
    x, y, k = ft.dvector("x"), ft.dvector("y"), ft.lscalar("k")
    a, b = ft.set_subtensor(x[1:], y), ft.set_subtensor(x[1:], y)
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    assert ft.inc_subtensor(x[1:], y).owner.op != a.owner.op
    assert ft.set_subtensor(x[2:], y).owner.op != a.owner.op
    assert ft.set_subtensor(x[k:], y).owner.op != a.owner.op
    assert pickle.loads(pickle.dumps(a.owner.op)) == a.owner.op
    assert ft.inc_subtensor(x[1:], y, set_instead_of_inc=True).owner.op == a.owner.op  # Theano's keyword
    assert "Set" in str(a.owner.op) and "Inc" in str(ft.inc_subtensor(x[1:], y).owner.op)


# -- what is refused ------------------------------------------------------------------------------


def test_y_that_cannot_broadcast_is_refused_when_built() -> None:
    x = ft.TensorType("float64", (4, 5))("x")
    with pytest.raises(ValueError, match=r"set_subtensor.*\(2, 5\).*\(3,\)"):
        ft.set_subtensor(x[1:3], ft.TensorType("float64", (3,))("y"))
    with pytest.raises(ValueError, match=r"inc_subtensor.*\(5,\).*\(2, 5\)"):
        ft.inc_subtensor(x[0], ft.TensorType("float64", (2, 5))("y"))  # more dims than the region
    with pytest.raises(ValueError, match=r"set_subtensor.*\(5,\).*\(4,\)"):
        x[0].set(np.ones(4))


@pytest.mark.parametrize("linker", ["py", "c"])
def test_y_that_cannot_broadcast_is_refused_when_run(linker: str) -> None:
    x, y, k = ft.dvector("x"), ft.dvector("y"), ft.lscalar("k")
    f = fc.function(
        [x, y, k], [ft.inc_subtensor(x[k:], y), ft.set_subtensor(x[:k], y)], mode=fc.Mode(linker=linker)
    )
    with pytest.raises(ValueError, match=r"inc_subtensor.*region.*\(3,\).*\(2,\)"):
        f(np.zeros(5), np.zeros(2), 2)
    got = f(np.zeros(4), np.ones(2), 2)  # still works after the refusal
    np.testing.assert_array_equal(got[0], [0, 0, 1, 1])


def test_first_argument_must_be_an_indexing_result() -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    for bad in (x, x + 1, x[:], x[None, 1:]):
        with pytest.raises(TypeError, match=r"set_subtensor.*result of indexing.*x\[1:3\]"):
            ft.set_subtensor(bad, y)
    with pytest.raises(TypeError, match=r"inc_subtensor.*result of indexing"):
        ft.inc_subtensor(np.zeros(3), y)


def test_dtype_that_numpy_would_not_assign_is_refused() -> None:
    i, d = ft.ivector("i"), ft.dvector("d")
    with pytest.raises(TypeError, match=r"inc_subtensor.*float64.*int32.*cast"):
        ft.inc_subtensor(i[1:], d)
    with pytest.raises(TypeError, match=r"set_subtensor.*complex128.*float64"):
        ft.set_subtensor(d[0], ft.zscalar("z"))


def test_float_and_0d_boolean_indices_are_refused_naming_the_fix() -> None:
    x = ft.dvector("x")
    with pytest.raises(TypeError, match=r"int dtype.*ft.cast\(idx, 'int64'\)"):
        ft.set_subtensor(x[ft.dvector("k")], 1.0)
    with pytest.raises(TypeError, match=r"0-d boolean index.*x\[None\]"):
        ft.set_subtensor(x[True], 1.0)
