/* fncache generated-code prelude: scalar helpers shared by every generated module.
 *
 * Math functions are declared `omp declare simd` so gcc calls glibc's vector math library
 * (libmvec, <= 4 ulp) inside loops without -ffast-math: NaN and inf semantics are kept.
 * Integer helpers never trap: division by zero gives 0 (as numpy does) instead of SIGFPE.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) && defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35) \
    && !defined(FC_NO_LIBMVEC)
/* One declaration per pragma: gcc ignores all but one `declare simd` in a macro line. */
#pragma omp declare simd notinbranch
double exp(double);
#pragma omp declare simd notinbranch
float expf(float);
#pragma omp declare simd notinbranch
double log(double);
#pragma omp declare simd notinbranch
float logf(float);
#pragma omp declare simd notinbranch
double log1p(double);
#pragma omp declare simd notinbranch
float log1pf(float);
#pragma omp declare simd notinbranch
double expm1(double);
#pragma omp declare simd notinbranch
float expm1f(float);
#pragma omp declare simd notinbranch
double log2(double);
#pragma omp declare simd notinbranch
float log2f(float);
#pragma omp declare simd notinbranch
double log10(double);
#pragma omp declare simd notinbranch
float log10f(float);
#pragma omp declare simd notinbranch
double sin(double);
#pragma omp declare simd notinbranch
float sinf(float);
#pragma omp declare simd notinbranch
double cos(double);
#pragma omp declare simd notinbranch
float cosf(float);
#pragma omp declare simd notinbranch
double tan(double);
#pragma omp declare simd notinbranch
float tanf(float);
#pragma omp declare simd notinbranch
double asin(double);
#pragma omp declare simd notinbranch
float asinf(float);
#pragma omp declare simd notinbranch
double acos(double);
#pragma omp declare simd notinbranch
float acosf(float);
#pragma omp declare simd notinbranch
double atan(double);
#pragma omp declare simd notinbranch
float atanf(float);
#pragma omp declare simd notinbranch
double sinh(double);
#pragma omp declare simd notinbranch
float sinhf(float);
#pragma omp declare simd notinbranch
double cosh(double);
#pragma omp declare simd notinbranch
float coshf(float);
#pragma omp declare simd notinbranch
double tanh(double);
#pragma omp declare simd notinbranch
float tanhf(float);
#pragma omp declare simd notinbranch
double erf(double);
#pragma omp declare simd notinbranch
float erff(float);
#pragma omp declare simd notinbranch
double pow(double, double);
#pragma omp declare simd notinbranch
float powf(float, float);
#endif

static int fc_errflag;  /* set by helpers that must raise after the loop (GIL held) */
#define FC_ERR_NEGPOW 1

/* @fc-scalar-helpers-begin: shared with the CUDA backend (fncache/codegen/cuda/render.py),
 * which defines FC_INLINE as a device function qualifier and the npy_* types first. */
#ifndef FC_INLINE
#define FC_INLINE static inline
#endif

#define FC_FLOAT_HELPERS(T, S, SUF)                                                        \
FC_INLINE T fc_exp_##S(T x) { return exp##SUF(x); }                                        \
FC_INLINE T fc_log_##S(T x) { return log##SUF(x); }                                        \
FC_INLINE T fc_log1p_##S(T x) { return log1p##SUF(x); }                                    \
FC_INLINE T fc_expm1_##S(T x) { return expm1##SUF(x); }                                    \
FC_INLINE T fc_log2_##S(T x) { return log2##SUF(x); }                                      \
FC_INLINE T fc_log10_##S(T x) { return log10##SUF(x); }                                    \
FC_INLINE T fc_sqrt_##S(T x) { return sqrt##SUF(x); }                                      \
FC_INLINE T fc_sin_##S(T x) { return sin##SUF(x); }                                        \
FC_INLINE T fc_cos_##S(T x) { return cos##SUF(x); }                                        \
FC_INLINE T fc_tan_##S(T x) { return tan##SUF(x); }                                        \
FC_INLINE T fc_asin_##S(T x) { return asin##SUF(x); }                                      \
FC_INLINE T fc_acos_##S(T x) { return acos##SUF(x); }                                      \
FC_INLINE T fc_atan_##S(T x) { return atan##SUF(x); }                                      \
FC_INLINE T fc_sinh_##S(T x) { return sinh##SUF(x); }                                      \
FC_INLINE T fc_cosh_##S(T x) { return cosh##SUF(x); }                                      \
FC_INLINE T fc_tanh_##S(T x) { return tanh##SUF(x); }                                      \
FC_INLINE T fc_erf_##S(T x) { return erf##SUF(x); }                                        \
FC_INLINE T fc_fabs_##S(T x) { return fabs##SUF(x); }                                      \
FC_INLINE T fc_floor_##S(T x) { return floor##SUF(x); }                                    \
FC_INLINE T fc_ceil_##S(T x) { return ceil##SUF(x); }                                      \
FC_INLINE T fc_rint_##S(T x) { return rint##SUF(x); }                                      \
FC_INLINE T fc_sigmoid_##S(T x) { return (T)1 / ((T)1 + exp##SUF(-x)); }                   \
FC_INLINE T fc_softplus_##S(T x) {                                                         \
    return (x > (T)0 ? x : (T)0) + log1p##SUF(exp##SUF(-fabs##SUF(x))); }                  \
