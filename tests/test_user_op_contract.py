"""Ops written as Theano and PyTensor users write them, held to what the graph relies on: an op
that declares ``destroy_map`` overwrites only values nothing else reads (the caller's arrays,
shared values and the other readers of an intermediate keep theirs, in every mode), a
``view_map`` op's input survives the in-place nodes after it, and a ``perform`` (either form)
gives values of the types its node declares or a TypeError that names the op, the output and
the fix, the same in FAST_RUN and FAST_COMPILE."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same


class AddOneInPlace(fc.Op):
    """Theano's in-place op: adds 1 into its input's buffer and returns that buffer."""

    __props__ = ()
    destroy_map = {0: [0]}

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        x += 1
        output_storage[0][0] = x


class Reversed(fc.Op):
    """A declared view: the input reversed, sharing its memory."""

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = inputs[0][::-1]


@pytest.mark.parametrize("mode", MODES)
def test_an_op_overwriting_its_input_leaves_what_others_read(mode: str) -> None:
    op = AddOneInPlace()
    x = ft.dvector("x")
    v = np.array([0.0, 1.0, 2.0])
    keep = v.copy()
    cases = {
        "a function input": ([op(x)], [v + 1]),
        "an input also returned": ([op(x), x], [v + 1, v]),
        "an intermediate read after": ([op(x * 2), x * 2 + 10], [2 * v + 1, 2 * v + 10]),
        "an intermediate read before": ([x * 2 + 10, op(x * 2)], [2 * v + 10, 2 * v + 1]),
        "an intermediate also returned": ([op(ft.exp(x)), ft.exp(x)], [np.exp(v) + 1, np.exp(v)]),
        "then in-place nodes": (
            [ft.exp(op(ft.sin(x) * 2)) + 1, ft.sin(x)],
            [np.exp(np.sin(v) * 2 + 1) + 1, np.sin(v)],
        ),
        "a view of the input": ([op(x[1:]), x], [v[1:] + 1, v]),
        "a declared view of an intermediate": ([op(Reversed()(x * 3)), x * 3], [(3 * v)[::-1] + 1, 3 * v]),
        "twice in a row": ([op(op(x * 2))], [2 * v + 2]),
        "a constant": ([op(ft.constant(np.arange(3.0))) + x], [np.arange(3.0) + 1 + v]),
        "fc.In(mutable=True)": ([op(x)], [v + 1]),
    }
    for what, (outs, want) in cases.items():
        given = fc.In(x, mutable=True) if "mutable" in what else x
        f = fc.function([given], outs, mode=mode, on_unused_input="ignore")
        for call in range(2):
            got = f(v)
            for k, (g, w) in enumerate(zip(got, want)):
                assert_same(g, w, f"{what}: output {k}, call {call}")
            assert_same(v, keep, f"{what}: the caller's array")


@pytest.mark.parametrize("mode", MODES)
def test_an_op_overwriting_a_shared_value_leaves_it_to_its_update(mode: str) -> None:
    op = AddOneInPlace()
    w = fc.shared(np.zeros(3), name="w")
    f = fc.function([], [op(w), w * 1], updates=[(w, w + 5)], mode=mode)
    for call in range(3):
        got = f()
        assert_same(got[0], np.full(3, 5.0 * call + 1), f"the op's value, call {call}")
        assert_same(got[1], np.full(3, 5.0 * call), f"the shared value read, call {call}")
    assert_same(w.get_value(), np.full(3, 15.0), "only the update changed it")


@pytest.mark.parametrize("mode", MODES)
def test_a_declared_view_survives_in_place_nodes_after_it(mode: str) -> None:
    x = ft.dvector("x")
    v = np.array([0.0, 1.0, 2.0])
    y = ft.exp(x)
    view = Reversed()(y)
    f = fc.function([x], [ft.set_subtensor(view[0], 7.0), view + 1, y, Reversed()(x) * 2], mode=mode)
    for _ in range(2):
        got = f(v)
        assert_same(got[0], np.r_[7.0, np.exp(v)[::-1][1:]], "set_subtensor of the view")
        assert_same(got[1], np.exp(v)[::-1] + 1, "the view + 1")
        assert_same(got[2], np.exp(v), "the viewed intermediate")
        assert_same(got[3], v[::-1] * 2, "a view of the input")
    assert_same(v, np.array([0.0, 1.0, 2.0]), "the caller's array")


def _returning(value: Any, otype: Any, form: str) -> fc.Op:
    """An op giving ``value(x)`` for an output declared ``otype``, in Theano's storage form of
    perform or fncache's list-returning one."""

    class Given(fc.Op):
        __props__ = ()

        def make_node(self, x: Any) -> fc.Apply:
            return fc.Apply(self, [ft.as_tensor_variable(x)], [otype()])

        if form == "output_storage":

            def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
                output_storage[0][0] = value(inputs[0])

        else:

            def perform(self, node: fc.Apply, inputs: list) -> list:
                return [value(inputs[0])]

    return Given()


