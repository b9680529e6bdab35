"""Render a whole optimized graph as one C extension module.

The module defines a ``Runner`` type whose instances are called with vectorcall: inputs are
checked in C (exact dtype and ndim pass straight through; anything else goes to a Python
converter that casts or raises the SPEC §4 TypeError), nodes run in order, intermediates are
released right after their last use (or kept for reuse when ``allow_gc`` is off), and the
outputs come back as one array or a list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..graph.basic import Apply, Constant, Variable, aliases_storage
from ..graph.fgraph import FunctionGraph
from .c_nodes import NodeCtx, has_native, render_node
from .c_types import TYPENUM

__all__ = ["CModule", "render_module"]


@dataclass
class CModule:
    source: str                     # without the module name (hashed for the key)
    n_args: int                     # explicit inputs + shared values
    constants: list[Any]            # arrays handed to the runner at construction
    fallbacks: list[Apply]          # nodes run through op.perform
    n_keep: int
    node_of: list[Apply] = field(default_factory=list)

    def with_name(self, name: str) -> str:
        return self.source.replace("@MODNAME@", name)


def prelude_text() -> str:
    """The C prelude every module starts with (the precompiled-header candidate)."""
    global _prelude_cache
    if _prelude_cache is None:
        _prelude_cache = resources.files("fncache.codegen").joinpath("prelude.h").read_text()
    return _prelude_cache


_prelude_cache: str | None = None


def render_module(fgraph: FunctionGraph, *, n_explicit: int, single: bool) -> CModule:
    nodes = fgraph.toposort()
    slot: dict[int, int] = {}
    for v in fgraph.inputs:
        slot[id(v)] = len(slot)
    n_args = len(fgraph.inputs)
    constants: list[Any] = []
    const_slots: list[int] = []

    def ensure(v: Variable) -> int:
        if id(v) not in slot:
            slot[id(v)] = len(slot)
            if isinstance(v, Constant):
                constants.append(v.data)
                const_slots.append(slot[id(v)])
            else:
                raise ValueError(f"variable {v!r} is not computed by the graph")
        return slot[id(v)]

    for node in nodes:
        for v in node.inputs:
            ensure(v)
        for o in node.outputs:
            slot[id(o)] = len(slot)
    for v in fgraph.outputs:
        ensure(v)
    n_slots = len(slot)
    out_ids = {id(v) for v in fgraph.outputs}
    last: dict[int, int] = {}
    for step, node in enumerate(nodes):
        for v in node.inputs:
            last[slot[id(v)]] = step
    out_slots = {slot[id(v)] for v in fgraph.outputs}

    body: list[str] = []
    support: list[str] = []
    fallbacks: list[Apply] = []
    n_keep = 0
    for step, node in enumerate(nodes):
        keeps = []
        for o in node.outputs:
            if id(o) in out_ids or not has_native(node):
                keeps.append("NULL")
            else:
                keeps.append(f"(self->allow_gc ? NULL : &self->keep[{n_keep}])")
                n_keep += 1
        ctx = NodeCtx(k=step, ins=[f"v[{slot[id(v)]}]" for v in node.inputs],
                      outs=[f"v[{slot[id(o)]}]" for o in node.outputs], keeps=keeps,
                      is_output=[id(o) in out_ids for o in node.outputs])
        if not has_native(node):
            ctx.perform = len(fallbacks)
            fallbacks.append(node)
        body.append(f"/* node {step}: {str(node.op)[:80].replace('*/', '')} */")
        body.append(f"cur = {step};")
        support_code, stmts = render_node(node, ctx)
        if support_code:
            support.append(support_code)
        body.append("{\n" + _indent(stmts, 2) + "\n}")
        dying = sorted(s for s, st in last.items() if st == step and s not in out_slots)
        for s in dying:
            body.append(f"Py_CLEAR(v[{s}]);")

    results = []
    for i, v in enumerate(fgraph.outputs):
        s = slot[id(v)]
        if aliases_storage(v):
            results.append(f"(PyObject *)PyArray_NewCopy(v[{s}], NPY_CORDER)")
        else:
            results.append(f"(Py_INCREF(v[{s}]), (PyObject *)v[{s}])")

    in_types = fgraph.inputs
    checks = []
    for i, v in enumerate(in_types):
        # Declared (static) sizes are checked too: kernels read a size-1 input as one value.
        static = "".join(f" && PyArray_DIM((PyArrayObject *)a, {d}) == {s}"
                         for d, s in enumerate(v.type.shape) if s is not None)
        checks.append(
            f"  {{ PyObject *a = args[{i}];\n"
            f"    if (PyArray_CheckExact(a) && (self->trust || (PyArray_TYPE((PyArrayObject *)a)"
            f" == {TYPENUM[v.dtype]} && PyArray_NDIM((PyArrayObject *)a) == {v.ndim}{static} && "
            f"PyArray_ISBEHAVED_RO((PyArrayObject *)a)))) {{ Py_INCREF(a); }}\n"
            f"    else {{ a = fc_convert(self, {i}, a); if (!a) goto fail; }}\n"
            f"    v[{i}] = (PyArrayObject *)a; }}")
    const_load = [f"  v[{s}] = (PyArrayObject *)PyTuple_GET_ITEM(self->consts, {j}); "
                  f"Py_INCREF(v[{s}]);" for j, s in enumerate(const_slots)]
    if single:
        ret = f"  result = {results[0]};"
    else:
        ret = (f"  result = PyList_New({len(results)});\n  if (!result) goto fail;\n" +
               "\n".join(f"  {{ PyObject *r = {r}; if (!r) goto fail; "
                         f"PyList_SET_ITEM(result, {i}, r); }}" for i, r in enumerate(results)))
    src = _TEMPLATE.format(
        prelude=prelude_text(), support="\n\n".join(support), n_slots=max(n_slots, 1), n_args=n_args, n_keep=max(n_keep, 1), n_last=max(n_args, 1),
        checks="\n".join(checks), consts="\n".join(const_load),
        body=_indent("\n".join(body), 2), ret=ret)
    return CModule(source=src, n_args=n_args, constants=constants, fallbacks=fallbacks,
                   n_keep=n_keep, node_of=nodes)


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + ln if ln else ln for ln in text.split("\n"))


_TEMPLATE = r"""
{prelude}
#ifdef NPY_RAVEL_AXIS
#define FC_RAVEL_AXIS NPY_RAVEL_AXIS
#else
#define FC_RAVEL_AXIS NPY_MAXDIMS
#endif

