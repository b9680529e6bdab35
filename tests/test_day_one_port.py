"""What a Theano or PyTensor script meets on its first day with ``import fncache as theano``:
each case is built the same way with either library and its values are compared with numpy's
and with PyTensor 3.0.7's answer, recorded here (the CI does not install PyTensor; where it is
installed, a test checks the record against it). Where fncache answers otherwise on purpose,
the case says so with the words of docs/porting.md.

- ``grad(cost, wrt, known_grads={v: g})``: ``g`` is ``v``'s whole gradient, as in Theano and
  PyTensor, not added to what the cost sends back through ``v``.
- The gradient through ``switch(cond, f(x), 0)`` is 0 where the switch does not pick ``f(x)``,
  even where ``f``'s derivative is infinite (``sqrt``, ``log`` at 0): Theano's idiom for a
  cost defined piecewise (an entropy ``p * log(p)`` at ``p = 0``) has no NaN gradient.
- Theano's names of the ``tensor`` module (``T.abs_``) and ``divmod`` of a variable.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
import fncache.gradient as fg
import fncache.tensor as ft

X = np.array([1.0, 2.0, 3.0])
P = np.array([0.0, 0.5, 1.0])  # a probability of 0 is where the guarded branch is not defined
PY = fc.Mode(linker="py")


def _cases(lib: SimpleNamespace) -> dict[str, tuple[Callable[[], Any], list]]:
    """Each case: (a builder of ``(inputs, outputs)`` with ``lib``, the inputs' values). ``L``:
    the top module, ``T``: its tensor module, ``G``: its gradient module."""
    L, T, G = lib.L, lib.T, lib.G
    x, p, w = T.dvector("x"), T.dvector("p"), T.dscalar("w")
    y = x**2
    c = (y * 3).sum()

    def known(cost: Any, wrt: Any, given: dict) -> Callable[[], Any]:
        return lambda: ([x], L.grad(cost, wrt, known_grads=given))

    return {
        # known_grads: the gradient given for a variable is all of it
        "known_grads and a cost through it": (
            known(y.sum() + x.sum(), x, {y: 2 * T.ones_like(y)}),
            [X],
        ),
        "known_grads of a chain": (known(None, x, {y: T.ones_like(y), y * 3: T.ones_like(y)}), [X]),
        "known_grads asked for": (known((y * 3).sum(), [x, y], {y: T.ones_like(y)}), [X]),
        "known_grads disconnected on the cost's path": (
            known((y * 3).sum() + x.sum(), x, {y: G.DisconnectedType()()}),
            [X],
        ),
        "known_grads of the cost and a variable": (
            known(c, x, {c: 2 * T.ones_like(c), y: T.ones_like(y)}),
            [X],
        ),
        # a gradient a switch masks stays 0 where the branch is not picked
        "switch sqrt": (lambda: ([p], L.grad(T.switch(p > 0, T.sqrt(p), 0).sum(), p)), [P]),
        "switch sqrt, branches swapped": (
            lambda: ([p], L.grad(T.switch(T.eq(p, 0), 0, T.sqrt(p)).sum(), p)),
            [P],
        ),
        "entropy": (lambda: ([p], L.grad(T.switch(p > 0, p * T.log(p), 0).sum(), p)), [P]),
        "switch of a chain": (lambda: ([p], L.grad(T.switch(p > 0, T.exp(T.log(p) * 2), 0).sum(), p)), [P]),
        "switch 1/p": (lambda: ([p], L.grad(T.switch(p > 0, 1 / p, 0).sum(), p)), [P]),
        "switch scaled": (lambda: ([p], L.grad((T.switch(p > 0, T.sqrt(p), 0) * 3).sum(), p)), [P]),
        "switch broadcasting a scalar": (
            lambda: ([p, w], L.grad(T.switch(p > 0, T.sqrt(p * w), 0).sum(), [p, w])),
            [P, 2.0],
        ),
        "two switches": (
            lambda: (
                [p],
                L.grad(T.switch(p > 0, T.log(p), 0).sum() + T.switch(p > 0, T.sqrt(p), 0).sum(), p),
            ),
            [P],
        ),
        "switch jacobian": (lambda: ([p], T.jacobian(T.switch(p > 0, T.sqrt(p), 0), p)), [P]),
        "where sqrt": (lambda: ([p], L.grad(T.where(p > 0, T.sqrt(p), 0).sum(), p)), [P]),
    }


def _numpy_answers() -> dict[str, Any]:
    """The gradients by hand: a known gradient replaces the cost's, a masked branch gives 0."""
    safe = np.where(P > 0, P, 1.0)  # the values where each branch is picked
    picked = P > 0
    return {
        "known_grads and a cost through it": 2 * 2 * X + 1,
        "known_grads of a chain": 2 * X,
        "known_grads asked for": [2 * X, np.ones(3)],
        "known_grads disconnected on the cost's path": np.ones(3),
        "known_grads of the cost and a variable": 2 * X,
        "switch sqrt": np.where(picked, 0.5 / np.sqrt(safe), 0.0),
        "switch sqrt, branches swapped": np.where(picked, 0.5 / np.sqrt(safe), 0.0),
        "entropy": np.where(picked, np.log(safe) + 1, 0.0),
        "switch of a chain": np.where(picked, 2 * safe, 0.0),
        "switch 1/p": np.where(picked, -1 / safe**2, 0.0),
        "switch scaled": np.where(picked, 1.5 / np.sqrt(safe), 0.0),
        "switch broadcasting a scalar": [
            np.where(picked, 0.5 * np.sqrt(2.0 / safe), 0.0),
            np.sum(np.where(picked, 0.5 * safe / np.sqrt(2.0 * safe), 0.0)),
        ],
        "two switches": np.where(picked, 1 / safe + 0.5 / np.sqrt(safe), 0.0),
        "switch jacobian": np.diag(np.where(picked, 0.5 / np.sqrt(safe), 0.0)),
        "where sqrt": np.where(picked, 0.5 / np.sqrt(safe), 0.0),
    }


#: PyTensor 3.0.7's values (FAST_RUN), rounded to 12 digits: the same as numpy's above.
RECORDED = {
    "known_grads and a cost through it": [5.0, 9.0, 13.0],
    "known_grads of a chain": [2.0, 4.0, 6.0],
    "known_grads asked for": [[2.0, 4.0, 6.0], [1.0, 1.0, 1.0]],
    "known_grads disconnected on the cost's path": [1.0, 1.0, 1.0],
    "known_grads of the cost and a variable": [2.0, 4.0, 6.0],
    "switch sqrt": [0.0, 0.707106781187, 0.5],
    "switch sqrt, branches swapped": [0.0, 0.707106781187, 0.5],
    "entropy": [0.0, 0.30685281944, 1.0],
    "switch of a chain": [0.0, 1.0, 2.0],
    "switch 1/p": [0.0, -4.0, -1.0],
    "switch scaled": [0.0, 2.121320343560, 1.5],
    "switch broadcasting a scalar": [[0.0, 1.0, 0.707106781187], 0.603553390593],
    "two switches": [0.0, 2.707106781187, 1.5],
    "switch jacobian": [[0.0, 0.0, 0.0], [0.0, 0.707106781187, 0.0], [0.0, 0.0, 0.5]],
    "where sqrt": [0.0, 0.707106781187, 0.5],
}

FNCACHE = SimpleNamespace(L=fc, T=ft, G=fg)


def _values(lib: SimpleNamespace, name: str, **function_args: Any) -> Any:
    build, args = _cases(lib)[name]
    inputs, outputs = build()
    out = lib.L.function(inputs, outputs, on_unused_input="ignore", **function_args)(*args)
    return [np.asarray(o).tolist() for o in out] if isinstance(out, list) else np.asarray(out).tolist()


def _close(a: Any, b: Any) -> bool:
    """Equal values, each a list of results of several shapes or one result."""
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except ValueError:  # results of several shapes
        return len(a) == len(b) and all(_close(u, v) for u, v in zip(a, b))
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_gradient_is_numpys_and_pytensors(name: str) -> None:
    got = _values(FNCACHE, name, mode=PY)
    expected = _numpy_answers()[name]
    assert not np.isnan(np.hstack([np.ravel(g) for g in (got if isinstance(got, list) else [got])])).any()
    assert _close(got, expected), (name, got, expected)
    assert _close(got, RECORDED[name]), (name, got, RECORDED[name])


def test_compiled_gradients_are_the_same() -> None:
    """The C linker's values for a few of the cases (the rest run numpy's code above)."""
    for name in ("known_grads and a cost through it", "entropy", "switch broadcasting a scalar"):
        assert _close(_values(FNCACHE, name), RECORDED[name]), name


def test_switch_gradient_keeps_dtype_and_forward_values() -> None:
    """The mask put outside a derivative changes no dtype, nor the switch's own values; where
    the branch is picked its derivative is kept, NaN or inf too (sqrt of -0.0 picked by >=)."""
    p = ft.fvector("p")
    out = ft.switch(p >= 0, ft.sqrt(p), 0)
    g = fc.grad(out.sum(), p)
    assert g.dtype == "float32"
    f = fc.function([p], [out, g], mode=PY)
    v, gv = f(np.array([-1.0, 4.0, 0.0], dtype=np.float32))
    assert v.dtype == gv.dtype == np.float32 and np.array_equal(v, [0.0, 2.0, 0.0])
    assert np.array_equal(gv, [0.0, 0.25, np.inf])


def test_second_derivative_through_a_switch_is_finite() -> None:
    """The Hessian of switch(x > 0, sqrt(x), 0) at 0 is 0 (the branch is not picked there);
    PyTensor's is NaN in that row (its rewrite sinks the first derivative's mask only)."""
    x = ft.dvector("x")
    h = ft.hessian(ft.switch(x > 0, ft.sqrt(x), 0).sum(), x)
    out = fc.function([x], h, mode=PY)(np.array([0.0, 4.0]))
    assert np.array_equal(out, [[0.0, 0.0], [0.0, -0.25 / 4.0**1.5]])


def test_lop_of_outputs_that_depend_on_each_other_sums_them() -> None:
    """``Lop([y, y.sum()], x, [v, 1])`` is the vector-Jacobian product of both outputs (README
    "Gradients": ``sum_i eval_points[i] . d f[i]/d w``); PyTensor's, made with ``known_grads``,
    keeps only ``y``'s (``[2, 4, 6]`` here): docs/porting.md says so."""
    x = ft.dvector("x")
    y = x**2
    g = fc.Lop([y, y.sum()], x, [ft.ones_like(y), ft.constant(1.0)])
    assert np.array_equal(fc.function([x], g, mode=PY)(X), 2 * X * 2)


def test_theano_tensor_names() -> None:
    assert ft.abs_ is ft.abs and "abs_" in ft.__all__
    x = ft.dvector("x")
    assert np.array_equal(fc.function([x], ft.abs_(x).sum(), mode=PY)(np.array([-1.0, 2.0])), 3.0)


def test_divmod_of_a_variable() -> None:
    """``divmod(i, n)`` (a flat index to a row and a column) is ``(i // n, i % n)``, as
    Theano's and PyTensor's variables give it, and as numpy's for negative values."""
    i = ft.lvector("i")
    v = np.array([-7, 7, 2])
    outs = fc.function([i], [*divmod(i, 3), *divmod(7, i)], mode=PY)(v)
    for got, want in zip(outs, [*divmod(v, 3), *divmod(7, v)]):
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_record_is_pytensors() -> None:
    """The record against the installed PyTensor (skipped where it is not)."""
    pytensor = pytest.importorskip("pytensor")
    import pytensor.gradient as pg
    import pytensor.tensor as pt

    lib = SimpleNamespace(L=pytensor, T=pt, G=pg)
    for name, recorded in RECORDED.items():
        assert _close(_values(lib, name), recorded), name


def test_pydotprint_takes_theanos_arguments(tmp_path) -> None:
    """The tutorial's ``pydotprint(f, outfile=..., var_with_name_simple=True)`` and PyTensor's
    positional order (``compact`` third, ``format`` fourth)."""
    from fncache.printing import pydotprint

    x = ft.dvector("x")
    f = fc.function([x], (x * 2).sum(), mode=PY)
    text = pydotprint(f, tmp_path / "a.dot", True, "dot", var_with_name_simple=True, print_output_file=False)
    assert (tmp_path / "a.dot").read_text() == text and "digraph" in text
    image = pydotprint(f, format="dot", return_image=True, with_ids=True, high_contrast=False)
    assert image == text.encode() and not (tmp_path / "fncache.pydotprint.dot").exists()


def test_shared_takes_theanos_positional_arguments() -> None:
    """``shared(value, name, strict, allow_downcast)``: a third argument is ``strict``, not
    ``borrow``."""
    w = fc.shared(np.zeros(2, "float32"), "w", False, True)
    w.set_value([0.1, 0.2])  # allow_downcast
    assert w.get_value().dtype == np.float32
    a = np.zeros(2)
    s = fc.shared(a, "s", True)
    a[0] = 1.0  # not borrowed
    assert s.get_value()[0] == 0.0
    with pytest.raises(TypeError, match="strict"):
        s.set_value(np.zeros(2, "float32"))


@pytest.mark.parametrize("name", ["NUMBA", "CVM", "C", "JAX", "PYTORCH", "MLX", "numba"])
def test_pytensors_compiled_modes_run_compiled_code(name: str) -> None:
    """PyTensor 3's modes of its compiled back ends, by name, by ``config.mode`` and as a
    ``Mode``'s linker, are FAST_RUN: fncache's compiled code, the same values."""
    x = ft.dvector("x")
    f = fc.function([x], (x * 2).sum(), mode=name)
    assert f.mode.linker == "c" and f.mode.optimizer == "fast_run" and f(np.ones(3)) == 6.0
    with fc.config.change_flags(mode=name):
        assert fc.config.mode == "FAST_RUN"
    assert fc.Mode(linker=name.lower()).linker == "c"


@pytest.mark.parametrize(
    "loss",
    [
        lambda x, y: ft.nnet.categorical_crossentropy(ft.nnet.softmax(x), y),
        lambda x, y: ft.nnet.categorical_crossentropy(ft.exp(x) / ft.exp(x).sum(1, keepdims=True), y),
        lambda x, y: ft.nnet.crossentropy_softmax_1hot(x, y)[0],
        lambda x, y: ft.nnet.crossentropy_categorical_1hot(ft.nnet.softmax(x), y),
    ],
    ids=["of a softmax", "of probabilities", "crossentropy_softmax_1hot", "crossentropy_categorical_1hot"],
)
def test_class_indices_are_one_per_row(loss: Callable) -> None:
    """A vector of class indices shorter or longer than the rows raises ``ValueError`` naming
    the function, as Theano's ops did ("dimension mismatch"): one index was read as every
    row's, three for two rows raised numpy's ``IndexError`` from an indexing step."""
    x, y = ft.dmatrix("x"), ft.lvector("y")
    f = fc.function([x, y], loss(x, y), mode=PY)
    z = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 0.0]])
    expected = -np.log(np.exp(z[[0, 1], [2, 0]]) / np.exp(z).sum(1))
    assert np.allclose(f(z, np.array([2, 0])), expected)
    for y_bad in (np.array([2]), np.array([2, 0, 1])):
        with pytest.raises(
            ValueError, match=f"categorical_crossentropy: true_dist has {len(y_bad)} class indices"
        ):
            f(z, y_bad)