FORMS = ("output_storage", "list")
CONVERTED = {  # what perform gives -> the value the function computes with
    "float32 values for float64": (lambda v: v.astype("float32"), ft.dvector, lambda v: v),
    "int64 values for float64": (lambda v: v.astype("int64"), ft.dvector, lambda v: v),
    "bool values for float64": (lambda v: v > 1, ft.dvector, lambda v: (v > 1) * 1.0),
    "a list for a vector": (lambda v: [1.0, 2.0, 3.0], ft.dvector, lambda v: np.array([1.0, 2.0, 3.0])),
    "a Python float for a scalar": (lambda v: 1.5, ft.dscalar, lambda v: np.array(1.5)),
    "a float32 0-d array for a scalar": (
        lambda v: np.array(1.5, "float32"),
        ft.dscalar,
        lambda v: np.array(1.5),
    ),
    "a strided view": (lambda v: np.arange(6.0)[::2], ft.dvector, lambda v: np.arange(6.0)[::2]),
}
REFUSED = {  # what perform gives -> what the TypeError says
    "float64 values for float32": (lambda v: v, ft.fvector, "converting float64 to float32 could lose data"),
    "int64 values for int32": (lambda v: v.astype("int64"), ft.ivector, "converting int64 to int32"),
    "2 dims for a vector": (
        lambda v: v[None],
        ft.dvector,
        r"wrong number of dimensions.*got a float64 array with 2",
    ),
    "a Python float for a vector": (lambda v: 1.5, ft.dvector, "wrong number of dimensions"),
    "complex values for float64": (
        lambda v: v + 1j,
        ft.dvector,
        "converting complex128 to float64 could lose data",
    ),
    "a string": (lambda v: "abc", ft.dvector, "Pass numeric data"),
}


@pytest.mark.parametrize("form", FORMS)
def test_a_perform_value_of_another_type_is_converted_alike_in_every_mode(form: str) -> None:
    v = np.array([0.0, 1.0, 2.0])
    for what, (value, otype, want) in CONVERTED.items():
        for mode in MODES:
            x = ft.dvector("x")
            y = _returning(value, otype, form)(x)
            f = fc.function([x], [y, y * 2], mode=mode)
            got = f(v)
            assert_same(got[0], want(v), f"{what}, {form}, {mode}: the op's value")
            assert_same(got[1], want(v) * 2, f"{what}, {form}, {mode}: a node reading it")


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("mode", MODES)
def test_a_perform_value_that_does_not_fit_raises_naming_the_op(form: str, mode: str) -> None:
    for what, (value, otype, why) in REFUSED.items():
        x = ft.dvector("x")
        op = _returning(value, otype, form)
        declared = re.escape(repr(otype().type))
        for graph in (op(x), op(x) * 1):
            f = fc.function([x], graph, mode=mode)
            with pytest.raises(
                TypeError, match=rf"(?s)Given.perform: output 0, declared {declared}: .*{why}"
            ) as e:
                f(np.array([1.0, 2.0, 3.0]))
            msg = str(e.value)
            assert "declare in make_node (or otypes)" in msg or what == "a string", (what, msg)
            assert "allow_input_downcast" not in msg and "declare the input" not in msg, (what, msg)