{support}

/* Below: argument checks, allocation and dispatch, run once per call. -O1 compiles them in
 * half the time of -O3 at no measurable cost per call; the kernels above keep -O3. */
#pragma GCC optimize ("O1")

typedef struct {{
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *converter;   /* converter(i, value) -> ndarray, or raises TypeError */
    PyObject *performs;    /* tuple: Python implementations of nodes without C code */
    PyObject *consts;      /* tuple of constant arrays */
    PyObject *on_error;    /* on_error(exc) -> exception to raise (adds the failing node) */
    PyObject *on_kwargs;   /* on_kwargs(*args, **kwargs): binds inputs given by name */
    PyObject *last[{n_last}];  /* the last call's inputs, for repeat() (f.fn) */
    PyArrayObject *keep[{n_keep}];
    int trust, allow_gc, nthreads, failed_node, has_last;
}} Runner;

static PyObject *fc_convert(Runner *self, int i, PyObject *a)
{{
    PyObject *idx = PyLong_FromLong(i);
    PyObject *r;
    if (!idx) return NULL;
    r = PyObject_CallFunctionObjArgs(self->converter, idx, a, NULL);
    Py_DECREF(idx);
    if (r && !PyArray_Check(r)) {{
        Py_DECREF(r);
        PyErr_SetString(PyExc_TypeError, "fncache: input converter did not return an ndarray");
        return NULL;
    }}
    return r;
}}

static PyObject *run(Runner *self, PyObject *const *args)
{{
    PyArrayObject *v[{n_slots}] = {{0}};
    PyObject *result = NULL;
    int cur = -1;
    fc_errflag = 0;
{checks}
{consts}
{body}
{ret}
    goto done;
fail:
    self->failed_node = cur;
    Py_CLEAR(result);
done:
    for (int s = 0; s < {n_slots}; s++) Py_XDECREF(v[s]);
    return result;
}}

static PyObject *fc_on_error(Runner *self)
{{
    /* Replace the raised exception by on_error(exc), which adds the failing node. */
    PyObject *t, *v, *tb, *repl;
    if (self->on_error == Py_None) return NULL;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb && v) PyException_SetTraceback(v, tb);
    repl = PyObject_CallOneArg(self->on_error, v ? v : Py_None);
    if (repl) {{ PyErr_SetObject((PyObject *)Py_TYPE(repl), repl); Py_DECREF(repl); }}
    Py_XDECREF(t); Py_XDECREF(v); Py_XDECREF(tb);
    return NULL;
}}

static PyObject *Runner_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf,
                                   PyObject *kwnames)
{{
    Runner *self = (Runner *)op;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PyObject *res;
    if (kwnames && PyTuple_GET_SIZE(kwnames))
        return PyObject_Vectorcall(self->on_kwargs, args, nargsf, kwnames);
    if (n != {n_args}) {{
        PyErr_Format(PyExc_TypeError, "this function takes %d inputs, got %zd", {n_args}, n);
        return NULL;
    }}
    for (Py_ssize_t i = 0; i < n; i++) {{
        Py_INCREF(args[i]);
        if (self->has_last) Py_DECREF(self->last[i]);
        self->last[i] = args[i];
    }}
    self->has_last = 1;
    self->failed_node = -1;
    res = run(self, args);
    return res ? res : fc_on_error(self);
}}

