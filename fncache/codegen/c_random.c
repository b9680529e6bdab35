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
    /* 1/21, 1/19, ..., 1/1 as constants (the same doubles as dividing at run time, without a
     * division per term) */
    static const double inv_odd[11] = {1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11,
                                       1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1.0};
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, p = 1.0 / 23.0;
    for (int j = 0; j < 11; j++) p = p * s2 + inv_odd[j];
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

/* ---- the distributions of random_dists, as a run-time step ------------------------------ */

/* Each transform below is random_dists' numpy transform written per element: the same IEEE
 * operations in the same order (each numpy operation rounds once, as each C one does here with
 * -ffp-contract=off), the same words and sub-streams, and this file's log and exp, so the C
 * step and the Python step give the same bits. random_dists documents the methods. */

/* The tag of sub-stream keys (random_dists._SUB). */
#define SUB_TAG 0x5EED5AB57EA30001ULL

/* The sub-stream at path (a, b): random_dists.Source.sub. Its key depends on the parent's key
 * and the path only, so the same few recur from element to element (a rejection's attempts, a
 * binomial's rounds): a per-thread table of the last ones spares their Philox block. */
#define SUB_MEMO 256
typedef struct { uint64_t k0, k1, a, b, key; int set; } SubMemo;
static _Thread_local SubMemo sub_memo[SUB_MEMO];

static inline Stream sub_stream(const Stream *s, uint64_t a, uint64_t b)
{
    const uint64_t h = ((s->k1 ^ s->k0 ^ (a << 40) ^ (b << 8)) * PHILOX_W0) >> 56;
    SubMemo *m = &sub_memo[h];
    if (!(m->set && m->k0 == s->k0 && m->k1 == s->k1 && m->a == a && m->b == b)) {
        uint64_t w[4];
        philox(s->k1, a, b, SUB_TAG, s->k0, SUB_TAG, w);
        *m = (SubMemo){s->k0, s->k1, a, b, w[0], 1};
    }
    return (Stream){s->k0, m->key, s->call};
}

/* Element i's first word of stream s. Elements read their sub-streams in the same order (a
 * rejection's attempts, a binomial's rounds), so a per-thread table holds each stream's last
 * block (a stream in the slot of its key's hash): the next three elements read it there. */
#define BLOCK_MEMO 64
typedef struct { uint64_t k0, k1, call, blk, w[4]; int set; } BlockMemo;
static _Thread_local BlockMemo block_memo[BLOCK_MEMO];

static inline uint64_t word_at(const Stream *s, uint64_t i)
{
    BlockMemo *m = &block_memo[((s->k0 ^ s->k1 ^ s->call) * PHILOX_W1) >> 58];
    const uint64_t blk = i >> 2;
    if (!(m->set && m->blk == blk && m->k1 == s->k1 && m->k0 == s->k0 && m->call == s->call)) {
        philox(blk, s->call, 0, 0, s->k0, s->k1, m->w);
        m->k0 = s->k0;
        m->k1 = s->k1;
        m->call = s->call;
        m->blk = blk;
        m->set = 1;
    }
    return m->w[i & 3];
}

/* Consecutive elements' first words of one stream: one Philox block per four elements, kept
 * by the caller (cheaper than word_at's per-thread table, for the streams every element reads). */
typedef struct { Stream s; uint64_t blk, w[4]; } Words;

static inline void words_init(Words *c, const Stream *s)
{
    c->s = *s;
    c->blk = UINT64_MAX;
}

static inline uint64_t words_at(Words *c, uint64_t i)
{
    if ((i >> 2) != c->blk) {
        c->blk = i >> 2;
        philox(c->blk, c->s.call, 0, 0, c->s.k0, c->s.k1, c->w);
    }
    return c->w[i & 3];
}

/* The fills' values of element i from its word w (Source.uniform, .normal, .exponential): the
 * normal fill is 0 + 1 * z, which turns a -0.0 into 0.0. */
static inline double src_uniform(uint64_t w) { return u01(w); }
static inline double src_normal(const Stream *s, uint64_t i, uint64_t w) { return 0.0 + normal_at(s, i, w); }
static inline double src_exponential(uint64_t w) { return -fc_log(u01_open(w)); }

/* Gamma(alpha, 1) of element i of s in *g, and its log (random_dists._std_gamma), or 0 when
 * need_log is 0 and alpha >= 1 (gamma's draw reads only *g). single: alpha is a float32
 * parameter, whose d and c numpy computes in float32 (a Python float meeting a float32 array
 * takes its type). */
static double std_gamma_at(const Stream *s, uint64_t i, double alpha, int single, int need_log, double *g)
{
    const int small = alpha < 1;
    double d, c;
    if (single) {
        const float a32 = (float)alpha, d32 = (small ? a32 + 1.0f : a32) - (float)(1.0 / 3.0);
        d = d32;
        c = 1.0f / sqrtf(9.0f * d32);
    } else {
        d = (small ? alpha + 1.0 : alpha) - 1.0 / 3.0;
        c = 1.0 / sqrt(9.0 * d);
    }
    double x = 0.0;
    for (uint64_t t = 0; alpha > 0; t++) {
        const Stream s1 = sub_stream(s, 1, t), s2 = sub_stream(s, 2, t);
        const double z = src_normal(&s1, i, word_at(&s1, i)), e = src_exponential(word_at(&s2, i));
        const double cz = c * z, w = cz * (3.0 + cz * (3.0 + cz));
        const int ok = cz > -1.0;
        const double crit = fabs(w) < 0.01
            ? w * w * (0.5 - w * (1.0 / 3.0 - w * (0.25 - w * (0.2 - w / 6.0))))
            : w - fc_log_any(ok ? 1.0 + w : 1.0);
        if (ok && -e < 0.5 * z * z - d * crit) {
            x = d + d * w;
            break;
        }
    }
    if (!small && !need_log) {
        *g = x;
        return 0.0;
    }
    double lg = fc_log_any(x);
    if (small) {
        const Stream s3 = sub_stream(s, 3, 0);
        lg = lg - src_exponential(word_at(&s3, i)) / alpha;
        x = fc_exp_any(lg);
    }
    *g = x;
    return lg;
}

/* Beta(a, b) of element i of s (random_dists._beta); single_a, single_b: std_gamma_at's. */
static double beta_at(const Stream *s, uint64_t i, double a, double b, int single_a, int single_b)
{
    double g;
    const Stream sa = sub_stream(s, 1, 0), sb = sub_stream(s, 2, 0);
    const double la = std_gamma_at(&sa, i, a, single_a, 1, &g), lb = std_gamma_at(&sb, i, b, single_b, 1, &g);
    return 1.0 / (1.0 + fc_exp_any(lb - la));
}

/* random_dists._invert of one element: pmf(k) = pmf(k - 1) * (num - k + 1) / k * ratio for a
 * binomial (num > 0), lam / k for a Poisson (num = 0, ratio = lam). */
