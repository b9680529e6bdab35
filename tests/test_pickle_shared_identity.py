"""Functions pickled together with their shared variables keep sharing them when loaded, as
Theano's and PyTensor's do (pickle's memo): one object per shared variable that was one object
when dumped, through ``pickle``, ``cloudpickle``, ``fc.dumps`` of several objects (with
``embed_native``), signed pickles and real process boundaries.  The shared values travel once,
with the shared variables, and each function's payload records their digests: a value changed
in the pickle is refused, signed or not."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

import cloudpickle
import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import as_format_1, reseal
from fncache.runtime import pickling

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import ship_worker  # noqa: E402  (the far side of the process-pool test)

# -- one model, two functions --------------------------------------------------------------------


def _model() -> tuple[fc.Function, fc.Function, dict[str, fc.SharedVariable]]:
    """(train, predict, params): train updates w and b and counts its steps; predict reads w and b."""
    w = fc.shared(np.arange(3.0), name="w")
    b = fc.shared(np.float64(0.5), name="b", strict=True)
    steps = fc.shared(np.int64(0), name="steps")
    x = ft.dvector("x")
    train = fc.function(
        [x],
        ((x * w).sum() + b) ** 2,
        updates=[(w, w - 0.1 * x), (b, b + 1.0), (steps, steps + 1)],
        name="train",
    )
    predict = fc.function([x], (x * w).sum() + b, name="predict")
    return train, predict, {"w": w, "b": b, "steps": steps}


def _predict(w: np.ndarray, b: float, x: np.ndarray) -> float:
    return float((x * w).sum() + b)


def _check_shared(train: fc.Function, predict: fc.Function, params: dict[str, fc.SharedVariable]) -> None:
    """The loaded functions read and write the loaded params themselves: one object each."""
    for fn in (train, predict):
        for sv in fn.shared_variables:
            assert sv is params[sv.name], (fn.name, sv.name)
    x = np.array([1.0, 2.0, -1.0])
    w0, b0, n0 = params["w"].get_value(), float(params["b"].get_value()), params["steps"].get_value()
    assert predict(x) == pytest.approx(_predict(w0, b0, x))
    train(x)  # one step: seen by predict and by the params
    w1 = w0 - 0.1 * x
    np.testing.assert_allclose(params["w"].get_value(), w1)
    assert params["b"].get_value() == b0 + 1.0 and params["steps"].get_value() == n0 + 1
    assert predict(x) == pytest.approx(_predict(w1, b0 + 1.0, x))
    params["w"].set_value(np.zeros(3))  # a value set on the loaded variable reaches both functions
    assert predict(x) == pytest.approx(b0 + 1.0)
    assert train(x) == pytest.approx((b0 + 1.0) ** 2)


def test_the_theano_example():
    w = fc.shared(np.zeros(3), name="w")
    x = ft.dvector("x")
    f = fc.function([x], (x * w).sum(), updates=[(w, w + x)])
    g = fc.function([x], (x + w).sum())
    f2, g2, w2 = pickle.loads(pickle.dumps((f, g, w)))
    f2(np.ones(3))
    np.testing.assert_array_equal(w2.get_value(), np.ones(3))
    assert g2(np.zeros(3)) == 3.0
    np.testing.assert_array_equal(w.get_value(), np.zeros(3))  # the original is untouched


def _via_pickle(obj: Any) -> Any:
    return pickle.loads(pickle.dumps(obj))


def _via_pickle_protocol_5_out_of_band(obj: Any) -> Any:
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    return pickle.loads(data, buffers=[b.raw() for b in buffers])


def _via_cloudpickle(obj: Any) -> Any:
    return cloudpickle.loads(cloudpickle.dumps(obj))


def _via_fc_dumps(obj: Any) -> Any:
    return fc.loads(fc.dumps(obj))


def _via_fc_dumps_embedded(obj: Any) -> Any:
    return fc.loads(fc.dumps(obj, embed_native=True))


@pytest.mark.parametrize(
    "trip",
    [
        _via_pickle,
        _via_pickle_protocol_5_out_of_band,
        _via_cloudpickle,
        _via_fc_dumps,
        _via_fc_dumps_embedded,
    ],
    ids=["pickle", "pickle-5-out-of-band", "cloudpickle", "fc.dumps", "fc.dumps-embed_native"],
)
def test_two_functions_and_their_params_load_sharing_them(trip: Callable[[Any], Any]):
    train, predict, params = _model()
    train(np.ones(3))  # the values pickled are not the initial ones
    before = {k: v.get_value() for k, v in params.items()}
    loaded = trip({"train": train, "predict": predict, "params": params})
    assert set(loaded) == {"train", "predict", "params"}
    for k, v in loaded["params"].items():
        np.testing.assert_array_equal(v.get_value(), before[k])
        assert v is not params[k]
    assert loaded["params"]["b"].strict
    _check_shared(loaded["train"], loaded["predict"], loaded["params"])
    for k, v in params.items():  # the originals are untouched by the loaded ones
        np.testing.assert_array_equal(v.get_value(), before[k])


def test_functions_without_their_params_still_share_them():
    train, predict, _ = _model()
    train2, predict2 = pickle.loads(pickle.dumps([train, predict]))
    params = {sv.name: sv for sv in train2.shared_variables}
    _check_shared(train2, predict2, params)


def test_a_function_pickled_alone_carries_its_values_and_its_own_copies(monkeypatch):
    train, predict, params = _model()
    train(np.ones(3))
    for trip in (_via_pickle, _via_cloudpickle, _via_fc_dumps):
        t2 = trip(train)
        got = {sv.name: sv for sv in t2.shared_variables}
        for k in params:
            np.testing.assert_array_equal(got[k].get_value(), params[k].get_value())
            assert got[k] is not params[k]
        t2(np.ones(3))
        assert got["steps"].get_value() == 2 and params["steps"].get_value() == 1
    # two pickles are two sets of objects, as in Theano
    a, b = pickle.loads(pickle.dumps(train)), pickle.loads(pickle.dumps(predict))
    assert not {id(s) for s in a.shared_variables} & {id(s) for s in b.shared_variables}


def test_one_pickler_shares_across_dumps_calls():
    """pickle's memo spans the calls of one Pickler, and so does the sharing."""
    import io

    train, predict, params = _model()
    buf = io.BytesIO()
    p = pickle.Pickler(buf)
    p.dump(train)
    p.dump((predict, params))
    buf.seek(0)
    u = pickle.Unpickler(buf)
    train2 = u.load()
    predict2, params2 = u.load()
    _check_shared(train2, predict2, params2)


