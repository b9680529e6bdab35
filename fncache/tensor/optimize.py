"""``fncache.tensor.optimize``, PyTensor's ``tensor.optimize``: ``minimize``,
``minimize_scalar``, ``root`` and ``root_scalar`` of a symbolic objective (or system of
equations), each returning ``(solution, success)``.

The solve is scipy.optimize's, called from the op's ``perform`` (a Python step in the C linker,
the host under the CUDA renderer); scipy is not a dependency of fncache, and a process without
it gets an error naming the function when the graph is built. The objective, and the
derivatives the method is given (``jac``, ``hess``), are the op's inner graph
(`InnerGraphOp`), compiled by fncache like any function and called at each iteration with the
values of the other variables the objective reads (its parameters), computed once outside.

The solution is differentiable with respect to the parameters by the implicit function theorem,
as in PyTensor: at a root ``x*`` of ``F(x, theta) = 0`` (for a minimization, ``F`` is the
objective's gradient in ``x``), ``dx*/dtheta = -(dF/dx)^-1 dF/dtheta``, so the gradient of a
cost ``c(x*)`` is ``-v^T dF/dtheta`` with ``v`` solving ``(dF/dx)^T v = dc/dx*``: one linear
solve at the solution, whatever the number of iterations the solver took. It holds where the
solver converged and ``dF/dx`` is invertible there.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..graph.basic import Apply, Constant, Variable, clone_graph
from ..graph.fgraph import FunctionGraph
from ..graph.types import TensorType
from .array_ops import swap_last
from .basic import as_tensor_variable
from .gradient import grad, hessian, jacobian, register_grad
from .inner_graph import InnerGraphOp, lift_inner_graph
from .optional_deps import scipy_module

__all__ = ["ScipyOptimizeOp", "minimize", "minimize_scalar", "root", "root_scalar"]

#: what each kind of op calls, and whether its ``F`` (the function whose root the solution is)
#: is the objective's gradient (a minimization) or the equations themselves
KINDS = {"minimize": True, "minimize_scalar": True, "root": False, "root_scalar": False}


def _freeze(value: Any) -> Any:
    """``optimizer_kwargs`` as a hashable value of the op's identity: dicts and lists as tagged
    tuples (:func:`_thaw` undoes it), everything else as it is."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("list" if isinstance(value, list) else "tuple", tuple(_freeze(v) for v in value))
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, tuple(value.ravel().tolist()))
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"optimize: optimizer_kwargs holds {value!r} ({type(value).__name__}), which cannot be "
            "part of an op's identity; give numbers, strings, callables, lists, tuples or dicts of them"
        ) from None
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) >= 2 and value[0] in ("dict", "list", "tuple", "array"):
        tag = value[0]
        if tag == "dict":
            return {k: _thaw(v) for k, v in value[1]}
        if tag == "array":
            return np.array(value[3], dtype=value[1]).reshape(value[2])
        items = [_thaw(v) for v in value[1]]
        return items if tag == "list" else tuple(items)
    return value


