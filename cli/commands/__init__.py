"""The subcommands, one module per group; each module's ``register`` adds its parsers.

The order here is the order of ``fncache --help``.
"""

from __future__ import annotations

from . import demo, explain, maintain, query, transfer

COMMAND_MODULES = (query, maintain, explain, transfer, demo)

__all__ = ["COMMAND_MODULES"]