def test_copy_and_shared_variables_of_loaded_functions():
    train, predict, params = _model()
    t2, p2, params2 = pickle.loads(pickle.dumps((train, predict, params)))
    assert [sv.name for sv in t2.shared_variables] == [sv.name for sv in train.shared_variables]
    t3 = t2.copy()  # reads the same loaded variables
    t3(np.ones(3))
    assert params2["steps"].get_value() == 1 and t3.shared_variables == t2.shared_variables
    other = fc.shared(np.ones(3), name="w_other")
    p3 = p2.copy(swap={params2["w"]: other})
    assert p3(np.ones(3)) == pytest.approx(3.0 + float(params2["b"].get_value()))


# -- the shared variable's own pickle ------------------------------------------------------------


def test_shared_variable_pickles_alone_with_its_declarations():
    v = fc.shared(np.arange(6.0).reshape(2, 3), name="m", shape=(2, None), strict=True)
    v.tag.note = "kept"
    for u in (_via_pickle(v), _via_cloudpickle(v), _via_pickle_protocol_5_out_of_band(v)):
        assert isinstance(u, fc.SharedVariable) and u is not v
        assert u.name == "m" and u.strict and u.type == v.type and u.tag.note == "kept"
        np.testing.assert_array_equal(u.get_value(), v.get_value())
        value = u.get_value(borrow=True)
        assert value.flags.writeable and value.flags.owndata  # its own, writable memory
        with pytest.raises(ValueError, match="static shape"):
            u.set_value(np.zeros((3, 3)))


def test_pickle_of_two_uses_of_one_variable_holds_its_value_once():
    w = fc.shared(np.arange(50_000.0), name="big")
    x = ft.dvector("x")
    f = fc.function([x], (x * w).sum(), updates=[(w, w + x)])
    g = fc.function([x], (x + w).sum())
    one = len(pickle.dumps(f))
    assert one > w.get_value().nbytes
    assert len(pickle.dumps((f, g, w))) < one + w.get_value().nbytes // 2


