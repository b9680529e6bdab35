/* fncache's C run-time: what c_runtime.c (the runner, the module) and c_steps.c (one
 * function per kind of step) share: the program's structures and the kernels' signatures. */
#ifndef FNCACHE_C_RUNTIME_H
#define FNCACHE_C_RUNTIME_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
/* One numpy C-API table for the extension's files; c_runtime.c fills it (import_array). */
#define PY_ARRAY_UNIQUE_SYMBOL fncache_runtime_ARRAY_API
#ifndef FC_RUNTIME_MAIN
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>
#include <stddef.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef NPY_RAVEL_AXIS
#define FC_RAVEL_AXIS NPY_RAVEL_AXIS
#else
#define FC_RAVEL_AXIS NPY_MAXDIMS
#endif

/* Loops shorter than this run on one thread (thread start-up costs more than it saves). */
#define FC_PAR_MIN 32768
/* Elementwise loops, full reductions, row passes and pooling steps between FC_PAR_MIN and
 * FC_PAR_BIG elements are timed, whole calls, on one thread and on threads: they try threads
 * once one thread took at least FC_PAR_MIN_NS for them (a worker asleep since the last call
 * takes tens of microseconds to wake, ~30 us on a VM and up to ~80 us on a loaded one, more than
 * a cheap loop of that size lasts: a sum of FC_PAR_MIN values takes ~5 us), then run the way
 * that measured faster, trying the other one call in 2^FC_PROBE_MIN_LOG at first, then ever
 * more rarely while it stays slower, down to one in 2^FC_PROBE_MAX_LOG (c_steps.c,
 * choose_threads). Longer loops always use threads, untimed. */
#define FC_PAR_BIG 524288
#define FC_PAR_MIN_NS 50000
#define FC_PROBE_MIN_LOG 3
#define FC_PROBE_MAX_LOG 7
/* Bytes per per-thread partial result of a full reduction (kernels use the same stride). */
#define FC_PART 16
#define FC_MAX_THREADS 64
/* Chunks of a threaded loop per thread (see c_steps.c: a delayed thread delays nobody, and the
 * last chunk, which one thread finishes while the others wait, is short). */
#define FC_CHUNKS_PER_THREAD 32
/* sha256 (16 hex digits) of the run-time's sources, given by the build (setup.py): the
 * Python side refuses a build that does not match the sources next to it. */
#ifndef FC_RUNTIME_SOURCE
#define FC_RUNTIME_SOURCE "unknown"
#endif

enum { ST_ELEMWISE = 0, ST_REDUCE = 1, ST_DOT = 2, ST_ARGREDUCE = 3, ST_DIMSHUFFLE = 4,
       ST_PERFORM = 5, ST_SUM_TO_SHAPE = 6, ST_REDUCED_SIZE = 7, ST_ROWPASS = 8, ST_SHAPE = 9,
       ST_RESHAPE = 10, ST_SUBTENSOR_GRAD = 11, ST_SUBTENSOR = 12,
       ST_MAKE_VECTOR = 13, ST_ALLOC = 14, ST_CONCATENATE = 15, ST_SPECIFY_SHAPE = 16,
       ST_ASSERT = 17, ST_ARANGE = 18, ST_TENSORDOT = 19,
       ST_ADV_INDEX = 20, ST_CUMOP = 21, ST_EYE = 22, ST_REPEAT = 23, ST_TILE = 24,
       ST_REPEAT_GRAD = 25, ST_SORT = 26, ST_SORT_GRAD = 27,
       ST_MATMUL = 28, ST_POOL = 29, ST_RANDOM = 30 };

/* Kernel signatures (see c_nodes.py): `p` holds the data pointers of the inputs, then of the
 * outputs. */
typedef void (*flat_fn)(npy_intp lo, npy_intp hi, char *const *p);
typedef void (*rows_fn)(npy_intp lo, npy_intp hi, const npy_intp *shape, const npy_intp *st,
                        char *const *p);
typedef void (*red_fn)(npy_intp lo, npy_intp hi, char *const *p, void *part, int *hasnan);
typedef void (*fin_fn)(const char *parts, int used, int hasnan, npy_intp rn, char *out);
/* A row pass (ST_ROWPASS): rows lo..hi of X (element strides rs, cs; n columns); `p` holds
 * X, w_1 .. w_P, z_1 .. z_P, the other inputs, g_1 .. g_P, the row outputs; X.T @ g_k over
 * those rows goes to `gw` + k n (elements), one product after the other. */