static int64_t invert_at(double u, double first, int64_t num, double ratio, int64_t limit)
{
    if (!(u >= first) || limit <= 0) return 0;
    double pmf = first, cdf = first;
    for (int64_t k = 1;; k++) {
        pmf = pmf * (num ? (double)(num - k + 1) / (double)k * ratio : ratio / (double)k);
        cdf = cdf + pmf;
        if (!(u >= cdf && limit > k && pmf > 0)) return k;
    }
}

/* log(1 - q) for 0 <= q <= 1/2 (random_dists._log1m). */
static inline double log1m_at(double q)
{
    return q < 1e-4 ? -q * (1.0 + q * (0.5 + q * (1.0 / 3.0 + q * 0.25))) : fc_log_any(1.0 - q);
}

/* A value of an element's parameters only, kept for the next element: parameters broadcast
 * from one value (the usual case) compute it once. key: the parameters' bits. */
typedef struct { uint64_t key[2]; int set; double v[6]; } Memo;

static inline int memo_hit(Memo *c, double x, int64_t m)
{
    uint64_t k[2] = {0, (uint64_t)m};
    memcpy(&k[0], &x, sizeof x);
    if (c->set && c->key[0] == k[0] && c->key[1] == k[1]) return 1;
    c->key[0] = k[0];
    c->key[1] = k[1];
    c->set = 1;
    return 0;
}

/* Bin(n, p) of element i of s (random_dists._binomial); u: the uniform of sub-stream (2, 0). */
static int64_t binomial_at(const Stream *s, uint64_t i, int64_t n, double p, double u, Memo *c)
{
    int64_t k = 0, m = n;
    double q = p;
    for (uint64_t r = 0; (double)m * fmin(q, 1.0 - q) > 30; r++) {
        int64_t a = 1 + (int64_t)floor((double)m * q);
        if (a > m) a = m;
        const int64_t b = m + 1 - a;
        const Stream sr = sub_stream(s, 1, r);
        const double x = beta_at(&sr, i, (double)a, (double)b, 0, 0);
        const int below = x >= q;
        q = below ? q / x : (q - x) / (1.0 - x);
        q = q < 0.0 ? 0.0 : q > 1.0 ? 1.0 : q;
        m = below ? a - 1 : b - 1;
        k += below ? 0 : a;
    }
    const int flip = q > 0.5;
    if (flip) q = 1.0 - q;
    int64_t x = m == 1 && u >= 1.0 - q;
    if (m > 1) {
        if (!memo_hit(c, q, m)) c->v[0] = fc_exp_any((double)m * log1m_at(q));
        x = invert_at(u, c->v[0], m, q / (1.0 - q), m);
    }
    return k + (flip ? m - x : x);
}

/* log(k!) for k < 20, and log(2 pi) / 2 (random_dists._log_poisson_pmf). */
static double log_fact[20];
static pthread_once_t log_fact_once = PTHREAD_ONCE_INIT;
static const double HALF_LOG_2PI = 0.9189385332046727417803297;

static void log_fact_table(void)
{
    uint64_t f = 1;
    for (int j = 0; j < 20; j++) {
        if (j) f *= (uint64_t)j;
        log_fact[j] = fc_log_any((double)f);
    }
}

/* log(k!) - (k log k - k + log(2 pi k) / 2) for k >= 20 (random_dists._stirling_tail). */
static inline double stirling_tail(double kk)
{
    const double inv = 1.0 / kk, inv2 = inv * inv;
    return inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)));
}

static double log_poisson_pmf(int64_t k, double d, double lam)
{
    if (k < 20) return -lam + (double)k * fc_log_any(lam) - log_fact[k < 0 ? 0 : k];
    const double kk = (double)k, x = d / lam, tail = stirling_tail(kk);
    const double bracket = fabs(x) < 0.01
        ? x * x * (1.0 / 2.0 - x * (1.0 / 6.0 - x * (1.0 / 12.0 - x * (1.0 / 20.0 - x * (1.0 / 30.0 - x / 42.0)))))
        : (1.0 + x) * fc_log_any(fmax(1.0 + x, 1e-300)) - x;
    return -lam * bracket - 0.5 * fc_log_any(kk) - HALF_LOG_2PI - tail;
}

/* Poisson(lam) of element i of s (random_dists._poisson); u: s's uniform at i. */
static int64_t poisson_at(const Stream *s, uint64_t i, double lam, double u, Memo *c)
{
    const int hit = memo_hit(c, lam, 0);
    if (lam < 10) {
        if (!hit) c->v[0] = fc_exp_any(-lam);
        return invert_at(u, c->v[0], 0, lam, INT64_MAX);
    }
    if (!hit) {
        const double slam = sqrt(lam), b = 0.931 + 2.53 * slam;
        c->v[0] = floor(lam);
        c->v[1] = b;
        c->v[2] = -0.059 + 0.02483 * b;
        c->v[3] = fc_log_any(1.1239 + 1.1328 / (b - 3.4));  /* log(invalpha) */
        c->v[4] = 0.9277 - 3.6224 / (b - 2.0);
    }
    const double whole = c->v[0], b = c->v[1], a = c->v[2], log_invalpha = c->v[3], vr = c->v[4];
    for (uint64_t t = 0;; t++) {
        const Stream s1 = sub_stream(s, 1, t), s2 = sub_stream(s, 2, t);
        const double uu = src_uniform(word_at(&s1, i)) - 0.5, v = src_uniform(word_at(&s2, i));
        const double us = 0.5 - fabs(uu), off = floor((2.0 * a / us + b) * uu + (lam - whole) + 0.43);
        if (!isfinite(off) || off < -whole || off > 1e17 || (us < 0.013 && v > us)) continue;
        const int64_t k = (int64_t)whole + (int64_t)off;
        if (us >= 0.07 && v <= vr) return k;
        const double lhs = fc_log_any(v) + log_invalpha - fc_log_any(a / (us * us) + b);
        if (lhs <= log_poisson_pmf(k, off + (whole - lam), lam)) return k;
    }
}

/* loc + scale z, z a normal redrawn from sub-stream (1, t) while |z| > 2. */
static double truncated_normal_at(const Stream *s, uint64_t i, uint64_t w)
{
    double z = src_normal(s, i, w);
    for (uint64_t t = 1; fabs(z) > 2.0; t++) {
        const Stream st = sub_stream(s, 1, t);
        z = src_normal(&st, i, word_at(&st, i));
    }
    return z;
}

/* log(k!) of k >= 0 (random_dists._log_factorial). */
static double log_factorial(int64_t k)
{
    if (k < 20) return log_fact[k];
    const double kk = (double)k;
    return (kk + 0.5) * fc_log_any(kk) - kk + HALF_LOG_2PI + stirling_tail(kk);
}