def test_a_random_stream_pickled_with_its_function_keeps_advancing():
    rs = ft.random.RandomStream(3)
    draw = rs.normal(size=(4,))
    f = fc.function([], draw)
    f2, rs2 = pickle.loads(pickle.dumps((f, rs)))
    counter = rs2.state_updates[0][0]
    assert any(counter is sv for sv in f2.shared_variables)
    first, second = f2(), f2()
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, f())  # the same stream position as the original's
    assert counter.get_value() == 2
    h = fc.function([], counter + 0)  # its default update survived: a new function advances it
    assert h() == 2 and counter.get_value() == 3


# -- checks on what is loaded ----------------------------------------------------------------------


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, data.count(old)
    return data.replace(old, new)


MARK = np.array([1.25, 2.5, 3.75, 5.125])


def _marked() -> tuple[fc.Function, fc.Function, fc.SharedVariable]:
    w = fc.shared(MARK.copy(), name="w")
    x = ft.dvector("x")
    return fc.function([x], (x * w).sum(), updates=[(w, w + x)]), fc.function([x], (x + w).sum()), w


def test_a_changed_shared_value_is_refused_unsigned():
    f, g, w = _marked()
    data = pickle.dumps((f, g, w))
    bad = _replace_once(data, MARK.tobytes(), (MARK + 1).tobytes())
    with pytest.raises(fc.PickleError, match="'w'.*does not hold the value"):
        pickle.loads(bad)


@pytest.fixture
def key_file(tmp_path: Path) -> str:
    k = tmp_path / "k.key"
    k.write_bytes(os.urandom(32))
    return str(k)


def test_a_signed_pickle_covers_the_shared_values(key_file, tmp_path):
    with fc.config.change_flags(compiledir=str(tmp_path / "cd"), signing_key=key_file):
        f, g, w = _marked()
        data = pickle.dumps((f, g, w))
        f2, g2, w2 = pickle.loads(data)
        assert g2(np.zeros(4)) == MARK.sum() and w2 is f2.shared_variables[0]
        with pytest.raises(fc.PickleError, match="does not hold the value"):
            pickle.loads(_replace_once(data, MARK.tobytes(), (MARK + 1).tobytes()))
        # the bundle: values inside the signed payload
        raw = fc.dumps((f, g, w), embed_native=True)
        f3, g3, w3 = fc.loads(raw)
        f3(np.ones(4))
        assert g3(np.zeros(4)) == (MARK + 1).sum() and w3 is g3.shared_variables[0]
        with pytest.raises(fc.PickleError, match="signature does not verify"):
            fc.loads(reseal(_replace_once(raw, MARK.tobytes(), (MARK + 1).tobytes())))
    with fc.config.change_flags(compiledir=str(tmp_path / "cd")):
        with pytest.raises(fc.PickleError, match="checksum does not match"):  # unsigned: damage
            fc.loads(_replace_once(raw, MARK.tobytes(), (MARK + 1).tobytes()))


def test_a_mismatched_variable_is_refused():
    f, _, w = _marked()
    (_, (payload, shared)) = f.__reduce__()
    other = fc.shared(np.zeros(4, dtype="float32"), name="w")
    with pytest.raises(fc.PickleError, match="'w'.*float32"):
        pickling.load_function(payload, (other,))
    with pytest.raises(fc.PickleError, match="1 shared variable"):
        pickling.load_function(payload, (w, w))
    with pytest.raises(fc.PickleError, match="shared variable"):
        pickling.load_function(payload, ("not a variable",))
    with pytest.raises(fc.PickleError, match="held by the pickle"):
        fc.loads(payload)  # its values travel beside it, not in it


