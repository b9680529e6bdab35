/* fncache._c_runtime: the per-call machinery of every compiled CPU function.
 *
 * Built once, when fncache is installed, so a new function costs one gcc call on its kernels
 * only: plain C loops without Python.h, which compile in a fraction of the time of a whole
 * extension module. A Runner executes a *program* (built in Python by codegen/c_module.py
 * from the optimized graph): input checks, then one step per node (fused elementwise loops and
 * reductions call the generated kernels; dot, argmax, dimshuffle and Python ops run here),
 * intermediates released after their last use or kept for reuse when allow_gc is off.
 *
 * This file: kernel libraries, the Runner type and its program; c_steps.c runs the steps;
 * c_random.c draws fc.RandomStream's numbers.
 * The Runner is called with vectorcall, so a Function without shared variables costs one C
 * call on top of its kernels.
 */
#define FC_RUNTIME_MAIN
#include "c_runtime.h"
#include <dlfcn.h>
#include <fenv.h>
#include <pthread.h>
#include <time.h>

/* ---- kernel libraries --------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    void *handle;
    PyObject *path;
} Library;

static void Library_dealloc(PyObject *op)
{
    /* Never dlclose: a Runner built from the library may outlive every reference we see. */
    Py_XDECREF(((Library *)op)->path);
    Py_TYPE(op)->tp_free(op);
}

static PyObject *Library_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<fncache kernel library %R>", ((Library *)op)->path);
}

static PyTypeObject LibraryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fncache.codegen._c_runtime.Library",
    .tp_basicsize = sizeof(Library),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = Library_dealloc,
    .tp_repr = Library_repr,
};

static PyObject *rt_load(PyObject *mod, PyObject *arg)
{
    /* load(path) -> Library: dlopen a kernel library (RTLD_LOCAL: every library has its own
     * kernel names). Raises OSError with dlerror()'s reason.
     * The loading thread's float modes are put back after: gcc links a library built with
     * -ffast-math or -Ofast (a user's cxxflags) with a constructor that turns on flush-to-zero
     * and denormals-are-zero, which would make every later float operation of the thread,
     * numpy's and Python's too, read and write subnormals as 0. */
    PyObject *bytes;
    void *h;
    Library *lib;
    fenv_t modes;
    if (!PyUnicode_FSConverter(arg, &bytes)) return NULL;
    Py_BEGIN_ALLOW_THREADS
    fegetenv(&modes);
    h = dlopen(PyBytes_AS_STRING(bytes), RTLD_NOW | RTLD_LOCAL);
    fesetenv(&modes);
    Py_END_ALLOW_THREADS
    Py_DECREF(bytes);
    if (!h) {
        const char *why = dlerror();
        PyErr_Format(PyExc_OSError, "cannot load kernel library %R: %s", arg,
                     why ? why : "unknown error");
        return NULL;
    }
    lib = PyObject_New(Library, &LibraryType);
    if (!lib) return NULL;
    lib->handle = h;
    Py_INCREF(arg);
    lib->path = arg;
    return (PyObject *)lib;
}

/* ---- the runner ---------------------------------------------------------------------------- */

static PyObject *fc_convert(Runner *self, int i, PyObject *a)
{
    PyObject *idx = PyLong_FromLong(i);
    PyObject *r;
    if (!idx) return NULL;
    r = PyObject_CallFunctionObjArgs(self->converter, idx, a, NULL);
    Py_DECREF(idx);
    if (r && !PyArray_Check(r)) {
        Py_DECREF(r);
        PyErr_SetString(PyExc_TypeError, "fncache: input converter did not return an ndarray");
        return NULL;
    }
    return r;
}

/* Whether `a` is what the kernels may read as input `sp` as it is. Checked under trust_input
 * too: a kernel given another dtype, rank or declared size reads past the array's memory, and
 * these few comparisons cost nanoseconds. */
static int input_ok(const InputSpec *sp, PyObject *a)
{
    if (!PyArray_CheckExact(a)) return 0;
    PyArrayObject *arr = (PyArrayObject *)a;
    if (PyArray_TYPE(arr) != sp->typenum || PyArray_NDIM(arr) != sp->ndim
        || !PyArray_ISBEHAVED_RO(arr)) return 0;
    /* Declared (static) sizes are checked too: kernels read a size-1 input as one value. */
    for (int k = 0; k < sp->nstatic; k++)
        if (PyArray_DIM(arr, sp->dims[2 * k]) != sp->dims[2 * k + 1]) return 0;
    return 1;
}