FC_INLINE T fc_max_##S(T a, T b) { return (a > b || a != a) ? a : b; }                     \
FC_INLINE T fc_min_##S(T a, T b) { return (a < b || a != a) ? a : b; }                     \
FC_INLINE T fc_sign_##S(T x) { return x != x ? x : (T)((x > 0) - (x < 0)); }               \
FC_INLINE npy_bool fc_isnan_##S(T x) { return x != x; }                                    \
FC_INLINE npy_bool fc_isinf_##S(T x) { return x - x != x - x && x == x; }                  \
FC_INLINE T fc_pow_##S(T a, T b) { return pow##SUF(a, b); }                                \
FC_INLINE T fc_mod_##S(T a, T b) {                                                         \
    T m; if (b == 0) return fmod##SUF(a, b);                                               \
    m = fmod##SUF(a, b);                                                                   \
    if (m) { if ((b < 0) != (m < 0)) m += b; } else m = copysign##SUF((T)0, b);            \
    return m; }                                                                            \
FC_INLINE T fc_floordiv_##S(T a, T b) {                                                    \
    T m, d, f; if (b == 0) return a / b;                                                   \
    m = fmod##SUF(a, b); d = (a - m) / b;                                                  \
    if (m) { if ((b < 0) != (m < 0)) d -= (T)1; }                                          \
    if (d) { f = floor##SUF(d); if (d - f > (T)0.5) f += (T)1; }                           \
    else f = copysign##SUF((T)0, a / b);                                                   \
    return f; }

FC_FLOAT_HELPERS(double, float64, )
FC_FLOAT_HELPERS(float, float32, f)

#define FC_INT_HELPERS(T, S, UT, TMIN)                                                     \
FC_INLINE T fc_floordiv_##S(T a, T b) {                                                    \
    T q; if (b == 0) return 0; if (b == -1) return (T)(0 - (UT)a);                         \
    q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) q--; return q; }                 \
FC_INLINE T fc_mod_##S(T a, T b) {                                                         \
    T r; if (b == 0 || b == -1) return 0;                                                  \
    r = a % b; if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }                     \
FC_INLINE T fc_pow_##S(T a, T b) {                                                         \
    UT r = 1, base = (UT)a; if (b < 0) { fc_errflag |= FC_ERR_NEGPOW; return 0; }           \
    while (b) { if (b & 1) r *= base; base *= base; b >>= 1; } return (T)r; }

FC_INT_HELPERS(npy_int8, int8, npy_uint8, NPY_MIN_INT8)
FC_INT_HELPERS(npy_int16, int16, npy_uint16, NPY_MIN_INT16)
FC_INT_HELPERS(npy_int32, int32, npy_uint32, NPY_MIN_INT32)
FC_INT_HELPERS(npy_int64, int64, npy_uint64, NPY_MIN_INT64)
FC_INT_HELPERS(npy_uint8, uint8, npy_uint8, 0)

FC_INLINE npy_bool fc_pow_bool(npy_bool a, npy_bool b) { return b ? a : 1; }
/* @fc-scalar-helpers-end */

/* ---- run-time support ------------------------------------------------------------- */
/* Called once per node per call, not per element: -O1 compiles them faster at no measurable
 * cost (kernels and scalar helpers above keep the command line's -O3). */
#pragma GCC push_options
#pragma GCC optimize ("O1")

/* numpy broadcasting of `n` arrays into `shape` (ndim `nd`); element strides per input
 * (0 where broadcast) go to `strides[i*nd + d]`. */
