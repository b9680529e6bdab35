"""Every error class fncache raises (README "Errors") in one place."""

from __future__ import annotations


class FncacheError(Exception):
    """Base class of all fncache-specific errors."""


class CompileError(FncacheError):
    """The native compiler failed; the message names the command, its stderr tail and the kept source."""


class LockTimeout(FncacheError):
    """A cache lock was not obtained within ``config.lock_timeout``."""


class PickleError(FncacheError):
    """A pickle made by an incompatible fncache, or one whose signature does not verify."""


class Float64Error(FncacheError):
    """A float64 variable was created from non-float64 inputs while ``warn_float64='raise'``."""


class GpuError(FncacheError):
    """No usable GPU, no pycuda, or an architecture / driver / toolkit mismatch."""


class GpuMemoryError(GpuError, MemoryError):
    """A device allocation failed; the message carries requested, free and total bytes."""


class CacheError(FncacheError):
    """The compiledir cannot be used as asked (bad permissions, not a compiledir, unknown key...)."""


class GradientError(FncacheError, AssertionError):
    """``ft.verify_grad`` found a symbolic gradient that differs from finite differences. An
    AssertionError: a failed check, which test runners report as a failure, not an error."""