def test_a_name_two_inputs_share_is_refused_by_keyword() -> None:
    """``f(x=1.0)`` where two inputs are named ``x`` raises a ``TypeError`` saying so
    (PyTensor's "Ambiguous name"), not that ``x`` is missing."""
    a, b = ft.dscalar("x"), ft.dscalar("x")
    f = fc.function([a, b], a - b, mode=PY)
    assert f(3.0, 1.0) == 2.0
    with pytest.raises(TypeError, match=r"inputs \[0, 1\] are all named 'x'.*by position"):
        f(x=1.0)


def test_xlogx_is_theanos_module_and_the_function() -> None:
    """``T.xlogx.xlogx(x)`` and ``T.xlogx.xlogy0(x, y)`` (Theano's and PyTensor's module),
    and ``ft.xlogx(x)`` (fncache's function) give scipy's values."""
    x = ft.dvector("x")
    v = np.array([0.0, 0.5, 2.0])
    outs = fc.function([x], [ft.xlogx(x), ft.xlogx.xlogx(x), ft.xlogx.xlogy0(x, x + 1)], mode=PY)(v)
    expected = np.where(v == 0, 0.0, v * np.log(np.where(v == 0, 1.0, v)))
    assert np.allclose(outs[0], expected) and np.allclose(outs[1], expected)
    assert np.allclose(outs[2], v * np.log(v + 1))


def test_elemwise_is_theanos_module_and_the_function() -> None:
    """``T.elemwise.Elemwise`` / ``T.elemwise.DimShuffle`` (a script counting a graph's
    elementwise nodes) and ``ft.elemwise(name, *inputs)``."""
    from fncache.tensor.shape_ops import DimShuffle

    x = ft.dvector("x")
    y = ft.elemwise("exp", x)
    assert isinstance(y.owner.op, ft.elemwise.Elemwise) and ft.elemwise.DimShuffle is DimShuffle
    assert isinstance(x.dimshuffle("x", 0).owner.op, ft.elemwise.DimShuffle)
    assert np.array_equal(fc.function([x], y, mode=PY)(np.zeros(2)), [1.0, 1.0])
