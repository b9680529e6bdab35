"""``verify_grad``: check a symbolic gradient against finite differences.

The output of ``fun`` is projected on a random array ``r`` (entries in [0.5, 1.5), so that no
element's gradient vanishes in the sum): the gradient of ``sum(r * fun(*pt))`` built by
``grad`` is compared, element by element, with central differences of that scalar. Complex
values take part as their real and imaginary parts: a complex output is projected on a complex
``r`` (``Re(sum(conj(r) * out))``), and a complex argument's gradient, ``dC/dRe + i dC/dIm``,
is compared part by part with the differences in each.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..errors import GradientError
from ..graph.args import as_int, flag, int_arg
from ..graph.basic import Variable
from ..graph.types import TensorType, is_inexact, normalize_dtype
from .gradient import grad, real_inner
from .hooks import function_compiler
from .shape_ops import shape

__all__ = ["verify_grad"]

#: Finite-difference steps and tolerances by input dtype (PyTensor's).
_EPS = {"float64": 1e-7, "float32": 3e-4, "float16": 1e-1}
_TOL = {"float64": 1e-4, "float32": 1e-2, "float16": 5e-2}


def _generator(rng: Any) -> Callable[[tuple[int, ...]], np.ndarray]:
    """Uniform [0, 1) draws of a shape from ``rng``: None, a seed, a Generator or a
    RandomState."""
    if rng is None or as_int(rng) is not None:
        return np.random.default_rng(None if rng is None else as_int(rng)).random
    if isinstance(rng, np.random.Generator):
        return rng.random
    if isinstance(rng, np.random.RandomState):
        return rng.random_sample
    raise TypeError(
        f"verify_grad: rng must be None, an int seed, a numpy Generator or RandomState, got {rng!r}"
    )


def verify_grad(
    fun: Callable[..., Any],
    pt: Sequence[Any],
    n_tests: int = 2,
    rng: Any = None,
    eps: float | None = None,
    out_type: str | None = None,
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    mode: Any = None,
    cast_to_output_type: bool = False,
    no_debug_ref: bool = True,
) -> None:
    """Check ``grad`` of ``fun`` at the point ``pt`` (a list of float or complex arrays, one
    per argument of ``fun``, which takes symbolic variables and returns one). ``n_tests`` random
    projections are tried; an element fails when both its absolute and its relative error
    exceed the tolerances (defaults by the inputs' dtypes, a complex one's by its parts').
    Raises `fncache.GradientError`
    (an AssertionError) naming the argument, the position, both values and both errors.

    PyTensor's ``cast_to_output_type=True`` draws the projections in the output's dtype where
    it is float32 (float64 otherwise), so the cost is computed in float32 as the output is.
    ``out_type`` (a dtype: PyTensor's numerical gradient's) and ``no_debug_ref`` are taken and
    change nothing: the numerical gradient is always taken in float64 (complex128 for complex
    values), from the cost compiled with ``mode``."""
    if out_type is not None:
        normalize_dtype(out_type, "verify_grad: out_type")
    cast_out = flag(cast_to_output_type, "verify_grad", "cast_to_output_type")
    flag(no_debug_ref, "verify_grad", "no_debug_ref")
    if not callable(fun):
        raise TypeError(
            f"verify_grad: fun must be a function of symbolic variables (one per array of pt) "
            f"returning one, got {fun!r}"
        )
    if not isinstance(pt, (list, tuple)):
        raise TypeError(
            f"verify_grad: pt must be a list or tuple of arrays (one per argument of fun), got "
            f"{type(pt).__name__}; wrap a single array as [x]"
        )
    n_tests = int_arg(n_tests, "verify_grad", "n_tests", minimum=1)
    values = [np.array(p) for p in pt]
    for i, p in enumerate(values):
        if p.dtype.kind not in "fc" or _part_dtype(p) not in _EPS:
            raise TypeError(
                f"verify_grad: argument {i} of pt has dtype {p.dtype}; the point must be float "
                "or complex arrays (float16/32/64, complex64/128): pass np.asarray(x, "
                "dtype='float64')"
            )
    for what, v in (("eps", eps), ("abs_tol", abs_tol), ("rel_tol", rel_tol)):
        if v is not None and not (isinstance(v, (int, float, np.floating)) and v > 0):
            raise ValueError(f"verify_grad: {what} must be a positive number or None, got {v!r}")
    draw = _generator(rng)
    dtypes = [_part_dtype(p) for p in values]
    eps = eps if eps is not None else max(_EPS[d] for d in dtypes)
    abs_tol = abs_tol if abs_tol is not None else max(_TOL[d] for d in dtypes)
    rel_tol = rel_tol if rel_tol is not None else max(_TOL[d] for d in dtypes)

    # Size-1 dims are static (broadcastable), as the types of such values usually are.
    inputs = [
        TensorType(p.dtype.name, tuple(1 if s == 1 else None for s in p.shape))(f"pt{i}")
        for i, p in enumerate(values)
    ]
    out = fun(*inputs)
    if not isinstance(out, Variable):
        raise TypeError(
            f"verify_grad: fun must return one symbolic variable, got {type(out).__name__}; "
            "check the outputs one at a time"
        )
    if not is_inexact(out.dtype):
        raise TypeError(
            f"verify_grad: fun returned {out!r} of dtype {out.dtype}; it must be a float or complex"
        )
    complex_out = out.dtype.startswith("complex")
    r_dtype = "complex128" if complex_out else "float32" if cast_out and out.dtype == "float32" else "float64"
    r = TensorType(r_dtype, (None,) * out.ndim)("projection")
    cost = real_inner(r, out)
    compile_ = function_compiler()
    kw = dict(mode=mode, on_unused_input="ignore")
    # The cost function also gives the output's shape, which the projection takes: a
    # projection of ones of size 1 everywhere broadcasts to it on the first call.
    f_cost = compile_(inputs + [r], [cost, shape(out)], **kw)
    f_grad = compile_(inputs + [r], grad(cost, inputs, disconnected_inputs="ignore"), **kw)
    out_shape = tuple(int(s) for s in f_cost(*values, np.ones((1,) * out.ndim, r_dtype))[1])
    for _ in range(n_tests):
        proj = draw(out_shape) + 0.5
        if complex_out:
            proj = proj + 1j * (draw(out_shape) + 0.5)
        proj = proj.astype(r_dtype)
        analytic = f_grad(*values, proj)
        numeric = _central_differences(lambda *a: f_cost(*a)[0], values, proj, eps)
        _compare(analytic, numeric, abs_tol, rel_tol)


def _part_dtype(p: np.ndarray) -> str:
    """The dtype of ``p``'s parts: its own for a real array, float64 for complex128."""
    return np.finfo(p.dtype).dtype.name if p.dtype.kind == "c" else p.dtype.name


def _central_differences(
    f_cost: Callable[..., Any], values: list[np.ndarray], proj: np.ndarray, eps: float
) -> list[np.ndarray]:
    """d f_cost / d each element of each value, by (f(x + eps) - f(x - eps)) / (2 eps); for
    a complex value, in its real part plus i times in its imaginary part."""
    out = []
    for i, v in enumerate(values):
        steps = (eps, eps * 1j) if v.dtype.kind == "c" else (eps,)
        g = np.zeros(v.shape, dtype="complex128" if v.dtype.kind == "c" else "float64")
        for idx in np.ndindex(v.shape):
            for step in steps:
                args = [p.copy() for p in values]
                args[i][idx] = v[idx] + step
                up = float(f_cost(*args, proj))
                args[i][idx] = v[idx] - step
                down = float(f_cost(*args, proj))
                g[idx] += (up - down) / (2 * eps) * (step / eps)
        out.append(g)
    return out


def _parts(x: Any) -> np.ndarray:
    """``x`` as float64; a complex array as its real and imaginary parts along a new last dim."""
    x = np.asarray(x)
    return (
        np.stack([x.real, x.imag], axis=-1).astype("float64") if x.dtype.kind == "c" else x.astype("float64")
    )


def _compare(analytic: list[np.ndarray], numeric: list[np.ndarray], abs_tol: float, rel_tol: float) -> None:
    """Raise GradientError at the element whose error is largest against the tolerances, if
    it exceeds both."""
    worst: tuple[float, int, tuple] | None = None
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        a, n = _parts(a), _parts(n)
        abs_err = np.abs(a - n)
        rel_err = abs_err / np.maximum(np.abs(a) + np.abs(n), 1e-8)
        bad = ~np.isfinite(abs_err)
        scaled = np.where(bad, np.inf, np.minimum(abs_err / abs_tol, rel_err / rel_tol))
        if scaled.size and (worst is None or scaled.max() > worst[0]):
            idx = tuple(int(k) for k in np.unravel_index(int(np.argmax(scaled)), scaled.shape))
            worst = (float(scaled[idx]), i, idx)
    if worst is None or worst[0] <= 1.0:
        return
    _, i, idx = worst
    a, n = float(_parts(analytic[i])[idx]), float(_parts(numeric[i])[idx])
    part = ""
    if numeric[i].dtype.kind == "c":
        idx, part = idx[:-1], (" (its imaginary part)" if idx[-1] else " (its real part)")
    abs_err = abs(a - n)
    rel_err = abs_err / max(abs(a) + abs(n), 1e-8)
    err = GradientError(
        f"verify_grad: the gradient of argument {i} (shape {numeric[i].shape}) at position {idx}{part} is "
        f"{a!r} symbolically but {n!r} by finite differences: abs error {abs_err:.3g} "
        f"(abs_tol {abs_tol:.3g}), rel error {rel_err:.3g} (rel_tol {rel_tol:.3g})"
    )
    # The numbers of the message, for tests that inspect them.
    err.arg, err.pos, err.analytic, err.numeric = i, idx, a, n
    err.abs_err, err.rel_err = abs_err, rel_err
    raise err
