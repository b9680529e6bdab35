"""What PyTensor's own tests check of ``einsum`` (``tests/tensor/test_einsum.py``), of
indexing and ``take`` (``test_subtensor.py``), of the reductions and dimshuffles of
``test_elemwise.py``, of the less common ops of ``test_math.py`` and ``test_special.py`` and of
``pad`` (``test_pad.py``), written again for fncache (the earlier rounds are
``test_pytensor_port3.py``, ``test_pytensor_port4.py``, ``test_pytensor_surface5.py``,
``test_extra_ops_port.py`` and ``test_grad_ported*.py``): values and dtypes against numpy and
scipy, gradients against central finite differences in float64, and clear errors.

Cases PyTensor runs that fncache refused or got wrong until now: ``einsum`` with an index
repeated in one operand (``'ii->i'``, the trace ``'ii'``), with an explicit output that drops
the ellipsis dims (summed, as PyTensor's; numpy refuses) and with an index of static size 1
against another size (numpy's broadcasting); ``take`` with ``mode='wrap'`` and ``'clip'``;
``sigmoid`` of bools; ``pad``'s modes ``linear_ramp maximum minimum mean median``, its
``stat_length``, ``end_values``, ``reflect_type='odd'`` and padding longer than the axis.
Each case runs under the Python linker (a compile costs nothing there); each area also runs
once compiled to C, every case one output of one function."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.signal
from scipy import special

import fncache as fc
from fncache import tensor as ft
from fcutil import as_list, assert_same, fd_check_case, run_case, run_cases_in_one_function

PY = fc.Mode(linker="py")
RNG = np.random.default_rng(20261205)

#: (expression builder, reference, input values[, relative tolerance]): both take the inputs
#: in order and return one array or a list of them.
Case = tuple


def _n(*shape: int) -> np.ndarray:
    return np.asarray(RNG.normal(size=shape))


M, X3, V = _n(4, 5), _n(3, 4, 5), _n(5)
MI = RNG.integers(-9, 9, size=(3, 4))
SQ = _n(4, 4)


# -- einsum (tests/tensor/test_einsum.py) ------------------------------------------------------
#: the letters' sizes of PyTensor's signature table
_SIZES = dict(zip("ijklmnop", [2, 3, 5, 7, 11, 13, 17, 19]))
_SIGNATURES = [
    "ij", "ji", "ii->i", "ii", "ij->", "ij->j", "ij->i", "ij,ij->ij", "ij,ji->ij", "ij,ji->ji",
    "ij,jk", "kj,ji", "ij,kj->ik", "ik,kj->ikj", "ij,kl->ijkl", "ij,jk,kl->il", "kl,ij,jk->il",
    "oij,imj,mjkn,lnk,plk->op", "iij->j", "ijj->ij", "iji->j",
]  # fmt: skip


def _signature_case(sig: str) -> Case:
    terms = sig.split("->")[0].split(",")
    vals = tuple(_n(*[_SIZES[c] for c in t]) for t in terms)
    return (lambda *a: ft.einsum(sig, *a), lambda *a: np.einsum(sig, *a), vals, 1e-11)


EINSUM: dict[str, Case] = {f"einsum_{s}": _signature_case(s) for s in _SIGNATURES}
EINSUM.update(
    {
        "einsum_threeway_ellipsis": (
            lambda a, b, c: ft.einsum("..., ..., ... -> ...", a, b, c),
            lambda a, b, c: a * b * c,
            (V, V + 1, V + 2),
        ),
        "einsum_ellipsis_in_the_middle": (
            lambda a, b: ft.einsum("m...p,p...n->m...n", ft.moveaxis(a, -2, 0), ft.moveaxis(b, -2, 0)),
            lambda a, b: np.matmul(a, b).transpose(-2, 0, 1, -1),
            (_n(3, 5, 7, 4), _n(3, 5, 4, 6)),
            1e-11,
        ),
        # PyTensor sums the ellipsis dims an explicit output leaves out (numpy refuses)
        "einsum_ellipsis_summed": (
            lambda a, b: ft.einsum("m...p,p...n->mn", ft.moveaxis(a, -2, 0), ft.moveaxis(b, -2, 0)),
            lambda a, b: np.matmul(a, b).sum((0, 1)),
            (_n(3, 5, 7, 4), _n(3, 5, 4, 6)),
            1e-11,
        ),
        "einsum_ellipsis_summed_one_operand": (
            lambda a: ft.einsum("...i->i", a),
            lambda a: a.sum((0, 1)),
            (X3,),
        ),
        "einsum_repeated_input_int": (
            lambda a: [ft.einsum("ij,ij->i", a, a), ft.einsum("ij,ij->i", a, a.copy())],
            lambda a: [np.einsum("ij,ij->i", a, a)] * 2,
            (np.array([[1, 2], [3, 4]]),),
        ),
        "einsum_trace_int8_and_bool": (
            lambda a, b: [ft.einsum("ii", a), ft.einsum("ii->i", b), ft.einsum("ij,jj->i", a, a)],
            lambda a, b: [np.einsum("ii", a), np.einsum("ii->i", b), np.einsum("ij,jj->i", a, a)],
            (MI[:3, :3].astype("int8"), SQ > 0),
        ),
        "einsum_conv_windows": (
            lambda w, f: ft.einsum("bchwkt,fckt->bfhw", w, f),
            lambda w, f: np.einsum("bchwkt,fckt->bfhw", w, f),
            (_n(2, 3, 4, 4, 2, 2), _n(5, 3, 2, 2)),
            1e-11,
        ),
    }
)


def test_einsum_broadcasts_an_index_of_static_size_1() -> None:
    """numpy's einsum lets one letter name a dim of size 1 and one of another size (PyTensor's
    test of a suboptimal path): the operand of size 1 broadcasts; it raised at run time."""
    a = ft.tensor("a", "float64", shape=(6, 4, 4))
    b = ft.tensor("b", "float64", shape=(10, 4))
    c = ft.tensor("c", "float64", shape=(1, 4))
    vals = (_n(6, 4, 4), _n(10, 4), _n(1, 4))
    outs = [ft.einsum("ijk,bj,bk->i", a, b, c), ft.einsum("ijk,bj,ck->i", a, b, c)]
    for mode in (PY, "FAST_RUN"):
        got = fc.function([a, b, c], outs, mode=mode)(*vals)
        for g in got:
            assert_same(g, np.einsum("ijk,bj,bk->i", *vals), "einsum broadcast", rtol=1e-11)
    assert ft.einsum("bj,bk->jk", b, c).type.shape == (4, 4)
    assert ft.einsum("bj,bk->bjk", b, c).type.shape == (10, 4, 4)


def test_einsum_static_shape_of_a_batch_dim() -> None:
    x = ft.tensor("x", "float64", shape=(7, 3, 5))
    y = ft.tensor("y", "float64", shape=(5, 2))
    assert ft.einsum("mij,jk->mik", x, y).type.shape == (7, 3, 2)
    assert ft.einsum("ii->i", ft.tensor("s", "float64", shape=(4, 4))).type.shape == (4,)


def test_einsum_diagonal_of_unequal_sizes_raises() -> None:
    with pytest.raises(ValueError, match="einsum: the dims of the repeated subscript 'i' have sizes 2 and 3"):
        ft.einsum("ii", ft.tensor("s", "float64", shape=(2, 3)))
    with pytest.raises(ValueError, match=r"einsum: operand 0 is .* \(4 dims\) but 'mp' names 2"):
        ft.einsum("mp,pn->mn", ft.dtensor4("x"), ft.dtensor4("y"))
    x = ft.dmatrix("x")
    for mode in (PY, "FAST_RUN"):
        f = fc.function([x], ft.einsum("ii->i", x), mode=mode)
        assert_same(f(SQ), np.diagonal(SQ).copy())
        # known only at run time, the same error as a static mismatch (numpy's ValueError)
        with pytest.raises(
            ValueError, match=r"einsum: the dims of the repeated subscript 'i' have sizes \d+ and \d+"
        ):
            f(M)


# -- indexing and take (tests/tensor/test_subtensor.py) ---------------------------------------
def _inc_at(a: np.ndarray, idx: tuple, v: Any) -> np.ndarray:
    out = a.copy()
    np.add.at(out, idx, v)
    return out


def _set_at(a: np.ndarray, idx: tuple, v: Any) -> np.ndarray:
    out = a.copy()
    out[idx] = v
    return out


_X = _n(5, 6, 7)
INDEXING: dict[str, Case] = {
    "advanced_apart_go_first": (lambda a: a[[0, 2], :, [1, 3]], lambda a: a[[0, 2], :, [1, 3]], (_X,)),
    "advanced_together_stay": (lambda a: a[:, [0, 2], [1, 3]], lambda a: a[:, [0, 2], [1, 3]], (_X,)),
    "advanced_with_newaxis": (
        lambda a: [a[None, [0, 2]], a[[0, 2], None, [1, 3]]],
        lambda a: [a[None, [0, 2]], a[[0, 2], None, [1, 3]]],
        (_X,),
    ),
    "advanced_with_int": (
        lambda a: [a[1, :, [1, 3]], a[[1, 2], 0, [1, 3]]],
        lambda a: [a[1, :, [1, 3]], a[[1, 2], 0, [1, 3]]],
        (_X,),
    ),
    "ellipsis_forms": (
        lambda a: [a[..., [0, 2]], a[0, ..., None], a[..., 1, :]],
        lambda a: [a[..., [0, 2]], a[0, ..., None], a[..., 1, :]],
        (_X,),
    ),
    "negative_steps_and_out_of_bounds_slices": (
        lambda a: [a[::-2, 1:-1, ::3], a[10:20, -100:2]],
        lambda a: [a[::-2, 1:-1, ::3], a[10:20, -100:2]],
        (_X,),
    ),
    "index_matrices_and_broadcast_indices": (
        lambda a: [
            a[np.array([[0, 1], [2, 3]])],
            a[:, np.array([[0, 1], [2, 3]]), 1],
            a[[[0], [1]], [1, 2, 3]],
        ],
        lambda a: [
            a[np.array([[0, 1], [2, 3]])],
            a[:, np.array([[0, 1], [2, 3]]), 1],
            a[[[0], [1]], [1, 2, 3]],
        ],
        (_X,),
    ),
    "masks_with_ints_and_arrays": (
        lambda a: [a[a[:, :, 0] > 0], a[:, a[0, :, 0] > 0], a[a[:, 0, 0] > 0, 1], a[a[:, 0, 0] > 0, :, [1]]],
        lambda a: [a[a[:, :, 0] > 0], a[:, a[0, :, 0] > 0], a[a[:, 0, 0] > 0, 1], a[a[:, 0, 0] > 0, :, [1]]],
        (_X,),
    ),
    "symbolic_small_int_indices": (
        lambda a, i, j: [a[i], a[:, j], a[j, :, i]],
        lambda a, i, j: [a[i], a[:, j], a[j, :, i]],
        (_X, np.array([0, 4], dtype="uint8"), np.array([-1, -5], dtype="int8")),
    ),
    "inc_repeated_advanced": (
        lambda a: [
            ft.inc_subtensor(a[[0, 0, 2]], 1.0),
            ft.inc_subtensor(a[[0, 0], :, [1, 1]], 1.0),
            ft.inc_subtensor(a[np.array([[0, 1], [0, 3]])], 1.0),
            ft.inc_subtensor(a[[0, 0, 2]], 1.0, ignore_duplicates=True),
        ],
        lambda a: [
            _inc_at(a, ([0, 0, 2],), 1.0),
            _inc_at(a, ([0, 0], slice(None), [1, 1]), 1.0),
            _inc_at(a, (np.array([[0, 1], [0, 3]]),), 1.0),
            _set_at(a, ([0, 2],), a[[0, 2]] + 1.0),
        ],
        (_X,),
    ),
    "set_advanced_masks_and_steps": (
        lambda a: [
            ft.set_subtensor(a[[0, 2], :, [1, 3]], 5.0),
            ft.set_subtensor(a[a[:, 0, 0] > 0], a[0]),
            ft.inc_subtensor(a[::-2, 1], 1.0),
            ft.inc_subtensor(a[1:3], a[0, :1]),
            ft.inc_subtensor(a[1:, [0, 0]], 3.0, set_instead_of_inc=True),
        ],
        lambda a: [
            _set_at(a, ([0, 2], slice(None), [1, 3]), 5.0),
            _set_at(a, (a[:, 0, 0] > 0,), a[0]),
            _set_at(a, (slice(None, None, -2), 1), a[::-2, 1] + 1.0),
            _set_at(a, (slice(1, 3),), a[1:3] + a[0, :1]),
            _set_at(a, (slice(1, None), [0, 0]), 3.0),
        ],
        (_X,),
    ),
    "take_modes": (
        lambda a, i: [
            ft.take(a, [1, -1], axis=1),
            ft.take(a, [7, -9, 20], axis=2, mode="wrap"),
            ft.take(a, [7, -9, 20], axis=2, mode="clip"),
            ft.take(a, [[1, 2], [300, -400]], mode="wrap"),
            a.take(i, 0, mode="clip"),
            a.take(i, axis=1, mode="wrap"),
        ],
        lambda a, i: [
            np.take(a, [1, -1], axis=1),
            np.take(a, [7, -9, 20], axis=2, mode="wrap"),
            np.take(a, [7, -9, 20], axis=2, mode="clip"),
            np.take(a, [[1, 2], [300, -400]], mode="wrap"),
            np.take(a, i, 0, mode="clip"),
            np.take(a, i, 1, mode="wrap"),
        ],
        (_X, np.array([200, 255, 3], dtype="uint8")),
    ),
    "take_modes_int8_indices": (
        lambda a, i: [ft.take(a, i, axis=0, mode="wrap"), ft.take(a, i, axis=0, mode="clip")],
        lambda a, i: [np.take(a, i, 0, mode="wrap"), np.take(a, i, 0, mode="clip")],
        (M, np.array([-128, 127, -1, 0], dtype="int8")),
    ),
}


def test_take_modes_raise_for_an_unknown_mode_and_an_empty_axis() -> None:
    x = ft.dmatrix("x")
    with pytest.raises(ValueError, match="take: mode must be 'raise', 'wrap' or 'clip', got 'fold'"):
        ft.take(x, [0], mode="fold")
    for mode in ("wrap", "clip"):
        f = fc.function([x], ft.take(x, [1], axis=0, mode=mode), mode=PY)
        with pytest.raises(IndexError):
            f(np.zeros((0, 3)))


# -- reductions and dimshuffles (tests/tensor/test_elemwise.py) --------------------------------
_XI8, _XU8, _XB = MI.astype("int8"), np.abs(MI).astype("uint8"), M > 0
REDUCE: dict[str, Case] = {
    "reductions_over_axis_tuples": (
        lambda a: [
            ft.sum(a, axis=(0, 2)),
            ft.prod(a, axis=(2, 0), keepdims=True),
            ft.max(a, axis=()),
            ft.min(a, -1),
        ],
        lambda a: [np.sum(a, (0, 2)), np.prod(a, (2, 0), keepdims=True), np.max(a, ()), np.min(a, -1)],
        (X3,),
    ),
    "reductions_of_small_ints_and_bools": (
        lambda a, b, c: [
            ft.sum(a, 0),
            ft.prod(a),
            ft.sum(b),
            ft.prod(b, 1),
            ft.sum(c, 0),
            ft.mean(a, 1),
            ft.all(c),
            ft.any(a, 0),
        ],
        lambda a, b, c: [
            np.sum(a, 0),
            np.prod(a),
            np.sum(b),
            np.prod(b, 1),
            np.sum(c, 0),
            np.mean(a, 1),
            np.all(c),
            np.any(a, 0),
        ],
        (_XI8, _XU8, _XB),
    ),
    "reductions_of_empty_dims": (
        lambda e: [ft.sum(e, 0), ft.prod(e, 0), ft.all(e, 0), ft.any(e, 0), ft.max(e, 1), ft.sum(e)],
        lambda e: [np.sum(e, 0), np.prod(e, 0), np.all(e, 0), np.any(e, 0), np.max(e, 1), np.sum(e)],
        (np.zeros((0, 3)),),
    ),
    "reduction_dtypes": (
        lambda a, f: [
            ft.sum(a, dtype="int8"),
            ft.sum(f, acc_dtype="float64"),
            ft.mean(f, 1),
            ft.max(_as(a, "uint8"), 0),
        ],
        lambda a, f: [
            np.sum(a, dtype="int8"),
            np.sum(f, dtype="float64").astype("float32"),
            np.mean(f, 1, dtype="float64").astype("float32"),
            np.max(a.astype("uint8"), 0),
        ],
        (_XI8, M.astype("float32")),
        1e-6,
    ),
    "argmax_forms": (
        lambda a: (
            [ft.argmax(a, axis=1, keepdims=True), ft.argmin(a), ft.argmax(a, axis=(0, 1))]
            + list(ft.max_and_argmax(a[0], axis=1))
        ),
        lambda a: [
            np.argmax(a, 1, keepdims=True),
            np.argmin(a),
            np.argmax(a.reshape(-1, 5), 0),
            np.max(a[0], 1),
            np.argmax(a[0], 1),
        ],
        (X3,),
    ),
    "max_and_argmax_with_nan": (
        lambda a: [ft.max(a), ft.argmax(a), ft.min(a, 0)],
        lambda a: [np.max(a), np.argmax(a), np.min(a, 0)],
        (np.array([1.0, np.nan, 3.0]),),
    ),
    "dimshuffles": (
        lambda a, r: [
            a.dimshuffle("x", 1, "x", 0),
            ft.addbroadcast(r, 0).dimshuffle(1),
            ft.transpose(_as3(a), (2, 0, 1)),
            _as3(a).mT,
        ],
        lambda a, r: [
            a.T[None, :, None, :],
            r[0],
            np.transpose(a[None], (2, 0, 1)),
            np.swapaxes(a[None], -1, -2),
        ],
        (M, np.ones((1, 3))),
    ),
}


def _as(x: Any, dtype: str) -> Any:
    return ft.cast(x, dtype)


def _as3(x: Any) -> Any:
    return x.dimshuffle("x", 0, 1)


# -- math and special functions (tests/tensor/test_math.py, test_special.py) -------------------
_POS = np.asarray(RNG.uniform(0.1, 3.0, size=(4, 5)))
_YI = RNG.integers(1, 5, size=(3, 4)) * RNG.choice([-1, 1], size=(3, 4))
MATH: dict[str, Case] = {
    "floor_division_and_remainder_of_negatives": (
        lambda a, b, f, g: [a // b, a % b, f % g, ft.fmod(f, g), a / b],
        lambda a, b, f, g: [a // b, a % b, f % g, np.fmod(f, g), a / b],
        (MI, _YI, M, -_POS),
    ),
    "rounding_modes": (
        lambda a: [
            ft.round(a),
            ft.round(a, mode="half_away_from_zero"),
            ft.round_half_to_even(a),
            ft.iround(a),
        ],
        lambda a: [
            np.round(a),
            np.sign(a) * np.floor(np.abs(a) + 0.5),
            np.round(a),
            np.round(a).astype("int64"),
        ],
        (np.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.6]),),
    ),
    "clip_with_crossed_bounds_and_ints": (
        lambda a, b: [ft.clip(a, 1.0, -1.0), ft.clip(b, -2, 3)],
        lambda a, b: [np.clip(a, 1.0, -1.0), np.clip(b, -2, 3)],
        (M, MI),
    ),
    "log_exp_compositions": (
        lambda a, b, p: [
            ft.logaddexp(a, b),
            ft.log1mexp(-p),
            ft.log1pexp(p * 50),
            ft.logsumexp(p, axis=0, keepdims=True),
        ],
        lambda a, b, p: [
            np.logaddexp(a, b),
            np.log(-np.expm1(-p)),
            np.logaddexp(0, p * 50),
            special.logsumexp(p, 0, keepdims=True),
        ],
        (np.array([-np.inf, 1000, -1000, 0]), np.array([-np.inf, 1000, -1001, np.inf]), _POS),
    ),
    "logsumexp_of_minus_infinities": (
        lambda a: ft.logsumexp(a, axis=1),
        lambda a: special.logsumexp(a, axis=1),
        (np.array([[-np.inf, -np.inf], [1000.0, 1000.0]]),),
    ),
    "isclose_nan_to_num": (
        lambda a, b: [
            ft.isclose(a, b),
            ft.isclose(a, b, equal_nan=True),
            ft.nan_to_num(a),
            ft.nan_to_num(a, nan=1.0, posinf=2.0, neginf=-3.0),
        ],
        lambda a, b: [
            np.isclose(a, b),
            np.isclose(a, b, equal_nan=True),
            np.nan_to_num(a),
            np.nan_to_num(a, nan=1.0, posinf=2.0, neginf=-3.0),
        ],
        (np.array([1.0, np.nan, np.inf, -np.inf, 1e-9]), np.array([1.0 + 1e-9, np.nan, np.inf, np.inf, 0.0])),
    ),
    "bitwise_ops": (
        lambda a, b, c: [a & b, a | b, a ^ b, ~a, ~c],
        lambda a, b, c: [a & b, a | b, a ^ b, ~a, ~c],
        (MI, _YI, M > 0),
    ),
    "sigmoid_of_bools_and_ints": (
        lambda b, i: [ft.sigmoid(b), ft.expit(b), ft.sigmoid(i), ft.softplus(b)],
        lambda b, i: [
            special.expit(b).astype("float32"),
            special.expit(b).astype("float32"),
            special.expit(i),
            np.logaddexp(0, b.astype("float32")),
        ],
        (np.array([True, False]), MI),
        1e-6,
    ),
    "incomplete_gamma_and_beta": (
        lambda p, q, x: [
            ft.gammainc(q, p),
            ft.gammaincc(q, p),
            ft.gammau(q, p),
            ft.gammal(q, p),
            ft.betainc(p, q, x),
            ft.betaincinv(p, q, x),
            ft.gammaincinv(p, x),
            ft.gammainccinv(p, x),
        ],
        lambda p, q, x: [
            special.gammainc(q, p),
            special.gammaincc(q, p),
            special.gammaincc(q, p) * special.gamma(q),
            special.gammainc(q, p) * special.gamma(q),
            special.betainc(p, q, x),
            special.betaincinv(p, q, x),
            special.gammaincinv(p, x),
            special.gammainccinv(p, x),
        ],
        (_POS, _POS + 1, _POS / 4),
        1e-9,
    ),
    "bessel_and_polygamma": (
        lambda a, p: [
            ft.j0(a),
            ft.j1(a),
            ft.jv(2.5, a),
            ft.i0(a),
            ft.i1(a),
            ft.iv(1.5, a),
            ft.ive(1.5, a),
            ft.kve(1.5, p),
            ft.polygamma(3, p),
            ft.tri_gamma(p),
            ft.owens_t(a, p),
        ],
        lambda a, p: [
            special.j0(a),
            special.j1(a),
            special.jv(2.5, a),
            special.i0(a),
            special.i1(a),
            special.iv(1.5, a),
            special.ive(1.5, a),
            special.kve(1.5, p),
            special.polygamma(3, p),
            special.polygamma(1, p),
            special.owens_t(a, p),
        ],
        (M, _POS),
        1e-9,
    ),
    # the compositions computed in the input's integer dtype: x + 8 wrapped, 1 / x in float32
    "special_compositions_of_small_ints": (
        lambda i, u: [
            ft.psi(i),
            ft.polygamma(3, i),
            ft.tri_gamma(u),
            ft.special.betaln(i, i),
            ft.special.poch(u, u),
            ft.special.xlogy(i, i),
        ],
        lambda i, u: [
            special.psi(i),
            special.polygamma(3, i),
            special.polygamma(1, u),
            special.betaln(i, i).astype("float32"),
            special.poch(u, u).astype("float32"),
            special.xlogy(i, i).astype("float32"),
        ],
        (np.array([2, 5, 1, 100, 127], dtype="int8"), np.array([2, 5, 1, 30, 255], dtype="uint8")),
        1e-6,
    ),
    "special_module": (
        lambda a, p: [
            ft.special.log_softmax(a, axis=0),
            ft.special.softmax(a, axis=None),
            ft.special.logit(ft.expit(a)),
            ft.special.betaln(p, p + 1),
            ft.special.beta(p, p + 1),
            ft.special.poch(p, p + 1),
            ft.special.factorial(ft.cast(p * 3, "int64")),
        ],
        lambda a, p: [
            special.log_softmax(a, axis=0),
            special.softmax(a, axis=None),
            a,
            special.betaln(p, p + 1),
            special.beta(p, p + 1),
            special.poch(p, p + 1),
            special.factorial((p * 3).astype("int64")),
        ],
        (M, _POS),
        1e-9,
    ),
    "products": (
        lambda m, v: [
            ft.outer(m, v),
            ft.tensordot(m, v, 1),
            ft.tensordot(m, v, 0),
            ft.matmul(m, v),
            ft.matmul(v[:4], m),
            ft.vecdot(m, v),
            ft.matvec(m, v),
            ft.vecmat(v[:4], m),
            ft.inner(m, v),
        ],
        lambda m, v: [
            np.outer(m, v),
            np.tensordot(m, v, 1),
            np.tensordot(m, v, 0),
            m @ v,
            v[:4] @ m,
            np.vecdot(m, v),
            np.matvec(m, v),
            np.vecmat(v[:4], m),
            np.inner(m, v),
        ],
        (M, V),
        1e-11,
    ),
    "integer_and_mixed_products": (
        lambda a, b, f: [ft.dot(a, b.T), ft.dot(ft.cast(a, "int8"), f.T[:4].T), ft.dot(_n3(), _n4())],
        lambda a, b, f: [np.dot(a, b.T), np.dot(a.astype("int8"), f.T[:4].T), np.dot(_N3, _N4)],
        (MI, _YI, M[:3, :4].T.copy()),
        1e-11,
    ),
    "counting_and_searching": (
        lambda a, w, s, q: [
            ft.bincount(a),
            ft.bincount(a, w, minlength=10),
            ft.searchsorted(s, q, side="right"),
            ft.searchsorted(s[::-1], q, sorter=ft.constant(np.array([2, 1, 0]))),
        ],
        lambda a, w, s, q: [
            np.bincount(a),
            np.bincount(a, w, minlength=10),
            np.searchsorted(s, q, side="right"),
            np.searchsorted(s[::-1], q, sorter=[2, 1, 0]),
        ],
        (np.abs(MI).ravel(), M.ravel()[:12], np.array([1.0, 2, 2]), np.array([2.0, 0, 5])),
    ),
}
_N3, _N4 = _n(2, 3, 4), _n(5, 4, 2)


def _n3() -> Any:
    return ft.constant(_N3)


def _n4() -> Any:
    return ft.constant(_N4)


# -- pad (tests/tensor/test_pad.py) -------------------------------------------------------------
_V3 = np.array([1.0, 2.0, 4.0])


def _pad_case(arr: np.ndarray, width: Any, mode: str, **kw: Any) -> Case:
    return (lambda a: ft.pad(a, width, mode, **kw), lambda a: np.pad(a, width, mode, **kw), (arr,))


PAD: dict[str, Case] = {}
for _mode in ("reflect", "symmetric", "wrap"):
    for _kind in ("even", "odd") if _mode != "wrap" else ("even",):
        _kw = {} if _kind == "even" else {"reflect_type": "odd"}
        PAD[f"pad_{_mode}_{_kind}_within_the_axis"] = _pad_case(M, ((1, 2), (3, 0)), _mode, **_kw)
        PAD[f"pad_{_mode}_{_kind}_longer_than_the_axis"] = _pad_case(M, ((9, 1), (2, 11)), _mode, **_kw)
        PAD[f"pad_{_mode}_{_kind}_vector"] = _pad_case(_V3, 7, _mode, **_kw)
        PAD[f"pad_{_mode}_{_kind}_one_entry"] = _pad_case(np.array([5.0]), 3, _mode, **_kw)
        PAD[f"pad_{_mode}_{_kind}_ints"] = _pad_case(MI, (4, 5), _mode, **_kw)
for _mode in ("mean", "median", "maximum", "minimum"):
    for _sl in (None, 1, 2, 10, ((1, 3), (2, 4))):
        PAD[f"pad_{_mode}_stat_length_{_sl}"] = _pad_case(M, ((2, 1), (0, 3)), _mode, stat_length=_sl)
    PAD[f"pad_{_mode}_ints_rounded_half_to_even"] = _pad_case(MI, 2, _mode)
for _ev in (0, 1.5, -3, ((1, 2), (3, 4))):
    PAD[f"pad_linear_ramp_{_ev}"] = _pad_case(M, ((2, 3), (4, 1)), "linear_ramp", end_values=_ev)
    PAD[f"pad_linear_ramp_{_ev}_ints"] = _pad_case(MI, ((2, 3), (4, 1)), "linear_ramp", end_values=_ev)
PAD["pad_linear_ramp_uint8"] = _pad_case(_XU8, 3, "linear_ramp", end_values=200)
PAD["pad_constant_per_axis"] = _pad_case(M, 2, "constant", constant_values=((1, 2), (3, 4)))
PAD["pad_edge_and_3d"] = _pad_case(X3, ((0, 1), (2, 0), (1, 1)), "edge")

# -- linear algebra over stacks of matrices (tests/tensor/test_blockwise.py, linalg/) -----------
_A = _n(2, 3, 4, 4)
_P = _A @ np.swapaxes(_A, -1, -2) + 4 * np.eye(4)
_B = _n(2, 3, 4, 2)


def _per_matrix(f: Callable[..., Any]) -> Callable[..., Any]:
    """scipy's ``f`` applied to each matrix of stacks with the same batch dims, the results
    (one array or a tuple) stacked back."""

    def stacked(*arrays: np.ndarray) -> Any:
        batch = arrays[0].shape[:-2]
        outs = [f(*[a[idx] for a in arrays]) for idx in np.ndindex(batch)]
        if not isinstance(outs[0], tuple):
            return np.stack(outs).reshape(batch + outs[0].shape)
        return [np.stack([o[k] for o in outs]).reshape(batch + o0.shape) for k, o0 in enumerate(outs[0])]

    return stacked


LINALG: dict[str, Case] = {
    "lu_of_a_stack": (
        lambda a: [*ft.slinalg.lu(a), *ft.slinalg.lu(a, permute_l=True), *ft.slinalg.lu(a, p_indices=True)],
        lambda a: [
            *_per_matrix(sla.lu)(a),
            *_per_matrix(lambda m: sla.lu(m, permute_l=True))(a),
            *_per_matrix(lambda m: sla.lu(m, p_indices=True))(a),
        ],
        (_A,),
        1e-10,
    ),
    "lu_of_a_stack_of_wide_matrices": (
        lambda a: list(ft.slinalg.lu(a)),
        _per_matrix(sla.lu),
        (_n(3, 3, 5),),
        1e-10,
    ),
    "lu_factor_and_solve_of_a_stack": (
        lambda a, b: [*ft.slinalg.lu_factor(a), ft.slinalg.lu_solve(ft.slinalg.lu_factor(a), b)],
        lambda a, b: [
            *_per_matrix(sla.lu_factor)(a),
            _per_matrix(lambda m, r: sla.lu_solve(sla.lu_factor(m), r))(a, b),
        ],
        (_A, _B),
        1e-10,
    ),
    "lu_solve_of_a_stack_vector_transposed": (
        lambda a, b: ft.slinalg.lu_solve(ft.slinalg.lu_factor(a), b[..., 0], trans=1),
        lambda a, b: _per_matrix(lambda m, r: sla.lu_solve(sla.lu_factor(m), r, trans=1))(a, b)[..., 0],
        (_A, _B[..., :1]),
        1e-10,
    ),
    "lyapunov_solvers_of_a_stack": (
        lambda a, q: [
            ft.slinalg.solve_continuous_lyapunov(a - 5 * np.eye(4), q),
            ft.slinalg.solve_discrete_lyapunov(a / 5, q),
            ft.slinalg.solve_discrete_lyapunov(a[0, 0] / 5, q, method="bilinear"),
        ],
        lambda a, q: [
            _per_matrix(sla.solve_continuous_lyapunov)(a - 5 * np.eye(4), q),
            _per_matrix(sla.solve_discrete_lyapunov)(a / 5, q),
            _per_matrix(lambda m: sla.solve_discrete_lyapunov(a[0, 0] / 5, m))(q),
        ],
        (_A, _P),
        1e-9,
    ),
    "block_diag_of_stacks": (
        lambda a, b: [ft.slinalg.block_diag(a, b), ft.slinalg.block_diag(a[0], b, b[1, 2])],
        lambda a, b: [
            _per_matrix(sla.block_diag)(a, b),
            _per_matrix(lambda x, y: sla.block_diag(x, y, b[1, 2]))(np.broadcast_to(a[0], a.shape), b),
        ],
        (_A, _B),
    ),
}


# -- fft (tests/tensor/test_fft.py) --------------------------------------------------------------
def _np_rfft(a: np.ndarray, norm: str | None = None) -> np.ndarray:
    """numpy's rfftn over every dim but the first, as (real, imaginary) pairs in a's dtype."""
    res = np.fft.rfftn(a, axes=tuple(range(1, a.ndim)), norm="backward" if norm != "ortho" else "ortho")
    return np.stack([res.real, res.imag], axis=-1).astype(a.dtype)


def _np_irfft(a: np.ndarray, n: int, norm: str | None = None) -> np.ndarray:
    """numpy's irfftn of (real, imaginary) pairs to a last transformed dim of ``n``."""
    sizes = a.shape[1:-2] + (n,)
    kind = {None: "backward", "ortho": "ortho", "no_norm": "forward"}[norm]
    res = np.fft.irfftn(a[..., 0] + 1j * a[..., 1], s=sizes, axes=tuple(range(1, a.ndim - 1)), norm=kind)
    return res.astype(a.dtype)


