"""Modules that are also callable as a function of the same name (``fc.ifelse``, ``fc.scan``).

Theano's and PyTensor's paths make ``fncache.ifelse`` and ``fncache.scan`` modules
(``from fncache.scan.utils import until``) where ``fc.ifelse(...)`` and ``fc.scan(...)`` are
functions. Importing a submodule binds it as an attribute of its package, so the module is
what ``fc.scan`` ends up being; calling it calls the function."""

from __future__ import annotations

import sys
import types
from typing import Any, Callable


def make_callable(module_name: str, fn: Callable[..., Any]) -> None:
    """Make the loaded module ``module_name`` callable as ``fn`` (``inspect.signature`` of the
    module is ``fn``'s)."""

    class CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

    module = sys.modules[module_name]
    module.__class__ = CallableModule
    module.__wrapped__ = fn  # type: ignore[attr-defined]
