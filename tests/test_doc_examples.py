"""The code examples of PyTensor's and Theano's documentation, run under fncache with only their
import lines changed (``import fncache as pytensor``, ``import fncache.tensor as pt``; Theano's
pages as ``theano`` and ``T``). Where an example prints a value, the test asserts it: the value
the page shows when it shows one, else the numpy the page compares with. Grouped by page; the
pages that compile many functions run under the Python linker (``py_linker``), the others under
the default C linker."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import fncache as pytensor
import fncache as theano
import fncache.tensor as pt
import fncache.tensor as T
from fncache import function, pp, shared
from fncache.compile import In
from fncache.ifelse import ifelse


@pytest.fixture
def py_linker() -> Iterator[None]:
    """Functions compiled without a mode use the Python linker (the C linker's cold compiles
    would make a page of small examples slow, not more thorough)."""
    with pytensor.config.change_flags(linker="py"):
        yield


# -- PyTensor: tutorial/adding.rst ("Baby Steps - Algebra") -----------------------------------------
def test_adding_two_scalars() -> None:
    x = pt.dscalar("x")
    y = pt.dscalar("y")
    z = x + y
    f = function([x, y], z)
    out = f(2, 3)
    assert isinstance(out, np.ndarray) and out.shape == () and out == 5.0
    assert np.allclose(f(16.3, 12.1), 28.4)
    assert x.type == pt.dscalar
    assert str(pp(z)) == "(x + y)"
    assert np.allclose(z.eval({x: 16.3, y: 12.1}), 28.4)


def test_adding_two_matrices_and_the_exercise() -> None:
    x = pt.dmatrix("x")
    y = pt.dmatrix("y")
    z = x + y
    f = function([x, y], z)
    want = np.array([[11.0, 22.0], [33.0, 44.0]])
    np.testing.assert_array_equal(f([[1, 2], [3, 4]], [[10, 20], [30, 40]]), want)
    np.testing.assert_array_equal(f(np.array([[1, 2], [3, 4]]), np.array([[10, 20], [30, 40]])), want)

    a = pytensor.tensor.vector()  # declare variable
    out = a + a**10  # build symbolic expression
    f = pytensor.function([a], out)  # compile function
    np.testing.assert_array_equal(f([0, 1, 2]), [0.0, 2.0, 1026.0])


@pytest.mark.usefixtures("py_linker")
def test_adding_every_listed_type_constructor() -> None:
    # "b" is bool in fncache, int8 in PyTensor (docs/porting.md, "What differs")
    kinds = {
        "b": "bool",
        "w": "int16",
        "i": "int32",
        "l": "int64",
        "f": "float32",
        "d": "float64",
        "c": "complex64",
    }
    shapes = {
        "scalar": 0,
        "vector": 1,
        "matrix": 2,
        "row": 2,
        "col": 2,
        **{f"tensor{n}": n for n in range(3, 8)},
    }
    for prefix, dtype in kinds.items():
        for suffix, ndim in shapes.items():
            v = getattr(pt, prefix + suffix)("v")
            assert (v.dtype, v.ndim) == (dtype, ndim), prefix + suffix
    assert pt.drow().broadcastable == (True, False) and pt.dcol().broadcastable == (False, True)


# -- PyTensor: tutorial/examples.rst ("More Examples") ----------------------------------------------
def test_examples_logistic_function_two_ways() -> None:
    x = pt.dmatrix("x")
    s = 1 / (1 + pt.exp(-x))
    logistic = pytensor.function([x], s)
    want = np.array([[0.5, 0.73105858], [0.26894142, 0.11920292]])
    np.testing.assert_allclose(logistic([[0, 1], [-1, -2]]), want, rtol=1e-7)
    s2 = (1 + pt.tanh(x / 2)) / 2
    logistic2 = pytensor.function([x], s2)
    np.testing.assert_allclose(logistic2([[0, 1], [-1, -2]]), want, rtol=1e-7)


@pytest.mark.usefixtures("py_linker")
def test_examples_more_than_one_output_and_default_values() -> None:
    a, b = pt.dmatrices("a", "b")
    diff = a - b
    abs_diff = abs(diff)
    diff_squared = diff**2
    f = pytensor.function([a, b], [diff, abs_diff, diff_squared])
    got = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    assert isinstance(got, list) and len(got) == 3
    np.testing.assert_array_equal(got[0], [[1.0, 0.0], [-1.0, -2.0]])
    np.testing.assert_array_equal(got[1], [[1.0, 0.0], [1.0, 2.0]])
    np.testing.assert_array_equal(got[2], [[1.0, 0.0], [1.0, 4.0]])

    x, y = pt.dscalars("x", "y")
    z = x + y
    f = function([x, In(y, value=1)], z)
    assert f(33) == 34.0 and f(33, 2) == 35.0

    x, y, w = pt.dscalars("x", "y", "w")
    z = (x + y) * w
    f = function([x, In(y, value=1), In(w, value=2, name="w_by_name")], z)
    assert f(33) == 68.0
    assert f(33, 2) == 70.0
    assert f(33, 0, 1) == 33.0
    assert f(33, w_by_name=1) == 34.0
    assert f(33, w_by_name=1, y=0) == 33.0


@pytest.mark.usefixtures("py_linker")
def test_examples_shared_variables_accumulator_and_givens() -> None:
    state = shared(0)
    inc = pt.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0
    assert accumulator(1) == 0 and state.get_value() == 1
    assert accumulator(300) == 1 and state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1 and state.get_value() == 2

    decrementor = function([inc], state, updates=[(state, state - inc)])
    assert decrementor(2) == 2 and state.get_value() == 0

    fn_of_state = state * 2 + inc
    # The type of foo must match the shared variable we are replacing with the ``givens``
    foo = pt.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7  # we're using 3 for the state, not state.value
    assert state.get_value() == 0  # old state still there, but we didn't use it

    b = pytensor.shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert b.broadcastable == (True, False)
    c = pytensor.shared(np.zeros((1, 3)), shape=(1, None))
    assert c.type.shape == (1, None) and b.type == c.type
    with pytest.raises(ValueError, match=r"shared\('w'\).*\(2, 3\) does not fit"):
        pytensor.shared(np.zeros((2, 3)), name="w", broadcastable=(True, False))
    with pytest.raises(TypeError, match="one bool per dim"):
        pytensor.shared(np.zeros((1, 3)), name="w", broadcastable=(1, 0))
    with pytest.raises(TypeError, match="not both"):
        pytensor.shared(np.zeros((1, 3)), name="w", broadcastable=(True, False), shape=(1, None))


@pytest.mark.usefixtures("py_linker")
def test_examples_copying_functions() -> None:
    state = pytensor.shared(0)
    inc = pt.iscalar("inc")
    accumulator = pytensor.function([inc], state, updates=[(state, state + inc)])
    assert accumulator(10) == 0 and state.get_value() == 10
    new_state = pytensor.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    assert new_accumulator(100) == 0 and new_state.get_value() == 100
    assert state.get_value() == 10
    null_accumulator = accumulator.copy(delete_updates=True)
    assert null_accumulator(9000) == 10 and state.get_value() == 10


def test_examples_logistic_regression() -> None:
    rng = np.random.default_rng(2882)
    N = 400  # training sample size
    feats = 784  # number of input variables
    D = (rng.standard_normal((N, feats)), rng.integers(size=N, low=0, high=2))
    training_steps = 50  # the page trains for 10000 steps

    x = pt.dmatrix("x")
    y = pt.dvector("y")
    w = pytensor.shared(rng.standard_normal(feats), name="w")
    b = pytensor.shared(0.0, name="b")
    assert b.get_value() == 0.0
    p_1 = 1 / (1 + pt.exp(-pt.dot(x, w) - b))  # Probability that target = 1
    prediction = p_1 > 0.5  # The prediction thresholded
    xent = -y * pt.log(p_1) - (1 - y) * pt.log(1 - p_1)  # Cross-entropy loss function
    cost = xent.mean() + 0.01 * (w**2).sum()  # The cost to minimize
    gw, gb = pt.grad(cost, [w, b])
    train = pytensor.function(
        inputs=[x, y], outputs=[prediction, xent], updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb))
    )
    predict = pytensor.function(inputs=[x], outputs=prediction)

    # the same steps in numpy
    X, Y = D[0], D[1].astype(float)
    nw, nb = w.get_value(), 0.0
    for _ in range(training_steps):
        pred, err = train(D[0], D[1])
        z = X @ nw + nb
        p = 1 / (1 + np.exp(-z))
        # -log(p) = softplus(-z) and -log(1 - p) = softplus(z): numpy's log(1 - p) loses every
        # digit where p rounds to 1, fncache's rewrites keep them
        nerr = Y * np.logaddexp(0, -z) + (1 - Y) * np.logaddexp(0, z)
        gp = (p - Y) / N
        nw, nb = nw - 0.1 * (X.T @ gp + 0.02 * nw), nb - 0.1 * gp.sum()
    np.testing.assert_allclose(err, nerr, rtol=1e-6)
    np.testing.assert_allclose(w.get_value(), nw, rtol=1e-6)
    np.testing.assert_allclose(b.get_value(), nb, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(predict(D[0]), 1 / (1 + np.exp(-X @ nw - nb)) > 0.5)


# -- PyTensor: tutorial/gradients.rst ("Derivatives in PyTensor") ----------------------------------
@pytest.mark.usefixtures("py_linker")
def test_gradients_computing_gradients() -> None:
    x = pt.dscalar("x")
    y = x**2
    gy = pt.grad(y, x)
    assert "x" in pp(gy)
    f = pytensor.function([x], gy)
    assert f(4) == 8.0
    assert np.allclose(f(94.2), 188.4)

    x = pt.dmatrix("x")
    s = pt.sum(1 / (1 + pt.exp(-x)))
    gs = pt.grad(s, x)
    dlogistic = pytensor.function([x], gs)
    want = np.array([[0.25, 0.19661193], [0.19661193, 0.10499359]])
    np.testing.assert_allclose(dlogistic([[0, 1], [-1, -2]]), want, rtol=1e-7)


@pytest.mark.usefixtures("py_linker")
def test_gradients_jacobian_and_hessian_by_scan() -> None:
    x = pt.dvector("x")
    y = x**2
    J, updates = pytensor.scan(
        lambda i, y, x: pt.grad(y[i], x), sequences=pt.arange(y.shape[0]), non_sequences=[y, x]
    )
    f = pytensor.function([x], J, updates=updates)
    np.testing.assert_array_equal(f([4, 4]), [[8.0, 0.0], [0.0, 8.0]])

    x = pt.dvector("x")
    y = x**2
    cost = y.sum()
    gy = pt.grad(cost, x)
    H, updates = pytensor.scan(
        lambda i, gy, x: pt.grad(gy[i], x), sequences=pt.arange(gy.shape[0]), non_sequences=[gy, x]
    )
    f = pytensor.function([x], H, updates=updates)
    np.testing.assert_array_equal(f([4, 4]), [[2.0, 0.0], [0.0, 2.0]])


@pytest.mark.usefixtures("py_linker")
def test_gradients_rop_lop_and_hessian_times_vector() -> None:
    W = pt.dmatrix("W")
    V = pt.dmatrix("V")
    x = pt.dvector("x")
    y = pt.dot(x, W)
    JV = pytensor.gradient.Rop(y, W, V)
    f = pytensor.function([W, V, x], JV)
    np.testing.assert_array_equal(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2.0, 2.0])

    W = pt.dmatrix("W")
    v = pt.dvector("v")
    x = pt.dvector("x")
    y = pt.dot(x, W)
    VJ = pytensor.gradient.Lop(y, W, v)
    f = pytensor.function([v, x], VJ)
    np.testing.assert_array_equal(f([2, 2], [0, 1]), [[0.0, 0.0], [2.0, 2.0]])

    x = pt.dvector("x")
    v = pt.dvector("v")
    y = pt.sum(x**2)
    gy = pt.grad(y, x)
    vH = pt.grad(pt.sum(gy * v), x)
    f = pytensor.function([x, v], vH)
    np.testing.assert_array_equal(f([4, 4], [2, 2]), [4.0, 4.0])

    x = pt.dvector("x")
    v = pt.dvector("v")
    y = pt.sum(x**2)
    gy = pt.grad(y, x)
    Hv = pytensor.gradient.Rop(gy, x, v)
    f = pytensor.function([x, v], Hv)
    np.testing.assert_array_equal(f([4, 4], [2, 2]), [4.0, 4.0])


# -- PyTensor: tutorial/conditions.rst ("IfElse vs Switch") -----------------------------------------
def test_conditions_switch_and_lazy_ifelse() -> None:
    a, b = pt.scalars("a", "b")
    x, y = pt.matrices("x", "y")
    z_switch = pt.switch(pt.lt(a, b), pt.mean(x), pt.mean(y))
    z_lazy = ifelse(pt.lt(a, b), pt.mean(x), pt.mean(y))
    f_switch = pytensor.function([a, b, x, y], z_switch, mode=pytensor.compile.mode.Mode(linker="vm"))
    f_lazyifelse = pytensor.function([a, b, x, y], z_lazy, mode=pytensor.compile.mode.Mode(linker="vm"))
    big_mat1 = np.ones((100, 10), dtype=pytensor.config.floatX)
    big_mat2 = np.full((100, 10), 2.0, dtype=pytensor.config.floatX)
    for val1, val2, want in [(0.0, 1.0, 1.0), (1.0, 0.0, 2.0)]:
        assert f_switch(val1, val2, big_mat1, big_mat2) == want
        assert f_lazyifelse(val1, val2, big_mat1, big_mat2) == want


# -- PyTensor: tutorial/loop.rst ("Loop") ---------------------------------------------------------
def test_loop_tanh_of_rows_and_a_recurrence() -> None:
    X = pt.matrix("X")
    W = pt.matrix("W")
    b_sym = pt.vector("b_sym")
    results, updates = pytensor.scan(lambda v: pt.tanh(pt.dot(v, W) + b_sym), sequences=X)
    compute_elementwise = pytensor.function(inputs=[X, W, b_sym], outputs=results)
    x = np.eye(2, dtype=pytensor.config.floatX)
    w = np.ones((2, 2), dtype=pytensor.config.floatX)
    b = np.ones((2), dtype=pytensor.config.floatX)
    b[1] = 2
    want = [[0.96402758, 0.99505475], [0.96402758, 0.99505475]]
    np.testing.assert_allclose(compute_elementwise(x, w, b), want, rtol=1e-7)
    np.testing.assert_allclose(np.tanh(x.dot(w) + b), want, rtol=1e-7)

    X = pt.vector("X")
    U = pt.matrix("U")
    Y = pt.matrix("Y")
    V = pt.matrix("V")
    P = pt.matrix("P")
    results, updates = pytensor.scan(
        lambda y, p, x_tm1: pt.tanh(pt.dot(x_tm1, W) + pt.dot(y, U) + pt.dot(p, V)),
        sequences=[Y, P[::-1]],
        outputs_info=[X],
    )
    compute_seq = pytensor.function(inputs=[X, W, Y, U, P, V], outputs=results)
    x = np.zeros((2), dtype=pytensor.config.floatX)
    x[1] = 1
    w = np.ones((2, 2), dtype=pytensor.config.floatX)
    y = np.ones((5, 2), dtype=pytensor.config.floatX)
    y[0, :] = -3
    u = np.ones((2, 2), dtype=pytensor.config.floatX)
    p = np.ones((5, 2), dtype=pytensor.config.floatX)
    p[0, :] = 3
    v = np.ones((2, 2), dtype=pytensor.config.floatX)
    want = np.array([[-0.99505475] * 2, [0.96471973] * 2, [0.99998585] * 2, [0.99998771] * 2, [1.0] * 2])
    np.testing.assert_allclose(compute_seq(x, w, y, u, p, v), want, rtol=1e-7)


@pytest.mark.usefixtures("py_linker")
def test_loop_norms_trace_and_two_taps() -> None:
    X = pt.matrix("X")
    results, updates = pytensor.scan(lambda x_i: pt.sqrt((x_i**2).sum()), sequences=[X])
    compute_norm_lines = pytensor.function(inputs=[X], outputs=results)
    x = np.diag(np.arange(1, 6, dtype=pytensor.config.floatX), 1)
    np.testing.assert_array_equal(compute_norm_lines(x), [1.0, 2.0, 3.0, 4.0, 5.0, 0.0])

    results, updates = pytensor.scan(lambda x_i: pt.sqrt((x_i**2).sum()), sequences=[X.T])
    compute_norm_cols = pytensor.function(inputs=[X], outputs=results)
    np.testing.assert_array_equal(compute_norm_cols(x), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])

    floatX = "float32"
    results, updates = pytensor.scan(
        lambda i, j, t_f: pt.cast(X[i, j] + t_f, floatX),
        sequences=[pt.arange(X.shape[0]), pt.arange(X.shape[1])],
        outputs_info=np.asarray(0.0, dtype=floatX),
    )
    result = results[-1]
    compute_trace = pytensor.function(inputs=[X], outputs=result)
    x = np.eye(5, dtype=pytensor.config.floatX)
    x[0] = np.arange(5, dtype=pytensor.config.floatX)
    assert compute_trace(x) == 4.0 == np.diagonal(x).sum()

    X = pt.matrix("X")
    W = pt.matrix("W")
    b_sym = pt.vector("b_sym")
    U = pt.matrix("U")
    V = pt.matrix("V")
    n_sym = pt.iscalar("n_sym")
    results, updates = pytensor.scan(
        lambda x_tm2, x_tm1: pt.dot(x_tm2, U) + pt.dot(x_tm1, V) + pt.tanh(pt.dot(x_tm1, W) + b_sym),
        n_steps=n_sym,
        outputs_info=[dict(initial=X, taps=[-2, -1])],
    )
    compute_seq2 = pytensor.function(inputs=[X, U, V, W, b_sym, n_sym], outputs=results)
    x = np.zeros((2, 2), dtype=pytensor.config.floatX)  # the initial value must be able to return x[-2]
    x[1, 1] = 1
    w = 0.5 * np.ones((2, 2), dtype=pytensor.config.floatX)
    u = 0.5 * (np.ones((2, 2), dtype=pytensor.config.floatX) - np.eye(2, dtype=pytensor.config.floatX))
    v = 0.5 * np.ones((2, 2), dtype=pytensor.config.floatX)
    n = 10
    b = np.ones((2), dtype=pytensor.config.floatX)
    want = [
        [1.40514825, 1.40514825],
        [2.88898899, 2.38898899],
        [4.34018291, 4.34018291],
        [6.53463142, 6.78463142],
        [9.82972243, 9.82972243],
        [14.22203814, 14.09703814],
        [20.07439936, 20.07439936],
        [28.12291843, 28.18541843],
        [39.1913681, 39.1913681],
        [54.28407732, 54.25282732],
    ]
    np.testing.assert_allclose(compute_seq2(x, u, v, w, b, n), want, rtol=1e-7)


@pytest.mark.usefixtures("py_linker")
def test_loop_jacobian_accumulator_power_and_polynomial() -> None:
    v = pt.vector()
    A = pt.matrix()
    y = pt.tanh(pt.dot(v, A))
    results, updates = pytensor.scan(lambda i: pt.grad(y[i], v), sequences=[pt.arange(y.shape[0])])
    compute_jac_t = pytensor.function([A, v], results, allow_input_downcast=True)  # shape (d_out, d_in)
    x = np.eye(5, dtype=pytensor.config.floatX)[0]
    w = np.eye(5, 3, dtype=pytensor.config.floatX)
    w[2] = np.ones((3), dtype=pytensor.config.floatX)
    want = [[0.41997434, 0, 0.41997434, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 0, 0]]
    np.testing.assert_allclose(compute_jac_t(w, x), want, rtol=1e-7)
    np.testing.assert_allclose(((1 - np.tanh(x.dot(w)) ** 2) * w).T, want, rtol=1e-7)

    k = pytensor.shared(0)
    n_sym = pt.iscalar("n_sym")
    results, updates = pytensor.scan(lambda: {k: (k + 1)}, n_steps=n_sym)
    accumulator = pytensor.function([n_sym], [], updates=updates, allow_input_downcast=True)
    assert k.get_value() == 0
    accumulator(5)
    assert k.get_value() == 5

    k = pt.iscalar("k")
    A = pt.vector("A")

    def inner_fct(prior_result, B):
        return prior_result * B

    result, updates = pytensor.scan(fn=inner_fct, outputs_info=pt.ones_like(A), non_sequences=A, n_steps=k)
    final_result = result[-1]
    power = pytensor.function(inputs=[A, k], outputs=final_result, updates=updates)
    np.testing.assert_array_equal(
        power(range(10), 2), [0.0, 1.0, 4.0, 9.0, 16.0, 25.0, 36.0, 49.0, 64.0, 81.0]
    )

    coefficients = pytensor.tensor.vector("coefficients")
    x = pt.scalar("x")
    max_coefficients_supported = 10000
    full_range = pytensor.tensor.arange(max_coefficients_supported)
    components, updates = pytensor.scan(
        fn=lambda coeff, power, free_var: coeff * (free_var**power),
        outputs_info=None,
        sequences=[coefficients, full_range],
        non_sequences=x,
    )
    polynomial = components.sum()
    calculate_polynomial = pytensor.function(inputs=[coefficients, x], outputs=polynomial)
    test_coeff = np.asarray([1, 0, 2], dtype=np.float32)
    assert calculate_polynomial(test_coeff, 3) == 19.0


@pytest.mark.usefixtures("py_linker")
def test_loop_binomial_noise_in_a_scan() -> None:
    X = pt.matrix("X")
    W = pt.matrix("W")
    b_sym = pt.vector("b_sym")
    # PyTensor's page calls RandomStream(1234).binomial(size=...), which PyTensor's own
    # binomial(n, p, size) refuses: this is Theano's version of the example (loop.txt)
    trng = T.shared_randomstreams.RandomStreams(1234)
    d = trng.binomial(size=W[1].shape)
    results, updates = pytensor.scan(lambda v: pt.tanh(pt.dot(v, W) + b_sym) * d, sequences=X)
    compute_with_bnoise = pytensor.function(
        inputs=[X, W, b_sym], outputs=results, updates=updates, allow_input_downcast=True
    )
    x = np.eye(10, 2, dtype=pytensor.config.floatX)
    w = np.ones((2, 2), dtype=pytensor.config.floatX)
    b = np.ones((2), dtype=pytensor.config.floatX)
    out = compute_with_bnoise(x, w, b)
    # the draws are fncache's (docs/porting.md), so only their form is checked: each entry is
    # 0 or the noiseless value, d is drawn again at each step (as the page's output shows: the
    # rows of equal inputs differ) and again at the next call (the updates advance the stream)
    clean = np.tanh(x.dot(w) + b)
    mask = out / clean
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert len({tuple(r) for r in mask[2:]}) > 1
    assert not np.array_equal(compute_with_bnoise(x, w, b), out)


# -- PyTensor: tutorial/shape_info.rst ("How Shape Information is Handled") -------------------------
@pytest.mark.usefixtures("py_linker")
def test_shape_info_shape_without_the_computation(capsys: pytest.CaptureFixture[str]) -> None:
    x = pytensor.tensor.matrix("x")
    f = pytensor.function([x], (x**2).shape)
    pytensor.dprint(f)
    text = capsys.readouterr().out
    # as PyTensor's, the graph has no power left: FAST_RUN reads an elementwise op's shape from
    # its inputs' sizes, and a square of floats cannot raise (docs/porting.md, "What differs")
    assert "Shape" in text and "sqr" not in text and "MakeVector" not in text
    assert pytensor.printing.dprint(f, file="str") == text.rstrip("\n")
    np.testing.assert_array_equal(f(np.zeros((3, 4), dtype=pytensor.config.floatX)), [3, 4])

    # the page's tensor("float64", shape=...) is refused by PyTensor too (the first argument is
    # now the name); both say to pass the dtype by keyword
    assert pytensor.tensor.tensor(dtype="float64", shape=(4, 3, 2)).type.shape == (4, 3, 2)
    with pytest.raises(TypeError, match="dtype='float64'"):
        pytensor.tensor.tensor("float64", shape=(4, 3, 2))
    # pytensor.tensor.random.normal(size=...): a stream's draw in fncache
    assert pytensor.RandomStream(0).normal(size=(7, 3, 5, 5)).type.shape == (7, 3, 5, 5)

    x = pytensor.tensor.matrix()
    x_specify_shape = pytensor.tensor.specify_shape(x, (2, 2))
    f = pytensor.function([x], (x_specify_shape**2).shape)
    np.testing.assert_array_equal(f(np.zeros((2, 2), dtype=pytensor.config.floatX)), [2, 2])


@pytest.mark.usefixtures("py_linker")
def test_shape_info_problems_with_shape_inference() -> None:
    x = pytensor.tensor.matrix("x")
    y = pytensor.tensor.matrix("y")
    z = pytensor.tensor.join(0, x, y)
    xv = np.random.default_rng(0).random((5, 4)).astype(pytensor.config.floatX)
    yv = np.random.default_rng(1).random((3, 3)).astype(pytensor.config.floatX)
    f = pytensor.function([x, y], z.shape)
    # PyTensor answers [8, 4] here ("does not raise an error as should be"); fncache's shape
    # of a join still checks the inputs, so it raises as the join itself does
    with pytest.raises(ValueError, match="concatenate"):
        f(xv, yv)
    f = pytensor.function([x, y], z)  # Do not take the shape.
    with pytest.raises(ValueError):
        f(xv, yv)


# -- PyTensor: tutorial/modes.rst ("Configuration Settings and Compiling Modes") --------------------
def test_modes_logistic_regression_with_test_values_in_float32() -> None:
    with pytensor.config.change_flags(floatX="float32", compute_test_value="raise"):
        rng = np.random.default_rng(2498)
        N = 40
        feats = 78
        D = (
            rng.standard_normal((N, feats)).astype(pytensor.config.floatX),
            rng.integers(size=N, low=0, high=2).astype(pytensor.config.floatX),
        )
        training_steps = 10
        x = pt.matrix("x")
        y = pt.vector("y")
        w = pytensor.shared(rng.standard_normal(feats).astype(pytensor.config.floatX), name="w")
        b = pytensor.shared(np.asarray(0.0, dtype=pytensor.config.floatX), name="b")
        x.tag.test_value = D[0]
        y.tag.test_value = D[1]
        p_1 = 1 / (1 + pt.exp(-pt.dot(x, w) - b))  # Probability of having a one
        prediction = p_1 > 0.5  # The prediction that is done: 0 or 1
        xent = -y * pt.log(p_1) - (1 - y) * pt.log(1 - p_1)  # Cross-entropy
        cost = xent.mean() + 0.01 * (w**2).sum()  # The cost to optimize
        gw, gb = pt.grad(cost, [w, b])
        train = pytensor.function(
            inputs=[x, y],
            outputs=[prediction, xent],
            updates=[(w, w - 0.01 * gw), (b, b - 0.01 * gb)],
            name="train",
        )
        predict = pytensor.function(inputs=[x], outputs=prediction, name="predict")
        # the page looks for a Gemv node to tell the CPU ran it; fncache fuses the dot into a
        # row loop instead, so the walk itself is what is checked
        nodes = train.maker.fgraph.toposort()
        assert nodes and set(nodes) == train.maker.fgraph.apply_nodes
        assert train.maker.mode.linker == "c" and train.maker.fgraph.outputs[0].dtype == "bool"
        for _ in range(training_steps):
            pred, err = train(D[0], D[1])
        assert err.dtype == np.float32 and w.get_value().dtype == np.float32
        np.testing.assert_array_equal(predict(D[0]), D[0] @ w.get_value() + b.get_value() > 0)


def test_modes_debug_mode_and_the_named_modes() -> None:
    x = pt.dvector("x")
    f = pytensor.function([x], 10 * x, mode="DebugMode")
    assert f([5]) == 50.0 and f([0]) == 0.0 and f([7]) == 70.0
    for mode in [
        "FAST_COMPILE",
        "FAST_RUN",
        pytensor.compile.mode.Mode(linker="py", optimizer="fast_compile"),
        pytensor.compile.mode.Mode(linker="cvm", optimizer="fast_run"),
        pytensor.compile.debugmode.DebugMode(),
    ]:
        g = pytensor.function([x], 10 * x, mode=mode)
        np.testing.assert_array_equal(g([1.0, 2.0]), [10.0, 20.0])
    for linker in ["cvm", "cvm_nogc", "c|py", "c|py_nogc", "c", "py"]:
        mode = pytensor.compile.mode.Mode(linker=linker)
        np.testing.assert_array_equal(pytensor.function([x], x + 1, mode=mode)([1.0]), [2.0])
    # every linker name the flag takes, and the debugging modes take them too
    for mode in [
        pytensor.compile.mode.Mode(linker="vm"),
        pytensor.NanGuardMode(linker="vm"),
        pytensor.DebugMode(linker="vm"),
    ]:
        np.testing.assert_array_equal(pytensor.function([x], x + 1, mode=mode)([1.0]), [2.0])
    with pytest.raises(ValueError, match=r"Mode: unknown linker 'vm2'; expected one of c, py, cvm"):
        pytensor.compile.mode.Mode(linker="vm2")
    for optimizer in [None, "fast_compile", "fast_run"]:
        mode = pytensor.compile.mode.Mode(linker="py", optimizer=optimizer)
        np.testing.assert_array_equal(pytensor.function([x], x * 2, mode=mode)([1.0]), [2.0])


# -- PyTensor: tutorial/debug_faq.rst ("Debugging PyTensor: FAQ and Troubleshooting") -------------
def test_debug_faq_error_messages_name_the_node() -> None:
    x = pt.vector()
    y = pt.vector()
    z = x + x
    z = z + y
    f = pytensor.function([x, y], z)
    with pytest.raises(ValueError) as info:
        f(np.ones((2,)), np.ones((3,)))
    assert "(2,)" in str(info.value) and "(3,)" in str(info.value)

    a = pt.dmatrix("a")
    b = pt.dmatrix("b")
    f = pytensor.function([a, b], [a * b])
    # Matrices chosen so dimensions are unsuitable for multiplication
    mat1 = np.arange(12).reshape((3, 4))
    mat2 = np.arange(25).reshape((5, 5))
    with pytest.raises(ValueError) as info:
        f(mat1, mat2)
    assert "(3, 4)" in str(info.value) and "(5, 5)" in str(info.value)


@pytest.mark.usefixtures("py_linker")
def test_debug_faq_test_values() -> None:
    rng = np.random.default_rng(0)
    W1val = rng.random((2, 10, 10)).astype(pytensor.config.floatX)
    W1 = pytensor.shared(W1val, "W1")
    W2val = rng.random((15, 20)).astype(pytensor.config.floatX)
    W2 = pytensor.shared(W2val, "W2")

    def build(test_value: np.ndarray | None) -> pt.TensorVariable:
        x = pt.matrix("x")
        if test_value is not None:
            x.tag.test_value = test_value
        # transform the shared variable in some way. PyTensor does not know off hand that the
        # matrix func_of_W1 has shape (20, 10)
        func_of_W1 = W1.dimshuffle(2, 0, 1).flatten(2).T
        # source of error: dot product of 5x10 with 20x10
        h1 = pt.dot(x, func_of_W1)
        # do more stuff
        h2 = pt.dot(h1, W2.T)
        return x, h2

    with pytensor.config.change_flags(compute_test_value="off"):
        x, h2 = build(None)
        f = pytensor.function([x], h2)
        with pytest.raises(ValueError):
            f(rng.random((5, 10)))
    # with a test value, the error comes where the faulty dot is built
    with pytensor.config.change_flags(compute_test_value="warn"), pytest.raises(ValueError):
        build(rng.random((5, 10)).astype(pytensor.config.floatX))

    x = pt.scalar("x")
    x.tag.test_value = 42
    with pytensor.config.change_flags(print_test_value=True):
        assert repr(x).splitlines()[0] == "x" and "42" in repr(x).splitlines()[1]
        assert repr(pt.scalar("no_value")) == "no_value"
    with pytensor.config.change_flags(print_test_value=False):
        assert repr(x) == "x"


def test_debug_faq_print_op(capsys: pytest.CaptureFixture[str]) -> None:
    x = pytensor.tensor.dvector("x")
    x_printed = pytensor.printing.Print("this is a very important value")(x)
    f = pytensor.function([x], x * 5)
    f_with_print = pytensor.function([x], x_printed * 5)
    # This runs the graph without any printing
    assert np.array_equal(f([1, 2, 3]), [5, 10, 15])
    assert capsys.readouterr().out == ""
    # This runs the graph with the message, and value printed
    assert np.array_equal(f_with_print([1, 2, 3]), [5, 10, 15])
    assert capsys.readouterr().out == "this is a very important value __str__ = [1. 2. 3.]\n"


def test_debug_faq_monitor_mode(capsys: pytest.CaptureFixture[str]) -> None:
    def inspect_inputs(fgraph, i, node, fn):
        print(i, node, "input(s) value(s):", [input[0] for input in fn.inputs], end="")

    def inspect_outputs(fgraph, i, node, fn):
        print(" output(s) value(s):", [output[0] for output in fn.outputs])

    x = pytensor.tensor.dscalar("x")
    f = pytensor.function(
        [x], [5 * x], mode=pytensor.compile.MonitorMode(pre_func=inspect_inputs, post_func=inspect_outputs)
    )
    assert f(3) == [15.0]
    out = capsys.readouterr().out
    assert out.startswith("0 ") and "input(s) value(s): [" in out
    assert out.endswith(" output(s) value(s): [array(15.)]\n")

    def detect_nan(fgraph, i, node, fn):
        for output in fn.outputs:
            # the page tests `not isinstance(output[0], np.ndarray)`, which no output passes (its
            # printed output shows the NaN found): Theano's original left out random generators
            if not isinstance(output[0], np.random.Generator) and np.isnan(output[0]).any():
                print("*** NaN detected ***")
                pytensor.printing.debugprint(node)
                print("Inputs : %s" % [input[0] for input in fn.inputs])
                print("Outputs: %s" % [output[0] for output in fn.outputs])
                break

    x = pytensor.tensor.dscalar("x")
    f = pytensor.function(
        [x], [pytensor.tensor.log(x) * x], mode=pytensor.compile.MonitorMode(post_func=detect_nan)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        f(0)  # log(0) * 0 = -inf * 0 = NaN
    out = capsys.readouterr().out
    assert out.startswith("*** NaN detected ***\n") and out.endswith("Outputs: [array(nan)]\n")

    with pytest.raises(TypeError, match=r"MonitorMode: post_func must be a function of \(i, node, fn\)"):
        pytensor.compile.MonitorMode(post_func=lambda i, node: None)
    mode = pytensor.compile.MonitorMode(post_func=detect_nan).excluding("local_elemwise_fusion", "inplace")
    f = pytensor.function([x], [pytensor.tensor.log(x) * x], mode=mode)
    with np.errstate(divide="ignore", invalid="ignore"):
        f(0)
    out = capsys.readouterr().out
    assert out.startswith("*** NaN detected ***\n") and out.endswith("Outputs: [array(nan)]\n")


# -- PyTensor: tutorial/aliasing.rst ("Understanding Memory Aliasing") ------------------------------
def test_aliasing_borrow_in_shared_get_value_set_value_in_and_out() -> None:
    np_array = np.ones(2, dtype="float32")
    s_default = pytensor.shared(np_array)
    s_false = pytensor.shared(np_array, borrow=False)
    s_true = pytensor.shared(np_array, borrow=True)
    np_array += 1  # now it is an array of 2.0 s
    np.testing.assert_array_equal(s_default.get_value(), [1.0, 1.0])
    np.testing.assert_array_equal(s_false.get_value(), [1.0, 1.0])
    np.testing.assert_array_equal(s_true.get_value(), [2.0, 2.0])

    s = pytensor.shared(np_array)
    v_false = s.get_value(borrow=False)  # N.B. borrow default is False
    v_true = s.get_value(borrow=True)
    v_internal = s.get_value(borrow=True, return_internal_type=True)
    assert not np.shares_memory(v_false, v_true) and isinstance(v_internal, np.ndarray)

    def some_inplace_fn(v):
        v *= 3
        return v

    s.set_value(some_inplace_fn(s.get_value(borrow=True)), borrow=True)
    np.testing.assert_array_equal(s.get_value(), [6.0, 6.0])

    x = pt.matrix()
    y = 2 * x
    f = pytensor.function([In(x, borrow=True)], pytensor.Out(y, borrow=True))
    np.testing.assert_array_equal(f(np.ones((2, 2), dtype=pytensor.config.floatX)), np.full((2, 2), 2.0))


# -- PyTensor: library/scan.rst ("scan -- Looping in PyTensor") ------------------------------------
@pytest.mark.usefixtures("py_linker")
def test_scan_guide_power_accumulation_and_positions() -> None:
    k = pt.iscalar("k")
    A = pt.vector("A")
    result, updates = pytensor.scan(
        fn=lambda prior_result, A: prior_result * A, outputs_info=pt.ones_like(A), non_sequences=A, n_steps=k
    )
    final_result = result[-1]
    power = pytensor.function(inputs=[A, k], outputs=final_result, updates=updates)
    np.testing.assert_array_equal(power(range(10), 4), np.arange(10.0) ** 4)

    up_to = pt.iscalar("up_to")

    def accumulate_by_adding(arange_val, sum_to_date):
        return sum_to_date + arange_val

    seq = pt.arange(up_to)
    outputs_info = pt.as_tensor_variable(np.asarray(0, seq.dtype))
    scan_result, scan_updates = pytensor.scan(
        fn=accumulate_by_adding, outputs_info=outputs_info, sequences=seq
    )
    triangular_sequence = pytensor.function(inputs=[up_to], outputs=scan_result)
    some_num = 15
    np.testing.assert_array_equal(triangular_sequence(some_num), [n * (n + 1) // 2 for n in range(some_num)])

    location = pt.imatrix("location")
    values = pt.vector("values")
    output_model = pt.matrix("output_model")

    def set_value_at_position(a_location, a_value, output_model):
        zeros = pt.zeros_like(output_model)
        zeros_subtensor = zeros[a_location[0], a_location[1]]
        return pt.set_subtensor(zeros_subtensor, a_value)

    result, updates = pytensor.scan(
        fn=set_value_at_position, outputs_info=None, sequences=[location, values], non_sequences=output_model
    )
    assign_values_at_positions = pytensor.function(inputs=[location, values, output_model], outputs=result)
    test_locations = np.asarray([[1, 1], [2, 3]], dtype=np.int32)
    test_values = np.asarray([42, 50], dtype=pytensor.config.floatX)
    test_output_model = np.zeros((5, 5), dtype=pytensor.config.floatX)
    want = np.zeros((2, 5, 5))
    want[0, 1, 1], want[1, 2, 3] = 42, 50
    np.testing.assert_array_equal(
        assign_values_at_positions(test_locations, test_values, test_output_model), want
    )


@pytest.mark.usefixtures("py_linker")
def test_scan_guide_gibbs_sampling_and_the_strict_flag() -> None:
    rng = np.random.default_rng(203940)
    W_values = rng.uniform(size=(2, 2))
    bvis_values = rng.uniform(size=(2,))
    bhid_values = rng.uniform(size=(2,))
    W = pytensor.shared(W_values)
    bvis = pytensor.shared(bvis_values)
    bhid = pytensor.shared(bhid_values)
    srng = pytensor.RandomStream(1234)  # pt.random.RandomStream

    def one_step(vsample):
        hmean = pt.sigmoid(pt.dot(vsample, W) + bhid)
        hsample = srng.binomial(1, hmean, size=hmean.shape)
        vmean = pt.sigmoid(pt.dot(hsample, W.T) + bvis)
        return srng.binomial(1, vmean, size=vsample.shape)

    sample = pt.lvector()
    values, updates = pytensor.scan(one_step, outputs_info=sample, n_steps=10)
    gibbs10 = pytensor.function([sample], values[-1], updates=updates)
    draws = np.array([gibbs10([0, 1]) for _ in range(20)])
    assert set(np.unique(draws)) <= {0, 1} and len({tuple(d) for d in draws}) > 1

    trng = pytensor.RandomStream(1234)  # pytensor.tensor.random.utils.RandomStream

    # OneStep, with explicit use of the shared variables (W, bvis, bhid)
    def OneStep(vsample, W, bvis, bhid):
        hmean = pt.sigmoid(pytensor.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean)
        vmean = pt.sigmoid(pytensor.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean, dtype=pytensor.config.floatX)

    sample = pytensor.tensor.vector()
    values, updates = pytensor.scan(
        fn=OneStep, outputs_info=sample, non_sequences=[W, bvis, bhid], n_steps=10
    )
    gibbs10 = pytensor.function([sample], values[-1], updates=updates)
    out = gibbs10(np.zeros(2, dtype=pytensor.config.floatX))
    assert out.dtype == pytensor.config.floatX and set(np.unique(out)) <= {0.0, 1.0}

    def OneStepImplicit(vsample):
        hmean = pt.sigmoid(pytensor.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean)
        vmean = pt.sigmoid(pytensor.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean, dtype=pytensor.config.floatX)

    # PyTensor raises MissingInputError; fncache a ValueError that names the fix
    # (it names one of the weights, never the stream's state)
    with pytest.raises(ValueError, match="strict=True and fn reads <shared float64"):
        pytensor.scan(OneStepImplicit, outputs_info=sample, n_steps=10, strict=True)
    values, updates = pytensor.scan(
        OneStep, outputs_info=sample, non_sequences=[W, bvis, bhid], n_steps=10, strict=True
    )


@pytest.mark.usefixtures("py_linker")
def test_scan_guide_the_updates_dictionary() -> None:
    a = pytensor.shared(1)
    values, updates = pytensor.scan(lambda: {a: a + 1}, n_steps=10)
    b = a + 1
    c = updates[a] + 1
    f = pytensor.function([], [b, c], updates=updates)
    assert a.get_value() == 1
    assert f() == [2, 12] and a.get_value() == 11
    assert f() == [12, 22] and a.get_value() == 21
    g = pytensor.function([], [b, c])
    assert g() == [22, 32] and g() == [22, 32] and a.get_value() == 21


@pytest.mark.usefixtures("py_linker")
def test_scan_guide_rnn_with_taps_and_until() -> None:
    def oneStep(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2, W_feedback, W_out):
        x_t = pt.tanh(
            pytensor.dot(x_tm1, W)
            + pytensor.dot(u_t, W_in_1)
            + pytensor.dot(u_tm4, W_in_2)
            + pytensor.dot(y_tm1, W_feedback)
        )
        y_t = pytensor.dot(x_tm3, W_out)
        return [x_t, y_t]

    W = pt.matrix()
    W_in_1 = pt.matrix()
    W_in_2 = pt.matrix()
    W_feedback = pt.matrix()
    W_out = pt.matrix()
    u = pt.matrix()  # it is a sequence of vectors
    x0 = pt.matrix()  # initial state of x has to be a matrix, since it has to cover x[-3]
    y0 = pt.vector()  # y0 is just a vector since scan has only to provide y[-1]
    ([x_vals, y_vals], updates) = pytensor.scan(
        fn=oneStep,
        sequences=dict(input=u, taps=[-4, -0]),
        outputs_info=[dict(initial=x0, taps=[-3, -1]), y0],
        non_sequences=[W, W_in_1, W_in_2, W_feedback, W_out],
        strict=True,
    )
    f = pytensor.function([u, x0, y0, W, W_in_1, W_in_2, W_feedback, W_out], [x_vals, y_vals])
    rng = np.random.default_rng(5)
    n_in, n_x, n_y, T_ = 2, 3, 2, 9
    fx = pytensor.config.floatX
    uv, x0v, y0v = rng.normal(size=(T_, n_in)), rng.normal(size=(3, n_x)), rng.normal(size=n_y)
    Wv, W1, W2 = rng.normal(size=(n_x, n_x)), rng.normal(size=(n_in, n_x)), rng.normal(size=(n_in, n_x))
    Wf, Wo = rng.normal(size=(n_y, n_x)), rng.normal(size=(n_x, n_y))
    args = [a.astype(fx) for a in (uv, x0v, y0v, Wv, W1, W2, Wf, Wo)]
    xs, ys = f(*args)
    # the same loop in numpy: u[0] is u[-4], so the loop starts at uvals[4]
    xh, yh = list(x0v), [y0v]
    for t in range(4, T_):
        xh.append(np.tanh(xh[-1] @ Wv + uv[t] @ W1 + uv[t - 4] @ W2 + yh[-1] @ Wf))
        yh.append(xh[-4] @ Wo)
    np.testing.assert_allclose(xs, xh[3:], rtol=1e-6)
    np.testing.assert_allclose(ys, yh[1:], rtol=1e-6)

    def power_of_2(previous_power, max_value):
        # pytensor.scan.utils.until
        return previous_power * 2, pytensor.until(previous_power * 2 > max_value)

    max_value = pt.scalar()
    values, _ = pytensor.scan(
        power_of_2, outputs_info=pt.constant(1.0), non_sequences=max_value, n_steps=1024
    )
    f = pytensor.function([max_value], values)
    np.testing.assert_array_equal(f(45), [2.0, 4.0, 8.0, 16.0, 32.0, 64.0])


# -- PyTensor: library/printing.rst and tutorial/printing_drawing.rst ------------------------------
def test_printing_print_op_pp_and_debugprint(capsys: pytest.CaptureFixture[str]) -> None:
    from fncache import printing

    x = pt.dvector()
    hello_world_op = printing.Print("hello world")
    printed_x = hello_world_op(x)
    f = function([x], printed_x)
    r = f([1, 2, 3])
    np.testing.assert_array_equal(r, [1.0, 2.0, 3.0])
    assert capsys.readouterr().out == "hello world __str__ = [1. 2. 3.]\n"

    x = pt.dscalar("x")
    y = x**2
    gy = pytensor.grad(y, x)
    assert "x" in pp(gy)  # print out the gradient prior to rewriting
    f = function([x], gy)
    text = pp(f.maker.fgraph.outputs[0])
    assert "x" in text and "2" in text and f(3.0) == 6.0
    pytensor.printing.debugprint(f.maker.fgraph.outputs[0])
    assert "x" in capsys.readouterr().out
    # x ** 2's gradient is built as 2 * x, too shallow to cut: a deeper one for `depth`
    gz = pytensor.grad(pt.tanh(x) ** 2 * x, x)
    full = pytensor.printing.debugprint(gz, file="str")
    shallow = pytensor.printing.debugprint(gz, depth=2, file="str")
    assert len(shallow.splitlines()) < len(full.splitlines())
    # the nodes left out are named by their output where a shown node reads them
    assert "= sub(" in full and "= sub(" not in shallow and "sub.0" in shallow
    with pytest.raises(TypeError, match="debugprint: depth must be an int"):
        pytensor.printing.debugprint(gy, depth="2")


@pytest.mark.usefixtures("py_linker")
def test_printing_drawing_the_logistic_regression(capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(2382)
    N = 40
    feats = 78
    D = (
        rng.standard_normal((N, feats)).astype(pytensor.config.floatX),
        rng.integers(size=N, low=0, high=2).astype(pytensor.config.floatX),
    )
    x = pt.matrix("x")
    y = pt.vector("y")
    w = pytensor.shared(rng.standard_normal(feats).astype(pytensor.config.floatX), name="w")
    b = pytensor.shared(np.asarray(0.0, dtype=pytensor.config.floatX), name="b")
    x.tag.test_value = D[0]
    y.tag.test_value = D[1]
    p_1 = 1 / (1 + pt.exp(-pt.dot(x, w) - b))  # Probability of having a one
    prediction = p_1 > 0.5  # The prediction that is done: 0 or 1
    xent = -y * pt.log(p_1) - (1 - y) * pt.log(1 - p_1)  # Cross-entropy
    cost = xent.mean() + 0.01 * (w**2).sum()  # The cost to optimize
    gw, gb = pt.grad(cost, [w, b])
    train = pytensor.function(
        inputs=[x, y],
        outputs=[prediction, xent],
        updates=[[w, w - 0.01 * gw], [b, b - 0.01 * gb]],
        name="train",
    )
    predict = pytensor.function(inputs=[x], outputs=prediction, name="predict")
    text = pytensor.printing.pprint(prediction)
    assert all(name in text for name in ("x", "w", "b", "exp", "0.5"))
    pytensor.printing.debugprint(prediction)
    pre = capsys.readouterr().out
    pytensor.printing.debugprint(predict)
    post = capsys.readouterr().out
    assert "exp" in pre and "x" in post and "w" in post
    train(D[0], D[1])
    np.testing.assert_array_equal(predict(D[0]), D[0] @ w.get_value() + b.get_value() > 0)


# -- PyTensor: library/tensor/basic.rst ("Basic Tensor Functionality") ------------------------------
def test_basic_tensor_creation_and_types() -> None:
    x = pt.fmatrix()
    assert x.type == pt.fmatrix and x.type is pt.fmatrix
    for x in [
        pt.scalar("myvar", dtype="int32"),
        pt.iscalar("myvar"),
        pt.tensor(dtype="int32", shape=(), name="myvar"),
        pt.TensorType(dtype="int32", shape=())("myvar"),  # pytensor.tensor.type.TensorType
    ]:
        assert (x.name, x.dtype, x.ndim) == ("myvar", "int32", 0)
    x = pt.dmatrix()  # creates one Variable with no name
    xyz = pt.dmatrix("xyz")  # creates one Variable with name 'xyz'
    assert x.name is None and xyz.name == "xyz"
    x, y, z = pt.dmatrices(3)
    assert (x.name, x.type) == (None, pt.dmatrix) and x is not y
    x, y, z = pt.dmatrices("x", "y", "z")
    assert (x.name, y.name, z.name) == ("x", "y", "z")

    dtensor8 = pt.TensorType(dtype="float64", shape=(None,) * 8)
    assert dtensor8().ndim == 8 and dtensor8("z").name == "z"
    my_dmatrix = pt.TensorType("float64", shape=(None,) * 2)
    assert my_dmatrix() is not None and my_dmatrix == pt.dmatrix
    middle_broadcaster = pt.TensorType("complex64", shape=(None, 1, None))
    assert middle_broadcaster.broadcastable == (False, True, False)

    x = pytensor.shared(np.random.default_rng(0).standard_normal((3, 4)))
    assert (x.ndim, x.dtype) == (2, "float64")
    x = pt.zmatrix()
    y = 3 + 0.2j * x.T
    assert y.dtype == "complex128" and y.ndim == 2


@pytest.mark.usefixtures("py_linker")
def test_basic_tensor_shaping_stacking_and_concatenation() -> None:
    tensor = pt.tensor3()  # pytensor.tensor.type.tensor3
    for axis, want in [(0, (True, False, False, False)), (1, (False, True, False, False))]:
        assert pt.shape_padaxis(tensor, axis=axis).broadcastable == want
    for axis in (3, -1):
        assert pt.shape_padaxis(tensor, axis=axis).broadcastable == (False, False, False, True)

    a, b, c = pt.scalar(), pt.scalar(), pt.scalar()
    x = pt.stack([a, b, c])
    assert x.ndim == 1  # x is a vector of length 3.
    a, b, c = pt.tensor4(), pt.tensor4(), pt.tensor4()
    x = pt.stack([a, b, c])
    assert x.ndim == 5  # x is a 5d tensor.
    zeros = {t: np.zeros((2, 2, 2, 2), dtype=pytensor.config.floatX) for t in [a, b, c]}
    rval = x.eval(zeros)
    assert rval.shape == (3, 2, 2, 2, 2)  # 3 tensors are stacked on axis 0
    x = pt.stack([a, b, c], axis=3)
    assert x.ndim == 5 and x.eval(zeros).shape == (2, 2, 2, 3, 2)
    x = pt.stack([a, b, c], axis=-2)
    assert x.ndim == 5 and x.eval(zeros).shape == (2, 2, 2, 3, 2)
    x0, x1, x2 = pt.scalar(), pt.scalar(), pt.scalar()
    with pytest.warns(DeprecationWarning):  # the deprecated form the page shows
        x = pt.stack(x0, x1, x2)
    assert x.ndim == 1  # x is a vector of length 3.

    x0 = pt.fmatrix()
    x1 = pt.ftensor3()
    x2 = pt.fvector()
    x = pt.concatenate([x0, x1[0], pt.shape_padright(x2)], axis=1)
    assert x.ndim == 2

    a, b, c, d = pt.scalars("abcd")
    X = pt.stacklists([[a, b], [c, d]])
    f = function([a, b, c, d], X)
    np.testing.assert_array_equal(f(1, 2, 3, 4), [[1.0, 2.0], [3.0, 4.0]])
    a, b, c, d = pt.matrices("abcd")
    X = pt.stacklists([[a, b], [c, d]])
    f = function([a, b, c, d], X)
    x = np.ones((4, 4), pytensor.config.floatX)
    assert f(x, x, x, x).shape == (2, 2, 4, 4)


@pytest.mark.usefixtures("py_linker")
def test_basic_tensor_operators_casting_comparisons_and_dot() -> None:
    a, b = pt.itensor3(), pt.itensor3()  # example inputs
    rng = np.random.default_rng(1)
    av, bv = rng.integers(1, 9, (2, 2, 2)).astype("int32"), rng.integers(1, 9, (2, 2, 2)).astype("int32")
    cases = [
        (a + 3, av + 3),
        (3 - a, 3 - av),
        (a * 3.5, av * 3.5),
        (2.2 / a, 2.2 / av),
        (2.2 // a, 2.2 // av),
        (2.2**a, 2.2**av),
        (b % a, bv % av),
        (a & b, av & bv),
        (a ^ 1, av ^ 1),
        (a | b, av | bv),
        (~a, ~av),
    ]
    f = function([a, b], [e for e, _ in cases])
    for got, (_, want) in zip(f(av, bv), cases):
        np.testing.assert_allclose(got, want, rtol=1e-6)

    x = pt.matrix()
    x_as_int = pt.cast(x, "int32")
    assert x_as_int.dtype == "int32"
    x, y = pt.dmatrices("x", "y")
    z = pt.le(x, y)
    a, b = pt.dmatrices("a", "b")
    sw = pt.switch(pt.lt(a, b), x, y)
    xi, yi = pt.imatrices("x", "y")
    z_and = xi & yi
    f = function([x, y, a, b, xi, yi], [z, sw, z_and])
    m = rng.normal(size=(2, 3))
    n = rng.normal(size=(2, 3))
    i, j = rng.integers(0, 8, (2, 3)).astype("int32"), rng.integers(0, 8, (2, 3)).astype("int32")
    got_le, got_sw, got_and = f(m, n, n, m, i, j)
    np.testing.assert_array_equal(got_le, m <= n)
    np.testing.assert_array_equal(got_sw, np.where(n < m, m, n))
    np.testing.assert_array_equal(got_and, i & j)

    at, bt = pt.tensor3("a"), pt.tensor4("b")
    av = rng.random((2, 3, 4)).astype(pytensor.config.floatX)
    bv = rng.random((5, 6, 4, 3)).astype(pytensor.config.floatX)
    c = pt.tensordot(at, bt, [[1, 2], [3, 2]])
    np.testing.assert_allclose(c.eval({at: av, bt: bv}), np.tensordot(av, bv, [[1, 2], [3, 2]]), rtol=1e-6)
    c = pt.tensordot(at, bt, 0)
    assert c.eval({at: av, bt: bv}).shape == (2, 3, 4, 5, 6, 4, 3)

    first = pt.tensor3("first")
    second = pt.tensor3("second")
    result = pt.batched_dot(first, second)
    fv, sv = rng.random((3, 2, 4)), rng.random((3, 4, 5))
    np.testing.assert_allclose(
        result.eval({first: fv, second: sv}), np.einsum("bij,bjk->bik", fv, sv), rtol=1e-6
    )


# -- PyTensor: library/compile/io.rst ("io - defines pytensor.function") ---------------------------
@pytest.mark.usefixtures("py_linker")
def test_io_values_updates_and_the_function_as_a_dict() -> None:
    u, x, s = pt.scalars("u", "x", "s")
    inc = function([u, In(x, value=3), In(s, update=(s + x * u), value=10.0)], [])
    assert inc(5) == []  # update s with 10+3*5
    assert inc[s] == 25.0
    assert inc(3, 4) == []  # update s with 25 + 3*4
    assert inc[s] == 37.0
    assert inc[x] == 3.0  # the override value of 4 was only temporary
    inc[x] = 1  # a new default for the calls that follow
    inc(5)
    assert inc[s] == 42.0 and inc["x"] == 1.0
    inc[x] = 3
    with pytest.raises(KeyError, match=r"keeps no input u.*they are \['s', 'x'\]"):
        inc[u]
    assert inc(3, 4, 7) == []  # update s with 7 + 3*4
    assert inc[s] == 19.0
    inc[s] = 10
    assert inc[s] == 10.0


@pytest.mark.usefixtures("py_linker")
def test_io_input_shortcuts_and_containers() -> None:
    a, b, c = pt.scalars("xys")  # set the internal names of graph nodes
    # Note that the name of c is 's', not 'c'!
    fn = function([a, b, ((c, c + a + b), 10.0)], [])
    # the page's fn.data[c] and fn.container[c].data (PyTensor's containers) are fn[c] here
    assert fn["s"] == fn[c] == 10.0
    assert fn(1, 2) == [] and fn["s"] == 13.0
    fn["s"] = 99.0
    fn(1, 0)
    assert fn["s"] == 100.0
    fn[c] = 99.0
    fn(1, 0)
    assert fn["s"] == 100.0 == fn[c]
    with pytest.raises(TypeError, match=r"input 2 is the tuple .*; an input tuple is one of"):
        function([a, b, (c, c + a + b, 10.0, 1)], [])
    with pytest.raises(TypeError, match=r"input 0 is the tuple .*; an input tuple is one of"):
        function([((c, c + 1),)], [])

    x = pt.scalar()
    y = pt.scalar("y")
    z = pt.scalar("z")
    w = pt.scalar("w")
    fn = pytensor.function(inputs=[x, y, In(z, value=42), ((w, w + x), 0)], outputs=x + y + z)
    with pytest.raises(TypeError, match="y"):
        fn(1)  # illegal because there are two required arguments
    assert fn(1, 2) == 45.0  # legal, z is 42, w goes 0 -> 1 (because w <- w + x)
    assert fn(1, y=2) == 45.0  # legal, z is 42, w goes 1 -> 2
    with pytest.raises(TypeError):
        fn(x=1, y=2)  # illegal because x was not named
    assert fn(1, 2, 3) == 6.0  # legal, z is 3, w goes 2 -> 3
    assert fn(1, z=3, y=2) == 6.0  # legal, z is 3, w goes 3 -> 4
    assert fn(1, 2, w=400) == 45.0  # legal, z is 42 again, w goes 400 -> 401
    assert fn(1, 2) == 45.0  # legal, z is 42, w goes 401 -> 402
    assert fn["w"] == 402.0


@pytest.mark.usefixtures("py_linker")
def test_io_outputs() -> None:
    x, y, s = pt.matrices("xys")
    two = np.asarray([[2.0, 0.0], [0.0, 2.0]])
    fn1 = pytensor.function([x], [x + x, pytensor.Out((x + x).T, borrow=True)])
    got = fn1(np.asarray([[1, 0], [0, 1]]))
    assert isinstance(got, list) and len(got) == 2
    np.testing.assert_array_equal(got[0], two)
    np.testing.assert_array_equal(got[1], two)
    fn2 = pytensor.function([x], [x + x])
    got = fn2(np.asarray([[1, 0], [0, 1]]))
    assert isinstance(got, list) and len(got) == 1
    np.testing.assert_array_equal(got[0], two)
    fn3 = pytensor.function([x], outputs=x + x)
    np.testing.assert_array_equal(fn3(np.asarray([[1, 0], [0, 1]])), two)


# -- PyTensor: library/compile/nanguardmode.rst ---------------------------------------------------
def test_nanguardmode_finds_the_infinity() -> None:
    from fncache.compile.nanguardmode import NanGuardMode

    x = pt.matrix()
    w = pytensor.shared(np.random.default_rng(0).standard_normal((5, 7)).astype(pytensor.config.floatX))
    y = pt.dot(x, w)
    fun = pytensor.function(
        [x], y, mode=NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True)
    )
    with np.errstate(over="ignore"):
        infa = np.tile((np.asarray(100.0) ** 1000000).astype(pytensor.config.floatX), (3, 5))
    with pytest.raises(AssertionError):
        fun(infa)
    assert fun(np.ones((3, 5), dtype=pytensor.config.floatX)).shape == (3, 7)


# -- PyTensor: library/compile/function.rst and debugmode.rst --------------------------------------
def test_function_guide_and_debug_mode() -> None:
    from fncache.compile.debugmode import DebugMode

    x = pytensor.tensor.dscalar()
    f = pytensor.function([x], 2 * x)
    assert f(4) == 8.0

    x = pt.dscalar("x")
    f = pytensor.function([x], 10 * x, mode="DebugMode")
    assert (f(5), f(0), f(7)) == (50.0, 0.0, 70.0)
    f = pytensor.function([x], 10 * x, mode=DebugMode(check_c_code=False))
    assert f(5) == 50.0

    # no_default_updates: True, or the shared variables to leave alone
    srng = pytensor.RandomStream(3)
    u, n = srng.uniform(size=(2,)), srng.normal(size=(2,))
    g = pytensor.function([], [u, n], no_default_updates=[u.rng], mode=pytensor.Mode(linker="py"))
    (u0, n0), (u1, n1) = g(), g()
    np.testing.assert_array_equal(u0, u1)
    assert not np.array_equal(n0, n1)


# -- Theano: library/tensor/nnet/nnet.txt ("nnet -- Ops for neural networks") -----------------------
@pytest.mark.usefixtures("py_linker")
def test_theano_nnet_page_examples() -> None:
    rng = np.random.default_rng(11)
    xv, bv, Wv = rng.random(3), rng.normal(size=4), rng.normal(size=(4, 3))
    Vv, cv = rng.normal(size=(3, 4)), rng.normal(size=3)

    def sig(z):
        return 1 / (1 + np.exp(-z))

    x, y, b = T.dvectors("x", "y", "b")
    W = T.dmatrix("W")
    y = T.nnet.sigmoid(T.dot(W, x) + b)
    np.testing.assert_allclose(y.eval({W: Wv, x: xv, b: bv}), sig(Wv @ xv + bv), rtol=1e-12)
    y = T.nnet.softplus(T.dot(W, x) + b)
    np.testing.assert_allclose(y.eval({W: Wv, x: xv, b: bv}), np.log1p(np.exp(Wv @ xv + bv)), rtol=1e-12)
    y = T.nnet.softmax(T.dot(W, x) + b)
    z = Wv @ xv + bv
    np.testing.assert_allclose(
        np.ravel(y.eval({W: Wv, x: xv, b: bv})), np.exp(z) / np.exp(z).sum(), rtol=1e-12
    )

    # the auto-associator (the page leaves V and c to the reader)
    V, c = T.dmatrix("V"), T.dvector("c")
    h = T.nnet.sigmoid(T.dot(W, x) + b)
    x_recons = T.nnet.sigmoid(T.dot(V, h) + c)
    recon_cost = T.nnet.binary_crossentropy(x_recons, x).mean()
    r = sig(Vv @ sig(Wv @ xv + bv) + cv)
    want = np.mean(-(xv * np.log(r) + (1 - xv) * np.log(1 - r)))
    got = recon_cost.eval({W: Wv, x: xv, b: bv, V: Vv, c: cv})
    np.testing.assert_allclose(got, want, rtol=1e-12)

    # categorical_crossentropy of a softmax, against one-hot rows and against class indices
    Xv, Bv = rng.normal(size=(5, 3)), rng.normal(size=4)
    X, B = T.dmatrix("X"), T.dvector("B")
    y = T.nnet.softmax(T.dot(X, W.T) + B)
    labels = np.array([0, 3, 1, 1, 2])
    Z = Xv @ Wv.T + Bv
    P = np.exp(Z - Z.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    want = -np.log(P[np.arange(5), labels])
    o = T.ivector("o")
    cost = T.nnet.categorical_crossentropy(y, o)
    np.testing.assert_allclose(cost.eval({X: Xv, W: Wv, B: Bv, o: labels.astype("int32")}), want, rtol=1e-10)
    o2 = T.dmatrix("o2")
    cost = T.nnet.categorical_crossentropy(y, o2)
    np.testing.assert_allclose(cost.eval({X: Xv, W: Wv, B: Bv, o2: np.eye(4)[labels]}), want, rtol=1e-10)


# -- Theano: library/tensor/basic.txt (what PyTensor's page does not show) ---------------------------
@pytest.mark.usefixtures("py_linker")
def test_theano_basic_mask_indexing_and_grids() -> None:
    n = np.arange(9).reshape(3, 3)
    t = theano.tensor.arange(9).reshape((3, 3))
    # Theano refused a mask (it had no bool dtype); fncache's comparisons are bool and index as
    # numpy's masks do, and the page's nonzero() spelling gives the same
    np.testing.assert_array_equal(t[t > 4].eval(), n[n > 4])
    np.testing.assert_array_equal(t[(t > 4).nonzero()].eval(), [5, 6, 7, 8])

    a = T.mgrid[0:5, 0:3]
    np.testing.assert_array_equal(a[0].eval(), [[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]])
    np.testing.assert_array_equal(a[1].eval(), [[0, 1, 2]] * 5)
    b = T.ogrid[0:5, 0:3]
    np.testing.assert_array_equal(b[0].eval(), [[0], [1], [2], [3], [4]])
    np.testing.assert_array_equal(b[1].eval(), [[0, 1, 2]])


# -- Theano: library/tensor/nnet/neighbours.txt ---------------------------------------------------
@pytest.mark.usefixtures("py_linker")
def test_theano_neighbours_images2neibs_and_back() -> None:
    # theano.tensor.nnet.neighbours is fncache.tensor.nnet
    images2neibs, neibs2images = T.nnet.images2neibs, T.nnet.neibs2images

    images = T.tensor4("images")
    neibs = images2neibs(images, neib_shape=(5, 5))
    window_function = theano.function([images], neibs)
    im_val = np.arange(100.0).reshape((1, 1, 10, 10))
    neibs_val = window_function(im_val)
    # disjoint 5x5 patches: the output is 4x25, each row one patch flattened
    assert neibs_val.shape == (4, 25)
    np.testing.assert_array_equal(neibs_val[1], im_val[0, 0, 0:5, 5:10].ravel())
    np.testing.assert_array_equal(neibs_val[2], im_val[0, 0, 5:10, 0:5].ravel())

    im_new = neibs2images(neibs, (5, 5), im_val.shape)
    inv_window = theano.function([neibs], im_new)
    np.testing.assert_array_equal(inv_window(neibs_val), im_val)  # the initial image array


def test_a_computed_variable_as_an_input_cuts_the_graph_there() -> None:
    x = T.dvector("x")
    y = (x * 2).sum()
    y.name = "y"
    z = y + 1
    f = theano.function([y], z)  # under the C linker: the value given for y is used as is
    assert f(10.0) == 11.0 and f(y=3.0) == 4.0
    g = theano.function([x, theano.In(y, value=5.0)], z * x, mode=theano.Mode(linker="py"))
    np.testing.assert_array_equal(g([1.0, 2.0]), [6.0, 12.0])
    np.testing.assert_array_equal(g([1.0, 2.0], 0.0), [1.0, 2.0])
    with pytest.raises(ValueError, match="depend on variables that are not inputs.*x"):
        theano.function([y], z + x.sum())
    with pytest.raises(ValueError, match=r"input 1 \(y\) is listed twice"):
        theano.function([y, y], z)
    with pytest.raises(ValueError, match="givens: y is an input of the function"):
        theano.function([y], z, givens={y: T.constant(1.0)})


# -- PyTensor: extending/graphstructures.rst ("Graph Structures") ----------------------------------
def test_graph_structures_traversal(capsys: pytest.CaptureFixture[str]) -> None:
    x = pt.dmatrix("x")
    y = pt.dmatrix("y")
    z = x + y
    assert x.owner is None and y.owner is None and z.owner.inputs == [x, y]
    assert z.owner.outputs[z.index] is z

    x = pytensor.tensor.dmatrix("x")
    y = x * 2.0
    assert isinstance(y.owner, pytensor.Apply)
    assert "mul" in str(y.owner.op)
    assert len(y.owner.inputs) == 2
    assert y.owner.inputs[0] is x
    two = y.owner.inputs[1]
    # PyTensor broadcasts the 2 with a DimShuffle; fncache keeps the scalar constant, which
    # Elemwise broadcasts itself
    root = two if two.owner is None else two.owner.inputs[0]
    assert isinstance(root, pytensor.graph.Constant) and float(root.data) == 2.0
    pytensor.dprint(y)
    assert "x" in capsys.readouterr().out

    assert pt.irow().type == pt.TensorType("int32", shape=(1, None))
    x = pytensor.tensor.ivector()
    y = -x
    assert x.type == y.type == pt.ivector and y.owner is not None

    a = pytensor.tensor.vector("a")  # declare symbolic variable
    b = a + a**10  # build symbolic expression
    f = pytensor.function([a], b)  # compile function
    np.testing.assert_array_equal(f([0, 1, 2]), [0.0, 2.0, 1026.0])


# -- PyTensor: extending/creating_an_op.rst ("Creating a new Op: Python implementation") -----------
class DoubleOp1(pytensor.Op):
    __props__ = ()

    def make_node(self, x):
        # Convert (and require) x to be a TensorVariable
        x = pt.as_tensor_variable(x)
        # Validate input type
        if not (x.type.ndim == 2 and x.type.dtype == "float64"):
            raise TypeError("x must be a float64 matrix")
        # Create an output variable of the same type as x
        z = x.type()
        return pytensor.Apply(self, [x], [z])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        # Numerical output based on numerical inputs (i.e., numpy arrays)
        z[0] = x * 2

    def infer_shape(self, fgraph, node, input_shapes):
        # The output shape is the same as the input shape
        return input_shapes

    def L_op(self, inputs, outputs, output_grads):
        # Symbolic expression for the gradient
        return [output_grads[0] * 2]

    def R_op(self, inputs, eval_points):
        # R_op can receive None as eval_points.
        if eval_points[0] is None:
            return None
        # For this Op, the R_op is the same as the L_op
        outputs = self(inputs)
        return self.L_op(inputs, outputs, eval_points)


@pytest.mark.usefixtures("py_linker")
def test_creating_an_op_double_op1(capsys: pytest.CaptureFixture[str]) -> None:
    from fncache.gradient import verify_grad

    doubleOp1 = DoubleOp1()
    x = pt.matrix("x", dtype="float64")
    out = doubleOp1(x)
    assert out.type == x.type
    fn = function([x], out)
    x_np = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_allclose(x_np * 2, fn(x_np))

    out_shape = out.shape
    shape_fn = function([x], out_shape)
    assert tuple(shape_fn(x_np)) == x_np.shape
    # PyTensor's shape_fn no longer runs the Op (its infer_shape answers); fncache's runs it
    # and takes the shape of its value (docs/porting.md, "What differs")
    shape_fn.dprint()
    assert "DoubleOp1" in capsys.readouterr().out

    rng = np.random.default_rng(42)
    test_x = rng.normal(size=(5, 4))
    # Raises if the gradient output is sufficiently different from the finite difference approximation.
    verify_grad(doubleOp1, [test_x], rng=rng)

    v = pt.matrix("v", dtype="float64")
    rop = pytensor.gradient.Rop(out, x, v)
    np.testing.assert_allclose(rop.eval({x: x_np, v: x_np}), 2 * x_np)
    with pytest.raises(TypeError, match="x must be a float64 matrix"):
        doubleOp1(pt.fmatrix())


class DoubleOp2(pytensor.Op):
    __props__ = ()

    # inputs and output types must be float64 matrices
    itypes = [pt.dmatrix]
    otypes = [pt.dmatrix]

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        z[0] = x * 2


class AXPBOp(pytensor.Op):
    """This creates an Op that takes x to a*x+b."""

    __props__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b
        super().__init__()

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return pytensor.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        z[0] = self.a * x + self.b


class TransposeAndSumOp(pytensor.Op):
    __props__ = ()

    def make_node(self, x, y):
        # Convert to TensorVariables (and fail if not possible)
        x = pt.as_tensor_variable(x)
        y = pt.as_tensor_variable(y)
        # Validate inputs dimensions
        if x.type.ndim < 2:
            raise TypeError("x must be at least a matrix")
        if y.type.ndim < 1:
            raise TypeError("y must be at least a vector")
        # Create output variables
        out1_static_shape = (*x.type.shape[:-2], x.type.shape[-1], x.type.shape[-2])
        out1_dtype = x.type.dtype
        out1 = pt.tensor(dtype=out1_dtype, shape=out1_static_shape)
        out2_static_shape = y.type.shape[:-1]
        out2_dtype = "float64"  # hard-coded regardless of the input
        out2 = pt.tensor(dtype=out2_dtype, shape=out2_static_shape)
        return pytensor.Apply(self, [x, y], [out1, out2])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        out_1, out_2 = output_storage
        out_1[0] = np.swapaxes(x, -1, -2)
        out_2[0] = y.sum(-1).astype("float64")

    def infer_shape(self, fgraph, node, input_shapes):
        x_shapes, y_shapes = input_shapes
        out1_shape = (*x_shapes[:-2], x_shapes[-1], x_shapes[-2])
        out2_shape = y_shapes[:-1]
        return [out1_shape, out2_shape]

    def L_op(self, inputs, outputs, output_grads):
        from fncache.gradient import DisconnectedType

        x, y = inputs
        out1_grad, out2_grad = output_grads
        if isinstance(out1_grad.type, DisconnectedType):
            x_grad = DisconnectedType()()
        else:
            # Transpose the last two dimensions of the output gradient
            x_grad = pt.swapaxes(out1_grad, -1, -2)
        if isinstance(out2_grad.type, DisconnectedType):
            y_grad = DisconnectedType()()
        else:
            # Broadcast the output gradient to the same shape as y
            y_grad = pt.broadcast_to(pt.expand_dims(out2_grad, -1), y.shape)
        return [x_grad, y_grad]


@pytest.mark.usefixtures("py_linker")
def test_creating_an_op_itypes_props_and_a_two_output_op() -> None:
    from fncache.gradient import verify_grad

    doubleOp2 = DoubleOp2()
    x = pt.dmatrix("x")
    np.testing.assert_array_equal(function([x], doubleOp2(x))(np.ones((2, 3))), np.full((2, 3), 2.0))

    mult4plus5op = AXPBOp(4, 5)
    another_mult4plus5op = AXPBOp(4, 5)
    mult2plus3op = AXPBOp(2, 3)
    assert mult4plus5op == another_mult4plus5op
    assert mult4plus5op != mult2plus3op
    x = pt.matrix("x", dtype="float32")
    f = function([x], mult4plus5op(x))
    g = function([x], mult2plus3op(x))
    inp = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(4 * inp + 5, f(inp))
    np.testing.assert_allclose(2 * inp + 3, g(inp))
    # the page merges equal applications with rewrite_graph (PyTensor's rewriting API, which
    # fncache does not provide); the compiled function merges them the same way
    graph = mult4plus5op(x) + another_mult4plus5op(x) + mult2plus3op(x)
    h = function([x], graph)
    ops = [n.op for n in h.maker.fgraph.toposort() if isinstance(n.op, AXPBOp)]
    assert sorted((op.a, op.b) for op in ops) == [(2, 3), (4, 5)]
    np.testing.assert_allclose(h(inp), 2 * (4 * inp + 5) + 2 * inp + 3, rtol=1e-6)

    transpose_and_sum_op = TransposeAndSumOp()
    x = pt.tensor("x", shape=(5, None, 3), dtype="float32")
    y = pt.matrix("y", shape=(2, 1), dtype="float32")
    x_np = np.random.default_rng(1).normal(size=(5, 4, 3)).astype(np.float32)
    y_np = np.random.default_rng(2).normal(size=(2, 1)).astype(np.float32)
    out1, out2 = transpose_and_sum_op(x, y)
    assert out1.type.shape == (5, 3, None) and out1.type.dtype == "float32"
    assert out2.type.shape == (2,) and out2.type.dtype == "float64"
    f = function([x, y], [out1, out2])
    out1_np, out2_np = f(x_np, y_np)
    np.testing.assert_allclose(out1_np, x_np.swapaxes(-1, -2))
    np.testing.assert_allclose(out2_np, y_np.sum(-1))
    shape_fn = function([x, y], [out1.shape, out2.shape])
    out1_shape_np, out2_shape_np = shape_fn(x_np, y_np)
    assert tuple(out1_shape_np) == out1_np.shape and tuple(out2_shape_np) == out2_np.shape

    def both_outs_connected(x, y):
        out1, out2 = transpose_and_sum_op(x, y)
        return out1.sum() + out2.sum()

    def only_out1_connected(x, y):
        out1, _ = transpose_and_sum_op(x, y)
        return out1.sum()

    def only_out2_connected(x, y):
        _, out2 = transpose_and_sum_op(x, y)
        return out2.sum()

    rng = np.random.default_rng(seed=37)
    x_np = rng.random((5, 4, 3)).astype(np.float32)
    y_np = rng.random((2, 1)).astype(np.float32)
    verify_grad(both_outs_connected, [x_np, y_np], rng=rng)
    verify_grad(only_out1_connected, [x_np, y_np], rng=rng)
    verify_grad(only_out2_connected, [x_np, y_np], rng=rng)


class FirstOfTwo(pytensor.Op):
    """x, reading y only to be given it: its L_op says y's gradient is disconnected."""

    __props__ = ()

    def make_node(self, x, y):
        x, y = pt.as_tensor_variable(x), pt.as_tensor_variable(y)
        return pytensor.Apply(self, [x, y], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0].copy()

    def L_op(self, inputs, outputs, output_grads):
        from fncache.gradient import DisconnectedType

        return [output_grads[0], DisconnectedType()()]