_F8, _F5, _F3D = _n(3, 8), _n(2, 5), _n(2, 4, 6)
FFT: dict[str, Case] = {
    "rfft_even_odd_and_2d": (
        lambda a, b, c: [ft.fft.rfft(a), ft.fft.rfft(b), ft.fft.rfft(c)],
        lambda a, b, c: [_np_rfft(a), _np_rfft(b), _np_rfft(c)],
        (_F8, _F5, _F3D),
        1e-11,
    ),
    "rfft_norms_and_float32": (
        lambda a, f: [ft.fft.rfft(a, "ortho"), ft.fft.rfft(a, "no_norm"), ft.fft.rfft(f)],
        lambda a, f: [_np_rfft(a, "ortho"), _np_rfft(a), _np_rfft(f)],
        (_F8, _F8.astype("float32")),
        1e-5,
    ),
    "irfft_inverts_rfft": (
        lambda a, b, c: [
            ft.fft.irfft(ft.fft.rfft(a)),
            ft.fft.irfft(ft.fft.rfft(b, "ortho"), "ortho", is_odd=True),
            ft.fft.irfft(ft.fft.rfft(c)),
        ],
        lambda a, b, c: [a, b, c],
        (_F8, _F5, _F3D),
        1e-11,
    ),
    "irfft_norms_against_numpy": (
        lambda z: [ft.fft.irfft(z), ft.fft.irfft(z, "ortho", True), ft.fft.irfft(z, "no_norm")],
        lambda z: [_np_irfft(z, 8), _np_irfft(z, 9, "ortho"), _np_irfft(z, 8, "no_norm")],
        (_n(2, 5, 2),),
        1e-11,
    ),
    "rfft_of_ints_in_float64": (
        lambda i: ft.fft.rfft(i),
        lambda i: _np_rfft(i.astype("float64")),
        (MI,),
        1e-11,
    ),
}


