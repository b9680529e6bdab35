"""numpy.einsum from the existing ops: each operand's own indices summed out first, then the
operands contracted left to right (``tensordot`` where two share no index kept for later, a
broadcast product and a sum where they do), the result transposed to the output order. The
dims of an ellipsis get names of their own, kept to the output, so they broadcast in those
products. An index repeated within one operand takes that operand's diagonal first, and an
index of static size 1 in one operand and another size in others is that operand's broadcast
(numpy's): the dim is dropped from it. A size 1 known only at run time broadcasts too: in the
products as any elementwise op's, and in a contraction by `BroadcastTensorDot`. The gradient
comes from those ops' rules."""

from __future__ import annotations

import functools
import itertools
import string
from typing import Any

import numpy as np

from ..graph.basic import Variable
from .array_ops import BroadcastTensorDot, diagonal, specify_shape, squeeze, tensordot
from .basic import as_tensor_variable
from .elemwise import cast, elemwise
from .pyop import check_value
from .reduction import sum as sum_
from .shape_ops import dimshuffle, transpose

__all__ = ["einsum"]


#: the dims an ellipsis stands for are named by the characters from here on, which no
#: subscript (a letter) can be
_ELLIPSIS_NAMES = 0x100


def _split_ellipsis(s: str, subscripts: str) -> tuple[str, bool]:
    """One operand's (or the output's) letters without its ellipsis, and whether it had one."""
    rest = s.replace("...", "", 1)
    if "." in rest:
        raise ValueError(
            f"einsum: '.' only comes as one ellipsis '...' per operand, got {s!r} in {subscripts!r}"
        )
    bad = [c for c in rest if c not in string.ascii_letters]
    if bad:
        raise ValueError(f"einsum: subscripts are letters a-z, A-Z, got {bad[0]!r} in {subscripts!r}")
    return rest, len(rest) != len(s)