def test_a_disconnected_type_returned_by_an_l_op_means_no_gradient() -> None:
    x, y = pt.dvector("x"), pt.dvector("y")
    cost = FirstOfTwo()(x, y).sum()
    gx = pytensor.grad(cost, x)
    np.testing.assert_array_equal(gx.eval({x: [1.0, 2.0], y: [3.0]}), [1.0, 1.0])
    # y is an input of the op, so it stays connected: no gradient through the op is zero
    # (PyTensor calls y disconnected and raises unless disconnected_inputs="ignore")
    gy = pytensor.grad(cost, y, disconnected_inputs="ignore")
    np.testing.assert_array_equal(gy.eval({y: [3.0]}), [0.0])
    np.testing.assert_array_equal(pytensor.grad(cost + y.sum(), y).eval({y: [3.0]}), [1.0])


# -- PyTensor: tutorial/broadcasting.rst ("Broadcasting") -----------------------------------------
@pytest.mark.usefixtures("py_linker")
def test_broadcasting_static_and_run_time() -> None:
    x_matrix = pt.matrix("x_matrix")
    assert x_matrix.type.shape == (None, None)
    y_col = pt.col("y_col")
    assert y_col.type.shape == (None, 1)
    out = x_matrix + y_col
    fn = pytensor.function([x_matrix, y_col], out)
    X = np.arange(9).reshape(3, 3)
    Y = np.arange(3).reshape(3, 1)
    np.testing.assert_array_equal(fn(X, Y), [[0.0, 1.0, 2.0], [4.0, 5.0, 6.0], [8.0, 9.0, 10.0]])

    x_matrix = pt.matrix("x_matrix")
    y_matrix = pt.matrix("y_matrix")
    out = x_matrix + y_matrix
    fn = pytensor.function([x_matrix, y_matrix], out)
    # PyTensor raises here ("Incompatible vectorized shapes"); fncache broadcasts a size 1
    # found when the function runs, as numpy does (docs/porting.md, "What differs")
    np.testing.assert_array_equal(fn(np.zeros((3, 3)), np.ones((3, 1))), np.ones((3, 3)))
    with pytest.raises(ValueError):
        fn(np.zeros((3, 3)), np.zeros((3, 2)))
    assert fn(np.zeros((3, 3)), np.zeros((3, 3))).shape == (3, 3)
    assert fn(np.zeros((3, 1)), np.zeros((3, 1))).shape == (3, 1)

    zeros = np.zeros((3, 3))
    x_matrix = pt.matrix("x_matrix")
    y_col = pt.matrix("y_col", shape=(None, 1))
    fn = pytensor.function([x_matrix, y_col], x_matrix + y_col)
    np.testing.assert_array_equal(fn(np.zeros((3, 3)), np.zeros((3, 1))), zeros)
    y_matrix = pt.matrix("y_matrix")
    fn = pytensor.function([x_matrix, y_matrix], x_matrix + pt.specify_shape(y_matrix, (None, 1)))
    np.testing.assert_array_equal(fn(np.zeros((3, 3)), np.zeros((3, 1))), zeros)
    y_vector = pt.vector("y_vector")
    fn = pytensor.function([x_matrix, y_vector], x_matrix + pt.expand_dims(y_vector, 1))
    np.testing.assert_array_equal(fn(np.zeros((3, 3)), np.zeros(3)), zeros)

    n = pt.scalar("n", dtype="int64")
    assert pt.full((n,), 0.0).type.shape == (None,)
    assert pt.full((1,), 0.0).type.shape == (1,)
    assert pt.constant(np.zeros((3, 1))).type.shape == (3, 1)
    value = np.zeros((3, 1))
    assert pytensor.shared(value).type.shape == (None, None)
    assert pytensor.shared(value, shape=(None, 1)).type.shape == (None, 1)


