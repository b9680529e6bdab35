/* fncache's random numbers: Philox4x64-10 (Salmon, Moraes, Dror and Shaw, "Parallel random
 * numbers: as easy as 1, 2, 3", SC 2011) and the transforms of fc.RandomStream.
 *
 * A stream is counter-based: element i of a draw is a pure function of the key (the stream's
 * seed, the variable's number), the call counter and i, so the numbers do not depend on how a
 * draw is split over threads, and a draw costs no state but the counter. Element i's first
 * 64-bit word is word i % 4 of the Philox block at counter (i / 4, call, 0, 0); when a
 * transform rejects it (the ziggurat's wedges and tail, Lemire's rejection), it takes further
 * words from the blocks at (i, call, a, 0) for a = 1, 2, ... -- a word stream of its own that no
 * other element touches.
 *
 * Every result must be the same bits on every x86-64 host: the transforms use + - * / and sqrt
 * only (IEEE-754, correctly rounded), with exp and log of this file rather than libm's (glibc
 * picks its exp and log by the CPU's features), and this file is compiled with
 * -ffp-contract=off (setup.py) so a compiler cannot fuse a multiply and an add.
 */
#include "c_runtime.h"
#include <math.h>
#include <pthread.h>
#include <stdint.h>

/* ---- Philox4x64-10 ------------------------------------------------------------------- */

#define PHILOX_M0 0xD2E7470EE14C6C93ULL
#define PHILOX_M1 0xCA5A826395121157ULL
#define PHILOX_W0 0x9E3779B97F4A7C15ULL
#define PHILOX_W1 0xBB67AE8584CAA73BULL

typedef struct { uint64_t k0, k1, call; } Stream;

