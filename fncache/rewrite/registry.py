"""The rewrite registry: named global passes with tags, selected by a Mode.

A pass takes a FunctionGraph, edits it in place and returns whether it changed anything. The
phases run in order; passes of the ``canonical`` phase repeat until nothing changes. ``branches``
passes see the canonical graph before fusion (`ifelse_lazy` moves nodes into branches). ``fused``
passes see the graph after `fusion` (whole fused loops). Passes tagged ``cpu`` make nodes only
the C backend runs natively: a mode for the ``cuda`` device skips them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from ..graph.fgraph import FunctionGraph
from ..mode import Mode

__all__ = ["Rewrite", "register", "optimize", "selected", "REWRITES"]

log = logging.getLogger(__name__)

PHASES = ("canonical", "branches", "fusion", "fused", "late")


@dataclass(frozen=True)
class Rewrite:
    name: str
    tags: frozenset[str]
    phase: str
    fn: Callable[[FunctionGraph], bool]


REWRITES: list[Rewrite] = []


def register(
    name: str, *tags: str, phase: str = "canonical"
) -> Callable[[Callable[[FunctionGraph], bool]], Callable[[FunctionGraph], bool]]:
    """Register a pass under ``name`` (itself a tag) with extra ``tags``."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}")

    def deco(fn: Callable[[FunctionGraph], bool]) -> Callable[[FunctionGraph], bool]:
        REWRITES.append(Rewrite(name, frozenset((name,) + tags), phase, fn))
        return fn

    return deco


#: Tags a mode named that no rewrite has, already reported (once per process each).
_UNKNOWN_TAGS_SEEN: set[str] = set()


def selected(mode: Mode) -> list[Rewrite]:
    """The passes a mode runs: its optimizer's tag plus ``including``, minus ``excluding``. A
    tag no rewrite has is logged once: it selects nothing (Theano's own tags, such as
    ``local_elemwise_fusion``, name rewrites fncache calls otherwise or does not have)."""
    _load_all()
    unknown = set(mode.included_tags + mode.excluded_tags) - _UNKNOWN_TAGS_SEEN
    if unknown:
        known = set().union(*(r.tags for r in REWRITES))
        for tag in sorted(unknown - known):
            _UNKNOWN_TAGS_SEEN.add(tag)
            log.warning(
                "rewrite tag %r (in a mode's including/excluding) names no rewrite and selects "
                "nothing; known tags: %s",
                tag,
                ", ".join(sorted(known)),
            )
    want = set(mode.included_tags)
    if mode.optimizer is not None:
        want.add(mode.optimizer)
    drop = set(mode.excluded_tags)
    if mode.device == "cuda":
        drop.add("cpu")
    return [r for r in REWRITES if r.tags & want and not r.tags & drop]


def optimize(fgraph: FunctionGraph, mode: Mode, max_rounds: int = 8) -> FunctionGraph:
    """Run the mode's passes on ``fgraph`` (in place) and return it."""
    passes = selected(mode)
    for phase in PHASES:
        group = [r for r in passes if r.phase == phase]
        for _ in range(max_rounds if phase == "canonical" else 1):
            changed = False
            for r in group:
                if r.fn(fgraph):
                    log.debug("rewrite %s changed the graph", r.name)
                    changed = True
            if not changed:
                break
    return fgraph


def _load_all() -> None:
    # Importing a rewrite module registers its rewrites.
    from . import op_from_graph  # noqa: F401  (first: the other passes see the graphs inline)
    from . import broadcast_reduce  # noqa: F401  (before constant folding tries a broadcast's size)
    from . import asserts, canonicalize, constant_folding, fusion, grad_markers, inplace  # noqa: F401
    from . import ifelse_lazy, merge, one_hot, rowpass, scan_outputs, sizes  # noqa: F401
    from . import log_softmax  # noqa: F401  (before index_elemwise takes the log of the picks)
    from . import index_elemwise, logistic, random_state, sigmoid_products  # noqa: F401
    from . import composite  # noqa: F401  (after rowpass: runs on the bodies it leaves)
    from . import rowpass_merge  # noqa: F401  (after composite: its dropped inputs free passes)
