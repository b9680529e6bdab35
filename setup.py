"""Build fncache's two C extensions: the run-time every compiled CPU function runs on, and the
toolchain's cpuid probe.

Everything else is in pyproject.toml. The run-time is compiled once, here, so that a new
function costs one compiler call on its own kernels only (see fncache/codegen/c_runtime.h).
"""

import hashlib
from pathlib import Path

import numpy
from setuptools import Extension, setup

HERE = Path(__file__).parent / "fncache" / "codegen"
# The same sum as fncache.codegen.c_linker.runtime_source_hash: the run-time records what it
# was built from, so a checkout edited but not rebuilt is refused with a clear message.
SOURCE = hashlib.sha256(
    b"".join(
        (HERE / n).read_bytes()
        for n in ("c_runtime.h", "c_runtime.c", "c_steps.c", "c_random.c", "c_program.py")
    )
)

setup(
    ext_modules=[
        Extension(
            "fncache.codegen._c_runtime",
            sources=[
                "fncache/codegen/c_runtime.c",
                "fncache/codegen/c_steps.c",
                "fncache/codegen/c_random.c",
            ],
            include_dirs=[numpy.get_include()],
            define_macros=[
                ("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                ("FC_RUNTIME_SOURCE", f'"{SOURCE.hexdigest()[:16]}"'),
            ],
            # -ffp-contract=off: random numbers must be the same bits on every host (c_random.c), so
            # no multiply-add may be fused, whatever CFLAGS a build adds (-march=native, say).
            extra_compile_args=["-O2", "-fopenmp", "-std=c11", "-ffp-contract=off"],
            extra_link_args=["-fopenmp", "-ldl"],
        ),
        # What this process's CPU can run (fncache/toolchain/cpu.py): the toolchain's own, no numpy.
        Extension(
            "fncache.toolchain._cpuid", sources=["fncache/toolchain/cpuid.c"], extra_compile_args=["-O2"]
        ),
    ]
)