/* Hypergeometric(ngood g0, nbad b0, nsample m0) by inversion of u (random_dists._hypergeometric):
 * the symmetries to m <= total / 2 and g <= b, then the search from k0, ten standard deviations
 * below the mean. */
static int64_t hypergeometric_at(int64_t g0, int64_t b0, int64_t m0, double u)
{
    const int64_t total = g0 + b0, rest = m0 > total / 2, swap = g0 > b0;
    const int64_t m = rest ? total - m0 : m0, g = swap ? b0 : g0, b = swap ? g0 : b0;
    const double all = (double)(total > 1 ? total : 1), mean = (double)m * ((double)g / all);
    const double var = mean * ((double)b / all) * ((double)(total - m) / (double)(total - 1 > 1 ? total - 1 : 1));
    const double low = floor(mean - 10.0 * sqrt(var));
    const int64_t k0 = (int64_t)(low > 0.0 ? low : 0.0), limit = (m < g ? m : g) - k0;
    const double first = fc_exp_any(log_factorial(g) - log_factorial(k0) - log_factorial(g - k0) + log_factorial(b)
                                    - log_factorial(m - k0) - log_factorial(b - m + k0) - log_factorial(total)
                                    + log_factorial(m) + log_factorial(total - m));
    int64_t x = 0;
    if (u >= first && limit > 0) {
        const double gf = (double)g, bf = (double)b, mf = (double)m;
        double pmf = first, cdf = first;
        for (int64_t j = 1;; j++) {
            const double k = (double)(k0 + j);
            pmf = pmf * ((gf - k + 1.0) * (mf - k + 1.0) / (k * (bf - mf + k)));
            cdf = cdf + pmf;
            if (!(u >= cdf && limit > j && pmf > 0)) {
                x = j;
                break;
            }
        }
    }
    x = k0 + x;
    if (swap) x = m - x;
    return rest ? g0 - x : x;
}

/* math.pi (C11 has no M_PI). */
static const double FC_PI = 3.141592653589793;

/* arctan of r >= 0 (random_dists._atan): + - * / and sqrt only. */
static double atan_pos(double r)
{
    const int inv = r > 1.0;
    double t = inv ? 1.0 / r : r;
    for (int j = 0; j < 2; j++) t = t / (1.0 + sqrt(1.0 + t * t));
    const double t2 = t * t;
    double series = 1.0 / 23.0;
    for (int j = 21; j > 0; j -= 2) series = series * -t2 + 1.0 / j;
    const double a = 4.0 * (t * series);
    return inv ? FC_PI / 2 - a : a;
}

/* von Mises(mu, k) of element i of s (random_dists._vonmises); u0: s's uniform at i. */
static double vonmises_at(const Stream *s, uint64_t i, double u0, double mu, double k)
{
    if (k < 1e-8) return FC_PI * (2.0 * u0 - 1.0);
    double angle;
    if (k > 1e6) {
        const Stream s5 = sub_stream(s, 5, 0);
        angle = src_normal(&s5, i, word_at(&s5, i)) / sqrt(k);
    } else {
        const double r = 1.0 + sqrt(1.0 + 4.0 * k * k), rho = (r - sqrt(2.0 * r)) / (2.0 * k);
        const double sv = k < 1e-5 ? 1.0 / k : (1.0 + rho * rho) / (2.0 * rho);
        double w;
        for (uint64_t t = 0;; t++) {
            const Stream s1 = sub_stream(s, 1, t), s2 = sub_stream(s, 2, t), s3 = sub_stream(s, 3, t);
            const double z1 = src_normal(&s1, i, word_at(&s1, i)), z2 = src_normal(&s2, i, word_at(&s2, i));
            const double v = src_uniform(word_at(&s3, i)), c = z1 / sqrt(z1 * z1 + z2 * z2);
            const double wr = (1.0 + sv * c) / (sv + c), y = k * (sv - wr);
            if (y * (2.0 - y) - v >= 0 || fc_log_any(y / v) + 1.0 - y >= 0) {
                w = wr;
                break;
            }
        }
        w = w < -1.0 ? -1.0 : w > 1.0 ? 1.0 : w;
        angle = 2.0 * atan_pos(sqrt((1.0 - w) / (1.0 + w)));
        const Stream s4 = sub_stream(s, 4, 0);
        if (src_uniform(word_at(&s4, i)) < 0.5) angle = -angle;
    }
    const double x = mu + angle, wrapped = fmod(fabs(x) + FC_PI, 2.0 * FC_PI) - FC_PI;
    return x < 0 ? -wrapped : wrapped;
}

/* Wald(mean mu, shape lam) of element i of s (random_dists._wald): w its first word, v the
 * uniform of sub-stream (1, 0). */
static double wald_at(const Stream *s, uint64_t i, uint64_t w, double mu, double lam, double v)
{
    const double z = src_normal(s, i, w), y = mu * (z * z), root = y + sqrt(y * (4.0 * lam + y));
    const double x = y > 0 ? mu * (4.0 * lam * y) / (root * root) : mu;
    return v <= mu / (mu + x) ? x : mu * mu / x;
}

/* The distributions with a C step, in c_program.RANDOM_DISTS' order. */
enum { RD_BERNOULLI, RD_BINOMIAL, RD_POISSON, RD_EXPONENTIAL, RD_GAMMA, RD_BETA, RD_LOGNORMAL,
       RD_LAPLACE, RD_LOGISTIC, RD_GUMBEL, RD_TRUNCATED_NORMAL, RD_HALFNORMAL, RD_CAUCHY,
       RD_HALFCAUCHY, RD_INVGAMMA, RD_WEIBULL, RD_PARETO, RD_WALD, RD_TRUNCEXPON, RD_TRIANGULAR,
       RD_T, RD_GENGAMMA, RD_GEOMETRIC, RD_NEGATIVE_BINOMIAL, RD_BETA_BINOMIAL, RD_VONMISES,
       RD_HYPERGEOMETRIC, RD_MULTIVARIATE_NORMAL, RD_COUNT };

/* The distributions whose first parameter is an integer count (Draw.n). */
#define RD_COUNT_FIRST(dist) ((dist) == RD_BINOMIAL || (dist) == RD_BETA_BINOMIAL)

typedef struct {
    int dist;
    Stream s;
    const double *a, *b, *c; /* the float parameters, per element, or NULL (a count first: a is
                                NULL, b and c the next ones) */
    npy_intp sa, sb, sc, sn; /* element strides (0: one value for all) */
    const int64_t *n;        /* binomial's and beta_binomial's n */
    int single_a, single_b;  /* gamma's and beta's float32 parameters (std_gamma_at) */
    void *out;               /* the sample */
    int out_type;            /* its type: int64, int32, float64 or float32 */
} Draw;

/* What a parameter's values must be for the C step (random_dists' checks; a value outside
 * them, or anything unexpected, runs the op's perform instead, which reports it). */
