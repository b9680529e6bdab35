"""FunctionGraph: a graph with fixed inputs and outputs that rewrites edit in place."""

from __future__ import annotations

from typing import Callable, Sequence

from .basic import Apply, Constant, Variable, ancestors, clone_graph, toposort

__all__ = ["FunctionGraph", "users_by_id"]


class FunctionGraph:
    """Owns a cloned graph. ``inputs`` are the explicit inputs followed by shared variables'
    placeholders; ``outputs`` the outputs followed by update expressions."""

    def __init__(
        self,
        inputs: Sequence[Variable],
        outputs: Sequence[Variable],
        clone: bool = True,
        label: Callable[[int], str] | None = None,
    ) -> None:
        """``label(k)``: what output ``k`` is ("output 0", "the update of W"), asked only by the
        error naming the one that reads a variable that is no input."""
        if clone:
            inputs, outputs, _ = clone_graph(inputs, outputs)
        self.inputs: list[Variable] = list(inputs)
        self.outputs: list[Variable] = list(outputs)
        missing = [
            v
            for v in ancestors(self.outputs, self.inputs)
            if v.owner is None and not isinstance(v, Constant) and not any(v is i for i in self.inputs)
        ]
        if missing:
            names = ", ".join(repr(m) for m in missing[:5])
            reader = ""
            if label is not None:
                k = next(
                    k
                    for k, o in enumerate(self.outputs)
                    if any(v is missing[0] for v in ancestors([o], self.inputs))
                )
                reader = f" ({label(k)} reads {missing[0]!r})"
            raise ValueError(
                f"the outputs depend on variables that are not inputs of the function: {names}{reader}. "
                "Add them to the inputs list (or make them shared variables / constants)."
            )

    def toposort(self) -> list[Apply]:
        return toposort(self.outputs, blockers=self.inputs)

    @property
    def nodes(self) -> list[Apply]:
        return self.toposort()

    @property
    def apply_nodes(self) -> set[Apply]:
        """The graph's nodes, as the set Theano's and PyTensor's ``fgraph.apply_nodes`` is."""
        return set(self.toposort())

    def __repr__(self) -> str:
        return f"FunctionGraph({self.inputs} -> {self.outputs})"


def users_by_id(nodes: Sequence[Apply]) -> dict[int, list[Apply]]:
    """The nodes of ``nodes`` reading each variable, keyed by the variable's id, in order."""
    users: dict[int, list[Apply]] = {}
    for node in nodes:
        for v in node.inputs:
            users.setdefault(id(v), []).append(node)
    return users
