"""Advanced (int array) indexing: ``x[ivec]``, ``x[:, ivec]``, ``x[ivec, jvec]``, mixed with
ints, slices and new axes, ``ft.take``, ``set_subtensor``/``inc_subtensor`` of such a region,
against numpy (``x[key]``, ``out[key] = y``, ``np.add.at``) over seeded random keys under both
linkers; the errors (out-of-range indices, mismatched index shapes, masks and float indices);
the gradients against central differences; the tutorial's softmax regression trained step by
step as numpy trains it; pickles, cache hits in a fresh process, and the CUDA mode."""

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
from fcutil import add_at, fd_check_grads
from fncache.codegen import c_program
from fncache.codegen.c_module import render_module
from fncache.tensor.advanced_subtensor import AdvancedIncSubtensor, AdvancedSubtensor, AdvancedSubtensorGrad

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def _random_case(rng: np.random.Generator, c: int) -> dict[str, Any]:
    """One random key over a random x: per axis an int, a slice or an index array (at least
    one), sometimes a new axis; index arrays of broadcastable shapes, symbolic (any int dtype)
    or constant (lists or numpy arrays), negative entries included."""
    nd = int(rng.integers(1, 4))
    shape = tuple(int(s) for s in rng.integers(1, 5, nd))
    kinds = [str(k) for k in rng.choice(["i", "s", "a", "a"], nd)]
    if "a" not in kinds:
        kinds[int(rng.integers(nd))] = "a"
    bshape = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(1, 3))))
    key: list[Any] = []  # symbolic
    npkey: list[Any] = []
    inputs: list[Any] = []
    values: list[Any] = []
    for d, kind in enumerate(kinds):
        n = shape[d]
        if rng.random() < 0.15:
            key.append(None)
            npkey.append(None)
        if kind == "i":
            v = int(rng.integers(-n, n))
            key.append(v)
            npkey.append(v)
        elif kind == "s":
            start, stop = sorted(int(s) for s in rng.integers(-n - 1, n + 1, 2))
            step = int(rng.choice([1, 2, -1]))
            s = slice(start, stop, step) if step > 0 else slice(stop, start, step)
            key.append(s)
            npkey.append(s)
        else:
            # this array's shape: bshape with some dims 1 and maybe fewer leading dims
            ashape = tuple(1 if rng.random() < 0.3 else s for s in bshape[int(rng.integers(len(bshape))) :])
            dtype = str(rng.choice(INT_DTYPES))
            lo = 0 if dtype.startswith("u") else -n
            a = rng.integers(lo, n, ashape).astype(dtype)
            form = rng.integers(3)
            if form == 0:
                var = ft.TensorType(dtype, (None,) * a.ndim)(f"i{c}_{d}")
                inputs.append(var)
                values.append(a)
                key.append(var)
            else:
                key.append(a.tolist() if form == 1 else a)
            npkey.append(a)
    static = rng.random() < 0.5
    x = ft.TensorType("float64", shape if static else (None,) * nd)(f"x{c}")
    xv = rng.standard_normal(shape)
    return dict(x=x, xv=xv, key=tuple(key), npkey=tuple(npkey), inputs=inputs, values=values)


def _build_random(n_cases: int) -> tuple[list, list, list, list]:
    rng = np.random.default_rng(20261202)
    inputs: list = []
    values: list = []
    outs: list = []
    wants: list = []
    for c in range(n_cases):
        case = _random_case(rng, c)
        x, xv, key, npkey = case["x"], case["xv"], case["key"], case["npkey"]
        want = xv[npkey]
        region = x[key]
        assert region.ndim == want.ndim, (key, region.type, want.shape)
        for s, w in zip(region.type.shape, want.shape):
            assert s is None or s == w, (key, region.type, want.shape)
        # y: the region's shape, some dims 1 (broadcast) and maybe fewer leading dims
        yshape = tuple(1 if rng.random() < 0.3 else s for s in want.shape[int(rng.integers(want.ndim + 1)) :])
        y = ft.TensorType("float64", (None,) * len(yshape))(f"y{c}")
        yv = rng.standard_normal(yshape)
        want_set, want_inc = xv.copy(), add_at(xv, npkey, yv)
        want_set[npkey] = yv
        inputs += [x, y, *case["inputs"]]
        values += [xv, yv, *case["values"]]
        outs += [region, ft.set_subtensor(region, y), region.inc(y)]
        wants += [want, want_set, want_inc]
    return inputs, values, outs, wants