def _parse(subscripts: str, vs: list[Variable]) -> tuple[list[str], str, str]:
    """Each operand's subscripts and the output's, an ellipsis replaced by one name per dim it
    stands for (numpy's broadcasting: right-aligned, the longest one's dims in the output);
    and those names."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: the subscripts must be a string such as 'ij,jk->ik', got {subscripts!r}")
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(vs):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands, {len(vs)} were given")
    parsed = [_split_ellipsis(s, subscripts) for s in terms]
    ell_dims = []
    for k, ((letters, has_ell), v) in enumerate(zip(parsed, vs)):
        if len(letters) > v.ndim or (len(letters) < v.ndim and not has_ell):
            raise ValueError(
                f"einsum: operand {k} is {v.type} ({v.ndim} dims) but {terms[k]!r} names {len(letters)}; "
                "give one letter per dim (or '...' for the leading ones)"
            )
        ell_dims.append(v.ndim - len(letters) if has_ell else 0)
    ell = "".join(chr(_ELLIPSIS_NAMES + i) for i in range(max(ell_dims, default=0)))
    ins = []
    for (letters, has_ell), e, term in zip(parsed, ell_dims, terms):
        ins.append(term.replace("...", ell[len(ell) - e :]) if has_ell else letters)
    if not arrow:
        # numpy's implicit output: the ellipsis dims, then the letters named once, in
        # alphabetical order
        letters = "".join(p[0] for p in parsed)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    else:
        # an explicit output without '...' sums the dims the ellipses stand for (PyTensor's
        # einsum; numpy refuses)
        letters, has_ell = _split_ellipsis(out, subscripts)
        out = out.replace("...", ell) if has_ell else letters
    for c in out:
        if out.count(c) > 1:
            raise ValueError(f"einsum: output subscript {c!r} is repeated in {subscripts!r}")
        if not any(c in s for s in ins):
            raise ValueError(f"einsum: output subscript {c!r} names no dim of an operand in {subscripts!r}")
    return ins, out, ell


def _take_diagonals(v: Variable, letters: str, subscripts: str) -> tuple[Variable, str]:
    """``v`` with each index repeated in ``letters`` replaced by the diagonal over its dims
    (numpy's einsum: ``'ii->i'``, ``'ii'`` the trace), which must be of one size."""
    for c in dict.fromkeys(letters):
        while letters.count(c) > 1:
            d1 = letters.index(c)
            d2 = letters.index(c, d1 + 1)
            n1, n2 = v.type.shape[d1], v.type.shape[d2]
            if n1 is not None and n2 is not None and n1 != n2:
                raise ValueError(
                    f"einsum: the dims of the repeated subscript {c!r} have sizes {n1} and {n2} in "
                    f"{subscripts!r}; a diagonal needs equal sizes"
                )
            if n1 is None or n2 is None:
                same = elemwise("eq", v.shape[d1], v.shape[d2])
                v = check_value(
                    v,
                    same,
                    f"einsum: the dims of the repeated subscript {c!r} have sizes {{}} and {{}} in "
                    f"{subscripts!r}; a diagonal needs equal sizes",
                    v.shape[d1],
                    v.shape[d2],
                )
            v = diagonal(v, 0, d1, d2)
            if v.type.shape[-1] is None and (n1, n2) != (None, None):
                # the sizes are equal (checked above), so one known is the diagonal's length
                v = specify_shape(v, v.type.shape[:-1] + (n2 if n1 is None else n1,))
            letters = letters[:d1] + letters[d1 + 1 : d2] + letters[d2 + 1 :] + c
    return v, letters


def _drop_broadcast_dims(vs: list[Variable], ins: list[str]) -> tuple[list[Variable], list[str]]:
    """Each operand without its dims of static size 1 whose index has another size (or one
    unknown) in some operand: the operand is constant along that index, so it broadcasts."""
    wide = {c for v, s in zip(vs, ins) for c, n in zip(s, v.type.shape) if n != 1}
    out_vs, out_ins = [], []
    for v, s in zip(vs, ins):
        gone = [d for d, (c, n) in enumerate(zip(s, v.type.shape)) if n == 1 and c in wide]
        if gone:
            v = squeeze(v, tuple(gone))
            s = "".join(c for d, c in enumerate(s) if d not in gone)
        out_vs.append(v)
        out_ins.append(s)
    return out_vs, out_ins


def _name(c: str, ell: str) -> str:
    """How an error names the index ``c``: its letter, or its place among the ellipsis dims."""
    return f"subscript {c!r}" if c not in ell else f"ellipsis dim {ell.index(c) - len(ell)}"


def _check_run_time_sizes(vs: list[Variable], ins: list[str], ell: str, subscripts: str) -> list[Variable]:
    """``vs`` with a check of each index that several operands share, a size of which is known
    only at run time: its sizes must be equal or 1 (numpy's), or einsum names the index and
    its sizes (the product or sum that would fail instead names neither)."""
    vs = list(vs)
    for c in dict.fromkeys("".join(ins)):
        at = [(k, s.index(c)) for k, s in enumerate(ins) if c in s]
        if len(at) < 2 or all(vs[k].type.shape[d] is not None for k, d in at):
            continue
        ns = [vs[k].shape[d] for k, d in at]
        # each two sizes equal or one of them 1 (a 1 broadcasts against a 0 too)
        oks = [
            functools.reduce(
                lambda x, y: elemwise("or_", x, y),
                (elemwise("eq", n, m), elemwise("eq", n, 1), elemwise("eq", m, 1)),
            )
            for n, m in itertools.combinations(ns, 2)
        ]
        ok = functools.reduce(lambda x, y: elemwise("and_", x, y), oks)
        k0 = at[0][0]
        vs[k0] = check_value(
            vs[k0],
            ok,
            f"einsum: {_name(c, ell)} has sizes {', '.join(['{}'] * len(ns))} in {subscripts!r}; "
            "the sizes of an index must be equal or 1",
            *ns,
        )
    return vs


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
        # a size 1 known only at run time broadcasts against the other's size, as numpy's
        # einsum has it; where the sizes are static (and so equal), a plain tensordot
        static = all(a.type.shape[i] is not None and b.type.shape[j] is not None for i, j in zip(*axes))
        out = tensordot(a, b, axes) if static else BroadcastTensorDot(*axes)(a, b)
        return out, "".join(c for c in la if c not in shared) + "".join(c for c in lb if c not in shared)
    letters = la + "".join(c for c in lb if c not in la)
    pa = list(range(len(la))) + ["x"] * (len(letters) - len(la))
    pb = [lb.index(c) if c in lb else "x" for c in letters]
    return _sum_letters(dimshuffle(a, pa) * dimshuffle(b, pb), letters, keep)


#: numpy's and PyTensor's ``optimize`` of einsum: how to choose the order of the contractions
EINSUM_OPTIMIZE = (None, False, True, "greedy", "optimal")


def einsum(subscripts: str, *operands: Any, optimize: Any = None) -> Variable:
    """numpy.einsum with explicit (``'ij,jk->ik'``) or implicit (``'ij,jk'``) output subscripts,
    and ellipses (``'...ij,...jk->...ik'``) for leading dims that broadcast as numpy's do; the
    result's dtype is numpy's (that of the operands together), every product taken in it. An index repeated within one
    operand takes its diagonal (``'ii->i'``); an index of size 1 in an operand broadcasts
    against the others' size (numpy's); an explicit output without ``'...'`` sums the ellipsis dims
    (PyTensor's; numpy refuses). ``optimize`` (numpy's and PyTensor's: one of
    :data:`EINSUM_OPTIMIZE` or an ``np.einsum_path`` path) is taken and the order of the
    contractions is fncache's own choice whatever it says: the values are the same, up to
    rounding."""
    path = isinstance(optimize, (list, tuple)) and len(optimize) > 0 and optimize[0] == "einsum_path"
    if not path and not any(optimize is o or (isinstance(o, str) and optimize == o) for o in EINSUM_OPTIMIZE):
        raise ValueError(
            f"einsum: optimize must be one of {EINSUM_OPTIMIZE} or a path from np.einsum_path, got {optimize!r}"
        )
    if not operands:
        raise ValueError("einsum: give at least one operand after the subscripts")
    vs = [as_tensor_variable(o) for o in operands]
    ins, out, ell = _parse(subscripts, vs)
    vs, ins = (list(t) for t in zip(*(_take_diagonals(v, s, subscripts) for v, s in zip(vs, ins))))
    vs, ins = _drop_broadcast_dims(vs, ins)
    sizes: dict[str, int] = {}
    for v, s in zip(vs, ins):
        for c, n in zip(s, v.type.shape):
            if n is None:
                continue
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"einsum: {_name(c, ell)} has sizes {sizes[c]} and {n} in {subscripts!r}")
    vs = _check_run_time_sizes(vs, ins, ell, subscripts)
    dt = np.result_type(*[np.dtype(v.dtype) for v in vs]).name
    # every operand is taken in the result dtype before any product, as numpy does (two
    # narrow operands must not wrap in their own dtype first); bools are counted in int64
    # and the count cast back: numpy's "any of the products"
    wd = "int64" if dt == "bool" else dt
    work = [v if v.dtype == wd else cast(v, wd) for v in vs]
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