class Returns(fc.Op):
    """fncache's list-returning perform, giving ``how(x)`` as it is."""

    __props__ = ("how",)

    def __init__(self, how: str) -> None:
        self.how = how

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: fc.Apply, inputs: list) -> Any:
        x = inputs[0]
        return {"array": x, "two": [x, x], "none": [None]}[self.how]


def test_a_list_returning_perform_must_return_one_value_per_output() -> None:
    x = ft.dvector("x")
    for how, error, why in (
        (
            "array",
            TypeError,
            r"returned a ndarray; this form of perform\(self, node, inputs\) returns a list of 1",
        ),
        ("two", TypeError, "returned a list of 2 value"),
        ("none", ValueError, r"Returns\{none\}.perform returned None for output 0"),
    ):
        for mode in MODES:
            f = fc.function([x], Returns(how)(x) * 2, mode=mode)
            with pytest.raises(error, match=why):
                f(np.ones(2))


def test_as_op_takes_theanos_infer_shape() -> None:
    from fncache.compile.ops import as_op

    def shape_of(fgraph: Any, node: Any, input_shapes: list) -> list:
        return input_shapes

    for decorator in (ft.as_op, as_op, fc.wrap_py):
        twice = decorator(itypes=[ft.dvector], otypes=[ft.dvector], infer_shape=shape_of)(lambda v: v * 2)
        x = ft.dvector("x")
        assert_same(fc.function([x], twice(x))(np.arange(3.0)), np.arange(3.0) * 2, "the op's value")
        with pytest.raises(TypeError, match="infer_shape must be None or a function"):
            decorator([ft.dvector], [ft.dvector], infer_shape=3)


@pytest.mark.parametrize("mode", [*MODES, fc.Mode().excluding("inline_op_from_graph")], ids=str)
def test_an_overwriting_op_in_a_loop_step_and_an_op_from_graph(mode: Any) -> None:
    op = AddOneInPlace()
    x, a = ft.dvector("x"), ft.dvector("a")
    M = ft.dmatrix("M")
    states, _ = fc.scan(lambda h: op(h) * 1, outputs_info=[x], n_steps=3)
    rows, _ = fc.scan(lambda row: [op(row), row * 1], sequences=[M])
    ofg = fc.OpFromGraph([a], [op(a), a * 2])
    f = fc.function([x, M], [states, x, *rows, M, *ofg(x)], mode=mode)
    v, m = np.array([0.0, 1.0]), np.arange(4.0).reshape(2, 2)
    for call in range(2):
        got = f(v, m)
        want = [v + [[1], [2], [3]], v, m + 1, m, m, v + 1, 2 * v]
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"output {k}, call {call}")
    assert_same(v, np.array([0.0, 1.0]), "the caller's vector")
    assert_same(m, np.arange(4.0).reshape(2, 2), "the caller's matrix")


_SCRIPT = """
import pickle, sys
import fncache as fc
from fncache import tensor as ft


class AddOneInPlace(fc.Op):
    __props__ = ()
    destroy_map = {0: [0]}

    def make_node(self, x):
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        inputs[0] += 1
        output_storage[0][0] = inputs[0]


x = ft.dvector("x")
f = fc.function([x], [AddOneInPlace()(x), x, AddOneInPlace()(x * 10) * 2])
open(sys.argv[1], "wb").write(pickle.dumps(f))
"""


def test_a_pickled_overwriting_op_of_a_script_keeps_its_copies(tmp_path: Any) -> None:
    from fcutil import script_function_in_a_fresh_process

    script = tmp_path / "make.py"
    script.write_text(_SCRIPT)
    printed = script_function_in_a_fresh_process(script, tmp_path / "f.pkl")
    assert printed.strip() == str([[2.0, 3.0], [1.0, 2.0], [22.0, 42.0]])


class Scaled(fc.Op):
    """Holds a bound method of itself (``self.run = self._times``): an attribute referring
    back to the op, which has no canonical text."""

    __props__ = ()

    def __init__(self, k: float) -> None:
        self.k = k
        self.run = self._times

    def _times(self, v: np.ndarray) -> np.ndarray:
        return v * self.k

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = self.run(inputs[0])


