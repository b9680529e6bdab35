"""The logistic function spelled out with exp is recognised as sigmoid and softplus (`logistic`),
and the gradients' quotients of its terms become products of sigmoids (`sigmoid_products`):
finite where the spelled-out graph overflows, equal to numpy where numpy is finite. Each check
runs on the C backend and on the Python linker (numpy), with the same rewrites."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.elemwise import Elemwise
from fcutil import assert_same, sample

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from workloads import W4_LR, W4NumpyStep, w4_graph  # noqa: E402

LINKERS = ("c", "py")
EXTREMES = np.array([-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0])
#: -800 to 800 by 25: where exp overflows, where the sigmoid is subnormal or rounds to 1
SWEEP = np.concatenate([EXTREMES, np.linspace(-800.0, 800.0, 65)])


def _mode(linker: str) -> fc.Mode:
    return fc.Mode(linker, "fast_run")


def _steps(f) -> list[str]:
    """The scalar steps of every elementwise node of ``f``'s optimized graph."""
    return [
        s[0] for n in f.optimized_graph.toposort() if isinstance(n.op, Elemwise) for s in n.op.composite.steps
    ]


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -x))


def _one(x):
    """A constant 1 of ``x``'s dtype (not a Python number)."""
    return ft.constant(np.ones((), x.dtype))