/* Step k on the slots `v`, then the slots it leaves dead. 0, or -1 with an exception set. */
static inline int run_step(Runner *self, int k, PyArrayObject **v)
{
    Step *s = &self->steps[k];
    self->failed_node = k;
    if (s->errcheck && self->errflag) *self->errflag = 0;
    if (fc_run_step(self, s, v) < 0) return -1;
    if (s->errcheck && self->errflag && *self->errflag) {
        PyErr_SetString(PyExc_ValueError, "Integers to negative integer powers are not allowed.");
        return -1;
    }
    /* Intermediates go after their last use when allow_gc is on; when it is off they
     * are kept anyway, and the slots are all cleared once the call is over. */
    if (self->allow_gc)
        for (int d = 0; d < s->ndying; d++) Py_CLEAR(v[s->dying[d]]);
    return 0;
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The program on `args` into the slots `v`: inputs, constants, every step. 0, or -1 with an
 * exception set and failed_node naming the step; either way the caller clears `v`. A runner
 * timing its steps (time_steps) runs them in a loop of its own, so one that does not pays
 * nothing for it. */
static int run_steps(Runner *self, PyObject *const *args, PyArrayObject **v)
{
    for (int i = 0; i < self->n_args; i++) {
        PyObject *a = args[i];
        if (input_ok(&self->inputs[i], a)) Py_INCREF(a);
        else if (!(a = fc_convert(self, i, a))) return -1;
        v[i] = (PyArrayObject *)a;
    }
    for (int j = 0; j < self->n_consts; j++) {
        PyObject *c = PyTuple_GET_ITEM(self->consts, j);
        Py_INCREF(c);
        v[self->const_slots[j]] = (PyArrayObject *)c;
    }
    long long *ns = self->step_ns;
    if (!ns) {
        for (int k = 0; k < self->n_steps; k++)
            if (run_step(self, k, v) < 0) return -1;
    } else {
        /* one clock read per step: a step's end is the next one's start */
        long long t = now_ns();
        for (int k = 0; k < self->n_steps; k++) {
            const int rc = run_step(self, k, v);
            const long long t1 = now_ns();
            ns[2 * k] += t1 - t;
            ns[2 * k + 1]++;
            t = t1;
            if (rc < 0) return -1;
        }
    }
    self->failed_node = -1;
    return 0;
}

static void clear_slots(const Runner *self, PyArrayObject **v)
{
    for (int s = 0; s < self->n_slots; s++) Py_CLEAR(v[s]);
}

/* Output m of a finished run: the slot's array, or a copy where the program says so or the
 * array is read-only (a value an op keeps and protects, or a view of one): the caller gets an
 * array of its own, as from the Python linker. */
static PyObject *output_of(const Runner *self, PyArrayObject **v, int m)
{
    PyArrayObject *o = v[self->out_slots[m]];
    return self->out_copy[m] || !PyArray_ISWRITEABLE(o) ? PyArray_NewCopy(o, NPY_CORDER)
                                                        : Py_NewRef((PyObject *)o);
}

static PyObject *run(Runner *self, PyObject *const *args)
{
    PyArrayObject **v = self->slots;
    PyObject *result = NULL;
    if (self->running) {
        /* A Python op of this graph called the same function again: use fresh scratch. */
        v = PyMem_Calloc(self->n_slots, sizeof(*v));
        if (!v) return PyErr_NoMemory();
    }
    self->running++;
    if (run_steps(self, args, v) < 0) goto done;
    if (self->single) {
        result = output_of(self, v, 0);
    } else if ((result = PyList_New(self->n_outs))) {
        for (int m = 0; m < self->n_outs; m++) {
            PyObject *r = output_of(self, v, m);
            if (!r) { Py_CLEAR(result); break; }
            PyList_SET_ITEM(result, m, r);
        }
    }
done:
    clear_slots(self, v);
    self->running--;
    if (v != self->slots) PyMem_Free(v);
    return result;
}

static PyObject *fc_on_error(Runner *self)
{
    /* Replace the raised exception by on_error(exc), which adds the failing node. */
    PyObject *t, *val, *tb, *repl;
    if (self->on_error == Py_None) return NULL;
    PyErr_Fetch(&t, &val, &tb);
    PyErr_NormalizeException(&t, &val, &tb);
    if (tb && val) PyException_SetTraceback(val, tb);
    repl = PyObject_CallOneArg(self->on_error, val ? val : Py_None);
    if (repl) { PyErr_SetObject((PyObject *)Py_TYPE(repl), repl); Py_DECREF(repl); }
    Py_XDECREF(t); Py_XDECREF(val); Py_XDECREF(tb);
    return NULL;
}

/* ---- shared variables (bind_shared) -------------------------------------------------------- */

static PyObject *str_value, *str_device, *str_host_value;

/* A shared variable's current value: its `_value`, or, when a GPU function holds a copy that may
 * be newer, what its `_host_value()` returns. New reference. */
static PyObject *shared_value(PyObject *sv)
{
    PyObject *dev = PyObject_GetAttr(sv, str_device);
    if (!dev) return NULL;
    int on_device = dev != Py_None;
    Py_DECREF(dev);
    return on_device ? PyObject_CallMethodNoArgs(sv, str_host_value)
                     : PyObject_GetAttr(sv, str_value);
}

/* Store the update outputs (after the user's outputs in `res`) as their variables' values. A
 * value that is also returned, set twice, or not a writeable array owning its data is copied
 * first, so no shared value is ever an array the caller or another variable holds. */
static int apply_updates(Runner *self, PyObject *res)
{
    for (int i = 0; i < self->n_updated; i++) {
        int at = self->n_user_out + i, copy = 0;
        PyObject *val = PyList_GET_ITEM(res, at);
        for (int j = 0; j < at && !copy; j++) copy = PyList_GET_ITEM(res, j) == val;
        if (copy || !PyArray_Check(val) || !PyArray_ISWRITEABLE((PyArrayObject *)val)
            || !PyArray_CHKFLAGS((PyArrayObject *)val, NPY_ARRAY_OWNDATA))
            val = PyArray_FROM_OF(val, NPY_ARRAY_ENSURECOPY | NPY_ARRAY_DEFAULT);
        else
            Py_INCREF(val);
        if (!val) return -1;
        int rc = PyObject_SetAttr(PyTuple_GET_ITEM(self->shared, self->updated[i]), str_value, val);
        Py_DECREF(val);
        if (rc < 0) return -1;
    }
    return 0;
}

/* One call on the given inputs: with bound shared variables, their values are read and passed
 * after the inputs, the updates are stored and only the user's outputs are returned. */
static PyObject *call(Runner *self, PyObject *const *args)
{
    if (!self->shared) return run(self, args);
    const int n_expl = self->n_given;
    PyObject *full[self->n_args > 0 ? self->n_args : 1], *res = NULL;
    int got = 0;
    for (int i = 0; i < n_expl; i++) full[i] = args[i];
    for (; got < self->n_shared; got++)
        if (!(full[n_expl + got] = shared_value(PyTuple_GET_ITEM(self->shared, got)))) goto done;
    res = run(self, full);
    if (res && apply_updates(self, res) < 0) Py_CLEAR(res);
    if (res) {
        PyObject *outs = self->user_single ? Py_NewRef(PyList_GET_ITEM(res, 0))
                                           : PyList_GetSlice(res, 0, self->n_user_out);
        Py_DECREF(res);
        res = outs;
    }
done:
    for (int k = 0; k < got; k++) Py_DECREF(full[n_expl + k]);
    return res;
}

static int *int_array(PyObject *t, int *len, const char *what);

static PyObject *Runner_bind_shared(PyObject *op, PyObject *args)
{
    /* bind_shared(shared, updated, n_out, single): the last len(shared) inputs are these shared
     * variables' values, read at each call; the first n_out outputs are the user's (one bare
     * when single), the others the new values of shared[updated[i]]. */
    Runner *self = (Runner *)op;
    PyObject *shared, *updated;
    int n_out, single, n_upd;
    if (!PyArg_ParseTuple(args, "O!O!ip", &PyTuple_Type, &shared, &PyTuple_Type, &updated,
                          &n_out, &single))
        return NULL;
    int n_shared = (int)PyTuple_GET_SIZE(shared);
    int *upd = int_array(updated, &n_upd, "updated");
    if (!upd) return NULL;
    int ok = !self->shared && !self->has_last && !self->single && n_shared <= self->n_args
             && n_out >= 0 && n_out + n_upd == self->n_outs && (!single || n_out == 1);
    for (int i = 0; ok && i < n_upd; i++) ok = upd[i] >= 0 && upd[i] < n_shared;
    if (!ok) {
        PyMem_Free(upd);
        PyErr_SetString(PyExc_ValueError, "bind_shared: does not match the program, or already "
                        "bound or called");
        return NULL;
    }
    Py_INCREF(shared);
    self->shared = shared;
    self->updated = upd;
    self->n_shared = n_shared;
    self->n_updated = n_upd;
    self->n_given = self->n_args - n_shared;
    self->n_user_out = n_out;
    self->user_single = single;
    Py_RETURN_NONE;
}

static PyObject *Runner_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf,
                                   PyObject *kwnames)
{
    Runner *self = (Runner *)op;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PyObject *res;
    /* Named inputs and a wrong count both go to the Python binder, which knows the function's
     * and its inputs' names for the message. */
    if ((kwnames && PyTuple_GET_SIZE(kwnames)) || n != self->n_given)
        return PyObject_Vectorcall(self->on_kwargs, args, nargsf, kwnames);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(args[i]);
        if (self->has_last) Py_DECREF(self->last[i]);
        self->last[i] = args[i];
    }
    self->has_last = 1;
    self->failed_node = -1;
    res = call(self, args);
    return res ? res : fc_on_error(self);
}

