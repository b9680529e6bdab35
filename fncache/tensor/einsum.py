"""numpy.einsum from the existing ops: each operand's own indices summed out first, then the
operands contracted left to right (``tensordot`` where two share no index kept for later, a
broadcast product and a sum where they do), the result transposed to the output order. The
gradient comes from those ops' rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable
from ..graph.types import is_complex
from .array_ops import tensordot
from .basic import as_tensor_variable
from .elemwise import cast
from .reduction import sum as sum_
from .shape_ops import dimshuffle, transpose

__all__ = ["einsum"]


def _parse(subscripts: str, n_ops: int) -> tuple[list[str], str]:
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: the subscripts must be a string such as 'ij,jk->ik', got {subscripts!r}")
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ValueError(
            f"einsum: ellipses ('...') are not supported, got {subscripts!r}; name every dim with a letter"
        )
    lhs, arrow, out = spec.partition("->")
    ins = lhs.split(",")
    if len(ins) != n_ops:
        raise ValueError(f"einsum: {subscripts!r} names {len(ins)} operands, {n_ops} were given")
    for s in ins + [out]:
        bad = [c for c in s if not c.isalpha()]
        if bad:
            raise ValueError(f"einsum: subscripts are letters, got {bad[0]!r} in {subscripts!r}")
    if not arrow:
        # numpy's implicit output: the letters named once, in alphabetical order
        letters = "".join(ins)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for c in out:
        if out.count(c) > 1:
            raise ValueError(f"einsum: output subscript {c!r} is repeated in {subscripts!r}")
        if not any(c in s for s in ins):
            raise ValueError(f"einsum: output subscript {c!r} names no dim of an operand in {subscripts!r}")
    return ins, out


def _sum_letters(v: Variable, letters: str, keep: set[str]) -> tuple[Variable, str]:
    """``v`` summed over its letters not in ``keep``."""
    gone = [d for d, c in enumerate(letters) if c not in keep]
    if not gone:
        return v, letters
    return sum_(v, axis=tuple(gone)), "".join(c for c in letters if c in keep)


def _contract(a: Variable, la: str, b: Variable, lb: str, keep: set[str]) -> tuple[Variable, str]:
    """The product of ``a`` and ``b`` summed over their shared letters not in ``keep``."""
    shared = [c for c in la if c in lb]
    if not any(c in keep for c in shared):
        axes = ([la.index(c) for c in shared], [lb.index(c) for c in shared])
        out = tensordot(a, b, axes)
        return out, "".join(c for c in la if c not in shared) + "".join(c for c in lb if c not in shared)
    letters = la + "".join(c for c in lb if c not in la)
    pa = list(range(len(la))) + ["x"] * (len(letters) - len(la))
    pb = [lb.index(c) if c in lb else "x" for c in letters]
    return _sum_letters(dimshuffle(a, pa) * dimshuffle(b, pb), letters, keep)


def einsum(subscripts: str, *operands: Any) -> Variable:
    """numpy.einsum with explicit (``'ij,jk->ik'``) or implicit (``'ij,jk'``) output subscripts;
    the result's dtype is numpy's (that of the operands together). An index repeated within one
    operand (a diagonal) and ellipses are not supported: take ``diagonal`` first, name each dim."""
    if not operands:
        raise ValueError("einsum: give at least one operand after the subscripts")
    vs = [as_tensor_variable(o) for o in operands]
    ins, out = _parse(subscripts, len(vs))
    sizes: dict[str, int] = {}
    for k, (v, s) in enumerate(zip(vs, ins)):
        if is_complex(v.dtype):
            raise TypeError(f"einsum: complex operands are not supported, got {v.type} (operand {k})")
        if len(s) != v.ndim:
            raise ValueError(
                f"einsum: operand {k} is {v.type} ({v.ndim} dims) but {s!r} names {len(s)}; give one letter per dim"
            )
        for c in s:
            if s.count(c) > 1:
                raise ValueError(
                    f"einsum: {c!r} is repeated in operand {k}'s subscripts {s!r}; take its diagonal "
                    "with ft.diagonal first"
                )
        for c, n in zip(s, v.type.shape):
            if n is not None and sizes.setdefault(c, n) != n:
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n} in {subscripts!r}")
    dt = np.result_type(*[np.dtype(v.dtype) for v in vs]).name
    # bools are counted in int64 and the count cast back: numpy's "any of the products"
    work = [cast(v, "int64") if v.dtype == "bool" else v for v in vs]
    cur, lc = None, ""
    for k, (v, s) in enumerate(zip(work, ins)):
        later = set(out).union(*ins[k + 1 :])
        v, s = _sum_letters(v, s, later | set(lc))
        if cur is None:
            cur, lc = v, s
        else:
            cur, lc = _contract(cur, lc, v, s, later)
    cur, lc = _sum_letters(cur, lc, set(out))
    res = transpose(cur, [lc.index(c) for c in out]) if lc != out else cur
    return res if res.dtype == dt else cast(res, dt)
