"""The arguments a PyTensor script passes are taken by fncache's function of the same name.

``test_signatures_match_pytensors`` compares ``inspect.signature`` of every public function of
PyTensor's tensor modules, ``pytensor.gradient``, ``pytensor.printing`` and
``pytensor.compile.sharedvalue`` (``shared``) with fncache's of the same path: each
parameter PyTensor's takes must be one of fncache's, at the same place when it may be given
positionally, with the same default, unless :data:`ALLOWED` says why not. The other tests
check what the keywords added for that do, against numpy and scipy, without PyTensor (which
the CI does not install).
"""

from __future__ import annotations

import importlib
import inspect
import io
import warnings
from typing import Any, Iterator

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

import fncache as fc
import fncache.tensor as ft
from fncache.gradient import verify_grad
from fncache.printing import debugprint
from fncache.tensor.constant_value import get_underlying_scalar_constant_value
from fncache.tensor.nlinalg import SVD
from fncache.tensor.shape import shape_i

from fcutil import run_cases_in_one_function

#: PyTensor's modules a script imports functions from; fncache has each under the same path
MODULES = (
    "tensor",
    "tensor.math",
    "tensor.basic",
    "tensor.extra_ops",
    "tensor.slinalg",
    "tensor.nlinalg",
    "tensor.linalg",
    "tensor.special",
    "tensor.random",
    "tensor.random.basic",
    "tensor.shape",
    "tensor.subtensor",
    "tensor.sort",
    "tensor.einsum",
    "tensor.fft",
    "gradient",
    "printing",
    "compile.sharedvalue",
)

_SHAPE_DEFAULT = "the type's own shape: None (not given) is the same type"
_POSITIONAL_RNG = "rng and return_next_rng by keyword only (PyTensor's draws take them so too)"
_DEPRECATED = "PyTensor's deprecated alias (of stop or num), refused with TypeError: write stop=, num="