static PyObject *Runner_repeat(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames)
{
    /* repeat(n_calls=1): run again on the last call's inputs (f.fn), the lowest-overhead way
     * to call many times; Function makes it the instance's `fn`. */
    Runner *self = (Runner *)op;
    PyObject *res = NULL, *narg = NULL;
    Py_ssize_t n = 1, k, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw > 1 || (nkw && PyUnicode_CompareWithASCIIString(
                                       PyTuple_GET_ITEM(kwnames, 0), "n_calls") != 0)) {
        PyErr_SetString(PyExc_TypeError, "fn(n_calls=1) takes one argument, n_calls");
        return NULL;
    }
    if (nargs + nkw == 1) narg = args[0];
    if (!self->has_last && self->n_given) {
        PyErr_SetString(PyExc_RuntimeError, "f.fn() repeats the last call: call f(...) once first");
        return NULL;
    }
    if (narg) {
        n = PyLong_AsSsize_t(narg);
        if (n == -1 && PyErr_Occurred()) return NULL;
    }
    if (n < 1) n = 1;
    for (k = 0; k < n; k++) {
        Py_XDECREF(res);
        self->failed_node = -1;
        res = call(self, (PyObject *const *)self->last);
        if (!res) return fc_on_error(self);
    }
    return res;
}

static PyObject *Runner_free(PyObject *op, PyObject *unused)
{
    Runner *self = (Runner *)op;
    for (int i = 0; i < self->n_keep; i++) Py_CLEAR(self->keep[i]);
    Py_RETURN_NONE;
}

static PyObject *Runner_fill_outputs(PyObject *op, PyObject *arg)
{
    /* fill_outputs(byte): DebugMode's check of kernels that read their outputs: each buffer a
     * step gets for an output is filled with `byte` first (c_steps.c, fc_poisoned); None: not. */
    long byte = -1;
    if (arg != Py_None) {
        byte = PyLong_AsLong(arg);
        if (byte == -1 && PyErr_Occurred()) return NULL;
        if (byte < 0 || byte > 255) {
            PyErr_Format(PyExc_ValueError, "fill_outputs: a byte (0 to 255) or None, got %ld", byte);
            return NULL;
        }
    }
    ((Runner *)op)->poison = (int)byte + 1;
    Py_RETURN_NONE;
}

static PyObject *Runner_time_steps(PyObject *op, PyObject *arg)
{
    /* time_steps(on): start (from zero) or stop timing each step of the calls that follow. */
    Runner *self = (Runner *)op;
    int on = PyObject_IsTrue(arg);
    if (on < 0) return NULL;
    PyMem_Free(self->step_ns);
    self->step_ns = NULL;
    if (on && !(self->step_ns = PyMem_Calloc(2 * (size_t)(self->n_steps ? self->n_steps : 1),
                                             sizeof(long long))))
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *Runner_step_times(PyObject *op, PyObject *unused)
{
    /* step_times() -> ((seconds, runs), ...) per step since time_steps(True), or None. */
    Runner *self = (Runner *)op;
    if (!self->step_ns) Py_RETURN_NONE;
    PyObject *t = PyTuple_New(self->n_steps);
    if (!t) return NULL;
    for (int k = 0; k < self->n_steps; k++) {
        PyObject *e = Py_BuildValue("(dL)", (double)self->step_ns[2 * k] * 1e-9,
                                    self->step_ns[2 * k + 1]);
        if (!e) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, k, e);
    }
    return t;
}