class ScipyOptimizeOp(InnerGraphOp):
    """A scipy.optimize solve (``kind``: ``"minimize" "minimize_scalar" "root"
    "root_scalar"``) of the inner graph: its inputs are ``x`` then the parameters, its outputs
    the objective (or equations), then the derivatives in ``x`` the method is given (``jac``,
    then ``hess``). The node's inputs are the starting point ``x0`` and the parameters' values;
    its outputs the solution (``x0``'s type) and scipy's bool success flag."""

    __props__ = ("inner_key", "kind", "method", "jac", "hess", "options")
    inner_name = "optimize_objective"

    def __init__(
        self, inner: FunctionGraph, kind: str, method: str, jac: bool, hess: bool, options: Any = ()
    ) -> None:
        super().__init__(inner)
        self.kind, self.method, self.jac, self.hess, self.options = kind, method, jac, hess, options

    def __str__(self) -> str:
        return f"{self.kind}{{method={self.method}, jac={self.jac}, hess={self.hess}}}"

    def make_node(self, x0: Variable, *params: Variable) -> Apply:
        wanted = self.inner.inputs
        if len(params) != len(wanted) - 1:
            raise ValueError(
                f"{self}: takes x0 and {len(wanted) - 1} parameters, got {1 + len(params)} inputs"
            )
        for v, w in zip([x0, *params], wanted):
            if v.dtype != w.dtype or v.ndim != w.ndim:
                raise TypeError(f"{self}: an input must be {w.type}, got {v.type}")
        return Apply(self, [x0, *params], [TensorType(x0.dtype, x0.type.shape), TensorType("bool", ())])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        optimize = scipy_module("optimize", self.kind)
        fn = self.node_function(node)
        x0, *params = inputs

        def outputs(x: Any) -> list[np.ndarray]:
            res = fn(np.asarray(x, dtype=x0.dtype).reshape(x0.shape), *params)
            return list(res) if isinstance(res, (list, tuple)) else [res]

        def at(k: int, shape: tuple | None = None) -> Any:
            def one(x: Any, *_: Any) -> Any:
                out = outputs(x)[k]
                # a copy in float64: scipy keeps earlier gradients while asking for new ones,
                # and the inner function may hand back its own buffers
                return float(out) if shape is None else np.array(out, dtype=np.float64).reshape(shape)

            return one

        kwargs = _thaw(self.options) if self.options else {}
        size = x0.size
        if self.kind == "minimize":
            res = optimize.minimize(
                at(0),
                x0.ravel(),
                jac=at(1, (size,)) if self.jac else None,
                hess=at(1 + self.jac, (size, size)) if self.hess else None,
                method=self.method,
                **kwargs,
            )
            solution, success = res.x, res.success
        elif self.kind == "minimize_scalar":
            res = optimize.minimize_scalar(at(0), method=self.method, **kwargs)
            solution, success = res.x, res.success
        elif self.kind == "root":
            res = optimize.root(
                at(0, (size,)),
                x0.ravel(),
                jac=at(1, (size, size)) if self.jac else None,
                method=self.method,
                **kwargs,
            )
            solution, success = res.x, res.success
        else:
            res = optimize.root_scalar(
                at(0),
                x0=float(x0),
                fprime=at(1) if self.jac else None,
                fprime2=at(2) if self.hess else None,
                method=self.method,
                **kwargs,
            )
            solution, success = res.root, res.converged
        return [np.asarray(solution, dtype=x0.dtype).reshape(x0.shape), np.asarray(bool(success))]


@register_grad(ScipyOptimizeOp)
def _implicit_grad(node: Apply, out_grads: list) -> list:
    """The implicit function theorem at the solution ``x*``: with ``F(x*, theta) = 0`` and
    ``v`` solving ``(dF/dx)^T v = g``, the parameters' gradient is that of ``-sum(F * v)``,
    ``v`` held constant. It is built on the inner graph, whose parameters are independent
    inputs (an outer parameter may be computed from another: differentiating there would count
    that path twice), then read at the node's inputs. The starting point and the success flag
    get none."""
    from .slinalg import solve

    op: ScipyOptimizeOp = node.op
    x_star, g = node.outputs[0], out_grads[0]
    x_in, *params_in = op.inner.inputs
    floats = [p for p in params_in if p.dtype.startswith("float")]
    if g is None or not floats:
        return [None] * len(node.inputs)
    f = op.inner.outputs[0]
    if KINDS[op.kind]:
        f = grad(f, x_in)
    if x_in.ndim == 0:
        v = g / grad(f, x_in)
    else:
        v = solve(swap_last(jacobian(f, x_in)), g)
    grads = grad(-(f * v).sum(), floats, consider_constant=[v], disconnected_inputs="ignore")
    outer = dict(zip(op.inner.inputs, [x_star, *node.inputs[1:]]))
    by_param = dict(zip(floats, clone_graph(list(op.inner.inputs), grads, replace=outer)[1]))
    return [None] + [by_param.get(p) for p in params_in]


