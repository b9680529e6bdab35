"""Matrix products: ``Dot`` for 1-D and 2-D operands (BLAS speed in C), and ``dot`` with
numpy's semantics for any operands."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import BroadcastError, NotAlignedError
from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, normalize_dtype
from .basic import as_tensor_variable
from . import scalar_ops as S
from .elemwise import Elemwise, check_float64, elemwise

__all__ = ["Dot", "dot", "matmul", "RowPass"]


class Dot(Op):
    """``a @ b`` for 1-D/2-D ``a`` and ``b``. The C backend calls numpy's BLAS-backed product."""

    def make_node(self, a: Variable, b: Variable) -> Apply:
        for v in (a, b):
            if not isinstance(v.type, TensorType):
                raise TypeError(
                    f"dot: {v!r} is a {v.type}, not a tensor; a product with a sparse matrix is "
                    "fncache.sparse.dot (ft.dot and @ call it for a sparse operand)"
                )
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise TypeError(f"dot: operands must be 1-D or 2-D, got ndim {a.ndim} and {b.ndim}")
        if a.dtype == "bool" and b.dtype == "bool":
            dt = "bool"
        else:
            dt = normalize_dtype(np.result_type(np.dtype(a.dtype), np.dtype(b.dtype)))
        check_float64("dot", [a.dtype, b.dtype], dt)
        ka = a.type.shape[-1]
        kb = b.type.shape[0]
        if ka is not None and kb is not None and ka != kb:
            raise ValueError(
                f"dot: shapes {a.type.shape} and {b.type.shape} are not aligned: "
                f"{ka} (dim {a.ndim - 1}) != {kb} (dim 0)"
            )
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(dt, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, b = inputs
        if a.shape[-1] != b.shape[0]:
            raise NotAlignedError.of(a.shape, b.shape)
        with np.errstate(all="ignore"):  # as the C kernels: IEEE results, no warnings
            res = np.dot(a, b)
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


def dot_protocol(a: Any, b: Any) -> Variable | None:
    """Theano's dot protocol: an operand that is a variable of another type than a tensor (a
    sparse matrix of ``fncache.sparse``) makes the product itself (``a.__dot__(b)``, else
    ``b.__rdot__(a)``); None when both are tensors (or values)."""
    if isinstance(a, Variable) and not isinstance(a.type, TensorType) and hasattr(a, "__dot__"):
        return a.__dot__(b)
    if isinstance(b, Variable) and not isinstance(b.type, TensorType) and hasattr(b, "__rdot__"):
        return b.__rdot__(a)
    return None


def dot(a: Any, b: Any) -> Variable:
    """numpy.dot (and Theano's): 1-D and 2-D operands are a :class:`Dot`; a 0-d operand
    multiplies; N-d operands contract ``a``'s last axis with ``b``'s second to last. A sparse
    operand makes ``fncache.sparse.dot``."""
    other = dot_protocol(a, b)
    if other is not None:
        return other
    va, vb = as_tensor_variable(a), as_tensor_variable(b)
    if va.ndim == 0 or vb.ndim == 0:
        return elemwise("mul", va, vb)
    if va.ndim > 2 or vb.ndim > 2:
        from .array_ops import tensordot
        from .shape_ops import dim_sizes, sizes_checked

        k = max(vb.ndim - 2, 0)
        msg = (
            f"dot: shapes not aligned: the last dim of a (size {{}}) and dim {k} of b (size {{}}) "
            "differ; numpy's dot sums over them: give sizes that match"
        )
        va = sizes_checked(va, dim_sizes(va)[-1], dim_sizes(vb)[k], msg)
        return tensordot(va, vb, ([va.ndim - 1], [k]))
    return Dot()(va, vb)


def matmul(a: Any, b: Any) -> Variable:
    """``a @ b`` (numpy.matmul): 1-D and 2-D operands are a :class:`Dot`, stacks of matrices a
    batched product (``array_ops.MatMul``); a 0-d operand is an error, as in numpy."""
    from .array_ops import matmul as batched

    return batched(a, b)


class RowPass(Op):
    """``X.T @ g`` where ``g`` is computed row by row from ``z = X @ w`` (and from vectors
    aligned with X's rows, and single values), with the row values the rest of the graph
    reads: the gradient of a linear model. Made by the `rowpass` rewrite, which matches it
    by structure; the C backend runs it as one pass over X by blocks of rows (z, then the
    row values, then ``X.T @ g`` accumulated while the block is still in cache), so X is read
    from memory once instead of twice. ``products`` passes of one X (a gradient and a
    Hessian-vector product) are one pass: ``z_k = X @ w_k`` and ``X.T @ g_k`` for each.

    Inputs: X (m, n), w_1 .. w_p (n,) (p = ``products``), then the region's other inputs.
    ``nodes`` is the region in order, each ``(op, refs)`` (an elementwise op or a `SumToShape`)
    with ``refs`` indexing the values ``[inputs..., z_1 .. z_p, node results...]``; ``outs``
    indexes ``g_1 .. g_p``, then the row values returned after the products ``X.T @ g_k``.
    ``perform`` runs the region's own ops, so numpy's broadcasting and errors are those of the
    unfused graph; the C step does the same where a row input does not have X's row count.
    """

    __props__ = ("nodes", "outs", "products")

    def __init__(self, nodes: tuple, outs: tuple[int, ...], products: int = 1) -> None:
        self.nodes = tuple((op, tuple(int(r) for r in refs)) for op, refs in nodes)
        self.outs = tuple(int(r) for r in outs)
        self.products = int(products)

    def __str__(self) -> str:
        many = f"x{self.products}" if self.products != 1 else ""
        return f"RowPass{many}{{" + ",".join(str(op)[:40] for op, _ in self.nodes) + "}"

    def _types(self, in_types: list[TensorType]) -> list[TensorType]:
        """The type of every value (inputs, the z's, node results), from the inputs' types."""
        x = in_types[0]
        types = list(in_types) + [TensorType(x.dtype, (x.shape[0],))] * self.products
        for op, refs in self.nodes:
            types.append(op.make_node(*[types[r]() for r in refs]).outputs[0].type)
        return types

    def make_node(self, x: Variable, *rest: Variable) -> Apply:
        p = self.products
        ws = rest[:p]
        if x.ndim != 2 or len(ws) != p or any(w.ndim != 1 or w.dtype != x.dtype for w in ws):
            raise TypeError(
                f"{self}: expects a matrix and {p} vector(s) of its dtype, got "
                f"{', '.join(str(v.type) for v in (x, *ws))}"
            )
        types = self._types([v.type for v in (x, *rest)])
        gs = [TensorType(types[r].dtype, (x.type.shape[1],)) for r in self.outs[:p]]
        return Apply(self, [x, *rest], gs + [types[r] for r in self.outs[p:]])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        p = self.products
        inner = node.tag.get("rowpass_inner")
        if inner is None:  # the products and the region's nodes on placeholders, built once
            types = self._types([v.type for v in node.inputs])
            inner = node.tag["rowpass_inner"] = (
                [Dot().make_node(types[0](), types[1 + k]()) for k in range(p)],
                [op.make_node(*[types[r]() for r in refs]) for op, refs in self.nodes],
            )
        x = inputs[0]
        vals = list(inputs)
        for k in range(p):
            try:
                vals += Dot().perform(inner[0][k], [x, inputs[1 + k]])
            except NotAlignedError as e:
                e.part = k  # which product: its error names X and that product's w
                raise
        for part, ((op, refs), n) in enumerate(zip(self.nodes, inner[1])):
            try:
                vals += op.perform(n, [vals[r] for r in refs])
            except BroadcastError as e:
                e.part = part  # which of the region's nodes: its error names that node's inputs
                raise
        # every X.T @ g_k has X's dtype (the rewrites make no other), node's first output's
        return [Dot().perform(node, [x.T, vals[r]])[0] for r in self.outs[:p]] + [
            vals[r] for r in self.outs[p:]
        ]

    def composite(self, dtypes: Sequence[str]) -> S.Composite:
        """The region as one loop body over the rows, given the dtypes of the op's inputs: its
        inputs are z_1 .. z_p, then the op's inputs after the w's (read as rows or single
        values); its outputs ``g_1 .. g_p``, then the returned row values. A `SumToShape` is
        the identity there: in that loop every row input has X's row count, so nothing was
        broadcast."""
        n_in, p = len(dtypes), self.products
        loop_dtypes = [dtypes[0]] * p + list(dtypes[1 + p :])
        steps: list[tuple] = []
        ref: dict[int, tuple[str, int]] = {n_in + k: ("in", k) for k in range(p)}
        ref.update({i: ("in", i - 1) for i in range(1 + p, n_in)})
        for j, (op, refs) in enumerate(self.nodes):
            if not isinstance(op, Elemwise):  # SumToShape: its gradient input, unchanged
                ref[n_in + p + j] = ref[refs[0]]
                continue
            base = len(steps)
            for name, srefs, dt in op.composite.steps:
                steps.append(
                    (name, tuple(ref[refs[k]] if kind == "in" else ("s", base + k) for kind, k in srefs), dt)
                )
            ref[n_in + p + j] = ("s", base + op.composite.outputs[0])
        outputs = []
        for r in self.outs:
            kind, k = ref[r]
            if kind == "in":  # a loop input returned as it is
                steps.append(("identity", (("in", k),), loop_dtypes[k]))
                k = len(steps) - 1
            outputs.append(k)
        return S.Composite(loop_dtypes, steps, outputs)