@pytest.mark.parametrize("linker", ["py", "c"])
def test_random_keys_match_numpy(linker: str) -> None:
    inputs, values, outs, wants = _build_random(60)
    f = fc.function(inputs, outs, mode=fc.Mode(linker=linker))
    before = [np.copy(v) for v in values]
    got = f(*values)
    for k, (g, w) in enumerate(zip(got, wants)):
        assert g.shape == w.shape and g.dtype == w.dtype, (k, outs[k], g.shape, w.shape)
        np.testing.assert_array_equal(g, w, err_msg=f"output {k}: {outs[k]}")
    for v, b in zip(values, before):
        np.testing.assert_array_equal(v, b)  # no input is modified


@pytest.mark.parametrize("linker", ["py", "c"])
def test_named_forms_dtypes_and_repeats(linker: str) -> None:
    """The forms users write, with numpy's shapes: where the index arrays' dims go when a
    slice separates them, ints among them, repeated indices for set (last wins) and inc (all
    add), int x, and take."""
    x, t = ft.dtensor3("x"), ft.imatrix("t")
    i, j = ft.lvector("i"), ft.TensorType("uint8", (None,))("j")
    m = ft.imatrix("m")
    xv = np.arange(60.0).reshape(3, 4, 5)
    iv, jv = np.array([2, 0, 2, -1]), np.array([4, 1, 1, 0], np.uint8)
    mv = np.arange(12, dtype=np.int32).reshape(3, 4)
    tv = np.array([[0, 1], [2, 0]], np.int32)
    cases = [
        (x[i], xv[iv]),
        (x[:, i], xv[:, iv]),
        (x[i, :, j], xv[iv, :, jv]),  # separated: the index dims first
        (x[:, i, j], xv[:, iv, jv]),  # adjacent: in place
        (x[i, 0], xv[iv, 0]),
        (x[0, :, i], xv[0, :, iv]),  # an int and an array separated by a slice
        (x[..., j], xv[..., jv]),
        (x[[0, 2], None, 1:], xv[[0, 2], None, 1:]),
        (x[np.array([[1], [2]]), [0, 3]], xv[np.array([[1], [2]]), [0, 3]]),
        (x[[]], xv[[]]),
        (x[[i[0], 1], j[1:2]], xv[[iv[0], 1], jv[1:2]]),  # a list with a symbolic entry
        (ft.take(x, t), np.take(xv, tv)),
        (ft.take(x, t, axis=1), np.take(xv, tv, axis=1)),
        (x.take(i, axis=-1), xv.take(iv, axis=-1)),
        (ft.take(x, -3), np.take(xv, -3)),
        (ft.set_subtensor(x[i], -1.0), None),
        (ft.inc_subtensor(x[i, :, j], 1.0), None),
        (m[i[:2] - 1, j[1:3]].inc(100), None),  # (1, 1) and (-1, 1)
        (ft.set_subtensor(m[j[1:]], (ft.arange(3) * 10).astype("int32")[:, None]), None),
    ]
    want_set = xv.copy()
    want_set[iv] = -1.0
    want_inc = xv.copy()
    np.add.at(want_inc, (iv, slice(None), jv), 1.0)
    want_m = mv.copy()
    np.add.at(want_m, (iv[:2] - 1, jv[1:3]), 100)
    want_m2 = mv.copy()
    want_m2[jv[1:]] = (np.arange(3, dtype=np.int32) * 10)[:, None]  # row 1 twice: the last write stays
    fills = iter([want_set, want_inc, want_m, want_m2])
    f = fc.function([x, t, i, j, m], [o for o, _ in cases], mode=fc.Mode(linker=linker))
    got = f(xv, tv, iv, jv, mv)
    for k, (g, (out, want)) in enumerate(zip(got, cases)):
        want = next(fills) if want is None else want
        assert g.shape == want.shape and g.dtype == want.dtype, (k, out, g.shape, want.shape)
        np.testing.assert_array_equal(g, want, err_msg=f"case {k}: {out}")


def _steps(f: Any) -> list[tuple[int, str]]:
    """(kind, op name) of each step of ``f``'s C program."""
    program = render_module(f.optimized_graph, n_explicit=len(f.inputs), single=False).program
    return [(st[0], st[6]) for st in program[4]]


