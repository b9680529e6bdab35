/* fncache.toolchain._cpuid: what the CPU executing this process can run.
 *
 * The toolchain's own extension (built with fncache, no numpy): the CPU probe
 * (fncache/toolchain/cpu.py) reads it, and nothing of the code generator is loaded for it. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* What the CPU executing this process can run, read with cpuid (the source gcc's -march=native
 * reads too; /proc/cpuinfo describes the host, not an emulator or a migrated VM) and xgetbv
 * (the OS must save the AVX / AVX-512 registers, or those instructions fault). Feature names are
 * gcc's -m<name> option names, so a kernel library's -march flags map onto them directly.
 * Read once per process: a few cpuid instructions. */

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

typedef struct { const char *name; unsigned leaf, sub; char reg; unsigned char bit, os; } CpuBit;
/* os: 0 = no register state needed, 1 = AVX (XMM+YMM) state, 2 = AVX-512 state as well. */
static const CpuBit cpu_bits[] = {
    {"sse3", 1, 0, 'c', 0, 0}, {"pclmul", 1, 0, 'c', 1, 0}, {"ssse3", 1, 0, 'c', 9, 0},
    {"fma", 1, 0, 'c', 12, 1}, {"cx16", 1, 0, 'c', 13, 0}, {"sse4.1", 1, 0, 'c', 19, 0},
    {"sse4.2", 1, 0, 'c', 20, 0}, {"movbe", 1, 0, 'c', 22, 0}, {"popcnt", 1, 0, 'c', 23, 0},
    {"aes", 1, 0, 'c', 25, 0}, {"xsave", 1, 0, 'c', 26, 0}, {"avx", 1, 0, 'c', 28, 1},
    {"f16c", 1, 0, 'c', 29, 1}, {"rdrnd", 1, 0, 'c', 30, 0},
    {"mmx", 1, 0, 'd', 23, 0}, {"fxsr", 1, 0, 'd', 24, 0}, {"sse", 1, 0, 'd', 25, 0},
    {"sse2", 1, 0, 'd', 26, 0},
    {"fsgsbase", 7, 0, 'b', 0, 0}, {"sgx", 7, 0, 'b', 2, 0}, {"bmi", 7, 0, 'b', 3, 0},
    {"hle", 7, 0, 'b', 4, 0}, {"avx2", 7, 0, 'b', 5, 1}, {"bmi2", 7, 0, 'b', 8, 0},
    {"rtm", 7, 0, 'b', 11, 0}, {"avx512f", 7, 0, 'b', 16, 2}, {"avx512dq", 7, 0, 'b', 17, 2},
    {"rdseed", 7, 0, 'b', 18, 0}, {"adx", 7, 0, 'b', 19, 0}, {"avx512ifma", 7, 0, 'b', 21, 2},
    {"clflushopt", 7, 0, 'b', 23, 0}, {"clwb", 7, 0, 'b', 24, 0}, {"avx512pf", 7, 0, 'b', 26, 2},
    {"avx512er", 7, 0, 'b', 27, 2}, {"avx512cd", 7, 0, 'b', 28, 2}, {"sha", 7, 0, 'b', 29, 0},
    {"avx512bw", 7, 0, 'b', 30, 2}, {"avx512vl", 7, 0, 'b', 31, 2},
    {"prefetchwt1", 7, 0, 'c', 0, 0}, {"avx512vbmi", 7, 0, 'c', 1, 2}, {"pku", 7, 0, 'c', 3, 0},
    {"waitpkg", 7, 0, 'c', 5, 0}, {"avx512vbmi2", 7, 0, 'c', 6, 2}, {"shstk", 7, 0, 'c', 7, 0},
    {"gfni", 7, 0, 'c', 8, 0}, {"vaes", 7, 0, 'c', 9, 1}, {"vpclmulqdq", 7, 0, 'c', 10, 1},
    {"avx512vnni", 7, 0, 'c', 11, 2}, {"avx512bitalg", 7, 0, 'c', 12, 2},
    {"avx512vpopcntdq", 7, 0, 'c', 14, 2}, {"rdpid", 7, 0, 'c', 22, 0}, {"kl", 7, 0, 'c', 23, 0},
    {"cldemote", 7, 0, 'c', 25, 0}, {"movdiri", 7, 0, 'c', 27, 0},
    {"movdir64b", 7, 0, 'c', 28, 0}, {"enqcmd", 7, 0, 'c', 29, 0},
    {"avx5124vnniw", 7, 0, 'd', 2, 2}, {"avx5124fmaps", 7, 0, 'd', 3, 2},
    {"uintr", 7, 0, 'd', 5, 0}, {"avx512vp2intersect", 7, 0, 'd', 8, 2},
    {"serialize", 7, 0, 'd', 14, 0}, {"tsxldtrk", 7, 0, 'd', 16, 0}, {"pconfig", 7, 0, 'd', 18, 0},
    {"amx-bf16", 7, 0, 'd', 22, 0}, {"avx512fp16", 7, 0, 'd', 23, 2},
    {"amx-tile", 7, 0, 'd', 24, 0}, {"amx-int8", 7, 0, 'd', 25, 0},
    {"avxvnni", 7, 1, 'a', 4, 1}, {"avx512bf16", 7, 1, 'a', 5, 2}, {"hreset", 7, 1, 'a', 22, 0},
    {"xsaveopt", 0xd, 1, 'a', 0, 0}, {"xsavec", 0xd, 1, 'a', 1, 0}, {"xsaves", 0xd, 1, 'a', 3, 0},
    {"ptwrite", 0x14, 0, 'b', 4, 0}, {"widekl", 0x19, 0, 'b', 2, 0},
    {"sahf", 0x80000001u, 0, 'c', 0, 0}, {"abm", 0x80000001u, 0, 'c', 5, 0},
    {"lzcnt", 0x80000001u, 0, 'c', 5, 0}, {"sse4a", 0x80000001u, 0, 'c', 6, 0},
    {"prfchw", 0x80000001u, 0, 'c', 8, 0}, {"xop", 0x80000001u, 0, 'c', 11, 1},
    {"lwp", 0x80000001u, 0, 'c', 15, 0}, {"fma4", 0x80000001u, 0, 'c', 16, 1},
    {"tbm", 0x80000001u, 0, 'c', 21, 0}, {"mwaitx", 0x80000001u, 0, 'c', 29, 0},
    {"3dnow", 0x80000001u, 0, 'd', 31, 0},
    {"clzero", 0x80000008u, 0, 'b', 0, 0}, {"wbnoinvd", 0x80000008u, 0, 'b', 9, 0},
};

