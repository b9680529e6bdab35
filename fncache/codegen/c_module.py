"""Render a whole optimized graph for the C backend: one kernel library plus a program.

The kernels (fused elementwise loops, reductions) are plain C in one source, compiled by one
gcc call; graphs made only of BLAS products, views and Python ops need no compiler at all. The
program tells fncache's installed run-time (``c_runtime.c``) how to check the inputs, run the
nodes in order, release intermediates right after their last use (or keep them for reuse when
``allow_gc`` is off) and return the outputs as one array or a list. It is rebuilt from the
optimized graph in every process (it is small), so only the kernels are cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..graph.basic import Apply, copied_outputs
from ..graph.fgraph import FunctionGraph
from ..graph.slots import plan_slots
from . import c_program
from .c_nodes import NodeCtx, has_native, keeps_buffers, render_node, typenum

__all__ = ["KernelLibrary", "render_module", "prelude_text", "library_parts"]


class KernelLibrary:
    """A rendered graph. A plain class, not a dataclass or a named tuple: making one of those
    costs a quarter to a whole millisecond, and a warm cache hit in a fresh process imports this
    module."""

    __slots__ = ("source", "program", "n_args", "constants", "fallbacks", "node_of", "has_kernels")

    def __init__(
        self,
        *,
        source: str | None,
        program: tuple,
        n_args: int,
        constants: list[Any],
        fallbacks: list[Apply],
        node_of: list[Apply],
        has_kernels: bool,
    ) -> None:
        self.source = source  # the C source ("" when it has no kernels; None: not rendered)
        self.program = program  # what the run-time executes (see c_runtime.c)
        self.n_args = n_args  # explicit inputs + shared values
        self.constants = constants  # arrays handed to the runner at construction
        self.fallbacks = fallbacks  # nodes run through op.perform
        self.node_of = node_of  # the nodes, in the order the program runs them
        self.has_kernels = has_kernels  # whether the program calls a kernel library


def prelude_text() -> str:
    """The C prelude every kernel library starts with (types and scalar helpers)."""
    global _prelude_cache
    if _prelude_cache is None:
        # A plain read beside this module: importlib.resources costs milliseconds on its first
        # use, paid by any process that renders a library.
        _prelude_cache = Path(__file__).with_name("prelude.h").read_text()
    return _prelude_cache


_prelude_cache: str | None = None


def _kernels_or_aliases(step: int, node: Apply, code: str, first_of: dict[str, int]) -> tuple[int, str]:
    """Node ``step``'s kernels (``code``) under a comment naming it; or, when an earlier node's
    are the same code but for their names (the same op on the same types: a gradient graph's
    ``mul`` twice), aliases of that node's: the compiler optimizes each body once (most of a
    library's compile time), and the program calls every node's kernels by their own names.
    ``first_of`` maps code with neutral names to the node that has it. With the text, the node
    whose kernels it defines or aliases (an alias must be compiled with its target)."""
    own = f"fc_k{step}_"
    first = first_of.setdefault(code.replace(own, "fc_k#_"), step)
    title = f"/* node {step}: {str(node.op)[:80].replace('*/', '')} */"
    if first == step:
        return first, f"{title}\n{code}"
    theirs = f"fc_k{first}_"
    aliases = [
        f'{line} __attribute__((alias("{line.split("(", 1)[0].split()[-1].replace(own, theirs)}")));'
        for line in code.splitlines()
        if line.startswith("FC_EXPORT ")  # every exported kernel's head is one such line
    ]
    return first, "\n".join([f"{title[:-3]}: the kernels of node {first} */", *aliases])


#: gcc's time on a library is nearly all its kernels': 25 to 30 µs of CPU per character of
#: kernel C at -O3, against 0.035 s for a call's start, system headers and prelude (whose unused
#: static helpers are parsed, never compiled). A library with at least this many characters of
#: kernels per part (about 0.3 s of gcc) is built in parts, each by its own compiler call, all at
#: once: with two free cores its gcc time is about halved, for one more call's fixed cost and a
#: link (0.035 and 0.014 s of CPU), which a busy machine pays without the gain. Smaller
#: libraries (W4's, whose row pass is 60 % of it and cannot be split) gained nothing measurable.
PART_CHARS = 10000
#: At most this many parts: the text must not depend on the host (a function entry records its
#: hash), and a part beyond the free cores adds its fixed cost without shortening the wait.
MAX_PARTS = 2
_PART_END = "\n#endif /* part "  # the line closing each part: the prelude has no such line


def _in_parts(kernels: list[tuple[int, str]]) -> str:
    """The kernels' C, in parts of about equal compile time (their length) when it is long
    enough (:data:`PART_CHARS`): each node's kernels whole and in the part of the node they
    alias, the parts' kernels in node order, so the text depends on the graph alone."""
    groups: dict[int, list[str]] = {}
    for first, text in kernels:
        groups.setdefault(first, []).append(text)
    weight = {first: len(texts[0]) for first, texts in groups.items()}  # aliases cost nothing
    n = max(1, min(MAX_PARTS, len(groups), sum(weight.values()) // PART_CHARS))
    if n == 1:
        return "\n\n".join(text for _, text in kernels)
    load = [0] * n
    part_of = {}
    for first in sorted(groups, key=lambda g: (-weight[g], g)):  # the longest first, to the lightest part
        k = load.index(min(load))
        part_of[first] = k
        load[k] += weight[first]
    return "\n\n".join(
        f"#if FC_IN_PART({k})\n"
        + "\n\n".join(text for first, texts in groups.items() if part_of[first] == k for text in texts)
        + f"{_PART_END}{k} */"
        for k in range(n)
    )


def library_parts(source: str) -> int:
    """How many compiler calls build the kernel library ``source`` (see the prelude's
    ``FC_IN_PART``): one per part, or one for a library not in parts."""
    return max(1, source.count(_PART_END))


def render_module(
    fgraph: FunctionGraph, *, n_explicit: int, single: bool, source: bool = True
) -> KernelLibrary:
    """The kernel library and program of ``fgraph``. ``source=False`` renders the program only
    (``source`` is None): for a warm hit, whose function entry records the hash of the library's
    source, so its key needs no source text. The source depends on the graph alone."""
    plan = plan_slots(fgraph)
    nodes, slot = plan.nodes, plan.slot
    n_args = plan.n_inputs
    constants = [value for _, value in plan.consts]
    const_slots = [s for s, _ in plan.consts]
    out_ids = {id(v) for v in fgraph.outputs}

    kernels: list[tuple[int, str]] = []
    first_of: dict[str, int] = {}
    has_kernels = False
    steps: list[tuple] = []
    fallbacks: list[Apply] = []
    n_keep = 0
    for step, node in enumerate(nodes):
        # Outputs are kept too: with allow_gc off, a returned buffer the caller has dropped by
        # the next call (a JacobianRows row, copied out at once) is refilled, not remade.
        keeps = [-1] * len(node.outputs)
        if keeps_buffers(node):
            keeps = list(range(n_keep, n_keep + len(node.outputs)))
            n_keep += len(node.outputs)
        ctx = NodeCtx(
            k=step,
            ins=[slot[id(v)] for v in node.inputs],
            outs=[slot[id(o)] for o in node.outputs],
            keeps=keeps,
            is_output=[id(o) in out_ids for o in node.outputs],
            dying=plan.dying[step],
            source=source,
        )
        if not has_native(node):
            ctx.perform = len(fallbacks)
            fallbacks.append(node)
        code, st = render_node(node, ctx)
        if code:
            kernels.append(_kernels_or_aliases(step, node, code, first_of))
        has_kernels = has_kernels or any(st[c_program.STEP_KERNELS])
        steps.append(st)

    inputs = []
    for v in fgraph.inputs:
        static = [(d, s) for d, s in enumerate(v.type.shape) if s is not None]
        inputs.append((typenum(v.dtype), v.ndim, len(static), *(x for ds in static for x in ds)))
    outs = tuple(slot[id(v)] for v in fgraph.outputs)
    copies = tuple(map(int, copied_outputs(fgraph.outputs)))
    program = c_program.program(len(slot), n_keep, inputs, const_slots, steps, outs, copies, single)
    text = (prelude_text() + "\n\n" + _in_parts(kernels) + "\n") if kernels else ""
    return KernelLibrary(
        source=text if source else None,
        program=program,
        n_args=n_args,
        constants=constants,
        fallbacks=fallbacks,
        node_of=nodes,
        has_kernels=has_kernels,
    )