def test_an_op_referring_back_to_itself_is_its_own_op(caplog: Any) -> None:
    x = ft.dvector("x")
    f = fc.function([x], [Scaled(2.0)(x), Scaled(3.0)(x)])
    got = f(np.array([1.0, 2.0]))
    assert_same(got[0], np.array([2.0, 4.0]), "k=2")
    assert_same(got[1], np.array([3.0, 6.0]), "k=3: never merged with k=2")
    assert "identified in this process only" in caplog.text


class Doubled(fc.Op):
    """Twice its input, in the array ``how`` says: "buffer" refills one array it keeps at each
    call (Theano's ops may reuse their storage), "table" returns a view of an array it holds
    (plus the input's sum), "new" a new array each call (``self.made`` its id, no reference)."""

    __props__ = ("how",)

    def __init__(self, how: str) -> None:
        self.how = how
        self.table = np.arange(4.0)

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
        x = inputs[0]
        if self.how == "buffer":
            if getattr(self, "buf", None) is None or self.buf.shape != x.shape:
                self.buf = np.empty_like(x)
            np.multiply(x, 2, out=self.buf)
            output_storage[0][0] = self.buf
        elif self.how == "table":
            self.table[: len(x)] = np.arange(len(x)) + x.sum()
            output_storage[0][0] = self.table[: len(x)]
        else:
            out = x * 2
            self.made = id(out)
            output_storage[0][0] = out


@pytest.mark.parametrize("mode", MODES)
def test_an_array_the_op_keeps_never_reaches_the_caller(mode: str) -> None:
    x = ft.dvector("x")
    for how, want in (("buffer", lambda v: 2 * v), ("table", lambda v: np.arange(len(v)) + v.sum())):
        op = Doubled(how)
        f = fc.function([x], [op(x), op(x) + 1], mode=mode)
        first = f(np.array([1.0, 2.0]))
        first[0] += 100  # the caller's to change
        second = f(np.array([3.0, 4.0]))
        assert_same(first[0], want(np.array([1.0, 2.0])) + 100, f"{how}: the first call's output")
        assert_same(first[1], want(np.array([1.0, 2.0])) + 1, f"{how}: the first call's output + 1")
        assert_same(second[0], want(np.array([3.0, 4.0])), f"{how}: the second call's output")
        assert_same(second[1], want(np.array([3.0, 4.0])) + 1, f"{how}: the second call's output + 1")
    # a new array each call, as almost every perform gives, is returned as it is (no copy)
    op = Doubled("new")
    f = fc.function([x], op(x), mode=mode)
    assert id(f(np.array([1.0, 2.0]))) == op.made


class TwiceThrice(fc.Op):
    """Two outputs, ``default_output = 1``: calling the op gives the second (Theano's and
    PyTensor's rule), the node still has both."""

    __props__ = ()
    default_output = 1

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type(), x.type()])

    def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = inputs[0] * 2
        output_storage[1][0] = inputs[0] * 3

    def __str__(self) -> str:
        return "TwiceThrice!"


def test_default_output_names_what_calling_the_op_gives() -> None:
    x = ft.dvector("x")
    y = TwiceThrice()(x)
    assert y is y.owner.outputs[1] and y.owner.default_output() is y
    listed = TwiceThrice()(x, return_list=True)
    assert len(listed) == 1 and listed[0] is listed[0].owner.outputs[1]
    f = fc.function([x], [y * 1, y.owner.outputs[0]])
    got = f(np.array([1.0, 2.0]))
    assert_same(got[0], np.array([3.0, 6.0]), "the default output")
    assert_same(got[1], np.array([2.0, 4.0]), "the other output")
    assert "TwiceThrice!" in fc.debugprint(y, file="str")  # PyTensor's file="str": returned, not printed
    with pytest.raises(ValueError, match="has 2 outputs and no default_output"):
        fc.Apply(AddOneInPlace(), [x], [x.type(), x.type()]).default_output()


class ScaledEq(fc.Op):
    """Theano's older spelling of an op's identity: its own ``__eq__``/``__hash__`` (no
    ``__props__``), here forgetting ``k``."""

    def __init__(self, k: float) -> None:
        self.k = k

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = inputs[0] * self.k


