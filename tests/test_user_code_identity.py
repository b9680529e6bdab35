"""A user's op class is identified by the code it runs, wherever that code lives.

``class_code`` hashes the class's methods and, transitively, the functions, classes and
module-level data they reach through other modules of the user's (``from helpers import
scale``, ``helpers.scale``, ``pkg.helpers.scale``, a helper class's methods), so editing a
helper module between two runs sharing a compiledir never returns the values the old helper
computed (constant folding runs ``perform`` at compile time, and the cache keeps the folded
graph). Installed packages are identified by their name and version, not followed.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fncache import tensor as ft
from fncache.graph.canonical import class_code

from fcutil import in_tests_dir, keys_in_fresh_processes, run_python

#: A user's package: ``ops`` applies helpers of ``helpers``, which reads data of ``consts``.
_PACKAGE = {
    "__init__.py": "",
    "consts.py": "OFFSETS = {{'shift': {offset}}}\n\n\ndef offset():\n    return OFFSETS['shift']\n",
    "helpers.py": (
        "from {pkg}.consts import offset\n\n\n"
        "def scale(v):\n    return v * {factor}\n\n\n"
        "class Shifter:\n    def apply(self, v):\n        return v {sign} offset()\n"
    ),
    "ops.py": """import fncache as fc
from fncache import tensor as ft

import {pkg}.helpers
from {pkg} import helpers
from {pkg}.helpers import Shifter, scale


class Unary(fc.Op):
    __props__ = ()

    def make_node(self, x):
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])


class ByName(Unary):
    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = scale(inputs[0])


class ByAttribute(Unary):
    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = helpers.scale(inputs[0])


class ByDottedName(Unary):
    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = {pkg}.helpers.scale(inputs[0])


class ByMethod(Unary):
    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = Shifter().apply(inputs[0])


class Holding(Unary):
    __props__ = ("helper",)

    def __init__(self, helper):
        self.helper = helper


class HoldingFunction(Holding):
    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.helper(inputs[0])


class HoldingObject(Holding):
    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.helper.apply(inputs[0])


OPS = [ByName, ByAttribute, ByDottedName, ByMethod, lambda: HoldingFunction(scale), lambda: HoldingObject(Shifter())]
""",
}


def _write_package(root: Path, pkg: str, factor: int = 2, sign: str = "+", offset: int = 10) -> None:
    """The package ``pkg`` under ``root``, its helpers written with these values (each call
    rewrites the files, as a user editing them between two runs)."""
    (root / pkg).mkdir(parents=True, exist_ok=True)
    for name, text in _PACKAGE.items():
        (root / pkg / name).write_text(text.format(pkg=pkg, factor=factor, sign=sign, offset=offset))


def _want(factor: int, sign: str, offset: int) -> list[list[float]]:
    x = np.array([1.0, 2.0])
    scaled = (x * factor).tolist()
    shifted = (x + offset if sign == "+" else x - offset).tolist()
    return [scaled, scaled, scaled, shifted, scaled, shifted]


#: Fresh processes must compile what they read now, not a bytecode file of the same size and
#: second as the edited source.
_NO_PYC = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")


def test_editing_a_helper_in_another_module_is_not_answered_from_the_cache(tmp_path: Path) -> None:
    """Ops calling helpers of another module (by name, through the module, through the dotted
    package path, through a helper class's method reading a third module's data, or held as a
    prop: a helper function, an instance of a helper class), applied to a
    constant (folded at compile time); each run a fresh process sharing the compiledir, each
    after an edit of one helper: every run prints what the code it runs now computes."""
    script = in_tests_dir(tmp_path / "cd", "from userpkg import ops") + (
        "import json\n"
        "c = ft.constant(np.array([1.0, 2.0]))\n"
        "print(json.dumps([fc.function([], op()(c))().tolist() for op in ops.OPS]))\n"
    )
    for version in (
        {"factor": 2, "sign": "+", "offset": 10},
        {"factor": 3, "sign": "+", "offset": 10},  # the helper function's code
        {"factor": 3, "sign": "-", "offset": 10},  # the helper class's method
        {"factor": 3, "sign": "-", "offset": 20},  # data of a module the method's helper reads
        {"factor": 2, "sign": "+", "offset": 10},
    ):
        _write_package(tmp_path / "src", "userpkg", **version)
        got = json.loads(run_python(script, str(tmp_path / "src"), env=_NO_PYC))
        assert got == _want(**version), version


def test_code_reached_through_other_modules_keys_alike_in_every_process(tmp_path: Path) -> None:
    """What the hash follows is read in a fixed order, never by object ids or set order: the
    same package gives the same keys in two fresh processes (string hashing differs)."""
    _write_package(tmp_path / "src", "userpkg")
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path / 'src')!r})\n"
        "import numpy as np, fncache as fc\nfrom fncache import tensor as ft\nfrom userpkg import ops\n"
        "x = ft.dvector('x')\nprint(fc.function([x], [op()(x) for op in ops.OPS]).cache_key)\n"
    )
    assert len(keys_in_fresh_processes(code, tmp_path / "cd", 2)) == 1


_AS_OP_PACKAGE = {
    "__init__.py": "",
    "helpers.py": "def scale(v):\n    return v * {factor}\n",
    "ops.py": """import fncache as fc
