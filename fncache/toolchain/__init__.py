"""The toolchain: this host's target flags (CPU detection), the gcc call that builds C into shared
objects and the nvcc call that builds CUDA into cubins."""

from .compiler import compile_flags, compile_shared_object, compiler_id, ext_suffix, python_abi_tag
from .march import host_march_flags, host_platform_tag, host_vector_width

__all__ = [
    "compile_flags",
    "compile_shared_object",
    "compiler_id",
    "ext_suffix",
    "host_march_flags",
    "host_vector_width",
    "host_platform_tag",
    "python_abi_tag",
]