def test_leading_index_arrays_are_native_steps_with_numpys_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """x[ivec], M[arange(n), y], their gradients and an inc of such a region run as the
    run-time's own step; what it does not cover (strided x, 2-D or uint64 indices, y
    broadcast, an index out of range) runs the op's numpy code, with the same results."""
    rng = np.random.default_rng(7)
    W, M, Wf, Wi = ft.dmatrix("W"), ft.dmatrix("M"), ft.ftensor3("Wf"), ft.imatrix("Wi")
    i, y, b = ft.lvector("i"), ft.ivector("y"), ft.TensorType("uint8", (None,))("b")
    u, im = ft.TensorType("uint64", (None,))("u"), ft.lmatrix("im")
    g, gf = ft.dmatrix("g"), ft.ftensor3("gf")
    outs = [
        W[i],
        M[ft.arange(y.shape[0]), y],
        Wf[b],
        fc.grad(None, W, known_grads={W[i]: g}),
        fc.grad(ft.sum(M[ft.arange(y.shape[0]), y] ** 2), M),
        ft.inc_subtensor(Wf[b], gf),
        ft.inc_subtensor(Wi[i[:3], i[3:6]], ft.arange(3).astype("int32")),
        W.T[i],  # x not contiguous
        W[im],  # a 2-D index
        W[u],  # uint64 indices
        ft.inc_subtensor(W[i], 1.0),  # y broadcast
    ]
    performed: list[str] = []
    for cls in (AdvancedSubtensor, AdvancedSubtensorGrad, AdvancedIncSubtensor):

        def counted(self: Any, node: Any, inputs: list, _orig: Any = cls.perform) -> list:
            performed.append(str(self))
            return _orig(self, node, inputs)

        monkeypatch.setattr(cls, "perform", counted)
    f = fc.function([W, M, Wf, Wi, i, y, b, u, im, g, gf], outs)
    kinds = _steps(f)
    # all but W[im]: an index array of more (or fewer) dims than 1 is never the step's
    assert sum(kind == c_program.ST_ADV_INDEX for kind, _ in kinds) == 10, kinds
    Wv, Mv = rng.standard_normal((6, 6)), rng.standard_normal((5, 3))
    Wfv, Wiv = rng.standard_normal((6, 2, 3)).astype("float32"), np.arange(36, dtype=np.int32).reshape(6, 6)
    iv = np.array([5, 0, -1, 5, 2, 3])
    yv = np.array([2, 0, 1, 1, 2], np.int32)
    bv = np.array([1, 1, 0, 5], np.uint8)
    uv, imv = np.array([0, 5], np.uint64), np.array([[0, 1], [5, -6]])
    gv, gfv = rng.standard_normal((6, 6)), rng.standard_normal((4, 2, 3)).astype("float32")
    got = f(Wv, Mv, Wfv, Wiv, iv, yv, bv, uv, imv, gv, gfv)
    assert len(performed) == 4, performed  # the last four outputs: numpy's code
    gW = np.zeros_like(Wv)
    np.add.at(gW, iv, gv)
    gM = np.zeros_like(Mv)
    np.add.at(gM, (np.arange(5), yv), 2 * Mv[np.arange(5), yv])
    incf = Wfv.copy()
    np.add.at(incf, bv, gfv)
    inci = Wiv.copy()
    np.add.at(inci, (iv[:3], iv[3:6]), np.arange(3, dtype=np.int32))
    inc1 = Wv.copy()
    np.add.at(inc1, iv, 1.0)
    wants = [
        Wv[iv],
        Mv[np.arange(5), yv],
        Wfv[bv],
        gW,
        gM,
        incf,
        inci,
        Wv.T[iv],
        Wv[imv],
        Wv[uv],
        inc1,
    ]
    for k, (gt, w) in enumerate(zip(got, wants)):
        assert gt.shape == w.shape and gt.dtype == w.dtype, (k, outs[k])
        np.testing.assert_allclose(gt, w, rtol=1e-6, err_msg=f"output {k}: {outs[k]}")
    with pytest.raises(
        IndexError, match=r"AdvancedSubtensor.*index 6 is out of bounds for axis 0 with size 6"
    ):
        f(Wv, Mv, Wfv, Wiv, iv + 1, yv, bv, uv, imv, gv, gfv)
    with pytest.raises(
        IndexError, match=r"AdvancedSubtensor.*index 3 is out of bounds for axis 1 with size 3"
    ):
        f(Wv, Mv, Wfv, Wiv, iv, yv + 1, bv, uv, imv, gv, gfv)