from fncache import tensor as ft

from {pkg} import helpers

by_name = ft.as_op([ft.dvector], [ft.dvector])(helpers.scale)


@ft.as_op([ft.dvector], [ft.dvector])
def decorated(v):
    return helpers.scale(v) + 1
""",
}


def test_an_edited_as_op_function_in_another_module_runs_as_it_is_now(tmp_path: Path) -> None:
    """``as_op`` ops are never folded nor merged (the function may do more than return
    values), and a function entry holds the function by name (a module's) or by value (one
    decorated in place): each run after an edit of the helper the functions call computes with
    the edited helper, and the keys follow the code."""
    script = in_tests_dir(tmp_path / "cd", "from asoppkg import ops") + (
        "import json\n"
        "x = ft.dvector('x')\n"
        "print(json.dumps([fc.function([x], op(x))(np.array([1.0, 2.0])).tolist()"
        " for op in (ops.by_name, ops.decorated)]))\n"
    )
    root = tmp_path / "src" / "asoppkg"
    root.mkdir(parents=True)
    for factor in (2, 3, 2):
        for name, text in _AS_OP_PACKAGE.items():
            (root / name).write_text(text.format(pkg="asoppkg", factor=factor))
        got = json.loads(run_python(script, str(tmp_path / "src"), env=_NO_PYC))
        assert got == [[factor, 2.0 * factor], [factor + 1.0, 2.0 * factor + 1]], factor


@pytest.fixture
def importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Import modules written into ``tmp_path`` (``write(files)`` then ``load(name)``); the
    modules are forgotten after the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    loaded: list[str] = []

    class Importable:
        root = tmp_path

        @staticmethod
        def write(files: dict[str, str]) -> None:
            for name, text in files.items():
                (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / name).write_text(text)

        @staticmethod
        def load(*names: str) -> list[Any]:
            """Import ``names`` afresh, in this order (the helpers before the modules using them)."""
            importlib.invalidate_caches()
            for name in names:  # all forgotten first: modules importing each other load afresh
                sys.modules.pop(name, None)
            loaded.extend(names)
            return [importlib.import_module(name) for name in names]

    yield Importable
    for name in loaded:
        sys.modules.pop(name, None)


_OP = """import fncache as fc
import {helpers}