#: ``(function, parameter)``: why fncache's parameter differs from PyTensor's, on purpose.
#: An entry that no longer differs fails the test, so the list stays what is left.
ALLOWED = {
    # -- defaults that differ (docs/porting.md, "Defaults where PyTensor 3 chose otherwise") --
    ("tensor.take_along_axis", "axis"): "numpy's axis=-1, where PyTensor's is 0",
    ("tensor.slinalg.cholesky", "on_error"): "'raise' (Theano's and PyTensor 2's), PyTensor 3's 'nan'",
    ("tensor.slinalg.cholesky", "check_finite"): "False: checked only when asked, as PyTensor 2",
    ("tensor.slinalg.ordqz", "sort"): "scipy's 'lhp', where PyTensor's None keeps qz's order",
    ("tensor.slinalg.solve_discrete_lyapunov", "method"): "scipy's 'direct' (both exact methods)",
    ("tensor.tri", "dtype"): "numpy's float64, where PyTensor's None is floatX",
    ("tensor.atleast_1d", "n"): "None: numpy's atleast_1d; given, PyTensor's atleast_Nd",
    ("tensor.atleast_1d", "left"): "None: numpy's atleast_1d; given, PyTensor's atleast_Nd",
    ("tensor.atleast_2d", "n"): "None: numpy's atleast_2d; given, PyTensor's atleast_Nd",
    ("tensor.atleast_2d", "left"): "None: numpy's atleast_2d; given, PyTensor's atleast_Nd",
    ("tensor.atleast_3d", "n"): "None: numpy's atleast_3d ((n,) -> (1, n, 1)); given, PyTensor's",
    ("tensor.atleast_3d", "left"): "None: numpy's atleast_3d ((n,) -> (1, n, 1)); given, PyTensor's",
    ("tensor.make_slice", "name"): "a Python slice (PyTensor's a slice variable): no variable to name",
    ("tensor.make_slice", "return_list"): "a Python slice (PyTensor's a slice variable), not an op's outputs",
    # -- defaults spelled otherwise, of the same meaning --
    ("tensor.bincount", "minlength"): "0, which None means in PyTensor's",
    ("tensor.stack", "axis"): "None is 0; stack(*tensors) (Theano's) takes it by keyword",
    ("tensor.random.shared_rng", "seed"): "a sentinel object for 'not given' in both",
    ("tensor.nlinalg.eigh", "UPLO"): "numpy's 'L'; lower=, when given, decides (PyTensor's)",
    ("tensor.nlinalg.eigh", "lower"): "None: UPLO decides ('L' by default, lower=True)",
    ("tensor.nlinalg.eigh", "driver"): "None: numpy's choice of LAPACK driver (any one is taken)",
    **{(f"tensor.{t}", "shape"): _SHAPE_DEFAULT for t in ("vector", "matrix", "row", "col")},
    **{(f"tensor.tensor{n}", "shape"): _SHAPE_DEFAULT for n in range(3, 8)},
    # -- other orders of the arguments, each read as meant --
    ("tensor.nlinalg.eigh", "b"): "numpy's eigh(a, UPLO); a second argument not 'L'/'U' is b",
    ("tensor.slinalg.eigvalsh", "lower"): "None: UPLO decides; eigvalsh(a, b, False): a bool 3rd is lower",
    ("tensor.geomspace", "base"): "numpy's order, endpoint 4th; base= by keyword",
    ("tensor.geomspace", "endpoint"): "numpy's order: a number 4th (PyTensor's base) raises TypeError",
    ("tensor.geomspace", "dtype"): "numpy's order (see endpoint)",
    ("tensor.geomspace", "axis"): "numpy's order (see endpoint)",
    (
        "tensor.set_subtensor",
        "tolerate_inplace_aliasing",
    ): "by keyword; 4th is Theano's tolerate_inc_all_constant",
    (
        "tensor.inc_subtensor",
        "tolerate_inplace_aliasing",
    ): "by keyword; 5th is Theano's tolerate_inc_all_constant",
    ("tensor.argsort", "stable"): "by keyword, as numpy's",
    ("tensor.random.chisquare", "rng"): _POSITIONAL_RNG,
    ("tensor.random.chisquare", "return_next_rng"): _POSITIONAL_RNG,
    ("tensor.random.choice", "rng"): _POSITIONAL_RNG,
    ("tensor.random.choice", "return_next_rng"): _POSITIONAL_RNG,
    ("tensor.random.permutation", "rng"): _POSITIONAL_RNG,
    ("tensor.random.permutation", "return_next_rng"): _POSITIONAL_RNG,
    # -- not taken --
    ("tensor.random.permutation", "size"): "one permutation per draw (numpy's); size= raises TypeError",
    **{
        (f"tensor.{f}", p): _DEPRECATED
        for f in ("linspace", "logspace", "geomspace")
        for p in ("end", "steps")
    },
    # -- taken by keyword only --
    **{
        ("printing.debugprint", p): "by keyword (its **options), as scripts pass them; changes nothing"
        for p in (
            *("id_type", "done", "print_storage", "used_ids", "print_op_info", "print_memory_map"),
            *("print_inner_graphs", "print_fgraph_inputs", "print_assumptions"),
        )
    },
    **{
        ("printing.debugprint", p): "by keyword (its **options), as scripts pass them"
        for p in ("stop_on_name", "print_destroy_map", "print_view_map")
    },
}


def _gaps(pt_fn: Any, fc_fn: Any) -> Iterator[tuple[str, str]]:
    """``(parameter, what differs)`` for each parameter of PyTensor's ``pt_fn`` that
    ``fc_fn`` does not take as PyTensor's does."""
    try:
        pt_sig, fc_sig = inspect.signature(pt_fn), inspect.signature(fc_fn)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to compare
        return
    P = inspect.Parameter
    mine = fc_sig.parameters
    fc_list = [p for p in mine.values() if p.name != "self"]
    fc_var_pos = next((i for i, p in enumerate(fc_list) if p.kind is P.VAR_POSITIONAL), None)
    for i, p in enumerate(q for q in pt_sig.parameters.values() if q.name != "self"):
        if p.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD, P.POSITIONAL_ONLY):
            continue
        if p.name not in mine:
            # a required argument named otherwise at the same place (fncache's ``x`` for
            # PyTensor's ``input``) is given positionally: ``pt.sum(input=x)`` is not written
            same_place = fc_var_pos is not None and i >= fc_var_pos
            if not same_place and i < len(fc_list):
                q = fc_list[i]
                same_place = q.default is P.empty and q.kind is P.POSITIONAL_OR_KEYWORD
            if not (p.default is P.empty and p.kind is P.POSITIONAL_OR_KEYWORD and same_place):
                yield p.name, "not taken"
            continue
        q = mine[p.name]
        if p.default is not P.empty and q.default is not P.empty and not _same(p.default, q.default):
            yield p.name, f"default {q.default!r}, PyTensor's {p.default!r}"
        if p.default is not P.empty and q.default is P.empty:
            yield p.name, "required"
        if p.kind is P.POSITIONAL_OR_KEYWORD and fc_var_pos is None:
            if q.kind is P.KEYWORD_ONLY:
                yield p.name, "keyword-only"
            elif fc_list.index(q) != i:
                yield p.name, f"argument {fc_list.index(q)}, PyTensor's {i}"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _public_callables(module: Any) -> Iterator[tuple[str, Any]]:
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name, None)
        if callable(obj) and not inspect.isclass(obj) and not inspect.ismodule(obj):
            yield name, obj