enum { PV_PROB, PV_NONNEG, PV_POS, PV_FINITE, PV_LAM, PV_COUNT, PV_OPEN_PROB, PV_ITEMS };
static const struct { int nparams, kinds[3], counts; } RD_SPEC[RD_COUNT] = {
    [RD_BERNOULLI] = {1, {PV_PROB}, 1},
    [RD_BINOMIAL] = {2, {PV_COUNT, PV_PROB}, 1},
    [RD_POISSON] = {1, {PV_LAM}, 1},
    [RD_EXPONENTIAL] = {1, {PV_NONNEG}, 0},
    [RD_GAMMA] = {2, {PV_NONNEG, PV_NONNEG}, 0},
    [RD_BETA] = {2, {PV_POS, PV_POS}, 0},
    [RD_LOGNORMAL] = {2, {PV_FINITE, PV_NONNEG}, 0},
    [RD_LAPLACE] = {2, {PV_FINITE, PV_NONNEG}, 0},
    [RD_LOGISTIC] = {2, {PV_FINITE, PV_NONNEG}, 0},
    [RD_GUMBEL] = {2, {PV_FINITE, PV_NONNEG}, 0},
    [RD_TRUNCATED_NORMAL] = {2, {PV_FINITE, PV_NONNEG}, 0},
    [RD_HALFNORMAL] = {2, {PV_FINITE, PV_NONNEG}, 0},
    [RD_CAUCHY] = {2, {PV_FINITE, PV_NONNEG}, 0},
    [RD_HALFCAUCHY] = {2, {PV_FINITE, PV_NONNEG}, 0},
    [RD_INVGAMMA] = {2, {PV_POS, PV_NONNEG}, 0},
    [RD_WEIBULL] = {1, {PV_NONNEG}, 0},
    [RD_PARETO] = {2, {PV_POS, PV_POS}, 0},
    [RD_WALD] = {2, {PV_POS, PV_POS}, 0},
    [RD_TRUNCEXPON] = {3, {PV_POS, PV_FINITE, PV_POS}, 0},
    [RD_TRIANGULAR] = {3, {PV_FINITE, PV_FINITE, PV_FINITE}, 0},
    [RD_T] = {3, {PV_POS, PV_FINITE, PV_POS}, 0},
    [RD_GENGAMMA] = {3, {PV_POS, PV_POS, PV_POS}, 0},
    [RD_GEOMETRIC] = {1, {PV_OPEN_PROB}, 1},
    [RD_NEGATIVE_BINOMIAL] = {2, {PV_POS, PV_OPEN_PROB}, 1},
    [RD_BETA_BINOMIAL] = {3, {PV_COUNT, PV_POS, PV_POS}, 1},
    [RD_VONMISES] = {2, {PV_FINITE, PV_NONNEG}, 0},
    [RD_HYPERGEOMETRIC] = {3, {PV_ITEMS, PV_ITEMS, PV_ITEMS}, 1},
    [RD_MULTIVARIATE_NORMAL] = {2, {PV_FINITE, PV_FINITE}, 0}, /* its own step: mvn_step */
};

/* Elements [lo, lo + n) from buf (int64 counts or float64 values) into the output, cast as
 * numpy casts (a C conversion) to its type: one of int64, int32, float64 and float32. */
static void draw_store(const Draw *d, npy_intp lo, npy_intp n, const int64_t *ib, const double *fb)
{
    const int counts = RD_SPEC[d->dist].counts;
    switch (d->out_type) {
    case NPY_INT64: memcpy((int64_t *)d->out + lo, ib, (size_t)n * 8); break;
    case NPY_INT32:
        for (npy_intp k = 0; k < n; k++) ((npy_int32 *)d->out)[lo + k] = (npy_int32)ib[k];
        break;
    case NPY_DOUBLE:
        if (!counts) memcpy((double *)d->out + lo, fb, (size_t)n * 8);
        else for (npy_intp k = 0; k < n; k++) ((double *)d->out)[lo + k] = (double)ib[k];
        break;
    default:
        if (counts) for (npy_intp k = 0; k < n; k++) ((float *)d->out)[lo + k] = (float)ib[k];
        else for (npy_intp k = 0; k < n; k++) ((float *)d->out)[lo + k] = (float)fb[k];
    }
}

/* Standard exponentials of the words of elements [lo, lo + n) of c's stream into x: the
 * words first, then the logs in a loop of their own, whose elements' long chains of multiplies
 * a core overlaps. */
static void block_exponential(Words *c, npy_intp lo, npy_intp n, double *x)
{
    for (npy_intp k = 0; k < n; k++) x[k] = u01_open(words_at(c, (uint64_t)(lo + k)));
    for (npy_intp k = 0; k < n; k++) x[k] = -fc_log(x[k]);
}

static void block_log(double *x, npy_intp n)
{
    for (npy_intp k = 0; k < n; k++) x[k] = fc_log_any(x[k]);
}

/* Elements [lo, hi) of a draw, a block at a time into the output: the transforms of one or
 * two exponentials (and lognormal's exp) a step at a time over the block, the others element
 * by element. */
