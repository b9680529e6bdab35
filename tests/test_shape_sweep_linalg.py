"""Shapes read without computing the value, for the linear-algebra and special functions: the
calls of tests/test_declared_types2.py (every dtype, rank, option) of each public function of
``nlinalg``, ``slinalg``, ``linalg`` and ``special`` and of the special elementwise functions,
given inputs of unknown sizes and arguments of other sizes (0, 1, batches of another size,
non-square matrices, sizes that do not match) and singular matrices. The sizes read in
FAST_RUN, compiled to C, equal the computed value's (which has its declared ndim and dtype), and
reading them raises exactly where computing the value does (FAST_COMPILE), an error naming
the op (empty matrices included)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from test_declared_types2 import RUN_ERRORS, _call, _flat, _run, _values, cases_of, public_functions
from test_shape_sweep import _other_sizes, _outcome

import fncache as fc
import fncache.tensor as ft
from fncache.graph.basic import Variable
from fncache.graph.types import TensorType

#: Special functions of ``ft`` itself (elementwise), beside the modules' own.
ELEMENTWISE = frozenset(
    "gammaln psi erf erfc erfcx erfinv erfcinv betainc gammainc gammaincc i0 i1 j0 j1 iv jv "
    "expit softplus log1p expm1 hyp2f1 owens_t".split()
)
MODULES = (ft.nlinalg, ft.slinalg, ft.linalg, ft.special)
#: The dtypes swept beside float64 (integer inputs give float outputs: the ones computed differ)
DTYPES = ("float64", "float32", "int64")


#: Left out: scipy's solver takes some 10 ms a call, and every run of the function of all the
#: cases' sizes computes it (its sizes are its operand's, as test_declared_types2 checks)
SLOW = frozenset({"solve_discrete_are"})


def _function_names() -> set[str]:
    return ELEMENTWISE.union(*(m.__all__ for m in MODULES)) - SLOW


#: (label, inputs, outputs, arguments that compute)
Case = tuple[str, list, list, list]


def _cases() -> list[Case]:
    """The cases of the functions swept whose tensors are of the dtypes swept, each with inputs
    of its own of unknown sizes (so that each case can be given arguments of its own)."""
    names, out, seen = _function_names(), [], set()
    linalg = {n for m in MODULES[:3] for n in m.__all__}
    for mname, name, fn in public_functions():
        if name not in names:
            continue
        for label, specs, params, kwargs in cases_of(mname, name, fn):
            # the cases that differ in static sizes only are one case here
            key = (name, tuple((d, s) for d, s, _ in specs), repr(kwargs))
            dts = {d for d, _, _ in specs}
            # float64 at every rank and option; the other dtypes swept as the matrices of linear
            # algebra (the elementwise functions' sizes do not depend on the dtype); scalars
            # have no size (a gcc call on every case would take long)
            other = dts <= set(DTYPES) and not kwargs and name in linalg
            if key in seen or all(not s for _, s, _ in specs) or not (dts == {"float64"} or other):
                continue
            seen.add(key)
            ins = [ft.tensor(f"a{k}", d, shape=(None,) * len(s)) for k, (d, s, _) in enumerate(specs)]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    outs = _flat(_call(fn, params, ins, kwargs))
            except (TypeError, ValueError):
                continue
            outs = [o for o in outs if isinstance(o, Variable) and isinstance(o.type, TensorType)]
            if outs:
                out.append((label, ins, outs, [_values(d, s, k) for k, (d, s, _) in enumerate(specs)]))
    return out


def _argument_sets(vals: list, rng: np.random.Generator) -> list[list]:
    """Arguments like ``vals`` of other sizes: each size 0, 1, itself or one more alike wherever
    it recurs (square matrices stay square), the last size of the first one more (non-square,
    not matching), and zeros (singular matrices)."""
    ns = {n for a in vals for n in np.shape(a)}
    sets = [
        [_other_sizes(a, {n: int(rng.choice([0, 1, n, n + 1])) for n in ns}, rng) for a in vals]
        for _ in range(4)
    ]
    sets.append([_other_sizes(a, {n: 0 for n in ns}, rng) for a in vals])
    first = vals[0]
    if np.ndim(first):
        sets.append([np.concatenate([first, first[..., :1]], axis=-1), *vals[1:]])
    sets.append([np.zeros_like(a) for a in vals])
    return sets


def _sizes(v: Any) -> list[int]:
    return list(np.shape(v))


class _Values:
    """The values of the cases of one function, computed in FAST_COMPILE by one function of
    them all (each case has inputs of its own); a case's outcome, its values or the error
    computing them raises, is found alone where the cases' together raise, its arguments
    beside the others' that compute."""

    def __init__(self, cases: list[Case]) -> None:
        self.f = fc.function(
            [i for _, ins, _, _ in cases for i in ins],
            [o for _, _, outs, _ in cases for o in outs],
            mode="FAST_COMPILE",
            on_unused_input="ignore",
        )
        self.at = np.cumsum([0] + [len(outs) for _, _, outs, _ in cases])
        self.base = [vals for _, _, _, vals in cases]

    def outcomes(self, given: list[list]) -> list[Any]:
        with np.errstate(all="ignore"):
            got = _outcome(self.f, [a for g in given for a in g])
            if not isinstance(got, BaseException):
                return [got[self.at[k] : self.at[k + 1]] for k in range(len(given))]
            out = []
            for k in range(len(given)):
                r = _outcome(
                    self.f, [a for i, g in enumerate(given) for a in (g if i == k else self.base[i])]
                )
                out.append(r if isinstance(r, BaseException) else r[self.at[k] : self.at[k + 1]])
            return out