def test_signatures_match_pytensors() -> None:
    pytest.importorskip("pytensor")
    found: dict[tuple[str, str], str] = {}
    seen: set[tuple[int, int]] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTensor's deprecated slinalg paths
        for path in MODULES:
            pt_module = importlib.import_module(f"pytensor.{path}")
            fc_module = importlib.import_module(f"fncache.{path}")
            for name, pt_fn in _public_callables(pt_module):
                fc_fn = getattr(fc_module, name, None)
                if not callable(fc_fn) or (id(pt_fn), id(fc_fn)) in seen:
                    continue
                seen.add((id(pt_fn), id(fc_fn)))
                for param, what in _gaps(pt_fn, fc_fn):
                    found.setdefault((f"{path}.{name}", param), what)
    assert len(seen) > 400  # the modules were read
    unexplained = {k: v for k, v in found.items() if k not in ALLOWED}
    assert not unexplained, "PyTensor's arguments fncache does not take as PyTensor does:\n" + "\n".join(
        f"  {f}({p}): {what}" for (f, p), what in sorted(unexplained.items())
    )
    assert not set(ALLOWED) - set(found), (
        f"allowed differences that are gone: {sorted(set(ALLOWED) - set(found))}"
    )


# -- the keywords and orders PyTensor's scripts use, checked without PyTensor ------------------

_RNG = np.random.default_rng(7)
_X = _RNG.standard_normal((3, 4))
_A = _RNG.standard_normal((4, 4)) + 4 * np.eye(4)
_SPD = _A @ _A.T
_B = _RNG.standard_normal((3, 4))  # three right-hand sides of 4, as rows