#define DRAW_BLOCK 256
static void draw_range(const Draw *d, npy_intp lo, npy_intp hi)
{
    /* w0: the draw's own words; w1: sub-stream (2, 0)'s (binomial's uniform) or (1, 0)'s (the
     * second exponential of laplace and logistic) */
    Words w0, w1;
    const Stream s1 = sub_stream(&d->s, d->dist == RD_BINOMIAL ? 2 : 1, 0);
    words_init(&w0, &d->s);
    words_init(&w1, &s1);
    Memo memo = {.set = 0};
    int64_t iout[DRAW_BLOCK];
    double fout[DRAW_BLOCK], x1[DRAW_BLOCK];
    for (npy_intp lo_b = lo; lo_b < hi; lo_b += DRAW_BLOCK) {
        const npy_intp n = hi - lo_b < DRAW_BLOCK ? hi - lo_b : DRAW_BLOCK;
        const double *pa = d->a ? d->a + lo_b * d->sa : NULL, *pb = d->b ? d->b + lo_b * d->sb : NULL;
        const double *pc = d->c ? d->c + lo_b * d->sc : NULL;
        const npy_intp sa = d->sa, sb = d->sb, sc = d->sc;
        switch (d->dist) {
        case RD_EXPONENTIAL:
            block_exponential(&w0, lo_b, n, fout);
            for (npy_intp k = 0; k < n; k++) fout[k] = fout[k] * pa[k * sa];
            break;
        case RD_LAPLACE:
            block_exponential(&w0, lo_b, n, fout);
            block_exponential(&w1, lo_b, n, x1);
            for (npy_intp k = 0; k < n; k++) fout[k] = pa[k * sa] + pb[k * sb] * (fout[k] - x1[k]);
            break;
        case RD_LOGISTIC:
            block_exponential(&w0, lo_b, n, fout);
            block_exponential(&w1, lo_b, n, x1);
            block_log(fout, n);
            block_log(x1, n);
            for (npy_intp k = 0; k < n; k++) fout[k] = pa[k * sa] + pb[k * sb] * (fout[k] - x1[k]);
            break;
        case RD_GUMBEL:
            block_exponential(&w0, lo_b, n, fout);
            block_log(fout, n);
            for (npy_intp k = 0; k < n; k++) fout[k] = pa[k * sa] + pb[k * sb] * -fout[k];
            break;
        case RD_LOGNORMAL:
            for (npy_intp k = 0; k < n; k++) {
                const uint64_t u = (uint64_t)(lo_b + k);
                fout[k] = pa[k * sa] + pb[k * sb] * src_normal(&d->s, u, words_at(&w0, u));
            }
            for (npy_intp k = 0; k < n; k++) fout[k] = fc_exp_any(fout[k]);
            break;
        default:
            for (npy_intp k = 0; k < n; k++) {
                const uint64_t u = (uint64_t)(lo_b + k);
                const double a = pa ? pa[k * sa] : 0.0, b = pb ? pb[k * sb] : 0.0, c = pc ? pc[k * sc] : 0.0;
                double g;
                switch (d->dist) {
                case RD_BERNOULLI: iout[k] = src_uniform(words_at(&w0, u)) < a; break;
                case RD_BINOMIAL:
                    iout[k] = binomial_at(&d->s, u, d->n[(lo_b + k) * d->sn], b,
                                          src_uniform(words_at(&w1, u)), &memo);
                    break;
                case RD_POISSON: iout[k] = poisson_at(&d->s, u, a, src_uniform(words_at(&w0, u)), &memo); break;
                case RD_GAMMA: std_gamma_at(&d->s, u, a, d->single_a, 0, &g); fout[k] = g * b; break;
                case RD_BETA: fout[k] = beta_at(&d->s, u, a, b, d->single_a, d->single_b); break;
                case RD_HALFNORMAL: fout[k] = a + b * fabs(src_normal(&d->s, u, words_at(&w0, u))); break;
                case RD_CAUCHY:
                case RD_HALFCAUCHY: {
                    const double r = src_normal(&d->s, u, words_at(&w0, u)) / src_normal(&s1, u, words_at(&w1, u));
                    fout[k] = a + b * (d->dist == RD_CAUCHY ? r : fabs(r));
                    break;
                }
                case RD_INVGAMMA: std_gamma_at(&d->s, u, a, 0, 0, &g); fout[k] = b / g; break;
                case RD_WEIBULL:
                    fout[k] = a == 0 ? 0.0 : fc_exp_any(fc_log_any(src_exponential(words_at(&w0, u))) / a);
                    break;
                case RD_PARETO: fout[k] = b * fc_exp_any(src_exponential(words_at(&w0, u)) / a); break;
                case RD_WALD: fout[k] = wald_at(&d->s, u, words_at(&w0, u), a, b, src_uniform(words_at(&w1, u))); break;
                case RD_TRUNCEXPON: {
                    const double mass = a < 1e-4 ? a * (1.0 - a * (0.5 - a * (1.0 / 6.0 - a / 24.0))) : 1.0 - fc_exp_any(-a);
                    fout[k] = b + c * fmin(-log1m_at(src_uniform(words_at(&w0, u)) * mass), a);
                    break;
                }
                case RD_TRIANGULAR: {
                    const double base = c - a, v = src_uniform(words_at(&w0, u));
                    fout[k] = v <= (b - a) / base ? a + sqrt(v * ((b - a) * base)) : c - sqrt((1.0 - v) * ((c - b) * base));
                    break;
                }
                case RD_T: {
                    const Stream s4 = sub_stream(&d->s, 4, 0);
                    std_gamma_at(&s4, u, a * 0.5, 0, 0, &g);
                    fout[k] = b + c * (src_normal(&d->s, u, words_at(&w0, u)) / sqrt((g + g) / a));
                    break;
                }
                case RD_GENGAMMA: fout[k] = c * fc_exp_any(std_gamma_at(&d->s, u, a / b, 0, 1, &g) / b); break;
                case RD_GEOMETRIC: {
                    const double x = ceil(src_exponential(words_at(&w0, u)) / -log1m_at(a));
                    iout[k] = (int64_t)(x < 1.0 ? 1.0 : x > 9.2e18 ? 9.2e18 : x);
                    break;
                }
                case RD_NEGATIVE_BINOMIAL: {
                    std_gamma_at(&d->s, u, a, 0, 0, &g);
                    const Stream s6 = sub_stream(&d->s, 6, 0);
                    iout[k] = poisson_at(&s6, u, fmin(g * ((1.0 - b) / b), 1e18), src_uniform(word_at(&s6, u)), &memo);
                    break;
                }
                case RD_VONMISES: fout[k] = vonmises_at(&d->s, u, src_uniform(words_at(&w0, u)), a, b); break;
                case RD_HYPERGEOMETRIC:
                    iout[k] = hypergeometric_at((int64_t)a, (int64_t)b, (int64_t)c, src_uniform(words_at(&w0, u)));
                    break;
                case RD_BETA_BINOMIAL: {
                    const Stream s7 = sub_stream(&d->s, 7, 0), s8 = sub_stream(&d->s, 8, 0), s82 = sub_stream(&s8, 2, 0);
                    iout[k] = binomial_at(&s8, u, d->n[(lo_b + k) * d->sn], beta_at(&s7, u, b, c, 0, 0),
                                          src_uniform(word_at(&s82, u)), &memo);
                    break;
                }
                default: fout[k] = a + b * truncated_normal_at(&d->s, u, words_at(&w0, u));
                }
            }
        }
        draw_store(d, lo_b, n, iout, fout);
    }
}

/* Whether x is a value of a parameter of kind PV_*. */
static int value_ok(int kind, double x)
{
    switch (kind) {
    case PV_PROB: return x >= 0.0 && x <= 1.0;
    case PV_NONNEG: return x >= 0.0 && x < INFINITY;
    case PV_POS: return x > 0.0 && x < INFINITY;
    case PV_FINITE: return isfinite(x);
    case PV_LAM: return x >= 0.0 && x <= 1e18;
    case PV_OPEN_PROB: return x > 0.0 && x <= 1.0;
    case PV_ITEMS: return x >= 0.0 && x < 2e9 && x == floor(x);
    default: return x >= 0.0 && x < 0x1p63 && x == floor(x);
    }
}

/* A parameter as a C-contiguous array of typenum (numpy's cast), or NULL with no exception
 * when it is not a bool, an integer, float32 or float64 (the types whose numpy transforms the
 * step follows). */