@pytest.mark.parametrize("linker", ["py", "c"])
def test_boolean_masks_as_numpy(linker: str) -> None:
    """x[mask] is x[mask.nonzero()]: masks over one or several axes, with slices, ints and
    int arrays, constant masks (their positions known when the graph is built), writes and
    gradients; a mask of the wrong shape raises numpy's IndexError, naming the op."""
    x, m, b, i = (
        ft.dtensor3("x"),
        ft.TensorType("bool", (None, None))("m"),
        ft.TensorType("int8", (None,))("b"),
        ft.lvector("i"),
    )
    v = ft.neq(b, 0)
    xv = np.arange(60.0).reshape(3, 4, 5)
    mv = xv[:, :, 0] % 3 == 0
    bv = np.array([1, 0, 1, 0, 1], np.int8)
    vv = bv != 0
    const = np.array([True, False, True])
    cases = [
        (x[m], xv[mv]),
        (x[:, :, v], xv[:, :, vv]),
        (x[m, 1], xv[mv, 1]),
        (x[v[:3], :, i], xv[vv[:3], :, [2]]),
        (x[..., v], xv[..., vv]),
        (x[const], xv[const]),
        (x[x > 30], xv[xv > 30]),
        (ft.set_subtensor(x[m], -1.0), None),
        (ft.inc_subtensor(x[:, :, v], ft.arange(3.0)), None),
        (fc.grad(ft.sum(x[x > 30] ** 2) + ft.sum(x[:, m[0]]), x), None),
    ]
    assert cases[5][0].type.shape[0] == 2  # a constant mask's count is known
    want_set = xv.copy()
    want_set[mv] = -1.0
    want_inc = xv.copy()
    want_inc[:, :, vv] += np.arange(3.0)
    want_grad = np.where(xv > 30, 2 * xv, 0.0)
    want_grad[:, mv[0]] += 1.0
    fills = iter([want_set, want_inc, want_grad])
    f = fc.function([x, m, b, i], [o for o, _ in cases], mode=fc.Mode(linker=linker))
    got = f(xv, mv, bv, np.array([2]))
    for k, (g, (out, want)) in enumerate(zip(got, cases)):
        want = next(fills) if want is None else want
        assert g.shape == want.shape and g.dtype == want.dtype, (k, out, g.shape, want.shape)
        np.testing.assert_array_equal(g, want, err_msg=f"case {k}: {out}")
    with pytest.raises(IndexError, match=r"AdvancedSubtensor\[mask@0\].*boolean index did not match"):
        f(xv, mv[:2], bv, np.array([2]))


# -- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("linker", ["py", "c"])
def test_out_of_range_indices_raise_index_error_naming_op_index_and_size(linker: str) -> None:
    x, i = ft.dmatrix("x"), ft.lvector("i")
    u = ft.TensorType("uint64", (None,))("u")
    y = ft.dvector("y")
    mode = fc.Mode(linker=linker)
    f = fc.function([x, i], x[i], mode=mode)
    fcol = fc.function([x, i], x[:, i], mode=mode)
    g = fc.function([x, u], x[u], mode=mode)
    s = fc.function([x, i, y], [ft.set_subtensor(x[i, 0], y), ft.inc_subtensor(x[i], 1.0)], mode=mode)
    xv = np.zeros((3, 5))
    with pytest.raises(
        IndexError, match=r"AdvancedSubtensor.*index 3 is out of bounds for axis 0 with size 3"
    ):
        f(xv, np.array([0, 3]))
    with pytest.raises(IndexError, match=r"index -6 is out of bounds for axis 1 with size 5"):
        fcol(xv, np.array([-6, 1]))
    with pytest.raises(
        IndexError, match=r"index 9223372036854775808 is out of bounds for axis 0 with size 3"
    ):
        g(xv, np.array([2**63], np.uint64))
    with pytest.raises(IndexError, match=r"AdvancedSetSubtensor.*index -4 is out of bounds"):
        s(xv, np.array([-4]), np.ones(1))
    f(xv, np.array([], np.int64))  # nothing to check: an empty result
    np.testing.assert_array_equal(xv, 0)


