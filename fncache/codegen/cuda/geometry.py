"""Launch geometry, computed on the host for each call: broadcasting, dimension collapsing, grid
sizes, and how a reduction is split across blocks.

Pure Python on shapes and element strides (no device), so it is unit-tested without a GPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from ...errors import BroadcastError
from .render import BLOCK

__all__ = [
    "broadcast_shape",
    "broadcast_strides",
    "collapse",
    "elemwise_geometry",
    "grid_1d",
    "ReducePlan",
    "reduce_plan",
]

#: Resident blocks per SM the grid sizes aim for (BLOCK threads each: 2048 threads per SM).
BLOCKS_PER_SM = 8
#: Elements a block should have to reduce before a reduction is split further across blocks.
MIN_PER_BLOCK = BLOCK * 8


def broadcast_shape(shapes: Sequence[tuple[int, ...]], what: str) -> tuple[int, ...]:
    """numpy broadcasting; the ValueError names the operation and the shapes."""
    nd = max((len(s) for s in shapes), default=0)
    out = [1] * nd
    for s in shapes:
        off = nd - len(s)
        for d, n in enumerate(s):
            if n != 1:
                if out[off + d] not in (1, n):
                    raise BroadcastError.of(what, shapes)
                out[off + d] = n
    return tuple(out)


def broadcast_strides(
    shape: Sequence[int], strides: Sequence[int], out_shape: Sequence[int]
) -> tuple[int, ...]:
    """Element strides of an array of ``shape`` read as ``out_shape`` (0 where broadcast)."""
    off = len(out_shape) - len(shape)
    return tuple(0 if d < off or shape[d - off] == 1 else strides[d - off] for d in range(len(out_shape)))


def collapse(shape: Sequence[int], strides: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """Merge adjacent dims that every operand walks as one (outer stride = inner stride times
    inner size) and drop size-1 dims, keeping C order: a contiguous 3-D add becomes 1-D and
    ``X + row`` stays 2-D. Fewer dims mean fewer divisions per element in the kernels."""
    dims: list[int] = []
    sts: list[list[int]] = [[] for _ in strides]
    for d, n in enumerate(shape):
        if n == 1:
            continue
        if dims and all(st[-1] == s[d] * n for st, s in zip(sts, strides)):
            dims[-1] *= n
            for st, s in zip(sts, strides):
                st[-1] = s[d]
        else:
            dims.append(n)
            for st, s in zip(sts, strides):
                st.append(s[d])
    return dims, sts


def _pad(dims: list[int], sts: list[list[int]], k: int) -> tuple[list[int], list[list[int]]]:
    """Left-pad a collapsed geometry to the kernel's ``k`` dims with size-1, stride-0 dims."""
    pad = k - len(dims)
    if pad < 0:
        raise AssertionError(f"geometry of {len(dims)} dims for a kernel of {k}")
    return [1] * pad + dims, [[0] * pad + st for st in sts]


def elemwise_geometry(shape: Sequence[int], strides: Sequence[Sequence[int]], k: int) -> list[int]:
    """The strided elementwise kernel's geometry struct: ``sh[k]`` then ``st[operand][k]``."""
    dims, sts = _pad(*collapse(shape, strides), k)
    return dims + [x for st in sts for x in st]


def grid_1d(n: int, sm_count: int) -> int:
    """Blocks for a grid-stride loop over ``n`` elements: one full wave (every SM at full
    occupancy), no more: extra blocks only add a partial second wave."""
    return max(1, min(-(-n // BLOCK), sm_count * BLOCKS_PER_SM))


def _pow2_block(n: int) -> int:
    """A block of at least one warp and at most BLOCK threads for ``n`` parallel items."""
    return max(32, min(BLOCK, 1 << max(0, math.ceil(math.log2(max(n, 1))))))


@dataclass(frozen=True)
class ReducePlan:
    layout: str  # "rows": a block per (output, chunk); "cols": a thread per output
    M: int  # outputs
    R: int  # elements reduced into each output
    G: int  # chunks each output's reduction is split into (G > 1: 2 passes)
    chunk: int  # reduced elements per chunk
    rflat: int  # 1 when the reduced dims collapsed to one (no division per element)
    grid: tuple[int, int]
    block: tuple[int, int, int]
    geom: list[int]  # ksh[kd], rsh[rd], kst[n][kd], rst[n][rd]
    final_grid: tuple[int, int]
    final_block: tuple[int, int, int]


def _inner_is_reduced(shape: Sequence[int], axes: Sequence[int], strides: Sequence[Sequence[int]]) -> bool:
    """Whether the fastest-varying dim of the operand that moves most is a reduced one."""
    main = max(strides, key=lambda st: sum(1 for d, s in enumerate(st) if s and shape[d] > 1))
    live = [(abs(s), d) for d, s in enumerate(main) if s and shape[d] > 1]
    return bool(live) and min(live)[1] in axes


def reduce_plan(
    shape: Sequence[int],
    axes: Sequence[int],
    strides: Sequence[Sequence[int]],
    kd: int,
    rd: int,
    sm_count: int,
) -> ReducePlan:
    """How to run one reduction of an operand set of broadcast ``shape`` over ``axes``.

    Reduced axes innermost (``sum(x)``, ``sum(X, axis=1)``): ``rows``, a block cooperates on
    each output with coalesced loads and a shared-memory/shuffle tree; when there are fewer
    outputs than SMs can take, each output is split into G chunks and a second kernel combines
    the partials. Reduced axes outer (``sum(X, axis=0)``): ``cols``, consecutive threads own
    consecutive outputs (coalesced), the reduced range again split into G chunks when there are
    too few outputs to fill the GPU.
    """
    kept = [d for d in range(len(shape)) if d not in axes]
    red = [d for d in range(len(shape)) if d in axes]
    M = math.prod(shape[d] for d in kept)
    R = math.prod(shape[d] for d in red)
    kdims, ksts = _pad(*collapse([shape[d] for d in kept], [[st[d] for d in kept] for st in strides]), kd)
    rc = collapse([shape[d] for d in red], [[st[d] for d in red] for st in strides])
    rflat = int(len(rc[0]) <= 1)
    rdims, rsts = _pad(*rc, rd)
    geom = kdims + rdims + [x for st in ksts for x in st] + [x for st in rsts for x in st]
    target = sm_count * BLOCKS_PER_SM
    rows = M == 1 or (R >= 32 and _inner_is_reduced(shape, axes, strides))
    if rows:
        G = max(1, min(-(-target // M), -(-R // MIN_PER_BLOCK)))
        block = _pow2_block(-(-R // G))
        chunk = -(-R // G)
        chunk = -(-chunk // block) * block if R else 1
        G = max(1, -(-R // chunk)) if R else 1
        grid = (max(1, min(M * G, target * 4)), 1)
    else:
        block = _pow2_block(M)
        gx = max(1, min(-(-M // block), target * 4))
        G = max(1, min(-(-(target * BLOCK) // M), -(-R // 64), 65535)) if R else 1
        chunk = -(-R // G) if R else 1
        G = max(1, -(-R // chunk)) if R else 1
        grid = (gx, G)
    fb = _pow2_block(G)
    return ReducePlan(
        "rows" if rows else "cols",
        M,
        R,
        G,
        chunk,
        rflat,
        grid,
        (block, 1, 1),
        geom,
        (max(1, min(M, target * 4)), 1),
        (fb, 1, 1),
    )