static PyArrayObject *param_as(PyArrayObject *p, int typenum)
{
    const int t = PyArray_TYPE(p);
    if (!(PyArray_ISBOOL(p) || PyArray_ISINTEGER(p) || t == NPY_FLOAT || t == NPY_DOUBLE))
        return NULL;
    PyArrayObject *r = (PyArrayObject *)PyArray_FROM_OTF(
        (PyObject *)p, typenum, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | NPY_ARRAY_FORCECAST);
    if (!r) PyErr_Clear();
    return r;
}

/* p (C-contiguous) broadcast to dims: its data and element stride, p itself where it has one
 * element (stride 0) or dims' shape, else a C-contiguous copy of the broadcast in *p. */
static int param_spread(PyArrayObject **p, int nd, const npy_intp *dims, npy_intp *stride)
{
    PyArrayObject *a = *p;
    const int pd = PyArray_NDIM(a);
    *stride = PyArray_SIZE(a) == 1 ? 0 : 1;
    if (!*stride || (pd == nd && !memcmp(PyArray_DIMS(a), dims, (size_t)nd * sizeof *dims))) return 0;
    npy_intp strides[NPY_MAXDIMS];
    for (int d = 0; d < nd; d++) {
        const int k = d - (nd - pd);
        strides[d] = k < 0 || PyArray_DIM(a, k) == 1 ? 0 : PyArray_STRIDE(a, k);
    }
    Py_INCREF(PyArray_DESCR(a));
    PyArrayObject *view = (PyArrayObject *)PyArray_NewFromDescr(
        &PyArray_Type, PyArray_DESCR(a), nd, (npy_intp *)dims, strides, PyArray_DATA(a), 0, NULL);
    if (!view) return -1;
    PyArrayObject *copy = (PyArrayObject *)PyArray_NewCopy(view, NPY_CORDER);
    Py_DECREF(view);
    if (!copy) return -1;
    Py_DECREF(a);
    *p = copy;
    return 0;
}

/* A parameter's batch shape: its axes but its last `core` ones. */
typedef struct { int nd; const npy_intp *dims; } Batch;

static Batch batch_of(PyArrayObject *p, int core)
{
    return (Batch){PyArray_NDIM(p) - core, PyArray_DIMS(p)};
}

/* The sample's shape: size (has_size), which the parameters' batch shapes must broadcast to,
 * else their broadcast shape. 0: done, 1: they do not fit (numpy's rule). */
static int draw_shape(PyArrayObject *size, int has_size, const Batch *ps, int np_, int *nd, npy_intp *dims)
{
    *nd = 0;
    if (has_size) {
        if (PyArray_NDIM(size) != 1 || PyArray_TYPE(size) != NPY_INT64 || !PyArray_ISCARRAY_RO(size)
            || PyArray_DIM(size, 0) > NPY_MAXDIMS)
            return 1;
        *nd = (int)PyArray_DIM(size, 0);
        for (int d = 0; d < *nd; d++) {
            dims[d] = (npy_intp)((const int64_t *)PyArray_DATA(size))[d];
            if (dims[d] < 0) return 1;
        }
    } else {
        for (int j = 0; j < np_; j++)
            if (ps[j].nd > *nd) *nd = ps[j].nd;
        for (int d = 0; d < *nd; d++) dims[d] = 1;
    }
    for (int j = 0; j < np_; j++) {
        const int pd = ps[j].nd;
        if (pd > *nd || pd < 0) return 1;
        for (int k = 0; k < pd; k++) {
            const npy_intp x = ps[j].dims[k];
            npy_intp *to = &dims[*nd - pd + k];
            if (x == *to || x == 1) continue;
            if (has_size || *to != 1) return 1;
            *to = x;
        }
    }
    npy_intp n = 1;
    for (int d = 0; d < *nd; d++) {
        if (dims[d] && n > NPY_MAX_INTP / dims[d]) return 1;
        n *= dims[d];
    }
    return 0;
}

/* The bounds between parameters, which the perform reports: triangular's left <= mode <= right
 * and left < right, hypergeometric's ngood and nbad below 1e9 and nsample at most their sum. */
static int params_fit(int dist, PyArrayObject *const *ps, const npy_intp *st, npy_intp count)
{
    if (dist != RD_TRIANGULAR && dist != RD_HYPERGEOMETRIC) return 1;
    const double *x = PyArray_DATA(ps[0]), *y = PyArray_DATA(ps[1]), *z = PyArray_DATA(ps[2]);
    for (npy_intp i = 0; i < count; i++) {
        const double a = x[i * st[0]], b = y[i * st[1]], c = z[i * st[2]];
        if (dist == RD_TRIANGULAR ? !(a <= b && b <= c && a < c) : !(a < 1e9 && b < 1e9 && c <= a + b)) return 0;
    }
    return 1;
}

static void scalar_u64(PyArrayObject *a, uint64_t *x, int *ok)
{
    if (PyArray_NDIM(a) != 0 || PyArray_TYPE(a) != NPY_UINT64) *ok = 0;
    else memcpy(x, PyArray_DATA(a), sizeof *x);
}

/* The step's outputs: the advanced counter and the sample *out, cast to the typenum typ where
 * it was drawn in another; they take the sample's reference (0, *out then NULL), or -1 with an
 * exception (*out, the sample or NULL, left to the caller). */
static int step_outputs(const Step *s, PyArrayObject **v, uint64_t call, PyArrayObject **out, int typ)
{
    if (PyArray_TYPE(*out) != typ) {
        PyArrayObject *cast = (PyArrayObject *)PyArray_CastToType(*out, PyArray_DescrFromType(typ), 0);
        Py_DECREF(*out);
        if (!(*out = cast)) return -1;
    }
    PyArrayObject *next = (PyArrayObject *)PyArray_ZEROS(0, NULL, NPY_UINT64, 0);
    if (!next) return -1;
    *(uint64_t *)PyArray_DATA(next) = call + 1;
    v[s->out[0]] = next;
    v[s->out[1]] = *out;
    *out = NULL;
    return 0;
}

/* ---- multivariate_normal ------------------------------------------------------------------- */

/* The lower Cholesky factor of the n x n matrix at a (row-major; its lower triangle read, as
 * LAPACK's 'L'), in place, its upper triangle zeroed: column by column, each element's sum over
 * the columns before it taken in order, with + - * / and sqrt only, so the same bits on every
 * host. 0: the matrix is not positive definite (a pivot not above 0, or NaN). */
static int cholesky_at(double *a, npy_intp n)
{
    for (npy_intp j = 0; j < n; j++) {
        double *rj = a + j * n;
        for (npy_intp i = j; i < n; i++) {
            double *ri = a + i * n;
            double x = ri[j];
            for (npy_intp k = 0; k < j; k++) x -= ri[k] * rj[k];
            if (i > j) ri[j] = x / rj[j];
            else if (x > 0.0) rj[j] = sqrt(x);
            else return 0;
        }
        for (npy_intp k = j + 1; k < n; k++) rj[k] = 0.0;
    }
    return 1;
}

