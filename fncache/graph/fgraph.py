"""FunctionGraph: a graph with fixed inputs and outputs that rewrites edit in place."""
from __future__ import annotations

from typing import Sequence

from .basic import Apply, Constant, Variable, ancestors, clone_graph, toposort

__all__ = ["FunctionGraph"]


class FunctionGraph:
    """Owns a cloned graph. ``inputs`` are the explicit inputs followed by shared variables'
    placeholders; ``outputs`` the outputs followed by update expressions."""

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 clone: bool = True) -> None:
        if clone:
            inputs, outputs, _ = clone_graph(inputs, outputs)
        self.inputs: list[Variable] = list(inputs)
        self.outputs: list[Variable] = list(outputs)
        missing = [v for v in ancestors(self.outputs, self.inputs)
                   if v.owner is None and not isinstance(v, Constant)
                   and not any(v is i for i in self.inputs)]
        if missing:
            names = ", ".join(repr(m) for m in missing[:5])
            raise ValueError(
                f"the outputs depend on variables that are not inputs of the function: {names}. "
                "Add them to the inputs list (or make them shared variables / constants).")

    def toposort(self) -> list[Apply]:
        return toposort(self.outputs, blockers=self.inputs)

    @property
    def nodes(self) -> list[Apply]:
        return self.toposort()

    def clients(self) -> dict[Variable, list[tuple[Apply | str, int]]]:
        """Who uses each variable: (node, input index), or ("output", i) for graph outputs."""
        cl: dict[Variable, list[tuple[Apply | str, int]]] = {}
        for node in self.toposort():
            for i, v in enumerate(node.inputs):
                cl.setdefault(v, []).append((node, i))
        for i, v in enumerate(self.outputs):
            cl.setdefault(v, []).append(("output", i))
        return cl

    def replace(self, old: Variable, new: Variable) -> None:
        """Make every user of ``old`` use ``new`` (types must agree in dtype and ndim)."""
        if old.type.dtype != new.type.dtype or old.type.ndim != new.type.ndim:
            raise TypeError(f"rewrite changed type {old.type} -> {new.type} of {old!r}")
        if old is new:
            return
        for node in self.toposort():
            for i, v in enumerate(node.inputs):
                if v is old:
                    node.inputs[i] = new
        for i, v in enumerate(self.outputs):
            if v is old:
                self.outputs[i] = new

    def replace_all(self, pairs: Sequence[tuple[Variable, Variable]]) -> None:
        mapping = {id(o): n for o, n in pairs if o is not n}
        if not mapping:
            return
        for node in self.toposort():
            node.inputs = [mapping.get(id(v), v) for v in node.inputs]
        self.outputs = [mapping.get(id(v), v) for v in self.outputs]

    def __repr__(self) -> str:
        return f"FunctionGraph({self.inputs} -> {self.outputs})"
