"""The scipy modules a few ops compute with. scipy is not a dependency of fncache (``import
fncache`` and every op computed by fncache's own code work without it): an op that needs it
imports it when first used, and says so, with the fix, where it is not installed."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["scipy_module"]


def scipy_module(submodule: str, what: str) -> ModuleType:
    """``scipy.<submodule>``, or ModuleNotFoundError naming ``what`` when scipy is not installed."""
    try:
        return importlib.import_module(f"scipy.{submodule}")
    except ImportError:
        raise ModuleNotFoundError(
            f"{what}: computed with scipy.{submodule}, which is not installed; install scipy "
            "(pip install scipy) to use it"
        ) from None