static int fc_broadcast(int nd, int n, PyArrayObject **a, npy_intp *shape, npy_intp *strides,
                        const char *what)
{
    int i, d;
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
    for (i = 0; i < n; i++) {
        int off = nd - PyArray_NDIM(a[i]);
        npy_intp isz = PyArray_ITEMSIZE(a[i]);
        for (d = 0; d < nd; d++) {
            if (d < off || PyArray_DIM(a[i], d - off) == 1) strides[i * nd + d] = 0;
            else strides[i * nd + d] = PyArray_STRIDE(a[i], d - off) / isz;
        }
    }
    return 0;
bad:
    {
        PyObject *shapes = PyList_New(0);
        for (i = 0; i < n && shapes; i++) {
            PyObject *t = PyTuple_New(PyArray_NDIM(a[i]));
            for (d = 0; d < PyArray_NDIM(a[i]); d++)
                PyTuple_SET_ITEM(t, d, PyLong_FromSsize_t(PyArray_DIM(a[i], d)));
            PyList_Append(shapes, t);
            Py_DECREF(t);
        }
        PyErr_Format(PyExc_ValueError,
                     "%s: input shapes %R cannot be broadcast together (numpy broadcasting rules)",
                     what, shapes);
        Py_XDECREF(shapes);
        return -1;
    }
}

/* True when every input is C-contiguous and either has the full `size` or is a single
 * element: the loop is then flat over `size` elements. */
static inline int fc_flat_ok(int n, PyArrayObject **a, npy_intp size)
{
    int i;
    for (i = 0; i < n; i++) {
        npy_intp s = PyArray_SIZE(a[i]);
        if (!(PyArray_IS_C_CONTIGUOUS(a[i]) && (s == size || s == 1))) return 0;
    }
    return 1;
}

/* A fresh output, or the buffer kept from the previous call when allow_gc is off and nothing
 * else holds it (a refcount of 1 means only this state does). */
static PyArrayObject *fc_alloc(int nd, npy_intp *shape, int typenum, PyArrayObject **keep)
{
    PyArrayObject *r;
    if (keep && *keep && Py_REFCNT(*keep) == 1 && PyArray_NDIM(*keep) == nd
        && PyArray_CompareLists(PyArray_DIMS(*keep), shape, nd)) {
        Py_INCREF(*keep);
        return *keep;
    }
    r = (PyArrayObject *)PyArray_EMPTY(nd, shape, typenum, 0);
    if (r && keep) { Py_XDECREF(*keep); Py_INCREF(r); *keep = r; }
    return r;
}

/* The dying input `a` can hold the output: same shape, contiguous, writeable, not shared. */
static inline int fc_reusable(PyArrayObject *a, int nd, npy_intp *shape, int typenum)
{
    return a && Py_REFCNT(a) == 1 && PyArray_TYPE(a) == typenum && PyArray_NDIM(a) == nd
        && PyArray_IS_C_CONTIGUOUS(a) && PyArray_ISWRITEABLE(a) && PyArray_CHKFLAGS(a, NPY_ARRAY_OWNDATA)
        && PyArray_CompareLists(PyArray_DIMS(a), shape, nd);
}

/* View of `a` with dims reordered / broadcastable dims added ('x' = -1) or dropped. */
static PyArrayObject *fc_dimshuffle(PyArrayObject *a, int nd, const int *pattern)
{
    npy_intp dims[NPY_MAXDIMS], strides[NPY_MAXDIMS];
    int d;
    PyArrayObject *r;
    for (d = 0; d < nd; d++) {
        if (pattern[d] < 0) { dims[d] = 1; strides[d] = 0; }
        else { dims[d] = PyArray_DIM(a, pattern[d]); strides[d] = PyArray_STRIDE(a, pattern[d]); }
    }
    Py_INCREF(PyArray_DESCR(a));
    r = (PyArrayObject *)PyArray_NewFromDescr(&PyArray_Type, PyArray_DESCR(a), nd, dims, strides,
                                              PyArray_DATA(a),
                                              PyArray_FLAGS(a) & NPY_ARRAY_WRITEABLE, NULL);
    if (!r) return NULL;
    Py_INCREF(a);
    if (PyArray_SetBaseObject(r, (PyObject *)a) < 0) { Py_DECREF(r); return NULL; }
    return r;
}
#pragma GCC pop_options
