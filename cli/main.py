"""``fncache``: argument parsing, dispatch and exit codes (0 ok, 1 failure, 2 usage).

Kept light on purpose: this module and the command modules import only the standard library at
load time; the cache API is imported when a command runs, and the compiler only by the commands
that compile (see cli/api.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from . import format as fmt
from . import remote
from .api import CliError, UsageError, hide_passwords, is_fncache_error, load_config
from .commands import COMMAND_MODULES
from .output import Output

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse's parser, except that an option's value may start with ``-``.

    argparse takes ``--older-than -1d`` for an option missing its value ("expected one
    argument"), which hides what is wrong with the value; here a word after an option that takes
    one value is that value unless it is itself one of the parser's options, so it reaches the
    option's own check ("an age must be >= 0 ...").  ``--opt=-1d`` always worked so.
    """

    _words: list[str] = []

    def error(self, message: str) -> NoReturn:
        # argparse reads an operand starting with "-" (export -x.tar) as an unknown option and
        # then says only that the operand is missing
        unknown = [w for w in self._words if w != "-" and self._is_dash_value(w)]
        if "arguments are required" in message and unknown:
            message += f" ({unknown[0]!r} is read as an option: put -- before an operand starting with '-')"
        super().error(hide_passwords(message))

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        self._words = self._attach_values(list(sys.argv[1:] if args is None else args))
        return super().parse_known_args(self._words, namespace)

    def _attach_values(self, words: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            if word == "--":  # the rest are operands
                return out + words[i:]
            action = self._option_string_actions.get(word)
            if action is None and word.startswith("--"):  # an abbreviation, when it names one option
                named = {a for o, a in self._option_string_actions.items() if o.startswith(word)}
                action = named.pop() if len(named) == 1 else None
            takes_one = action is not None and action.nargs is None and action.option_strings
            if takes_one and i + 1 < len(words) and self._is_dash_value(words[i + 1]):
                out.append(f"{word}={words[i + 1]}")
                i += 2
                continue
            out.append(word)
            i += 1
        return out

    def _is_dash_value(self, word: str) -> bool:
        """``word`` starts with ``-`` but names no option (abbreviated or not) of this parser nor of
        its subcommands: ``fncache purge --compiledir --dry-run`` must not lose ``--dry-run``."""
        if not word.startswith("-") or word == "--":
            return False
        name = word.split("=", 1)[0]
        options = set(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                options.update(*(sub._option_string_actions for sub in action.choices.values()))
        return not any(o == name or (name.startswith("--") and o.startswith(name)) for o in options)


def _common_options() -> argparse.ArgumentParser:
    """``--json`` and ``--compiledir``, accepted before or after the subcommand.

    SUPPRESS defaults keep a subcommand's parser from overwriting a value given before it.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON document on stdout (schemas in docs/cli.md)",
    )
    common.add_argument(
        "--compiledir",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="the compiledir to work on (default: config.compiledir, "
        "i.e. FNCACHE_FLAGS=compiledir=..., else $XDG_CACHE_HOME/fncache or ~/.cache/fncache)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = _Parser(
        prog="fncache",
        parents=[common],
        description="Inspect, explain, verify and purge the fncache compiledir.",
        epilog="Run `fncache COMMAND --help` for a command's options. Exit status: 0 ok, 1 failure, 2 usage.",
    )
    parser.add_argument("--version", action="store_true", help="print fncache's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub, common)
    remote.install(sub)  # --remote on info, stats, list, purge (docs/remote.md)
    return parser


def _report(out: Output, message: str, err: CliError | None = None) -> None:
    message = hide_passwords(message)
    candidates = err.candidates if err else []
    hint = err.hint if err else None
    if out.json_mode:
        out.emit_json({"error": {"message": message, "candidates": candidates, "hint": hint}})
    detail = (
        fmt.table(
            ["KEY", "KIND", "SIZE", "HOST", "LAST USED"],
            [
                [
                    c["key"],
                    c.get("kind") or "-",
                    fmt.size(c.get("size")),
                    c.get("host") or "-",
                    fmt.age(c.get("last_used")),
                ]
                for c in candidates
            ],
            right=[2],
        )
        if candidates
        else []
    )
    out.error(message, [*detail, *([hint] if hint else [])])


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``fncache`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from importlib import metadata

        sys.stdout.write(f"fncache {metadata.version('fncache')}\n")
        return EXIT_OK
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write("fncache: error: a command is required (info, list, show, ...)\n")
        return EXIT_USAGE
    out = Output(json_mode=getattr(args, "json", False))
    try:
        load_config()
        return args.handler(args, out)
    except UsageError as e:
        args.parser.error(str(e))  # prints the subcommand's usage and exits 2
    except CliError as e:
        _report(out, str(e), e)
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    except BrokenPipeError:  # `fncache list | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except Exception as e:  # fncache's own errors and OS errors are messages
        if is_fncache_error(e) or isinstance(e, OSError):
            _report(out, str(e))
        elif os.environ.get("FNCACHE_CLI_TRACEBACK"):
            raise
        else:  # anything else is a bug, still one line (the traceback on request)
            _report(
                out,
                f"unexpected {type(e).__name__}: {e} (a bug in fncache: please report it; "
                f"FNCACHE_CLI_TRACEBACK=1 shows where it happened)",
            )
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
