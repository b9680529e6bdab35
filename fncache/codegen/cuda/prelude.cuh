/* fncache CUDA prelude: what every generated CUDA module needs before its kernels.
 *
 * The scalar helpers (fc_exp_float32, Python-style integer division and modulo, NaN-propagating
 * max, ...) are not written here: render.py appends the marked region of ../prelude.h, the
 * same text the C backend compiles, after defining FC_INLINE as a device qualifier. That is why
 * the npy_* type names and NPY_MIN/MAX limits are spelled as numpy spells them.
 */
#include <math.h>

typedef unsigned char npy_bool;
typedef signed char npy_int8;
typedef short npy_int16;
typedef int npy_int32;
typedef long long npy_int64;
typedef unsigned char npy_uint8;
typedef unsigned short npy_uint16;
typedef unsigned int npy_uint32;
typedef unsigned long long npy_uint64;
typedef float npy_float32;
typedef double npy_float64;

#define NPY_MAX_UINT16 65535
#define NPY_MAX_UINT32 4294967295U
#define NPY_MIN_INT8 (-128)
#define NPY_MAX_INT8 127
#define NPY_MIN_INT16 (-32768)
#define NPY_MAX_INT16 32767
#define NPY_MIN_INT32 (-2147483647 - 1)
#define NPY_MAX_INT32 2147483647
#define NPY_MIN_INT64 (-9223372036854775807LL - 1)
#define NPY_MAX_INT64 9223372036854775807LL
#define NPY_MAX_UINT8 255
#define NPY_MAX_UINT64 18446744073709551615ULL

#define FC_INLINE static __device__ __forceinline__
/* Inlined, the iterative special functions are copied into both variants of every kernel that
 * uses them (and into each caller inside the family), and ptxas time grows with the copies: a
 * module of nine incomplete gamma / beta outputs took ptxas 7x longer than with one called copy
 * of each. They loop for tens of iterations, so the call costs nothing measurable. The emulator
 * builds the same text with g++, where inlining is the compiler's choice. */
#ifdef FC_EMULATE
#define FC_OUTLINE static inline
#else
#define FC_OUTLINE static __device__ __noinline__
#endif
#define FC_TABLE static __device__ const

/* The C prelude's reentrant lgamma wrappers (the scalar helpers' gammaln calls them): the
 * device lgamma keeps no global sign. */
FC_INLINE double fc_lgamma_float64(double x) { return lgamma(x); }
FC_INLINE float fc_lgamma_float32(float x) { return lgammaf(x); }

/* Set by helpers that cannot raise (integer power with a negative exponent); the runner reads
 * and clears it after the kernels of a graph that can set it. Concurrent writers all store the
 * same bit, so the race is benign. */
__device__ int fc_errflag;
#define FC_ERR_NEGPOW 1

/* Tree reduction of one value per thread to thread 0 of the block: warp shuffles, one shared
 * slot per warp, then the first warp. blockDim.x must be a multiple of 32 (at most 1024).
 * The leading barrier lets a block-stride loop reuse `sh` safely. */
template <typename T, typename Op>
__device__ __forceinline__ T fc_block_reduce(T v, const T ident, T *sh, const Op op)
{
    const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < (blockDim.x >> 5) ? sh[lane] : ident;
        for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
    }
    return v;
}