def _input_variable(what: str, x: Any) -> Variable:
    """``x`` checked a float tensor input variable of a graph (not a constant, nor computed)."""
    if not isinstance(x, Variable) or isinstance(x, Constant) or x.owner is not None:
        raise TypeError(
            f"{what}: the variable to solve for must be an input variable of the graph (such as "
            f"ft.dvector('x')), got {x!r}; build the objective from a fresh variable"
        )
    if not isinstance(x.type, TensorType) or not x.dtype.startswith("float"):
        raise TypeError(f"{what}: the variable to solve for must be a float tensor, got {x.type}")
    return x


def _problem(
    what: str, f: Any, x: Any, f_takes: str, x_ndims: tuple[int, ...], packs: bool = False
) -> tuple[Variable, Variable, Variable, Callable[[Variable], Any]]:
    """``f`` and ``x`` checked, as ``(f, x, x0, unpack)``: ``f`` of the variable ``x`` solved
    for, the starting point ``x0`` and ``unpack`` (the solution to what the caller gets). Where
    ``packs``, ``x`` may be a list of variables or one of more dims, as PyTensor packs them:
    their raveled values concatenated into one vector ``f`` is rewritten to read."""
    scipy_module("optimize", what)
    fv = as_tensor_variable(f)
    if not fv.dtype.startswith("float"):
        raise TypeError(f"{what}: {f_takes} must be float, got {fv.type}")
    many = isinstance(x, (list, tuple))
    xs = [_input_variable(what, v) for v in (x if many else [x])]
    if not xs:
        raise ValueError(f"{what}: give the variable (or, a list of variables) to solve for")
    for v in xs:
        if id(v) not in _ancestors(fv):
            raise ValueError(
                f"{what}: {f_takes} does not depend on {v}; build it from the variable to solve for"
            )
    if not many and xs[0].ndim in x_ndims:
        return fv, xs[0], xs[0], lambda sol: sol
    if not packs:
        raise ValueError(
            f"{what}: the variable to solve for must have {' or '.join(map(str, x_ndims))} dims, got {x!r}"
        )
    from .arrange import pack, unpack
    from .elemwise import cast

    x0, shapes = pack(*xs)
    packed = TensorType(x0.dtype, (None,)).make_variable("packed_" + "_".join(str(v.name) for v in xs))
    pieces = [cast(p, v.dtype) for p, v in zip(unpack(packed, shapes), xs)]
    fv = clone_graph(xs, [fv], replace=dict(zip(xs, pieces)))[1][0]

    def unpacked(sol: Variable) -> Any:
        out = [cast(p, v.dtype) for p, v in zip(unpack(sol, shapes), xs)]
        return out if many else out[0]

    return fv, packed, x0, unpacked


def _ancestors(v: Variable) -> set[int]:
    """The ids of ``v`` and of every variable it is computed from."""
    seen: set[int] = set()
    stack = [v]
    while stack:
        u = stack.pop()
        if id(u) in seen:
            continue
        seen.add(id(u))
        if u.owner is not None:
            stack.extend(u.owner.inputs)
    return seen


def _solve(
    kind: str,
    x: Variable,
    x0: Variable,
    outputs: list[Variable],
    method: Any,
    jac: bool,
    hess: bool,
    kwargs: Any,
) -> tuple[Variable, Variable]:
    if not isinstance(method, str):
        raise TypeError(f"{kind}: method must be the name of a scipy.optimize.{kind} method, got {method!r}")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError(
            f"{kind}: optimizer_kwargs must be a dict of scipy.optimize.{kind}'s arguments, got {kwargs!r}"
        )
    inner, values = lift_inner_graph([x], outputs)
    op = ScipyOptimizeOp(inner, kind, method, jac, hess, _freeze(kwargs or {}))
    solution, success = op(x0, *values)
    return solution, success