#: name -> (expression of x, reference, scalar op that must replace exp and log)
SPELLINGS = {
    "1/(1+exp(-x))": (lambda x: 1 / (1 + ft.exp(-x)), _sigmoid, "sigmoid"),
    "1/(exp(-x)+1)": (lambda x: 1 / (ft.exp(-x) + 1), _sigmoid, "sigmoid"),
    "1/(1+exp(x))": (lambda x: 1 / (1 + ft.exp(x)), lambda v: _sigmoid(-v), "sigmoid"),
    "1.0/(1.0+exp(-x))": (lambda x: 1.0 / (1.0 + ft.exp(-x)), _sigmoid, "sigmoid"),
    "one/(one+exp(-x))": (lambda x: _one(x) / (_one(x) + ft.exp(-x)), _sigmoid, "sigmoid"),
    "reciprocal(1+exp(-x))": (lambda x: ft.reciprocal(1 + ft.exp(-x)), _sigmoid, "sigmoid"),
    "g*reciprocal(1+exp(x))": (
        lambda x: x * ft.reciprocal(1 + ft.exp(x)),
        lambda v: v * _sigmoid(-v),
        "sigmoid",
    ),
    "exp(x)/(1+exp(x))": (lambda x: ft.exp(x) / (1 + ft.exp(x)), _sigmoid, "sigmoid"),
    "exp(x)/(exp(x)+1)": (lambda x: ft.exp(x) / (ft.exp(x) + 1), _sigmoid, "sigmoid"),
    "1-sigmoid(x)": (lambda x: 1 - ft.sigmoid(x), lambda v: _sigmoid(-v), "sigmoid"),
    "log(1+exp(x))": (lambda x: ft.log(1 + ft.exp(x)), _softplus, "softplus"),
    "log(exp(x)+1)": (lambda x: ft.log(ft.exp(x) + 1), _softplus, "softplus"),
    "log1p(exp(x))": (lambda x: ft.log1p(ft.exp(x)), _softplus, "softplus"),
    "log(1/(1+exp(-x)))": (lambda x: ft.log(1 / (1 + ft.exp(-x))), lambda v: -_softplus(-v), "softplus"),
    "log(1-1/(1+exp(-x)))": (lambda x: ft.log(1 - 1 / (1 + ft.exp(-x))), lambda v: -_softplus(v), "softplus"),
    "(1+exp(-x))**-1": (lambda x: (1 + ft.exp(-x)) ** -1, _sigmoid, "sigmoid"),
    "(1+exp(-x))**(-1.0)": (lambda x: (1 + ft.exp(-x)) ** (-1.0), _sigmoid, "sigmoid"),
    "exp(x)*(exp(x)+1)**-1": (lambda x: ft.exp(x) * (ft.exp(x) + 1) ** -1, _sigmoid, "sigmoid"),
    "0.5*tanh(0.5*x)+0.5": (lambda x: 0.5 * ft.tanh(0.5 * x) + 0.5, _sigmoid, "sigmoid"),
    "0.5+tanh(x/2)*0.5": (lambda x: 0.5 + ft.tanh(x / 2) * 0.5, _sigmoid, "sigmoid"),
    "0.5+tanh(x*0.5)/2": (lambda x: 0.5 + ft.tanh(x * 0.5) / 2, _sigmoid, "sigmoid"),
    "0.5*(1+tanh(x/2))": (lambda x: 0.5 * (1 + ft.tanh(x / 2)), _sigmoid, "sigmoid"),
    "(tanh(0.5*x)+1)/2": (lambda x: (ft.tanh(0.5 * x) + 1) / 2, _sigmoid, "sigmoid"),
    "(1-tanh(x/2))*0.5": (lambda x: (1 - ft.tanh(x / 2)) * 0.5, lambda v: _sigmoid(-v), "sigmoid"),
    "0.5-0.5*tanh(x/2)": (lambda x: 0.5 - 0.5 * ft.tanh(x / 2), lambda v: _sigmoid(-v), "sigmoid"),
    "0.5*tanh(x)+0.5": (lambda x: 0.5 * ft.tanh(x) + 0.5, lambda v: _sigmoid(2 * v), "sigmoid"),
    "1+-sigmoid(x)": (lambda x: 1 + -ft.sigmoid(x), lambda v: _sigmoid(-v), "sigmoid"),
    "log(sigmoid(x))": (lambda x: ft.log(ft.sigmoid(x)), lambda v: -_softplus(-v), "softplus"),
    "log(1-sigmoid(x))": (lambda x: ft.log(1 - ft.sigmoid(x)), lambda v: -_softplus(v), "softplus"),
    "log1p(-sigmoid(x))": (lambda x: ft.log1p(-ft.sigmoid(x)), lambda v: -_softplus(v), "softplus"),
    "log1p(-1/(1+exp(-x)))": (
        lambda x: ft.log1p(-(1 / (1 + ft.exp(-x)))),
        lambda v: -_softplus(v),
        "softplus",
    ),
    "log((1-tanh(x/2))/2)": (lambda x: ft.log((1 - ft.tanh(x / 2)) / 2), lambda v: -_softplus(v), "softplus"),
    "log(0.5*tanh(x)+0.5)": (
        lambda x: ft.log(0.5 * ft.tanh(x) + 0.5),
        lambda v: -_softplus(-2 * v),
        "softplus",
    ),
    "(1-tanh(x/2))/2": (lambda x: (1 - ft.tanh(x / 2)) / 2, lambda v: _sigmoid(-v), "sigmoid"),
    "log(exp(x)/(1+exp(x)))": (
        lambda x: ft.log(ft.exp(x) / (1 + ft.exp(x))),
        lambda v: -_softplus(-v),
        "softplus",
    ),
    "log((1+exp(-x))**-1)": (lambda x: ft.log((1 + ft.exp(-x)) ** -1), lambda v: -_softplus(-v), "softplus"),
    "log(0.5*tanh(x/2)+0.5)": (
        lambda x: ft.log(0.5 * ft.tanh(x / 2) + 0.5),
        lambda v: -_softplus(-v),
        "softplus",
    ),
}

#: scalar steps that no recognised spelling leaves in the optimized graph
UNSPELLED = ("tanh", "pow", "exp", "log", "log1p")