def test_the_old_outer_form_still_loads():
    """Pickles written before shared variables travelled beside the payload call the loader with
    the payload alone, whose values it carries (the format-1 one too)."""
    f, g, w = _marked()

    class Old:
        def __init__(self, payload: bytes) -> None:
            self.payload = payload

        def __reduce__(self):
            return pickling.load_function, (self.payload,)

    for payload in (fc.dumps(f), as_format_1(fc.dumps(f))):
        f2, g2 = pickle.loads(pickle.dumps((Old(payload), Old(fc.dumps(g)))))
        np.testing.assert_array_equal(f2.shared_variables[0].get_value(), MARK)
        f2(np.ones(4))  # old pickles held copies: nothing shared
        assert g2(np.zeros(4)) == MARK.sum()


# -- across processes ------------------------------------------------------------------------------


_DUMP_IN_A_CHILD = """
import pickle, sys
import numpy as np
import fncache as fc
from fncache import tensor as ft
w = fc.shared(np.array([1.0, 2.0, 3.0]), name="w")
x = ft.dvector("x")
f = fc.function([x], (x * w).sum(), updates=[(w, w + x)], name="f")
g = fc.function([x], (x + w).sum(), name="g")
f(np.ones(3))
sys.stdout.buffer.write(pickle.dumps((f, g, w)))
"""


def test_dumped_in_another_process_loads_sharing():
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={fc.config.compiledir}"}
    proc = subprocess.run(
        [sys.executable, "-c", _DUMP_IN_A_CHILD], capture_output=True, env=env, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    f, g, w = pickle.loads(proc.stdout)
    np.testing.assert_array_equal(w.get_value(), [2.0, 3.0, 4.0])
    f(np.ones(3))
    assert g(np.zeros(3)) == 12.0 and w is f.shared_variables[0] is g.shared_variables[0]


def test_a_process_pool_task_gets_one_object_per_variable(monkeypatch):
    monkeypatch.setenv("FNCACHE_FLAGS", f"compiledir={fc.config.compiledir}")
    f, g, w = _marked()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        r = pool.submit(ship_worker.train_then_predict, f, g, w, np.ones(4)).result(timeout=300)
    assert r["same"] and r["predicted"] == (MARK + 1).sum()
    np.testing.assert_array_equal(r["w"], MARK + 1)
    # the result came back through a pickle as well: one object per variable here too
    f2, g2, w2 = r["functions"]
    f2(np.ones(4))
    assert g2(np.zeros(4)) == (MARK + 2).sum() and w2 is g2.shared_variables[0]
    np.testing.assert_array_equal(w.get_value(), MARK)


# -- fc.dumps of several objects -----------------------------------------------------------------


def test_fc_dumps_of_several_objects_keeps_the_structure_and_refuses_others():
    f, g, w = _marked()
    data = fc.dumps([f, (g, f), {"w": w, 0: [w]}])
    f2, (g2, f3), d = fc.loads(data)
    assert f3 is f2 and d["w"] is d[0][0] is f2.shared_variables[0] is g2.shared_variables[0]
    with pytest.raises(fc.PickleError, match="holds several objects, not the expected"):
        fc.loads(data, key=f.cache_key)
    with pytest.raises(TypeError, match="fc.dumps takes a compiled function.*got ndarray"):
        fc.dumps((f, np.zeros(3)))
    with pytest.raises(TypeError, match="got dict"):
        fc.dumps({(1, 2): f})


def test_a_malformed_bundle_is_a_pickle_error():
    f, _, w = _marked()
    (_, (payload, shared)) = f.__reduce__()
    body = pickle.loads(pickling._verified_body(payload)[0])
    for tree in [("function", 1), ("shared", "w"), ("set", []), ("dict", [((1, 2), ("shared", w))]), "x"]:
        forged = pickling._seal({"tree": tree, "functions": [(body, shared)]}, pickling.BUNDLE_KEY, 3)
        with pytest.raises(fc.PickleError, match="payload of several objects is malformed"):
            fc.loads(forged)
    deep: Any = ("shared", w)
    for _ in range(pickling.MAX_INNER_DEPTH + 2):
        deep = ("list", [deep])
    with pytest.raises(fc.PickleError, match="nest more than"):
        fc.loads(pickling._seal({"tree": deep, "functions": []}, pickling.BUNDLE_KEY, 3))
    with pytest.raises(fc.PickleError, match="does not hold a function"):
        fc.loads(pickling._seal({"tree": ("list", [])}, pickling.BUNDLE_KEY, 3))
