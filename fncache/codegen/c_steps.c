/* The steps of a run-time program, one function per kind of node (see c_runtime.h): numpy
 * broadcasting, output allocation and reuse, threads and the GIL around the generated kernels;
 * dot, argmax/argmin, dimshuffle, a reduction's element count and Python ops carried out here
 * with numpy's C API. */
#include "c_runtime.h"
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>
#define FC_OUTPUT_POOL 1
#endif

/* ---- per-node helpers ------------------------------------------------------------------ */

/* The element strides of `n` arrays broadcast into a shape of ndim `nd` (0 where broadcast),
 * at `strides[i*nd + d]`: only loops over strided inputs read them (a flat loop does not). */
static void fc_strides(int nd, int n, PyArrayObject **a, npy_intp *strides)
{
    for (int i = 0; i < n; i++) {
        int off = nd - PyArray_NDIM(a[i]);
        npy_intp isz = PyArray_ITEMSIZE(a[i]);
        for (int d = 0; d < nd; d++) {
            if (d < off || PyArray_DIM(a[i], d - off) == 1) strides[i * nd + d] = 0;
            else strides[i * nd + d] = PyArray_STRIDE(a[i], d - off) / isz;
        }
    }
}

/* An array's shape as a Python tuple (a new reference; NULL with an exception set), for error
 * messages that print shapes as the Python linker's do. */
static PyObject *fc_shape_tuple(PyArrayObject *a)
{
    PyObject *t = PyTuple_New(PyArray_NDIM(a));
    for (int d = 0; t && d < PyArray_NDIM(a); d++) {
        PyObject *n = PyLong_FromSsize_t(PyArray_DIM(a, d));
        if (!n) { Py_CLEAR(t); break; }
        PyTuple_SET_ITEM(t, d, n);
    }
    return t;
}

/* Raise fncache.errors' class `name` made by its `of(*args)` (`args` a new reference, taken;
 * NULL with an exception set): those classes carry an error's data (the op, the shapes), from
 * which the error is said again in the user's words. An error path only, so imported here.
 * Always returns -1. */
static int fc_raise_data_error(const char *name, PyObject *args)
{
    PyObject *mod = args ? PyImport_ImportModule("fncache.errors") : NULL;
    PyObject *cls = mod ? PyObject_GetAttrString(mod, name) : NULL;
    PyObject *of = cls ? PyObject_GetAttrString(cls, "of") : NULL;
    PyObject *err = of ? PyObject_Call(of, args, NULL) : NULL;
    if (err) PyErr_SetObject((PyObject *)Py_TYPE(err), err);
    Py_XDECREF(err);
    Py_XDECREF(of);
    Py_XDECREF(cls);
    Py_XDECREF(mod);
    Py_XDECREF(args);
    return -1;
}

/* numpy broadcasting of `n` arrays into `shape` (ndim `nd`). Views with zero strides
 * (np.broadcast_to) hold many elements in little memory, so the broadcast shape of several
 * can have more elements than an npy_intp counts: refused as numpy refuses them (its own
 * broadcast of those views fails), not looped over a wrapped count. */
static int fc_broadcast(int nd, int n, PyArrayObject **a, npy_intp *shape, const char *what)
{
    int i, d, too_many = 0;
    npy_intp count = 1;
    for (d = 0; d < nd; d++) shape[d] = 1;
    for (i = 0; i < n; i++) {
        int off = nd - PyArray_NDIM(a[i]);
        for (d = 0; d < PyArray_NDIM(a[i]); d++) {
            npy_intp s = PyArray_DIM(a[i], d);
            if (s != 1) {
                if (shape[off + d] != 1 && shape[off + d] != s) goto bad;
                shape[off + d] = s;
            }
        }
    }
    for (d = 0; d < nd && !too_many; d++) too_many = __builtin_mul_overflow(count, shape[d], &count);
    if (!too_many) return 0;
bad:
    {
        PyObject *shapes = PyList_New(0);
        for (i = 0; i < n && shapes; i++) {
            PyObject *t = fc_shape_tuple(a[i]);
            if (!t || PyList_Append(shapes, t)) Py_CLEAR(shapes);
            Py_XDECREF(t);
        }
        if (!shapes) return -1;
        if (!too_many)
            fc_raise_data_error("BroadcastError", Py_BuildValue("(sO)", what, shapes));
        else
            PyErr_Format(PyExc_ValueError,
                         "%s: input shapes %R broadcast to more elements than an array can hold; "
                         "give smaller inputs", what, shapes);
        Py_XDECREF(shapes);
        return -1;
    }
}

/* Inline forms of numpy's PyArray_CompareLists and PyArray_MultiplyList (calls through its
 * API table): a step compares and multiplies a few dims several times on every call. */
static inline int fc_same_dims(const npy_intp *a, const npy_intp *b, int nd)
{
    for (int d = 0; d < nd; d++)
        if (a[d] != b[d]) return 0;
    return 1;
}

static inline npy_intp fc_size(const npy_intp *dims, int nd)
{
    npy_intp n = 1;
    for (int d = 0; d < nd; d++) n *= dims[d];
    return n;
}

/* ---- large outputs: recycled memory --------------------------------------------------------
 *
 * A fresh large output costs more than its loop's arithmetic suggests. The kernel zeroes every
 * page on first touch (80 MB: ~8 ms on one core here, a quarter of W1's 10^7-element call), and
 * the C library gives memory back to the kernel when it is freed: a block above 32 MB at once,
 * and the top of its heap whenever more than twice the largest block freed so far lies unused
 * there. So a call that frees two 1 MB arrays (a softmax's exponentials and the previous call's
 * result) hands 2 MB back, and the next call faults in its ~500 pages again: 85 % of a 128x1000
 * softmax's time. Outputs of at least FC_POOL_BYTES are therefore allocated through a numpy
 * memory handler of their own (the array keeps it, so numpy frees them through it too) and,
 * when freed, kept in a small pool (FC_POOL_BLOCKS blocks, 1/FC_POOL_SHARE of the machine's
 * memory at most) from which the next output of about the same size is taken with its pages
 * already mapped. Those of at least FC_BIG_BYTES are 2 MiB-aligned and madvise(MADV_HUGEPAGE)d,
 * so the kernel maps them with huge pages, and while pooled are madvise(MADV_FREE)d: the kernel
 * may take their pages back under memory pressure (a later write then faults in fresh ones),
 * and otherwise a write finds them mapped. Smaller outputs, realloc and calloc go to the C
 * library unchanged. Linux with glibc only (malloc_usable_size, MADV_FREE); elsewhere numpy
 * allocates every output. */
#define FC_POOL_BYTES ((size_t)256 << 10)
#define FC_BIG_BYTES ((size_t)4 << 20)
#define FC_HUGE_PAGE ((size_t)2 << 20)
#define FC_POOL_BLOCKS 16
#define FC_POOL_SHARE 16

#ifdef FC_OUTPUT_POOL
static struct { void *p; size_t cap; } fc_pool[FC_POOL_BLOCKS];
static int fc_pool_n;
static size_t fc_pool_bytes, fc_pool_max;
static pthread_mutex_t fc_pool_lock = PTHREAD_MUTEX_INITIALIZER;

/* The whole pages inside [p, p + n): never the C library's chunk header just before p. */
static void fc_advise(void *p, size_t n, int advice)
{
    const uintptr_t pg = 4096, lo = ((uintptr_t)p + pg - 1) & ~(pg - 1);
    const uintptr_t hi = ((uintptr_t)p + n) & ~(pg - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, advice);
}

static void *fc_big_malloc(void *ctx, size_t size)
{
    (void)ctx;
    if (size < FC_POOL_BYTES) return malloc(size);
    /* About the same size: a pooled block much larger than asked for stays for its kind. */
    const size_t slack = size / 8 + (size >= FC_BIG_BYTES ? FC_HUGE_PAGE : 4096);
    pthread_mutex_lock(&fc_pool_lock);
    for (int i = 0; i < fc_pool_n; i++) {
        if (fc_pool[i].cap >= size && fc_pool[i].cap - size <= slack) {
            void *p = fc_pool[i].p;
            fc_pool_bytes -= fc_pool[i].cap;
            fc_pool[i] = fc_pool[--fc_pool_n];
            pthread_mutex_unlock(&fc_pool_lock);
            return p;
        }
    }
    pthread_mutex_unlock(&fc_pool_lock);
    if (size < FC_BIG_BYTES) return malloc(size);
    void *p;
    if (posix_memalign(&p, FC_HUGE_PAGE, size) != 0) return NULL;
    fc_advise(p, size, MADV_HUGEPAGE);
    return p;
}

static void *fc_big_calloc(void *ctx, size_t n, size_t size)
{
    (void)ctx;
    return calloc(n, size);
}

static void *fc_big_realloc(void *ctx, void *p, size_t size)
{
    (void)ctx;
    return realloc(p, size);
}

static void fc_big_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    void *evict[FC_POOL_BLOCKS + 1];
    int ne = 0;
    size_t cap = p ? malloc_usable_size(p) : 0;
    if (!p || size < FC_POOL_BYTES || cap > fc_pool_max) {
        free(p);
        return;
    }
    if (size >= FC_BIG_BYTES) fc_advise(p, cap, MADV_FREE);
    pthread_mutex_lock(&fc_pool_lock);
    while (fc_pool_n && (fc_pool_n == FC_POOL_BLOCKS || fc_pool_bytes + cap > fc_pool_max)) {
        evict[ne++] = fc_pool[0].p;            /* the oldest goes first */
        fc_pool_bytes -= fc_pool[0].cap;
        memmove(fc_pool, fc_pool + 1, --fc_pool_n * sizeof(fc_pool[0]));
    }
    fc_pool[fc_pool_n].p = p;
    fc_pool[fc_pool_n++].cap = cap;
    fc_pool_bytes += cap;
    pthread_mutex_unlock(&fc_pool_lock);
    for (int i = 0; i < ne; i++) free(evict[i]);
}

static PyDataMem_Handler fc_big_handler = {
    "fncache_large_outputs", 1,
    {NULL, fc_big_malloc, fc_big_calloc, fc_big_realloc, fc_big_free}
};
static PyObject *fc_big_capsule;

int fc_alloc_init(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    fc_pool_max = pages > 0 && page > 0 ? (size_t)pages * (size_t)page / FC_POOL_SHARE
                                        : (size_t)256 << 20;
    fc_big_capsule = PyCapsule_New(&fc_big_handler, "mem_handler", NULL);
    return fc_big_capsule ? 0 : -1;
}

static PyArrayObject *fc_empty(int nd, npy_intp *shape, int typenum)
{
    /* No item is larger than 16 bytes (complex128): most outputs need no dtype lookup. */
    npy_intp n = fc_size(shape, nd);
    if (n < (npy_intp)(FC_POOL_BYTES / 16))
        return (PyArrayObject *)PyArray_EMPTY(nd, shape, typenum, 0);
    PyArray_Descr *d = PyArray_DescrFromType(typenum);
    if (!d) return NULL;
    npy_intp bytes = n * (npy_intp)PyDataType_ELSIZE(d);
    Py_DECREF(d);
    if (bytes < (npy_intp)FC_POOL_BYTES) return (PyArrayObject *)PyArray_EMPTY(nd, shape, typenum, 0);
    PyObject *old = PyDataMem_SetHandler(fc_big_capsule);
    if (!old) return NULL;
    PyArrayObject *r = (PyArrayObject *)PyArray_EMPTY(nd, shape, typenum, 0);
    PyObject *back = PyDataMem_SetHandler(old);
    Py_DECREF(old);
    if (!back) { Py_XDECREF(r); return NULL; }
    Py_DECREF(back);
    return r;
}

#else
int fc_alloc_init(void) { return 0; }

static PyArrayObject *fc_empty(int nd, npy_intp *shape, int typenum)
{
    return (PyArrayObject *)PyArray_EMPTY(nd, shape, typenum, 0);
}
#endif

/* DebugMode's check_preallocated_output (Runner.fill_outputs): a buffer handed to a step for
 * its output is filled first, every byte `poison - 1` (0xFF, "initial": NaN in floats and
 * complex values, -1 or the largest value in integers; 0: zeros). Booleans get 1 for a nonzero
 * byte, their one other valid byte. A kernel that reads its output before writing it, or
 * leaves part of it unwritten, then gives other values than on another buffer, and DebugMode
 * sees the difference. */
static PyArrayObject *fc_poisoned(PyArrayObject *r, int poison)
{
    if (r && poison) {
        int byte = poison - 1;
        memset(PyArray_DATA(r), PyArray_TYPE(r) == NPY_BOOL ? byte != 0 : byte, (size_t)PyArray_NBYTES(r));
    }
    return r;
}

/* A fresh output, or the buffer kept from the previous call when allow_gc is off and nothing
 * else holds it (a refcount of 1 means only this runner does). */
static PyArrayObject *fc_alloc(int nd, npy_intp *shape, int typenum, PyArrayObject **keep, int poison)
{
    PyArrayObject *r;
    if (keep && *keep && Py_REFCNT(*keep) == 1 && PyArray_NDIM(*keep) == nd
        && fc_same_dims(PyArray_DIMS(*keep), shape, nd)) {
        Py_INCREF(*keep);
        return fc_poisoned(*keep, poison);
    }
    r = fc_empty(nd, shape, typenum);
    if (r && keep) { Py_XDECREF(*keep); Py_INCREF(r); *keep = r; }
    return fc_poisoned(r, poison);
}

/* A fresh output of a step that allocates it itself, filled as fc_alloc's are. */
static PyArrayObject *fc_fresh(const Runner *self, int nd, npy_intp *dims, int typenum)
{
    return fc_poisoned((PyArrayObject *)PyArray_EMPTY(nd, dims, typenum, 0), self->poison);
}

static PyArrayObject **keep_for(Runner *self, int k)
{
    return (k >= 0 && !self->allow_gc) ? &self->keep[k] : NULL;
}

/* Where a step's output `slot` goes: the caller's sink for it when it fits (the row loop writes
 * a row in place; only the call running on the runner's own scratch has sinks), else a fresh
 * or kept buffer. */
static PyArrayObject *fc_out(Runner *self, PyArrayObject **v, int slot, int nd, npy_intp *shape,
                             int typenum, int keep)
{
    PyArrayObject *sk = v == self->slots ? self->sinks[slot] : NULL;
    if (sk && PyArray_TYPE(sk) == typenum && PyArray_NDIM(sk) == nd
        && fc_same_dims(PyArray_DIMS(sk), shape, nd)) {
        Py_INCREF(sk);
        return sk;
    }
    return fc_alloc(nd, shape, typenum, keep_for(self, keep), self->poison);
}

/* The dying input `a` can hold the output: same shape, contiguous, writeable, not shared. */
static int fc_reusable(PyArrayObject *a, int nd, npy_intp *shape, int typenum)
{
    return a && Py_REFCNT(a) == 1 && PyArray_TYPE(a) == typenum && PyArray_NDIM(a) == nd
        && PyArray_IS_C_CONTIGUOUS(a) && PyArray_ISWRITEABLE(a)
        && PyArray_CHKFLAGS(a, NPY_ARRAY_OWNDATA)
        && fc_same_dims(PyArray_DIMS(a), shape, nd);
}

/* Inputs that are not declared single elements are C-contiguous with `n` elements: the
 * loop can then run flat. `scalar[i]` marks inputs read as one value. */
static int fc_flat_ok(int nin, PyArrayObject **a, const int *scalar, npy_intp n)
{
    for (int i = 0; i < nin; i++)
        if (!scalar[i] && !(PyArray_IS_C_CONTIGUOUS(a[i])
                            && fc_size(PyArray_DIMS(a[i]), PyArray_NDIM(a[i])) == n))
            return 0;
    return 1;
}


/* libgomp's thread pool does not survive fork(): a child that enters a parallel region after
 * its parent did waits forever for threads that no longer exist. A process forked after this
 * run-time started threads (multiprocessing's default on Linux) therefore runs its loops on one
 * thread, which is also what a pool of worker processes wants. */
static int fc_parallel_used, fc_parallel_broken;

void fc_atfork_child(void)
{
    if (fc_parallel_used) fc_parallel_broken = 1;
#ifdef FC_OUTPUT_POOL
    /* The child is single-threaded: a lock another thread of the parent held stays held. */
    pthread_mutex_init(&fc_pool_lock, NULL);
#endif
}

int fc_parallel_ok(npy_intp n, int nthreads)
{
    if (n < FC_PAR_MIN || nthreads < 2 || fc_parallel_broken) return 0;
    fc_parallel_used = 1;
    return 1;
}

static int use_threads(const Runner *self, npy_intp n)
{
    return fc_parallel_ok(n, self->nthreads);
}

