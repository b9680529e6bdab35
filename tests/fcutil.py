"""Helpers shared by the core test suite: modes, value generators and numpy comparisons.

Each distinct graph costs one gcc call in FAST_RUN, so the differential tests build one
function per (op group, dtype, mode) with many outputs, compile it once (``compiled``) and feed it
many input shapes.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

import numpy as np

MODES = ("FAST_RUN", "FAST_COMPILE")
DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8")
FLOAT_DTYPES = ("float32", "float64")

#: Relative tolerances fncache promises against numpy: float64 1e-12 (transcendentals ~4 ulp),
#: float32 1e-5.
RTOL = {"float64": 1e-12, "float32": 1e-5}
ATOL = {"float64": 1e-300, "float32": 1e-37}

#: Central finite differences in float64: the step, and the tolerances gradients meet.
FD_EPS = 1e-6
FD_RTOL = 1e-6
FD_ATOL = 1e-7


def fuzz_settings(default_examples: int, examples_var: str = "FNCACHE_HYPOTHESIS_EXAMPLES") -> Any:
    """Hypothesis settings of the property tests: ``examples_var`` examples (``default_examples``
    unset), the same ones every run unless FNCACHE_HYPOTHESIS_RANDOM is set (CI must not find a
    new failure by chance; an exploring run sets it), and no deadline (an example compiles)."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=int(os.environ.get(examples_var, str(default_examples))),
        deadline=None,
        derandomize=not os.environ.get("FNCACHE_HYPOTHESIS_RANDOM"),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def compiled(builder: Callable[..., Any]) -> Callable[..., Any]:
    """Memoize a function-building helper: each graph is compiled once per test session."""
    return functools.lru_cache(maxsize=None)(builder)