# -- signal.convolve2d (tests/tensor/signal/test_conv.py) -------------------------------------------
def _conv2d_stack(a: np.ndarray, k: np.ndarray, *args: Any) -> np.ndarray:
    """scipy's convolve2d of each image of the stack ``a`` with ``k``."""
    outs = [scipy.signal.convolve2d(a[idx], k, *args) for idx in np.ndindex(a.shape[:-2])]
    return np.stack(outs).reshape(a.shape[:-2] + outs[0].shape)


_IMG, _KER = _n(5, 6), _n(2, 3)
SIGNAL: dict[str, Case] = {
    f"convolve2d_{mode}_{boundary}": (
        lambda a, k, mode=mode, boundary=boundary: ft.signal.convolve2d(a, k, mode, boundary, 1.5),
        lambda a, k, mode=mode, boundary=boundary: scipy.signal.convolve2d(a, k, mode, boundary, 1.5),
        (_IMG, _KER),
        1e-11,
    )
    for mode in ("full", "same", "valid")
    for boundary in ("fill", "wrap", "symm")
}
SIGNAL.update(
    {
        "convolve2d_kernel_larger_than_the_image": (
            lambda a, k: [ft.signal.convolve2d(k, a, "valid"), ft.signal.convolve2d(k, a, "same", "symm")],
            lambda a, k: [
                scipy.signal.convolve2d(k, a, "valid"),
                scipy.signal.convolve2d(k, a, "same", "symm"),
            ],
            (_IMG, _KER),
            1e-11,
        ),
        "convolve2d_of_a_stack_and_ints": (
            lambda a, k, i: [ft.signal.convolve2d(a, k, "same", "wrap"), ft.signal.convolve2d(i, i[:2, :2])],
            lambda a, k, i: [_conv2d_stack(a, k, "same", "wrap"), scipy.signal.convolve2d(i, i[:2, :2])],
            (_n(2, 3, 5, 6), _KER, MI),
            1e-11,
        ),
    }
)