static int fc_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int fc_team_size(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

static long long fc_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* How a call of an elementwise loop, a full reduction, a row pass or a pooling step runs: on
 * threads or not, and the clock at its start where the call is timed (0: not timed). Which way
 * it runs never changes its result: the kernel computes every element the same way on any
 * chunk, and the partial sums of a reduction or row pass are the chunks' whichever thread
 * computes them. */
typedef struct {
    int threads, probe;
    long long t0;
} ThreadChoice;

/* The choice for a call of n elements. Below FC_PAR_MIN: one thread (timed from FC_PAR_MIN / 2
 * elements, so that a step that grows has an estimate). From FC_PAR_BIG: threads, untimed (a
 * long loop gains from them whatever waking them costs). Between: one thread until one thread
 * was measured taking FC_PAR_MIN_NS for the call; then threads once (nothing measured on them
 * yet), and from then on the way whose whole calls took less per element, the other way tried
 * every 2^(FC_PROBE_MIN_LOG + probe) calls (choice_done) so that a step whose machine got quiet,
 * or busy, changes its choice. Two clock reads per timed call, none with threads=1; the
 * counters are shared by threads calling one function at once (relaxed: a lost update costs
 * one estimate, never a result). */
static ThreadChoice choose_threads(const Runner *self, Step *s, npy_intp n)
{
    ThreadChoice c = {0, 0, 0};
    if (n < FC_PAR_MIN / 2 || self->nthreads < 2 || fc_parallel_broken) return c;
    if (n >= FC_PAR_BIG) {
        c.threads = use_threads(self, n);
        return c;
    }
    const long long one = __atomic_load_n(&s->ps_one, __ATOMIC_RELAXED);
    const long long par = __atomic_load_n(&s->ps_par, __ATOMIC_RELAXED);
    if (n >= FC_PAR_MIN && one * (long long)n >= FC_PAR_MIN_NS * 1000LL) {
        if (!par) c.threads = c.probe = 1;
        else {
            const unsigned k = __atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
            const unsigned every = 1u << (FC_PROBE_MIN_LOG + __atomic_load_n(&s->probe,
                                                                             __ATOMIC_RELAXED));
            c.probe = (k & (every - 1)) == every - 1;
            c.threads = (par < one) != c.probe;
        }
        if (c.threads) c.threads = use_threads(self, n);  /* marks the threads as started */
    }
    c.t0 = fc_now_ns();
    return c;
}

/* After a timed call: its cost per element goes into the estimate of the way it ran, a quarter
 * of the way from the old estimate, a call that took more than twice the estimate counting as
 * twice (a call descheduled for a time slice on a busy machine moves the estimate by a quarter,
 * not tenfold, while a machine that stays busier moves it there within a few calls). Where the
 * faster way changes, the other way is tried again soon (every 2^FC_PROBE_MIN_LOG calls); a try
 * that leaves it the slower waits twice as long for the next, up to 2^FC_PROBE_MAX_LOG calls. */
static void choice_done(Step *s, ThreadChoice c, npy_intp n)
{
    if (!c.t0 || n <= 0) return;
    long long ps = (fc_now_ns() - c.t0) * 1000LL / n;
    if (ps < 1) ps = 1;
    long long *est = c.threads ? &s->ps_par : &s->ps_one;
    const long long one = __atomic_load_n(&s->ps_one, __ATOMIC_RELAXED);
    const long long par = __atomic_load_n(&s->ps_par, __ATOMIC_RELAXED);
    const long long old = c.threads ? par : one;
    const long long now = old ? old + ((ps < 2 * old ? ps : 2 * old) - old) / 4 : ps;
    __atomic_store_n(est, now, __ATOMIC_RELAXED);
    if (!one || !par) return;
    const int was = par < one, is = c.threads ? now < one : par < now;
    unsigned probe = __atomic_load_n(&s->probe, __ATOMIC_RELAXED);
    if (was != is) probe = 0;
    else if (c.probe && probe < FC_PROBE_MAX_LOG - FC_PROBE_MIN_LOG) probe++;
    __atomic_store_n(&s->probe, probe, __ATOMIC_RELAXED);
}

/* Threads take chunks of a loop from a shared counter (dynamic schedule), FC_CHUNKS_PER_THREAD
 * per thread, not one equal slice each: on a machine shared with other work a thread that is
 * descheduled for a while would otherwise keep every other thread waiting at the end of the
 * loop. Chunk boundaries fall on multiples of 64 elements, so threads do not write the same
 * cache line; the chunks are the same whatever thread runs them, so results are too. */
int fc_nchunks(npy_intp n, int nthreads)
{
    npy_intp k = (npy_intp)nthreads * FC_CHUNKS_PER_THREAD;
    if (k > FC_MAX_THREADS) k = FC_MAX_THREADS;
    if (k > n / (FC_PAR_MIN / 4)) k = n / (FC_PAR_MIN / 4);
    return k < 1 ? 1 : (int)k;
}

npy_intp fc_chunk_at(npy_intp n, int k, int nchunks)
{
    return k >= nchunks ? n : (n * k / nchunks) & ~(npy_intp)63;
}

/* Large loops run without the GIL, so other Python threads (numpy, other functions, this one)
 * go on meanwhile, as numpy's own loops allow. Not for steps that report errors through the
 * library's shared flag: another thread's kernel could set or clear it. */
static PyThreadState *release_gil(const Step *s, npy_intp n)
{
    return (n >= FC_PAR_MIN && !s->errcheck) ? PyEval_SaveThread() : NULL;
}

static int run_elemwise(Runner *self, Step *s, PyArrayObject **v)
{
    const int nin = s->nin, nout = s->nout, nd = s->nd;
    const int *scalar = s->ints, *outs = s->ints + nin;   /* per output: typenum, keep, ip, guard */
    PyArrayObject *in_[nin > 0 ? nin : 1];
    npy_intp shape[nd > 0 ? nd : 1], st[nin * nd > 0 ? nin * nd : 1];
    char *p[nin + nout];
    npy_intp n = 1;
    for (int i = 0; i < nin; i++) in_[i] = v[s->in[i]];
    if (fc_broadcast(nd, nin, in_, shape, s->name) < 0) return -1;
    for (int d = 0; d < nd; d++) n *= shape[d];
    for (int m = 0; m < nout; m++) {
        const int *o = outs + 4 * m;
        PyArrayObject *r = NULL;
        if (o[2] >= 0 && (!o[3] || self->allow_gc) && fc_reusable(in_[o[2]], nd, shape, o[0])) {
            r = in_[o[2]];
            Py_INCREF(r);
        }
        if (!r) r = fc_out(self, v, s->out[m], nd, shape, o[0], o[1]);
        if (!r) return -1;
        v[s->out[m]] = r;
        p[nin + m] = PyArray_DATA(r);
    }
    for (int i = 0; i < nin; i++) p[i] = PyArray_DATA(in_[i]);
    ThreadChoice c = choose_threads(self, s, n);
    PyThreadState *ts = release_gil(s, n);
    if (fc_flat_ok(nin, in_, scalar, n)) {
        flat_fn f = (flat_fn)s->fn[0];
        if (c.threads) {
            const int K = fc_nchunks(n, self->nthreads);
            #pragma omp parallel for schedule(dynamic, 1) num_threads(self->nthreads)
            for (int k = 0; k < K; k++) f(fc_chunk_at(n, k, K), fc_chunk_at(n, k + 1, K), p);
        } else f(0, n, p);
    } else if (n && nd) {
        rows_fn f = (rows_fn)s->fn[1];
        fc_strides(nd, nin, in_, st);
        npy_intp rows = n / shape[nd - 1];
        c.threads &= rows > 1;   /* one row: the calling thread's, and timed as such */
        if (c.threads) {
            /* Whole rows per chunk: at most one chunk per row. */
            const int K = rows < fc_nchunks(n, self->nthreads) ? (int)rows
                                                                : fc_nchunks(n, self->nthreads);
            #pragma omp parallel for schedule(dynamic, 1) num_threads(self->nthreads)
            for (int k = 0; k < K; k++)
                f(rows * k / K, rows * (k + 1) / K, shape, st, p);
        } else f(0, rows, shape, st, p);
    }
    if (ts) PyEval_RestoreThread(ts);
    choice_done(s, c, n);
    return 0;
}

/* Chunk k of K of a full reduction into its partial (parts, pn). */
static void reduce_chunk(red_fn red, npy_intp n, int k, int K, char *const *p, double *parts,
                         int *pn)
{
    red(fc_chunk_at(n, k, K), fc_chunk_at(n, k + 1, K), p, (char *)parts + k * FC_PART, &pn[k]);
}

static int run_reduce(Runner *self, Step *s, PyArrayObject **v)
{
    /* ints: scalar flags per input, naxes, axes..., typenum, keep, check (1: an empty
     * reduction raises the step's message, as max and min; 2 + ddof: a mean of no more than
     * ddof values warns it, as numpy's mean and var) */
    const int nin = s->nin, nd = s->nd;
    const int *scalar = s->ints, naxes = s->ints[nin], *axes = s->ints + nin + 1;
    const int typenum = axes[naxes], keep = axes[naxes + 1], check = axes[naxes + 2];
    PyArrayObject *in_[nin > 0 ? nin : 1];
    npy_intp shape[nd > 0 ? nd : 1], st[nin * nd > 0 ? nin * nd : 1];
    npy_intp oshape[nd > 0 ? nd : 1], ost[nd > 0 ? nd : 1];
    char *p[nin > 0 ? nin : 1];
    npy_intp n = 1, rn = 1, on = 1, stride = 1;
    int ond = 0;
    for (int i = 0; i < nin; i++) in_[i] = v[s->in[i]];
    if (fc_broadcast(nd, nin, in_, shape, s->name) < 0) return -1;
    for (int d = 0; d < nd; d++) {
        int reduced = 0;
        for (int a = 0; a < naxes; a++) reduced |= axes[a] == d;
        n *= shape[d];
        if (reduced) rn *= shape[d];
        else { oshape[ond++] = shape[d]; on *= shape[d]; }
    }
    for (int d = nd - 1; d >= 0; d--) {
        int reduced = 0;
        for (int a = 0; a < naxes; a++) reduced |= axes[a] == d;
        if (reduced) ost[d] = 0;
        else { ost[d] = stride; stride *= shape[d]; }
    }
    if (check == 1 && rn == 0) {
        PyErr_SetString(PyExc_ValueError, s->msg);
        return -1;
    }
    if (check >= 2 && rn <= check - 2 && PyErr_WarnEx(PyExc_RuntimeWarning, s->msg, 1) < 0) return -1;
    PyArrayObject *o = fc_out(self, v, s->out[0], ond, oshape, typenum, keep);
    if (!o) return -1;
    v[s->out[0]] = o;
    char *out = PyArray_DATA(o);
    for (int i = 0; i < nin; i++) p[i] = PyArray_DATA(in_[i]);
    int rc = 0, flat = ond == 0 && s->fn[0] && fc_flat_ok(nin, in_, scalar, n);
    PyThreadState *ts = release_gil(s, n);
    if (flat) {
        /* Full reduction over flat inputs: a vectorized kernel per chunk, partials combined. */
        red_fn red = (red_fn)s->fn[0];
        double parts[FC_MAX_THREADS * FC_PART / sizeof(double)];
        int pn[FC_MAX_THREADS], hasnan = 0;
        /* One partial per chunk (at most FC_MAX_THREADS), combined in chunk order. The chunks
         * depend on n and config.threads only, not on whether threads run them, so a function
         * gives the same bits on every call (and in a child forked after threads started). */
        const int K = n >= FC_PAR_MIN && self->nthreads >= 2 ? fc_nchunks(n, self->nthreads) : 1;
        const ThreadChoice c = choose_threads(self, s, n);
        if (c.threads && K > 1) {
            const int nt = self->nthreads < FC_MAX_THREADS ? self->nthreads : FC_MAX_THREADS;
            #pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
            for (int k = 0; k < K; k++) reduce_chunk(red, n, k, K, p, parts, pn);
        } else
            for (int k = 0; k < K; k++) reduce_chunk(red, n, k, K, p, parts, pn);
        choice_done(s, c, n);
        for (int k = 0; k < K; k++) hasnan |= pn[k];
        ((fin_fn)s->fn[1])((const char *)parts, K, hasnan, rn, out);
    } else {
        fc_strides(nd, nin, in_, st);
        rc = ((gen_fn)s->fn[2])(shape, st, ost, n, on, rn, p, out);
    }
    if (ts) PyEval_RestoreThread(ts);
    if (rc < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* numpy reports the floating-point flags a matrix product raises (an infinity times a zero,
 * inf - inf) by its error state: a warning by default, an exception under np.errstate(all=
 * "raise"). The products of the dot and tensordot steps run under an error state that ignores
 * them all, as the ops' performs do (np.errstate(all="ignore")) and as the compiled kernels
 * report nothing: IEEE results (NaN) and no warning in either linker, the caller's state left
 * as it was. numpy 2 keeps its error state in a context variable: each thread keeps a context
 * of its own holding the quiet state (in its thread-state dict, freed with the thread) and
 * enters it around the product, which costs no allocation (setting the variable and resetting
 * it would cost two, and a third of a microsecond a product). Without that variable (numpy 1)
 * the product reports as numpy's does. */
static PyObject *fc_quiet_var, *fc_quiet_state, *fc_quiet_key;
static int fc_quiet_looked;

static void fc_quiet_lookup(void)
{
    fc_quiet_looked = 1;
    PyObject *um = PyImport_ImportModule("numpy._core.umath");
    PyObject *var = um ? PyObject_GetAttrString(um, "_extobj_contextvar") : NULL;
    PyObject *make = um ? PyObject_GetAttrString(um, "_make_extobj") : NULL;
    PyObject *key = PyUnicode_InternFromString("fncache.quiet_fp_context"), *state = NULL;
    if (var && make && key && PyContextVar_CheckExact(var)) {
        PyObject *none = PyTuple_New(0), *kw = Py_BuildValue("{s:s}", "all", "ignore");
        if (none && kw) state = PyObject_Call(make, none, kw);
        Py_XDECREF(none);
        Py_XDECREF(kw);
    }
    if (state) {
        fc_quiet_var = var;
        fc_quiet_state = state;
        fc_quiet_key = key;
        var = key = NULL;
    }
    PyErr_Clear();
    Py_XDECREF(um);
    Py_XDECREF(var);
    Py_XDECREF(make);
    Py_XDECREF(key);
}

/* This thread's quiet context (borrowed), made on its first product; NULL with an error
 * set on failure, NULL with none where numpy has no such variable. */
static PyObject *fc_quiet_context(void)
{
    if (!fc_quiet_looked) fc_quiet_lookup();
    if (!fc_quiet_var) return NULL;
    PyObject *d = PyThreadState_GetDict();
    if (!d) {
        PyErr_SetString(PyExc_RuntimeError, "dot: no thread state to keep numpy's error state in");
        return NULL;
    }
    PyObject *ctx = PyDict_GetItemWithError(d, fc_quiet_key);
    if (ctx || PyErr_Occurred()) return ctx;
    ctx = PyContext_New();
    if (!ctx) return NULL;
    PyObject *token = NULL;
    if (PyContext_Enter(ctx) == 0) {
        token = PyContextVar_Set(fc_quiet_var, fc_quiet_state);
        if (PyContext_Exit(ctx) < 0) Py_CLEAR(token);
    }
    const int rc = token ? PyDict_SetItem(d, fc_quiet_key, ctx) : -1;
    Py_XDECREF(token);
    Py_DECREF(ctx);  /* the dict holds it */
    return rc < 0 ? NULL : ctx;
}

/* numpy's np.dot(a, b), reporting no floating-point flag (above). */
static PyObject *fc_quiet_product(PyObject *a, PyObject *b)
{
    PyObject *ctx = fc_quiet_context();
    if (!ctx) return PyErr_Occurred() ? NULL : PyArray_MatrixProduct2(a, b, NULL);
    if (PyContext_Enter(ctx) < 0) return NULL;
    PyObject *r = PyArray_MatrixProduct2(a, b, NULL);
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);  /* a failed product's error outlives the exit */
    if (PyContext_Exit(ctx) < 0) {
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        Py_XDECREF(r);
        return NULL;
    }
    PyErr_Restore(et, ev, tb);
    return r;
}

static int run_dot(const Step *s, PyArrayObject **v)
{
    /* A 1-D . 1-D product comes back as a numpy scalar, not an array: PyArray_FROM_OTF makes
     * it a 0-d array (and casts to the output dtype when numpy's differs). */
    PyArrayObject *a = v[s->in[0]], *b = v[s->in[1]];
    const int da = PyArray_NDIM(a) - 1;
    if (PyArray_DIM(a, da) != PyArray_DIM(b, 0)) {
        /* NotAlignedError, as the op's perform raises it */
        PyObject *sa = fc_shape_tuple(a), *sb = fc_shape_tuple(b);
        fc_raise_data_error("NotAlignedError", sa && sb ? Py_BuildValue("(OO)", sa, sb) : NULL);
        Py_XDECREF(sa);
        Py_XDECREF(sb);
        return -1;
    }
    PyObject *prod = fc_quiet_product((PyObject *)a, (PyObject *)b);
    if (!prod) return -1;
    PyObject *r = PyArray_FROM_OTF(prod, s->ints[0], NPY_ARRAY_FORCECAST);
    Py_DECREF(prod);
    if (!r) return -1;
    v[s->out[0]] = (PyArrayObject *)r;
    return 0;
}

static int run_argreduce(const Step *s, PyArrayObject **v)
{
    /* ints: is_argmax, has_axis, axis. As numpy: only an empty reduced axis is an error. */
    PyArrayObject *a = v[s->in[0]];
    int has_axis = s->ints[1], axis = s->ints[2];
    if (has_axis ? PyArray_DIM(a, axis) == 0 : PyArray_SIZE(a) == 0) {
        PyErr_SetString(PyExc_ValueError, s->msg);
        return -1;
    }
    int ax = has_axis ? axis : FC_RAVEL_AXIS;
    PyObject *r = s->ints[0] ? PyArray_ArgMax(a, ax, NULL) : PyArray_ArgMin(a, ax, NULL);
    if (!r) return -1;
    if (PyArray_TYPE((PyArrayObject *)r) != NPY_INT64) {
        PyObject *c = PyArray_CastToType((PyArrayObject *)r, PyArray_DescrFromType(NPY_INT64), 0);
        Py_DECREF(r);
        if (!c) return -1;
        r = c;
    }
    v[s->out[0]] = (PyArrayObject *)r;
    return 0;
}

static int run_dimshuffle(const Step *s, PyArrayObject **v)
{
    /* ints: ndout, pattern[ndout] ('x' = -1), ndropped, dropped[ndropped]. A view of the
     * input with dims reordered, broadcastable dims added or dropped. */
    PyArrayObject *a = v[s->in[0]], *r;
    int nd = s->ints[0];
    const int *pat = s->ints + 1, ndrop = s->ints[1 + nd], *drop = s->ints + 2 + nd;
    npy_intp dims[NPY_MAXDIMS], strides[NPY_MAXDIMS];
    for (int k = 0; k < ndrop; k++) {
        if (PyArray_DIM(a, drop[k]) != 1) {
            PyErr_Format(PyExc_ValueError, "%s: dim %d has size %zd at run time but was "
                         "declared broadcastable (size 1)", s->name, drop[k],
                         (Py_ssize_t)PyArray_DIM(a, drop[k]));
            return -1;
        }
    }
    for (int d = 0; d < nd; d++) {
        if (pat[d] < 0) { dims[d] = 1; strides[d] = 0; }
        else { dims[d] = PyArray_DIM(a, pat[d]); strides[d] = PyArray_STRIDE(a, pat[d]); }
    }
    Py_INCREF(PyArray_DESCR(a));
    r = (PyArrayObject *)PyArray_NewFromDescr(&PyArray_Type, PyArray_DESCR(a), nd, dims, strides,
                                              PyArray_DATA(a),
                                              PyArray_FLAGS(a) & NPY_ARRAY_WRITEABLE, NULL);
    if (!r) return -1;
    Py_INCREF(a);
    if (PyArray_SetBaseObject(r, (PyObject *)a) < 0) { Py_DECREF(r); return -1; }
    v[s->out[0]] = r;
    return 0;
}

static int run_perform(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, then the output typenums. Calls op.perform from C. */
    PyObject *args[s->nin > 0 ? s->nin : 1];
    for (int i = 0; i < s->nin; i++) args[i] = (PyObject *)v[s->in[i]];
    PyObject *r = PyObject_Vectorcall(PyTuple_GET_ITEM(self->performs, s->ints[0]), args,
                                      s->nin, NULL);
    if (!r) return -1;
    if (!PyList_Check(r) || PyList_GET_SIZE(r) != s->nout) {
        PyErr_Format(PyExc_TypeError, "%s: perform returned %R, expected a list of %d outputs",
                     s->name, r, s->nout);
        Py_DECREF(r);
        return -1;
    }
    int rc = 0;
    /* A subclass (np.matrix, a masked array) goes on as a plain array of the same memory: its
     * own `*`, sums and indexing are not what the graph's later steps and the caller expect. */
    for (int m = 0; m < s->nout; m++) {
        v[s->out[m]] = (PyArrayObject *)PyArray_FROM_OTF(
            PyList_GET_ITEM(r, m), s->ints[1 + m],
            NPY_ARRAY_ALIGNED | NPY_ARRAY_NOTSWAPPED | NPY_ARRAY_ENSUREARRAY);
        if (!v[s->out[m]]) rc = -1;
    }
    Py_DECREF(r);
    return rc;
}

static int run_sum_to_shape(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, n, then n entries (axis, m, m pairs
     * (input, dim)): the gradient (input 0) is to be summed over `axis` where every listed
     * input has size 1 at its dim. Where nothing was broadcast (the usual case) the result is
     * the gradient itself, with no call into Python; otherwise (or for anything unexpected)
     * the op's perform runs. */
    PyArrayObject *g = v[s->in[0]];
    if (s->nints < 3 || PyArray_TYPE(g) != s->ints[1]) return run_perform(self, s, v);
    int pos = 3;
    for (int e = 0; e < s->ints[2]; e++) {
        if (pos + 2 > s->nints) return run_perform(self, s, v);
        int axis = s->ints[pos], m = s->ints[pos + 1], all_one = 1;
        pos += 2;
        if (axis < 0 || axis >= PyArray_NDIM(g) || m < 0 || pos + 2 * m > s->nints)
            return run_perform(self, s, v);
        for (int r = 0; r < m; r++, pos += 2) {
            int k = s->ints[pos], d = s->ints[pos + 1];
            if (k < 1 || k >= s->nin || d < 0 || d >= PyArray_NDIM(v[s->in[k]]))
                return run_perform(self, s, v);
            all_one &= PyArray_DIM(v[s->in[k]], d) == 1;
        }
        if (all_one && PyArray_DIM(g, axis) != 1) return run_perform(self, s, v);
    }
    Py_INCREF(g);
    v[s->out[0]] = g;
    return 0;
}

static int run_reduced_size(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, n, then n entries (m, m pairs (input,
     * dim)): the product over the entries of the broadcast of the listed sizes. Sizes that do
     * not broadcast (or anything unexpected) go to the op's perform, which reports them. */
    npy_intp total = 1;
    int pos = 3;
    if (s->nints < 3) return run_perform(self, s, v);
    for (int e = 0; e < s->ints[2]; e++) {
        if (pos + 1 > s->nints) return run_perform(self, s, v);
        int m = s->ints[pos++];
        npy_intp size = 1;
        if (m < 0 || pos + 2 * m > s->nints) return run_perform(self, s, v);
        for (int r = 0; r < m; r++, pos += 2) {
            int k = s->ints[pos], d = s->ints[pos + 1];
            if (k < 0 || k >= s->nin || d < 0 || d >= PyArray_NDIM(v[s->in[k]]))
                return run_perform(self, s, v);
            npy_intp here = PyArray_DIM(v[s->in[k]], d);
            if (here == 1) continue;
            if (size != 1 && size != here) return run_perform(self, s, v);
            size = here;
        }
        /* zero-stride inputs can broadcast to more elements than an int64 counts */
        if (__builtin_mul_overflow(total, size, &total)) return run_perform(self, s, v);
    }
    PyObject *n = PyLong_FromSsize_t(total);
    if (!n) return -1;
    PyObject *r = PyArray_FromAny(n, PyArray_DescrFromType(s->ints[1]), 0, 0,
                                  NPY_ARRAY_FORCECAST, NULL);
    Py_DECREF(n);
    if (!r) return -1;
    v[s->out[0]] = (PyArrayObject *)r;
    return 0;
}

/* Fewest rows per chunk of a threaded row pass: each chunk sums its own X.T @ g (one vector
 * of X's column count), the chunks' sums are added in order after the loop. */
#define FC_ROWPASS_MIN_ROWS 64

/* The chunks of a row pass: rows [m k / K, m (k+1) / K) of chunk k, both ends rounded down to
 * a multiple of 4 rows (but the last chunk's end, m), sum their own X.T @ g into parts + k pn
 * (elements). The kernel takes its rows four at a time from a chunk's first, and a chunk's rows
 * left over after its last four run a row at a time (W4's 400 rows in 6 chunks of 66 or 67:
 * 83 us a pass on one thread, against 68 with whole fours). */
typedef struct {
    pass_fn f;
    npy_intp m, n, rs, cs, pn, isz;
    char *const *p;
    char *parts;
    int K;
} RowChunks;

static void rowpass_chunk(const RowChunks *c, int k)
{
    const npy_intp lo = (c->m * k / c->K) & ~(npy_intp)3;
    const npy_intp hi = k + 1 == c->K ? c->m : (c->m * (k + 1) / c->K) & ~(npy_intp)3;
    c->f(lo, hi, c->n, c->rs, c->cs, c->p, c->parts + k * c->pn * c->isz);
}

/* Each thread of a threaded row pass reads the same rows on every call: thread t's share is
 * chunks [K t / T, K (t+1) / T), so an X that fits in the threads' L2 caches together (W4's
 * 2.5 MB on two cores of 2 MiB each) is read from there on the next call, where chunks taken
 * from a shared counter went to whichever thread came first and mostly came from L3. Every
 * other call (the step's turn) the threads go through the shares last to first, as the kernel
 * goes through its segments: a share larger than an L2 cache starts with the rows the previous
 * call left there. A thread done with its share takes what is left of the others', from the
 * end their owners take from on this call: a thread that was descheduled or woke late keeps
 * nobody waiting, and where one thread runs every chunk (the other core busy with other work,
 * the woken thread runs on the caller's core, and which one runs the chunks alternates from
 * call to call), one call reads the chunks in the reverse order of the previous one. Which
 * thread runs a chunk, and in which order, never changes the sums (each chunk's own, added in
 * chunk order). A share's [lo, hi) is one word, so that each chunk is taken once. */
typedef struct { _Alignas(64) uint64_t range; } RowShare;

static uint64_t share_range(npy_intp lo, npy_intp hi)
{
    return (uint64_t)lo | (uint64_t)hi << 32;
}

/* The next chunk of a share (its last with `back`, else its first), -1 once none is left. */
static int share_take(RowShare *sh, int back)
{
    uint64_t r = __atomic_load_n(&sh->range, __ATOMIC_RELAXED);
    for (;;) {
        const uint32_t lo = (uint32_t)r, hi = (uint32_t)(r >> 32);
        if (lo >= hi) return -1;
        const uint64_t next = back ? share_range(lo, hi - 1) : share_range(lo + 1, hi);
        if (__atomic_compare_exchange_n(&sh->range, &r, next, 1, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return back ? (int)hi - 1 : (int)lo;
    }
}

/* Thread t's part of a row pass over T shares: its own share, then what is left of the others;
 * `back`: last to first on this call. */
static void rowpass_shares(const RowChunks *c, RowShare *share, int T, int t, int back)
{
    for (int u = 0; u < T; u++)
        for (int k; (k = share_take(&share[(t + u) % T], back)) >= 0;)
            rowpass_chunk(c, k);
}

static int run_rowpass(Runner *self, Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the outputs' typenums, the outputs' keeps, then per input
     * after X and the w's: 1 if read as one value, then P, the number of products (w's, and
     * outputs X.T @ g_k first). The kernel runs when X is 2-D, every w is contiguous with X's
     * column count and every row input is contiguous with X's row count; anything else (rows
     * numpy would broadcast, sizes to report) runs the op's perform, which computes the region
     * node by node as the unfused graph does. */
    const int nout = s->nout;
    const int P = s->nints >= 1 ? s->ints[s->nints - 1] : 0, nrest = s->nin - 1 - P;
    const int *typenums = s->ints + 1, *keeps = s->ints + 1 + nout, *scalar = keeps + nout;
    if (P < 1 || nrest < 0 || nout < P || s->nints != 2 + 2 * nout + nrest)
        return run_perform(self, s, v);
    PyArrayObject *X = v[s->in[0]];
    if (PyArray_NDIM(X) != 2 || PyArray_TYPE(X) != typenums[0] || !PyArray_ISALIGNED(X))
        return run_perform(self, s, v);
    const npy_intp m = PyArray_DIM(X, 0), n = PyArray_DIM(X, 1), isz = PyArray_ITEMSIZE(X);
    if (PyArray_STRIDE(X, 0) % isz || PyArray_STRIDE(X, 1) % isz) return run_perform(self, s, v);
    for (int q = 0; q < P; q++) {
        PyArrayObject *w = v[s->in[1 + q]];
        if (PyArray_NDIM(w) != 1 || PyArray_TYPE(w) != typenums[0] || PyArray_DIM(w, 0) != n
            || !PyArray_IS_C_CONTIGUOUS(w))
            return run_perform(self, s, v);
    }
    for (int i = 0; i < nrest; i++) {
        PyArrayObject *a = v[s->in[1 + P + i]];
        if (scalar[i] ? PyArray_SIZE(a) != 1
                      : PyArray_NDIM(a) != 1 || PyArray_DIM(a, 0) != m
                        || !PyArray_IS_C_CONTIGUOUS(a))
            return run_perform(self, s, v);
    }
    /* p: X, the w's, the z's, the other inputs, the g's, the row outputs (the kernel's
     * layout); scratch: the z's and g's (m each), then, for more than one product, the P
     * products X.T @ g_k (n each) the kernel writes one after the other. */
    char *p[1 + 2 * P + nrest + nout];
    const npy_intp mm = m ? m : 1;
    char *scratch = PyMem_Malloc((2 * P * mm + (P > 1 ? P * (n ? n : 1) : 0)) * isz);
    if (!scratch) { PyErr_NoMemory(); return -1; }
    for (int q = 0; q < P; q++) {
        p[1 + q] = PyArray_DATA(v[s->in[1 + q]]);
        p[1 + P + q] = scratch + q * mm * isz;
        p[1 + 2 * P + nrest + q] = scratch + (P + q) * mm * isz;
    }
    p[0] = PyArray_DATA(X);
    for (int i = 0; i < nrest; i++) p[1 + 2 * P + i] = PyArray_DATA(v[s->in[1 + P + i]]);
    for (int o = 0; o < nout; o++) {
        npy_intp len = o < P ? n : m;
        PyArrayObject *r = fc_alloc(1, &len, typenums[o], keep_for(self, keeps[o]), self->poison);
        if (!r) { PyMem_Free(scratch); return -1; }
        v[s->out[o]] = r;
        if (o >= P) p[1 + 2 * P + nrest + o] = PyArray_DATA(r);
    }
    pass_fn f = (pass_fn)s->fn[0];
    const npy_intp rs = PyArray_STRIDE(X, 0) / isz, cs = PyArray_STRIDE(X, 1) / isz;
    const npy_intp pn = P * n;  /* the elements of the products, one after the other */
    char *gw = P > 1 ? scratch + 2 * P * mm * isz : PyArray_DATA(v[s->out[0]]);
    npy_intp K = (npy_intp)self->nthreads * FC_CHUNKS_PER_THREAD;
    if (K > FC_MAX_THREADS) K = FC_MAX_THREADS;
    if (K > m / FC_ROWPASS_MIN_ROWS) K = m / FC_ROWPASS_MIN_ROWS;
    char *parts = NULL;
    /* Chunked as soon as threads may run it, whether they do or (a pass measured as short or
     * as faster on one thread, see choose_threads) the calling thread runs the chunks in turn, as one share (last to
     * first every other call too): the same sums, so the same bits, on every call. */
    if (K > 1 && m * n >= FC_PAR_MIN && self->nthreads >= 2
        && (parts = PyMem_Malloc(K * (pn ? pn : 1) * isz))) {
        const ThreadChoice choice = choose_threads(self, s, m * n);
        const int T = !choice.threads ? 1 : self->nthreads < FC_MAX_THREADS ? self->nthreads
                                                                       : FC_MAX_THREADS;
        const int back = (int)(__atomic_fetch_add(&s->turn, 1, __ATOMIC_RELAXED) & 1);
        const RowChunks c = {f, m, n, rs, cs, pn, isz, p, parts, (int)K};
        RowShare share[T];
        for (int t = 0; t < T; t++) share[t].range = share_range(K * t / T, K * (t + 1) / T);
        PyThreadState *ts = release_gil(s, m * n);
        if (choice.threads) {
            #pragma omp parallel num_threads(T)
            rowpass_shares(&c, share, T, fc_thread_num(), back);
        } else
            rowpass_shares(&c, share, 1, 0, back);
        choice_done(s, choice, m * n);
        /* Partial sums added in chunk order: the same result whatever thread ran a chunk. */
        if (isz == 8) {
            double *o = (double *)gw, *q = (double *)parts;
            for (npy_intp j = 0; j < pn; j++) {
                double a = q[j];
                for (int k = 1; k < K; k++) a += q[k * pn + j];
                o[j] = a;
            }
        } else {
            float *o = (float *)gw, *q = (float *)parts;
            for (npy_intp j = 0; j < pn; j++) {
                float a = q[j];
                for (int k = 1; k < K; k++) a += q[k * pn + j];
                o[j] = a;
            }
        }
        if (ts) PyEval_RestoreThread(ts);
        PyMem_Free(parts);
    } else {
        PyThreadState *ts = release_gil(s, m * n);
        f(0, m, n, rs, cs, p, gw);
        if (ts) PyEval_RestoreThread(ts);
    }
    if (P > 1)
        for (int q = 0; q < P; q++) memcpy(PyArray_DATA(v[s->out[q]]), gw + q * n * isz, n * isz);
    PyMem_Free(scratch);
    return 0;
}

static int run_shape(const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum (always int64). The input's dims. */
    PyArrayObject *a = v[s->in[0]];
    npy_intp nd = PyArray_NDIM(a);
    PyArrayObject *r = (PyArrayObject *)PyArray_EMPTY(1, &nd, NPY_INT64, 0);
    if (!r) return -1;
    npy_int64 *o = (npy_int64 *)PyArray_DATA(r);
    for (npy_intp d = 0; d < nd; d++) o[d] = PyArray_DIM(a, d);
    v[s->out[0]] = r;
    return 0;
}

static int run_reshape(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, ndim. numpy's reshape (a view where the
     * layout allows) of input 0 to the int64 or int32 vector input 1, of length ndim, one -1
     * inferred. A shape that does not fit (or anything unexpected) runs the op's perform,
     * which reports it. */
    PyArrayObject *a = v[s->in[0]], *shp = v[s->in[1]];
    const int nd = s->nints >= 3 ? s->ints[2] : -1, wide = PyArray_TYPE(shp) == NPY_INT64;
    if (nd < 0 || nd > NPY_MAXDIMS || PyArray_NDIM(shp) != 1 || PyArray_DIM(shp, 0) != nd
        || !(wide || PyArray_TYPE(shp) == NPY_INT32))
        return run_perform(self, s, v);
    npy_intp dims[NPY_MAXDIMS], known = 1;
    int infer = -1;
    const char *p = PyArray_DATA(shp);
    for (int d = 0; d < nd; d++) {
        npy_int64 x;
        if (wide) {
            memcpy(&x, p + d * PyArray_STRIDE(shp, 0), sizeof x);
        } else {
            npy_int32 x32;
            memcpy(&x32, p + d * PyArray_STRIDE(shp, 0), sizeof x32);
            x = x32;
        }
        if (x == -1 && infer < 0) infer = d;
        else if (x < 0 || (x > 0 && known > NPY_MAX_INTP / x)) return run_perform(self, s, v);
        else known *= (npy_intp)x;
        dims[d] = (npy_intp)x;
    }
    const npy_intp size = PyArray_SIZE(a);
    if (infer >= 0) {
        if (known == 0 || size % known) return run_perform(self, s, v);
        dims[infer] = size / known;
    } else if (known != size) {
        return run_perform(self, s, v);
    }
    PyArray_Dims to = {dims, nd};
    PyObject *r = PyArray_Newshape(a, &to, NPY_CORDER);
    if (!r) return -1;
    v[s->out[0]] = (PyArrayObject *)r;
    return 0;
}

/* Whether fc_index_at reads index arrays of this type. */
static inline int fc_index_type_ok(int t)
{
    return t == NPY_INT8 || t == NPY_INT16 || t == NPY_INT32 || t == NPY_INT64 || t == NPY_UINT8
           || t == NPY_UINT16 || t == NPY_UINT32;
}

/* Reads entry k of a 1-D integer array (of a type fc_index_type_ok accepts); k = 0 of a 0-d one. */
static inline npy_intp fc_index_at(const char *p, npy_intp stride, int typenum, npy_intp k)
{
    p += k * stride;
#define FC_AT(T) { T x; memcpy(&x, p, sizeof x); return (npy_intp)x; }
    switch (typenum) {
    case NPY_INT8: FC_AT(npy_int8)
    case NPY_INT16: FC_AT(npy_int16)
    case NPY_INT32: FC_AT(npy_int32)
    case NPY_INT64: FC_AT(npy_int64)
    case NPY_UINT8: FC_AT(npy_uint8)
    case NPY_UINT16: FC_AT(npy_uint16)
    case NPY_UINT32: FC_AT(npy_uint32)
    default: return 0;
    }
#undef FC_AT
}

/* The value of a 0-d integer array of a dtype whose values all fit an npy_intp (uint64 does not):
 * 1 with *out set, 0 otherwise. */
static int int_scalar(PyArrayObject *b, npy_intp *out)
{
    if (PyArray_NDIM(b) != 0 || !fc_index_type_ok(PyArray_TYPE(b))) return 0;
    *out = fc_index_at(PyArray_DATA(b), 0, PyArray_TYPE(b), 0);
    return 1;
}

/* One bound of a basic index (ints: tag, value; tag 0: none, 1: the value itself, 2: input
 * first + value, a 0-d integer array): 1 with *out set, 0 for none, -1 when it cannot be read
 * here (the op's perform then runs). */
static int index_bound(const Step *s, PyArrayObject **v, int first, const int *ref, npy_intp *out)
{
    if (ref[0] == 0) return 0;
    if (ref[0] == 1) { *out = ref[1]; return 1; }
    if (ref[0] != 2 || ref[1] < 0 || first + ref[1] >= s->nin) return -1;
    return int_scalar(v[s->in[first + ref[1]]], out) ? 1 : -1;
}

/* A basic index applied to an array of nd dims (shape, strides): ints from `pos` hold the
 * number of entries n, then n entries: (0, bound) for an int, (1, start, stop, step) for a
 * slice, each bound two ints (see index_bound; symbolic bounds are the inputs from `first`). Sets the view's dims and strides (*vd of them)
 * and the byte offset of its first element, as numpy's x[idx] would; 0 where the index cannot
 * be applied here (an index out of range, a zero step, a bound not readable, a malformed
 * program): the op's perform then runs and reports it. */
static int basic_index(const Step *s, PyArrayObject **v, int first, int pos, int nd, const npy_intp *shape,
                       const npy_intp *st, npy_intp *dims, npy_intp *strides, npy_intp *offset,
                       int *vd)
{
    if (pos >= s->nints) return 0;
    const int ne = s->ints[pos++];
    if (ne < 0 || ne > nd) return 0;
    *offset = 0;
    *vd = 0;
    for (int d = 0; d < ne; d++) {
        const npy_intp n = shape[d];
        const int kind = pos < s->nints ? s->ints[pos++] : -1;
        if (kind == 0 && pos + 2 <= s->nints) {
            npy_intp i;
            if (index_bound(s, v, first, s->ints + pos, &i) != 1) return 0;
            pos += 2;
            if (i < 0) i += n;
            if (i < 0 || i >= n) return 0;
            *offset += i * st[d];
        } else if (kind == 1 && pos + 6 <= s->nints) {
            npy_intp start, stop, step = 1;
            const int hs = index_bound(s, v, first, s->ints + pos, &start),
                      he = index_bound(s, v, first, s->ints + pos + 2, &stop),
                      hp = index_bound(s, v, first, s->ints + pos + 4, &step);
            pos += 6;
            if (hs < 0 || he < 0 || hp < 0 || step == 0) return 0;
            /* PySlice_AdjustIndices negates the step: the smallest int64 is clamped first, as
             * Python's slice objects do (one element either way). */
            if (step < -PY_SSIZE_T_MAX) step = -PY_SSIZE_T_MAX;
            if (!hs) start = step < 0 ? PY_SSIZE_T_MAX : 0;
            if (!he) stop = step < 0 ? PY_SSIZE_T_MIN : PY_SSIZE_T_MAX;
            const npy_intp len = PySlice_AdjustIndices(n, &start, &stop, step);
            dims[*vd] = len;
            strides[(*vd)++] = st[d] * step;
            if (len > 0) *offset += start * st[d];
        } else {
            return 0;
        }
    }
    for (int d = ne; d < nd; d++) {
        dims[*vd] = shape[d];
        strides[(*vd)++] = st[d];
    }
    return 1;
}

static int run_subtensor(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, then the index (see basic_index; its
     * symbolic bounds are the inputs after x). numpy's x[idx] of input 0: a view sharing its data (and its writeability), made here rather than
     * by a call of the op's perform (a tenth of the time: slices are common in gradients and
     * gate layouts). Anything else runs the perform, which reports it. */
    PyArrayObject *x = v[s->in[0]];
    npy_intp dims[NPY_MAXDIMS], strides[NPY_MAXDIMS], offset;
    int vd;
    if (s->nints < 3 || PyArray_TYPE(x) != s->ints[1]
        || !basic_index(s, v, 1, 2, PyArray_NDIM(x), PyArray_DIMS(x), PyArray_STRIDES(x), dims,
                        strides, &offset, &vd))
        return run_perform(self, s, v);
    PyArray_Descr *descr = PyArray_DESCR(x);
    Py_INCREF(descr);
    PyObject *r = PyArray_NewFromDescr(&PyArray_Type, descr, vd, dims, strides,
                                       PyArray_BYTES(x) + offset,
                                       PyArray_FLAGS(x) & NPY_ARRAY_WRITEABLE, NULL);
    if (!r) return -1;
    Py_INCREF(x);
    if (PyArray_SetBaseObject((PyArrayObject *)r, (PyObject *)x) < 0) {
        Py_DECREF(r);
        return -1;
    }
    v[s->out[0]] = (PyArrayObject *)r;
    return 0;
}