def _computing(groups: dict[str, list[Case]]) -> tuple[list[Case], list[_Values], list[str]]:
    """The cases whose arguments compute (the others are the declared types' refusals, not a
    size sweep), grouped by function, and the values of a type other than declared."""
    cases, values, bad = [], [], []
    for group in groups.values():
        # one function of a group's cases, halved where one refuses its arguments
        with np.errstate(all="ignore"):
            ran = _run([(c[0], c[2], None, list(zip(c[1], c[3]))) for c in group], "FAST_COMPILE")
        kept = [c for c, (_, got) in zip(group, ran) if not isinstance(got, BaseException)]
        for (label, _, outs, _), (_, got) in zip(group, ran):
            for o, v in zip(outs, [] if isinstance(got, BaseException) else got):
                v = np.asarray(v)
                if v.dtype != np.dtype(o.dtype) or v.ndim != o.ndim:
                    bad.append(f"{label}: declared {o.type}, value {v.dtype} {v.shape}")
        if kept:
            cases += kept
            values += [_Values(kept)] * len(kept)
    return cases, values, bad


def test_sizes_read_of_linalg_and_special_functions() -> None:
    rng = np.random.default_rng(3)
    groups: dict[str, list[Case]] = {}
    for c in _cases():
        groups.setdefault(c[0].split("(")[0], []).append(c)
    cases, values, bad = _computing(groups)
    # the sizes of every output of every case, read in FAST_RUN (compiled to C): one function
    reads = [[o.shape[d] for o in outs for d in range(o.ndim)] for _, _, outs, _ in cases]
    reads = [
        r + [ft.zeros_like(ft.eq(o, 0)).shape[-1] for o in outs if o.ndim]
        for r, (_, _, outs, _) in zip(reads, cases)
    ]
    sized = fc.function(
        [i for _, ins, _, _ in cases for i in ins],
        [r for rs in reads for r in rs],
        mode="FAST_RUN",
        on_unused_input="ignore",
    )
    assert len(cases) > 200
    argsets = [_argument_sets(vals, rng) for _, _, _, vals in cases]
    checked: set[tuple] = set()
    for j in range(max(len(s) for s in argsets)):
        given = [s[j] if j < len(s) else c[3] for s, c in zip(argsets, cases)]
        want = []
        for f in dict.fromkeys(values):  # each function's cases, in order
            want += f.outcomes([g for g, v in zip(given, values) if v is f])
        raising = {k for k, w in enumerate(want) if isinstance(w, BaseException)}
        for k in raising:  # an error of the kinds that name the op, not a crash of scipy's
            if not isinstance(want[k], RUN_ERRORS):
                bad.append(f"{cases[k][0]} {[np.shape(a) for a in given[k]]}: {want[k]!r:.200}")
        # the cases whose values compute, beside the others' arguments that compute
        args = [a for k, c in enumerate(cases) for a in (c[3] if k in raising else given[k])]
        got = _outcome(sized, args)
        if isinstance(got, BaseException):
            bad.append(f"argument set {j}: sizes read raise {got!r:.300} where no value does")
            continue
        at = 0
        for k, ((label, _, _, _), rs) in enumerate(zip(cases, reads)):
            if k not in raising:
                expect = [n for v in want[k] for n in _sizes(v)] + [
                    _sizes(v)[-1] for v in want[k] if np.ndim(v)
                ]
                if [int(x) for x in got[at : at + len(rs)]] != expect:
                    shapes = [np.shape(a) for a in given[k]]
                    bad.append(
                        f"{label} {shapes}: sizes read {got[at : at + len(rs)]}, of the values {expect}"
                    )
            at += len(rs)
        # each case whose value raises, alone: reading its sizes raises too (once for each
        # error a case raises: each such run computes every case)
        for k in sorted(raising):
            said = (k, type(want[k]), str(want[k])[:40])
            if not reads[k] or said in checked:
                continue  # no size to read (a scalar): nothing computes it
            checked.add(said)
            args = [a for i, c in enumerate(cases) for a in (given[i] if i == k else c[3])]
            if not isinstance(_outcome(sized, args), BaseException):
                shapes = [np.shape(a) for a in given[k]]
                bad.append(
                    f"{cases[k][0]} {shapes}: the value raises {want[k]!r:.200}, the sizes read do not"
                )
    assert len(checked) > 100, "too few errors raised to compare"
    assert not bad, f"{len(bad)} problems:\n" + "\n".join(bad[:60])
