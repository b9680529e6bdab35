"""``fc.grad``'s arguments and edge cases, and ``Lop``/``Rop``/``jacobian``/``hessian``'s
argument forms, against PyTensor's: each case is built the same way with either library, and
what comes back (its kind, dtype and ndim, the gradient's name, or the error's class) is
compared with PyTensor 3.0.7's answer, recorded here (the CI does not install it; where it is
installed, a test checks the record against it). Where fncache answers otherwise on purpose,
the difference is listed with the words of docs/porting.md that say so. The values are checked
against numpy; an undefined gradient's error states its reason once, and
``null_gradients="return"`` gives PyTensor's ``NullType`` placeholders.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
import fncache.gradient as fg
import fncache.tensor as ft
from fncache.graph.basic import Apply, Op
from fncache.graph.canonical import type_text

PY = fc.Mode(linker="py")
X, Y = np.array([0.5, -1.5, 2.0]), np.array([1.0, 3.0, -0.5])


def _describe(r: Any) -> str:
    """What came back: a container of results, None, a placeholder's type, or a tensor's type
    (dtype, ndim) with its name."""
    if isinstance(r, (list, tuple)):
        return f"{type(r).__name__}[{', '.join(_describe(v) for v in r)}]"
    if r is None:
        return "None"
    kind = type(r.type).__name__
    if kind in ("NullType", "DisconnectedType"):
        return kind + (f" {r.name}" if r.name else "")
    return f"{r.type.dtype}/{r.type.ndim}" + (f" {r.name}" if r.name else "")


def _outcome(build: Callable[[], Any]) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = _describe(build())
        except Exception as e:  # the error's class is the answer
            out = f"raises {type(e).__name__}"
    if any(
        issubclass(w.category, UserWarning) and "does not depend" in str(w.message).lower() for w in caught
    ):
        out += " (warns)"
    elif any("asked to compute the gradient with respect to" in str(w.message) for w in caught):
        out += " (warns)"  # PyTensor's wording
    return out


def _cases(lib: SimpleNamespace) -> dict[str, Callable[[], Any]]:
    """The cases, built with ``lib`` (``L``: the top module, ``T``: its tensor module, ``G``:
    its gradient module)."""
    L, T, G = lib.L, lib.T, lib.G
    x, y, s, i = T.dvector("x"), T.dvector("y"), T.dscalar("s"), T.lvector("i")
    c = (x * 2).sum()
    c.name = "c"
    e = x * 3
    count = T.gt(x, 0).sum()  # an integer cost
    count.name = "cnt"
    z = T.dscalar()  # unnamed
    cz = c * z
    cz.name = "cz"
    w = L.shared(np.ones(3), name="w")
    k = T.constant(np.ones(3))
    return {
        "wrt a variable": lambda: L.grad(c, x),
        "wrt a list": lambda: L.grad(c, [x]),
        "wrt a tuple": lambda: L.grad(c, (x,)),
        "wrt twice": lambda: L.grad(c, [x, x]),
        "wrt the cost": lambda: L.grad(s, s),
        "wrt a shared variable": lambda: L.grad((w * x).sum(), w),
        "wrt a float constant": lambda: L.grad((k * x).sum(), k),
        "wrt an int vector": lambda: L.grad((i * x).sum(), i),
        "wrt a bool": lambda: L.grad(x.sum(), T.lt(x, 0)),
        "wrt an int constant": lambda: L.grad(x.sum(), T.constant(2)),
        "known_grads and cost": lambda: L.grad(c, x, known_grads={e: T.ones_like(x)}),
        "known_grads, cost None": lambda: L.grad(None, x, known_grads={e: T.ones_like(x)}),
        "known_grads of the cost": lambda: L.grad(c, x, known_grads={c: T.constant(2.0)}),
        "known_grads empty, cost None": lambda: L.grad(None, x, known_grads={}),
        "known_grads None, cost None": lambda: L.grad(None, x),
        "known_grads an int gradient": lambda: L.grad(
            None, x, known_grads={e: T.ones_like(x, dtype="int64")}
        ),
        "known_grads a numpy gradient": lambda: L.grad(None, x, known_grads={e: np.ones(3)}),
        "known_grads disconnected": lambda: L.grad(None, x, known_grads={e: G.disconnected_type()}),
        "known_grads undefined": lambda: L.grad(None, x, known_grads={e: G.NullType("why")()}),
        "known_grads undefined, return": lambda: L.grad(
            None, x, known_grads={e: G.NullType("why")()}, null_gradients="return"
        ),
        **{
            f"return_disconnected={r}": (
                lambda r=r: L.grad(c, [x, y], disconnected_inputs="ignore", return_disconnected=r)
            )
            for r in ("zero", "None", "none", "disconnected", "Disconnected", "bogus")
        },
        **{
            f"disconnected_inputs={d}": (lambda d=d: L.grad(c, [x, y], disconnected_inputs=d))
            for d in ("ignore", "warn", "raise", "bogus")
        },
        "disconnected_inputs=bogus, none disconnected": lambda: L.grad(c, x, disconnected_inputs="bogus"),
        "wrt reached through disconnected_grad": lambda: L.grad(G.disconnected_grad(x).sum(), x),
        "wrt reached through zero_grad": lambda: L.grad(G.zero_grad(x).sum(), x),
        "cost a vector": lambda: L.grad(x * 2, x),
        "cost an int": lambda: L.grad(count, x),
        "cost a bool": lambda: L.grad(T.gt(x.sum(), 0), x),
        "cost a constant": lambda: L.grad(T.constant(2.0), x, disconnected_inputs="ignore"),
        "cost undefined": lambda: L.grad(G.NullType("why")(), x),
        "consider_constant": lambda: L.grad((e * x).sum(), x, consider_constant=[e]),
        "consider_constant a tuple": lambda: L.grad((e * x).sum(), x, consider_constant=(e,)),
        "consider_constant one variable": lambda: L.grad((e * x).sum(), x, consider_constant=e),
        "consider_constant the wrt": lambda: L.grad((e * x).sum(), x, consider_constant=[x]),
        "add_names=False": lambda: L.grad(c, x, add_names=False),
        "add_names, one unnamed": lambda: L.grad(cz, [x, z]),
        "null_gradients=return, none undefined": lambda: L.grad(c, x, null_gradients="return"),
        "null_gradients=bogus": lambda: L.grad(c, x, null_gradients="bogus"),
        "undefined_grad": lambda: L.grad(G.undefined_grad(x).sum(), x),
        "undefined_grad, return": lambda: L.grad(G.undefined_grad(x).sum() + c, x, null_gradients="return"),
        "undefined_grad, return, another": lambda: L.grad(
            (G.undefined_grad(x) * y).sum(), [x, y], null_gradients="return"
        ),
        "Lop": lambda: G.Lop(x * 2, x, T.ones_like(x)),
        "Lop lists": lambda: G.Lop([x * 2], [x], [T.ones_like(x)]),
        "Lop tuples": lambda: G.Lop((x * 2,), (x,), (T.ones_like(x),)),
        "Lop a numpy point": lambda: G.Lop(x * 2, x, np.ones(3)),
        "Lop disconnected": lambda: G.Lop(x * 2, [x, y], T.ones_like(x)),
        "Lop disconnected, ignore": lambda: G.Lop(
            x * 2, [x, y], T.ones_like(x), disconnected_inputs="ignore"
        ),
        "Lop disconnected, return disconnected": lambda: G.Lop(
            x * 2, [x, y], T.ones_like(x), disconnected_inputs="ignore", return_disconnected="disconnected"
        ),
        "Lop lengths differ": lambda: G.Lop([x * 2, x], x, [T.ones_like(x)]),
        "Rop": lambda: G.Rop(x * 2, x, T.ones_like(x)),
        "Rop lists": lambda: G.Rop([x * 2], [x], [T.ones_like(x)]),
        "Rop tuples": lambda: G.Rop((x * 2,), (x,), (T.ones_like(x),)),
        "Rop a list of f": lambda: G.Rop([x * 2, x * 3], x, T.ones_like(x)),
        "Rop an int f": lambda: G.Rop(T.argmax(x), x, T.ones_like(x)),
        "Rop by the ops": lambda: G.Rop(x * 2, x, T.ones_like(x), use_op_rop_implementation=True),
        "Rop disconnected": lambda: G.Rop(y * 2, x, T.ones_like(x)),
        **{
            f"Rop disconnected, ignore, {r}": (
                lambda r=r: G.Rop(
                    y * 2, x, T.ones_like(x), disconnected_outputs="ignore", return_disconnected=r
                )
            )
            for r in ("zero", "none", "disconnected")
        },
        "Rop lengths differ": lambda: G.Rop(x * 2, [x, y], [T.ones_like(x)]),
        "pullback": lambda: G.pullback(x * 2, x, T.ones_like(x)),
        "pushforward": lambda: G.pushforward(x * 2, x, T.ones_like(x)),
        **{
            f"jacobian{form}, vectorize={v}": (lambda v=v, wrt=wrt: G.jacobian(x * y, wrt(x, y), vectorize=v))
            for v in (False, True)
            for form, wrt in (
                (" one", lambda a, b: a),
                (" list", lambda a, b: [a, b]),
                (" tuple", lambda a, b: (a, b)),
            )
        },
        "jacobian of a scalar": lambda: G.jacobian(c, x),
        "jacobian of a matrix": lambda: G.jacobian(T.outer(x, y), x),
        "jacobian of an int vector": lambda: G.jacobian(T.cast(x * 2, "int64"), x),
        "jacobian disconnected": lambda: G.jacobian(x * 2, [x, y]),
        "jacobian disconnected, ignore": lambda: G.jacobian(x * 2, [x, y], disconnected_inputs="ignore"),
        "jacobian consider_constant": lambda: G.jacobian(e * x, x, consider_constant=[e]),
        "jacobian vectorize=1": lambda: G.jacobian(x * 2, x, vectorize=1),
        "jacobian wrt an int": lambda: G.jacobian(x * 2, i),
        "hessian": lambda: G.hessian((x**3).sum(), x),
        "hessian list": lambda: G.hessian((x**3).sum() + (y**2).sum(), [x, y]),
        "hessian tuple": lambda: G.hessian((x**3).sum(), (x,)),
        "hessian vectorize=True": lambda: G.hessian((x**3).sum(), x, vectorize=True),
        "hessian of a vector": lambda: G.hessian(x * 2, x),
        "hessian wrt a scalar": lambda: G.hessian((x**3).sum() * s, [x, s], disconnected_inputs="ignore"),
        "hessian disconnected": lambda: G.hessian(c, [x, y]),
        "hessian disconnected, ignore": lambda: G.hessian(c, [x, y], disconnected_inputs="ignore"),
        "hessian consider_constant": lambda: G.hessian((e * x).sum(), x, consider_constant=[e]),
    }


#: PyTensor 3.0.7's answers (``_outcome`` of each case built with PyTensor).
PYTENSOR = {
    "wrt a variable": "float64/1 (dc/dx)",
    "wrt a list": "list[float64/1 (dc/dx)]",
    "wrt a tuple": "tuple[float64/1 (dc/dx)]",
    "wrt twice": "list[float64/1 (dc/dx), float64/1 (dc/dx)]",
    "wrt the cost": "float64/0",
    "wrt a shared variable": "float64/1",
    "wrt a float constant": "float64/1",
    "wrt an int vector": "float64/1",
    "wrt a bool": "raises DisconnectedInputError",
    "wrt an int constant": "raises DisconnectedInputError",
    "known_grads and cost": "float64/1 (dc/dx)",
    "known_grads, cost None": "float64/1",
    "known_grads of the cost": "float64/1 (dc/dx)",
    "known_grads empty, cost None": "raises DisconnectedInputError",
    "known_grads None, cost None": "raises ValueError",
    "known_grads an int gradient": "raises TypeError",
    "known_grads a numpy gradient": "raises TypeError",
    "known_grads disconnected": "raises DisconnectedInputError",
    "known_grads undefined": "raises NullTypeGradError",
    "known_grads undefined, return": "NullType",
    "return_disconnected=zero": "list[float64/1 (dc/dx), float64/1]",
    "return_disconnected=None": "list[float64/1 (dc/dx), None]",
    "return_disconnected=none": "list[float64/1 (dc/dx), None]",
    "return_disconnected=disconnected": "list[float64/1 (dc/dx), DisconnectedType]",
    "return_disconnected=Disconnected": "list[float64/1 (dc/dx), DisconnectedType]",
    "return_disconnected=bogus": "raises AssertionError",
    "disconnected_inputs=ignore": "list[float64/1 (dc/dx), float64/1]",
    "disconnected_inputs=warn": "list[float64/1 (dc/dx), float64/1] (warns)",
    "disconnected_inputs=raise": "raises DisconnectedInputError",
    "disconnected_inputs=bogus": "raises ValueError",
    "disconnected_inputs=bogus, none disconnected": "float64/1 (dc/dx)",
    "wrt reached through disconnected_grad": "raises DisconnectedInputError",
    "wrt reached through zero_grad": "float64/1",
    "cost a vector": "raises TypeError",
    "cost an int": "float64/1 (dcnt/dx)",
    "cost a bool": "float64/1",
    "cost a constant": "float64/1",
    "cost undefined": "raises ValueError",
    "consider_constant": "float64/1",
    "consider_constant a tuple": "float64/1",
    "consider_constant one variable": "raises ValueError",
    "consider_constant the wrt": "float64/1",
    "add_names=False": "float64/1",
    "add_names, one unnamed": "list[float64/1 (dcz/dx), float64/0]",
    "null_gradients=return, none undefined": "float64/1 (dc/dx)",
    "null_gradients=bogus": "float64/1 (dc/dx)",
    "undefined_grad": "raises NullTypeGradError",
    "undefined_grad, return": "NullType",
    "undefined_grad, return, another": "list[NullType, float64/1]",
    "Lop": "float64/1",
    "Lop lists": "list[float64/1]",
    "Lop tuples": "tuple[float64/1]",
    "Lop a numpy point": "float64/1",
    "Lop disconnected": "raises DisconnectedInputError",
    "Lop disconnected, ignore": "list[float64/1, float64/1]",
    "Lop disconnected, return disconnected": "list[float64/1, DisconnectedType]",
    "Lop lengths differ": "raises AssertionError",
    "Rop": "float64/1",
    "Rop lists": "list[float64/1]",
    "Rop tuples": "tuple[float64/1]",
    "Rop a list of f": "list[float64/1, float64/1]",
    "Rop an int f": "float64/0",
    "Rop by the ops": "float64/1",
    "Rop disconnected": "raises DisconnectedInputError",
    "Rop disconnected, ignore, zero": "float64/1",
    "Rop disconnected, ignore, none": "None",
    "Rop disconnected, ignore, disconnected": "DisconnectedType",
    "Rop lengths differ": "raises ValueError",
    "pullback": "float64/1",
    "pushforward": "float64/1",
    "jacobian one, vectorize=False": "float64/2",
    "jacobian list, vectorize=False": "list[float64/2, float64/2]",
    "jacobian tuple, vectorize=False": "tuple[float64/2, float64/2]",
    "jacobian one, vectorize=True": "float64/2",
    "jacobian list, vectorize=True": "list[float64/2, float64/2]",
    "jacobian tuple, vectorize=True": "tuple[float64/2, float64/2]",
    "jacobian of a scalar": "float64/1 (dc/dx)",
    "jacobian of a matrix": "float64/3",
    "jacobian of an int vector": "float64/2",
    "jacobian disconnected": "raises DisconnectedInputError",
    "jacobian disconnected, ignore": "list[float64/2, float64/2]",
    "jacobian consider_constant": "float64/2",
    "jacobian vectorize=1": "float64/2",
    "jacobian wrt an int": "raises DisconnectedInputError",
    "hessian": "float64/2",
    "hessian list": "list[float64/2, float64/2]",
    "hessian tuple": "tuple[float64/2]",
    "hessian vectorize=True": "raises TypeError",
    "hessian of a vector": "raises ValueError",
    "hessian wrt a scalar": "raises ValueError",
    "hessian disconnected": "raises DisconnectedInputError",
    "hessian disconnected, ignore": "list[float64/2, float64/2]",
    "hessian consider_constant": "float64/2",
}

#: Where fncache answers otherwise on purpose: its answer, and the words of docs/porting.md
#: that say so.
REFUSED_INT = "**Gradients with respect to integers** (or bools) are refused"
CHECKED = "**Gradient arguments are checked when given**"
FNCACHE_DIFFERS = {
    "wrt an int vector": ("raises TypeError", REFUSED_INT),
    "wrt a bool": ("raises TypeError", REFUSED_INT),
    "wrt an int constant": ("raises TypeError", REFUSED_INT),
    "jacobian wrt an int": ("raises TypeError", REFUSED_INT),
    "known_grads a numpy gradient": ("float64/1", "a gradient in `known_grads` may be a numpy value"),
    "return_disconnected=bogus": ("raises ValueError", CHECKED),
    "disconnected_inputs=bogus, none disconnected": ("raises ValueError", CHECKED),
    "null_gradients=bogus": ("raises ValueError", CHECKED),
    "consider_constant one variable": ("raises TypeError", CHECKED),
    "Lop lengths differ": ("raises ValueError", CHECKED),
    "jacobian vectorize=1": ("raises TypeError", "`vectorize` must be `True` or `False`"),
    "hessian vectorize=True": ("float64/2", "`hessian` takes `jacobian`'s `vectorize`"),
    "hessian of a vector": ("raises TypeError", "a `TypeError`, as `grad`'s"),
    "hessian wrt a scalar": ("list[float64/2, float64/0]", "a `wrt` of any number of dims"),
}


def _fncache() -> SimpleNamespace:
    return SimpleNamespace(L=fc, T=ft, G=fg)


def test_the_cases_give_pytensors_answers_or_a_documented_difference() -> None:
    cases = _cases(_fncache())
    assert sorted(cases) == sorted(PYTENSOR)
    porting = (Path(__file__).parent.parent / "docs" / "porting.md").read_text()
    wrong = {}
    for name, build in cases.items():
        want, doc = FNCACHE_DIFFERS.get(name, (PYTENSOR[name], None))
        got = _outcome(build)
        if got != want:
            wrong[name] = (got, want)
        assert doc is None or " ".join(doc.split()) in " ".join(porting.split()), doc
    assert wrong == {}


def test_the_aliases_are_pytensors() -> None:
    # pytensor.grad, pytensor.tensor.grad/jacobian/hessian and pytensor.Lop/Rop are its
    # gradient module's functions; so are fncache's
    assert ft.grad is fc.grad is fg.grad
    assert (ft.jacobian, ft.hessian, fc.Lop, fc.Rop) == (fg.jacobian, fg.hessian, fg.Lop, fg.Rop)


def test_the_recorded_answers_are_pytensors() -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.gradient as pg
    import pytensor.tensor as pt

    lib = SimpleNamespace(L=pytensor, T=pt, G=pg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # its ops' L_op deprecation
        got = {name: _outcome(build) for name, build in _cases(lib).items()}
    assert got == PYTENSOR


# -- the values, against numpy --------------------------------------------------------------
def test_the_values_against_numpy() -> None:
    x, y, s = ft.dvector("x"), ft.dvector("y"), ft.dscalar("s")
    c = (x**3).sum() * s
    e = x * 3
    gx, gy = fc.grad(c, [x, y], disconnected_inputs="ignore")
    count = ft.gt(x, 0).sum()
    outs = {
        "grad": gx,
        "disconnected zeros": gy,
        "known_grads": fc.grad(None, x, known_grads={ft.sin(x): y}),
        "known_grads and cost": fc.grad(c, x, known_grads={e: y}),
        "consider_constant": fc.grad((e * x).sum(), x, consider_constant=[e]),
        "int cost": fc.grad(count, x),
        "Lop": fg.Lop(ft.sin(x), x, y),
        "Rop": fg.Rop(ft.sin(x) * y, x, y),
        "Rop by the ops": fg.Rop(ft.sin(x), x, y, use_op_rop_implementation=True),
        "Rop of an int": fg.Rop(ft.argmax(x), x, y),
        "jacobian": fg.jacobian(ft.sin(x) * y, x, vectorize=True),
        "int jacobian": fg.jacobian(ft.cast(x * 2, "int64"), x),
        "hessian": fg.hessian(c, x),
        "undefined elsewhere": fc.grad((fg.undefined_grad(x) * y).sum(), [x, y], null_gradients="return")[1],
    }
    got = dict(
        zip(outs, fc.function([x, y, s], list(outs.values()), mode=PY, on_unused_input="ignore")(X, Y, 2.0))
    )
    want = {
        "grad": 6 * X**2,
        "disconnected zeros": np.zeros(3),
        "known_grads": np.cos(X) * Y,
        "known_grads and cost": 6 * X**2 + 3 * Y,
        "consider_constant": 3 * X,
        "int cost": np.zeros(3),
        "Lop": np.cos(X) * Y,
        "Rop": np.cos(X) * Y * Y,
        "Rop by the ops": np.cos(X) * Y,
        "Rop of an int": np.zeros(()),
        "jacobian": np.diag(np.cos(X) * Y),
        "int jacobian": np.zeros((3, 3)),
        "hessian": np.diag(12 * X),
        "undefined elsewhere": X,
    }
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-13, err_msg=name)
        assert got[name].dtype == np.float64, name


# -- undefined gradients: the error, null_gradients="return", NullType's equality ---------------
class PowOp(Op):
    """``x ** k``, whose gradient in the count ``k`` is undefined (PyTensor's helper)."""

    __props__ = ()

    def make_node(self, x: Any, k: Any) -> Apply:
        x, k = ft.as_tensor_variable(x), ft.as_tensor_variable(k)
        return Apply(self, [x, k], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = np.asarray(inputs[0] ** inputs[1])

    def grad(self, inputs: list, output_grads: list) -> list:
        x, k = inputs
        return [output_grads[0] * k * x ** (k - 1), fg.grad_undefined(self, 1, k, "k counts")]


class HalfOp(PowOp):
    """``x ** k`` whose gradient in ``k`` is a bare ``NullType`` (its reason names nothing)."""

    def grad(self, inputs: list, output_grads: list) -> list:
        return [PowOp.grad(self, inputs, output_grads)[0], fg.NullType("k counts")()]


#: PyTensor 3.0.7's reason, and its NullTypeGradError: "`grad` encountered a NaN. " + reason
REASON = (
    "This variable is Null because the grad method for input 1 (k) of the PowOp op is undefined. k counts"
)


def test_an_undefined_gradients_error_states_its_reason_once() -> None:
    x, k = ft.dvector("x"), ft.dscalar("k")
    with pytest.raises(fg.NullTypeGradError) as info:
        fc.grad(PowOp()(x, k).sum(), [x, k])
    assert str(info.value) == f"grad: {REASON}"
    assert isinstance(info.value, TypeError) and isinstance(info.value, NotImplementedError)
    # a reason that does not name the op and the input: the error does
    with pytest.raises(fg.NullTypeGradError) as info:
        fc.grad(HalfOp()(x, k).sum(), k)
    assert (
        str(info.value)
        == "grad: the gradient of HalfOp with respect to its input 1 (k) is undefined: k counts"
    )
    # inside an op made of a graph: the outer op named, the reason once
    a, b = ft.dvector("a"), ft.dscalar("b")
    outer = fc.OpFromGraph([a, b], [PowOp()(a, b) * 2.0])
    with pytest.raises(fg.NullTypeGradError) as info:
        fc.grad(outer(x, k).sum(), k)
    message = str(info.value)
    assert "OpFromGraph" in message and message.count("undefined") == 2, message
    assert "input 1 (b) of the PowOp op is undefined. k counts" in message


def test_null_gradients_return_gives_pytensors_placeholders() -> None:
    x, k = ft.dvector("x"), ft.dscalar("k")
    cost = PowOp()(x, k).sum()
    cost.name = "c"
    gx, gk = fc.grad(cost, [x, k], null_gradients="return")
    assert isinstance(gk.type, fg.NullType) and gk.type.why_null == REASON
    assert (gx.name, gk.name) == ("(dc/dx)", "(dc/dk)")  # PyTensor names both
    np.testing.assert_allclose(fc.function([x, k], gx, mode=PY)(X, 3.0), 3 * X**2, rtol=1e-13)
    # an op without any rule: undefined, its reason the error's
    twice = ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector])(lambda v: v * 2)
    g = fc.grad(twice(x).sum(), x, null_gradients="return")
    assert isinstance(g.type, fg.NullType) and g.type.why_null.startswith(
        "PythonOp{<lambda>} has no gradient; give one"
    )
    # an undefined gradient given in known_grads reaches x only
    e = x * 3
    gx, gk = fc.grad(k * 2, [x, k], known_grads={e: fg.NullType("why")()}, null_gradients="return")
    assert gx.type.why_null == "why" and not isinstance(gk.type, fg.NullType)
    # a placeholder has no value: refused, with its reason, where it is used
    for placeholder, said in (
        (gx, r"undefined gradient \(NullType: why\)"),
        (fg.disconnected_type(), "disconnected"),
    ):
        with pytest.raises(TypeError, match=said):
            fc.function([x, k], placeholder)
        with pytest.raises(TypeError, match=said):
            ft.sum(placeholder)
    with pytest.raises(
        ValueError, match=r"grad: null_gradients must be one of 'raise', 'return', got 'Return'"
    ):
        fc.grad(cost, x, null_gradients="Return")


def test_null_types_are_equal_whatever_their_reasons_and_keyed_apart() -> None:
    a, b = fg.NullType("one reason"), fg.NullType("another")
    # PyTensor's NullType.__eq__ and __hash__: its class only
    assert a == b and hash(a) == hash(b) and len({a, b, fg.null_type}) == 1
    assert a != fg.DisconnectedType() and str(a) == "NullType" and repr(a) == "NullType('one reason')"
    # a key reads the reason: two graphs holding them would never share one
    assert type_text(a) != type_text(b) and type_text(a) == type_text(fg.NullType("one reason"))
    assert repr(a()) == "<NullType>" and repr(fg.disconnected_type()) == "<DisconnectedType>"