AREAS: dict[str, dict[str, Case]] = {
    "einsum": EINSUM,
    "indexing": INDEXING,
    "reduce": REDUCE,
    "math": MATH,
    "pad": PAD,
    "linalg": LINALG,
    "fft": FFT,
    "signal": SIGNAL,
}
ALL = [(area, name) for area, cases in AREAS.items() for name in cases]


def _check_case(name: str, got: list, case: Case) -> None:
    _, ref, vals = case[:3]
    rtol = case[3] if len(case) > 3 else None
    with np.errstate(all="ignore"):
        want = as_list(ref(*vals))
    assert len(got) == len(want), name
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(
            g, np.asarray(w), f"{name} output {k}", rtol=rtol, atol=None if rtol is None else rtol * 1e-2
        )


@pytest.mark.parametrize("area, name", ALL, ids=[f"{a}-{n}" for a, n in ALL])
def test_values_match_numpy_and_scipy(area: str, name: str) -> None:
    build, _, vals = AREAS[area][name][:3]
    _check_case(name, run_case(build, vals, PY), AREAS[area][name])


@pytest.mark.parametrize("area", list(AREAS))
def test_values_compiled_to_c(area: str) -> None:
    """Every case of the area as outputs of one compiled function (one gcc call)."""
    cases = AREAS[area]
    got = run_cases_in_one_function({name: (case[0], case[2]) for name, case in cases.items()})
    for name, case in cases.items():
        _check_case(name, got[name], case)