static int run_subtensor_grad(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, its keep, n, then n index entries: (0,
     * bound) for an int, (1, start, stop, step) for a slice, each bound two ints (see
     * index_bound). Zeros of input 0's shape with input 1 written at that index (broadcast as
     * numpy's assignment does), in a kept buffer zeroed again where allow_gc is off (a
     * Jacobian's row seed, made once per row). An index out of range, a zero step, a value
     * that does not fit, or anything unexpected runs the op's perform, which reports it. */
    PyArrayObject *x = v[s->in[0]], *g = v[s->in[1]];
    if (s->nints < 4) return run_perform(self, s, v);
    const int nd = PyArray_NDIM(x), typenum = s->ints[1];
    npy_intp dims[NPY_MAXDIMS], strides[NPY_MAXDIMS], offset;
    int vd;
    PyArrayObject *out = fc_out(self, v, s->out[0], nd, PyArray_DIMS(x), typenum, s->ints[2]);
    if (!out) return -1;
    if (!basic_index(s, v, 2, 3, nd, PyArray_DIMS(out), PyArray_STRIDES(out), dims, strides, &offset,
                     &vd))
        goto perform;
    /* Zeros, but where the index covers every element (x[::-1], x[:]): all are written. */
    if (vd < nd || fc_size(dims, vd) != fc_size(PyArray_DIMS(out), nd))
        memset(PyArray_DATA(out), 0, PyArray_NBYTES(out));
    if (vd == 0 && PyArray_NDIM(g) == 0 && PyArray_TYPE(g) == typenum) {
        /* one element (a Jacobian's row seed): no view, no assignment machinery */
        memcpy((char *)PyArray_DATA(out) + offset, PyArray_DATA(g), PyArray_ITEMSIZE(out));
        v[s->out[0]] = out;
        return 0;
    }
    if (vd == 1 && PyArray_NDIM(g) == 1 && PyArray_TYPE(g) == typenum && PyArray_DIM(g, 0) == dims[0]
        && PyArray_ITEMSIZE(out) == 8 && PyArray_ISALIGNED(g)) {
        /* a 1-D slice of a 1-D gradient (x[::-1], x[a:b]): copied here, element by element */
        char *dst = (char *)PyArray_DATA(out) + offset;
        const char *src = PyArray_DATA(g);
        const npy_intp gs = PyArray_STRIDE(g, 0);
        if (strides[0] == -8 && gs == 8) {   /* x[::-1] of a contiguous gradient */
            npy_int64 *d = (npy_int64 *)dst;
            const npy_int64 *from = (const npy_int64 *)src;
            for (npy_intp i = 0; i < dims[0]; i++) d[-i] = from[i];
        } else {
            for (npy_intp i = 0; i < dims[0]; i++)
                *(npy_int64 *)(dst + i * strides[0]) = *(const npy_int64 *)(src + i * gs);
        }
        v[s->out[0]] = out;
        return 0;
    }
    PyArrayObject *view = (PyArrayObject *)PyArray_NewFromDescr(
        &PyArray_Type, PyArray_DescrFromType(typenum), vd, dims, strides,
        (char *)PyArray_DATA(out) + offset, NPY_ARRAY_WRITEABLE, NULL);
    if (!view) { Py_DECREF(out); return -1; }
    Py_INCREF(out);
    if (PyArray_SetBaseObject(view, (PyObject *)out) < 0) {
        Py_DECREF(view);
        Py_DECREF(out);
        return -1;
    }
    const int rc = PyArray_CopyInto(view, g);
    Py_DECREF(view);
    if (rc < 0) {  /* shapes that do not broadcast: the perform's error names them */
        PyErr_Clear();
        goto perform;
    }
    v[s->out[0]] = out;
    return 0;
perform:
    Py_DECREF(out);
    return run_perform(self, s, v);
}