def minimize(
    objective: Any,
    x: Variable,
    method: str = "BFGS",
    jac: bool = True,
    hess: bool = False,
    use_vectorized_jac: bool = False,
    optimizer_kwargs: dict | None = None,
) -> tuple[Variable, Variable]:
    """scipy.optimize.minimize of the scalar ``objective`` over ``x`` (a float scalar or vector
    input of its graph, its value the starting point): ``(solution, success)``. ``jac`` and
    ``hess`` give the method the objective's symbolic gradient and Hessian in ``x``;
    ``optimizer_kwargs`` go to scipy (``tol``, ``options``, ``bounds``...).
    ``use_vectorized_jac`` is PyTensor's choice of how to build Jacobians and changes nothing.
    The solution is differentiable in the objective's other inputs (the implicit function
    theorem at the minimum)."""
    f, xv, x0, unpacked = _problem("minimize", objective, x, "the objective", (0, 1), packs=True)
    if f.ndim != 0:
        raise ValueError(
            f"minimize: the objective must be a scalar (0 dims), got {f.type}; sum it or take a norm"
        )
    outs = [f]
    if jac:
        outs.append(grad(f, xv))
    if hess:
        outs.append(hessian(f, xv) if xv.ndim == 1 else grad(grad(f, xv), xv))
    solution, success = _solve("minimize", xv, x0, outs, method, bool(jac), bool(hess), optimizer_kwargs)
    return unpacked(solution), success


def minimize_scalar(
    objective: Any, x: Variable, method: str = "brent", optimizer_kwargs: dict | None = None
) -> tuple[Variable, Variable]:
    """scipy.optimize.minimize_scalar of the scalar ``objective`` over the float scalar ``x``:
    ``(solution, success)``. As in scipy, the search does not start at ``x``'s value (give
    ``bracket`` or ``bounds`` in ``optimizer_kwargs``). Differentiable in the objective's other
    inputs."""
    f, xv, _, _ = _problem("minimize_scalar", objective, x, "the objective", (0,))
    if f.ndim != 0:
        raise ValueError(f"minimize_scalar: the objective must be a scalar (0 dims), got {f.type}")
    return _solve("minimize_scalar", xv, xv, [f], method, False, False, optimizer_kwargs)


def root(
    equations: Any,
    variables: Variable,
    method: str = "hybr",
    jac: bool = True,
    use_vectorized_jac: bool = False,
    optimizer_kwargs: dict | None = None,
) -> tuple[Variable, Variable]:
    """scipy.optimize.root of ``equations`` (a float scalar or vector) in ``variables`` (an
    input of their graph with as many dims, its value the starting point): ``(solution,
    success)``; ``jac`` gives the method the symbolic Jacobian. Differentiable in the
    equations' other inputs."""
    f, xv, x0, unpacked = _problem("root", equations, variables, "the equations", (0, 1), packs=True)
    if f.ndim != xv.ndim and not (xv is not x0 and f.ndim == 1):
        raise ValueError(
            f"root: the equations ({f.type}) must have as many dims as the variables ({xv.type}): one "
            "equation per unknown"
        )
    outs = [f]
    if jac:
        outs.append(jacobian(f, xv) if xv.ndim == 1 else grad(f, xv))
    solution, success = _solve("root", xv, x0, outs, method, bool(jac), False, optimizer_kwargs)
    return unpacked(solution), success


def root_scalar(
    equation: Any,
    variable: Variable,
    method: str = "secant",
    jac: bool = False,
    hess: bool = False,
    optimizer_kwargs: dict | None = None,
) -> tuple[Variable, Variable]:
    """scipy.optimize.root_scalar of the scalar ``equation`` in the float scalar ``variable``
    (its value ``x0``): ``(solution, success)``; ``jac`` and ``hess`` give the method the first
    and second derivatives (``hess`` needs ``jac``). Differentiable in the equation's other
    inputs."""
    f, xv, _, _ = _problem("root_scalar", equation, variable, "the equation", (0,))
    if f.ndim != 0:
        raise ValueError(f"root_scalar: the equation must be a scalar (0 dims), got {f.type}")
    if hess and not jac:
        raise ValueError("root_scalar: hess=True needs jac=True (no method uses the second derivative alone)")
    outs = [f]
    if jac:
        outs.append(grad(f, xv))
    if hess:
        outs.append(grad(outs[1], xv))
    return _solve("root_scalar", xv, xv, outs, method, bool(jac), bool(hess), optimizer_kwargs)