# -- gradients against central finite differences ----------------------------------------------
GRADS: dict[str, tuple[Callable[..., Any], tuple]] = {
    "einsum_trace_and_diagonal": (lambda a: ft.einsum("ii", a) + ft.einsum("ii->i", a) ** 2, (SQ,)),
    "einsum_repeated_index_in_a_product": (lambda a, b: ft.einsum("ij,jj->i", a, b), (M[:, :4], SQ)),
    "einsum_ellipsis_summed": (lambda a, b: ft.einsum("...ij,...jk->ik", a, b), (_n(2, 3, 4), _n(2, 4, 2))),
    "take_wrap_repeated": (lambda a: ft.take(a, [7, 7, -9, 1], axis=1, mode="wrap"), (M,)),
    "take_clip": (lambda a: ft.take(a, [-3, 0, 9], axis=0, mode="clip"), (M,)),
    "pad_reflect_odd_long": (lambda a: ft.pad(a, ((5, 2), (1, 7)), "reflect", reflect_type="odd"), (M,)),
    "pad_symmetric_long": (lambda a: ft.pad(a, 6, "symmetric"), (_n(2, 3),)),
    "pad_wrap_long": (lambda a: ft.pad(a, (4, 9), "wrap"), (_n(3),)),
    "pad_mean_stat_length": (lambda a: ft.pad(a, ((1, 2), (2, 0)), "mean", stat_length=2), (M,)),
    "pad_maximum": (lambda a: ft.pad(a, 2, "maximum"), (M,)),
    "pad_median": (lambda a: ft.pad(a, (2, 1), "median", stat_length=3), (_n(6),)),
    "pad_linear_ramp": (lambda a, e: ft.pad(a, 3, "linear_ramp", end_values=e), (M, np.asarray(0.5))),
    "lu_of_a_stack": (lambda a: ft.slinalg.lu(a)[1] * 2 + ft.slinalg.lu(a)[2], (_n(2, 3, 3),)),
    "lu_solve_of_a_stack": (
        lambda a, b: ft.slinalg.lu_solve(ft.slinalg.lu_factor(a), b),
        (_n(2, 3, 3) + 3 * np.eye(3), _n(2, 3)),
    ),
    "lyapunov_of_a_stack": (
        lambda a, q: ft.slinalg.solve_discrete_lyapunov(a, q),
        (_n(2, 3, 3) / 4, _n(2, 3, 3)),
    ),
    "block_diag_of_stacks": (lambda a, b: ft.slinalg.block_diag(a, b), (_n(2, 2, 3), _n(1, 2, 2))),
    "rfft": (lambda a: ft.fft.rfft(a) * np.arange(20.0).reshape(2, 5, 2), (_n(2, 8),)),
    "rfft_odd_ortho_2d": (lambda a: ft.fft.rfft(a, "ortho"), (_n(2, 3, 5),)),
    "irfft": (lambda z: ft.fft.irfft(z) * np.arange(16.0).reshape(2, 8), (_n(2, 5, 2),)),
    "convolve2d_full_fill": (
        lambda a, k, f: ft.signal.convolve2d(a, k, "full", "fill", f),
        (_n(3, 4), _n(2, 2), np.asarray(0.7)),
    ),
    "convolve2d_same_symm_stack": (
        lambda a, k: ft.signal.convolve2d(a, k, "same", "symm"),
        (_n(2, 3, 4), _n(3, 2)),
    ),
    "convolve2d_valid_larger_kernel": (
        lambda a, k: ft.signal.convolve2d(a, k, "valid"),
        (_n(2, 2), _n(3, 4)),
    ),
    "irfft_odd_ortho": (lambda z: ft.fft.irfft(z, "ortho", is_odd=True), (_n(2, 4, 2),)),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients_match_finite_differences(name: str) -> None:
    fd_check_case(name, *GRADS[name], mode=PY)


# -- as_tensor of lists holding variables (tests/tensor/test_basic.py) ----------------------------
def test_as_tensor_stacks_a_list_holding_variables() -> None:
    """PyTensor's ``as_tensor([x.shape[0], 2])`` stacks the entries (a shape vector built of
    symbolic sizes); fncache tried to make a constant of it and raised."""
    x, f, b = ft.dmatrix("x"), ft.fscalar("f"), ft.tensor("b", "int8", shape=())
    shape_vec = ft.as_tensor([x.shape[0], 2])
    assert shape_vec.type == ft.TensorType("int64", (2,))
    nested = ft.as_tensor_variable(((x[0, 0], 1.0), [2, x[1, 1]]), name="n")
    assert nested.type.shape == (2, 2) and nested.name == "n"
    rows = ft.as_tensor([x[0], [1.0, 2.0, 3.0]])
    # Python numbers take the dtype of the tensors they meet (numpy's rule), if they fit it
    assert [ft.as_tensor([f, 1.5]).dtype, ft.as_tensor([b, 3]).dtype, ft.as_tensor([b, 300]).dtype] == [
        "float32",
        "int8",
        "int64",
    ]
    xv = np.arange(6.0).reshape(2, 3)
    for mode in (PY, "FAST_RUN"):
        got = fc.function([x], [shape_vec, nested, rows, ft.zeros(ft.as_tensor([x.shape[1], 2]))], mode=mode)(
            xv
        )
        assert_same(got[0], np.array([2, 2]))
        assert_same(got[1], np.array([[0.0, 1.0], [2.0, 4.0]]))
        assert_same(got[2], np.stack([xv[0], [1.0, 2.0, 3.0]]))
        assert_same(got[3], np.zeros((3, 2)))


# -- where fncache follows numpy rather than PyTensor (docs/porting.md) --------------------------
def test_integer_results_follow_numpy_not_pytensor() -> None:
    """PyTensor's ``reciprocal``/``floor``/``ceil``/``trunc`` of ints give floats; fncache's
    give numpy's dtype and values (documented in docs/porting.md)."""
    i = ft.ivector("i")
    iv = np.array([2, -3, 1], dtype="int32")
    outs = [ft.reciprocal(i), ft.floor(i), ft.ceil(i), ft.trunc(i), 1.0 / i, ft.psi(ft.cast(i, "int8"))]
    want = [
        np.reciprocal(iv),
        np.floor(iv),
        np.ceil(iv),
        np.trunc(iv),
        1.0 / iv,
        special.psi(iv.astype("int8")),
    ]
    for mode in (PY, "FAST_RUN"):
        for g, w in zip(fc.function([i], outs, mode=mode)(iv), want):
            assert_same(g, w, "numpy's integer results")
    m = ft.dmatrix("m")
    vals, vecs = ft.nlinalg.eig(m)
    assert (vals.dtype, vecs.dtype) == ("complex128", "complex128")  # numpy's is value-dependent
    got = fc.function([m], vals, mode=PY)(SQ + SQ.T)
    np.testing.assert_allclose(np.sort(got.real), np.linalg.eigvalsh(SQ + SQ.T), rtol=1e-10)
    assert np.all(got.imag == 0)


# -- PyTensor's module paths ------------------------------------------------------------------------
def test_pytensor_module_paths_hold_the_front_ends_names() -> None:
    """``from pytensor.tensor.shape import specify_shape``, ``from pytensor.tensor.subtensor
    import set_subtensor``, ``from pytensor.tensor.functional import vectorize`` and the
    modules ``pad`` and ``interpolate`` raised ImportError."""
    import importlib

    paths = {
        "shape": "reshape shape specify_shape specify_broadcastable shape_padleft shape_padright shape_padaxis",
        "subtensor": "set_subtensor inc_subtensor take flip slice_at_axis",
        "functional": "vectorize",
        "pad": "pad",
        "interpolate": "interp interpolate1d",
    }
    for path, names in paths.items():
        module = importlib.import_module(f"fncache.tensor.{path}")
        for name in names.split():
            assert getattr(module, name) is getattr(ft, name), (path, name)
    # importing the modules leaves ft's functions of the same names in place
    assert ft.pad is ft.arrange.pad and ft.shape is ft.shape_ops.shape
    assert ft.functional.vectorize is ft.vectorize and ft.interpolate.interp is ft.interp
    from fncache.tensor.shape import shape_i, shape_tuple

    x = ft.tensor("x", "float64", shape=(None, 3))
    sizes = shape_tuple(x)
    assert isinstance(sizes, tuple) and len(sizes) == 2 and sizes[1].data == 3
    assert shape_i(x, -1).data == 3
    f = fc.function([x], [sizes[0], shape_i(x, 0) * 2], mode=PY)
    assert [int(v) for v in f(np.ones((4, 3)))] == [4, 8]
    with pytest.raises(ValueError, match=r"shape_i: dim 2 is out of range"):
        shape_i(x, 2)
    with pytest.raises(AttributeError, match="fncache.tensor.subtensor' has no attribute 'nope'"):
        importlib.import_module("fncache.tensor.subtensor").nope  # noqa: B018


# -- bad arguments --------------------------------------------------------------------------------
def _bad() -> dict[str, tuple[Callable[[], Any], type, str]]:
    m = ft.dmatrix("m")
    return {
        "pad_unknown_mode": (lambda: ft.pad(m, 1, "mean_"), ValueError, "pad: mode 'mean_' is not supported"),
        "pad_keyword_of_another_mode": (
            lambda: ft.pad(m, 1, "edge", stat_length=2),
            ValueError,
            "pad: mode 'edge' takes no stat_length",
        ),
        "pad_end_values_to_reflect": (
            lambda: ft.pad(m, 1, "reflect", end_values=2),
            ValueError,
            "pad: mode 'reflect' takes no end_values",
        ),
        "pad_reflect_type": (
            lambda: ft.pad(m, 1, "symmetric", reflect_type="both"),
            ValueError,
            "pad: reflect_type must be 'even' or 'odd', got 'both'",
        ),
        "pad_stat_length_zero": (
            lambda: ft.pad(m, 1, "maximum", stat_length=0),
            ValueError,
            "pad: stat_length must be at least 1",
        ),
        "pad_stat_length_float": (
            lambda: ft.pad(m, 1, "maximum", stat_length=1.5),
            TypeError,
            "pad: stat_length must be ints or None",
        ),
        "pad_end_values_of_three_axes": (
            lambda: ft.pad(m, 1, "linear_ramp", end_values=((1, 2), (1, 2), (1, 2))),
            ValueError,
            "pad: end_values .* does not fit a tensor of 2 dims",
        ),
        "pad_vector_constant": (
            lambda: ft.pad(m, 1, constant_values=ft.dvector("c")),
            TypeError,
            "pad: constant_values must be numbers or one symbolic scalar",
        ),
        "block_diag_of_a_stack_and_a_vector": (
            lambda: ft.slinalg.block_diag(ft.dtensor3("t"), ft.dvector("v")),
            ValueError,
            "block_diag: with stacks of matrices every block needs 2 or more dims, got .* block 1",
        ),
        "lu_solve_pivots_of_another_stack": (
            lambda: ft.slinalg.lu_solve((ft.dtensor3("lu"), ft.ivector("p")), ft.dmatrix("b")),
            TypeError,
            "lu_solve: piv must be an int vector per matrix of lu",
        ),
        "lu_of_a_vector": (
            lambda: ft.slinalg.lu(ft.dvector("v")),
            ValueError,
            "lu: takes a matrix or a stack",
        ),
        "rfft_of_a_vector": (
            lambda: ft.fft.rfft(ft.dvector("v")),
            TypeError,
            "rfft: input must have 2 or more dims",
        ),
        "irfft_of_a_matrix": (
            lambda: ft.fft.irfft(ft.dmatrix("m")),
            TypeError,
            "irfft: input must have 3 or more dims",
        ),
        "rfft_norm": (
            lambda: ft.fft.rfft(ft.dmatrix("m"), "backward"),
            ValueError,
            "rfft: norm must be None, 'ortho'",
        ),
        "irfft_is_odd": (
            lambda: ft.fft.irfft(ft.dtensor3("z"), is_odd=2),
            ValueError,
            "irfft: is_odd must be True or",
        ),
        "rfft_sizes": (
            lambda: ft.fft.rfft_op(ft.dmatrix("m"), ft.dvector("s")),
            TypeError,
            "rfft: the transform sizes s must be an int vector",
        ),
        "convolve2d_mode": (
            lambda: ft.signal.convolve2d(ft.dmatrix("a"), ft.dmatrix("k"), "circular"),
            ValueError,
            "convolve2d: mode must be one of full, same, valid",
        ),
        "convolve2d_boundary": (
            lambda: ft.signal.convolve2d(ft.dmatrix("a"), ft.dmatrix("k"), boundary="reflect"),
            ValueError,
            "convolve2d: boundary must be one of fill, wrap, symm",
        ),
        "convolve2d_vector": (
            lambda: ft.signal.convolve2d(ft.dvector("a"), ft.dmatrix("k")),
            ValueError,
            "convolve2d: in1 must have 2 or more dims",
        ),
        "pad_empty_axis": (
            lambda: ft.pad(ft.TensorType("float64", (0, 3))("e"), 1, "wrap"),
            ValueError,
            "pad: mode 'wrap' cannot pad the empty axis 0; use mode 'constant'",
        ),
    }


@pytest.mark.parametrize("name", list(_bad()))
def test_bad_arguments_name_the_function_and_the_fix(name: str) -> None:
    call, exc, match = _bad()[name]
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("mode", [PY, "FAST_RUN"], ids=["py", "c"])
def test_convolve2d_valid_needs_one_image_larger_in_both_dims(mode: Any) -> None:
    """scipy raises for 'valid' when neither input is the larger in both dims, and so does
    fncache when the function runs (the sizes are known only then)."""
    a, k = ft.dmatrix("a"), ft.dmatrix("k")
    f = fc.function([a, k], ft.signal.convolve2d(a, k, "valid"), mode=mode)
    assert_same(f(_IMG, _KER), scipy.signal.convolve2d(_IMG, _KER, "valid"), rtol=1e-11)
    with pytest.raises(ValueError):
        scipy.signal.convolve2d(_n(3, 3), _n(5, 2), "valid")
    with pytest.raises(AssertionError, match="convolve2d: .* in 'valid' mode one must be at least as large"):
        f(_n(3, 3), _n(5, 2))


@pytest.mark.parametrize("mode", [PY, "FAST_RUN"], ids=["py", "c"])
def test_pad_of_an_empty_axis_raises_when_the_function_runs(mode: Any) -> None:
    x = ft.dmatrix("x")
    f = fc.function([x], ft.pad(x, ((0, 0), (2, 1)), "median"), mode=mode)
    assert_same(f(M), np.pad(M, ((0, 0), (2, 1)), "median"))
    with pytest.raises(ValueError, match="pad: mode 'median' cannot pad the empty axis 1"):
        f(np.zeros((2, 0)))
