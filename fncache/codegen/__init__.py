"""Code generators: one renderer per target (C for the CPU; CUDA for NVIDIA GPUs)."""
