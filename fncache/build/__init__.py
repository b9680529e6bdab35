"""The build layer: this host's target flags and one-call compilation of C into shared objects."""
from .compiler import compile_flags, compile_shared_object, compiler_id, ext_suffix, python_abi_tag
from .march import host_march_flags, host_platform_tag, host_vector_width

__all__ = ["compile_flags", "compile_shared_object", "compiler_id", "ext_suffix", "host_march_flags",
           "host_vector_width", "host_platform_tag", "python_abi_tag"]
