"""Build fncache's one C extension, the run-time every compiled CPU function runs on.

Everything else is in pyproject.toml. The run-time is compiled once, here, so that a new
function costs one compiler call on its own kernels only (see fncache/codegen/c_runtime.h).
"""
import numpy
from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "fncache.codegen._c_runtime",
    sources=["fncache/codegen/c_runtime.c", "fncache/codegen/c_steps.c"],
    include_dirs=[numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=["-O2", "-fopenmp", "-std=c11"],
    extra_link_args=["-fopenmp", "-ldl"],
)])