static PyObject *Runner_thread_costs(PyObject *op, PyObject *args)
{
    /* thread_costs() -> ((ps_one, ps_par, calls, probe), ...) per step: what the run-time
     * measured for choosing threads (c_steps.c, choose_threads; 0: not measured).
     * thread_costs(k, ps_one, ps_par) sets step k's two estimates and returns None: tests and
     * diagnosis use it to see the choice follow the estimates, whatever this machine measures. */
    Runner *self = (Runner *)op;
    int k = -1;
    long long one = 0, par = 0;
    if (!PyArg_ParseTuple(args, "|iLL:thread_costs", &k, &one, &par)) return NULL;
    if (PyTuple_GET_SIZE(args) == 3) {
        if (k < 0 || k >= self->n_steps || one < 0 || par < 0) {
            PyErr_Format(PyExc_ValueError, "thread_costs: a step index in 0..%d and costs >= 0, "
                         "got %d, %lld, %lld", self->n_steps - 1, k, one, par);
            return NULL;
        }
        __atomic_store_n(&self->steps[k].ps_one, one, __ATOMIC_RELAXED);
        __atomic_store_n(&self->steps[k].ps_par, par, __ATOMIC_RELAXED);
        Py_RETURN_NONE;
    }
    if (PyTuple_GET_SIZE(args)) {
        PyErr_SetString(PyExc_TypeError, "thread_costs() or thread_costs(k, ps_one, ps_par)");
        return NULL;
    }
    PyObject *t = PyTuple_New(self->n_steps);
    if (!t) return NULL;
    for (int j = 0; j < self->n_steps; j++) {
        const Step *s = &self->steps[j];
        PyObject *e = Py_BuildValue("(LLII)", __atomic_load_n(&s->ps_one, __ATOMIC_RELAXED),
                                    __atomic_load_n(&s->ps_par, __ATOMIC_RELAXED),
                                    __atomic_load_n(&s->calls, __ATOMIC_RELAXED),
                                    __atomic_load_n(&s->probe, __ATOMIC_RELAXED));
        if (!e) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, j, e);
    }
    return t;
}

static PyObject *Runner_failed(PyObject *op, void *closure)
{
    return PyLong_FromLong(((Runner *)op)->failed_node);
}

/* ---- building a runner from its program --------------------------------------------------- */

/* A malloc'd copy of a tuple of ints (at least one element, so never NULL on success). */
static int *int_array(PyObject *t, int *len, const char *what)
{
    if (!PyTuple_Check(t)) {
        PyErr_Format(PyExc_TypeError, "fncache runtime: %s must be a tuple of ints", what);
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    int *r = PyMem_Malloc(sizeof(int) * (n ? n : 1));
    if (!r) { PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t i = 0; i < n; i++) {
        long x = PyLong_AsLong(PyTuple_GET_ITEM(t, i));
        if (x == -1 && PyErr_Occurred()) { PyMem_Free(r); return NULL; }
        if (x < INT_MIN || x > INT_MAX) {
            /* never cut to an int: a bound or size read as another number is a wrong result */
            PyMem_Free(r);
            PyErr_Format(PyExc_OverflowError, "fncache runtime: %s holds %ld, which does not "
                         "fit a C int", what, x);
            return NULL;
        }
        r[i] = (int)x;
    }
    if (len) *len = (int)n;
    return r;
}

static void *kernel(PyObject *lib, PyObject *name)
{
    const char *sym = PyUnicode_AsUTF8(name);
    void *f;
    if (!sym) return NULL;
    if (!*sym) return NULL;   /* "": this step has no such kernel */
    if (lib == Py_None) {
        PyErr_Format(PyExc_ValueError, "fncache runtime: kernel %s needs a library", sym);
        return NULL;
    }
    f = dlsym(((Library *)lib)->handle, sym);
    if (!f) PyErr_Format(PyExc_ValueError, "fncache runtime: kernel %s is not in %R", sym,
                         ((Library *)lib)->path);
    return f;
}

static int parse_step(Step *s, PyObject *t, PyObject *lib, int n_slots)
{
    PyObject *ins, *outs, *dying, *ints, *kernels;
    if (!PyArg_ParseTuple(t, "iO!O!O!O!O!ssii;fncache runtime: bad step", &s->kind,
                          &PyTuple_Type, &ins, &PyTuple_Type, &outs, &PyTuple_Type, &dying,
                          &PyTuple_Type, &ints, &PyTuple_Type, &kernels, &s->name, &s->msg,
                          &s->nd, &s->errcheck))
        return -1;
    if (!(s->in = int_array(ins, &s->nin, "step inputs"))) return -1;
    if (!(s->out = int_array(outs, &s->nout, "step outputs"))) return -1;
    if (!(s->dying = int_array(dying, &s->ndying, "dying slots"))) return -1;
    if (!(s->ints = int_array(ints, &s->nints, "step parameters"))) return -1;
    for (int i = 0; i < s->nin; i++)
        if (s->in[i] < 0 || s->in[i] >= n_slots) goto bad_slot;
    for (int i = 0; i < s->nout; i++)
        if (s->out[i] < 0 || s->out[i] >= n_slots) goto bad_slot;
    for (int i = 0; i < s->ndying; i++)
        if (s->dying[i] < 0 || s->dying[i] >= n_slots) goto bad_slot;
    if (s->nd < 0 || s->nd > NPY_MAXDIMS || PyTuple_GET_SIZE(kernels) > 3) {
        PyErr_SetString(PyExc_ValueError, "fncache runtime: bad step dimensions or kernels");
        return -1;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kernels); k++) {
        s->fn[k] = kernel(lib, PyTuple_GET_ITEM(kernels, k));
        if (!s->fn[k] && PyErr_Occurred()) return -1;
    }
    if ((s->kind == ST_ELEMWISE && !s->fn[0]) || (s->kind == ST_REDUCE && !s->fn[2])
        || (s->kind == ST_ROWPASS && !s->fn[0])) {
        PyErr_Format(PyExc_ValueError, "fncache runtime: step %s has no kernel", s->name);
        return -1;
    }
    return 0;
bad_slot:
    PyErr_SetString(PyExc_ValueError, "fncache runtime: step refers to a slot out of range");
    return -1;
}