#: name: (build, values, numpy's or scipy's result)
CASES: dict[str, tuple[Any, tuple, Any]] = {
    # PyTensor's order (input, axis, dtype, keepdims), (input, axis, ddof, keepdims): before, the
    # third argument was keepdims, so sum(x, 0, "float32") kept the dims in float64, var(x, 0, 1)
    # kept them with ddof 0
    "sum(x, 0, 'float32')": (lambda x: ft.sum(x, 0, "float32"), (_X,), np.sum(_X, 0, dtype="float32")),
    "mean(x, 1, 'float64', True)": (
        lambda x: ft.mean(x, 1, "float64", True),
        (_X,),
        np.mean(_X, 1, keepdims=True),
    ),
    "prod(x, 0, None, True)": (lambda x: ft.prod(x, 0, None, True), (_X,), np.prod(_X, 0, keepdims=True)),
    "var(x, 0, 1)": (lambda x: ft.var(x, 0, 1), (_X,), np.var(_X, 0, ddof=1)),
    "std(x, 1, 1, True)": (lambda x: ft.std(x, 1, 1, True), (_X,), np.std(_X, 1, ddof=1, keepdims=True)),
    "x.var(None, 1)": (lambda x: x.var(None, 1), (_X,), np.var(_X, ddof=1)),
    "x.sum(0, 'float32', True)": (
        lambda x: x.sum(0, "float32", True),
        (_X,),
        np.sum(_X, 0, "float32", keepdims=True),
    ),
    # logspace: PyTensor's order (base 4th), and numpy's (a bool 4th is endpoint)
    "logspace(0, 2, 3, 2.0)": (lambda: ft.logspace(0, 2, 3, 2.0), (), np.logspace(0, 2, 3, base=2.0)),
    "logspace(0, 2, 3, 2.0, False)": (
        lambda: ft.logspace(0, 2, 3, 2.0, False),
        (),
        np.logspace(0, 2, 3, endpoint=False, base=2.0),
    ),
    "logspace(0, 2, 3, False, 2.0)": (
        lambda: ft.logspace(0, 2, 3, False, 2.0),
        (),
        np.logspace(0, 2, 3, False, 2.0),
    ),
    "logspace(0, 2, 3, False)": (lambda: ft.logspace(0, 2, 3, False), (), np.logspace(0, 2, 3, False)),
    "geomspace(1, 8, 4, base=2.0)": (lambda: ft.geomspace(1, 8, 4, base=2.0), (), np.geomspace(1, 8, 4)),
    # scipy's and PyTensor's solver keywords
    "solve(overwrite_a, overwrite_b)": (
        lambda a, b: ft.slinalg.solve(a, b, overwrite_a=True, overwrite_b=True),
        (_A, _B.T),
        scipy.linalg.solve(_A, _B.T),
    ),
    "lu_solve(b_ndim=1)": (
        lambda a, b: ft.slinalg.lu_solve(
            ft.slinalg.lu_factor(a, overwrite_a=True), b, b_ndim=1, overwrite_b=True
        ),
        (_A, _B),
        np.stack([scipy.linalg.lu_solve(scipy.linalg.lu_factor(_A), r) for r in _B]),
    ),
    "lu_solve(lu_and_piv, b, True, 2)": (
        lambda a, b: ft.slinalg.lu_solve(ft.slinalg.lu_factor(a), b, True, 2),
        (_A, _B.T),
        scipy.linalg.lu_solve(scipy.linalg.lu_factor(_A), _B.T, trans=1),
    ),
    "cho_solve(b_ndim=1)": (
        lambda a, b: ft.slinalg.cho_solve((ft.slinalg.cholesky(a, overwrite_a=True), True), b, b_ndim=1),
        (_SPD, _B),
        np.stack([scipy.linalg.cho_solve(scipy.linalg.cho_factor(_SPD, lower=True), r) for r in _B]),
    ),
    "cho_solve(b_ndim=2)": (
        lambda a, b: ft.slinalg.cho_solve((ft.slinalg.cholesky(a, False), False), b, b_ndim=2),
        (_SPD, _B.T),
        scipy.linalg.cho_solve(scipy.linalg.cho_factor(_SPD), _B.T),
    ),
    "lu(overwrite_a=True)": (
        lambda a: ft.slinalg.lu(a, overwrite_a=True)[1],
        (_A,),
        scipy.linalg.lu(_A)[1],
    ),
    # eigh(a, b, lower) as PyTensor's: the upper triangles read with lower=False
    "eigh(a, b, False)[0]": (
        lambda a, b: ft.linalg.eigh(ft.triu(a), ft.triu(b), False)[0],
        (_A, _SPD),
        scipy.linalg.eigh(_A, _SPD, lower=False, eigvals_only=True),
    ),
    "eigvalsh(a, b, False)": (
        lambda a, b: ft.linalg.eigvalsh(ft.triu(a), ft.triu(b), False),
        (_A, _SPD),
        scipy.linalg.eigh(_A, _SPD, lower=False, eigvals_only=True),
    ),
    # the products' dtype=, PyTensor's: the product cast to it
    "matmul(a, b, 'float32')": (
        lambda a, b: ft.matmul(a, b, "float32"),
        (_A, _B.T),
        (_A @ _B.T).astype("float32"),
    ),
    "vecdot(x, y, dtype='float32')": (
        lambda x, y: ft.vecdot(x, y, dtype="float32"),
        (_X, _B),
        np.vecdot(_X, _B).astype("float32"),
    ),
    "matvec(a, v, 'float32')": (
        lambda a, v: ft.matvec(a, v, "float32"),
        (_A, _B[0]),
        (_A @ _B[0]).astype("float32"),
    ),
    "vecmat(v, a, 'float32')": (
        lambda v, a: ft.vecmat(v, a, "float32"),
        (_B[0], _A),
        (_B[0] @ _A).astype("float32"),
    ),
    "einsum(..., optimize='greedy')": (
        lambda a, b: ft.einsum("ij,kj->ik", a, b, optimize="greedy"),
        (_A, _B),
        np.einsum("ij,kj->ik", _A, _B),
    ),
    "einsum(..., optimize=path)": (
        lambda a, b: ft.einsum("ij,kj->ik", a, b, optimize=np.einsum_path("ij,kj->ik", _A, _B)[0]),
        (_A, _B),
        np.einsum("ij,kj->ik", _A, _B),
    ),
    "where(c, ift=, iff=)": (lambda x: ft.where(x > 0, ift=x, iff=-x), (_X,), np.abs(_X)),
    "zeros_like(x, opt=True) + ones_like(x, opt=True)": (
        lambda x: ft.zeros_like(x, opt=True) + ft.ones_like(x, "float32", True),
        (_X,),
        np.ones_like(_X),
    ),
    "set_subtensor(tolerate_inplace_aliasing=True)": (
        lambda x: ft.inc_subtensor(
            ft.set_subtensor(x[0], 0.0, tolerate_inplace_aliasing=True)[1],
            1.0,
            tolerate_inplace_aliasing=True,
        ),
        (_X,),
        np.concatenate([np.zeros((1, 4)), _X[1:2] + 1, _X[2:]]),
    ),
    "constant(v, ndim=3)": (lambda: ft.constant([1.5, 2.5], ndim=3), (), np.array([[[1.5, 2.5]]])),
    "constant(v, None, 1, 'float32')": (
        lambda: ft.constant([[1.5, 2.5]], None, 1, "float32"),
        (),
        np.array([1.5, 2.5], "float32"),
    ),
}