typedef void (*pass_fn)(npy_intp lo, npy_intp hi, npy_intp n, npy_intp rs, npy_intp cs,
                        char *const *p, char *gw);
typedef int (*gen_fn)(const npy_intp *shape, const npy_intp *st, const npy_intp *ost,
                      npy_intp n, npy_intp on, npy_intp rn, char *const *p, char *out);

typedef struct {
    int kind, nin, nout, nd, nints, ndying, errcheck;
    /* loops, reductions, row passes, pooling: a whole call's ps per element on one thread
     * (ps_one) and on threads, waking them included (ps_par); 0: not measured */
    long long ps_one, ps_par;
    unsigned calls;           /* calls that chose between one thread and threads */
    unsigned probe;           /* the other way is tried every 2^(FC_PROBE_MIN_LOG + probe) calls */
    unsigned turn;            /* row passes: calls so far (which way the next goes, c_steps.c) */
    int *in, *out, *dying, *ints;
    void *fn[3];
    const char *name, *msg;   /* borrowed from the program tuple, which the Runner holds */
} Step;

typedef struct {
    int typenum, ndim, nstatic;
    int *dims;                /* nstatic (dim, size) pairs */
} InputSpec;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *program;     /* the tuple the steps below were parsed from */
    PyObject *lib;         /* the kernel library (keeps it loaded) or None */
    PyObject *converter;   /* converter(i, value) -> ndarray, or raises TypeError */
    PyObject *performs;    /* tuple: Python implementations of nodes without C code */
    PyObject *consts;      /* tuple of constant arrays */
    PyObject *on_error;    /* on_error(exc) -> exception to raise (adds the failing node) */
    PyObject *on_kwargs;   /* on_kwargs(*args, **kwargs): binds inputs given by name or miscounted */
    PyObject **last;       /* the last call's inputs, for repeat() (f.fn) */
    PyArrayObject **keep;  /* kept intermediate buffers (allow_gc off) */
    PyArrayObject **slots; /* scratch: one per variable of the graph */
    PyArrayObject **sinks; /* per slot: where the row loop wants that output written, or NULL */
    InputSpec *inputs;
    int *const_slots;
    Step *steps;
    int *out_slots, *out_copy;
    int *errflag;          /* the kernels' error flags (integer power), or NULL */
    PyObject *shared;      /* bind_shared: tuple of shared variables (the last inputs), or NULL */
    int *updated;          /* per update output: index in `shared` of the variable it sets */
    long long *step_ns;    /* time_steps(): per step, nanoseconds spent, then runs; or NULL */
    int n_given, n_shared, n_updated, n_user_out, user_single;
    int n_args, n_consts, n_slots, n_keep, n_steps, n_outs, single;
    int allow_gc, nthreads, failed_node, has_last, running;
    int poison;            /* fill_outputs(): 1 + the byte outputs' buffers are filled with; 0 */
} Runner;

/* c_runtime.c: 0 once numpy's C-API is imported, -1 with an exception set */
int fc_numpy_ready(void);

/* c_steps.c */
int fc_run_step(Runner *self, Step *s, PyArrayObject **v);
void fc_atfork_child(void);
int fc_alloc_init(void);
/* Whether a loop of n elements may run on nthreads threads (not in a child forked after
 * threads started), and its chunks: chunk k is [fc_chunk_at(n, k, K), fc_chunk_at(n, k+1, K)),
 * boundaries on multiples of 64 elements. */
int fc_parallel_ok(npy_intp n, int nthreads);
int fc_nchunks(npy_intp n, int nthreads);
npy_intp fc_chunk_at(npy_intp n, int k, int nchunks);

/* c_random.c: counter-based random numbers, as module functions */
PyObject *fc_random_philox(PyObject *mod, PyObject *args);
PyObject *fc_random_fill(PyObject *mod, PyObject *args);
PyObject *fc_random_shuffle(PyObject *mod, PyObject *args);
PyObject *fc_random_math(PyObject *mod, PyObject *args);
PyObject *fc_random_cholesky(PyObject *mod, PyObject *args);
/* A RandomVariable's draw as a step: 0 done, -1 an exception, 1 run the op's perform. */
int fc_random_step(const Step *s, PyArrayObject **v, int nthreads);

#endif