@pytest.mark.parametrize("mode", MODES)
def test_ops_a_users_eq_calls_equal_are_merged_only_if_they_are_alike(mode: str) -> None:
    x = ft.dvector("x")
    f = fc.function([x], [ScaledEq(2.0)(x), ScaledEq(3.0)(x), ScaledEq(2.0)(x)], mode=mode)
    got = f(np.array([1.0, 2.0]))
    for k, want in enumerate((2.0, 3.0, 2.0)):
        assert_same(got[k], np.array([1.0, 2.0]) * want, f"output {k}")


def test_an_input_given_as_its_nodes_output_is_refused() -> None:
    x = ft.dvector("x")
    with pytest.raises(ValueError, match=r"output x is already an output, an input of the node.*x.type\(\)"):
        fc.Apply(AddOneInPlace(), [x], [x])
    assert x.owner is None  # x is left an input


def test_an_op_overwriting_a_sparse_input_read_elsewhere_is_refused() -> None:
    from fncache import sparse

    class ScaleSparse(AddOneInPlace):
        def make_node(self, x: Any) -> fc.Apply:
            return fc.Apply(self, [x], [x.type()])

    s = sparse.csr_matrix("s", dtype="float64")
    with pytest.raises(
        TypeError, match=r"ScaleSparse declares it overwrites its input 0 .*copy the value in perform"
    ):
        fc.function([s], ScaleSparse()(s))


class Memo(fc.Op):
    """Theano's reuse of the previous call's storage: computes only where
    ``output_storage[0][0]`` holds nothing of the input's shape (a cache that would return a
    stale value if a call found the previous one's there), and refills it in place otherwise."""

    __props__ = ()

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
        z = output_storage[0]
        if z[0] is None or z[0].shape != inputs[0].shape:
            z[0] = inputs[0] * 2
        else:
            np.multiply(inputs[0], 3, out=z[0])  # never reached: each call's storage is new


@pytest.mark.parametrize("mode", MODES)
def test_each_call_gets_new_output_storage(mode: str) -> None:
    x = ft.dvector("x")
    f = fc.function([x], [Memo()(x), Memo()(x) + 1], mode=mode)
    first = f(np.array([1.0, 2.0]))
    second = f(np.array([5.0, 6.0]))
    assert_same(first[0], np.array([2.0, 4.0]), "the first call's output, after the second")
    assert_same(second[0], np.array([10.0, 12.0]), "the second call's output")
    assert_same(second[1], np.array([11.0, 13.0]), "the second call's output + 1")


class Twice(fc.Op):
    """Theano's form: 2 x into the output storage."""

    __props__ = ()

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = inputs[0] * 2


class TwicePlusOne(Twice):
    """A subclass extending its parent's perform through ``super()``, Theano's way."""

    def perform(self, node: fc.Apply, inputs: list, output_storage: list) -> None:
        super().perform(node, inputs, output_storage)
        output_storage[0][0] = output_storage[0][0] + 1


class TwicePlusParam(fc.Op):
    """Theano's form with params: 2 x + the op's offset."""

    __props__ = ("offset",)

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def get_params(self, node: fc.Apply) -> float:
        return self.offset

    def perform(self, node: fc.Apply, inputs: list, output_storage: list, params: float) -> None:
        output_storage[0][0] = inputs[0] * 2 + params


class TwicePlusParamSquared(TwicePlusParam):
    def perform(self, node: fc.Apply, inputs: list, output_storage: list, params: float) -> None:
        super().perform(node, inputs, output_storage, params)
        output_storage[0][0] = output_storage[0][0] ** 2


@pytest.mark.parametrize("mode", MODES)
def test_a_subclass_perform_calling_its_parents_through_super_gets_its_values(mode: str) -> None:
    """The parent's storage-writing perform, called as Theano calls it (with the output
    storage), writes that storage: fncache's list-returning form of it is what the linkers call."""
    x = ft.dvector("x")
    v = np.arange(3.0)
    np.testing.assert_array_equal(fc.function([x], TwicePlusOne()(x), mode=mode)(v), v * 2 + 1)
    np.testing.assert_array_equal(
        fc.function([x], TwicePlusParamSquared(0.5)(x), mode=mode)(v), (v * 2 + 0.5) ** 2
    )