def assert_same(
    got: Any,
    want: Any,
    what: str = "",
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
) -> None:
    """``got`` equals numpy's ``want``: same dtype and shape, ints and bools exactly, floats
    within the dtype's tolerance, NaN where numpy has NaN and infinities of the same sign."""
    want = np.asarray(want)
    assert isinstance(got, np.ndarray), f"{what}: expected an ndarray, got {type(got).__name__}"
    if check_dtype:
        assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, numpy gives {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, numpy gives {want.shape}"
    if want.dtype.kind in "fc" or got.dtype.kind in "fc":
        dt = got.dtype.name if got.dtype.name in RTOL else "float64"
        np.testing.assert_allclose(
            got,
            want,
            rtol=RTOL[dt] if rtol is None else rtol,
            atol=ATOL[dt] if atol is None else atol,
            equal_nan=True,
            err_msg=what,
        )
        # assert_allclose treats inf == inf but not their signs' placement of NaN/inf: check.
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{what}: NaN positions differ"
        assert np.array_equal(np.isposinf(got), np.isposinf(want)), f"{what}: +inf differs"
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def sample(
    dtype: str,
    shape: tuple[int, ...],
    seed: int = 0,
    special: bool = True,
    low: float | None = None,
    high: float | None = None,
) -> np.ndarray:
    """Values of ``dtype`` covering signs, zero and (``special``) the extremes: NaN, +-inf,
    -0.0 for floats, min/max for ints."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype in FLOAT_DTYPES:
        lo = -4.0 if low is None else low
        hi = 4.0 if high is None else high
        a = rng.uniform(lo, hi, size=n)
        if special and n >= 8:
            a[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0]
            rng.shuffle(a)
        return a.astype(dtype).reshape(shape)
    info = np.iinfo(dtype)
    lo = max(info.min, -100) if low is None else low
    hi = min(info.max, 100) if high is None else high
    a = rng.integers(lo, hi, size=n, endpoint=True).astype(dtype)
    if special and n >= 8 and low is None and high is None:
        a[:4] = [info.min, info.max, 0, 1]
        rng.shuffle(a)
    return a.reshape(shape)


def add_at(x: np.ndarray, key: Any, y: Any) -> np.ndarray:
    """A copy of ``x`` with ``y`` added at ``x[key]``, a repeated position once per time it is
    indexed: ``np.add.at`` through the flat positions ``key`` selects (a 1-D index and values
    of its shape: numpy's ``add.at`` of a ``y`` of fewer dims than the region is wrong in 2.4)."""
    out = np.array(x, copy=True, order="C")  # (its flat positions are C order)
    where = np.arange(x.size).reshape(x.shape)[key]
    np.add.at(out.reshape(-1), where.reshape(-1), np.broadcast_to(y, where.shape).reshape(-1))
    return out


def numpy_errstate() -> Any:
    return np.errstate(all="ignore")


def reseal(payload: bytes) -> bytes:
    """A function payload with its checksum recomputed, as a forger would do after changing it
    (the checksum catches damage, only the signature catches a deliberate change)."""
    import hashlib

    from fncache.runtime import pickling

    end = len(pickling.MAGIC) + 3 + payload[len(pickling.MAGIC) + 2]
    end += 1 + payload[end]  # the function key
    body = payload[end + 33 + payload[end + 32] :]
    return payload[:end] + hashlib.sha256(payload[:end] + body).digest() + payload[end + 32 :]


def as_format_1(payload: bytes) -> bytes:
    """A function payload as fncache wrote it before function keys and checksums (format 1), unsigned."""
    import struct

    from fncache.runtime import pickling

    at = len(pickling.MAGIC)
    fmt, n = struct.unpack_from(">HB", payload, at)
    end = at + 3 + n
    if fmt == 1:
        return payload
    key_end = end + 1 + payload[end]
    body = payload[key_end + 33 + payload[key_end + 32] :]
    return payload[:at] + struct.pack(">H", 1) + payload[at + 2 : end] + b"\x00" + body


def ext_source(name: str, value: int) -> str:
    """The C source of a tiny extension module ``name`` whose ``value()`` returns ``value``."""
    return f"""#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *value(PyObject *self, PyObject *args) {{ return PyLong_FromLong({value}); }}
static PyMethodDef methods[] = {{{{"value", value, METH_NOARGS, ""}}, {{NULL, NULL, 0, NULL}}}};
static struct PyModuleDef def = {{PyModuleDef_HEAD_INIT, "{name}", NULL, -1, methods}};
PyMODINIT_FUNC PyInit_{name}(void) {{ return PyModule_Create(&def); }}
"""


def run_python(code: str, *argv: str, env: dict[str, str] | None = None) -> str:
    """The standard output of ``code`` run by a fresh Python process with ``argv``; a failed
    run fails the test with the process's standard error."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def script_function_in_a_fresh_process(script: Any, pickle_path: Any) -> str:
    """Run the user ``script`` as ``__main__`` (it pickles a function to ``sys.argv[1]``), then
    unpickle that function in another fresh process and return what calling it on
    ``[1.0, 2.0]`` prints (its outputs as lists)."""
    run_python(
        f"import runpy, sys; sys.argv = ['make.py', {str(pickle_path)!r}]; "
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    return run_python(
        "import pickle, sys, numpy as np; f = pickle.loads(open(sys.argv[1], 'rb').read());"
        "print([a.tolist() for a in f(np.array([1.0, 2.0]))])",
        str(pickle_path),
    )


def assert_second_process_compiles_nothing(code: str, *argv: str) -> None:
    """``code`` prints the compiledir's compile count, then what identifies its function and
    results (key, values); run twice in fresh processes, the second prints the same: the
    first compiled, the second found everything in the cache."""
    first, second = (run_python(code, *argv).split() for _ in range(2))
    assert int(first[0]) >= 1
    assert second == first


def in_tests_dir(compiledir: Any, imports: str) -> str:
    """The first lines of a fresh process's code (run by :func:`run_python` with the tests'
    folder as its argument): numpy, fncache and ``ft``, ``compiledir`` as the compiledir, and
    ``imports`` from the test modules."""
    return (
        "import sys, numpy as np\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import fncache as fc\n"
        "from fncache import tensor as ft\n"
        f"fc.config.compiledir = {str(compiledir)!r}\n"
        f"{imports}\n"
    )


def assert_pickles_round_trip(f: Any, *args: Any) -> None:
    """``f`` through pickle and through ``fc.dumps``/``fc.loads``: the same cache key, and the
    same bytes from ``args``."""
    import pickle

    import fncache as fc

    want = f(*args)
    for g in (pickle.loads(pickle.dumps(f)), fc.loads(fc.dumps(f))):
        assert g.cache_key == f.cache_key
        for got, w in zip(g(*args), want):
            assert got.tobytes() == w.tobytes()


def keys_in_fresh_processes(code: str, compiledir: Any, runs: int) -> set[str]:
    """The distinct outputs of ``code`` (which prints a cache key) run in ``runs`` fresh Python
    processes sharing ``compiledir``: one key when it does not depend on object ids."""
    import os

    env = dict(os.environ, FNCACHE_FLAGS=f"compiledir={compiledir}")
    return {run_python(code, env=env) for _ in range(runs)}


def damaged(payload: bytes, at: int) -> bytes:
    """``payload`` with the byte at ``at`` changed and its checksum recomputed (:func:`reseal`)."""
    return reseal(payload[:at] + bytes([payload[at] ^ 0xFF]) + payload[at + 1 :])


def payload_body(payload: bytes) -> dict[str, Any]:
    """The unpickled body of a function payload."""
    import pickle

    from fncache.runtime import pickling

    return pickle.loads(pickling._verified_body(payload)[0])


def with_body(payload: bytes, body: dict[str, Any]) -> bytes:
    """``payload`` with ``body`` in place of its own (unsigned), resealed: a forger's payload."""
    import cloudpickle

    from fncache.runtime import pickling

    old = pickling._verified_body(payload)[0]
    return reseal(payload[: len(payload) - len(old)] + cloudpickle.dumps(body))


def damaged_inner_module(payload: bytes) -> bytes:
    """``payload`` (:func:`damaged`) with a byte changed in the module of an inner function (a
    run-time-size Jacobian's) it embeds."""
    inner = payload_body(payload)["inner"]
    library = next(p["native"]["library"] for p in inner.values() if p["native"] is not None)
    return damaged(payload, payload.index(library) + 2000)


def rows_functions(mode: Any = None) -> dict[str, tuple[Any, tuple, list[np.ndarray]]]:
    """Functions holding run-time-size Jacobians (`JacobianRows` nodes), compiled under ``mode``,
    their arguments and numpy's values. ``jacobian``: J of ``exp(x) * x[::-1]`` and the Jacobian
    of J (a JacobianRows inside another's inner graph); ``hessian``: H of ``sum(sin(x) * x)`` and
    the gradient of ``sum(H)``."""
    import fncache as fc
    from fncache import tensor as ft

    v = np.linspace(-0.5, 0.7, 5)
    n, e, eye = len(v), np.exp(v), np.eye(len(v))
    anti = eye[::-1]
    x = ft.dvector("x")
    jac = ft.jacobian(ft.exp(x) * x[::-1], x)
    # d J_ij / d x_k for J_ij = [i == j] e_i x_(n-1-i) + e_i [j == n-1-i]
    djac = eye[:, :, None] * (
        eye[:, None, :] * (e * v[::-1])[:, None, None] + e[:, None, None] * anti[:, None, :]
    )
    djac += anti[:, :, None] * e[:, None, None] * eye[:, None, :]
    hess = ft.hessian(ft.sum(ft.sin(x) * x), x)
    return {
        "jacobian": (
            fc.function([x], [jac, ft.jacobian(jac.flatten(), x)], name="jacobians", mode=mode),
            (v,),
            [np.diag(e * v[::-1]) + e[:, None] * anti, djac.reshape(n * n, n)],
        ),
        "hessian": (
            fc.function([x], [hess, ft.grad(ft.sum(hess), x)], name="hessian", mode=mode),
            (v,),
            [np.diag(2 * np.cos(v) - v * np.sin(v)), -3 * np.sin(v) - v * np.cos(v)],
        ),
    }


def fd_check_grads(
    inputs: list,
    cases: dict[str, tuple[Callable[..., Any], list[int]]],
    value_sets: list[list[np.ndarray]],
    mode: Any = None,
) -> None:
    """For each case (expression builder, indices of the inputs it uses), the gradient of
    ``sum(e**2 + e)`` (non-uniform output gradients) equals central finite differences; all
    cases share one cost function and one gradient function (one compile each)."""
    import fncache as fc
    from fncache import tensor as ft

    costs, grads, where = [], [], []
    for name, (build, used) in cases.items():
        e = build(*inputs)
        cost = ft.sum(ft.sqr(e) + e)
        gs = fc.grad(cost, [inputs[j] for j in used])
        costs.append(cost)
        for j, g in zip(used, gs):
            assert g.type.dtype == inputs[j].dtype and g.ndim == inputs[j].ndim, name
            where.append((name, len(costs) - 1, j))
            grads.append(g)
    # The differences call the cost twice per input element: compiled to C (the same entry as
    # the FAST_RUN run of a case's table) a call costs ~40x less than in the Python linker,
    # and the gradients under test are still those of ``mode``.
    f_cost = fc.function(inputs, costs, on_unused_input="ignore")
    f_grad = fc.function(inputs, grads, on_unused_input="ignore", mode=mode)
    for vals in value_sets:
        got = f_grad(*vals)
        # A central difference of a cost c is off by about |c| * machine epsilon / FD_EPS from
        # rounding alone (1e-7 for |c| ~ 500): a tolerance below that fails on one CPU and not
        # another, as the sums' order changes with the vector width.
        fd_noise = 4 * np.finfo(np.float64).eps * np.abs(np.array(f_cost(*vals), dtype=float)) / FD_EPS
        fds = {}
        for j, v in enumerate(vals):
            if not np.issubdtype(v.dtype, np.floating):
                continue
            diffs = np.zeros((len(costs),) + v.shape)
            for idx in np.ndindex(v.shape):
                up, down = [x.copy() for x in vals], [x.copy() for x in vals]
                up[j][idx] += FD_EPS
                down[j][idx] -= FD_EPS
                diffs[(slice(None),) + idx] = (np.array(f_cost(*up)) - np.array(f_cost(*down))) / (2 * FD_EPS)
            fds[j] = diffs
        shapes = [v.shape for v in vals]
        for g, (name, k, j) in zip(got, where):
            assert g.shape == vals[j].shape, f"{name}: gradient shape {g.shape}, input {j} {shapes}"
            np.testing.assert_allclose(
                g,
                fds[j][k],
                rtol=FD_RTOL,
                atol=FD_ATOL + fd_noise[k],
                err_msg=f"{name} d/d input {j}, shapes {shapes}",
            )


# -- tables of cases (expression builder, numpy reference, input values), as the ports of
# -- PyTensor's tests write them


def symbolic_like(value: Any) -> Any:
    """A symbolic input of ``value``'s dtype and ndim, its sizes left to the call."""
    import fncache.tensor as ft

    a = np.asarray(value)
    return ft.tensor(dtype=a.dtype.name, shape=(None,) * a.ndim)


def as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def on_slice(build: Callable[..., Any], at: int, n: int) -> Callable[..., Any]:
    """``build`` applied to the ``n`` inputs from ``at`` of a function shared by several cases."""
    return lambda *ins: build(*ins[at : at + n])


def run_case(build: Callable[..., Any], vals: tuple, mode: Any) -> list:
    """The outputs of ``build`` on symbolic inputs like ``vals``, compiled under ``mode`` and
    called on ``vals``."""
    import fncache as fc

    ins = [symbolic_like(v) for v in vals]
    return fc.function(ins, as_list(build(*ins)), mode=mode, on_unused_input="ignore")(*vals)


def run_cases_in_one_function(cases: dict[str, tuple[Callable[..., Any], tuple]]) -> dict[str, list]:
    """Each case's outputs, every case one set of outputs of one function compiled to C (one
    compiler call for the whole table)."""
    import fncache as fc

    ins, outs, counts = [], [], []
    for build, vals in cases.values():
        mine = [symbolic_like(v) for v in vals]
        ins += mine
        built = as_list(build(*mine))
        outs += built
        counts.append(len(built))
    got = fc.function(ins, outs, mode="FAST_RUN", on_unused_input="ignore")(
        *[v for _, vals in cases.values() for v in vals]
    )
    res, at = {}, 0
    for name, n in zip(cases, counts):
        res[name], at = got[at : at + n], at + n
    return res


def fd_check_case(name: str, build: Callable[..., Any], vals: tuple, mode: Any) -> None:
    """``build``'s gradient with respect to its float inputs against finite differences."""
    vals = tuple(np.asarray(v) for v in vals)
    used = [k for k, v in enumerate(vals) if v.dtype.kind == "f"]
    fd_check_grads([symbolic_like(v) for v in vals], {name: (build, used)}, [list(vals)], mode=mode)


def fd_gradient(fn: Callable[[np.ndarray], float], a: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``fn`` at every element of ``a``."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[idx] += eps
        down[idx] -= eps
        g[idx] = (fn(up) - fn(down)) / (2 * eps)
    return g


def fd4_differences(fn: Callable[[np.ndarray], Any], x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Fourth-order central differences of ``fn`` at each element of ``x``: shape
    ``fn(x).shape + x.shape``."""
    out = np.zeros(np.shape(fn(x)) + x.shape)
    for idx in np.ndindex(x.shape):
        vals = []
        for k in (2, 1, -1, -2):
            y = x.copy()
            y[idx] += k * h
            vals.append(np.asarray(fn(y)))
        out[(Ellipsis,) + idx] = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * h)
    return out


def fd_jacobian(fn: Callable[..., np.ndarray], args: list[np.ndarray], j: int) -> np.ndarray:
    """Central differences of ``fn(*args)`` with respect to ``args[j]``: shape
    ``out.shape + args[j].shape``."""
    out = np.asarray(fn(*args))
    jac = np.zeros(out.shape + args[j].shape)
    for idx in np.ndindex(args[j].shape):
        up, down = [a.copy() for a in args], [a.copy() for a in args]
        up[j][idx] += FD_EPS
        down[j][idx] -= FD_EPS
        jac[(Ellipsis,) + idx] = (np.asarray(fn(*up)) - np.asarray(fn(*down))) / (2 * FD_EPS)
    return jac


def count_renders(monkeypatch: Any) -> list[int]:
    """A list that grows by one each time a kernel library's source is rendered (its prelude
    read), for tests that count renders on a miss or a hit."""
    from fncache.codegen import c_module

    renders: list[int] = []
    prelude = c_module.prelude_text

    def counted() -> str:
        renders.append(1)
        return prelude()

    monkeypatch.setattr(c_module, "prelude_text", counted)
    return renders


def early_library_dirs(monkeypatch: Any) -> list[Any]:
    """A list of the temporary directory of each kernel library compile started early
    (``c_linker.EarlyLibrary``), for tests that check those directories are removed."""
    from fncache.codegen import c_linker

    dirs: list[Any] = []
    made = c_linker.EarlyLibrary.__init__

    def noted(self: Any, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        dirs.append(self._dir)

    monkeypatch.setattr(c_linker.EarlyLibrary, "__init__", noted)
    return dirs


def function_misses() -> int:
    """How many functions this process compiled (missed in the cache) so far."""
    import fncache as fc

    return int(fc.cache.stats()["per_kind"].get("function", {}).get("misses", 0))
