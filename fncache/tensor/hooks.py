"""What the front end reaches in the layers above it, installed by those layers.

The front end (graphs, ops, gradients) imports nothing from the run-time or the code generators,
yet some of its parts run code: ``x.eval()``, `JacobianRows` and `Scan` compile a graph with
``fc.function`` (the ops that run graphs of their own, in its two steps), and random streams
and `JacobianRows` call the compiled C run-time. The run-time installs them here when it is
imported (``runtime/function.py``); until then a getter imports the package's public
``fc.function``, which loads the run-time and so installs them.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["c_runtime", "function_compiler", "function_starter", "set_c_runtime", "set_function_compiler"]

_compile: Callable[..., Any] | None = None
_start: Callable[..., Any] | None = None
_get_runtime: Callable[[], Any] | None = None


def set_function_compiler(compile_function: Callable[..., Any], start_function: Callable[..., Any]) -> None:
    """Install ``fc.function`` (``compile_function(inputs, outputs, **options)`` returns a
    callable) and its first step (``start_function``, the same arguments: returns what, called,
    finishes the compile and returns the callable, and has a ``close()`` for one never
    finished)."""
    global _compile, _start
    _compile, _start = compile_function, start_function


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


def function_starter() -> Callable[..., Any]:
    """``fc.function`` in two steps (``set_function_compiler``): ops that run graphs of their
    own start the compilers of all their inner functions before waiting for any."""
    if _start is None:
        _install()
    assert _start is not None
    return _start


def c_runtime() -> Any:
    """The compiled C run-time (random draws; the rows of `JacobianRows`)."""
    if _get_runtime is None:
        _install()
    assert _get_runtime is not None
    return _get_runtime()
