"""The rewrite registry: named global passes with tags, selected by a Mode.

A pass takes a FunctionGraph, edits it in place and returns whether it changed anything. The
phases run in order; passes of the ``canonical`` phase repeat until nothing changes. ``branches``
passes see the canonical graph before fusion (`ifelse_lazy` moves nodes into branches). ``fused``
passes see the graph after `fusion` (whole fused loops). Passes tagged ``cpu`` make nodes only
the C backend runs natively: a mode for the ``cuda`` device skips them.
"""

from __future__ import annotations

import importlib
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


#: The rewrite modules, in the order their passes run within a phase (a module's passes in the
#: order it registers them). The order is this list's, not the order some code happened to
#: import the modules in: passes that match each other's patterns must meet in one order in
#: every process.
_MODULES = (
    "merge",  # first: the other passes see one node per computation
    "op_from_graph",  # the other passes see the graphs inline
    "broadcast_reduce",  # before constant folding tries a broadcast's size
    "asserts",
    "canonicalize",
    "constant_folding",
    "fusion",
    "grad_markers",
    "inplace",
    "ifelse_lazy",
    "one_hot",
    "rowpass",
    "scan_outputs",
    "sizes",
    "log_softmax",  # before index_elemwise takes the log of the picks
    "index_elemwise",
    "logistic",
    "random_state",
    "sigmoid_products",
    "composite",  # after rowpass: runs on the bodies it leaves
    "rowpass_merge",  # after composite: its dropped inputs free passes
)


def _place(r: Rewrite) -> int:
    """``r``'s module's place in `_MODULES` (a pass registered elsewhere runs after them)."""
    module = r.fn.__module__
    prefix = f"{__package__}."
    name = module[len(prefix) :] if module.startswith(prefix) else ""
    return _MODULES.index(name) if name in _MODULES else len(_MODULES)


_ordered = 0  # len(REWRITES) when they were last put in order


def _load_all() -> None:
    # Importing a rewrite module registers its rewrites.
    global _ordered
    if _ordered == len(REWRITES) and _ordered:
        return
    for name in _MODULES:
        importlib.import_module(f"{__package__}.{name}")
    REWRITES.sort(key=_place)  # stable: a module's own passes keep their order
    _ordered = len(REWRITES)
