"""Device memory: allocation through a caching pool, and out-of-memory errors a user can act on.

A failed allocation first releases the blocks the pool holds but nobody uses and retries; if it
still fails it raises :class:`fncache.GpuMemoryError` (also a ``MemoryError``) with the bytes
requested and the driver's free and total figures. When less was requested than is free, the
message explains fragmentation, which is what Theano users hit as "out of memory... but not
really" (a GPU has no virtual memory: one allocation needs one contiguous free block).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from ...errors import GpuMemoryError

__all__ = ["DeviceMemory", "oom_message", "format_bytes", "EMPTY"]

log = logging.getLogger(__name__)


class _Empty:
    """The buffer of a zero-size array: pointer 0, nothing to free."""

    def __int__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "<empty device buffer>"


EMPTY = _Empty()


def format_bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.2f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def oom_message(requested: int, free: int | None, total: int | None, what: str) -> str:
    msg = (
        f"Error allocating {format_bytes(requested)} of device memory"
        f"{f' for {what}' if what else ''} (out of memory)."
    )
    if free is None or total is None:
        return msg + " The driver did not report its free memory."
    msg += f" The driver reports {format_bytes(free)} free and {format_bytes(total)} total."
    if requested < free:
        msg += (
            " Less was requested than is free: the free memory is fragmented. A GPU has no "
            "virtual memory, so one allocation needs one contiguous free block, and many "
            "allocations of changing sizes (e.g. set_value() on shared variables with new "
            "shapes, or other libraries in this process) leave only smaller holes. Allocate "
            "large long-lived arrays first and keep their shapes fixed, call f.free() on "
            "functions you no longer use, or release other libraries' cached memory."
        )
    else:
        msg += (
            " Use smaller inputs or batches, float32 instead of float64, or free device "
            "memory held elsewhere (other processes are listed by nvidia-smi)."
        )
    return msg


class DeviceMemory:
    """Allocation with the retry and the error described in the module docstring.

    ``allocate(nbytes)`` returns an object whose ``int()`` is the device pointer and which
    frees the memory when garbage collected; ``free_held()`` releases the pool's unused blocks;
    ``mem_info()`` gives the driver's ``(free, total)``; ``is_oom(exc)`` recognises the
    driver's out-of-memory error.
    """

    def __init__(
        self,
        allocate: Callable[[int], Any],
        free_held: Callable[[], None],
        mem_info: Callable[[], tuple[int, int]],
        is_oom: Callable[[BaseException], bool],
    ) -> None:
        self._allocate = allocate
        self._free_held = free_held
        self._mem_info = mem_info
        self._is_oom = is_oom

    def alloc(self, nbytes: int, what: str = "") -> Any:
        if nbytes <= 0:
            return EMPTY
        try:
            return self._allocate(nbytes)
        except Exception as e:
            if not self._is_oom(e):
                raise
            log.info("device allocation of %d bytes failed; releasing pooled blocks and retrying", nbytes)
        self._free_held()
        try:
            return self._allocate(nbytes)
        except Exception as e:
            if not self._is_oom(e):
                raise
            free: int | None
            total: int | None
            try:
                free, total = self._mem_info()
            except Exception as info_error:  # the report must not hide the real error
                log.debug("mem_get_info failed: %s", info_error)
                free = total = None
            raise GpuMemoryError(oom_message(nbytes, free, total, what)) from e