@pytest.mark.parametrize("linker", LINKERS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_spelling_is_recognised(name: str, dtype: str, linker: str) -> None:
    build, ref, op = SPELLINGS[name]
    x = ft.vector("x", dtype)
    f = fc.function([x], build(x), mode=_mode(linker))
    steps = _steps(f)
    assert op in steps and not set(UNSPELLED) & set(steps), fc.debugprint(f)
    moderate = sample(dtype, (64,), 1, special=False, low=-6, high=6)
    got = f(moderate)
    assert got.dtype == dtype
    assert_same(
        got, ref(moderate.astype("float64")).astype(dtype), name, rtol=1e-13 if dtype == "float64" else 1e-5
    )
    extreme = SWEEP if dtype == "float64" else SWEEP / 8  # float32's exp overflows at 88
    got = f(extreme.astype(dtype))
    assert np.isfinite(got).all(), (name, got)
    assert_same(
        got, ref(extreme).astype(dtype), f"{name} at {extreme}", rtol=1e-13 if dtype == "float64" else 1e-5
    )


def _naive(build, x: np.ndarray) -> np.ndarray:
    """``build`` run with every rewrite off: what numpy computes for the spelling."""
    v = ft.vector("v", x.dtype.name)
    return fc.function([v], build(v), mode=fc.Mode("py", None))(x)


#: name -> expression that is not the logistic function nor its logarithm: its exp stays, and
#: so does every step of those with no quotient by 1 + exp (exp(x) / (1 + exp(-x)) is the
#: product exp(x) * sigmoid(x), finite wherever its value is)
NOT_LOGISTIC = {
    "1/(1.0000001+exp(-x))": lambda x: 1 / (1.0000001 + ft.exp(-x)),
    "1/(0.9999999+exp(-x))": lambda x: 1 / (0.9999999 + ft.exp(-x)),
    "1/(2+exp(-x))": lambda x: 1 / (2 + ft.exp(-x)),
    "exp(x)/(1+exp(-x))": lambda x: ft.exp(x) / (1 + ft.exp(-x)),
    "log(1.0000001+exp(x))": lambda x: ft.log(1.0000001 + ft.exp(x)),
    "log(1+exp(x)+x)": lambda x: ft.log(1 + ft.exp(x) + x),
    "log1p(exp(x)+1)": lambda x: ft.log1p(ft.exp(x) + 1),
    "1.0000001-sigmoid(x)": lambda x: 1.0000001 - ft.sigmoid(x),
    "1.0000001+-sigmoid(x)": lambda x: 1.0000001 + -ft.sigmoid(x),
    "log1p(-sigmoid(x)*1.0000001)": lambda x: ft.log1p(-ft.sigmoid(x) * 1.0000001),
    "(1+exp(-x))**-1.0000001": lambda x: (1 + ft.exp(-x)) ** -1.0000001,
    "(1+exp(-x))**-2": lambda x: (1 + ft.exp(-x)) ** -2,
    "0.5*tanh(x)+0.5000001": lambda x: 0.5 * ft.tanh(x) + 0.5000001,
    "0.4999999*tanh(x)+0.5": lambda x: 0.4999999 * ft.tanh(x) + 0.5,
    "0.5*(1.0000001+tanh(x))": lambda x: 0.5 * (1.0000001 + ft.tanh(x)),
    "(1+tanh(x))/2.0000001": lambda x: (1 + ft.tanh(x)) / 2.0000001,
    "0.5*tanh(x)+x*0.5": lambda x: 0.5 * ft.tanh(x) + x * 0.5,
    "0.5*(1+tanh(x)*2)": lambda x: 0.5 * (1 + ft.tanh(x) * 2),
}


@pytest.mark.parametrize("linker", LINKERS)
@pytest.mark.parametrize("name", sorted(NOT_LOGISTIC))
def test_a_one_that_is_not_one_is_not_recognised(name: str, linker: str) -> None:
    build = NOT_LOGISTIC[name]
    x = ft.dvector("x")
    f = fc.function([x], build(x), mode=_mode(linker))
    steps = _steps(f)
    assert "softplus" not in steps, fc.debugprint(f)
    assert "exp" in steps or "tanh" in steps or "sigmoid(" in name, fc.debugprint(f)
    if "sigmoid(" not in name and "/(1+exp" not in name:
        assert "sigmoid" not in steps, fc.debugprint(f)
    v = sample("float64", (64,), 2, special=False, low=-6, high=6)
    assert_same(f(v), _naive(build, v), name)


#: name -> expression of an integer x whose exp, tanh or sigmoid is a float of another dtype
INTEGER_SPELLINGS = {
    "1/(1+exp(-x))": lambda t: 1 / (1 + ft.exp(-t)),
    "log(1+exp(x))": lambda t: ft.log(1 + ft.exp(t)),
    "log1p(exp(x))": lambda t: ft.log1p(ft.exp(t)),
    "(1+exp(-x))**-1": lambda t: (1 + ft.exp(-t)) ** -1,
    "0.5*tanh(x)+0.5": lambda t: 0.5 * ft.tanh(t) + 0.5,
    "log1p(-sigmoid(x))": lambda t: ft.log1p(-ft.sigmoid(t)),
}


@pytest.mark.parametrize("linker", LINKERS)
@pytest.mark.parametrize("dtype", ["int32", "int64", "int8"])
def test_integer_inputs_are_not_recognised(dtype: str, linker: str) -> None:
    # exp of an integer is a float of another dtype: sigmoid(x) would be another function
    x = ft.vector("x", dtype)
    f = fc.function([x], [build(x) for build in INTEGER_SPELLINGS.values()], mode=_mode(linker))
    steps = _steps(f)
    assert "softplus" not in steps and "tanh" in steps, fc.debugprint(f)
    assert steps.count("sigmoid") == 1, fc.debugprint(f)  # the one written
    v = sample(dtype, (32,), 3, special=False, low=-20, high=20)
    for got, (name, build) in zip(f(v), INTEGER_SPELLINGS.items()):
        # 0.5 * tanh(x) + 0.5 cancels where tanh(x) is near -1: C's and numpy's tanh differ there
        tol = {"rtol": 1e-13, "atol": 1e-15} if got.dtype == np.float64 else {}
        assert_same(got, _naive(build, v), f"{dtype} {name}", **tol)


@pytest.mark.parametrize("linker", LINKERS)
def test_half_of_an_integer_is_a_float_that_doubles_exactly(linker: str) -> None:
    # tanh(x / 2) of an int32 x is tanh of a float64: 0.5 * tanh(x / 2) + 0.5 is
    # sigmoid(x / 2 + x / 2), the float64 of x
    x = ft.vector("x", "int32")
    f = fc.function([x], 0.5 * ft.tanh(x / 2) + 0.5, mode=_mode(linker))
    assert "sigmoid" in _steps(f) and "tanh" not in _steps(f), fc.debugprint(f)
    v = np.array([-(2**31), -800, -41, -1, 0, 1, 41, 800, 2**31 - 1], "int32")
    assert_same(f(v), _sigmoid(v.astype("float64")), "int32 through tanh", rtol=1e-13)


@pytest.mark.parametrize("linker", LINKERS)
def test_a_wider_one_keeps_the_wider_dtype(linker: str) -> None:
    # a float64 1 next to float32 terms makes a float64 result: sigmoid(x) of the float32 x
    # would be float32, so the spelling stays
    x = ft.vector("x", "float32")
    one = ft.constant(np.ones((), "float64"))
    f = fc.function([x], [one / (one + ft.exp(-x)), ft.log(one + ft.exp(x))], mode=_mode(linker))
    a, b = f(np.linspace(-5, 5, 11, dtype="float32"))
    assert a.dtype == b.dtype == np.float64
    assert "sigmoid" not in _steps(f) and "softplus" not in _steps(f), fc.debugprint(f)
    v = np.linspace(-5, 5, 11, dtype="float32")
    e = np.exp(v).astype("float64")  # a float32 exp: the C one may differ from numpy's in the last bit
    assert_same(a, 1 / (1 + np.exp(-v).astype("float64")), "1 / (1 + exp(-x32)) in float64", rtol=1e-6)
    assert_same(b, np.log(1 + e), "log(1 + exp(x32)) in float64", rtol=1e-6)


@pytest.mark.parametrize("linker", LINKERS)
def test_a_wider_constant_keeps_the_wider_dtype_of_the_new_spellings(linker: str) -> None:
    x = ft.vector("x", "float32")
    half, one, m1 = (ft.constant(np.array(c, "float64")) for c in (0.5, 1.0, -1.0))
    outs = [
        half * ft.tanh(x / 2) + 0.5,
        0.5 * ft.tanh(x / 2) + half,
        (one + ft.tanh(x / 2)) * 0.5,
        (1 + ft.exp(-x)) ** m1,
        one + -ft.sigmoid(x),
        ft.log1p(-ft.sigmoid(x) * one),
    ]
    f = fc.function([x], outs, mode=_mode(linker))
    steps = _steps(f)
    assert "tanh" in steps and "exp" in steps and "softplus" not in steps, fc.debugprint(f)
    assert steps.count("sigmoid") == 1, fc.debugprint(f)  # the one written
    v = np.linspace(-5, 5, 11, dtype="float32")
    with np.errstate(all="ignore"):
        want = [_naive_mixed(o, x, v) for o in outs]
    for k, (got, w) in enumerate(zip(f(v), want)):
        assert got.dtype == np.float64, k
        assert_same(got, w, f"output {k}", rtol=1e-6)


def _naive_mixed(out, x, v: np.ndarray) -> np.ndarray:
    """``out`` of ``x`` run with every rewrite off."""
    return fc.function([x], out, mode=fc.Mode("py", None))(v)


@pytest.mark.parametrize("linker", LINKERS)
def test_a_broadcasting_one_keeps_the_shape(linker: str) -> None:
    x = ft.dvector("x")
    ones = ft.constant(np.ones((3, 1)))
    halves = ft.constant(np.full((3, 1), 0.5))
    outs = [ones / (1 + ft.exp(-x)), 1 / (ones + ft.exp(-x)), ft.log(ones + ft.exp(x)), ones - ft.sigmoid(x)]
    outs += [(ones + ft.exp(-x)) ** -1, ones + -ft.sigmoid(x), halves * ft.tanh(x / 2) + 0.5]
    outs += [0.5 * ft.tanh(x / 2) + halves, (ones + ft.tanh(x / 2)) / 2, (1 + ft.tanh(x / 2)) * halves]
    f = fc.function([x], outs, mode=_mode(linker))
    v = np.linspace(-5, 5, 4)
    one, half, t = np.ones((3, 1)), np.full((3, 1), 0.5), np.tanh(v / 2)
    want = [one / (1 + np.exp(-v)), one / (1 + np.exp(-v))]
    want += [np.log(one + np.exp(v)), one - _sigmoid(v)]
    want += [one / (1 + np.exp(-v)), one - _sigmoid(v), half * t + 0.5]
    want += [0.5 * t + half, (one + t) / 2, (1 + t) * half]
    for k, (got, w) in enumerate(zip(f(v), want)):
        assert_same(got, w, f"output {k}", rtol=1e-13)


@pytest.mark.parametrize("linker", LINKERS)
def test_fast_compile_computes_what_was_written(linker: str) -> None:
    x = ft.dvector("x")
    f = fc.function([x], ft.log(1 / (1 + ft.exp(-x))), mode=fc.Mode(linker, "fast_compile"))
    assert "sigmoid" not in _steps(f)
    with np.errstate(all="ignore"):
        assert_same(f(EXTREMES), np.log(1 / (1 + np.exp(-EXTREMES))), "naive")


# -- gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("linker", LINKERS)
def test_gradient_of_the_spelled_out_sigmoid_is_a_product_of_sigmoids(linker: str) -> None:
    # grad builds exp(-x) / (1 + exp(-x))**2: inf / inf at x = -800
    x = ft.dvector("x")
    p = 1 / (1 + ft.exp(-x))
    g = fc.grad(p.sum(), x)
    f = fc.function([x], g, mode=_mode(linker))
    assert "exp" not in _steps(f), fc.debugprint(f)
    v = np.concatenate([EXTREMES, sample("float64", (32,), 4, special=False, low=-6, high=6)])
    assert_same(f(v), _sigmoid(v) * _sigmoid(-v), "d sigmoid", rtol=1e-13)


@pytest.mark.parametrize("linker", LINKERS)
def test_gradient_of_the_cross_entropy_is_finite(linker: str) -> None:
    # -y*log(p) - (1-y)*log(1-p): grad divides by p and by 1 - p, which round to 0
    z, y = ft.dvector("z"), ft.dvector("y")
    p = 1 / (1 + ft.exp(-z))
    xent = -y * ft.log(p) - (1 - y) * ft.log(1 - p)
    f = fc.function([z, y], [xent, fc.grad(xent.sum(), z)], mode=_mode(linker))
    steps = _steps(f)
    assert "exp" not in steps and "log" not in steps, fc.debugprint(f)
    zv = np.concatenate([EXTREMES, EXTREMES, sample("float64", (32,), 5, special=False, low=-6, high=6)])
    yv = np.concatenate([np.zeros(7), np.ones(7), np.random.default_rng(5).integers(0, 2, 32)])
    xent_v, gz = f(zv, yv)
    assert np.isfinite(xent_v).all() and np.isfinite(gz).all()
    assert_same(xent_v, yv * _softplus(-zv) + (1 - yv) * _softplus(zv), "xent", rtol=1e-13)
    # sigmoid(z) - y without rounding sigmoid(z) near 1: for y = 1 it is -sigmoid(-z)
    assert_same(gz, (1 - yv) * _sigmoid(zv) - yv * _sigmoid(-zv), "d xent / dz", rtol=1e-12)


#: name -> (expression, its derivative computed stably, absolute tolerance): the tanh
#: spellings' gradient is 0.25 * (1 - tanh(x / 2)**2), 0 where tanh rounds to +-1 (|x| > 38);
#: their logarithm's divides that by the sigmoid, a quotient that becomes a sigmoid
GRADIENTS = {
    "(1+exp(-x))**-1": (lambda x: (1 + ft.exp(-x)) ** -1, lambda v: _sigmoid(v) * _sigmoid(-v), 0),
    "1+-sigmoid(x)": (lambda x: 1 + -ft.sigmoid(x), lambda v: -_sigmoid(v) * _sigmoid(-v), 0),
    "log((1+exp(-x))**-1)": (lambda x: ft.log((1 + ft.exp(-x)) ** -1), lambda v: _sigmoid(-v), 0),
    "log1p(-sigmoid(x))": (lambda x: ft.log1p(-ft.sigmoid(x)), lambda v: -_sigmoid(v), 0),
    "log1p(-1/(1+exp(-x)))": (lambda x: ft.log1p(-(1 / (1 + ft.exp(-x)))), lambda v: -_sigmoid(v), 0),
    "0.5*tanh(0.5*x)+0.5": (
        lambda x: 0.5 * ft.tanh(0.5 * x) + 0.5,
        lambda v: _sigmoid(v) * _sigmoid(-v),
        1e-16,
    ),
    "(1-tanh(x/2))/2": (lambda x: (1 - ft.tanh(x / 2)) / 2, lambda v: -_sigmoid(v) * _sigmoid(-v), 1e-16),
    "log(0.5*tanh(x/2)+0.5)": (lambda x: ft.log(0.5 * ft.tanh(x / 2) + 0.5), lambda v: _sigmoid(-v), 0),
    "log((1-tanh(x/2))/2)": (lambda x: ft.log((1 - ft.tanh(x / 2)) / 2), lambda v: -_sigmoid(v), 0),
    "log(0.5*tanh(x)+0.5)": (lambda x: ft.log(0.5 * ft.tanh(x) + 0.5), lambda v: 2 * _sigmoid(-2 * v), 0),
}


@pytest.mark.parametrize("linker", LINKERS)
@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradient_of_a_new_spelling_is_finite_and_matches_finite_differences(name: str, linker: str) -> None:
    build, deriv, atol = GRADIENTS[name]
    x = ft.dvector("x")
    f = fc.function([x], fc.grad(build(x).sum(), x), mode=_mode(linker))
    v = np.concatenate([SWEEP, sample("float64", (32,), 6, special=False, low=-6, high=6)])
    got = f(v)
    assert np.isfinite(got).all(), (name, got)
    assert_same(got, deriv(v), f"d {name}", rtol=1e-12, atol=atol or None)
    # central differences of the value's stable reference, at the moderate points
    ref, h, mid = SPELLINGS[name][1], 1e-5, v[len(SWEEP) :]
    fd = (ref(mid + h) - ref(mid - h)) / (2 * h)
    np.testing.assert_allclose(got[len(SWEEP) :], fd, rtol=1e-6, atol=1e-9, err_msg=f"d {name}")


# -- the Theano tutorial's logistic regression ----------------------------------------------


def _stable_step(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple:
    """The tutorial's step in float64 without overflow: logaddexp for the logs of p and 1 - p."""
    z = X @ w + b
    xent = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
    gz = ((1 - y) * _sigmoid(z) - y * _sigmoid(-z)) / len(y)  # sigmoid(z) - y
    return _sigmoid(z) > 0.5, xent, w - W4_LR * (X.T @ gz + 0.02 * w), b - W4_LR * gz.sum()


@pytest.mark.parametrize("linker", LINKERS)
def test_tutorial_with_unscaled_weights_trains_finitely(linker: str) -> None:
    # The tutorial's own data: 400 x 784, w ~ N(0, 1), so |X.w| reaches ~100 and p saturates.
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((400, 784)), rng.integers(0, 2, 400).astype(np.float64)
    w0 = rng.standard_normal(784)
    ins, outs, updates = w4_graph(ft, fc, w0)
    train = fc.function(ins, outs, updates=updates, mode=_mode(linker))
    w_param, b_param = (u[0] for u in updates)
    naive = W4NumpyStep(w0)
    w, b = w0.copy(), 0.0
    saturated = 0
    for step in range(10):
        p = _sigmoid(X @ w + b)
        pred, xent = train(X, y)
        want_pred, want_xent, w, b = _stable_step(X, y, w, b)
        with np.errstate(all="ignore"):
            naive_pred, naive_xent = naive(X, y)
        assert np.isfinite(xent).all(), f"step {step}: xent not finite"
        np.testing.assert_array_equal(pred, want_pred, err_msg=f"step {step}: prediction")
        np.testing.assert_allclose(xent, want_xent, rtol=1e-9, atol=1e-13, err_msg=f"step {step}: xent")
        np.testing.assert_allclose(w_param.get_value(), w, rtol=1e-9, atol=1e-13, err_msg=f"step {step}: w")
        np.testing.assert_allclose(b_param.get_value(), b, rtol=1e-9, atol=1e-13, err_msg=f"step {step}: b")
        # numpy's own step: its gradient ((p - y) / n) is finite, its xent only where p and
        # 1 - p do not round to 0, and log(1 - p) of a p near 1 keeps only the digits 1 - p
        # kept: compared where min(p, 1 - p) > 1e-6 (at most 2e-10 off there).
        np.testing.assert_array_equal(pred, naive_pred, err_msg=f"step {step}: numpy's prediction")
        np.testing.assert_allclose(
            w_param.get_value(), naive.w, rtol=1e-9, atol=1e-13, err_msg=f"step {step}"
        )
        np.testing.assert_allclose(
            b_param.get_value(), naive.b, rtol=1e-9, atol=1e-13, err_msg=f"step {step}"
        )
        fair = np.minimum(p, 1 - p) > 1e-6
        assert fair.sum() > 10
        np.testing.assert_allclose(
            xent[fair], naive_xent[fair], rtol=1e-9, err_msg=f"step {step}: numpy's xent"
        )
        saturated += int((~np.isfinite(naive_xent)).sum())
    assert saturated > 0, "the data no longer saturates p: the test checks nothing"


def test_a_long_chain_of_quotients_is_read_from_its_root() -> None:
    # each node of the chain is a tree's root only once: no rebuild per node, no recursion
    x = ft.dvector("x")
    y = x
    for _ in range(1000):
        y = y * ft.exp(x) / (1 + ft.exp(x))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        f = fc.function([x], y, mode=_mode("py"))
    finally:
        sys.setrecursionlimit(limit)
    assert "sigmoid" in _steps(f), fc.debugprint(f)
    v = np.array([10.0, 20.0, 30.0, -800.0])
    assert_same(f(v), v * _sigmoid(v) ** 1000, "x * sigmoid(x)**1000", rtol=1e-11)