/* cholesky(x): each n x n matrix of x (float64, C-contiguous, (..., n, n)) replaced in place by
 * its lower Cholesky factor (cholesky_at): random_dists' factor of multivariate_normal's
 * covariance, which the step below computes too. False when one is not positive definite. */
PyObject *fc_random_cholesky(PyObject *mod, PyObject *args)
{
    PyArrayObject *x;
    (void)mod;
    if (fc_numpy_ready() < 0) return NULL;
    if (!PyArg_ParseTuple(args, "O!:cholesky", &PyArray_Type, &x) || check_out(x, NPY_DOUBLE, "cholesky") < 0)
        return NULL;
    const int nd = PyArray_NDIM(x);
    if (nd < 2 || PyArray_DIM(x, nd - 1) != PyArray_DIM(x, nd - 2)) {
        PyErr_SetString(PyExc_ValueError, "random cholesky: x must be (..., n, n)");
        return NULL;
    }
    const npy_intp n = PyArray_DIM(x, nd - 1), m = n ? PyArray_SIZE(x) / (n * n) : 0;
    double *a = (double *)PyArray_DATA(x);
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    for (npy_intp k = 0; k < m && ok; k++) ok = cholesky_at(a + k * n * n, n);
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(ok);
}

/* Which of p's batch entries (its axes but the last `core`) row r of a draw of batch shape
 * dims reads, for every r < count: numpy's broadcast of p's batch to dims, flat. NULL: no
 * memory (an exception). */
static npy_intp *batch_rows(PyArrayObject *p, int core, int nd, const npy_intp *dims, npy_intp count)
{
    npy_intp *rows = PyMem_RawMalloc((size_t)(count ? count : 1) * sizeof *rows);
    if (!rows) {
        PyErr_NoMemory();
        return NULL;
    }
    const int pd = PyArray_NDIM(p) - core;
    npy_intp step[NPY_MAXDIMS], idx[NPY_MAXDIMS] = {0}, at = 0, stride = 1;
    for (int d = nd - 1; d >= 0; d--) {  /* p's stride in entries along each axis of dims */
        const int k = d - (nd - pd);
        step[d] = k < 0 || PyArray_DIM(p, k) == 1 ? 0 : stride;
        if (k >= 0) stride *= PyArray_DIM(p, k);
    }
    for (npy_intp r = 0; r < count; r++) {
        rows[r] = at;
        for (int d = nd - 1; d >= 0; d--) {  /* the next multi-index, the last axis fastest */
            at += step[d];
            if (++idx[d] < dims[d]) break;
            at -= step[d] * dims[d];
            idx[d] = 0;
        }
    }
    return rows;
}

typedef struct {
    Stream s;
    npy_intp n;
    const double *mean, *factor; /* the mean's rows, the factors (n x n each) */
    const npy_intp *mrow, *frow; /* which mean and which factor each sample row takes */
    double *out;
} Mvn;

/* Rows [lo, hi) of random_dists._mvn: out = mean + A z, z the normals at positions r * n + j,
 * A z summed over j in order (each out[i] gets its terms in the order numpy adds them). */
static void mvn_range(const Mvn *m, npy_intp lo, npy_intp hi)
{
    const npy_intp n = m->n;
    Words w;
    words_init(&w, &m->s);
    for (npy_intp r = lo; r < hi; r++) {
        double *o = m->out + r * n;
        const double *a = m->factor + m->frow[r] * n * n;
        memcpy(o, m->mean + m->mrow[r] * n, (size_t)n * sizeof *o);
        for (npy_intp j = 0; j < n; j++) {
            const uint64_t u = (uint64_t)(r * n + j);
            const double z = src_normal(&m->s, u, words_at(&w, u));
            for (npy_intp i = 0; i < n; i++) o[i] += a[i * n + j] * z;
        }
    }
}

/* multivariate_normal (method cholesky) as the step: inputs the counter, the size, the mean
 * (..., n), the cov (..., n, n), the seed. As random_dists._mvn: the factor of the first
 * matrix for all rows when every row's cov equals the first's (by value), else each row's own
 * (the factor of its cov's batch entry: the same bits as a factor of a copy). 1 (the perform
 * reports it): a cov not positive definite, values not finite, shapes that do not fit. */
static int mvn_step(const Step *s, PyArrayObject **v, int nthreads, Stream st, uint64_t call)
{
    PyArrayObject *mean = NULL, *cov = NULL, *out = NULL;
    npy_intp *mrow = NULL, *frow = NULL;
    double *factor = NULL;
    int rc = 1, nd;
    npy_intp dims[NPY_MAXDIMS + 1];
    if (!(mean = param_as(v[s->in[2]], NPY_DOUBLE)) || !(cov = param_as(v[s->in[3]], NPY_DOUBLE))) goto done;
    const int md = PyArray_NDIM(mean), cd = PyArray_NDIM(cov);
    if (md < 1 || cd < 2) goto done;
    const npy_intp n = PyArray_DIM(mean, md - 1);
    if (PyArray_DIM(cov, cd - 1) != n || PyArray_DIM(cov, cd - 2) != n) goto done;
    const double *mv = PyArray_DATA(mean), *cv = PyArray_DATA(cov);
    for (npy_intp i = 0; i < PyArray_SIZE(mean); i++)
        if (!isfinite(mv[i])) goto done;
    for (npy_intp i = 0; i < PyArray_SIZE(cov); i++)
        if (!isfinite(cv[i])) goto done;
    const Batch batch[2] = {batch_of(mean, 1), batch_of(cov, 2)};
    if (draw_shape(v[s->in[1]], s->ints[3], batch, 2, &nd, dims) || nd >= NPY_MAXDIMS) goto done;
    const npy_intp count = PyArray_MultiplyList(dims, nd), nn = n * n;
    if (n && count > NPY_MAX_INTP / n) goto done;
    rc = -1;
    if (!(mrow = batch_rows(mean, 1, nd, dims, count)) || !(frow = batch_rows(cov, 2, nd, dims, count))) goto done;
    /* same: every row's cov equals the first row's, so the first's factor serves all */
    int same = count > 1;
    for (npy_intp r = 1; r < count && same; r++)
        for (npy_intp i = 0; i < nn && same; i++) same = cv[frow[r] * nn + i] == cv[frow[0] * nn + i];
    const npy_intp nf = count == 0 ? 0 : same ? 1 : (nn ? PyArray_SIZE(cov) / nn : 0);
    if (!(factor = PyMem_RawMalloc((size_t)(nf * nn > 0 ? nf * nn : 1) * sizeof *factor))) {
        PyErr_NoMemory();
        goto done;
    }
    if (same) {
        memcpy(factor, cv + frow[0] * nn, (size_t)nn * sizeof *factor);
        for (npy_intp r = 0; r < count; r++) frow[r] = 0;
    } else memcpy(factor, cv, (size_t)(nf * nn) * sizeof *factor);
    int ok = 1;
    for (npy_intp k = 0; k < nf && ok; k++) ok = cholesky_at(factor + k * nn, n);
    if (!ok) {
        rc = 1;
        goto done;
    }
    dims[nd] = n;
    if (!(out = (PyArrayObject *)PyArray_EMPTY(nd + 1, dims, NPY_DOUBLE, 0))) goto done;
    const Mvn m = {st, n, mv, factor, mrow, frow, PyArray_DATA(out)};
    pthread_once(&zig_once, zig_tables);
    Py_BEGIN_ALLOW_THREADS
    if (fc_parallel_ok(count * n, nthreads)) {
        const int K = fc_nchunks(count * n, nthreads);
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
        for (int k = 0; k < K; k++) mvn_range(&m, fc_chunk_at(count, k, K), fc_chunk_at(count, k + 1, K));
    } else mvn_range(&m, 0, count);
    Py_END_ALLOW_THREADS
    if (step_outputs(s, v, call, &out, s->ints[1]) < 0) goto done;
    rc = 0;
done:
    Py_XDECREF(mean);
    Py_XDECREF(cov);
    Py_XDECREF(out);
    PyMem_RawFree(mrow);
    PyMem_RawFree(frow);
    PyMem_RawFree(factor);
    return rc;
}