def test_pytensors_keywords_and_orders_compute_numpys_and_scipys_values() -> None:
    got = run_cases_in_one_function({name: (build, vals) for name, (build, vals, _) in CASES.items()})
    for name, (_, _, want) in CASES.items():
        (value,) = got[name]
        assert value.dtype == want.dtype and value.shape == want.shape, (name, value.dtype, value.shape)
        np.testing.assert_allclose(value, want, rtol=1e-10 if want.dtype == "float64" else 1e-6, err_msg=name)


def test_arguments_read_in_the_other_order_are_refused() -> None:
    """numpy's order read in PyTensor's (or the other way round) raises, naming the fix, where
    it would change the result unnoticed."""
    x = ft.dmatrix("x")
    with pytest.raises(
        TypeError, match=r"sum: dtype must be a dtype, got True; .*give keepdims=True by keyword"
    ):
        ft.sum(x, 0, True)
    with pytest.raises(TypeError, match=r"mean: keepdims must be True or False, got 'float32'"):
        ft.mean(x, 0, None, "float32")
    with pytest.raises(TypeError, match=r"var: keepdims must be True or False, got 2; .*var\(x, axis, ddof"):
        ft.var(x, 0, 1, 2)
    with pytest.raises(TypeError, match="geomspace: endpoint must be True or False, got 2.0; give base="):
        ft.geomspace(1, 8, 4, 2.0)
    with pytest.raises(TypeError, match="logspace: endpoint must be True or False"):
        ft.logspace(0, 2, 4, 2.0, 3)
    with pytest.raises(TypeError, match="solve: overwrite_a must be True or False"):
        ft.slinalg.solve(x, x, overwrite_a="yes")
    with pytest.raises(ValueError, match="lu_solve: b_ndim must be None, 1 or 2, got 3"):
        ft.slinalg.lu_solve(ft.slinalg.lu_factor(x), x, b_ndim=3)
    with pytest.raises(ValueError, match="einsum: optimize must be one of"):
        ft.einsum("ij->i", x, optimize="fastest")
    with pytest.raises(ValueError, match=r"constant\(\): ndim=1 would drop the leading dims of sizes \(2,\)"):
        ft.constant(np.ones((2, 3)), ndim=1)
    with pytest.raises(ValueError, match="gamma: give rate or scale, not both"):
        ft.random.gamma(2.0, rate=1.0, scale=1.0)