static int parse_program(Runner *self, PyObject *prog, PyObject *lib)
{
    PyObject *inputs, *consts, *steps, *outs, *copies;
    if (!PyArg_ParseTuple(prog, "iiO!O!O!O!O!p;fncache runtime: bad program", &self->n_slots,
                          &self->n_keep, &PyTuple_Type, &inputs, &PyTuple_Type, &consts,
                          &PyTuple_Type, &steps, &PyTuple_Type, &outs, &PyTuple_Type, &copies,
                          &self->single))
        return -1;
    self->n_args = self->n_given = (int)PyTuple_GET_SIZE(inputs);
    self->n_steps = (int)PyTuple_GET_SIZE(steps);
    if (self->n_slots < self->n_args || self->n_keep < 0) {
        PyErr_SetString(PyExc_ValueError, "fncache runtime: bad slot counts");
        return -1;
    }
    if (!(self->slots = PyMem_Calloc(self->n_slots ? self->n_slots : 1, sizeof(PyArrayObject *))))
        goto nomem;
    if (!(self->keep = PyMem_Calloc(self->n_keep ? self->n_keep : 1, sizeof(PyArrayObject *))))
        goto nomem;
    if (!(self->sinks = PyMem_Calloc(self->n_slots ? self->n_slots : 1, sizeof(PyArrayObject *))))
        goto nomem;
    if (!(self->last = PyMem_Calloc(self->n_args ? self->n_args : 1, sizeof(PyObject *))))
        goto nomem;
    if (!(self->inputs = PyMem_Calloc(self->n_args ? self->n_args : 1, sizeof(InputSpec))))
        goto nomem;
    for (int i = 0; i < self->n_args; i++) {
        int n, *a = int_array(PyTuple_GET_ITEM(inputs, i), &n, "input spec");
        if (!a) return -1;
        self->inputs[i].dims = a + 3;   /* freed as dims - 3 */
        if (n < 3 || n != 3 + 2 * a[2]) {
            PyErr_SetString(PyExc_ValueError, "fncache runtime: bad input spec");
            return -1;
        }
        self->inputs[i].typenum = a[0];
        self->inputs[i].ndim = a[1];
        self->inputs[i].nstatic = a[2];
    }
    if (!(self->const_slots = int_array(consts, &self->n_consts, "constant slots"))) return -1;
    if (self->n_consts != PyTuple_GET_SIZE(self->consts)) {
        PyErr_SetString(PyExc_ValueError, "fncache runtime: constants and their slots differ");
        return -1;
    }
    for (int j = 0; j < self->n_consts; j++) {
        if (self->const_slots[j] < self->n_args || self->const_slots[j] >= self->n_slots
            || !PyArray_Check(PyTuple_GET_ITEM(self->consts, j))) {
            PyErr_SetString(PyExc_ValueError, "fncache runtime: bad constant (slot out of range "
                            "or not an array)");
            return -1;
        }
    }
    if (!(self->steps = PyMem_Calloc(self->n_steps ? self->n_steps : 1, sizeof(Step))))
        goto nomem;
    for (int k = 0; k < self->n_steps; k++) {
        if (parse_step(&self->steps[k], PyTuple_GET_ITEM(steps, k), lib, self->n_slots) < 0)
            return -1;
    }
    if (!(self->out_slots = int_array(outs, &self->n_outs, "output slots"))) return -1;
    if (!(self->out_copy = int_array(copies, NULL, "output copies"))) return -1;
    if (PyTuple_GET_SIZE(copies) != self->n_outs || (self->single && self->n_outs != 1)) {
        PyErr_SetString(PyExc_ValueError, "fncache runtime: bad outputs");
        return -1;
    }
    for (int m = 0; m < self->n_outs; m++) {
        if (self->out_slots[m] < 0 || self->out_slots[m] >= self->n_slots) {
            PyErr_SetString(PyExc_ValueError, "fncache runtime: output slot out of range");
            return -1;
        }
    }
    if (lib != Py_None)
        self->errflag = (int *)dlsym(((Library *)lib)->handle, "fc_errflag");
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

static void Runner_dealloc(PyObject *op)
{
    Runner *self = (Runner *)op;
    Py_XDECREF(self->program);
    Py_XDECREF(self->lib);
    Py_XDECREF(self->converter);
    Py_XDECREF(self->performs);
    Py_XDECREF(self->consts);
    Py_XDECREF(self->on_error);
    Py_XDECREF(self->on_kwargs);
    if (self->last) {
        if (self->has_last) for (int i = 0; i < self->n_given; i++) Py_XDECREF(self->last[i]);
        PyMem_Free(self->last);
    }
    if (self->keep) {
        for (int i = 0; i < self->n_keep; i++) Py_XDECREF(self->keep[i]);
        PyMem_Free(self->keep);
    }
    PyMem_Free(self->slots);
    PyMem_Free(self->sinks);
    if (self->inputs) {
        for (int i = 0; i < self->n_args; i++)
            if (self->inputs[i].dims) PyMem_Free(self->inputs[i].dims - 3);
        PyMem_Free(self->inputs);
    }
    if (self->steps) {
        for (int k = 0; k < self->n_steps; k++) {
            PyMem_Free(self->steps[k].in);
            PyMem_Free(self->steps[k].out);
            PyMem_Free(self->steps[k].dying);
            PyMem_Free(self->steps[k].ints);
        }
        PyMem_Free(self->steps);
    }
    Py_XDECREF(self->shared);
    PyMem_Free(self->updated);
    PyMem_Free(self->step_ns);
    PyMem_Free(self->const_slots);
    PyMem_Free(self->out_slots);
    PyMem_Free(self->out_copy);
    Py_TYPE(op)->tp_free(op);
}

static PyObject *Runner_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    /* Runner(lib, program, converter, performs, consts, allow_gc, nthreads, on_error,
     *        on_kwargs) */
    PyObject *lib, *prog, *conv, *perf, *consts, *on_error, *on_kwargs;
    int allow_gc, nthreads;
    Runner *self;
    /* numpy's C API is loaded with the first runner, not at import: load() does not need it. */
    if (fc_numpy_ready() < 0) return NULL;
    if (!PyArg_ParseTuple(args, "OO!OO!O!piOO", &lib, &PyTuple_Type, &prog, &conv,
                          &PyTuple_Type, &perf, &PyTuple_Type, &consts, &allow_gc, &nthreads,
                          &on_error, &on_kwargs))
        return NULL;
    if (lib != Py_None && !PyObject_TypeCheck(lib, &LibraryType)) {
        PyErr_SetString(PyExc_TypeError, "Runner: lib must be a Library from load() or None");
        return NULL;
    }
    self = (Runner *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->vectorcall = Runner_vectorcall;
    Py_INCREF(prog); self->program = prog;
    Py_INCREF(lib); self->lib = lib;
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
    if (parse_program(self, prog, lib) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

/* numpy's C-API table, imported on first use (a Runner, a random draw), not at module import. */
int fc_numpy_ready(void)
{
    return fncache_runtime_ARRAY_API || _import_array() >= 0 ? 0 : -1;
}

static PyMethodDef Runner_methods[] = {
    {"repeat", (PyCFunction)(void (*)(void))Runner_repeat, METH_FASTCALL | METH_KEYWORDS,
     "repeat(n_calls=1)"},
    {"free", Runner_free, METH_NOARGS, "drop kept intermediate buffers"},
    {"bind_shared", Runner_bind_shared, METH_VARARGS,
     "bind_shared(shared, updated, n_out, single): read and update shared variables in C"},
    {"fill_outputs", Runner_fill_outputs, METH_O,
     "fill_outputs(byte): fill each output buffer with byte before its step runs (None: no)"},
    {"time_steps", Runner_time_steps, METH_O, "time_steps(on): time each step of later calls"},
    {"step_times", Runner_step_times, METH_NOARGS,
     "step_times() -> ((seconds, runs), ...) per step, or None when not timing"},
    {"thread_costs", Runner_thread_costs, METH_VARARGS,
     "thread_costs() -> ((ps_one, ps_par, calls, probe), ...) per step; thread_costs(k, one, par)"},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef Runner_getset[] = {
    {"failed_node", Runner_failed, NULL, "index of the node that raised, or -1", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject RunnerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fncache.codegen._c_runtime.Runner",
    .tp_basicsize = sizeof(Runner),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(Runner, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_new = Runner_new,
    .tp_dealloc = Runner_dealloc,
    .tp_methods = Runner_methods,
    .tp_getset = Runner_getset,
};

/* Whether `r` can write `nout` outputs straight into rows: one output per `outs` array, each
 * its own slot (an output listed twice is copied). */
static int can_sink(const Runner *r, Py_ssize_t nout)
{
    if (nout != r->n_outs) return 0;
    for (Py_ssize_t j = 0; j < nout; j++)
        for (Py_ssize_t i = 0; i < j; i++)
            if (r->out_slots[i] == r->out_slots[j]) return 0;
    return 1;
}

/* Point each output's sink at row k of its `outs` array (`can_sink` holds): the view from the
 * previous row is moved when only this loop holds it (nothing can see it change), else a new
 * one is made. Returns -1 (no sinks) on failure. */
static int aim_sinks(Runner *r, PyObject *outs, PyArrayObject **sink, npy_intp k)
{
    const Py_ssize_t nout = PyTuple_GET_SIZE(outs);
    for (Py_ssize_t j = 0; j < nout; j++) {
        PyArrayObject *out = (PyArrayObject *)PyTuple_GET_ITEM(outs, j);
        char *at = PyArray_BYTES(out) + k * PyArray_STRIDE(out, 0);
        if (sink[j] && Py_REFCNT(sink[j]) == 1) {
            ((PyArrayObject_fields *)sink[j])->data = at;
        } else {
            Py_CLEAR(sink[j]);
            PyArray_Descr *d = PyArray_DESCR(out);
            Py_INCREF(d);
            sink[j] = (PyArrayObject *)PyArray_NewFromDescr(
                &PyArray_Type, d, PyArray_NDIM(out) - 1, PyArray_DIMS(out) + 1, NULL, at,
                NPY_ARRAY_CARRAY, NULL);
            if (!sink[j]) { PyErr_Clear(); return -1; }
            Py_INCREF(out);
            if (PyArray_SetBaseObject(sink[j], (PyObject *)out) < 0) {
                Py_CLEAR(sink[j]); PyErr_Clear(); return -1;
            }
        }
    }
    for (Py_ssize_t j = 0; j < nout; j++) r->sinks[r->out_slots[j]] = sink[j];
    return 0;
}

/* Row k of `out` := `r`, which must be an array of the row's dtype and shape (else 1: the
 * caller reports it). Nothing to do when `r` is the sink aimed at that row. -1: error set. */
static int store_row(PyArrayObject *out, PyObject *r, npy_intp k, PyArrayObject *sink)
{
    PyArrayObject *row = (PyArrayObject *)r;
    const int nd = PyArray_NDIM(out) - 1;
    if (!PyArray_Check(r) || PyArray_NDIM(row) != nd || PyArray_TYPE(row) != PyArray_TYPE(out)
        || !PyArray_CompareLists(PyArray_DIMS(row), PyArray_DIMS(out) + 1, nd))
        return 1;
    const npy_intp bytes = PyArray_NBYTES(row);
    char *at = PyArray_BYTES(out) + k * bytes;
    if (row == sink && PyArray_BYTES(row) == at) return 0;   /* computed in place */
    if (PyArray_IS_C_CONTIGUOUS(row)) {
        if (bytes) memcpy(at, PyArray_DATA(row), bytes);
        return 0;
    }
    return PySequence_SetItem((PyObject *)out, (Py_ssize_t)k, r) < 0 ? -1 : 0;
}

/* Row k run on the runner itself, the way a call of it would run, less what only a call
 * from Python needs: no argument tuple or list of results, no inputs kept for f.fn. The
 * program runs on the runner's own scratch, its outputs computed into the rows (sinks)
 * and stored from their slots. 0; 1 + j when output j's row is not its row's dtype or
 * shape; -1 with an exception set (naming the failing node, as a call's would). */
static Py_ssize_t runner_row(Runner *r, PyObject *const *argv, PyObject *outs,
                             PyArrayObject **sink, npy_intp k)
{
    const Py_ssize_t nout = PyTuple_GET_SIZE(outs);
    Py_ssize_t rc = 0;
    const int sinking = aim_sinks(r, outs, sink, k) == 0;
    r->running++;
    r->failed_node = -1;
    const int failed = run_steps(r, argv, r->slots) < 0;
    if (sinking)
        for (Py_ssize_t j = 0; j < nout; j++) r->sinks[r->out_slots[j]] = NULL;
    for (Py_ssize_t j = 0; !failed && !rc && j < nout; j++) {
        const int st = store_row((PyArrayObject *)PyTuple_GET_ITEM(outs, j),
                                 (PyObject *)r->slots[r->out_slots[j]], k, sink[j]);
        rc = st < 0 ? -1 : st ? 1 + j : 0;
    }
    clear_slots(r, r->slots);
    r->running--;
    if (failed) {
        fc_on_error(r);
        return -1;
    }
    return rc;
}

/* Row k by a call of `fn` (any callable returning a list of one array per output); a runner
 * not already running computes the rows in place (its sinks). Same results as runner_row. */
static Py_ssize_t called_row(PyObject *fn, Runner *runner, PyObject *const *argv, size_t nargs,
                             PyObject *outs, PyArrayObject **sink, npy_intp k)
{
    const Py_ssize_t nout = PyTuple_GET_SIZE(outs);
    /* Only a call that starts the runner uses its own scratch (and so its sinks): while
     * another call is inside it, this one runs on fresh scratch and copies its rows. */
    const int sinking = runner && !runner->running && aim_sinks(runner, outs, sink, k) == 0;
    PyObject *rows = PyObject_Vectorcall(fn, argv, nargs, NULL);
    if (sinking)
        for (Py_ssize_t j = 0; j < nout; j++) runner->sinks[runner->out_slots[j]] = NULL;
    if (!rows) return -1;
    if (!PyList_Check(rows) || PyList_GET_SIZE(rows) != nout) {
        PyErr_Format(PyExc_TypeError, "rows: fn returned %R, expected a list of %zd arrays",
                     rows, nout);
        Py_DECREF(rows);
        return -1;
    }
    Py_ssize_t rc = 0;
    for (Py_ssize_t j = 0; !rc && j < nout; j++) {
        const int st = store_row((PyArrayObject *)PyTuple_GET_ITEM(outs, j),
                                 PyList_GET_ITEM(rows, j), k, sinking ? sink[j] : NULL);
        rc = st < 0 ? -1 : st ? 1 + j : 0;
    }
    Py_DECREF(rows);
    return rc;
}

/* outs[j][k] = fn(index=k, *values)[j] for k = 0..n-1 (`outs`: a tuple of C-contiguous
 * arrays of n rows). A compiled function (a Runner) is run row by row from here (runner_row),
 * not called. None, (k, j) for a row whose shape or dtype is not its output's, or NULL. */
static PyObject *fill_loop(PyObject *fn, PyArrayObject *index, PyObject *const *values,
                           Py_ssize_t nv, PyObject *outs, npy_intp n)
{
    const Py_ssize_t nout = PyTuple_GET_SIZE(outs);
    PyObject **argv = PyMem_Malloc((size_t)(1 + nv) * sizeof(PyObject *));
    if (!argv) return PyErr_NoMemory();
    argv[0] = (PyObject *)index;
    for (Py_ssize_t i = 0; i < nv; i++) argv[1 + i] = values[i];
    /* A compiled function computes each row's outputs straight into outs[j][k] (its `sinks`:
     * one view per output, moved from row to row) instead of a buffer copied out afterwards. */
    Runner *runner = PyObject_TypeCheck(fn, &RunnerType) && can_sink((Runner *)fn, nout) ? (Runner *)fn : NULL;
    /* Run here only what a call would run the same way: no shared variables to read or
     * update, the inputs it takes (a call reports a wrong count). */
    const int direct = runner && !runner->shared && runner->n_args == 1 + nv;
    PyArrayObject **sink = PyMem_Calloc((size_t)nout, sizeof(PyArrayObject *));
    if (!sink) { PyMem_Free(argv); return PyErr_NoMemory(); }
    PyObject *result = NULL;
    Py_ssize_t rc = 0;
    for (npy_intp k = 0; k < n && !rc; k++) {
        *(npy_int64 *)PyArray_DATA(index) = (npy_int64)k;
        /* A runner already running (a Python op of its own graph got here) is called. */
        rc = direct && !runner->running
                 ? runner_row(runner, argv, outs, sink, k)
                 : called_row(fn, runner, argv, (size_t)(1 + nv), outs, sink, k);
        if (rc > 0) result = Py_BuildValue("(nn)", (Py_ssize_t)k, rc - 1);
    }
    if (!rc) result = Py_NewRef(Py_None);
    for (Py_ssize_t j = 0; j < nout; j++) Py_XDECREF(sink[j]);
    PyMem_Free(sink);
    PyMem_Free(argv);
    return result;
}

/* rows(fn, typenums, on_bad, rows, *likes, *values): a JacobianRows node's outputs, one per
 * typenum: output j has shape (len(rows),) + likes[j].shape, and row k is fn(k, *values)[j]
 * (fill_loop). A row of the wrong shape or dtype calls on_bad(k, j, rows, *likes, *values),
 * which raises the op's error. The op's perform, and what the C run-time calls for the node
 * (bound to its inner function), so a call costs no Python frame. */
static PyObject *rt_rows(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (fc_numpy_ready() < 0) return NULL;
    const Py_ssize_t nout = nargs >= 2 && PyTuple_Check(args[1]) ? PyTuple_GET_SIZE(args[1]) : -1;
    if (nout < 1 || nargs < 4 + nout || !PyArray_Check(args[3])
        || PyArray_NDIM((PyArrayObject *)args[3]) < 1) {
        PyErr_SetString(PyExc_TypeError, "rows(fn, typenums, on_bad, rows, *likes, *values): "
                        "expected a tuple of typenums, a callable, an array of rows and an "
                        "array per typenum");
        return NULL;
    }
    const npy_intp n = PyArray_DIM((PyArrayObject *)args[3], 0);
    PyObject *outs = PyTuple_New(nout), *res = NULL;
    if (!outs) return NULL;
    for (Py_ssize_t j = 0; j < nout; j++) {
        PyObject *like = args[4 + j];
        const int typenum = (int)PyLong_AsLong(PyTuple_GET_ITEM(args[1], j));
        if (typenum == -1 && PyErr_Occurred()) goto done;
        if (!PyArray_Check(like) || PyArray_NDIM((PyArrayObject *)like) >= NPY_MAXDIMS) {
            PyErr_Format(PyExc_TypeError, "rows: the shape of output %zd's rows must be an "
                         "array of fewer than %d dims", j, NPY_MAXDIMS);
            goto done;
        }
        const int nd = PyArray_NDIM((PyArrayObject *)like);
        npy_intp dims[NPY_MAXDIMS];
        dims[0] = n;
        for (int d = 0; d < nd; d++) dims[1 + d] = PyArray_DIM((PyArrayObject *)like, d);
        PyArrayObject *o = (PyArrayObject *)PyArray_EMPTY(nd + 1, dims, typenum, 0);
        if (!o) goto done;
        PyTuple_SET_ITEM(outs, j, (PyObject *)o);
    }
    if (n > 0) {
        /* Values read by every row are made contiguous once (a view such as x[::-1] would
         * send each row's loops that read it down their strided path). */
        const Py_ssize_t nv = nargs - 4 - nout;
        PyObject *vals[nv > 0 ? nv : 1];
        Py_ssize_t made = 0;
        for (; made < nv; made++) {
            PyObject *a = args[4 + nout + made];
            vals[made] = PyArray_Check(a) && !PyArray_ISCARRAY_RO((PyArrayObject *)a)
                             ? PyArray_NewCopy((PyArrayObject *)a, NPY_CORDER)
                             : Py_NewRef(a);
            if (!vals[made]) break;
        }
        /* One 0-d index array, rewritten for each row: the inner function only reads it, and
         * none of its outputs (float gradients) can view it. */
        PyArrayObject *index = made == nv ? (PyArrayObject *)PyArray_ZEROS(0, NULL, NPY_INT64, 0) : NULL;
        PyObject *bad = index ? fill_loop(args[0], index, vals, nv, outs, n) : NULL;
        Py_XDECREF(index);
        for (Py_ssize_t i = 0; i < made; i++) Py_DECREF(vals[i]);
        if (!bad) goto done;
        if (bad != Py_None) {
            PyObject *report[nargs - 1];   /* k, j, then args[3:] */
            report[0] = PyTuple_GET_ITEM(bad, 0);
            report[1] = PyTuple_GET_ITEM(bad, 1);
            for (Py_ssize_t i = 3; i < nargs; i++) report[i - 1] = args[i];
            PyObject *r = PyObject_Vectorcall(args[2], report, (size_t)(nargs - 1), NULL);
            Py_DECREF(bad);
            if (r) {
                Py_DECREF(r);
                PyErr_SetString(PyExc_ValueError, "rows: a row is not its output's shape or dtype");
            }
            goto done;
        }
        Py_DECREF(bad);
    }
    res = PySequence_List(outs);
done:
    Py_DECREF(outs);
    return res;
}

static PyMethodDef module_methods[] = {
    {"load", rt_load, METH_O, "load(path) -> Library: dlopen a generated kernel library"},
    {"rows", (PyCFunction)(void (*)(void))rt_rows, METH_FASTCALL,
     "rows(fn, typenums, on_bad, rows, *likes, *values) -> a JacobianRows node's outputs"},
    {"philox", fc_random_philox, METH_VARARGS, "philox(counter4, key2) -> 4 words (c_random.c)"},
    {"random_fill", fc_random_fill, METH_VARARGS,
     "random_fill(kind, out, key, call, nthreads, a, b): draw into out (c_random.c)"},
    {"random_shuffle", fc_random_shuffle, METH_VARARGS,
     "random_shuffle(out, n, key, call): the first len(out) of a shuffle of range(n)"},
    {"random_math", fc_random_math, METH_VARARGS,
     "random_math(kind, x): x in place by its log (0) or exp (1) of c_random.c"},
    {"random_cholesky", fc_random_cholesky, METH_VARARGS,
     "random_cholesky(x) -> bool: each matrix of x in place by its lower Cholesky factor"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, "fncache.codegen._c_runtime",
    "The per-call machinery of compiled CPU functions (see c_runtime.c).", -1, module_methods
};

PyMODINIT_FUNC PyInit__c_runtime(void)
{
    PyObject *m;
    if (pthread_atfork(NULL, NULL, fc_atfork_child) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "fncache runtime: pthread_atfork failed");
        return NULL;
    }
    if (PyType_Ready(&RunnerType) < 0 || PyType_Ready(&LibraryType) < 0 || fc_alloc_init() < 0)
        return NULL;
    if (!(str_value = PyUnicode_InternFromString("_value"))
        || !(str_device = PyUnicode_InternFromString("_device"))
        || !(str_host_value = PyUnicode_InternFromString("_host_value")))
        return NULL;
    m = PyModule_Create(&moddef);
    if (!m) return NULL;
    if (PyModule_AddStringConstant(m, "SOURCE", FC_RUNTIME_SOURCE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&RunnerType);
    if (PyModule_AddObject(m, "Runner", (PyObject *)&RunnerType) < 0) {
        Py_DECREF(&RunnerType); Py_DECREF(m); return NULL;
    }
    Py_INCREF(&LibraryType);
    if (PyModule_AddObject(m, "Library", (PyObject *)&LibraryType) < 0) {
        Py_DECREF(&LibraryType); Py_DECREF(m); return NULL;
    }
    return m;
}
