"""What the front end reaches in the layers above it, installed by those layers.

The front end (graphs, ops, gradients) imports nothing from the run-time or the code generators,
yet some of its parts run code: ``x.eval()``, `JacobianRows` and `Scan` compile a graph with
``fc.function``, and random streams and `JacobianRows` call the compiled C run-time. The
run-time installs both here when it is imported (``runtime/function.py``); until then a getter
imports the package's public ``fc.function``, which loads the run-time and so installs them.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["c_runtime", "function_compiler", "set_c_runtime", "set_function_compiler"]

_compile: Callable[..., Any] | None = None
_get_runtime: Callable[[], Any] | None = None


def set_function_compiler(compile_function: Callable[..., Any]) -> None:
    """Install ``fc.function`` (``compile_function(inputs, outputs, **options)`` returns a
    callable)."""
    global _compile
    _compile = compile_function


def set_c_runtime(get_runtime: Callable[[], Any]) -> None:
    """Install the function that returns the loaded C run-time (it memoizes the load)."""
    global _get_runtime
    _get_runtime = get_runtime


def _install() -> None:
    # Nothing installed yet in this process (e.g. an op unpickled and run by the py linker):
    # the package's public ``fc.function`` imports the run-time, which installs both hooks.
    import fncache

    fncache.function  # noqa: B018


def function_compiler() -> Callable[..., Any]:
    """``fc.function``: what ``eval`` and ops that run a graph of their own compile with."""
    if _compile is None:
        _install()
    assert _compile is not None
    return _compile


def c_runtime() -> Any:
    """The compiled C run-time (random draws; the rows of `JacobianRows`)."""
    if _get_runtime is None:
        _install()
    assert _get_runtime is not None
    return _get_runtime()
