"""What every subcommand shares: its parser's construction and its compiledir."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..api import open_compiledir
from ..output import Output

if TYPE_CHECKING:
    from fncache.cache import Compiledir

__all__ = [
    "ENTRY_FIELDS",
    "Handler",
    "add_command",
    "compiledir_for",
    "entry_json",
    "path_text",
    "pattern_text",
]

Handler = Callable[[argparse.Namespace, Output], int]

#: The documented fields of an entry in every JSON output that lists entries (docs/cli.md).
ENTRY_FIELDS = (
    "key",
    "kind",
    "size",
    "created",
    "last_used",
    "hits",
    "host",
    "march",
    "compile_seconds",
    "files",
    "path",
)


def add_command(
    sub: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    name: str,
    handler: Handler,
    summary: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand parser that takes the common options and knows its handler (and itself, so
    a handler's usage error can print this subcommand's usage)."""
    parser = sub.add_parser(name, parents=[common], help=summary, description=description or summary)
    parser.set_defaults(handler=handler, parser=parser)
    return parser


def compiledir_for(args: argparse.Namespace, *, create: bool = False) -> Compiledir:
    return open_compiledir(getattr(args, "compiledir", None), create=create)


def entry_json(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the CLI's JSON documents it: a fixed set of fields, whatever else the API adds."""
    return {name: entry.get(name) for name in ENTRY_FIELDS}


def path_text(text: str) -> str:
    """A path argument (argparse ``type``): not empty, as ``"$DIR"`` is when DIR is unset."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty one")
    return text


def pattern_text(text: str) -> str:
    """A ``--kind``/``--host`` pattern (argparse ``type``): an empty one would match nothing."""
    if not text:
        raise argparse.ArgumentTypeError(
            "expected a pattern such as 'kernel_library' or 'node*' ('*': any), got ''"
        )
    return text