# -- PyTensor: tutorial/profiling.rst ("Profiling PyTensor function") ------------------------------
@pytest.mark.usefixtures("py_linker")
def test_profiling_one_function_and_a_shared_profile() -> None:
    x = pt.dvector("x")
    f = pytensor.function([x], pt.exp(x) * 2, profile=True)
    f(np.ones(3))
    text = f.profile.summary()
    assert text is None or isinstance(text, str)
    profile = pytensor.compile.profiling.ProfileStats()  # pytensor.compile.debug.profiling
    f = pytensor.function([x], x + 1, profile=profile)
    g = pytensor.function([x], x * 3, profile=profile)
    f(np.ones(2))
    g(np.ones(2))
    g(np.ones(2))
    assert profile.fct_callcount == 3
    profile.summary()


# -- Theano: tutorial/conv_arithmetic.txt ("Convolution arithmetic tutorial") ----------------------
def _np_conv2d(img: np.ndarray, kern: np.ndarray, pad: int, stride: int) -> np.ndarray:
    """One image, one kernel: Theano's conv2d (the kernel flipped), zero padded, strided."""
    x = np.pad(img, pad)
    k = kern[::-1, ::-1]
    rows = (x.shape[0] - k.shape[0]) // stride + 1
    cols = (x.shape[1] - k.shape[1]) // stride + 1
    return np.array(
        [
            [np.sum(x[r * stride : r * stride + 3, c * stride : c * stride + 3] * k) for c in range(cols)]
            for r in range(rows)
        ]
    )