static inline void philox(uint64_t c0, uint64_t c1, uint64_t c2, uint64_t c3, uint64_t k0,
                          uint64_t k1, uint64_t out[4])
{
    for (int r = 0; r < 10; r++) {
        __uint128_t p0 = (__uint128_t)PHILOX_M0 * c0, p1 = (__uint128_t)PHILOX_M1 * c2;
        uint64_t n0 = (uint64_t)(p1 >> 64) ^ c1 ^ k0, n2 = (uint64_t)(p0 >> 64) ^ c3 ^ k1;
        c1 = (uint64_t)p1;
        c3 = (uint64_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* The words of PHILOX_RUN consecutive blocks at counters (blk + j, call, 0, 0), computed
 * side by side: one block's rounds are a chain of dependent multiplies, several keep the
 * multiplier busy. */
#define PHILOX_RUN 2
static inline void philox_run(const Stream *s, uint64_t blk, uint64_t w[4 * PHILOX_RUN])
{
    uint64_t c0[PHILOX_RUN], c1[PHILOX_RUN], c2[PHILOX_RUN], c3[PHILOX_RUN];
    uint64_t k0 = s->k0, k1 = s->k1;
    for (int j = 0; j < PHILOX_RUN; j++) {
        c0[j] = blk + (uint64_t)j;
        c1[j] = s->call;
        c2[j] = c3[j] = 0;
    }
    for (int r = 0; r < 10; r++) {
        #pragma GCC unroll 8
        for (int j = 0; j < PHILOX_RUN; j++) {
            __uint128_t p0 = (__uint128_t)PHILOX_M0 * c0[j], p1 = (__uint128_t)PHILOX_M1 * c2[j];
            uint64_t n0 = (uint64_t)(p1 >> 64) ^ c1[j] ^ k0, n2 = (uint64_t)(p0 >> 64) ^ c3[j] ^ k1;
            c1[j] = (uint64_t)p1;
            c3[j] = (uint64_t)p0;
            c0[j] = n0;
            c2[j] = n2;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    for (int j = 0; j < PHILOX_RUN; j++) {
        w[4 * j] = c0[j]; w[4 * j + 1] = c1[j]; w[4 * j + 2] = c2[j]; w[4 * j + 3] = c3[j];
    }
}

/* Element i's a-th block of further words (a >= 1). */
static inline void extra(const Stream *s, uint64_t i, uint64_t a, uint64_t out[4])
{
    philox(i, s->call, a, 0, s->k0, s->k1, out);
}

/* Uniform on [0, 1) with a 53-bit mantissa, and on (0, 1] (for log). */
static inline double u01(uint64_t w) { return (double)(int64_t)(w >> 11) * 0x1p-53; }
static inline double u01_open(uint64_t w) { return (double)(int64_t)((w >> 11) + 1) * 0x1p-53; }

/* ---- exp and log, the same bits everywhere -------------------------------------------- */

static const double LN2_HI = 0x1.62e42fefa3800p-1, LN2_LO = 0x1.ef35793c76730p-45;

/* 2**k for -1022 <= k <= 1023 */
static inline double pow2i(int64_t k)
{
    union { uint64_t u; double d; } v = {.u = (uint64_t)(k + 1023) << 52};
    return v.d;
}

/* exp(y) for -700 <= y <= 0 (the normal density's range here): y = k ln2 + t, |t| <= ln2/2,
 * exp(t) by its Taylor series to degree 13 (error below 2e-16 relative). */
static double fc_exp(double y)
{
    double kf = y * 0x1.71547652b82fep0;               /* y / ln2 */
    int64_t k = (int64_t)(kf < 0 ? kf - 0.5 : kf + 0.5);
    double t = (y - (double)k * LN2_HI) - (double)k * LN2_LO;
    double p = 1.0 / 6227020800.0;                       /* 1/13! */
    static const double inv_fact[13] = {
        1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
        1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
    for (int j = 0; j < 13; j++) p = p * t + inv_fact[j];
    return p * pow2i(k);
}

/* log(x) for a positive normal x: x = 2**e m, sqrt(1/2) <= m < sqrt(2), and
 * log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, by its series to s**23. */
static double fc_log(double x)
{
    union { double d; uint64_t u; } v = {.d = x};
    int64_t e = (int64_t)(v.u >> 52) - 1023;
    v.u = (v.u & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL;
    double m = v.d;
    if (m > 0x1.6a09e667f3bcdp0) {                      /* sqrt(2) */
        m *= 0.5;
        e += 1;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, p = 1.0 / 23.0;
    for (int j = 21; j >= 1; j -= 2) p = p * s2 + 1.0 / j;
    double ef = (double)e;
    return ef * LN2_HI + (ef * LN2_LO + 2.0 * s * p);
}

/* log of any double (0: -inf, below 0 or NaN: NaN, inf: inf), by fc_log: a subnormal is
 * scaled by 2**64 first. */
static double fc_log_any(double x)
{
    if (!(x > 0.0)) return x == 0.0 ? -INFINITY : NAN;
    if (isinf(x)) return x;
    if (x < 0x1p-1022) return fc_log(x * 0x1p64) - 64.0 * LN2_HI - 64.0 * LN2_LO;
    return fc_log(x);
}

/* exp of any double by fc_exp (whose series holds for any y; only its 2**k needs a normal
 * k): beyond -708 and 709, 2**k is applied in two exact steps, so an underflow to a subnormal
 * is rounded once. */
static double fc_exp_any(double y)
{
    if (y != y) return y;
    if (y > 709.8) return INFINITY;
    if (y < -745.2) return 0.0;
    if (y >= -708.0 && y <= 709.0) return fc_exp(y);
    double kf = y * 0x1.71547652b82fep0;
    int64_t k = (int64_t)(kf < 0 ? kf - 0.5 : kf + 0.5);
    double p = fc_exp((y - (double)k * LN2_HI) - (double)k * LN2_LO);
    return k > 0 ? (p * pow2i(k - 64)) * 0x1p64 : (p * pow2i(k + 64)) * 0x1p-64;
}

/* ---- the normal ziggurat (Marsaglia and Tsang, 2000), 256 strips ---------------------- */

/* The base strip's right edge and every strip's area: the ziggurat of 256 strips under
 * exp(-x*x/2). ZIG_V = R exp(-R*R/2) + integral from R to infinity of exp(-x*x/2). */
#define ZIG_N 256
static const double ZIG_R = 3.6541528853610088, ZIG_INV_R = 0.2736612373297583,
                    ZIG_V = 0.004928673233974658;
/* Strip i: a word's 52-bit magnitude r gives x = r * zig_w[i]; r < zig_k[i] lies under the
 * curve; zig_f[i] = exp(-x_i*x_i/2) at the strip's edge. Computed once with fc_exp/fc_log. */
static uint64_t zig_k[ZIG_N];
static double zig_w[ZIG_N], zig_f[ZIG_N];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_tables(void)
{
    const double m = 0x1p52;
    double dn = ZIG_R, tn = dn, q = ZIG_V / fc_exp(-0.5 * dn * dn);
    zig_k[0] = (uint64_t)((dn / q) * m);
    zig_k[1] = 0;
    zig_w[0] = q / m;
    zig_w[ZIG_N - 1] = dn / m;
    zig_f[0] = 1.0;
    zig_f[ZIG_N - 1] = fc_exp(-0.5 * dn * dn);
    for (int i = ZIG_N - 2; i >= 1; i--) {
        dn = sqrt(-2.0 * fc_log(ZIG_V / dn + fc_exp(-0.5 * dn * dn)));
        zig_k[i + 1] = (uint64_t)((dn / tn) * m);
        tn = dn;
        zig_f[i] = fc_exp(-0.5 * dn * dn);
        zig_w[i] = dn / m;
    }
}

/* A word's strip (its low 8 bits), sign (bit 8) and 52-bit magnitude (bits 9-60). */
#define ZIG_STRIP(w) ((unsigned)((w) & 0xFF))
#define ZIG_MAG(w) (((w) >> 9) & 0x000FFFFFFFFFFFFFULL)
/* x = magnitude * width, its sign bit set from the word's bit 8 without a branch (a random
 * sign would be a mispredicted branch every other element). */
static inline double zig_x(uint64_t w)
{
    union { double d; uint64_t u; } v = {.d = (double)(int64_t)ZIG_MAG(w) * zig_w[ZIG_STRIP(w)]};
    v.u ^= (w & 0x100) << 55;
    return v.d;
}

/* Element i's normal when its first word w fell outside its strip's rectangle (about 1% of
 * elements): the wedge test, the tail (Marsaglia's method) or a new word, from i's own blocks. */
static double normal_slow(const Stream *s, uint64_t i, uint64_t w)
{
    uint64_t b[4];
    for (uint64_t a = 1;; a++) {
        unsigned strip = ZIG_STRIP(w);
        extra(s, i, a, b);
        if (strip == 0) {
            for (;;) {
                double xx = -fc_log(u01_open(b[0])) * ZIG_INV_R, yy = -fc_log(u01_open(b[1]));
                if (yy + yy > xx * xx) return ((w >> 8) & 1) ? -(ZIG_R + xx) : ZIG_R + xx;
                extra(s, i, ++a, b);
            }
        }
        double x = zig_x(w);
        if (zig_f[strip] + u01(b[0]) * (zig_f[strip - 1] - zig_f[strip]) < fc_exp(-0.5 * x * x))
            return x;
        w = b[1];
        if (ZIG_MAG(w) < zig_k[ZIG_STRIP(w)]) return zig_x(w);
    }
}

static inline double normal_at(const Stream *s, uint64_t i, uint64_t w)
{
    if (ZIG_MAG(w) < zig_k[ZIG_STRIP(w)]) return zig_x(w);
    return normal_slow(s, i, w);
}

/* ---- bounded integers (Lemire, 2019) ----------------------------------------------------- */

/* A uniform integer in [0, span] from element i's word w, unbiased: Lemire's multiply, and
 * on rejection (probability below (span + 1) / 2**64) words from i's own blocks. */
static inline uint64_t bounded_at(const Stream *s, uint64_t i, uint64_t w, uint64_t span)
{
    if (span == UINT64_MAX) return w;
    const uint64_t m = span + 1;
    __uint128_t p = (__uint128_t)w * m;
    if ((uint64_t)p < m) {
        const uint64_t t = (0 - m) % m;
        uint64_t b[4];
        for (uint64_t a = 1; (uint64_t)p < t; a++) {
            extra(s, i, a, b);
            p = (__uint128_t)b[0] * m;
        }
    }
    return (uint64_t)(p >> 64);
}

/* ---- filling arrays -------------------------------------------------------------------- */

enum { FILL_UNIFORM = 0, FILL_NORMAL = 1, FILL_EXPONENTIAL = 2, FILL_BOUNDED = 3 };

typedef struct {
    int kind, single;        /* single: float32 output */
    double a, b;             /* uniform: low, high; normal: loc, scale */
    uint64_t span;           /* bounded: the largest value, when spans is NULL */
    const uint64_t *spans;   /* bounded: per-element largest values, or NULL */
    void *out;
} Fill;

static inline __attribute__((always_inline))
void put(const Fill *f, int kind, const Stream *s, uint64_t i, uint64_t w)
{
    switch (kind) {
    case FILL_UNIFORM:
        if (f->single) {
            float lo = (float)f->a, hi = (float)f->b;
            ((float *)f->out)[i] = lo + (hi - lo) * ((float)(int32_t)(w >> 40) * 0x1p-24f);
        } else ((double *)f->out)[i] = f->a + (f->b - f->a) * u01(w);
        break;
    case FILL_NORMAL:
        if (f->single)
            ((float *)f->out)[i] = (float)f->a + (float)f->b * (float)normal_at(s, i, w);
        else ((double *)f->out)[i] = f->a + f->b * normal_at(s, i, w);
        break;
    case FILL_EXPONENTIAL:
        ((double *)f->out)[i] = -fc_log(u01_open(w));
        break;
    default:
        ((uint64_t *)f->out)[i] = bounded_at(s, i, w, f->spans ? f->spans[i] : f->span);
    }
}

/* Elements [lo, hi) of one kind (a constant where it is inlined): runs of whole blocks, and
 * single blocks at either end. */
static inline __attribute__((always_inline))
void fill_kind(const Fill *f, int kind, const Stream *s, npy_intp lo, npy_intp hi)
{
    uint64_t w[4 * PHILOX_RUN];
    const npy_intp run = 4 * PHILOX_RUN;
    npy_intp i = lo;
    while (i < hi) {
        if ((i & (run - 1)) == 0 && i + run <= hi) {
            philox_run(s, (uint64_t)i >> 2, w);
            for (int j = 0; j < run; j++) put(f, kind, s, (uint64_t)(i + j), w[j]);
            i += run;
            continue;
        }
        const uint64_t blk = (uint64_t)i >> 2;
        philox(blk, s->call, 0, 0, s->k0, s->k1, w);
        const npy_intp end = (npy_intp)(blk * 4 + 4) < hi ? (npy_intp)(blk * 4 + 4) : hi;
        for (; i < end; i++) put(f, kind, s, (uint64_t)i, w[i & 3]);
    }
}

static void fill_range(const Fill *f, const Stream *s, npy_intp lo, npy_intp hi)
{
    switch (f->kind) {
    case FILL_UNIFORM: fill_kind(f, FILL_UNIFORM, s, lo, hi); break;
    case FILL_NORMAL: fill_kind(f, FILL_NORMAL, s, lo, hi); break;
    case FILL_EXPONENTIAL: fill_kind(f, FILL_EXPONENTIAL, s, lo, hi); break;
    default: fill_kind(f, FILL_BOUNDED, s, lo, hi);
    }
}

/* philox((c0, c1, c2, c3), (k0, k1)) -> (x0, x1, x2, x3): one block, for known-answer tests. */
PyObject *fc_random_philox(PyObject *mod, PyObject *args)
{
    unsigned long long c[4], k[2];
    uint64_t out[4];
    (void)mod;
    if (!PyArg_ParseTuple(args, "(KKKK)(KK):philox", &c[0], &c[1], &c[2], &c[3], &k[0], &k[1]))
        return NULL;
    philox(c[0], c[1], c[2], c[3], k[0], k[1], out);
    return Py_BuildValue("(KKKK)", (unsigned long long)out[0], (unsigned long long)out[1],
                         (unsigned long long)out[2], (unsigned long long)out[3]);
}

static int parse_stream(PyObject *key, unsigned long long call, Stream *s)
{
    unsigned long long k0, k1;
    if (!PyArg_ParseTuple(key, "KK;key must be (seed, variable)", &k0, &k1)) return -1;
    s->k0 = k0;
    s->k1 = k1;
    s->call = call;
    return 0;
}

static int check_out(PyArrayObject *out, int typenum, const char *what)
{
    if (!PyArray_IS_C_CONTIGUOUS(out) || !PyArray_ISWRITEABLE(out)
        || PyArray_TYPE(out) != typenum) {
        PyErr_Format(PyExc_ValueError, "random fill: %s wants a writeable C-contiguous %s array",
                     what, typenum == NPY_FLOAT ? "float32"
                           : typenum == NPY_UINT64 ? "uint64" : "float64 (or float32)");
        return -1;
    }
    return 0;
}

/* fill(kind, out, (seed, variable), call, nthreads, a, b): every element of the C-contiguous
 * out drawn by element index. kind 0: a + (b - a) * U[0, 1) (float64 or float32); 1: a + b * z,
 * z standard normal; 2: standard exponential (float64); 3: uint64 in [0, b], b an int or a
 * uint64 array of out's size (per element). nthreads 0: every core. */
PyObject *fc_random_fill(PyObject *mod, PyObject *args)
{
    PyArrayObject *out;
    PyObject *key, *bobj;
    unsigned long long call;
    int kind, nthreads;
    double a = 0.0;
    Stream s;
    Fill f = {0};
    PyArrayObject *spans = NULL;
    (void)mod;
    if (fc_numpy_ready() < 0) return NULL;
    if (!PyArg_ParseTuple(args, "iO!OKidO:fill", &kind, &PyArray_Type, &out, &key, &call,
                          &nthreads, &a, &bobj)
        || parse_stream(key, call, &s) < 0)
        return NULL;
    f.kind = kind;
    f.a = a;
    f.out = PyArray_DATA(out);
    f.single = PyArray_TYPE(out) == NPY_FLOAT;
    if (kind == FILL_UNIFORM || kind == FILL_NORMAL) {
        if (check_out(out, f.single ? NPY_FLOAT : NPY_DOUBLE, "uniform/normal") < 0) return NULL;
        f.b = PyFloat_AsDouble(bobj);
        if (f.b == -1.0 && PyErr_Occurred()) return NULL;
    } else if (kind == FILL_EXPONENTIAL) {
        if (check_out(out, NPY_DOUBLE, "exponential") < 0) return NULL;
    } else if (kind == FILL_BOUNDED) {
        if (check_out(out, NPY_UINT64, "bounded") < 0) return NULL;
        if (PyArray_Check(bobj)) {
            spans = (PyArrayObject *)bobj;
            if (check_out(spans, NPY_UINT64, "bounded's spans") < 0) return NULL;
            if (PyArray_SIZE(spans) != PyArray_SIZE(out)) {
                PyErr_SetString(PyExc_ValueError, "random fill: spans and out differ in size");
                return NULL;
            }
            f.spans = (const uint64_t *)PyArray_DATA(spans);
        } else {
            f.span = PyLong_AsUnsignedLongLong(bobj);
            if (PyErr_Occurred()) return NULL;
        }
    } else {
        PyErr_Format(PyExc_ValueError, "random fill: no kind %d", kind);
        return NULL;
    }
    pthread_once(&zig_once, zig_tables);
    const npy_intp n = PyArray_SIZE(out);
#ifdef _OPENMP
    if (nthreads <= 0) nthreads = omp_get_num_procs();
#endif
    Py_BEGIN_ALLOW_THREADS
    if (fc_parallel_ok(n, nthreads)) {
        const int K = fc_nchunks(n, nthreads);
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
        for (int k = 0; k < K; k++) fill_range(&f, &s, fc_chunk_at(n, k, K), fc_chunk_at(n, k + 1, K));
    } else fill_range(&f, &s, 0, n);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* shuffle(out, n, (seed, variable), call): out (int64, k <= n elements) = the first k of a
 * Fisher-Yates shuffle of 0..n-1, step j swapping j with j + (element j's integer in
 * [0, n - 1 - j]); k = n gives a permutation. */
PyObject *fc_random_shuffle(PyObject *mod, PyObject *args)
{
    PyArrayObject *out;
    PyObject *key;
    unsigned long long call;
    Py_ssize_t n;
    Stream s;
    (void)mod;
    if (fc_numpy_ready() < 0) return NULL;
    if (!PyArg_ParseTuple(args, "O!nOK:shuffle", &PyArray_Type, &out, &n, &key, &call)
        || parse_stream(key, call, &s) < 0 || check_out(out, NPY_INT64, "shuffle") < 0)
        return NULL;
    const npy_intp k = PyArray_SIZE(out);
    if (n < 0 || k > n) {
        PyErr_Format(PyExc_ValueError, "random shuffle: cannot take %zd of %zd", (Py_ssize_t)k, n);
        return NULL;
    }
    int64_t *idx = k == n ? (int64_t *)PyArray_DATA(out) : PyMem_RawMalloc((n ? n : 1) * 8);
    if (!idx) return PyErr_NoMemory();
    Py_BEGIN_ALLOW_THREADS
    uint64_t w[4];
    for (npy_intp j = 0; j < n; j++) idx[j] = j;
    for (npy_intp j = 0; j < k && j + 1 < n; j++) {
        if ((j & 3) == 0) philox((uint64_t)j >> 2, s.call, 0, 0, s.k0, s.k1, w);
        npy_intp r = j + (npy_intp)bounded_at(&s, (uint64_t)j, w[j & 3], (uint64_t)(n - 1 - j));
        int64_t t = idx[j];
        idx[j] = idx[r];
        idx[r] = t;
    }
    Py_END_ALLOW_THREADS
    if (idx != PyArray_DATA(out)) {
        memcpy(PyArray_DATA(out), idx, (size_t)k * 8);
        PyMem_RawFree(idx);
    }
    Py_RETURN_NONE;
}

/* math(kind, x): x (float64, C-contiguous) replaced in place by its log (kind 0) or exp (kind
 * 1) of this file, the same bits on every host: the transforms of fc.RandomStream written in
 * numpy take their logs and exps here. */
PyObject *fc_random_math(PyObject *mod, PyObject *args)
{
    PyArrayObject *x;
    int kind;
    (void)mod;
    if (fc_numpy_ready() < 0) return NULL;
    if (!PyArg_ParseTuple(args, "iO!:math", &kind, &PyArray_Type, &x)
        || check_out(x, NPY_DOUBLE, "math") < 0)
        return NULL;
    if (kind != 0 && kind != 1) {
        PyErr_Format(PyExc_ValueError, "random math: no kind %d (0: log, 1: exp)", kind);
        return NULL;
    }
    double *v = (double *)PyArray_DATA(x);
    const npy_intp n = PyArray_SIZE(x);
    Py_BEGIN_ALLOW_THREADS
    if (kind == 0) for (npy_intp i = 0; i < n; i++) v[i] = fc_log_any(v[i]);
    else for (npy_intp i = 0; i < n; i++) v[i] = fc_exp_any(v[i]);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}
