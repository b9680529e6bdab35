"""Every error class fncache raises (README "Errors") in one place."""

from __future__ import annotations

import copy
from typing import Any, Sequence


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
    AssertionError: a failed check, which test runners report as a failure, not an error.

    PyTensor's constructor and attributes: ``arg`` (which argument), ``err_pos`` (the flat
    position in it), ``shape`` (its shape), ``val1`` and ``val2`` (the symbolic and the
    numerical gradient there), ``abs_err``, ``rel_err``, ``abs_tol`` and ``rel_tol``; and
    fncache's ``pos`` (the position as an index tuple), ``analytic`` and ``numeric`` (``val1``
    and ``val2``), and ``part`` (``"real"`` or ``"imaginary"`` for a complex argument, whose
    parts are compared one by one; None otherwise)."""

    def __init__(
        self,
        arg: int,
        err_pos: int,
        shape: tuple[int, ...],
        val1: float,
        val2: float,
        abs_err: float,
        rel_err: float,
        abs_tol: float,
        rel_tol: float,
        part: str | None = None,
    ) -> None:
        self.arg, self.err_pos, self.shape = int(arg), int(err_pos), tuple(int(s) for s in shape)
        self.val1, self.val2 = float(val1), float(val2)
        self.abs_err, self.rel_err = float(abs_err), float(rel_err)
        self.abs_tol, self.rel_tol = float(abs_tol), float(rel_tol)
        self.part = part
        rest, pos = self.err_pos, []
        for size in reversed(self.shape):
            rest, k = divmod(rest, size)
            pos.append(k)
        self.pos = tuple(reversed(pos))
        where = f" (its {part} part)" if part else ""
        super().__init__(
            f"verify_grad: the gradient of argument {self.arg} (shape {self.shape}) at position "
            f"{self.pos}{where} is {self.val1!r} symbolically but {self.val2!r} by finite "
            f"differences: abs error {self.abs_err:.3g} (abs_tol {self.abs_tol:.3g}), rel error "
            f"{self.rel_err:.3g} (rel_tol {self.rel_tol:.3g})"
        )

    @property
    def analytic(self) -> float:
        return self.val1

    @property
    def numeric(self) -> float:
        return self.val2

    def __reduce__(self) -> tuple:
        fields = (self.arg, self.err_pos, self.shape, self.val1, self.val2, self.abs_err, self.rel_err)
        return type(self), (*fields, self.abs_tol, self.rel_tol, self.part)


class DisconnectedInputError(FncacheError, ValueError):
    """``fc.grad`` (``jacobian``, ``hessian``, ``Lop``, ``Rop``) was asked for the gradient with
    respect to a variable the cost does not depend on, under ``disconnected_inputs="raise"``
    (Theano/PyTensor's name). A ValueError, as fncache raised before it had this name."""


class NullTypeGradError(FncacheError, NotImplementedError, TypeError):
    """A gradient goes through an op that has none (no gradient rule, an ``as_op`` without
    ``grad``). Theano/PyTensor's name, a TypeError there; also the NotImplementedError fncache
    raised before it had this name, so either ``except`` clause catches it."""


class ArgumentValueError(FncacheError, ValueError, AssertionError):
    """A function was given, when it runs, a value outside what it takes (a class index past
    the number of classes, a quantile level outside [0, 1], a non-square ``Q``...); the message
    names the function and the fix. An AssertionError too: Theano's and PyTensor's checks of the
    same values are ``Assert`` ops, and code written for them catches that."""


class OutOfRangeError(FncacheError, OverflowError, ValueError):
    """A number was given for a dtype that cannot hold it (``ft.constant(300, dtype="int8")``,
    ``int8_vector + 300``); the message names the function and the value. An OverflowError, as
    numpy's for a Python int out of a dtype's range, and a ValueError, as other bad values."""


class _SaidFromData(FncacheError, ValueError):
    """An error whose message is said from data it carries (``head``, then what ``_named``
    says of the data), so that it can be said again with more of the data known."""

    head: str

    def _named(self) -> str:
        raise NotImplementedError

    def _said_again(self, **data: Any) -> Any:
        """A copy of this error with ``data`` set, its message said again from it (keeping
        what followed the message: a node's description, with exception_verbosity high)."""
        new = copy.copy(self)
        for name, value in data.items():
            setattr(new, name, value)
        text, said = str(self), self.head + self._named()
        new.args = (self.head + new._named() + (text[len(said) :] if text.startswith(said) else ""),)
        return new

    def renamed(self, said: dict[tuple[int, int], tuple[int | None, str | None, int]]) -> Any:
        """This error said from outside the function that raised it (an inner function's
        inputs, as the outer function's user wrote them): each operand of ``sizes`` that is
        input ``k`` along ``axis`` at the outer function's input position, name and axis
        ``said[k, axis]`` (either None where there is none), an operand named already keeping
        its name (and its position only where the axis is the same); one not in ``said`` (a
        loop's row of a sequence) at no position, since positions are those of the inputs of
        the function that raised; itself where nothing changes."""

        def outside(k: int | None, name: str | None, a: int, n: int) -> tuple:
            if k is None:
                return k, name, a, n
            k_out, name_out, a_out = said.get((k, a), (None, None, a))
            if name is None:
                return k_out, name_out, a_out, n
            return (k_out if a_out == a else None), name, a, n

        sizes = tuple(outside(*s) for s in self.sizes)
        return self if sizes == self.sizes else self._said_again(sizes=sizes)


class BroadcastError(_SaidFromData):
    """Values whose shapes do not broadcast together (numpy's rules) met when a function runs; a
    ValueError, as fncache raised before it had this name. Beside the message it carries what
    the message says, as data: ``op``, the op that broadcasts them, as the message names it,
    ``shapes``, its operands' shapes in its order (a check of sizes read without computing the
    value: the sizes; a row pass adds ``part``: which node of its region failed), and, once the error is said in the user's words, ``sizes``: the operands
    whose sizes differ along the first axis that does not broadcast, each as ``(input, name,
    axis, size)`` (``input``: the position, among the inputs of the function that raised, of
    the input the operand has that size of, or None; ``name``: the user's name for it, or None
    for a value computed in the function; ``axis``: that input's axis of that size, the rows
    of ``x @ w`` being x's axis 0).
    Run-time errors are said again in the user's words from these, never from the message."""

    def __init__(
        self,
        message: str,
        op: str = "",
        shapes: Sequence[Sequence[int]] = (),
        sizes: Sequence[tuple[int | None, str | None, int, int]] = (),
        fix: str = "",
    ) -> None:
        self.op, self.head, self.fix = op, message, fix
        self.shapes = tuple(tuple(int(n) for n in s) for s in shapes)
        self.sizes = tuple((k, name, int(axis), int(n)) for k, name, axis, n in sizes)
        self.part: int | None = None
        super().__init__(message + self._named())

    @classmethod
    def of(cls, op: str, shapes: Sequence[Sequence[int]]) -> BroadcastError:
        """The error of ``op`` given operands of ``shapes``, in the words every linker uses."""
        shapes = [tuple(int(n) for n in s) for s in shapes]
        return cls(
            f"{op}: input shapes {shapes} cannot be broadcast together (numpy broadcasting rules)", op, shapes
        )

    def _named(self) -> str:
        """The named operands' sizes and the fix (``fix`` where no operand is named)."""
        named: dict[str, str] = {}
        for _, name, axis, n in self.sizes:
            if name:
                named.setdefault(name, f"{name} has size {n} along axis {axis}")
        if not named:
            return f"; {self.fix}" if self.fix else ""
        computed = dict.fromkeys(str(n) for _, name, _, n in self.sizes if not name)
        where = (
            f" where a value computed in the function has size {' or '.join(computed)}" if computed else ""
        )
        fix = (
            f"{' and '.join(named)} sizes that match"
            if len(named) > 1
            else f"{next(iter(named))} a size that matches"
        )
        return f": {', '.join(named.values())}{where}; give {fix} (or 1, which broadcasts)"

    def with_sizes(self, sizes: Sequence[tuple[int | None, str | None, int, int]]) -> BroadcastError:
        """This error said again with ``sizes`` (see the class) known."""
        return self._said_again(sizes=tuple((k, name, int(axis), int(n)) for k, name, axis, n in sizes))


class NotAlignedError(_SaidFromData):
    """The operands of a product (``dot``, ``a @ b``) whose inner sizes differ, met when a
    function runs; a ValueError, as fncache raised before it had this name. Beside the message
    it carries, as data, ``op`` (``"dot"``), ``shapes`` (the operands' shapes), ``part`` (which
    product of a row pass, or None) and, once said in the user's words, ``sizes``: each operand
    as ``(input, name, axis, size)`` (as a `BroadcastError`'s: the position, among the inputs
    of the function that raised, of the input the operand has its inner size of, or None; the
    user's name for it, or None for a value computed in the function; that input's axis of
    that size; the size) and ``names``: the user's names of the operands, from which it is
    said again, never from the message."""

    op = "dot"

    def __init__(
        self,
        message: str,
        shapes: Sequence[Sequence[int]] = (),
        names: Sequence[str | None] = (),
        sizes: Sequence[tuple[int | None, str | None, int, int]] = (),
    ) -> None:
        self.head = message
        self.shapes = tuple(tuple(int(n) for n in s) for s in shapes)
        self.sizes = tuple((k, name, int(axis), int(n)) for k, name, axis, n in sizes) or tuple(
            (None, name, axis, s[axis]) for name, s, axis in zip(names, self.shapes, self.inner_axes())
        )
        self.part: int | None = None
        # a message alone (a pickle's, one said again with more after it) is said as it is
        super().__init__(message + self._named() if self.shapes else message)

    @property
    def names(self) -> tuple[str | None, ...]:
        return tuple(name for _, name, _, _ in self.sizes)

    def inner_axes(self) -> tuple[int, ...]:
        """The operands' own axes of the inner size: a's last, b's first."""
        return (len(self.shapes[0]) - 1, 0) if len(self.shapes) == 2 else ()

    @classmethod
    def of(cls, sa: Sequence[int], sb: Sequence[int]) -> NotAlignedError:
        """The error of a product of operands of shapes ``sa`` and ``sb``, in the words every
        linker uses (naming the functions that make a product too: no node names the one called,
        as a node checking it would keep the product out of the rewrites that fuse it)."""
        sa, sb = tuple(int(n) for n in sa), tuple(int(n) for n in sb)
        head = (
            f"dot (also a @ b and matmul): shapes {sa} and {sb} are not aligned: {sa[-1]} (dim "
            f"{len(sa) - 1}) != {sb[0]} (dim 0)"
        )
        return cls(head, (sa, sb))

    def _named(self) -> str:
        """The named operands' sizes that differ and the fix."""
        if not any(self.names) or len(self.sizes) != 2:
            return "; b's first dim must have the size of a's last"
        said = [f"{name} has size {n} along axis {axis}" for _, name, axis, n in self.sizes if name]
        a, b = self.names
        fix = (
            f"give {b} a first dim of {a}'s last size" if a and b else "give operands whose inner sizes match"
        )
        return f": {', '.join(said)}; {fix}"

    def located(self, sizes: Sequence[tuple[int | None, str | None, int, int]]) -> NotAlignedError:
        """This error with its operands' ``sizes`` (see the class) known."""
        return self._said_again(sizes=tuple(sizes))


class NotScalarConstantError(FncacheError, ValueError):
    """``ft.get_scalar_constant_value`` was given a variable whose value is not a scalar
    known before the function runs (Theano/PyTensor's name)."""


class DebugModeError(FncacheError, AssertionError):
    """``fc.DebugMode`` found a node that misbehaves (Theano's name). An AssertionError: a
    failed check, as ``NanGuardMode``'s."""


class BadThunkOutput(DebugModeError):
    """``fc.DebugMode``: the C run-time and the node's numpy ``perform`` give different
    values for one of its outputs, from the same inputs (Theano's name)."""


class BadDestroyMap(DebugModeError):
    """``fc.DebugMode``: a node's ``perform`` changed an input its op does not declare in its
    ``destroy_map`` (Theano's name)."""


class BadViewMap(DebugModeError):
    """``fc.DebugMode``: a node's output shares memory with an input its op declares neither
    in its ``view_map`` nor in its ``destroy_map`` (Theano's name)."""


class InvalidValueError(DebugModeError):
    """``fc.DebugMode``: a node's output is not a value of its variable's type (dtype, ndim,
    static sizes), or holds a NaN or an infinity under ``check_isfinite`` (Theano's name)."""


class StridesMismatch(DebugModeError, TypeError):
    """``fc.DebugMode(require_matching_strides=2)``: the C run-time and the node's numpy
    ``perform`` give an output of one shape laid out with other strides. Theano raises a
    ``TypeError("Stride mismatch", ...)`` there, so this is one too."""


class StochasticOrder(DebugModeError):
    """``fc.DebugMode(stability_patience=N)``: optimizing one graph N times gave different
    optimized graphs (Theano's name)."""