/* A RandomVariable of one of RD_* as a run-time step (c_nodes.render_random). Inputs: the
 * counter, the size, the parameters, the seed; outputs: the advanced counter, the sample. ints:
 * index into performs, the sample's typenum, the distribution, has_size, the key's variable
 * number. 0: done, -1: an exception, 1: the op's perform is to run (bad parameters, which it
 * reports, or inputs this step does not read). */
int fc_random_step(const Step *s, PyArrayObject **v, int nthreads)
{
    if (s->nints != 5 || s->ints[2] < 0 || s->ints[2] >= RD_COUNT || s->nout != 2) return 1;
    const int dist = s->ints[2], np_ = RD_SPEC[dist].nparams;
    if (s->nin != np_ + 3) return 1;
    Draw d = {.dist = dist};
    int ok = 1;
    uint64_t call = 0, seed = 0;
    scalar_u64(v[s->in[0]], &call, &ok);
    scalar_u64(v[s->in[np_ + 2]], &seed, &ok);
    if (!ok) return 1;
    d.s = (Stream){seed, (uint64_t)(unsigned)s->ints[4], call};
    if (dist == RD_MULTIVARIATE_NORMAL) return mvn_step(s, v, nthreads, d.s, call);
    PyArrayObject *ps[3] = {NULL, NULL, NULL}, *out = NULL;
    int rc = 1, nd;
    npy_intp dims[NPY_MAXDIMS], st[3] = {0, 0, 0};
    for (int j = 0; j < np_; j++) {
        const int kind = RD_SPEC[dist].kinds[j];
        PyArrayObject *p = v[s->in[2 + j]];
        const int gamma_shape = dist == RD_BETA || (dist == RD_GAMMA && j == 0);
        if (gamma_shape && PyArray_TYPE(p) == NPY_FLOAT) *(j ? &d.single_b : &d.single_a) = 1;
        const int exact_int = kind == PV_COUNT && (PyArray_ISINTEGER(p) || PyArray_ISBOOL(p));
        if (!(ps[j] = param_as(p, exact_int ? NPY_INT64 : NPY_DOUBLE))) goto done;
        const npy_intp m = PyArray_SIZE(ps[j]);
        if (exact_int) {
            const int64_t *x = PyArray_DATA(ps[j]);
            for (npy_intp i = 0; i < m; i++)
                if (x[i] < 0) goto done;
            continue;
        }
        const double *x = PyArray_DATA(ps[j]);
        for (npy_intp i = 0; i < m; i++)
            if (!value_ok(kind, x[i])) goto done;
        if (kind == PV_COUNT) {
            PyArrayObject *n = param_as(ps[j], NPY_INT64);
            Py_DECREF(ps[j]);
            if (!(ps[j] = n)) goto done;
        }
    }
    const Batch batch[3] = {batch_of(ps[0], 0), np_ > 1 ? batch_of(ps[1], 0) : (Batch){0, NULL},
                            np_ > 2 ? batch_of(ps[2], 0) : (Batch){0, NULL}};
    if (draw_shape(v[s->in[1]], s->ints[3], batch, np_, &nd, dims)) goto done;
    rc = -1;
    for (int j = 0; j < np_; j++)
        if (param_spread(&ps[j], nd, dims, &st[j]) < 0) goto done;
    if (!params_fit(dist, ps, st, PyArray_MultiplyList(dims, nd))) {
        rc = 1;
        goto done;
    }
    /* the sample in its own type where draw_store writes that, else as numpy's transform
     * gives it (int64 counts or float64 values), cast by numpy below */
    const int typ = s->ints[1];
    d.out_type = typ == NPY_DOUBLE || typ == NPY_FLOAT || (RD_SPEC[dist].counts && (typ == NPY_INT64 || typ == NPY_INT32))
                     ? typ
                     : RD_SPEC[dist].counts ? NPY_INT64 : NPY_DOUBLE;
    if (!(out = (PyArrayObject *)PyArray_EMPTY(nd, dims, d.out_type, 0))) goto done;
    if (RD_COUNT_FIRST(dist)) {
        d.n = PyArray_DATA(ps[0]);
        d.sn = st[0];
    } else {
        d.a = PyArray_DATA(ps[0]);
        d.sa = st[0];
    }
    if (np_ > 1) {
        d.b = PyArray_DATA(ps[1]);
        d.sb = st[1];
    }
    if (np_ > 2) {
        d.c = PyArray_DATA(ps[2]);
        d.sc = st[2];
    }
    d.out = PyArray_DATA(out);
    pthread_once(&zig_once, zig_tables);
    pthread_once(&log_fact_once, log_fact_table);
    const npy_intp n = PyArray_SIZE(out);
    Py_BEGIN_ALLOW_THREADS
    if (fc_parallel_ok(n, nthreads)) {
        const int K = fc_nchunks(n, nthreads);
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
        for (int k = 0; k < K; k++) draw_range(&d, fc_chunk_at(n, k, K), fc_chunk_at(n, k + 1, K));
    } else draw_range(&d, 0, n);
    Py_END_ALLOW_THREADS
    if (step_outputs(s, v, call, &out, typ) < 0) goto done;
    rc = 0;
done:
    Py_XDECREF(ps[0]);
    Py_XDECREF(ps[1]);
    Py_XDECREF(ps[2]);
    Py_XDECREF(out);
    return rc;
}