def test_build_time_errors_name_the_fix() -> None:
    x = ft.TensorType("float64", (3, None))("x")
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for axis 0 with size 3"):
        x[[0, 3]]
    with pytest.raises(IndexError, match=r"could not be broadcast together with shapes \(2,\) \(3,\)"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(TypeError, match=r"0-d boolean index.*x\[None\]"):
        x[True]
    with pytest.raises(IndexError, match=r"boolean index did not match.*axis 0; size of axis is 3.*is 2"):
        x[ft.TensorType("bool", (2, None))("m")]
    with pytest.raises(TypeError, match=r"take: indices must be ints, got booleans"):
        ft.take(x, [True, False])
    with pytest.raises(TypeError, match=r"int dtype.*ft.cast\(idx, 'int64'\)"):
        x[ft.fvector("f")]
    with pytest.raises(ValueError, match=r"take: mode must be 'raise', 'wrap' or 'clip', got 'fold'"):
        ft.take(x, [0], mode="fold")
    with pytest.raises(ValueError, match=r"take: axis 2 is out of range"):
        ft.take(x, [0], axis=2)
    with pytest.raises(ValueError, match=r"set_subtensor.*\(2, 4\).*\(3,\)"):
        ft.set_subtensor(ft.TensorType("float64", (3, 4))("z")[[0, 1]], ft.TensorType("float64", (3,))("y"))


@pytest.mark.parametrize("linker", ["py", "c"])
def test_mismatched_shapes_at_run_time(linker: str) -> None:
    x, i, j, y = ft.dmatrix("x"), ft.lvector("i"), ft.lvector("j"), ft.dvector("y")
    f = fc.function([x, i, j], x[i, j], mode=fc.Mode(linker=linker))
    with pytest.raises(IndexError, match=r"AdvancedSubtensor.*could not be broadcast together"):
        f(np.zeros((3, 3)), np.array([0, 1]), np.array([0, 1, 2]))
    s = fc.function([x, i, y], ft.set_subtensor(x[i], y), mode=fc.Mode(linker=linker))
    with pytest.raises(ValueError, match=r"AdvancedSetSubtensor.*y of shape \(2,\) does not fit"):
        s(np.zeros((3, 3)), np.array([0, 1]), np.ones(2))


# -- gradients ------------------------------------------------------------------------------------
@pytest.mark.parametrize("linker", ["py", "c"])
def test_gradients_match_central_differences(linker: str) -> None:
    x, y, r, s = ft.dmatrix("x"), ft.dvector("y"), ft.dmatrix("r"), ft.dscalar("s")
    i, j = ft.lvector("i"), ft.TensorType("uint32", (None,))("j")
    cases = {
        "rows_repeated": (lambda x, y, r, s, i, j: x[i] * y[0], [0, 1]),
        "columns": (lambda x, y, r, s, i, j: x[:, i] ** 2, [0]),
        "pairs": (lambda x, y, r, s, i, j: x[i, j] * x[j, i], [0]),
        "take_flat": (lambda x, y, r, s, i, j: ft.take(x, i + 3) * s, [0, 3]),
        "set_repeated": (lambda x, y, r, s, i, j: ft.set_subtensor(x[i], r * s) * x, [0, 2, 3]),
        "set_scalar": (lambda x, y, r, s, i, j: ft.set_subtensor(x[i, j], s) * x, [0, 3]),
        "set_broadcast_row": (lambda x, y, r, s, i, j: ft.set_subtensor(x[:, j], y[:1]) ** 2, [0, 1]),
        "inc_repeated": (lambda x, y, r, s, i, j: ft.inc_subtensor(x[i], r) ** 2, [0, 2]),
        "inc_broadcast": (lambda x, y, r, s, i, j: ft.inc_subtensor(x[i, 1:], y[:2] * s) * x, [0, 1, 3]),
        "mask": (lambda x, y, r, s, i, j: x[r[:3] > 0] * s, [0, 3]),
        "set_mask": (lambda x, y, r, s, i, j: ft.set_subtensor(x[:, y > 0], s) * x, [0, 3]),
    }
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((3, 3))
    iv = np.array([2, 0, 2, -1])  # 2 three times
    jv = np.array([1, 1, 0, 2], np.uint32)
    rv = rng.standard_normal((4, 3))
    fd_check_grads(
        [x, y, r, s, i, j],
        cases,
        [[xv, np.array([0.5, -1.5, 2.0]), rv, np.array(1.3), iv, jv]],
        mode=fc.Mode(linker=linker),
    )


def test_index_inputs_get_no_gradient() -> None:
    """Index arrays are ints: differentiating with respect to one is refused as for any int."""
    x, i = ft.dvector("x"), ft.lvector("i")
    with pytest.raises(TypeError, match=r"cannot differentiate with respect to i of dtype int64"):
        fc.grad(ft.sum(x[i]), i)


def test_second_derivatives_through_set_and_gather() -> None:
    """The gradients are advanced ops themselves: they differentiate again."""
    x, i = ft.dvector("x"), ft.lvector("i")
    cost = ft.sum(ft.set_subtensor(x[i], x[:2] ** 2) ** 2) + ft.sum(x[i] ** 3)
    f = fc.function([x, i], ft.hessian(cost, x), mode=fc.Mode(linker="py"))
    xv, iv = np.array([0.5, -1.0, 2.0]), np.array([2, 2])

    def cost_np(v: np.ndarray) -> float:
        out = v.copy()
        out[iv] = v[:2] ** 2
        return float(np.sum(out**2) + np.sum(v[iv] ** 3))

    eps = 1e-4
    fd = np.empty((3, 3))
    for a in range(3):
        for b in range(3):
            pp, pm, mp, mm = (xv.copy() for _ in range(4))
            pp[a] += eps
            pp[b] += eps
            pm[a] += eps
            pm[b] -= eps
            mp[a] -= eps
            mp[b] += eps
            mm[a] -= eps
            mm[b] -= eps
            fd[a, b] = (cost_np(pp) - cost_np(pm) - cost_np(mp) + cost_np(mm)) / (4 * eps * eps)
    np.testing.assert_allclose(f(xv, iv), fd, rtol=1e-5, atol=1e-6)


# -- the tutorial's loss ------------------------------------------------------------------------------
@pytest.mark.parametrize("linker", ["py", "c"])
def test_softmax_regression_nll_trains_as_numpy(linker: str) -> None:
    """-mean(log(p_y_given_x)[arange(n), y]) with W[ivec]-free softmax regression, trained by
    gradient descent with shared updates: every step's loss and parameters equal numpy's."""
    rng = np.random.default_rng(5)
    n, d, k = 20, 4, 3
    xv = rng.standard_normal((n, d))
    yv = rng.integers(0, k, n).astype(np.int32)
    W = fc.shared(np.zeros((d, k)), name="W")
    b = fc.shared(np.zeros(k), name="b")
    x, y = ft.dmatrix("x"), ft.ivector("y")
    p = ft.softmax(ft.dot(x, W) + b)
    loss = -ft.mean(ft.log(p)[ft.arange(y.shape[0]), y])
    gW, gb = fc.grad(loss, [W, b])
    lr = 0.5
    train = fc.function(
        [x, y], loss, updates=[(W, W - lr * gW), (b, b - lr * gb)], mode=fc.Mode(linker=linker)
    )
    Wn, bn = np.zeros((d, k)), np.zeros(k)
    for _ in range(5):
        z = xv @ Wn + bn
        e = np.exp(z - z.max(axis=1, keepdims=True))
        pn = e / e.sum(axis=1, keepdims=True)
        want = -np.mean(np.log(pn)[np.arange(n), yv])
        delta = pn.copy()
        np.add.at(delta, (np.arange(n), yv), -1.0)
        delta /= n
        Wn, bn = Wn - lr * xv.T @ delta, bn - lr * delta.sum(axis=0)
        np.testing.assert_allclose(train(xv, yv), want, rtol=1e-12)
        np.testing.assert_allclose(W.get_value(), Wn, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(b.get_value(), bn, rtol=1e-10, atol=1e-14)


# -- keys, pickles, the cache, CUDA ---------------------------------------------------------------------
def test_ops_are_keyed_by_their_key_and_kind() -> None:
    x, i, j = ft.dvector("x"), ft.lvector("i"), ft.lvector("j")
    a, b = x[i], x[j]
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    assert ft.dmatrix("m")[:, i].owner.op != ft.dmatrix("m")[i].owner.op
    s, c = ft.set_subtensor(x[i], 1.0), ft.inc_subtensor(x[i], 1.0)
    assert s.owner.op != c.owner.op
    for op in (a.owner.op, s.owner.op, c.owner.op):
        assert pickle.loads(pickle.dumps(op)) == op
    assert "AdvancedSet" in str(s.owner.op) and "AdvancedInc" in str(c.owner.op)


_CHILD = """
import pickle, sys
import numpy as np
import fncache as fc
from fncache import tensor as ft
x, i, y = ft.dmatrix("x"), ft.lvector("i"), ft.dvector("y")
outs = [ft.exp(x[i]) + 1, ft.inc_subtensor(x[:, i], y[0]), fc.grad(ft.sum(x[i, ::-1] ** 2), x)]
f = fc.function([x, i, y], outs)
out = f(np.arange(6.0).reshape(2, 3), np.array([1, 1, 0]), np.array([9.0]))
g = pickle.loads(sys.stdin.buffer.read())
out2 = g(np.arange(6.0).reshape(2, 3), np.array([1, 1, 0]), np.array([9.0]))
assert all(np.array_equal(a, b) for a, b in zip(out, out2))
print(repr([o.tolist() for o in out]), fc.cache.info()["compiles"])
"""


def test_pickled_and_cached_in_a_fresh_process(tmp_path: Path) -> None:
    """A function with the advanced ops pickles; in fresh processes sharing a compiledir, the
    second compiles nothing (a cache hit) and both compute what this process computes."""
    x, i, y = ft.dmatrix("x"), ft.lvector("i"), ft.dvector("y")
    outs = [ft.exp(x[i]) + 1, ft.inc_subtensor(x[:, i], y[0]), fc.grad(ft.sum(x[i, ::-1] ** 2), x)]
    f = fc.function([x, i, y], outs)
    want = [o.tolist() for o in f(np.arange(6.0).reshape(2, 3), np.array([1, 1, 0]), np.array([9.0]))]
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'}",
    }
    runs = [
        subprocess.run(
            [sys.executable, "-c", _CHILD], input=pickle.dumps(f), env=env, capture_output=True, timeout=300
        )
        for _ in range(2)
    ]
    for r in runs:
        assert r.returncode == 0, r.stderr.decode()
    printed = [r.stdout.decode().rsplit(" ", 1) for r in runs]
    assert [eval(got) for got, _ in printed] == [want, want]
    compiles = [int(n) for _, n in printed]
    # the compiledir's count of compiles: the second process added none (its functions were hits)
    assert compiles[0] >= 1 and compiles[1] == compiles[0]


@needs_emulator
def test_cuda_mode_runs_them_on_the_host(emulated) -> None:
    """In a cuda mode they run as their numpy code on the host, between device kernels (the
    CPU emulator of the CUDA execution model stands in for the GPU)."""
    x, i = ft.fmatrix("x"), ft.lvector("i")
    outs = [x[:, i] * 2, ft.inc_subtensor(x[:, i], 1.0) + 1]
    f = fc.function([x, i], outs, mode=CUDA)
    xv, iv = np.arange(6, dtype="float32").reshape(2, 3), np.array([2, 2, 0])
    got = [np.asarray(g.get()) for g in f(xv, iv)]
    want_inc = xv.copy()
    np.add.at(want_inc, (slice(None), iv), 1.0)
    np.testing.assert_array_equal(got[0], xv[:, iv] * 2)
    np.testing.assert_array_equal(got[1], want_inc + 1)


@pytest.mark.parametrize("dtype", ["float32", "int32", "int16", "int8", "float64"])
def test_row_gather_of_rows_eight_bytes_long(dtype: str) -> None:
    """The run-time's gather copies a row of 8 bytes in one move: rows of two 4-byte elements
    (or four 2-byte ones) are read at their element offsets too, not as if each were 8 bytes."""
    x, i = ft.tensor("x", dtype, 2), ft.lvector("i")
    f = fc.function([x, i], x[i])
    for cols in (1, 2, 3, 4, 8):
        xv, iv = np.arange(5 * cols, dtype=dtype).reshape(5, cols), np.array([4, 0, 2, 4, -1])
        np.testing.assert_array_equal(f(xv, iv), xv[iv], err_msg=f"{dtype} rows of {cols}")
