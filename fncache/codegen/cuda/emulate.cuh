/* A CPU emulation of the CUDA execution model, enough for fncache's generated kernels.
 *
 * Included (g++ -include) before a generated module compiled with -DFC_EMULATE. Every GPU
 * thread of a block is a cooperative fiber (ucontext) on one OS thread; blocks run one after
 * the other. __syncthreads() and the warp shuffles are barriers that switch fibers, so the
 * kernels run exactly as written, tree reductions included. It is slow and meant for testing
 * and debugging kernels on machines without a GPU (see emulator.py), not for computing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static

struct fc_dim3 { unsigned x, y, z; };
static fc_dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace fc_emu {

enum { MAX_THREADS = 1024, STACK = 128 * 1024 };

struct Barrier { int count, expected; unsigned gen; };

static ucontext_t scheduler;
static ucontext_t fibers[MAX_THREADS];
static char *stacks[MAX_THREADS];
static int done[MAX_THREADS];
static int current;
static Barrier block_barrier;
static Barrier warp_barrier[MAX_THREADS / 32];
static unsigned long long warp_buf[MAX_THREADS / 32][32];
static void (*thunk)(const char *);
static const char *thunk_args;

static void yield() { swapcontext(&fibers[current], &scheduler); }

static void wait(Barrier &b)
{
    unsigned g = b.gen;
    if (++b.count == b.expected) { b.count = 0; b.gen++; return; }
    while (b.gen == g) yield();
}

static void entry() { thunk(thunk_args); done[current] = 1; }

static void run_block(unsigned threads)
{
    block_barrier = Barrier{0, (int)threads, 0};
    for (unsigned w = 0; w < (threads + 31) / 32; w++) {
        unsigned in_warp = threads - 32 * w < 32 ? threads - 32 * w : 32;
        warp_barrier[w] = Barrier{0, (int)in_warp, 0};
    }
    for (unsigned t = 0; t < threads; t++) {
        if (!stacks[t]) stacks[t] = (char *)malloc(STACK);
        getcontext(&fibers[t]);
        fibers[t].uc_stack.ss_sp = stacks[t];
        fibers[t].uc_stack.ss_size = STACK;
        fibers[t].uc_link = &scheduler;
        makecontext(&fibers[t], entry, 0);
        done[t] = 0;
    }
    for (unsigned left = threads; left;) {
        left = 0;
        for (unsigned t = 0; t < threads; t++) {
            if (done[t]) continue;
            current = (int)t;
            threadIdx = fc_dim3{t, 0, 0};
            swapcontext(&scheduler, &fibers[t]);
            if (!done[t]) left++;
        }
    }
}

}  // namespace fc_emu

static inline void __syncthreads() { fc_emu::wait(fc_emu::block_barrier); }

template <typename T>
static inline T __shfl_down_sync(unsigned, T v, int delta)
{
    const unsigned lane = threadIdx.x & 31u, w = threadIdx.x >> 5;
    memcpy(&fc_emu::warp_buf[w][lane], &v, sizeof(T));
    fc_emu::wait(fc_emu::warp_barrier[w]);
    const unsigned src = lane + (unsigned)delta < 32u ? lane + (unsigned)delta : lane;
    T r;
    memcpy(&r, &fc_emu::warp_buf[w][src], sizeof(T));
    fc_emu::wait(fc_emu::warp_barrier[w]);
    return r;
}

/* Launch `kernel_thunk(args)` on a (gx, gy) grid of (bx) blocks; returns 0, or -1 when the
 * block is larger than the emulator supports. */
extern "C" int fc_emu_launch(void (*kernel_thunk)(const char *), const char *args, unsigned gx,
                             unsigned gy, unsigned bx)
{
    if (bx == 0 || bx > fc_emu::MAX_THREADS) return -1;
    fc_emu::thunk = kernel_thunk;
    fc_emu::thunk_args = args;
    gridDim = fc_dim3{gx, gy, 1};
    blockDim = fc_dim3{bx, 1, 1};
    for (unsigned y = 0; y < gy; y++)
        for (unsigned x = 0; x < gx; x++) {
            blockIdx = fc_dim3{x, y, 0};
            fc_emu::run_block(bx);
        }
    return 0;
}