def test_name_keyword_names_the_output() -> None:
    """PyTensor's ops take ``name=`` (and ``return_list=``); so do fncache's functions that are
    ops there, and fncache's ops."""
    x, a = ft.dvector("x"), ft.dmatrix("a")
    assert ft.exp(x, name="y").name == "y" and ft.switch(x > 0, x, 0.0, name="s").name == "s"
    assert ft.linalg.det(a, name="d").name == "d" and ft.slinalg.expm(a, name="e").name == "e"
    alone = ft.add(x, name="z")  # one operand: add returns it, so the name goes on a copy
    assert alone.name == "z" and x.name == "x" and alone is not x
    assert [v.name for v in ft.linalg.lstsq(a, x, name="l")] == ["l_0", "l_1", "l_2", "l_3"]
    listed = ft.sqrt(x, return_list=True)
    assert isinstance(listed, list) and len(listed) == 1 and listed[0].owner is not None
    assert [v.name for v in SVD(False, True)(a, name="u")] == ["u_0", "u_1", "u_2"]
    assert ft.random.normal(0.0, 1.0, size=(2,), name="n").name == "n"
    with pytest.raises(TypeError, match="exp: name must be a string, got int 3"):
        ft.exp(x, name=3)
    assert "name" in inspect.signature(ft.exp).parameters


def test_atleast_and_constant_value_and_shape_i_keywords() -> None:
    v = ft.dvector("v")
    assert ft.atleast_3d(v).type.shape == (1, None, 1)  # numpy's
    assert ft.atleast_3d(v, left=True).type.shape == (1, 1, None)  # PyTensor's
    assert ft.atleast_2d(v, n=4, left=False).type.shape == (None, 1, 1, 1)
    assert get_underlying_scalar_constant_value(v, raise_not_constant=False) is v
    assert ft.get_scalar_constant_value(v, raise_not_constant=False) is v
    assert int(get_underlying_scalar_constant_value(ft.constant(3) * 2, raise_not_constant=False)) == 6
    assert shape_i(ft.TensorType("float64", (5,))("w"), 0, fgraph=None).data == 5


def test_gamma_takes_pytensors_rate_and_beta_multinomial_their_names() -> None:
    """``pt.random.gamma(shape, rate)``: a second argument is the rate (1 / scale), as in
    PyTensor; it was read as numpy's scale."""
    rng = ft.random.shared_rng(seed=11)
    n = 4000
    by_rate = ft.random.gamma(2.0, 4.0, size=(n,), rng=rng)
    by_scale = ft.random.gamma(2.0, scale=0.25, size=(n,), rng=ft.random.shared_rng(seed=12))
    beta = ft.random.beta(alpha=2.0, beta=3.0, size=(n,), rng=ft.random.shared_rng(seed=13))
    counts = ft.random.multinomial(5, p=[0.2, 0.8], rng=ft.random.shared_rng(seed=14))
    drawn = fc.function([], [by_rate, by_scale, beta, counts])()
    for sample, dist in zip(drawn[:3], (scipy.stats.gamma(2.0, scale=0.25),) * 2 + (scipy.stats.beta(2, 3),)):
        assert abs(sample.mean() - dist.mean()) < 6 * dist.std() / np.sqrt(n)
        assert scipy.stats.kstest(sample, dist.cdf).pvalue > 1e-3
    assert drawn[3].sum() == 5 and drawn[3].shape == (2,)
    assert list(inspect.signature(ft.random.gamma).parameters)[:3] == ["shape", "rate", "scale"]


def test_verify_grad_takes_pytensors_keywords() -> None:
    x32 = np.array([0.3, -0.7, 1.2], "float32")
    mode = fc.Mode(linker="py")
    # positional as PyTensor's: (fun, pt, n_tests, rng, eps, out_type, abs_tol, rel_tol, mode)
    verify_grad(
        lambda v: ft.exp(v) * v, [x32], 1, np.random.default_rng(0), None, "float32", 1e-2, 1e-2, mode
    )
    verify_grad(lambda v: ft.sin(v), [x32], cast_to_output_type=True, no_debug_ref=False, mode=mode)
    with pytest.raises(fc.GradientError):  # the check still catches a wrong gradient
        verify_grad(lambda v: ft.zero_grad(ft.exp(v)), [x32], cast_to_output_type=True, mode=mode)
    with pytest.raises(TypeError, match="verify_grad: cast_to_output_type must be True or False"):
        verify_grad(lambda v: ft.sin(v), [x32], cast_to_output_type="yes", mode=mode)


