"""PyTensor's ``vectorize`` and ``vectorize_graph``: a graph built on core-shaped inputs,
applied to inputs with extra leading (batch) dims, as ``numpy.vectorize`` applies a function.

A graph of elementwise ops, reductions, dimshuffles, basic indexing, shapes and reshapes is
rewritten node by node: each node is the same op on the batched inputs, their batch dims
first (an elementwise op broadcasts them, the others' axes move past them), so the result
compiles, fuses and differentiates as the core graph does. Any other graph runs once per
batch element: the batch dims are broadcast together and flattened into one, whose rows a
``scan`` loops over (numpy.vectorize's loop, symbolic), and the stacked results take the
batch dims back.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ..graph.args import pairs_arg
from ..graph.basic import Apply, Variable, ancestors, substitute, toposort
from .basic import as_tensor_variable, constant, tensor
from .elemwise import Elemwise, cast
from .reduction import Reduce
from .shape_ops import DimShuffle, Reshape, Shape, concatenate, dim_sizes, dimshuffle, reshape, shape
from .subtensor import Subtensor

__all__ = ["vectorize", "vectorize_graph"]


def _aligned(v: Variable, batch: int, n_batch: int, core: int) -> Variable:
    """``v`` (``batch`` batch dims, then its core dims) with ``n_batch`` batch dims and ``core``
    core dims: size-1 dims added before its batch dims and between them and its core dims,
    so numpy's broadcasting pairs batch dims with batch dims and core dims with core dims."""
    own_core = v.ndim - batch
    if batch == 0:
        return v  # right-aligned broadcasting already puts it among the core dims
    pattern: list[Any] = ["x"] * (n_batch - batch) + list(range(batch))
    pattern += ["x"] * (core - own_core) + list(range(batch, v.ndim))
    return dimshuffle(v, pattern)


def _batch_elemwise(node: Apply, inputs: list[Variable], batch: list[int]) -> list[Variable]:
    n_batch = max(batch)
    core = max(i.ndim for i in node.inputs)
    args = [_aligned(v, b, n_batch, core) for v, b in zip(inputs, batch)]
    op = node.op
    if isinstance(op, Reduce):
        op = Reduce(op.kind, tuple(a + n_batch for a in op.axes), op.out_dtype, op.pre, op.ddof, op.acc_dtype)
    return op.make_node(*args).outputs


def _batch_dimshuffle(node: Apply, inputs: list[Variable], batch: list[int]) -> list[Variable]:
    b = batch[0]
    pattern = list(range(b)) + [p if p == "x" else p + b for p in node.op.pattern]
    return [DimShuffle(node.op.in_ndim + b, tuple(pattern))(inputs[0])]


def _batch_subtensor(node: Apply, inputs: list[Variable], batch: list[int]) -> list[Variable] | None:
    if any(batch[1:]):
        return None  # bounds read from the batch: each element has its own
    whole = (("s", None, None, None),) * batch[0]
    return Subtensor(whole + node.op.idx).make_node(*inputs).outputs


def _batch_shape(node: Apply, inputs: list[Variable], batch: list[int]) -> list[Variable]:
    return [shape(inputs[0])[batch[0] :]]  # the core dims' sizes: the same for every element


def _batch_reshape(node: Apply, inputs: list[Variable], batch: list[int]) -> list[Variable] | None:
    x, shp = inputs
    if batch[1]:
        return None  # a shape read from the batch: each element has its own
    sizes = concatenate([shape(x)[: batch[0]], cast(shp, "int64")])
    return [Reshape(node.op.ndim + batch[0])(x, sizes)]


#: the ops a node of which is rewritten to take batched inputs (a rule returns None where the
#: node's batch cannot be one op: the graph then loops over the batch)
_RULES: dict[type, Callable[[Apply, list[Variable], list[int]], list[Variable] | None]] = {
    Elemwise: _batch_elemwise,
    Reduce: _batch_elemwise,
    DimShuffle: _batch_dimshuffle,
    Subtensor: _batch_subtensor,
    Shape: _batch_shape,
    Reshape: _batch_reshape,
}


def _checked_pairs(replace: Any) -> list[tuple[Variable, Variable]]:
    pairs = []
    for core, new in pairs_arg(replace, "vectorize_graph: replace", "core variable", "batched expression"):
        if not isinstance(core, Variable):
            raise TypeError(f"vectorize_graph: a key must be a symbolic variable of the graph, got {core!r}")
        new = as_tensor_variable(new)
        if new.dtype != core.dtype or new.ndim < core.ndim:
            raise TypeError(
                f"vectorize_graph: {core!r} ({core.type}) is replaced by {new.type}; give a tensor of its "
                f"dtype with its {core.ndim} core dims last and any batch dims before them"
            )
        tail = new.type.shape[new.ndim - core.ndim :]
        if any(c is not None and t is not None and c != t for c, t in zip(core.type.shape, tail)):
            raise ValueError(
                f"vectorize_graph: the core dims {tail} of the replacement of {core!r} contradict its "
                f"static shape {core.type.shape}; give a tensor whose last dims have that shape"
            )
        pairs.append((core, new))
    return pairs