@pytest.mark.usefixtures("py_linker")
def test_conv_arithmetic_output_sizes_and_the_transposed_convolution() -> None:
    from fncache.tensor.nnet import abstract_conv

    input, filters = T.tensor4("input"), T.tensor4("filters")
    img = np.arange(25.0).reshape(1, 1, 5, 5)
    kern = np.array([[0.0, 1.0, 2.0], [2.0, 2.0, 0.0], [0.0, 1.0, 2.0]]).reshape(1, 1, 3, 3)
    output = theano.tensor.nnet.conv2d(
        input,
        filters,
        input_shape=(1, 1, 5, 5),
        filter_shape=(1, 1, 3, 3),
        border_mode=(1, 1),
        subsample=(2, 2),
    )
    got = output.eval({input: img, filters: kern})
    np.testing.assert_allclose(got[0, 0], _np_conv2d(img[0, 0], kern[0, 0], 1, 2))

    b, c1, c2, i1, i2, k1, k2 = 2, 3, 2, 7, 6, 3, 2
    rng = np.random.default_rng(3)
    xv, wv = rng.normal(size=(b, c2, i1, i2)), rng.normal(size=(c1, c2, k1, k2))
    p1, p2, s1, s2 = 2, 1, 2, 3
    cases = [
        ((0, 0), (1, 1), (i1 - k1 + 1, i2 - k2 + 1)),  # relationship 1
        ((p1, p2), (1, 1), (i1 - k1 + 2 * p1 + 1, i2 - k2 + 2 * p2 + 1)),  # relationship 2
        ("full", (1, 1), (i1 + k1 - 1, i2 + k2 - 1)),  # relationship 4
        ((0, 0), (s1, s2), ((i1 - k1) // s1 + 1, (i2 - k2) // s2 + 1)),  # relationship 5
        ((p1, p2), (s1, s2), ((i1 + 2 * p1 - k1) // s1 + 1, (i2 + 2 * p2 - k2) // s2 + 1)),  # relationship 6
    ]
    for border_mode, subsample, (o1, o2) in cases:
        output = theano.tensor.nnet.conv2d(
            input,
            filters,
            input_shape=(b, c2, i1, i2),
            filter_shape=(c1, c2, k1, k2),
            border_mode=border_mode,
            subsample=subsample,
        )
        assert output.eval({input: xv, filters: wv}).shape == (b, c1, o1, o2), (border_mode, subsample)
    # half padding keeps the size for an odd kernel (relationship 3)
    wodd = rng.normal(size=(c1, c2, 3, 5))
    output = theano.tensor.nnet.conv2d(
        input, filters, input_shape=(b, c2, i1, i2), filter_shape=(c1, c2, 3, 5), border_mode="half"
    )
    assert output.eval({input: xv, filters: wodd}).shape == (b, c1, i1, i2)

    # the transposed convolution is the gradient of the convolution with respect to its input
    out = T.tensor4("out")
    for border_mode, subsample, (o1, o2) in cases:
        back = abstract_conv.conv2d_grad_wrt_inputs(
            out,
            filters,
            input_shape=(b, c2, i1, i2),
            filter_shape=(c1, c2, k1, k2),
            border_mode=border_mode,
            subsample=subsample,
        )
        gv = rng.normal(size=(b, c1, o1, o2))
        forward = theano.tensor.nnet.conv2d(
            input,
            filters,
            input_shape=(b, c2, i1, i2),
            filter_shape=(c1, c2, k1, k2),
            border_mode=border_mode,
            subsample=subsample,
        )
        want = theano.grad((forward * out).sum(), input)
        np.testing.assert_allclose(
            back.eval({out: gv, filters: wv}), want.eval({input: xv, filters: wv, out: gv}), rtol=1e-10
        )


# -- PyTensor: tutorial/faq_tutorial.rst ("How to update a subset of weights?") -------------------
@pytest.mark.usefixtures("py_linker")
def test_faq_update_a_subset_of_weights() -> None:
    rng = np.random.default_rng(8)
    matrix_ndarray = rng.normal(size=(6, 3))
    lookup_table = pytensor.shared(matrix_ndarray)
    vector_of_indices = pt.ivector("idx")
    target = pt.dmatrix("target")
    lr = -0.1
    subset = lookup_table[vector_of_indices]
    cost = ((subset - target) ** 2).sum()  # something that depends on subset
    g = pytensor.grad(cost, subset)
    for updates in [pt.inc_subtensor(subset, g * lr), pt.set_subtensor(subset, subset + g * lr)]:
        lookup_table.set_value(matrix_ndarray)
        f = pytensor.function([vector_of_indices, target], cost, updates=[(lookup_table, updates)])
        idx, tv = np.array([4, 1], dtype="int32"), rng.normal(size=(2, 3))
        f(idx, tv)
        want = matrix_ndarray.copy()
        want[idx] += lr * 2 * (matrix_ndarray[idx] - tv)
        np.testing.assert_allclose(lookup_table.get_value(), want, rtol=1e-12)


# -- PyTensor: library/config.rst ("config -- PyTensor Configuration") ----------------------------
def test_config_prints_every_flag_and_takes_mode_named_mode() -> None:
    text = str(pytensor.config)  # python -c 'import pytensor; print(pytensor.config)'
    lines = text.splitlines()
    assert any(ln.startswith("floatX = 'float64'") for ln in lines) and any(
        ln.startswith("mode = ") for ln in lines
    )
    with pytensor.config.change_flags(remote_cache="redis://:hunter2@cachehost:6379/0"):
        shown = str(pytensor.config)
    assert "hunter2" not in shown and "redis://:***@cachehost:6379/0" in shown
    # PyTensor's and Theano's default mode is named 'Mode': FAST_RUN
    with pytensor.config.change_flags(mode="Mode"):
        assert pytensor.config.mode == "FAST_RUN"
    x = pt.dvector("x")
    assert pytensor.function([x], x * 2, mode="Mode").mode.optimizer == "fast_run"
    with pytest.raises(ValueError, match="expected FAST_RUN, FAST_COMPILE, Mode"):
        pytensor.config.mode = "FAST"


# -- PyTensor: tutorial/loading_and_saving.rst ("Loading and Saving") ------------------------------
def test_loading_and_saving_by_pickle(tmp_path) -> None:
    import pickle as cPickle  # the page's six.moves.cPickle

    x = pt.dvector("x")
    w = pytensor.shared(np.arange(3.0), name="w")
    my_obj = pytensor.function([x], x * w, updates=[(w, w + 1)], mode=pytensor.Mode(linker="py"))
    with open(tmp_path / "obj.save", "wb") as f:
        cPickle.dump(my_obj, f, protocol=cPickle.HIGHEST_PROTOCOL)
    with open(tmp_path / "obj.save", "rb") as f:
        loaded_obj = cPickle.load(f)
    np.testing.assert_array_equal(loaded_obj(np.ones(3)), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(loaded_obj(np.ones(3)), [1.0, 2.0, 3.0])  # its own w moved on
    np.testing.assert_array_equal(w.get_value(), [0.0, 1.0, 2.0])

    obj1, obj2, obj3 = w, x * 2, my_obj
    with open(tmp_path / "objects.save", "wb") as f:
        for obj in [obj1, obj2, obj3]:
            cPickle.dump(obj, f, protocol=cPickle.HIGHEST_PROTOCOL)
    loaded_objects = []
    with open(tmp_path / "objects.save", "rb") as f:
        for _ in range(3):
            loaded_objects.append(cPickle.load(f))
    np.testing.assert_array_equal(loaded_objects[0].get_value(), [0.0, 1.0, 2.0])
    assert loaded_objects[1].ndim == 1
    np.testing.assert_array_equal(loaded_objects[2](np.ones(3)), [0.0, 1.0, 2.0])


# -- PyTensor: tutorial/examples.rst ("Using Random Numbers") --------------------------------------
@pytest.mark.usefixtures("py_linker")
def test_examples_using_random_numbers() -> None:
    rng = pt.random.shared_rng(seed=123)
    next_rng, rv_u = rng.uniform(0, 1, size=(2, 2))
    final_rng, rv_n = next_rng.normal(0, 1, size=(2, 2))
    f = pytensor.function([], [rv_u, rv_n], updates={rng: final_rng})
    (u0, n0), (u1, n1) = f(), f()
    assert ((0 <= u0) & (u0 < 1)).all() and not np.array_equal(u0, u1) and not np.array_equal(n0, n1)
    rng.set_value(np.random.default_rng(42))  # reseeding
    a = f()
    rng.set_value(seed=42)  # or equivalently
    for x, y in zip(a, f()):
        np.testing.assert_array_equal(x, y)


@pytest.mark.usefixtures("py_linker")
def test_examples_using_random_numbers_with_a_random_stream() -> None:
    # the same example with the stream PyTensor's older page used
    srng = pytensor.RandomStream(seed=123)
    rv_u = srng.uniform(0, 1, size=(2, 2))
    rv_n = srng.normal(0, 1, size=(2, 2))
    f = pytensor.function([], [rv_u, rv_n])
    (u0, n0), (u1, n1) = f(), f()
    assert ((0 <= u0) & (u0 < 1)).all() and not np.array_equal(u0, u1) and not np.array_equal(n0, n1)
    g = pytensor.function([], rv_n, no_default_updates=True)
    np.testing.assert_array_equal(g(), g())  # same numbers every call
    nearly_zeros = pytensor.function([], rv_u + rv_u - 2 * rv_u)
    np.testing.assert_allclose(nearly_zeros(), 0.0, atol=1e-15)
    srng.seed(42)  # reseeding: the same sequence as a new stream of that seed
    again = pytensor.RandomStream(seed=42)
    u2, n2 = again.uniform(0, 1, size=(2, 2)), again.normal(0, 1, size=(2, 2))
    h = pytensor.function([], [u2, n2])
    for a, b in zip(f(), h()):
        np.testing.assert_array_equal(a, b)


# -- Theano: tutorial/debug_faq.txt (what PyTensor's page does not show) -----------------------------
def test_theano_debug_faq_detect_nan_of_monitormode(capsys: pytest.CaptureFixture[str]) -> None:
    x = T.dscalar("x")
    f = theano.function(
        [x], [T.log(x) * x], mode=theano.compile.MonitorMode(post_func=theano.compile.monitormode.detect_nan)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        f(0)  # log(0) * 0 = -inf * 0 = NaN
    out = capsys.readouterr().out
    assert out.startswith("*** NaN detected ***\n") and out.endswith("Outputs: [array(nan)]\n")
    f(1)
    assert capsys.readouterr().out == ""


# -- Theano: tutorial/using_gpu.txt ("Testing Theano with GPU"), on the CPU -------------------------
def test_theano_using_gpu_test_script_on_the_cpu() -> None:
    from fncache import tensor
    from fncache.tensor.elemwise import Elemwise  # theano.tensor.Elemwise

    vlen = 10 * 30 * 7  # the page's 10 * 30 * 768, smaller
    rng = np.random.RandomState(22)
    x = theano.shared(np.asarray(rng.rand(vlen), theano.config.floatX))
    f = theano.function([], tensor.exp(x))
    r = f()
    np.testing.assert_allclose(r, np.exp(x.get_value()))
    used_cpu = np.any(
        [isinstance(x.op, Elemwise) and ("Gpu" not in type(x.op).__name__) for x in f.maker.fgraph.toposort()]
    )
    assert used_cpu  # the page prints 'Used the cpu'


# -- Theano: library/scan.txt (the Gibbs chain with Theano's RandomStreams) ---------------------------
@pytest.mark.usefixtures("py_linker")
def test_theano_scan_gibbs_chain_with_random_streams() -> None:
    rng = np.random.default_rng(203940)
    W_values = rng.uniform(size=(3, 2))
    bvis_values, bhid_values = rng.uniform(size=(3,)), rng.uniform(size=(2,))
    W = theano.shared(W_values)
    bvis = theano.shared(bvis_values)
    bhid = theano.shared(bhid_values)
    trng = T.shared_randomstreams.RandomStreams(1234)

    def OneStep(vsample):
        hmean = T.nnet.sigmoid(theano.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean)
        vmean = T.nnet.sigmoid(theano.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean, dtype=theano.config.floatX)

    sample = theano.tensor.vector()
    values, updates = theano.scan(OneStep, outputs_info=sample, n_steps=10)
    gibbs10 = theano.function([sample], values[-1], updates=updates)
    draws = np.array([gibbs10(np.zeros(3, dtype=theano.config.floatX)) for _ in range(10)])
    assert draws.shape == (10, 3) and set(np.unique(draws)) <= {0.0, 1.0}
    assert len({tuple(d) for d in draws}) > 1  # the updates move the streams on between calls

    def power_of_2(previous_power, max_value):
        return previous_power * 2, theano.until(previous_power * 2 > max_value)  # theano.scan_module.until

    max_value = T.scalar()
    values, _ = theano.scan(power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=1024)
    f = theano.function([max_value], values)
    np.testing.assert_array_equal(f(45), [2.0, 4.0, 8.0, 16.0, 32.0, 64.0])


# -- PyTensor: gallery/introduction/pytensor_intro.ipynb ("What is PyTensor?"), its first cells ----
def test_intro_notebook_definition_and_dprint(capsys: pytest.CaptureFixture[str]) -> None:
    x = np.array([0, 1, np.e])  # Actual numbers
    want = np.log(1 + x)  # Actual computation
    x = pt.tensor(shape=(3,), dtype="float64")  # Symbolic vector
    y = pt.log(1 + x)  # Symbolic computation
    assert isinstance(y, pt.TensorVariable) and y.owner is not None
    y.dprint()
    text = capsys.readouterr().out
    assert "log" in text and "add" in text
    np.testing.assert_allclose(y.eval({x: np.array([0, 1, np.e])}), want)


# -- PyTensor: gallery/scan/scan_tutorial.ipynb ("Introduction to Scan") ---------------------------
@pytest.mark.usefixtures("py_linker")
def test_scan_tutorial_notebook_examples() -> None:
    floatX = pytensor.config.floatX
    vector1 = pt.dvector("vector1")
    vector2 = pt.dvector("vector2")
    output, updates = pytensor.scan(fn=lambda a, b: a * b, sequences=[vector1, vector2])
    f = pytensor.function(inputs=[vector1, vector2], outputs=output, updates=updates)
    vector1_value = np.arange(0, 5).astype(floatX)  # [0,1,2,3,4]
    vector2_value = np.arange(1, 6).astype(floatX)  # [1,2,3,4,5]
    np.testing.assert_array_equal(f(vector1_value, vector2_value), [0.0, 2.0, 6.0, 12.0, 20.0])
    np.testing.assert_array_equal(f(vector1_value, vector2_value[:4]), [0.0, 2.0, 6.0, 12.0])

    X = pt.dmatrix("X")  # Minibatch of data
    W = pt.dmatrix("W")  # Weights of the layer
    b = pt.dvector("b")  # Biases of the layer

    def step(v, W, b):
        return v @ W + b

    output, updates = pytensor.scan(fn=step, sequences=[X], non_sequences=[W, b])
    assert dict(updates) == {}  # the page prints {}
    f = pytensor.function(inputs=[X, W, b], outputs=output, updates=updates)
    X_value = np.arange(-3, 3).reshape(3, 2).astype(floatX)
    W_value = np.eye(2).astype(floatX)
    b_value = np.arange(2).astype(floatX)
    np.testing.assert_array_equal(f(X_value, W_value, b_value), [[-3.0, -1.0], [-1.0, 1.0], [1.0, 3.0]])

    def step(m_row, cumulative_sum):
        return m_row + cumulative_sum

    M = pt.dmatrix("X")
    s = pt.dvector("s")  # Initial value for the cumulative sum
    output, updates = pytensor.scan(fn=step, sequences=[M], outputs_info=[s])
    f = pytensor.function(inputs=[M, s], outputs=output, updates=updates)
    M_value = np.arange(9).reshape(3, 3).astype(floatX)
    s_value = np.zeros((3,), dtype=floatX)
    np.testing.assert_array_equal(f(M_value, s_value), [[0.0, 1.0, 2.0], [3.0, 5.0, 7.0], [9.0, 12.0, 15.0]])

    def step(f_minus2, f_minus1):
        new_f = f_minus2 + f_minus1
        ratio = new_f / f_minus1
        return new_f, ratio

    f_init = pt.fvector()
    outputs_info = [dict(initial=f_init, taps=[-2, -1]), None]
    output, updates = pytensor.scan(fn=step, outputs_info=outputs_info, n_steps=10)
    next_fibonacci_terms = output[0]
    ratios_between_terms = output[1]
    f = pytensor.function(
        inputs=[f_init], outputs=[next_fibonacci_terms, ratios_between_terms], updates=updates
    )
    out = f([1, 1])
    np.testing.assert_array_equal(out[0], [2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0, 144.0])
    fib = [1.0, 1.0, *out[0]]
    np.testing.assert_allclose(out[1], np.array(fib[2:]) / np.array(fib[1:-1]), rtol=1e-6)
    assert out[0].dtype == out[1].dtype == np.float32

    # the exercise's helper: x[i].set(v), PyTensor's spelling of set_subtensor(x[i], v)
    p = pt.dvector("p")
    i = pt.lscalar("i")
    new_p = p[i].set(0.0)
    new_p = new_p / new_p.sum()
    np.testing.assert_allclose(new_p.eval({p: [0.6, 0.3, 0.1], i: 0}), [0.0, 0.75, 0.25])
    np.testing.assert_allclose(p[i].inc(1.0).eval({p: [0.6, 0.3, 0.1], i: 2}), [0.6, 0.3, 1.1])


@pytest.mark.usefixtures("py_linker")
def test_scan_return_updates_false_gives_the_outputs_alone() -> None:
    x = pt.dvector("x")
    doubled = pytensor.scan(lambda a: a * 2, sequences=[x], return_updates=False)
    np.testing.assert_array_equal(pytensor.function([x], doubled)([1.0, 2.0]), [2.0, 4.0])
    # a random draw's counter needs no updates given: the next call draws anew
    srng = pytensor.RandomStream(5)
    noisy = pytensor.scan(lambda a: a + srng.normal(), sequences=[x], return_updates=False)
    f = pytensor.function([x], noisy)
    assert not np.array_equal(f([0.0, 0.0]), f([0.0, 0.0]))
    # an update the caller must apply is never dropped
    k = pytensor.shared(0, name="k")
    with pytest.raises(ValueError, match="return_updates=False, but the loop updates k"):
        pytensor.scan(lambda: {k: k + 1}, n_steps=3, return_updates=False)


# -- PyTensor: gallery/autodiff/vector_jacobian_product.ipynb ("Vector Jacobian Product") ----------
@pytest.mark.usefixtures("py_linker")
def test_vector_jacobian_product_notebook() -> None:
    from fncache.gradient import Lop
    from fncache.gradient import jacobian as jacobian_raw

    def jacobian(*args, vectorize=True, **kwargs):
        return jacobian_raw(*args, vectorize=vectorize, **kwargs)

    x = pt.vector("x")
    log_x = pt.log(x)
    J_log = jacobian(log_x, x)
    np.testing.assert_allclose(J_log.eval({"x": [1.0, 2.0, 3.0]}), np.diag([1.0, 0.5, 1 / 3]))
    v = pt.vector("v")
    vjp_log = Lop(log_x, wrt=x, eval_points=v)
    np.testing.assert_allclose(vjp_log.eval({"x": [1.0, 2.0, 3.0], "v": [4.0, 5.0, 6.0]}), [4.0, 2.5, 2.0])

    x = pt.vector("x")
    cumsum_x = pt.cumsum(x)
    np.testing.assert_array_equal(cumsum_x.eval({"x": [1.0, 2.0, 3.0]}), [1.0, 3.0, 6.0])
    J_cumsum = jacobian(cumsum_x, x)
    np.testing.assert_array_equal(
        J_cumsum.eval({"x": [1.0, 2.0, 3.0]}).astype(int), [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    )
    v = pt.vector("v")
    vjp_cumsum = Lop(cumsum_x, x, v)
    np.testing.assert_array_equal(vjp_cumsum.eval({"x": [1.0, 2.0, 3.0], "v": [1, 1, 1]}), [3.0, 2.0, 1.0])

    x = pt.vector("x")
    y = pt.vector("y", shape=(2,))
    convolution_xy = pt.signal.convolve1d(x, y, mode="full")
    np.testing.assert_array_equal(convolution_xy.eval({"x": [0, 1, 2], "y": [1, -1]}), [0.0, 1.0, 1.0, -2.0])
    J_convolution = jacobian(convolution_xy, y)
    # PyTensor's Jacobian (and VJP) no longer reads y; fncache's convolution reads y's shape
    # (its emptiness check, its Shape kept as the shape of y), so y is given too
    np.testing.assert_array_equal(
        J_convolution.eval({"x": [0, 1, 2], "y": [1, -1]}), [[0.0, 0.0], [1.0, 0.0], [2.0, 1.0], [0.0, 2.0]]
    )
    v = pt.vector("v", shape=(4,))
    vjp_convolution = Lop(convolution_xy, y, v)
    np.testing.assert_array_equal(
        vjp_convolution.eval({"v": [1, 2, 3, 4], "x": [0, 1, 2], "y": [1, -1]}), [8.0, 11.0]
    )

    A = pt.matrix("A", shape=(2, None))
    transpose_A = A.T
    assert transpose_A.type.shape == (None, 2)
    np.testing.assert_array_equal(
        transpose_A.ravel().eval({"A": np.arange(6).reshape(2, 3)}), [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    )
    J_transpose = jacobian(transpose_A.ravel(), A).reshape((6, 6))
    want = np.zeros((6, 6))
    want[[0, 1, 2, 3, 4, 5], [0, 3, 1, 4, 2, 5]] = 1.0
    np.testing.assert_array_equal(J_transpose.eval({"A": np.zeros((2, 3))}), want)
    V = pt.matrix("V", shape=(3, 2))
    naive_vjp_transpose = (V.ravel() @ J_transpose).reshape(V.shape[::-1])
    vjp_eval_dict = {"V": np.arange(6).reshape((3, 2)), "A": np.zeros((2, 3))}
    np.testing.assert_array_equal(naive_vjp_transpose.eval(vjp_eval_dict), [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]])
    np.testing.assert_array_equal(
        Lop(transpose_A, A, V).eval({"V": np.arange(6.0).reshape(3, 2)}), [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
    )

    x = pt.vector("x")
    log_x = pt.log(x)
    cumsum_log_x = pt.cumsum(log_x)
    grad_out_wrt_x = pt.grad(cumsum_log_x.sum(), x)
    grad_vec = pt.ones_like(cumsum_log_x)
    chained = Lop(log_x, x, Lop(cumsum_log_x, log_x, grad_vec))
    xv = np.array([1.0, 2.0, 4.0])
    want = np.cumsum(np.ones(3))[::-1] / xv
    np.testing.assert_allclose(grad_out_wrt_x.eval({x: xv}), want)
    np.testing.assert_allclose(chained.eval({x: xv}), want)
    # a name the graph's inputs do not have is refused, naming those it has
    with pytest.raises(ValueError, match=r"eval: no input of this graph is named 'z'.*\['x'\]"):
        log_x.eval({"z": [1.0]})
