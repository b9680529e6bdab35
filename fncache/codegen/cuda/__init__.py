"""The CUDA backend (``device="cuda"``, docs/cuda.md): the optimized graph rendered to one CUDA module,
compiled by nvcc (``fncache.toolchain.nvcc``) to a cubin per GPU architecture, cached in the compiledir, run through pycuda.

``render``   graph -> .cu source and launch specs (reuses the C backend's scalar code)
``device``   pycuda, the device, the context, arch / driver checks (GpuError)
``memory``   pooled allocation and GpuMemoryError with the fragmentation hint
``geometry`` per-call launch geometry (broadcasting, dim collapsing, reduction splits)
``arrays``   device arrays and the shape ops that are views
``blas``     matrix products through cuBLAS
``runtime``  the runner: values on the device, shared variables kept there
``linker``   build_cuda_runner: render, cache or compile, load
``emulator`` a CPU backend running the same kernels (tests, debugging without a GPU)

See docs/cuda.md.
"""