#: PyTensor's calls that fncache read otherwise or refused: ``build(m, x, a, s, b)`` with
#: ``m`` PyTensor's ``pytensor.tensor`` or ``fncache.tensor``, ``x`` and ``b`` (3, 4), ``a`` a
#: square matrix and ``s`` a symmetric positive definite one
PYTENSOR_CALLS = {
    "sum(x, 0, 'float32')": lambda m, x, a, s, b: m.sum(x, 0, "float32"),
    "mean(x, 1, 'float64', True)": lambda m, x, a, s, b: m.mean(x, 1, "float64", True),
    "var(x, 0, 1)": lambda m, x, a, s, b: m.var(x, 0, 1),
    "std(x, 1, 1, True)": lambda m, x, a, s, b: m.std(x, 1, 1, True),
    # (axis 1: PyTensor 3.0.7's var over all the axes with ddof=1 divides the squares of a (3,
    # 4) matrix by 6, numpy's by 11, which the table above checks)
    "x.var(1, 1)": lambda m, x, a, s, b: x.var(1, 1),
    "logspace(0, 2, 3, 2.0)": lambda m, x, a, s, b: m.logspace(0, 2, 3, 2.0) + 0 * x.sum(),
    "lu_solve(b_ndim=1)": lambda m, x, a, s, b: m.linalg.lu_solve(m.linalg.lu_factor(a), b, b_ndim=1),
    "lu_solve(lu, b, True, 2)": lambda m, x, a, s, b: m.linalg.lu_solve(m.linalg.lu_factor(a), b.T, True, 2),
    "cho_solve(b_ndim=1)": lambda m, x, a, s, b: m.linalg.cho_solve(
        (m.linalg.cholesky(s), True), b, b_ndim=1
    ),
    "eigvalsh(a, b, False)": lambda m, x, a, s, b: m.linalg.eigvalsh(m.triu(a), m.triu(s), False),
    "matmul(a, b, 'float32')": lambda m, x, a, s, b: m.matmul(a, b.T, "float32"),
    "vecdot(x, b, dtype='float32')": lambda m, x, a, s, b: m.vecdot(x, b, dtype="float32"),
    "where(x > 0, ift=x, iff=-x)": lambda m, x, a, s, b: m.where(x > 0, ift=x, iff=-x),
    "atleast_3d(x, left=True)": lambda m, x, a, s, b: m.atleast_3d(x, left=True),
    "constant(v, ndim=3) * x": lambda m, x, a, s, b: m.constant(np.ones(4), ndim=3) * x,
}


def test_pytensors_calls_give_pytensors_results() -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    values = (_X, _A, _SPD, _B)
    results = []
    for m, function, mode in (
        (pt, pytensor.function, pytensor.compile.mode.Mode(linker="py", optimizer="fast_compile")),
        (ft, fc.function, "FAST_RUN"),
    ):
        ins = [m.dmatrix(n) for n in "xasb"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTensor's FutureWarnings
            outs = [build(m, *ins) for build in PYTENSOR_CALLS.values()]
            results.append(function(ins, outs, mode=mode, on_unused_input="ignore")(*values))
        names = [
            o.name for o in (m.exp(ins[0], name="y"), *m.linalg.lstsq(ins[1], ins[3][0], 1e-10, name="l"))
        ]
        assert names == ["y", "l_0", "l_1", "l_2", "l_3"], m
    for name, want, got in zip(PYTENSOR_CALLS, *results):
        assert (got.dtype, got.shape) == (want.dtype, want.shape), name
        np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype == "float32" else 1e-10, err_msg=name)


def test_debugprint_takes_depth_second() -> None:
    """``debugprint(f, depth)``, Theano's and PyTensor's order (the second argument was the
    file: an int there raised AttributeError); Theano's ``file`` fourth is written to."""
    y = ft.exp(ft.exp(ft.dvector("x")))
    assert len(debugprint(y, 1, file="str").splitlines()) < len(debugprint(y, file="str").splitlines())
    out = io.StringIO()
    text = debugprint(y, -1, False, out)
    assert out.getvalue().strip() == text.strip() and "exp" in text