static PyObject *cpu_info_memo;

static PyObject *read_cpu(void)
{
    unsigned a, b, c, d, max_basic, max_ext, sig = 0;
    unsigned vendor[4] = {0, 0, 0, 0};
    unsigned long long xcr0 = 0;
    int avx_os = 0, avx512_os = 0;
    PyObject *names, *r;
    max_basic = __get_cpuid_max(0, &vendor[0]);
    __cpuid(0, a, vendor[0], vendor[2], vendor[1]);
    max_ext = __get_cpuid_max(0x80000000u, NULL);
    if (max_basic >= 1) {
        __cpuid(1, sig, b, c, d);
        /* xgetbv only where the OS enabled it (OSXSAVE): on an older CPU it would fault. */
        if (c & (1u << 27)) {
            unsigned lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            xcr0 = ((unsigned long long)hi << 32) | lo;
            avx_os = (xcr0 & 0x6) == 0x6;
            avx512_os = avx_os && (xcr0 & 0xe0) == 0xe0;
        }
    }
    names = PyList_New(0);
    if (!names) return NULL;
    unsigned regs[4] = {0, 0, 0, 0}, leaf = 0, sub = 0;
    int have = 0;
    for (size_t i = 0; i < sizeof(cpu_bits) / sizeof(cpu_bits[0]); i++) {
        const CpuBit *f = &cpu_bits[i];
        if (f->leaf < 0x80000000u ? f->leaf > max_basic : f->leaf > max_ext) continue;
        if (!have || f->leaf != leaf || f->sub != sub) {   /* the table is sorted by leaf */
            __cpuid_count(f->leaf, f->sub, regs[0], regs[1], regs[2], regs[3]);
            leaf = f->leaf; sub = f->sub; have = 1;
        }
        unsigned v = regs[f->reg == 'a' ? 0 : f->reg == 'b' ? 1 : f->reg == 'c' ? 2 : 3];
        if (!(v >> f->bit & 1)) continue;
        if ((f->os == 1 && !avx_os) || (f->os == 2 && !avx512_os)) continue;
        PyObject *n = PyUnicode_FromString(f->name);
        if (!n || PyList_Append(names, n) < 0) { Py_XDECREF(n); Py_DECREF(names); return NULL; }
        Py_DECREF(n);
    }
    PyObject *known = PyList_New(0);
    if (!known) { Py_DECREF(names); return NULL; }
    for (size_t i = 0; i < sizeof(cpu_bits) / sizeof(cpu_bits[0]); i++) {
        PyObject *n = PyUnicode_FromString(cpu_bits[i].name);
        if (!n || PyList_Append(known, n) < 0) {
            Py_XDECREF(n); Py_DECREF(names); Py_DECREF(known); return NULL;
        }
        Py_DECREF(n);
    }
    r = Py_BuildValue("{s:s#,s:I,s:K,s:N,s:N}", "vendor", (const char *)vendor, (Py_ssize_t)12,
                      "signature", sig, "xcr0", xcr0, "features", PyFrozenSet_New(names),
                      "known", PyFrozenSet_New(known));
    Py_DECREF(names);
    Py_DECREF(known);
    return r;
}
#else
static PyObject *cpu_info_memo;

static PyObject *read_cpu(void)
{
    /* No cpuid here: no features are claimed, so only generic code is known to be runnable. */
    return Py_BuildValue("{s:s,s:I,s:K,s:N,s:N}", "vendor", "", "signature", 0u, "xcr0", 0ull,
                         "features", PyFrozenSet_New(NULL), "known", PyFrozenSet_New(NULL));
}
#endif

static PyObject *cpuid_cpu_info(PyObject *mod, PyObject *unused)
{
    /* cpu_info() -> {"vendor", "signature" (cpuid leaf 1 eax), "xcr0", "features" (frozenset
     * of gcc -m option names this CPU and OS can run), "known" (every name asked about)}: read
     * once, then the same dict. */
    if (!cpu_info_memo && !(cpu_info_memo = read_cpu())) return NULL;
    Py_INCREF(cpu_info_memo);
    return cpu_info_memo;
}

static PyMethodDef module_methods[] = {
    {"cpu_info", cpuid_cpu_info, METH_NOARGS, "cpu_info() -> dict: this process's CPU, via cpuid"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, "fncache.toolchain._cpuid",
    "This process's CPU, read with cpuid (see cpuid.c).", -1, module_methods
};

PyMODINIT_FUNC PyInit__cpuid(void)
{
    return PyModule_Create(&moddef);
}