static int run_make_vector(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum (int64). An int64 vector of the int scalar
     * inputs (a symbolic shape); an input of another kind (uint64, which may not fit) runs the
     * op's perform. */
    npy_intp n = s->nin;
    PyArrayObject *r = fc_fresh(self, 1, &n, NPY_INT64);
    if (!r) return -1;
    npy_int64 *o = (npy_int64 *)PyArray_DATA(r);
    for (int i = 0; i < s->nin; i++) {
        npy_intp x;
        if (!int_scalar(v[s->in[i]], &x)) {
            Py_DECREF(r);
            return run_perform(self, s, v);
        }
        o[i] = x;
    }
    v[s->out[0]] = r;
    return 0;
}

static int run_alloc(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, ndim. A new array of the int64 shape
     * vector input 1, filled with input 0 broadcast (numpy's assignment). A negative size, a
     * value that does not broadcast or of another dtype, or anything unexpected runs the op's
     * perform, which reports it. */
    PyArrayObject *val = v[s->in[0]], *shp = v[s->in[1]];
    const int nd = s->nints >= 3 ? s->ints[2] : -1;
    if (nd < 0 || nd > NPY_MAXDIMS || PyArray_NDIM(shp) != 1 || PyArray_DIM(shp, 0) != nd
        || PyArray_TYPE(shp) != NPY_INT64 || PyArray_TYPE(val) != s->ints[1])
        return run_perform(self, s, v);
    npy_intp dims[NPY_MAXDIMS];
    const char *p = PyArray_DATA(shp);
    for (int d = 0; d < nd; d++) {
        npy_int64 x;
        memcpy(&x, p + d * PyArray_STRIDE(shp, 0), sizeof x);
        if (x < 0) return run_perform(self, s, v);
        dims[d] = (npy_intp)x;
    }
    PyArrayObject *r = fc_fresh(self, nd, dims, s->ints[1]);
    if (!r) return -1;
    if (PyArray_CopyInto(r, val) < 0) {
        PyErr_Clear();
        Py_DECREF(r);
        return run_perform(self, s, v);
    }
    v[s->out[0]] = r;
    return 0;
}

/* The step's output r, numpy's result; where numpy refused (r NULL) the op's perform runs
 * instead, which takes the case or words the error. */
static int numpy_or_perform(Runner *self, const Step *s, PyArrayObject **v, PyObject *r)
{
    if (!r) {
        PyErr_Clear();
        return run_perform(self, s, v);
    }
    v[s->out[0]] = (PyArrayObject *)r;
    return 0;
}

static int run_concatenate(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, the axis. numpy's concatenate of inputs
     * all of the output's dtype; inputs of mixed dtypes or shapes that do not fit run the op's
     * perform (which casts, or reports the shapes). */
    if (s->nints < 3) return run_perform(self, s, v);
    PyObject *seq = PyTuple_New(s->nin);
    if (!seq) return -1;
    for (int i = 0; i < s->nin; i++) {
        PyArrayObject *a = v[s->in[i]];
        if (PyArray_TYPE(a) != s->ints[1]) {
            Py_DECREF(seq);
            return run_perform(self, s, v);
        }
        Py_INCREF(a);
        PyTuple_SET_ITEM(seq, i, (PyObject *)a);
    }
    PyObject *r = PyArray_Concatenate(seq, s->ints[2]);
    Py_DECREF(seq);
    return numpy_or_perform(self, s, v, r);
}

static int run_specify_shape(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, ndim, then per dim its declared size or
     * -1 (any). Input 0 itself where its shape fits; otherwise the op's perform reports it. */
    PyArrayObject *x = v[s->in[0]];
    const int nd = s->nints >= 3 ? s->ints[2] : -1;
    if (nd != PyArray_NDIM(x) || s->nints != 3 + nd) return run_perform(self, s, v);
    for (int d = 0; d < nd; d++)
        if (s->ints[3 + d] >= 0 && s->ints[3 + d] != PyArray_DIM(x, d)) return run_perform(self, s, v);
    Py_INCREF(x);
    v[s->out[0]] = x;
    return 0;
}

static int run_assert(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum and, where given, how many inputs after
     * input 0 are conditions (the rest are values the perform's message names; default: all).
     * Input 0 itself where every condition is a contiguous bool array of true values (a 0-d
     * one, or the comparison of two shapes); anything else (a false value, another dtype) runs
     * the op's perform, which raises or checks it. */
    const int nin = s->nints > 2 && s->ints[2] >= 0 && s->ints[2] < s->nin ? 1 + s->ints[2] : s->nin;
    for (int i = 1; i < nin; i++) {
        PyArrayObject *c = v[s->in[i]];
        if (PyArray_TYPE(c) != NPY_BOOL || !PyArray_IS_C_CONTIGUOUS(c)) return run_perform(self, s, v);
        const npy_bool *b = (const npy_bool *)PyArray_DATA(c);
        for (npy_intp k = 0, n = PyArray_SIZE(c); k < n; k++)
            if (!b[k]) return run_perform(self, s, v);
    }
    PyArrayObject *x = v[s->in[0]];
    Py_INCREF(x);
    v[s->out[0]] = x;
    return 0;
}

static int run_arange(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum. numpy's arange of the three 0-d inputs:
     * int64 from int bounds here (a range of a shape entry, the common case), any other kind
     * by numpy's own arange (what np.arange calls) on the inputs' scalars; a zero step or
     * anything numpy refuses runs the op's perform, which words the error. */
    npy_intp b[3];
    if (s->ints[1] == NPY_INT64 && int_scalar(v[s->in[0]], b) && int_scalar(v[s->in[1]], b + 1)
        && int_scalar(v[s->in[2]], b + 2) && b[2] != 0) {
        const npy_intp lim = (npy_intp)1 << 62;  /* stop - start cannot overflow */
        if (b[0] > -lim && b[0] < lim && b[1] > -lim && b[1] < lim && b[2] > -lim && b[2] < lim) {
            const npy_intp span = b[2] > 0 ? b[1] - b[0] : b[0] - b[1], st = b[2] > 0 ? b[2] : -b[2];
            /* ceil(span / st) without span + st - 1, which passes 2**63 for bounds near 2**62 */
            npy_intp n = span > 0 ? span / st + (span % st != 0) : 0;
            PyArrayObject *r = fc_fresh(self, 1, &n, NPY_INT64);
            if (!r) return -1;
            npy_int64 *o = (npy_int64 *)PyArray_DATA(r);
            for (npy_intp i = 0; i < n; i++) o[i] = b[0] + i * b[2];
            v[s->out[0]] = r;
            return 0;
        }
    }
    PyObject *sc[3] = {NULL, NULL, NULL}, *r = NULL;
    PyArray_Descr *descr = PyArray_DescrFromType(s->ints[1]);
    int ok = descr != NULL;
    for (int i = 0; i < 3 && ok; i++) {
        PyArrayObject *a = v[s->in[i]];
        ok = PyArray_NDIM(a) == 0 && (sc[i] = PyArray_ToScalar(PyArray_DATA(a), a)) != NULL;
        if (ok && PyArray_ISINTEGER(a)) {
            /* As Python ints: numpy's arange takes stop - start in the scalars' own type, and
             * bounds a whole int64 apart wrap to an empty (or wrong) range. */
            PyObject *exact = PyNumber_Index(sc[i]);
            Py_SETREF(sc[i], exact);
            ok = exact != NULL;
        }
    }
    /* a zero step goes straight to the perform (numpy would first warn of the division) */
    if (ok && PyObject_IsTrue(sc[2]) == 1) r = PyArray_ArangeObj(sc[0], sc[1], sc[2], descr);
    Py_XDECREF(descr);  /* (arange takes no reference) */
    for (int i = 0; i < 3; i++) Py_XDECREF(sc[i]);
    if (!r || PyArray_NDIM((PyArrayObject *)r) != 1 || PyArray_TYPE((PyArrayObject *)r) != s->ints[1]) {
        Py_XDECREF(r);
        PyErr_Clear();
        return run_perform(self, s, v);
    }
    v[s->out[0]] = (PyArrayObject *)r;
    return 0;
}

static PyArrayObject *fc_newshape(PyArrayObject *a, npy_intp *dims, int nd)
{
    PyArray_Dims to = {dims, nd};
    return (PyArrayObject *)PyArray_Newshape(a, &to, NPY_CORDER);
}

/* One operand of a tensordot as a matrix, numpy's way: its free axes (in order) then the
 * contracted ones (`contracted_last`), or the contracted then the free (b), transposed (a
 * view) and reshaped (a copy only where the layout needs one). Sets *free to the free axes'
 * sizes (their count in *nfree). */
static PyArrayObject *tensordot_matrix(PyArrayObject *x, const int *axes, int n, int contracted_last,
                                       npy_intp *free, int *nfree)
{
    const int nd = PyArray_NDIM(x);
    npy_intp perm[NPY_MAXDIMS], dims[2] = {1, 1};
    int used[NPY_MAXDIMS] = {0}, k = 0;
    for (int i = 0; i < n; i++) used[axes[i]] = 1;
    npy_intp *fd = &dims[contracted_last ? 0 : 1], *cd = &dims[contracted_last ? 1 : 0];
    if (!contracted_last)
        for (int i = 0; i < n; i++) perm[k++] = axes[i];
    *nfree = 0;
    for (int d = 0; d < nd; d++)
        if (!used[d]) {
            perm[k++] = d;
            free[(*nfree)++] = PyArray_DIM(x, d);
            *fd *= PyArray_DIM(x, d);
        }
    if (contracted_last)
        for (int i = 0; i < n; i++) perm[k++] = axes[i];
    for (int i = 0; i < n; i++) *cd *= PyArray_DIM(x, axes[i]);
    PyArray_Dims p = {perm, nd};
    PyArrayObject *t = (PyArrayObject *)PyArray_Transpose(x, &p);
    if (!t) return NULL;
    PyArrayObject *m = fc_newshape(t, dims, 2);
    Py_DECREF(t);
    return m;
}

static int run_tensordot(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, n, a's n contracted axes, b's. What
     * numpy's tensordot does (transposes, reshapes, one matrix product, a reshape), without
     * its Python: operands of the output's float dtype whose contracted sizes agree. Anything
     * else (other dtypes, sizes that differ) runs the op's perform, which reports it. */
    PyArrayObject *a = v[s->in[0]], *b = v[s->in[1]];
    const int t = s->ints[1], n = s->nints >= 3 ? s->ints[2] : -1;
    if (n < 0 || s->nints != 3 + 2 * n || (t != NPY_FLOAT64 && t != NPY_FLOAT32)
        || PyArray_TYPE(a) != t || PyArray_TYPE(b) != t)
        return run_perform(self, s, v);
    const int *aa = s->ints + 3, *ba = aa + n;
    for (int i = 0; i < n; i++)
        if (aa[i] < 0 || aa[i] >= PyArray_NDIM(a) || ba[i] < 0 || ba[i] >= PyArray_NDIM(b)
            || PyArray_DIM(a, aa[i]) != PyArray_DIM(b, ba[i]))
            return run_perform(self, s, v);
    npy_intp out[2 * NPY_MAXDIMS];
    int fa, fb;
    PyArrayObject *am = tensordot_matrix(a, aa, n, 1, out, &fa);
    if (!am) return -1;
    PyArrayObject *bm = tensordot_matrix(b, ba, n, 0, out + fa, &fb);
    if (!bm) { Py_DECREF(am); return -1; }
    PyArrayObject *prod = (PyArrayObject *)fc_quiet_product((PyObject *)am, (PyObject *)bm);
    Py_DECREF(am);
    Py_DECREF(bm);
    if (!prod) return -1;
    PyArrayObject *r = fc_newshape(prod, out, fa + fb);
    Py_DECREF(prod);
    if (!r) return -1;
    v[s->out[0]] = r;
    return 0;
}

/* Adds n rows of `inner` elements of src (contiguous) at the element offsets of dst. */
#define FC_ADD_ROWS(T)                                                               \
    {                                                                                \
        T *o_ = (T *)PyArray_DATA(out);                                              \
        const T *g_ = (const T *)PyArray_DATA(src);                                  \
        for (npy_intp k = 0; k < n; k++) {                                           \
            T *d_ = o_ + off[k];                                                     \
            const T *s_ = g_ + k * inner;                                            \
            for (npy_intp j = 0; j < inner; j++) d_[j] += s_[j];                     \
        }                                                                            \
    }                                                                                \
    break;

static int run_adv_index(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, the mode, m. x indexed by m 1-D index
     * arrays of one length n on its leading m axes (x[ivec], M[arange(n), y]): mode 0 gathers
     * the n rows (of x's other axes) x[i0[k], ..., i_m-1[k]]; mode 1 adds input 1's rows
     * there into zeros of x's shape (the gradient, np.add.at); mode 2 into a copy of x (an
     * inc_subtensor). Indices out of range, index arrays of other shapes or dtypes, a
     * non-contiguous x or rows of another shape than n rows (no broadcasting here): the op's
     * perform, which computes or reports them. */
    if (s->nints < 4) return run_perform(self, s, v);
    const int typenum = s->ints[1], mode = s->ints[2], m = s->ints[3];
    const int lead = mode == 0 ? 1 : 2;
    PyArrayObject *x = v[s->in[0]], *src = mode == 0 ? NULL : v[s->in[1]];
    const int nd = PyArray_NDIM(x);
    if (m < 1 || m > nd || s->nin != lead + m || PyArray_TYPE(x) != typenum
        || !PyArray_IS_C_CONTIGUOUS(x))
        return run_perform(self, s, v);
    /* (a 0-d index array has no dims to read a length from) */
    if (PyArray_NDIM(v[s->in[lead]]) != 1) return run_perform(self, s, v);
    const npy_intp n = PyArray_DIM(v[s->in[lead]], 0);
    for (int j = 0; j < m; j++) {
        PyArrayObject *a = v[s->in[lead + j]];
        const int t = PyArray_TYPE(a);
        if (PyArray_NDIM(a) != 1 || PyArray_DIM(a, 0) != n || !fc_index_type_ok(t))
            return run_perform(self, s, v);
    }
    npy_intp inner = 1;
    for (int d = m; d < nd; d++) inner *= PyArray_DIM(x, d);
    if (mode != 0) {
        if (PyArray_TYPE(src) != typenum || !PyArray_IS_C_CONTIGUOUS(src) || PyArray_NDIM(src) != 1 + nd - m
            || PyArray_DIM(src, 0) != n)
            return run_perform(self, s, v);
        for (int d = m; d < nd; d++)
            if (PyArray_DIM(src, 1 + d - m) != PyArray_DIM(x, d)) return run_perform(self, s, v);
        if (typenum != NPY_FLOAT64 && typenum != NPY_FLOAT32 && typenum != NPY_INT64 && typenum != NPY_INT32)
            return run_perform(self, s, v);
    }
    /* the element offset of each row, every index checked (and a negative one wrapped) */
    npy_intp *off = malloc(sizeof(npy_intp) * (n ? n : 1));
    if (!off) { PyErr_NoMemory(); return -1; }
    for (npy_intp k = 0; k < n; k++) off[k] = 0;
    npy_intp step = inner;
    for (int j = m - 1; j >= 0; j--) {
        PyArrayObject *a = v[s->in[lead + j]];
        const char *p = PyArray_DATA(a);
        const npy_intp st = PyArray_STRIDE(a, 0), size = PyArray_DIM(x, j);
        const int t = PyArray_TYPE(a);
        for (npy_intp k = 0; k < n; k++) {
            npy_intp i = fc_index_at(p, st, t, k);
            if (i < 0) i += size;
            if (i < 0 || i >= size) { free(off); return run_perform(self, s, v); }
            off[k] += i * step;
        }
        step *= size;
    }
    PyArrayObject *out;
    if (mode == 0) {
        npy_intp dims[NPY_MAXDIMS];
        dims[0] = n;
        for (int d = m; d < nd; d++) dims[1 + d - m] = PyArray_DIM(x, d);
        out = fc_out(self, v, s->out[0], 1 + nd - m, dims, typenum, -1);
        if (!out) { free(off); return -1; }
        const npy_intp isz = PyArray_ITEMSIZE(x), row = inner * isz;
        const char *from = PyArray_DATA(x);
        char *to = PyArray_DATA(out);
        if (row == 8) {
            for (npy_intp k = 0; k < n; k++) memcpy(to + k * 8, from + off[k] * isz, 8);
        } else {
            for (npy_intp k = 0; k < n; k++) memcpy(to + k * row, from + off[k] * isz, row);
        }
    } else {
        out = fc_out(self, v, s->out[0], nd, PyArray_DIMS(x), typenum, -1);
        if (!out) { free(off); return -1; }
        if (mode == 1) memset(PyArray_DATA(out), 0, PyArray_NBYTES(out));
        else memcpy(PyArray_DATA(out), PyArray_DATA(x), PyArray_NBYTES(out));
        switch (typenum) {
        case NPY_FLOAT64: FC_ADD_ROWS(npy_float64)
        case NPY_FLOAT32: FC_ADD_ROWS(npy_float32)
        case NPY_INT64: FC_ADD_ROWS(npy_int64)
        case NPY_INT32: FC_ADD_ROWS(npy_int32)
        }
    }
    free(off);
    v[s->out[0]] = out;
    return 0;
}
#undef FC_ADD_ROWS

/* One cumulative pass over a C-contiguous block of `outer` x `n` x `inner` elements along its
 * middle axis: the first row converted to the output's type, each later one combined with the
 * row before it. Integers accumulate as unsigned 64-bit values (the same bits as int64, with
 * numpy's wraparound on overflow and no undefined behaviour). */
#define FC_CUM(TI, TO, OP)                                                           \
    {                                                                                \
        const TI *x_ = (const TI *)PyArray_DATA(x);                                  \
        TO *o_ = (TO *)PyArray_DATA(out);                                            \
        for (npy_intp b = 0; b < outer; b++) {                                       \
            const TI *xb = x_ + b * n * inner;                                       \
            TO *ob = o_ + b * n * inner;                                             \
            for (npy_intp j = 0; j < inner * (n > 0); j++) ob[j] = (TO)xb[j];        \
            for (npy_intp i = 1; i < n; i++)                                         \
                for (npy_intp j = 0; j < inner; j++)                                 \
                    ob[i * inner + j] = ob[(i - 1) * inner + j] OP(TO) xb[i * inner + j]; \
        }                                                                            \
    }                                                                                \
    break;
#define FC_CUM_INTS(OP)                                                              \
    switch (PyArray_TYPE(x)) {                                                       \
    case NPY_BOOL: FC_CUM(npy_bool, npy_uint64, OP)                                  \
    case NPY_INT8: FC_CUM(npy_int8, npy_uint64, OP)                                  \
    case NPY_INT16: FC_CUM(npy_int16, npy_uint64, OP)                                \
    case NPY_INT32: FC_CUM(npy_int32, npy_uint64, OP)                                \
    case NPY_INT64: FC_CUM(npy_int64, npy_uint64, OP)                                \
    case NPY_UINT8: FC_CUM(npy_uint8, npy_uint64, OP)                                \
    case NPY_UINT16: FC_CUM(npy_uint16, npy_uint64, OP)                              \
    case NPY_UINT32: FC_CUM(npy_uint32, npy_uint64, OP)                              \
    case NPY_UINT64: FC_CUM(npy_uint64, npy_uint64, OP)                              \
    }

/* Whether the cumulative step computes input type `ti` into output type `to` itself: a
 * float type into itself, any integer or bool into a 64-bit integer of numpy's signedness
 * (what numpy's cumsum and cumprod give), complex sums (the sums of the real and imaginary
 * parts). Complex products, whose rounding depends on how numpy's loop multiplies, are
 * numpy's. */
static int cum_native(int ti, int to, int mul)
{
    if (ti == NPY_FLOAT64 || ti == NPY_FLOAT32) return to == ti;
    if (ti == NPY_COMPLEX128 || ti == NPY_COMPLEX64) return to == ti && !mul;
    if (ti == NPY_UINT64 || ti == NPY_UINT32 || ti == NPY_UINT16 || ti == NPY_UINT8) return to == NPY_UINT64;
    return (ti == NPY_BOOL || ti == NPY_INT8 || ti == NPY_INT16 || ti == NPY_INT32 || ti == NPY_INT64)
           && to == NPY_INT64;
}

static int run_cumop(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, the axis (-1: of the flattened input),
     * 1 for a product (0: a sum). numpy's cumsum / cumprod, computed here for the types
     * cum_native names; any other (or a byte-swapped input) runs the op's perform. */
    if (s->nints < 4) return run_perform(self, s, v);
    const int to = s->ints[1], axis = s->ints[2], mul = s->ints[3];
    PyArrayObject *x0 = v[s->in[0]];
    const int nd = PyArray_NDIM(x0);
    if (!cum_native(PyArray_TYPE(x0), to, mul) || !PyArray_ISNOTSWAPPED(x0) || !PyArray_ISALIGNED(x0)
        || axis < -1 || axis >= nd)
        return run_perform(self, s, v);
    PyArrayObject *x = PyArray_GETCONTIGUOUS(x0);
    if (!x) return -1;
    npy_intp outer = 1, n = PyArray_SIZE(x), inner = 1;
    if (axis >= 0) {
        n = PyArray_DIM(x, axis);
        for (int d = 0; d < axis; d++) outer *= PyArray_DIM(x, d);
        for (int d = axis + 1; d < nd; d++) inner *= PyArray_DIM(x, d);
    }
    npy_intp flat = n;
    PyArrayObject *out = fc_out(self, v, s->out[0], axis >= 0 ? nd : 1, axis >= 0 ? PyArray_DIMS(x) : &flat,
                                to, -1);
    if (!out) { Py_DECREF(x); return -1; }
    if (mul) {
        switch (to) {
        case NPY_FLOAT64: FC_CUM(npy_float64, npy_float64, *)
        case NPY_FLOAT32: FC_CUM(npy_float32, npy_float32, *)
        default: FC_CUM_INTS(*)
        }
    } else {
        if (to == NPY_COMPLEX128 || to == NPY_COMPLEX64) inner *= 2;  /* real, imaginary parts */
        switch (to) {
        case NPY_FLOAT64: case NPY_COMPLEX128: FC_CUM(npy_float64, npy_float64, +)
        case NPY_FLOAT32: case NPY_COMPLEX64: FC_CUM(npy_float32, npy_float32, +)
        default: FC_CUM_INTS(+)
        }
    }
    Py_DECREF(x);
    v[s->out[0]] = out;
    return 0;
}
#undef FC_CUM_INTS
#undef FC_CUM

static int run_eye(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum. numpy's eye(n, m, k) of the three 0-d
     * int inputs: zeros with ones on the k-th diagonal; a negative size (or a size of a type
     * int_scalar does not read) runs the op's perform, which reports it. */
    npy_intp b[3];
    if (!int_scalar(v[s->in[0]], b) || !int_scalar(v[s->in[1]], b + 1) || !int_scalar(v[s->in[2]], b + 2)
        || b[0] < 0 || b[1] < 0)
        return run_perform(self, s, v);
    PyArrayObject *r = (PyArrayObject *)PyArray_ZEROS(2, b, s->ints[1], 0);
    if (!r) {
        PyErr_Clear();
        return run_perform(self, s, v);
    }
    /* the diagonal runs from (max(0, -k), max(0, k)) for as long as both bounds allow; a k
     * off the matrix (compared before any negation: -k of the smallest int64 overflows) has
     * none */
    const npy_intp k = b[2];
    const int off = k <= -b[0] || k >= b[1];
    const npy_intp i0 = off || k >= 0 ? 0 : -k, j0 = off || k <= 0 ? 0 : k;
    const npy_intp len = off ? 0 : (b[0] - i0 < b[1] - j0 ? b[0] - i0 : b[1] - j0);
    if (len > 0) {
        PyObject *one = PyLong_FromLong(1);
        if (!one || PyArray_SETITEM(r, PyArray_GETPTR2(r, i0, j0), one) < 0) {
            Py_XDECREF(one);
            Py_DECREF(r);
            return -1;
        }
        Py_DECREF(one);
        const npy_intp isz = PyArray_ITEMSIZE(r), step = PyArray_STRIDE(r, 0) + PyArray_STRIDE(r, 1);
        char *first = PyArray_GETPTR2(r, i0, j0);
        for (npy_intp t = 1; t < len; t++) memcpy(first + t * step, first, isz);
    }
    v[s->out[0]] = r;
    return 0;
}

/* Whether numpy's repeat of x by the counts r along `axis` (-1: of the flattened x) makes an
 * array whose byte count fits an npy_intp. numpy adds the counts without an overflow check: a
 * total that wraps gets a small array that is then written far past its end. 1: it fits (or
 * numpy refuses the counts itself: a negative one); 0: it does not, or the counts are of a
 * type not read here (the op's perform then checks them). */
static int repeat_fits(PyArrayObject *x, PyArrayObject *r, int axis)
{
    if (PyArray_NDIM(r) > 1 || !fc_index_type_ok(PyArray_TYPE(r))) return 0;
    const npy_intp n = axis < 0 ? PyArray_SIZE(x) : PyArray_DIM(x, axis), m = PyArray_SIZE(r);
    npy_intp total = 0, rest = PyArray_ITEMSIZE(x);
    for (int d = 0; axis >= 0 && d < PyArray_NDIM(x); d++)
        if (d != axis && __builtin_mul_overflow(rest, PyArray_DIM(x, d), &rest)) return 0;
    const char *p = PyArray_DATA(r);
    const npy_intp st = PyArray_NDIM(r) ? PyArray_STRIDE(r, 0) : 0;
    for (npy_intp k = 0; k < m; k++) {
        const npy_intp c = fc_index_at(p, st, PyArray_TYPE(r), k);
        if (c < 0) return 1;
        if (__builtin_add_overflow(total, c, &total)) return 0;
    }
    /* one count for every element */
    if (m == 1 && __builtin_mul_overflow(total, n, &total)) return 0;
    return !__builtin_mul_overflow(total, rest, &total);
}

static int run_repeat(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, the axis (-1: of the flattened input),
     * 0. numpy's repeat (the function np.repeat calls) of input 0 by the int scalar or vector
     * input 1; anything numpy refuses (a negative count, a count per element that does not
     * fit) runs the op's perform, which words the error. */
    PyArrayObject *x = v[s->in[0]];
    if (s->nints < 4 || PyArray_TYPE(x) != s->ints[1] || s->ints[2] < -1 || s->ints[2] >= PyArray_NDIM(x)
        || !repeat_fits(x, v[s->in[1]], s->ints[2]))
        return run_perform(self, s, v);
    return numpy_or_perform(
        self, s, v, PyArray_Repeat(x, (PyObject *)v[s->in[1]], s->ints[2] < 0 ? FC_RAVEL_AXIS : s->ints[2]));
}

static int run_tile(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, n, the n reps. numpy's tile: the output
     * (x's dims, padded with leading 1s to n, times the reps) seen as (reps[0], dims[0],
     * reps[1], dims[1], ...), x assigned to it broadcast as (1, dims[0], 1, dims[1], ...).
     * Ranks beyond numpy's limit for that view, or anything unexpected, run the op's perform. */
    PyArrayObject *x = v[s->in[0]];
    const int n = s->nints >= 3 ? s->ints[2] : -1, xnd = PyArray_NDIM(x);
    const int nd = n > xnd ? n : xnd;
    if (n < 0 || s->nints != 3 + n || 2 * nd > NPY_MAXDIMS || PyArray_TYPE(x) != s->ints[1])
        return run_perform(self, s, v);
    npy_intp dims[NPY_MAXDIMS], split[NPY_MAXDIMS], xsplit[NPY_MAXDIMS];
    for (int d = 0; d < nd; d++) {
        const npy_intp size = d < nd - xnd ? 1 : PyArray_DIM(x, d - (nd - xnd));
        const npy_intp rep = d < nd - n ? 1 : s->ints[3 + d - (nd - n)];
        if (rep < 0 || (size && rep > NPY_MAX_INTP / size)) return run_perform(self, s, v);
        dims[d] = size * rep;
        split[2 * d] = rep;
        split[2 * d + 1] = xsplit[2 * d + 1] = size;
        xsplit[2 * d] = 1;
    }
    PyArrayObject *r = fc_fresh(self, nd, dims, s->ints[1]);
    if (!r) {
        PyErr_Clear();
        return run_perform(self, s, v);
    }
    PyArrayObject *to = fc_newshape(r, split, 2 * nd), *from = to ? fc_newshape(x, xsplit, 2 * nd) : NULL;
    const int rc = from ? PyArray_CopyInto(to, from) : -1;
    Py_XDECREF(to);
    Py_XDECREF(from);
    if (rc < 0) {
        Py_DECREF(r);
        return -1;
    }
    v[s->out[0]] = r;
    return 0;
}

/* Sums runs of rows of g (C-contiguous, `outer` x rows x `inner`) into rows of out
 * (`outer` x `n` x `inner`, zeroed): run e is counts[e] consecutive rows. */
#define FC_RUN_SUMS(T)                                                               \
    {                                                                                \
        const T *g_ = (const T *)PyArray_DATA(g);                                    \
        T *o_ = (T *)PyArray_DATA(out);                                              \
        for (npy_intp b = 0; b < outer; b++) {                                       \
            const T *gr = g_ + b * rows * inner;                                     \
            for (npy_intp e = 0; e < n; e++) {                                       \
                T *orow = o_ + (b * n + e) * inner;                                  \
                for (npy_intp t = 0; t < counts[e]; t++, gr += inner)                \
                    for (npy_intp j = 0; j < inner; j++) orow[j] += gr[j];           \
            }                                                                        \
        }                                                                            \
    }                                                                                \
    break;

static int run_repeat_grad(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, the axis, 0. The gradient of repeat by a
     * vector of counts: input 0 (g) summed over each run of copies along the axis (a run of
     * no copies gives 0), for float g and counts of a type fc_index_at reads that are not
     * negative and add up to g's size along the axis; anything else runs the op's perform. */
    PyArrayObject *g0 = v[s->in[0]], *r = v[s->in[1]];
    const int t = s->nints >= 4 ? s->ints[1] : -1, axis = s->nints >= 4 ? s->ints[2] : -1;
    const int nd = PyArray_NDIM(g0);
    if ((t != NPY_FLOAT64 && t != NPY_FLOAT32) || PyArray_TYPE(g0) != t || axis < 0 || axis >= nd
        || PyArray_NDIM(r) != 1 || !fc_index_type_ok(PyArray_TYPE(r)))
        return run_perform(self, s, v);
    const npy_intp n = PyArray_DIM(r, 0), rows = PyArray_DIM(g0, axis);
    npy_intp *counts = malloc(sizeof(npy_intp) * (n ? n : 1)), total = 0;
    if (!counts) { PyErr_NoMemory(); return -1; }
    for (npy_intp e = 0; e < n; e++) {
        counts[e] = fc_index_at(PyArray_DATA(r), PyArray_STRIDE(r, 0), PyArray_TYPE(r), e);
        if (counts[e] < 0 || counts[e] > rows - total) { free(counts); return run_perform(self, s, v); }
        total += counts[e];
    }
    if (total != rows) { free(counts); return run_perform(self, s, v); }
    PyArrayObject *g = PyArray_GETCONTIGUOUS(g0);
    if (!g) { free(counts); return -1; }
    npy_intp dims[NPY_MAXDIMS], outer = 1, inner = 1;
    for (int d = 0; d < nd; d++) {
        dims[d] = d == axis ? n : PyArray_DIM(g, d);
        if (d < axis) outer *= dims[d];
        if (d > axis) inner *= dims[d];
    }
    PyArrayObject *out = (PyArrayObject *)PyArray_ZEROS(nd, dims, t, 0);
    if (out) {
        switch (t) {
        case NPY_FLOAT64: FC_RUN_SUMS(npy_float64)
        case NPY_FLOAT32: FC_RUN_SUMS(npy_float32)
        }
    }
    free(counts);
    Py_DECREF(g);
    if (!out) return -1;
    v[s->out[0]] = out;
    return 0;
}
#undef FC_RUN_SUMS

/* numpy's argsort of x along `axis` (-1: of the flattened x), as np.argsort computes it
 * (its default kind), as an int64 array; NULL with no exception set where numpy refuses. */
static PyArrayObject *fc_argsort(PyArrayObject *x, int axis)
{
    PyArrayObject *r = (PyArrayObject *)PyArray_ArgSort(x, axis < 0 ? FC_RAVEL_AXIS : axis, NPY_QUICKSORT);
    if (r && PyArray_TYPE(r) != NPY_INT64) {
        Py_DECREF(r);
        r = NULL;
    }
    if (!r) PyErr_Clear();
    return r;
}

static int run_sort(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, the axis (-1: of the flattened input), 1
     * for argsort (0: sort). What np.sort and np.argsort do (a copy sorted in place, the
     * argsort of the input) with numpy's default kind, so ties and NaNs come out as numpy's;
     * anything numpy refuses runs the op's perform. */
    PyArrayObject *x = v[s->in[0]];
    if (s->nints < 4 || s->ints[2] < -1 || s->ints[2] >= PyArray_NDIM(x)) return run_perform(self, s, v);
    const int axis = s->ints[2];
    PyArrayObject *r;
    if (s->ints[3]) {
        if (s->ints[1] != NPY_INT64 || !(r = fc_argsort(x, axis))) return run_perform(self, s, v);
    } else {
        if (PyArray_TYPE(x) != s->ints[1]) return run_perform(self, s, v);
        r = (PyArrayObject *)(axis < 0 ? PyArray_Flatten(x, NPY_CORDER) : PyArray_NewCopy(x, NPY_CORDER));
        if (!r) return -1;
        if (PyArray_Sort(r, axis < 0 ? 0 : axis, NPY_QUICKSORT) < 0) {
            Py_DECREF(r);
            PyErr_Clear();
            return run_perform(self, s, v);
        }
    }
    v[s->out[0]] = r;
    return 0;
}

static int run_sort_grad(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, the axis (-1: of the flattened x), 1 to
     * gather (0: scatter). With order = argsort(x) along the axis: gathering gives g[order]
     * (take_along_axis), scattering puts g's values back at order (put_along_axis), in x's
     * shape. A g whose shape is not the order's (or anything numpy refuses) runs the op's
     * perform. */
    PyArrayObject *x = v[s->in[0]], *g0 = v[s->in[1]];
    if (s->nints < 4 || s->ints[2] < -1 || s->ints[2] >= PyArray_NDIM(x) || PyArray_TYPE(g0) != s->ints[1])
        return run_perform(self, s, v);
    const int axis = s->ints[2] < 0 ? 0 : s->ints[2], gather = s->ints[3];
    PyArrayObject *order = fc_argsort(x, s->ints[2]);
    if (!order) return run_perform(self, s, v);
    const int nd = PyArray_NDIM(order);
    if (PyArray_NDIM(g0) != nd || !fc_same_dims(PyArray_DIMS(g0), PyArray_DIMS(order), nd)
        || !PyArray_IS_C_CONTIGUOUS(order)) {
        Py_DECREF(order);
        return run_perform(self, s, v);
    }
    PyArrayObject *g = PyArray_GETCONTIGUOUS(g0), *out = NULL;
    if (g)
        out = gather ? fc_fresh(self, nd, PyArray_DIMS(order), s->ints[1])
                     : fc_fresh(self, PyArray_NDIM(x), PyArray_DIMS(x), s->ints[1]);
    if (out) {
        npy_intp outer = 1, inner = 1;
        const npy_intp n = PyArray_DIM(order, axis), isz = PyArray_ITEMSIZE(g);
        for (int d = 0; d < axis; d++) outer *= PyArray_DIM(order, d);
        for (int d = axis + 1; d < nd; d++) inner *= PyArray_DIM(order, d);
        const npy_int64 *o_ = (const npy_int64 *)PyArray_DATA(order);
        const char *from = PyArray_DATA(g);
        char *to = PyArray_DATA(out);
        for (npy_intp b = 0; b < outer; b++)
            for (npy_intp i = 0; i < n; i++)
                for (npy_intp j = 0; j < inner; j++) {
                    const npy_intp here = (b * n + i) * inner + j, there = (b * n + o_[here]) * inner + j;
                    if (gather) memcpy(to + here * isz, from + there * isz, isz);
                    else memcpy(to + there * isz, from + here * isz, isz);
                }
    }
    Py_DECREF(order);
    Py_XDECREF(g);
    if (!out) return -1;
    v[s->out[0]] = out;
    return 0;
}

/* Products of stacks larger than this (multiply-adds over the whole stack) are numpy's
 * matmul (its BLAS, batched), run by the op's perform: the loops below beat it by the call
 * into Python up to about here (16 products of 8 x 8 matrices: 4.8 against 6.3 us on 2 cores
 * of an EPYC), BLAS's blocked loops win beyond (8 of 16 x 16: 21 against 11 us). */
#define FC_MATMUL_MAX_WORK 8192

/* One m x k by k x n product of C-contiguous matrices per batch entry: each output row is a
 * sum of rows of b in k's order (contiguous loops the compiler vectorizes). */
#define FC_MATMUL(T)                                                                 \
    {                                                                                \
        for (npy_intp e = 0; e < batch; e++) {                                       \
            const T *A = (const T *)(pa + aoff[e]), *B = (const T *)(pb + boff[e]);  \
            T *C = (T *)po + e * m * n;                                              \
            for (npy_intp i = 0; i < m; i++) {                                       \
                T *c = C + i * n;                                                    \
                for (npy_intp j = 0; j < n; j++) c[j] = 0;                           \
                for (npy_intp q = 0; q < k; q++) {                                   \
                    const T aiq = A[i * k + q], *brow = B + q * n;                   \
                    _Pragma("omp simd")                                              \
                    for (npy_intp j = 0; j < n; j++) c[j] += aiq * brow[j];          \
                }                                                                    \
            }                                                                        \
        }                                                                            \
    }                                                                                \
    break;

static int run_matmul(Runner *self, const Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum. numpy's matmul of stacks of float
     * matrices (a 1-D operand is one row of a, or one column of b, dropped from the result),
     * the batch dims broadcast as numpy broadcasts them, computed here for small stacks.
     * Other dtypes, sizes that do not fit (the perform reports them) and larger stacks run
     * the op's perform. */
    PyArrayObject *a0 = v[s->in[0]], *b0 = v[s->in[1]];
    const int t = s->nints >= 2 ? s->ints[1] : -1, na = PyArray_NDIM(a0), nb = PyArray_NDIM(b0);
    if ((t != NPY_FLOAT64 && t != NPY_FLOAT32) || PyArray_TYPE(a0) != t || PyArray_TYPE(b0) != t || na < 1
        || nb < 1)
        return run_perform(self, s, v);
    const npy_intp m = na > 1 ? PyArray_DIM(a0, na - 2) : 1, k = PyArray_DIM(a0, na - 1);
    const npy_intp n = nb > 1 ? PyArray_DIM(b0, nb - 1) : 1, kb = PyArray_DIM(b0, nb > 1 ? nb - 2 : 0);
    const int abd = na > 2 ? na - 2 : 0, bbd = nb > 2 ? nb - 2 : 0, bd = abd > bbd ? abd : bbd;
    if (k != kb) return run_perform(self, s, v);
    /* the broadcast batch dims, then the output's dims */
    npy_intp dims[NPY_MAXDIMS], batch = 1;
    for (int d = 0; d < bd; d++) {
        const npy_intp da = d - (bd - abd) >= 0 ? PyArray_DIM(a0, d - (bd - abd)) : 1;
        const npy_intp db = d - (bd - bbd) >= 0 ? PyArray_DIM(b0, d - (bd - bbd)) : 1;
        if (da != db && da != 1 && db != 1) return run_perform(self, s, v);
        dims[d] = da == 1 ? db : da;
        batch *= dims[d];
    }
    int ond = bd;
    if (na > 1) dims[ond++] = m;
    if (nb > 1) dims[ond++] = n;
    if (batch && m && n && k && (m * n > FC_MATMUL_MAX_WORK / k || batch > FC_MATMUL_MAX_WORK / (m * n * k)))
        return run_perform(self, s, v);
    PyArrayObject *a = PyArray_GETCONTIGUOUS(a0), *b = a ? PyArray_GETCONTIGUOUS(b0) : NULL;
    PyArrayObject *out = b ? fc_out(self, v, s->out[0], ond, dims, t, -1) : NULL;
    npy_intp *aoff = out ? malloc(sizeof(npy_intp) * 2 * (batch ? batch : 1)) : NULL;
    if (out && !aoff) PyErr_NoMemory();
    if (aoff) {
        npy_intp *boff = aoff + batch;
        /* each batch entry's byte offset in a and in b (0 along a broadcast dim) */
        const npy_intp isz = PyArray_ITEMSIZE(a);
        for (npy_intp e = 0; e < batch; e++) {
            npy_intp rem = e, oa = 0, ob = 0, sa = m * k * isz, sb = k * n * isz;
            for (int d = bd - 1; d >= 0; d--) {
                const npy_intp c = rem % dims[d];
                rem /= dims[d];
                const int xa = d - (bd - abd), xb = d - (bd - bbd);
                if (xa >= 0) {
                    if (PyArray_DIM(a, xa) != 1) oa += c * sa;
                    sa *= PyArray_DIM(a, xa);
                }
                if (xb >= 0) {
                    if (PyArray_DIM(b, xb) != 1) ob += c * sb;
                    sb *= PyArray_DIM(b, xb);
                }
            }
            aoff[e] = oa;
            boff[e] = ob;
        }
        const char *pa = PyArray_DATA(a), *pb = PyArray_DATA(b);
        char *po = PyArray_DATA(out);
        switch (t) {
        case NPY_FLOAT64: FC_MATMUL(npy_float64)
        case NPY_FLOAT32: FC_MATMUL(npy_float32)
        }
        free(aoff);
    }
    Py_XDECREF(a);
    Py_XDECREF(b);
    if (!aoff) {
        Py_XDECREF(out);
        return -1;
    }
    v[s->out[0]] = out;
    return 0;
}
#undef FC_MATMUL

/* ---- pooling (tensor/signal/pool.py) -------------------------------------------------- */

/* The windows of a pooling along the rows, in input coordinates: window row i reads rows
 * lo[i]..hi[i] (the window cut to the input: padding holds nothing a window reads) and a mean
 * divides by cnt[i] (average_exc_pad: those rows; else the window cut only at the padded
 * input's end, as Theano's average_inc_pad). Along the cols the same, and tap v (col
 * j * st + v - pad of window j) lies in the input for the windows jlo[v]..jhi[v]. */
typedef struct {
    npy_intp n, in, st, pad, *lo, *hi, *cnt, *jlo, *jhi;
} PoolAxis;

typedef struct {
    int mode;           /* pool.MODES: 0 max, 1 sum, 2 average_inc_pad, 3 average_exc_pad */
    int fused;          /* the (window cols, col stride) of FC_POOL_ROW's loops, 0: none */
    int store;          /* a gradient's windows tile its output: each entry written once */
    npy_intp ws;        /* window cols */
    npy_intp ja, jb;    /* the windows whose every col lies in the input (fused loops) */
    PoolAxis r, c;      /* rows, cols */
} PoolGeom;

/* Theano's count of windows along a padded dim of `v` entries (pool.py: _out_size). */
static npy_intp pool_out_size(npy_intp v, npy_intp ws, npy_intp st, int ignore_border)
{
    if (ignore_border) return v < ws ? 0 : (v - ws) / st + 1;
    if (st >= ws) return v < 1 ? 0 : (v - 1) / st + 1;
    const npy_intp k = v - 1 - ws + st;
    return (k > 0 ? k / st : 0) + 1;
}

static void pool_axis(PoolAxis *a, npy_intp ws, int inc_pad)
{
    for (npy_intp i = 0; i < a->n; i++) {
        const npy_intp start = i * a->st - a->pad, end = start + ws, padded_end = a->in + a->pad;
        a->lo[i] = start < 0 ? 0 : (start < a->in ? start : a->in);
        a->hi[i] = end < a->in ? (end > a->lo[i] ? end : a->lo[i]) : a->in;
        a->cnt[i] = inc_pad ? (end < padded_end ? end : padded_end) - start : a->hi[i] - a->lo[i];
    }
    for (npy_intp v = 0; v < ws; v++) {
        const npy_intp from = a->pad - v, to = a->in + a->pad - v;  /* j * st in [from, to) */
        a->jlo[v] = from <= 0 ? 0 : (from + a->st - 1) / a->st;
        a->jhi[v] = to <= 0 ? 0 : (to + a->st - 1) / a->st;
        if (a->jhi[v] > a->n) a->jhi[v] = a->n;
        if (a->jlo[v] > a->jhi[v]) a->jlo[v] = a->jhi[v];
    }
}

/* The loops over one input row `rw = r * W` of a row of windows. Windows JA..JB are skipped:
 * each tap v is a loop over the windows that read it, outside those. */
#define FC_POOL_TAPS(JA, JB, BODY)                                                          \
    for (npy_intp v = 0; v < cws; v++) {                                                    \
        const npy_intp off = rw + v - cpad, lo = jlo[v], hi = jhi[v];                       \
        const npy_intp hi1 = hi < (JA) ? hi : (JA), lo2 = lo > (JB) ? lo : (JB);            \
        _Pragma("omp simd")                                                                 \
        for (npy_intp j = lo; j < hi1; j++) {                                               \
            const npy_intp e = off + j * cst;                                               \
            BODY;                                                                           \
        }                                                                                   \
        _Pragma("omp simd")                                                                 \
        for (npy_intp j = lo2; j < hi; j++) {                                               \
            const npy_intp e = off + j * cst;                                               \
            BODY;                                                                           \
        }                                                                                   \
    }
/* Windows ja..jb (all cols in the input) in one loop whose body reads all of a window's cols
 * in WS0 rows from `rw`, their counts and the col stride constants: the common shapes of
 * windows. */
#define FC_POOL_FUSED(WS0, WS1, CST, BODY, IN, OUT)                                         \
    {                                                                                       \
        const npy_intp first = rw + ja * (CST) - cpad;  /* window ja's first col */         \
        const fc_t *restrict xr = (IN);  /* the input's entry of that col */                \
        fc_t *restrict orow = (OUT);  /* a gradient's entry of that col */                  \
        (void)xr, (void)orow;                                                               \
        _Pragma("omp simd")                                                                 \
        for (npy_intp k = 0; k < jb - ja; k++) {                                            \
            const npy_intp j = ja + k, e0 = k * (CST);                                      \
            BODY(WS0, WS1);                                                                 \
        }                                                                                   \
    }
#define FC_POOL_ROW(FUSED, TAP, IN, OUT)                                                    \
    switch (fused) {                                                                        \
    case 1: FC_POOL_FUSED(1, 2, 2, FUSED, IN, OUT) break;                                   \
    case 2: FC_POOL_FUSED(1, 3, 3, FUSED, IN, OUT) break;                                   \
    case 3: FC_POOL_FUSED(1, 3, 2, FUSED, IN, OUT) break;                                   \
    case 4: FC_POOL_FUSED(1, 2, 1, FUSED, IN, OUT) break;                                   \
    }                                                                                       \
    if (edges) {                                                                            \
        FC_POOL_TAPS(ja, jb, TAP)                                                           \
    }
/* A forward pass's rows of 2 or 3 whole windows (nr rows from rw) in one loop over them. */
#define FC_POOL_BLOCK(FUSED)                                                                \
    switch (fused * 4 + (int)nr) {                                                          \
    case 6: FC_POOL_FUSED(2, 2, 2, FUSED, x + first, o) break;                              \
    case 7: FC_POOL_FUSED(3, 2, 2, FUSED, x + first, o) break;                              \
    case 10: FC_POOL_FUSED(2, 3, 3, FUSED, x + first, o) break;                             \
    case 11: FC_POOL_FUSED(3, 3, 3, FUSED, x + first, o) break;                             \
    case 14: FC_POOL_FUSED(2, 3, 2, FUSED, x + first, o) break;                             \
    case 15: FC_POOL_FUSED(3, 3, 2, FUSED, x + first, o) break;                             \
    case 18: FC_POOL_FUSED(2, 2, 1, FUSED, x + first, o) break;                             \
    case 19: FC_POOL_FUSED(3, 2, 1, FUSED, x + first, o) break;                             \
    }
/* A fused loop's body for each of a window's WS0 (1 to 3) rows and WS1 (2 or 3) cols: written
 * out, so that the loop over the windows is vectorized */
#define FC_POOL_GRID_ROW(u, WS1, AT) AT(u, 0) AT(u, 1) if ((WS1) > 2) { AT(u, 2) }
#define FC_POOL_GRID(WS0, WS1, AT)                                                          \
    FC_POOL_GRID_ROW(0, WS1, AT)                                                            \
    if ((WS0) > 1) { FC_POOL_GRID_ROW(1, WS1, AT) }                                         \
    if ((WS0) > 2) { FC_POOL_GRID_ROW(2, WS1, AT) }
/* The taps in the perform's order (v after v, rows after rows): a max keeps NaN once met
 * (numpy's maximum), a sum adds in the same order. */
#define FC_POOL_MAX(a, xe)                                                                  \
    {                                                                                       \
        const fc_t x_ = (xe);                                                               \
        const fc_t m_ = x_ > (a) ? x_ : (a);                                                \
        (a) = x_ != x_ ? x_ : m_;                                                           \
    }
#define FC_POOL_MAX_TAP FC_POOL_MAX(o[j], x[e])
#define FC_POOL_MAX_AT(u, v) FC_POOL_MAX(a, xr[e0 + (u) * W + (v)])
#define FC_POOL_MAX_FUSED(WS0, WS1)                                                         \
    {                                                                                       \
        fc_t a = o[j];                                                                      \
        FC_POOL_GRID(WS0, WS1, FC_POOL_MAX_AT)                                              \
        o[j] = a;                                                                           \
    }
#define FC_POOL_SUM_TAP o[j] += x[e]
#define FC_POOL_SUM_AT(u, v) a += xr[e0 + (u) * W + (v)];
#define FC_POOL_SUM_FUSED(WS0, WS1)                                                         \
    {                                                                                       \
        fc_t a = o[j];                                                                      \
        FC_POOL_GRID(WS0, WS1, FC_POOL_SUM_AT)                                              \
        o[j] = a;                                                                           \
    }
/* MaxPoolGrad adds gz to the window's entries equal to its max (a select, which the loops
 * vectorize, where a product by the comparison would branch) */
#define FC_POOL_MAXGRAD_TAP o[e] += x[e] == z[j] ? gz[j] : (fc_t)0
#define FC_POOL_MAXGRAD_AT(u, v) orow[e0 + (v)] += xr[e0 + (v)] == zj ? gj : (fc_t)0;
#define FC_POOL_MAXGRAD_FUSED(WS0, WS1)                                                     \
    {                                                                                       \
        const fc_t zj = z[j];                                                               \
        const fc_t gj = gz[j];                                                              \
        FC_POOL_GRID(WS0, WS1, FC_POOL_MAXGRAD_AT)                                          \
    }
/* where the windows tile the output (`store`), each entry is stored once, unzeroed before,
 * as the perform stores windows that do not overlap */
#define FC_POOL_MAXGRAD_SET_AT(u, v) orow[e0 + (v)] = xr[e0 + (v)] == zj ? gj : (fc_t)0;
#define FC_POOL_MAXGRAD_SET(WS0, WS1)                                                       \
    {                                                                                       \
        const fc_t zj = z[j];                                                               \
        const fc_t gj = gz[j];                                                              \
        FC_POOL_GRID(WS0, WS1, FC_POOL_MAXGRAD_SET_AT)                                      \
    }
#define FC_POOL_AVG(j) (mode == 1 ? gz[j] : gz[j] / (fc_t)(rc * ccnt[j]))
#define FC_POOL_AVGGRAD_TAP o[e] += FC_POOL_AVG(j)
#define FC_POOL_AVGGRAD_AT(u, v) orow[e0 + (v)] += gj;
#define FC_POOL_AVGGRAD_FUSED(WS0, WS1)                                                     \
    {                                                                                       \
        const fc_t gj = FC_POOL_AVG(j);                                                     \
        FC_POOL_GRID(WS0, WS1, FC_POOL_AVGGRAD_AT)                                          \
    }
#define FC_POOL_AVGGRAD_SET_AT(u, v) orow[e0 + (v)] = gj;
#define FC_POOL_AVGGRAD_SET(WS0, WS1)                                                       \
    {                                                                                       \
        const fc_t gj = FC_POOL_AVG(j);                                                     \
        FC_POOL_GRID(WS0, WS1, FC_POOL_AVGGRAD_SET_AT)                                      \
    }

/* One plane (the last two dims) of each op, b the plane's number; `p` holds the operands' data
 * (contiguous): Pool x; MaxPoolGrad x, z, gz; AveragePoolGrad gz; MaxPoolGradGrad x, z, h.
 * A row of windows is folded one input row at a time into its outputs. A gradient is added back
 * row of windows by row, the last first, and within a row tap by tap (windows that overlap) or
 * window by window (windows that do not): each entry sums its windows' parts in the order the
 * perform does (the last window first). */
#define FC_POOL_PLANES(T, SFX)                                                              \
static void pool_fwd_##SFX(const PoolGeom *g, npy_intp b, char *const *p, char *o_)         \
{                                                                                           \
    typedef T fc_t;                                                                         \
    const npy_intp ja = g->ja, jb = g->jb, cpad = g->c.pad, cws = g->ws;                    \
    const npy_intp *jlo = g->c.jlo, *jhi = g->c.jhi;                                        \
    const int fused = g->fused, mode = g->mode, edges = !fused || ja > 0 || jb < g->c.n;    \
    const npy_intp W = g->c.in, ow = g->c.n, cst = g->c.st;                                 \
    const T *restrict x = (const T *)p[0] + b * g->r.in * W;                                \
    for (npy_intp i = 0, oh = g->r.n; i < oh; i++) {                                        \
        T *restrict o = (T *)o_ + (b * g->r.n + i) * ow;                                    \
        const T init = mode == 0 ? -(T)INFINITY : 0;                                        \
        for (npy_intp j = 0; j < ow; j++) o[j] = init;                                      \
        const npy_intp nr = g->r.hi[i] - g->r.lo[i];                                        \
        if (fused && (nr == 2 || nr == 3)) {                                                \
            const npy_intp rw = g->r.lo[i] * W;                                             \
            if (mode == 0) {                                                                \
                FC_POOL_BLOCK(FC_POOL_MAX_FUSED)                                            \
            } else {                                                                        \
                FC_POOL_BLOCK(FC_POOL_SUM_FUSED)                                            \
            }                                                                               \
        }                                                                                   \
        for (npy_intp r = g->r.lo[i], r1 = g->r.hi[i]; r < r1; r++) {                       \
            const npy_intp rw = r * W;                                                      \
            if (fused && (nr == 2 || nr == 3)) {                                            \
                if (!edges) break;  /* no windows outside ja..jb */                         \
                if (mode == 0) {                                                            \
                    FC_POOL_TAPS(ja, jb, FC_POOL_MAX_TAP)                                   \
                } else {                                                                    \
                    FC_POOL_TAPS(ja, jb, FC_POOL_SUM_TAP)                                   \
                }                                                                           \
            } else if (mode == 0) {                                                         \
                FC_POOL_ROW(FC_POOL_MAX_FUSED, FC_POOL_MAX_TAP, x + first, o)               \
            } else {                                                                        \
                FC_POOL_ROW(FC_POOL_SUM_FUSED, FC_POOL_SUM_TAP, x + first, o)               \
            }                                                                               \
        }                                                                                   \
        if (mode >= 2)                                                                      \
            for (npy_intp j = 0; j < ow; j++) o[j] /= (T)(g->r.cnt[i] * g->c.cnt[j]);       \
    }                                                                                       \
}                                                                                           \
static void pool_maxgrad_##SFX(const PoolGeom *g, npy_intp b, char *const *p, char *o_)     \
{                                                                                           \
    typedef T fc_t;                                                                         \
    const npy_intp ja = g->ja, jb = g->jb, cpad = g->c.pad, cws = g->ws;                    \
    const npy_intp *jlo = g->c.jlo, *jhi = g->c.jhi;                                        \
    const int fused = g->fused, edges = !fused || ja > 0 || jb < g->c.n;                    \
    const npy_intp W = g->c.in, ow = g->c.n, cst = g->c.st, xo = b * g->r.in * W;           \
    const T *restrict x = (const T *)p[0] + xo;                                             \
    T *restrict o = (T *)o_ + xo;                                                           \
    for (npy_intp i = g->r.n - 1; i >= 0; i--) {                                            \
        const T *restrict z = (const T *)p[1] + (b * g->r.n + i) * ow;                      \
        const T *restrict gz = (const T *)p[2] + (b * g->r.n + i) * ow;                     \
        for (npy_intp r = g->r.lo[i], r1 = g->r.hi[i]; r < r1; r++) {                       \
            const npy_intp rw = r * W;                                                      \
            if (g->store) {                                                                 \
                FC_POOL_ROW(FC_POOL_MAXGRAD_SET, FC_POOL_MAXGRAD_TAP, x + first, o + first) \
            } else {                                                                        \
                FC_POOL_ROW(FC_POOL_MAXGRAD_FUSED, FC_POOL_MAXGRAD_TAP, x + first, o + first) \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
}                                                                                           \
static void pool_avggrad_##SFX(const PoolGeom *g, npy_intp b, char *const *p, char *o_)     \
{                                                                                           \
    typedef T fc_t;                                                                         \
    const npy_intp ja = g->ja, jb = g->jb, cpad = g->c.pad, cws = g->ws;                    \
    const npy_intp *jlo = g->c.jlo, *jhi = g->c.jhi;                                        \
    const int fused = g->fused, mode = g->mode, edges = !fused || ja > 0 || jb < g->c.n;    \
    const npy_intp W = g->c.in, ow = g->c.n, cst = g->c.st;                                 \
    T *restrict o = (T *)o_ + b * g->r.in * W;                                              \
    for (npy_intp i = g->r.n - 1; i >= 0; i--) {                                            \
        const T *restrict gz = (const T *)p[0] + (b * g->r.n + i) * ow;                     \
        const npy_intp rc = g->r.cnt[i], *ccnt = g->c.cnt;                                  \
        for (npy_intp r = g->r.lo[i], r1 = g->r.hi[i]; r < r1; r++) {                       \
            const npy_intp rw = r * W;                                                      \
            if (g->store) {                                                                 \
                FC_POOL_ROW(FC_POOL_AVGGRAD_SET, FC_POOL_AVGGRAD_TAP, o + first, o + first) \
            } else {                                                                        \
                FC_POOL_ROW(FC_POOL_AVGGRAD_FUSED, FC_POOL_AVGGRAD_TAP, o + first, o + first) \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
}                                                                                           \
static void pool_maxgradgrad_##SFX(const PoolGeom *g, npy_intp b, char *const *p, char *o_) \
{                                                                                           \
    const npy_intp cpad = g->c.pad, cws = g->ws, *jlo = g->c.jlo, *jhi = g->c.jhi;          \
    const npy_intp W = g->c.in, ow = g->c.n, cst = g->c.st, xo = b * g->r.in * W;           \
    const T *restrict x = (const T *)p[0] + xo, *restrict h = (const T *)p[2] + xo;         \
    for (npy_intp i = 0, oh = g->r.n; i < oh; i++) {                                        \
        const T *restrict z = (const T *)p[1] + (b * g->r.n + i) * ow;                      \
        T *restrict o = (T *)o_ + (b * g->r.n + i) * ow;                                    \
        for (npy_intp j = 0; j < ow; j++) o[j] = 0;                                         \
        for (npy_intp r = g->r.lo[i], r1 = g->r.hi[i]; r < r1; r++) {                       \
            const npy_intp rw = r * W;                                                      \
            FC_POOL_TAPS(0, 0, o[j] += x[e] == z[j] ? h[e] : 0)                             \
        }                                                                                   \
    }                                                                                       \
}
FC_POOL_PLANES(npy_float64, f64)
FC_POOL_PLANES(npy_float32, f32)
#undef FC_POOL_PLANES
#undef FC_POOL_AVGGRAD_FUSED
#undef FC_POOL_AVGGRAD_AT
#undef FC_POOL_AVGGRAD_SET
#undef FC_POOL_AVGGRAD_SET_AT
#undef FC_POOL_AVGGRAD_TAP
#undef FC_POOL_AVG
#undef FC_POOL_MAXGRAD_FUSED
#undef FC_POOL_MAXGRAD_AT
#undef FC_POOL_MAXGRAD_SET
#undef FC_POOL_MAXGRAD_SET_AT
#undef FC_POOL_MAXGRAD_TAP
#undef FC_POOL_SUM_FUSED
#undef FC_POOL_SUM_AT
#undef FC_POOL_SUM_TAP
#undef FC_POOL_MAX_FUSED
#undef FC_POOL_MAX_AT
#undef FC_POOL_MAX_TAP
#undef FC_POOL_MAX
#undef FC_POOL_ROW
#undef FC_POOL_FUSED
#undef FC_POOL_GRID
#undef FC_POOL_GRID_ROW
#undef FC_POOL_BLOCK
#undef FC_POOL_TAPS

/* Which of FC_POOL_ROW's fused loops fits windows of `ws` cols every `st` (0: none); a
 * gradient's only where windows do not overlap (one window's writes per entry and row). */
static int pool_fused(npy_intp ws, npy_intp st, int grad)
{
    static const npy_intp shapes[4][2] = {{2, 2}, {3, 3}, {3, 2}, {2, 1}};
    if (grad && st < ws) return 0;
    for (int k = 0; k < 4; k++)
        if (shapes[k][0] == ws && shapes[k][1] == st) return k + 1;
    return 0;
}

typedef void (*pool_fn)(const PoolGeom *g, npy_intp b, char *const *p, char *o);

static int run_pool(Runner *self, Step *s, PyArrayObject **v)
{
    /* ints: index into performs, the output typenum, the op (pool.POOL_OPS: 0 Pool,
     * 1 MaxPoolGrad, 2 AveragePoolGrad, 3 MaxPoolGradGrad), the mode (pool.MODES), ws, stride
     * and pad (rows, cols), ignore_border. Float operands of one dtype, whose windowed operands
     * have the window counts of x's shape and the same leading dims, are pooled here; anything
     * else (integers, mixed dtypes, shapes the perform broadcasts or refuses) runs the op's
     * perform. */
    /* per op, the inputs it reads, and per input whether it has the windows' shape (else x's) */
    static const int reads[4][3] = {{0, -1, -1}, {0, 1, 2}, {1, -1, -1}, {0, 1, 2}};
    static const int windowed[4][3] = {{0, 0, 0}, {0, 1, 1}, {0, 1, 0}, {0, 1, 0}};
    if (s->nints < 11 || s->nin < 1) return run_perform(self, s, v);
    const int t = s->ints[1], op = s->ints[2], mode = s->ints[3], ib = s->ints[10];
    const npy_intp ws[2] = {s->ints[4], s->ints[5]}, st[2] = {s->ints[6], s->ints[7]};
    const npy_intp pad[2] = {s->ints[8], s->ints[9]};
    if ((t != NPY_FLOAT64 && t != NPY_FLOAT32) || op < 0 || op > 3 || mode < 0 || mode > 3
        || s->nin != (op == 0 ? 1 : op == 2 ? 2 : 3) || ws[0] < 1 || ws[1] < 1 || st[0] < 1 || st[1] < 1)
        return run_perform(self, s, v);
    PyArrayObject *x = v[s->in[0]];
    const int nd = PyArray_NDIM(x);
    if (nd < 2) return run_perform(self, s, v);
    PoolGeom g;
    g.mode = mode;
    g.ws = ws[1];
    g.r.st = st[0], g.r.pad = pad[0], g.c.st = st[1], g.c.pad = pad[1];
    g.r.in = PyArray_DIM(x, nd - 2);
    g.c.in = PyArray_DIM(x, nd - 1);
    g.r.n = pool_out_size(g.r.in + 2 * pad[0], ws[0], st[0], ib);
    g.c.n = pool_out_size(g.c.in + 2 * pad[1], ws[1], st[1], ib);
    npy_intp wdims[NPY_MAXDIMS], planes = 1;
    for (int d = 0; d < nd - 2; d++) planes *= (wdims[d] = PyArray_DIM(x, d));
    wdims[nd - 2] = g.r.n;
    wdims[nd - 1] = g.c.n;
    PyArrayObject *a[3] = {NULL, NULL, NULL};
    for (int k = 0; k < 3 && reads[op][k] >= 0; k++) {
        PyArrayObject *u = v[s->in[reads[op][k]]];
        if (PyArray_TYPE(u) != t || !PyArray_ISNOTSWAPPED(u) || !PyArray_ISALIGNED(u) || PyArray_NDIM(u) != nd
            || !fc_same_dims(PyArray_DIMS(u), windowed[op][reads[op][k]] ? wdims : PyArray_DIMS(x), nd))
            return run_perform(self, s, v);
    }
    const int out_windowed = op == 0 || op == 3;
    PyArrayObject *out = fc_out(self, v, s->out[0], nd, out_windowed ? wdims : PyArray_DIMS(x), t, -1);
    npy_intp *bounds = out ? malloc(sizeof(npy_intp) * (3 * (g.r.n + g.c.n) + 2 * (ws[0] + ws[1]))) : NULL;
    int ok = bounds != NULL;
    if (out && !bounds) PyErr_NoMemory();
    for (int k = 0; ok && k < 3 && reads[op][k] >= 0; k++)
        ok = (a[k] = PyArray_GETCONTIGUOUS(v[s->in[reads[op][k]]])) != NULL;
    if (ok) {
        g.r.lo = bounds, g.r.hi = g.r.lo + g.r.n, g.r.cnt = g.r.hi + g.r.n;
        g.r.jlo = g.r.cnt + g.r.n, g.r.jhi = g.r.jlo + ws[0];
        g.c.lo = g.r.jhi + ws[0], g.c.hi = g.c.lo + g.c.n, g.c.cnt = g.c.hi + g.c.n;
        g.c.jlo = g.c.cnt + g.c.n, g.c.jhi = g.c.jlo + ws[1];
        pool_axis(&g.r, ws[0], mode == 2);
        pool_axis(&g.c, ws[1], mode == 2);
        g.fused = op == 3 ? 0 : pool_fused(ws[1], st[1], op != 0);
        g.ja = g.c.jlo[0];
        g.jb = g.c.jhi[ws[1] - 1];
        if (!g.fused || g.ja >= g.jb) g.fused = 0, g.ja = g.jb = 0;
        /* a gradient's windows tile x (no padding, strides equal to the window, every row
         * and col in a window, no window cut at the border): no zeros first */
        g.store = !out_windowed && g.fused && pad[0] == 0 && pad[1] == 0 && st[0] == ws[0]
                  && st[1] == ws[1] && g.ja == 0 && g.jb == g.c.n && g.r.n * ws[0] >= g.r.in
                  && g.c.n * ws[1] >= g.c.in;
        if (!out_windowed && !g.store) memset(PyArray_DATA(out), 0, PyArray_NBYTES(out));
        static const pool_fn fns[2][4] = {
            {pool_fwd_f64, pool_maxgrad_f64, pool_avggrad_f64, pool_maxgradgrad_f64},
            {pool_fwd_f32, pool_maxgrad_f32, pool_avggrad_f32, pool_maxgradgrad_f32}};
        const pool_fn f = fns[t == NPY_FLOAT32][op];
        char *p[3] = {NULL, NULL, NULL};
        for (int k = 0; k < 3; k++) p[k] = a[k] ? PyArray_DATA(a[k]) : NULL;
        char *po = PyArray_DATA(out);
        /* each plane's reads and writes: the work the choice of threads weighs */
        const npy_intp n = planes * (g.r.in * g.c.in + g.r.n * g.c.n);
        const ThreadChoice c = planes > 1 ? choose_threads(self, s, n) : (ThreadChoice){0, 0, 0};
        PyThreadState *ts = release_gil(s, n);
        if (c.threads) {
            /* An equal run of planes per thread. */
            #pragma omp parallel num_threads(self->nthreads)
            {
                const int nt = fc_team_size(), me = fc_thread_num();
                const npy_intp lo = planes * me / nt, hi = planes * (me + 1) / nt;
                for (npy_intp b = lo; b < hi; b++) f(&g, b, p, po);
            }
        } else
            for (npy_intp b = 0; b < planes; b++) f(&g, b, p, po);
        if (ts) PyEval_RestoreThread(ts);
        choice_done(s, c, n);
    }
    free(bounds);
    for (int k = 0; k < 3; k++) Py_XDECREF(a[k]);
    if (!ok) {
        Py_XDECREF(out);
        return -1;
    }
    v[s->out[0]] = out;
    return 0;
}

int fc_run_step(Runner *self, Step *s, PyArrayObject **v)
{
    switch (s->kind) {
    case ST_ELEMWISE: return run_elemwise(self, s, v);
    case ST_REDUCE: return run_reduce(self, s, v);
    case ST_DOT: return run_dot(s, v);
    case ST_ARGREDUCE: return run_argreduce(s, v);
    case ST_DIMSHUFFLE: return run_dimshuffle(s, v);
    case ST_SUM_TO_SHAPE: return run_sum_to_shape(self, s, v);
    case ST_REDUCED_SIZE: return run_reduced_size(self, s, v);
    case ST_ROWPASS: return run_rowpass(self, s, v);
    case ST_SHAPE: return run_shape(s, v);
    case ST_RESHAPE: return run_reshape(self, s, v);
    case ST_SUBTENSOR_GRAD: return run_subtensor_grad(self, s, v);
    case ST_SUBTENSOR: return run_subtensor(self, s, v);
    case ST_MAKE_VECTOR: return run_make_vector(self, s, v);
    case ST_ALLOC: return run_alloc(self, s, v);
    case ST_CONCATENATE: return run_concatenate(self, s, v);
    case ST_SPECIFY_SHAPE: return run_specify_shape(self, s, v);
    case ST_ASSERT: return run_assert(self, s, v);
    case ST_ARANGE: return run_arange(self, s, v);
    case ST_TENSORDOT: return run_tensordot(self, s, v);
    case ST_ADV_INDEX: return run_adv_index(self, s, v);
    case ST_CUMOP: return run_cumop(self, s, v);
    case ST_EYE: return run_eye(self, s, v);
    case ST_REPEAT: return run_repeat(self, s, v);
    case ST_TILE: return run_tile(self, s, v);
    case ST_REPEAT_GRAD: return run_repeat_grad(self, s, v);
    case ST_SORT: return run_sort(self, s, v);
    case ST_SORT_GRAD: return run_sort_grad(self, s, v);
    case ST_MATMUL: return run_matmul(self, s, v);
    case ST_POOL: return run_pool(self, s, v);
    case ST_RANDOM: {
        const int rc = fc_random_step(s, v, self->nthreads);
        return rc > 0 ? run_perform(self, s, v) : rc;
    }
    default: return run_perform(self, s, v);
    }
}
