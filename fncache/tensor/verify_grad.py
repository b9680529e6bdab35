"""``verify_grad``: check a symbolic gradient against finite differences.

The output of ``fun`` is projected on a random array ``r`` (entries in [0.5, 1.5), so that no
element's gradient vanishes in the sum): the gradient of ``sum(r * fun(*pt))`` built by
``grad`` is compared, element by element, with central differences of that scalar. Complex
values take part as their real and imaginary parts: a complex output is projected on a complex
``r`` (``Re(sum(conj(r) * out))``), and a complex argument's gradient, ``dC/dRe + i dC/dIm``,
is compared part by part with the differences in each.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from ..errors import GradientError
from ..graph.args import as_int, flag, int_arg
from ..graph.basic import Variable
from ..graph.types import TensorType, is_inexact, normalize_dtype
from .gradient import grad, real_inner
from .hooks import function_compiler
from .shape_ops import shape

__all__ = ["numeric_grad", "verify_grad"]

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
    values = _point(pt, "verify_grad")
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
        numeric = numeric_grad(lambda *a, p=proj: f_cost(*a, p)[0], values, eps)
        w = numeric.worst(analytic, abs_tol, rel_tol)
        if w.scaled > 1.0:
            shape_i = np.shape(numeric.gf[w.arg])
            raise GradientError(
                w.arg, w.pos, shape_i, w.val1, w.val2, w.abs_err, w.rel_err, abs_tol, rel_tol, w.part
            )


def _point(pt: Sequence[Any], fn: str) -> list[np.ndarray]:
    """The arrays of ``pt``, each float or complex (``fn``'s TypeError otherwise)."""
    values = [np.array(p) for p in pt]
    for i, p in enumerate(values):
        if p.dtype.kind not in "fc" or _part_dtype(p) not in _EPS:
            raise TypeError(
                f"{fn}: argument {i} of pt has dtype {p.dtype}; the point must be float "
                "or complex arrays (float16/32/64, complex64/128): pass np.asarray(x, "
                "dtype='float64')"
            )
    return values


def _part_dtype(p: np.ndarray) -> str:
    """The dtype of ``p``'s parts: its own for a real array, float64 for complex128."""
    return np.finfo(p.dtype).dtype.name if p.dtype.kind == "c" else p.dtype.name


def _real_number(value: Any) -> float:
    """The real scalar a function differentiated numerically returned, as a float."""
    v = np.asarray(value)
    if v.size != 1 or v.dtype.kind not in "biuf":
        raise TypeError(
            f"numeric_grad: f must return a real scalar, got {v.dtype} of shape {v.shape}; "
            "reduce the output to one real number (sum, or the real part of an inner product)"
        )
    return float(v.reshape(()))


def _central_differences(f: Callable[..., Any], values: list[np.ndarray], eps: float) -> list[np.ndarray]:
    """d f / d each element of each value, by (f(x + eps) - f(x - eps)) / (2 eps); for a
    complex value, in its real part plus i times in its imaginary part."""
    out = []
    for i, v in enumerate(values):
        steps = (eps, eps * 1j) if v.dtype.kind == "c" else (eps,)
        g = np.zeros(v.shape, dtype="complex128" if v.dtype.kind == "c" else "float64")
        for idx in np.ndindex(v.shape):
            for step in steps:
                args = [p.copy() for p in values]
                args[i][idx] = v[idx] + step
                up = _real_number(f(*args))
                args[i][idx] = v[idx] - step
                down = _real_number(f(*args))
                g[idx] += (up - down) / (2 * eps) * (step / eps)
        out.append(g)
    return out


def _parts(x: Any) -> np.ndarray:
    """``x`` as float64; a complex array as its real and imaginary parts along a new last dim."""
    x = np.asarray(x)
    return (
        np.stack([x.real, x.imag], axis=-1).astype("float64") if x.dtype.kind == "c" else x.astype("float64")
    )


class numeric_grad:  # noqa: N801  (PyTensor's name)
    """PyTensor's numerical gradient, which ``verify_grad`` compares with the symbolic one:
    ``numeric_grad(f, pt, eps=None, out_type=None).gf`` is the gradient of ``f`` (a function
    of numpy arrays returning a real scalar) at ``pt`` (an array, or a list of arrays: ``gf``
    is then a list). By central differences ``(f(x + eps) - f(x - eps)) / (2 eps)``, where
    PyTensor takes one-sided ones (an error in ``eps**2``, not ``eps``), in float64; a complex
    array's gradient is ``df/dRe + i df/dIm``. ``eps`` defaults by dtype (``type_eps``,
    PyTensor's); ``out_type`` is taken and changes nothing."""

    type_eps: dict[Any, float] = {**_EPS, **{np.dtype(k): v for k, v in _EPS.items()}}

    def __init__(
        self, f: Callable[..., Any], pt: Any, eps: float | None = None, out_type: str | None = None
    ) -> None:
        if out_type is not None:
            normalize_dtype(out_type, "numeric_grad: out_type")
        if not callable(f):
            raise TypeError(
                f"numeric_grad: f must be a function of numpy arrays returning a scalar, got {f!r}"
            )
        packed = not isinstance(pt, (list, tuple))
        values = _point([pt] if packed else pt, "numeric_grad")
        if eps is None:
            eps = max(_EPS[_part_dtype(p)] for p in values) if values else _EPS["float64"]
        elif not (isinstance(eps, (int, float, np.floating)) and eps > 0):
            raise ValueError(f"numeric_grad: eps must be a positive number or None, got {eps!r}")
        gf = _central_differences(f, values, float(eps))
        self.gf: Any = gf[0] if packed else gf

    @staticmethod
    def abs_rel_err(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
        """PyTensor's: ``abs(a - b)`` and that over ``max(abs(a) + abs(b), 1e-8)``, in float64
        (complex128 for complex values)."""
        a, b = np.asarray(a), np.asarray(b)
        a, b = (v.astype(np.result_type(a.dtype, b.dtype, np.float64)) for v in (a, b))
        abs_err = np.abs(a - b)
        return abs_err, np.asarray(abs_err / np.maximum(np.abs(a) + np.abs(b), 1e-8))

    def _pairs(self, g_pt: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
        """``g_pt`` paired with ``gf``, their lengths and shapes checked (PyTensor's
        ValueErrors)."""
        gf = self.gf if isinstance(self.gf, list) else [self.gf]
        g_pt = list(g_pt) if isinstance(g_pt, (list, tuple)) else [g_pt]
        if len(g_pt) != len(gf):
            raise ValueError(f"numeric_grad: {len(g_pt)} gradients given for {len(gf)} arguments")
        pairs = [(np.asarray(a), b) for a, b in zip(g_pt, gf)]
        for i, (a, b) in enumerate(pairs):
            if a.shape != b.shape:
                raise ValueError(f"numeric_grad: gradient {i} has shape {a.shape}, the argument {b.shape}")
        return pairs

    def abs_rel_errors(self, g_pt: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
        """The absolute and relative errors of each gradient of ``g_pt`` against ``gf``."""
        return [self.abs_rel_err(a, b) for a, b in self._pairs(g_pt)]

    def worst(self, g_pt: Sequence[Any], abs_tol: float, rel_tol: float) -> WorstError:
        """Where the error of ``g_pt`` (gradients of ``gf``'s shapes) is largest against the
        tolerances, ``min(abs_err / abs_tol, rel_err / rel_tol)``: over 1 where both are
        exceeded, infinite where an error is not finite. Complex gradients are compared part
        by part (real and imaginary)."""
        worst = WorstError(-1.0, 0, 0, None, 0.0, 0.0, 0.0, 0.0)
        for i, (a, b) in enumerate(self._pairs(g_pt)):
            is_complex = "c" in (a.dtype.kind, b.dtype.kind)
            a, b = (_parts(v.astype("complex128") if is_complex else v).reshape(-1) for v in (a, b))
            abs_err, rel_err = self.abs_rel_err(a, b)
            scaled = np.where(np.isfinite(abs_err), np.minimum(abs_err / abs_tol, rel_err / rel_tol), np.inf)
            if scaled.size and scaled.max() > worst.scaled:
                k = int(np.argmax(scaled))
                pos, half = divmod(k, 2) if is_complex else (k, 0)
                part = ("real", "imaginary")[half] if is_complex else None
                values = (float(a[k]), float(b[k]), float(abs_err[k]), float(rel_err[k]))
                worst = WorstError(float(scaled[k]), i, pos, part, *values)
        return worst

    def max_err(self, g_pt: Sequence[Any], abs_tol: float, rel_tol: float) -> tuple[int, int, float, float]:
        """PyTensor's: ``(arg, position, abs_err, rel_err)`` where the error of ``g_pt`` is
        largest against the tolerances (`worst`; the position flat in its argument). An error
        that is not finite is the largest (PyTensor raises ValueError)."""
        w = self.worst(g_pt, abs_tol, rel_tol)
        return w.arg, w.pos, w.abs_err, w.rel_err


class WorstError(NamedTuple):
    """`numeric_grad.worst`'s answer: the error against the tolerances (``scaled``), the
    argument, the element's flat position in it, the part compared (``"real"`` or
    ``"imaginary"`` of a complex gradient, else None), the two values there (``val1`` given,
    ``val2`` numerical) and their absolute and relative errors."""

    scaled: float
    arg: int
    pos: int
    part: str | None
    val1: float
    val2: float
    abs_err: float
    rel_err: float