class Op(fc.Op):
    __props__ = ()

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = {helpers}.{call}
"""


def _op_code(importable: Any, helpers: str, helper_text: str, call: str, *more: str) -> str:
    """The class code of an op class calling ``helpers.call``, ``helpers`` written as
    ``helper_text`` (and the modules ``more``, written beforehand, imported before it)."""
    importable.write({f"{helpers}.py": helper_text, "user_op.py": _OP.format(helpers=helpers, call=call)})
    *_, ops = importable.load(*more, helpers, "user_op")
    return class_code(ops.Op)


def test_mutually_recursive_helpers_across_modules_are_hashed_once(importable: Any) -> None:
    """Two modules importing each other, their functions calling each other: the hash ends,
    is the same for the same code, and tells an edit in either module apart."""
    ping = "import pong_mod\n\n\ndef ping(n):\n    return 0 if n <= 0 else pong_mod.pong(n - 1) + {a}\n"
    pong = "import ping_mod\n\n\ndef pong(n):\n    return ping_mod.ping(n - 1) * {b}\n"

    def code(a: int, b: int) -> str:
        importable.write({"pong_mod.py": pong.format(b=b)})
        return _op_code(importable, "ping_mod", ping.format(a=a), "ping(3)", "pong_mod")

    base = code(1, 2)
    assert code(1, 2) == base
    assert code(5, 2) != base and code(1, 7) != base


def test_a_helper_class_and_module_data_are_followed(importable: Any) -> None:
    """A helper class's methods, its base classes in user modules, and the module-level data
    (a table, an array) a helper function reads."""
    text = (
        "import numpy as np\nTABLE = {{'k': {k}}}\nWEIGHTS = np.array([{w}])\n\n\n"
        "class Base:\n    def base(self, v):\n        return v * {b}\n\n\n"
        "class Scaler(Base):\n    def apply(self, v):\n        return self.base(v) + TABLE['k'] + WEIGHTS.sum()\n"
    )

    def code(k: int = 1, w: float = 0.5, b: int = 2) -> str:
        return _op_code(importable, "scaler_mod", text.format(k=k, w=w, b=b), "Scaler().apply(inputs[0])")

    base = code()
    assert code() == base
    assert len({base, code(k=2), code(w=0.25), code(b=3)}) == 4


@pytest.mark.parametrize(
    "call",
    [
        "halve(inputs[0])",
        "cached(2)",
        "apply(inputs[0])",
        "SCALER.apply(inputs[0])",
        "TABLE['scale'](inputs[0], 1)",
        "STEPS[0](inputs[0], 1)",
    ],
    ids=["partial", "lru_cache", "bound-method", "instance", "table", "list"],
)
def test_helpers_wrapped_in_callables_and_instances_are_followed(importable: Any, call: str) -> None:
    """A ``functools.partial`` of a helper, an ``lru_cache``'d helper, a bound method, a
    module-level instance of a helper class, and a dict and a list of helpers: an edit of the code behind each (or of the
    instance's state) is a new identity."""
    text = (
        "import functools\n\n\ndef scale(v, k):\n    return v * k * {factor}\n\n\n"
        "halve = functools.partial(scale, k=0.5)\n\n\n"
        "@functools.lru_cache\ndef cached(n):\n    return n * {factor}\n\n\n"
        "class Scaler:\n    def __init__(self, k):\n        self.k = k\n\n"
        "    def apply(self, v):\n        return scale(v, self.k)\n\n\n"
        "SCALER = Scaler({k})\napply = SCALER.apply\n"
        "TABLE = {{'scale': scale, 'name': 'x'}}\nSTEPS = [scale, None]\n"
    )

    def code(factor: int = 2, k: int = 1) -> str:
        return _op_code(importable, "wrapped_mod", text.format(factor=factor, k=k), call)

    base = code()
    assert code() == base and code(factor=3) != base
    if "apply" in call:
        assert code(k=2) != base


def test_installed_packages_are_identified_by_their_version_not_followed(importable: Any) -> None:
    """A helper in a ``site-packages`` folder is an installed package: an edit of its code is
    not followed (installing another version is how it changes), its version is."""
    site = "lib/site-packages/extpkg"
    text = "__version__ = '{v}'\n\n\ndef scale(v):\n    return v * {factor}\n"

    def code(v: str, factor: int) -> str:
        importable.write({f"{site}/__init__.py": text.format(v=v, factor=factor)})
        sys.path.insert(0, str(importable.root / "lib/site-packages"))
        try:
            return _op_code(importable, "uses_ext", "from extpkg import scale\n", "scale(2)", "extpkg")
        finally:
            sys.path.remove(str(importable.root / "lib/site-packages"))

    base = code("1.0", 2)
    assert code("1.0", 3) == base
    assert code("1.1", 2) != base


def test_past_the_bound_a_class_is_keyed_for_this_process_only(
    importable: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A class reaching more functions than the bound is never keyed alike by two processes
    (nor by two loads of the same code here), rather than keyed by part of its code; a
    warning names the class."""
    import fncache.graph.canonical as canonical_module

    chain = (
        "".join(f"def f{i}(v):\n    return f{i + 1}(v) + 1\n\n\n" for i in range(6))
        + "def f6(v):\n    return v\n"
    )
    monkeypatch.setattr(canonical_module, "MAX_FOLLOWED", 4)
    with caplog.at_level(logging.WARNING, logger="fncache.graph.canonical"):
        first = _op_code(importable, "chain_mod", chain, "f0(inputs[0])")
        assert _op_code(importable, "chain_mod", chain, "f0(inputs[0])") != first
    assert "user_op.Op" in caplog.text and "4" in caplog.text


def test_data_that_fails_to_be_hashed_keys_the_class_for_this_process_only(
    importable: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Module-level data nested deeper than the interpreter's recursion limit: the op still
    gets an identity (of this process only), with a warning naming the class and the error,
    never a failed compile."""
    text = f"DEEP = [0]\nfor _ in range({sys.getrecursionlimit()}):\n    DEEP = [DEEP, 1]\n"
    with caplog.at_level(logging.WARNING, logger="fncache.graph.canonical"):
        first = _op_code(importable, "deep_mod", text, "DEEP[1]")
        assert _op_code(importable, "deep_mod", text, "DEEP[1]") != first
    assert "user_op.Op" in caplog.text and "RecursionError" in caplog.text


#: State a method writes: ``_Writes`` (the module names it assigns; those it changes in place or
#: passes to a call; the attribute names it assigns on something else than a local variable;
#: the attributes of its instance it changes in place or passes to a call; those it assigns;
#: the variables it closes over that it assigns; those it changes in place), and what it only
#: reads.
_WRITERS = {
    "global N\n        N += 1": ({"N"}, set(), set(), set(), set(), set(), set()),
    "w = v\n        del w": (set(),) * 7,  # a local's deletion
    "LOG.append(v)": (set(), {"LOG"}, set(), set(), set(), set(), set()),
    "MEMO[v.shape] = MEMO.get(v.shape, 0) + 1": (set(), {"MEMO"}, set(), set(), set(), set(), set()),
    "MEMO[v.shape] += 1": (set(), {"MEMO"}, set(), set(), set(), set(), set()),
    "del MEMO[0]": (set(), {"MEMO"}, set(), set(), set(), set(), set()),
    "STATE.n += 1": (set(), {"STATE"}, {"n"}, set(), set(), set(), set()),
    "type(self).runs += 1": (set(), set(), {"runs"}, set(), set(), set(), set()),
    # through a call, which may write it, or a local name given it
    "np.copyto(LOG, v)": (set(), {"LOG"}, set(), set(), set(), set(), set()),
    "np.add(v, 1, out=LOG)": (set(), {"LOG"}, set(), set(), set(), set(), set()),
    "log = LOG\n        log.append(v)": (set(), {"LOG"}, set(), set(), set(), set(), set()),
    "v = f(LOG, v, MEMO[0])": (set(), {"LOG"}, set(), set(), set(), set(), set()),
    "MEMO[v.tobytes()] = v": (set(), {"MEMO"}, set(), set(), set(), set(), set()),  # a call above it
    "log = LOG\n        log += [v]": (set(), {"LOG"}, set(), set(), set(), set(), set()),
    # the stack shuffled above it is no write (a jump ends what is followed: not seen)
    "v = f(LOG, v < 1 < v, MEMO[0])": (set(), set(), set(), set(), set(), set(), set()),
    # its instance's state, as it runs
    "self.k = v": (set(), set(), set(), set(), {"k"}, set(), set()),
    "self.n += 1": (set(), set(), {"n"}, set(), {"n"}, set(), set()),
    "self.buf.fill(0)": (set(), set(), set(), {"buf"}, set(), set(), set()),
    "np.copyto(self.buf, v)": (set(), set(), set(), {"buf"}, set(), set(), set()),
    "self.seen.append(v)": (set(), set(), set(), {"seen"}, set(), set(), set()),
    # the variables it closes over
    # assigned, and in place (``+=`` changes a list in place)
    "nonlocal count\n        count += 1": (set(), set(), set(), set(), set(), {"count"}, {"count"}),
    "memo[v] = 1": (set(), set(), set(), set(), set(), set(), {"memo"}),
    "return memo.get(v) or count": (set(), set(), set(), set(), set(), set(), set()),
    # reads
    "v = LOG[0] + MEMO.get(0, 1) * np.asarray(STATE.n) * float(MEMO[0])": (
        set(),
        set(),
        set(),
        set(),
        set(),
        set(),
        set(),
    ),
    "return Apply(self, [v], [self.k, len(self.k.shape)])": (set(), set(), set(), set(), set(), set(), set()),
    "return self.helper(v) * self.k": (set(), set(), set(), set(), set(), set(), set()),
    "return f([LOG, v], MEMO + [1], -STATE, LOG < v)": (set(), set(), set(), set(), set(), set(), set()),
}


@pytest.mark.parametrize("body", list(_WRITERS))
def test_what_a_method_writes_is_told_from_what_it_reads(body: str) -> None:
    from fncache.graph.canonical import _writes

    space: dict[str, Any] = {}
    exec(
        f"def make(memo, count):\n  class Op:\n    def method(self, v):\n        {body}\n  return Op\n", space
    )
    code = space["make"]({}, 0).method.__code__
    assert tuple(_writes(code, {"LOG", "MEMO", "STATE"})) == _WRITERS[body], body


def test_what_building_an_instance_writes_is_its_initial_state() -> None:
    from fncache.graph.canonical import _writes

    space: dict[str, Any] = {}
    exec("class Op:\n    def __init__(self, v):\n        self.k = v\n        self.buf = v.copy()\n", space)
    assert tuple(_writes(space["Op"].__init__.__code__, set())) == (set(),) * 7


def test_functions_held_as_props_and_as_op_functions_are_identified_by_their_code(importable: Any) -> None:
    """A user's function held by an op (an ``as_op`` function, a prop) counts by its code and
    what that reaches, not by its name: loading an edited helper module gives another identity,
    the same code the same one."""
    text = "FACTOR = {factor}\n\n\ndef scale(v):\n    return v * FACTOR\n"

    def signature(factor: int) -> str:
        importable.write({"held_helpers.py": text.format(factor=factor)})
        (helpers,) = importable.load("held_helpers")
        return ft.as_op([ft.dvector], [ft.dvector])(helpers.scale).signature()

    assert signature(2) == signature(2) and signature(3) != signature(2)