static PyObject *Runner_repeat(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames)
{{
    /* repeat(n_calls=1): run again on the last call's inputs (f.fn), the lowest-overhead way
     * to call many times; Function makes it the instance's `fn`. */
    Runner *self = (Runner *)op;
    PyObject *res = NULL, *narg = NULL;
    Py_ssize_t n = 1, k, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw > 1 || (nkw && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "n_calls") != 0)) {{
        PyErr_SetString(PyExc_TypeError, "fn(n_calls=1) takes one argument, n_calls");
        return NULL;
    }}
    if (nargs + nkw == 1) narg = args[0];
    if (!self->has_last && {n_args}) {{
        PyErr_SetString(PyExc_RuntimeError, "f.fn() repeats the last call: call f(...) once first");
        return NULL;
    }}
    if (narg) {{
        n = PyLong_AsSsize_t(narg);
        if (n == -1 && PyErr_Occurred()) return NULL;
    }}
    if (n < 1) n = 1;
    for (k = 0; k < n; k++) {{
        Py_XDECREF(res);
        self->failed_node = -1;
        res = run(self, (PyObject *const *)self->last);
        if (!res) return fc_on_error(self);
    }}
    return res;
}}

static PyObject *Runner_free(PyObject *op, PyObject *unused)
{{
    Runner *self = (Runner *)op;
    for (int i = 0; i < {n_keep}; i++) Py_CLEAR(self->keep[i]);
    Py_RETURN_NONE;
}}

static PyObject *Runner_set_trust(PyObject *op, PyObject *arg)
{{
    ((Runner *)op)->trust = PyObject_IsTrue(arg);
    Py_RETURN_NONE;
}}

static PyObject *Runner_failed(PyObject *op, void *closure)
{{
    return PyLong_FromLong(((Runner *)op)->failed_node);
}}

static PyObject *Runner_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{{
    PyObject *conv, *perf, *consts, *on_error, *on_kwargs;
    int allow_gc, nthreads;
    Runner *self;
    if (!PyArg_ParseTuple(args, "OO!O!piOO", &conv, &PyTuple_Type, &perf, &PyTuple_Type, &consts,
                          &allow_gc, &nthreads, &on_error, &on_kwargs))
        return NULL;
    self = (Runner *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->vectorcall = Runner_vectorcall;
    Py_INCREF(conv); self->converter = conv;
    Py_INCREF(perf); self->performs = perf;
    Py_INCREF(consts); self->consts = consts;
    Py_INCREF(on_error); self->on_error = on_error;
    Py_INCREF(on_kwargs); self->on_kwargs = on_kwargs;
    self->allow_gc = allow_gc;
#ifdef _OPENMP
    self->nthreads = nthreads > 0 ? nthreads : omp_get_num_procs();
#else
    self->nthreads = 1;
#endif
    self->failed_node = -1;
    return (PyObject *)self;
}}

static void Runner_dealloc(PyObject *op)
{{
    Runner *self = (Runner *)op;
    Py_XDECREF(self->converter);
    Py_XDECREF(self->performs);
    Py_XDECREF(self->consts);
    Py_XDECREF(self->on_error);
    Py_XDECREF(self->on_kwargs);
    if (self->has_last) for (int i = 0; i < {n_args}; i++) Py_XDECREF(self->last[i]);
    for (int i = 0; i < {n_keep}; i++) Py_XDECREF(self->keep[i]);
    Py_TYPE(op)->tp_free(op);
}}

static PyMethodDef Runner_methods[] = {{
    {{"repeat", (PyCFunction)(void (*)(void))Runner_repeat, METH_FASTCALL | METH_KEYWORDS,
      "repeat(n_calls=1)"}},
    {{"free", Runner_free, METH_NOARGS, "drop kept intermediate buffers"}},
    {{"set_trust", Runner_set_trust, METH_O, "skip input checks"}},
    {{NULL, NULL, 0, NULL}}
}};

static PyGetSetDef Runner_getset[] = {{
    {{"failed_node", Runner_failed, NULL, "index of the node that raised, or -1", NULL}},
    {{NULL, NULL, NULL, NULL, NULL}}
}};

static PyTypeObject RunnerType = {{
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fncache_generated.Runner",
    .tp_basicsize = sizeof(Runner),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(Runner, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_new = Runner_new,
    .tp_dealloc = Runner_dealloc,
    .tp_methods = Runner_methods,
    .tp_getset = Runner_getset,
}};

static struct PyModuleDef moddef = {{PyModuleDef_HEAD_INIT, "@MODNAME@", NULL, -1, NULL}};

PyMODINIT_FUNC PyInit_@MODNAME@(void)
{{
    PyObject *m;
    import_array();
    if (PyType_Ready(&RunnerType) < 0) return NULL;
    m = PyModule_Create(&moddef);
    if (!m) return NULL;
    Py_INCREF(&RunnerType);
    if (PyModule_AddObject(m, "Runner", (PyObject *)&RunnerType) < 0) {{
        Py_DECREF(&RunnerType); Py_DECREF(m); return NULL;
    }}
    return m;
}}
"""