def _by_node(outs: list[Variable], pairs: list[tuple[Variable, Variable]]) -> list[Variable] | None:
    """The outputs rewritten node by node, or None where a node's op has no rule."""
    new: dict[int, tuple[Variable, int]] = {id(c): (v, v.ndim - c.ndim) for c, v in pairs if v.ndim > c.ndim}
    done = {id(c): v for c, v in pairs}
    for node in toposort(outs, blockers=[c for c, _ in pairs]):
        if not any(id(i) in new for i in node.inputs):
            if any(id(i) in done for i in node.inputs):
                rebuilt = node.op.make_node(*[done.get(id(i), i) for i in node.inputs]).outputs
                done.update({id(o): r for o, r in zip(node.outputs, rebuilt)})
            continue
        rule = _RULES.get(type(node.op))
        args = [new[id(i)][0] if id(i) in new else done.get(id(i), i) for i in node.inputs]
        batch = [new[id(i)][1] if id(i) in new else 0 for i in node.inputs]
        batched = None if rule is None else rule(node, args, batch)
        if batched is None:
            return None
        for o, r in zip(node.outputs, batched):
            if r.ndim > o.ndim:
                new[id(o)] = (r, r.ndim - o.ndim)
            else:
                done[id(o)] = r  # the same for every batch element (a shape)
    return [new[id(o)][0] if id(o) in new else done.get(id(o), o) for o in outs]


def _by_loop(outs: list[Variable], pairs: list[tuple[Variable, Variable]]) -> list[Variable]:
    """The outputs computed once per batch element: a ``scan`` over the rows of the batched
    inputs broadcast together, their batch dims flattened into one."""
    from .arrange import broadcast_shape
    from .extra_ops import broadcast_to
    from .scan import scan

    batched = [(c, v, v.ndim - c.ndim) for c, v in pairs if v.ndim > c.ndim]
    n_batch = max(b for _, _, b in batched)
    sizes = broadcast_shape(*[tuple(dim_sizes(v)[:b]) for _, v, b in batched], arrays_are_shapes=True)
    count: Any = constant(1, dtype="int64")
    for s in sizes:
        count = count * s
    # numpy's broadcasting right-aligns each input's batch dims with the others'
    rows = [
        reshape(broadcast_to(v, [*sizes, *dim_sizes(v)[b:]]), [count, *dim_sizes(v)[b:]], ndim=c.ndim + 1)
        for c, v, b in batched
    ]
    fixed = {c: v for c, v in pairs if v.ndim == c.ndim}
    cores = [c for c, _, _ in batched]

    def step(*row: Variable) -> list[Variable]:
        return substitute(outs, {**fixed, **dict(zip(cores, row))})

    stacked, _ = scan(step, sequences=rows, return_list=True)
    return [reshape(s, [*sizes, *dim_sizes(s)[1:]], ndim=n_batch + o.ndim) for s, o in zip(stacked, outs)]


def vectorize_graph(outputs: Any, replace: Any) -> Any:
    """PyTensor's ``vectorize_graph``: ``outputs`` (a variable or a list) with each variable of
    ``replace`` (a dict or (core, batched) pairs) replaced by a tensor of its dtype with the same
    core dims last and extra batch dims before them, the graph rewritten so that it computes the
    core graph for every batch element (batch dims broadcast as numpy's): node by node for
    elementwise ops, reductions, dimshuffles, basic indexing, shapes and reshapes (of sizes
    that do not depend on the batch), by a loop over the batch otherwise. Outputs
    that do not depend on a batched variable are returned as they are."""
    single = not isinstance(outputs, (list, tuple))
    outs = [as_tensor_variable(o) for o in ([outputs] if single else outputs)]
    pairs = _checked_pairs(replace)
    used = {id(v) for v in ancestors(outs)}
    pairs = [(c, v) for c, v in pairs if id(c) in used]
    new = _batched(outs, pairs)
    if new is None:
        # A loop gives every output it computes the batch dims of all the variables it loops
        # over: each output gets those of the variables it reads (PyTensor's), one loop per set.
        keys = [c for c, _ in pairs]
        groups: dict[tuple[int, ...], list[int]] = {}
        for k, o in enumerate(outs):
            reads = {id(v) for v in ancestors([o], blockers=keys)}
            groups.setdefault(tuple(i for i, c in enumerate(keys) if id(c) in reads), []).append(k)
        new = list(outs)
        for mine, ks in groups.items():
            sub_outs, sub_pairs = [outs[k] for k in ks], [pairs[i] for i in mine]
            got = _batched(sub_outs, sub_pairs)
            if got is None:
                got = _by_loop(sub_outs, sub_pairs)
            for k, g in zip(ks, got):
                new[k] = g
    return new[0] if single else new


def _batched(outs: list[Variable], pairs: list[tuple[Variable, Variable]]) -> list[Variable] | None:
    """The outputs with ``pairs`` replaced: as they are where no replacement has batch dims,
    else rewritten node by node, or None where a node's op has no rule."""
    if not any(v.ndim > c.ndim for c, v in pairs):
        return substitute(outs, dict(pairs))
    return _by_node(outs, pairs)


_DIMS = r"\((?:\w+(?:,\s*\w+)*)?\)"
_SIGNATURE = re.compile(rf"^\s*({_DIMS}(?:\s*,\s*{_DIMS})*)\s*->\s*({_DIMS}(?:\s*,\s*{_DIMS})*)\s*$")


def _parse_signature(signature: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """numpy's generalized ufunc signature ``"(m,n),(n)->(m)"``: each input's and output's core
    dim names."""
    m = _SIGNATURE.match(signature) if isinstance(signature, str) else None
    if m is None:
        raise ValueError(
            f"vectorize: signature {signature!r} is not a generalized ufunc signature; give one such as "
            "'(m,n),(n)->(m)' (a pair of parentheses per input and output, '()' for a scalar)"
        )

    def side(text: str) -> list[tuple[str, ...]]:
        return [tuple(d.strip() for d in g.split(",") if d.strip()) for g in re.findall(r"\(([^)]*)\)", text)]

    return side(m.group(1)), side(m.group(2))


def vectorize(func: Callable[..., Any], signature: str | None = None) -> Callable[..., Any]:
    """PyTensor's ``vectorize`` (``numpy.vectorize`` over symbolic graphs): a function that,
    given tensors with extra leading batch dims, builds ``func``'s graph on core-shaped inputs
    (every input a scalar without ``signature``; the core dims a generalized ufunc signature
    names, ``"(m,n),(n)->(m)"``, last) and returns it for every batch element (batch dims
    broadcast as numpy's; see :func:`vectorize_graph`). Its outputs (one or a list, as
    ``func``'s) have the batch dims of all the inputs."""
    if not callable(func):
        raise TypeError(f"vectorize: func must be callable, got {func!r}")
    parsed = None if signature is None else _parse_signature(signature)

    def vectorized(*args: Any) -> Any:
        inputs = [as_tensor_variable(a) for a in args]
        ins_sig = [()] * len(inputs) if parsed is None else parsed[0]
        if len(ins_sig) != len(inputs):
            raise TypeError(
                f"vectorize: the signature {signature!r} names {len(ins_sig)} inputs, got {len(inputs)}; "
                "give one tensor per input of the signature"
            )
        cores = []
        for k, (v, dims) in enumerate(zip(inputs, ins_sig)):
            if v.ndim < len(dims):
                raise ValueError(
                    f"vectorize: input {k} ({v.type}) has fewer dims than its core dims {dims} of the "
                    f"signature {signature!r}; give a tensor with at least {len(dims)} dims"
                )
            cores.append(tensor(dtype=v.dtype, shape=v.type.shape[v.ndim - len(dims) :]))
        result = func(*cores)
        single = not isinstance(result, (list, tuple))
        outs = [as_tensor_variable(r) for r in ([result] if single else result)]
        if parsed is not None and len(parsed[1]) != len(outs):
            raise ValueError(
                f"vectorize: the signature {signature!r} names {len(parsed[1])} outputs, func returned "
                f"{len(outs)}; give a signature with one '()' group per output"
            )
        if parsed is not None:
            for k, (o, dims) in enumerate(zip(outs, parsed[1])):
                if o.ndim != len(dims):
                    raise ValueError(
                        f"vectorize: output {k} of func has {o.ndim} dims, the signature {signature!r} "
                        f"gives it {len(dims)}; give the output's core dims in the signature"
                    )
        new = vectorize_graph(outs, list(zip(cores, inputs)))
        new = _broadcast_batch(new, outs, inputs, cores)
        return new[0] if single else new

    vectorized.__name__ = getattr(func, "__name__", "vectorized")
    vectorized.__doc__ = getattr(func, "__doc__", None)
    return vectorized


def _broadcast_batch(
    new: list[Variable], outs: list[Variable], inputs: list[Variable], cores: list[Variable]
) -> list[Variable]:
    """Each output with the batch dims of all the inputs (numpy.vectorize's: an output that
    reads only some inputs, or none, is broadcast to the others' batch dims too)."""
    from .arrange import broadcast_shape
    from .extra_ops import broadcast_to

    shapes = [tuple(dim_sizes(v)[: v.ndim - c.ndim]) for v, c in zip(inputs, cores) if v.ndim > c.ndim]
    if not shapes:
        return new
    sizes = broadcast_shape(*shapes, arrays_are_shapes=True)
    one = len(shapes) == 1
    out = []
    for n, o in zip(new, outs):
        batch = n.ndim - o.ndim
        # with one batched input an output's batch dims are its own, or it has none
        if one and batch == len(sizes):
            out.append(n)
        else:
            out.append(broadcast_to(n, [*sizes, *dim_sizes(n)[batch:]]))
    return out
