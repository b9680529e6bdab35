"""How the CLI reaches fncache: the compiledir, key prefixes and error reporting.

``import fncache`` is light (the compiler and numpy load on first use), so read-only commands
such as ``fncache info`` start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fncache.cache import Compiledir

__all__ = [
    "CliError",
    "UsageError",
    "candidate",
    "hide_passwords",
    "is_fncache_error",
    "load_config",
    "open_compiledir",
    "resolve_key",
]

_MAX_CANDIDATES = 20


class CliError(Exception):
    """A failure reported to the user (exit 1), with the entries that may have been meant."""

    def __init__(self, message: str, candidates: list[dict[str, Any]] | None = None, hint: str | None = None):
        super().__init__(message)
        self.candidates = candidates or []
        self.hint = hint


class UsageError(Exception):
    """Arguments that parse but make no sense (exit 2, with the subcommand's usage)."""


def is_fncache_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of fncache's documented errors (reported as a message, not a traceback)."""
    errors = sys.modules.get("fncache.errors")
    return errors is not None and isinstance(exc, errors.FncacheError)


def hide_passwords(text: str) -> str:
    """``text`` with the password of every URL in it hidden (``fncache.config.redact_url``): a
    message may quote a URL the user typed where another argument belongs."""
    if "://" not in text:
        return text
    import re

    try:
        from fncache.config import redact_url
    except (ValueError, AttributeError):  # FNCACHE_FLAGS is bad: this is the config's own error,
        return text  # which hides the password itself
    return re.sub(r"[A-Za-z][A-Za-z0-9+.-]*://\S+", lambda m: redact_url(m[0]), text)


def load_config() -> None:
    """Import fncache's configuration, which reads ``FNCACHE_FLAGS``: an unknown flag or a bad
    value there is the user's to fix (exit 1), not a bug in fncache."""
    try:
        import fncache.config  # noqa: F401
    except (ValueError, AttributeError) as e:
        if not str(e).startswith("FNCACHE_FLAGS:"):
            raise
        raise CliError(str(e), hint="fix the flag in FNCACHE_FLAGS, or unset it") from None


def open_compiledir(path: str | None, *, create: bool = False) -> Compiledir:
    """The compiledir of ``--compiledir`` (else ``config.compiledir``), bound as ``fncache.cache.cache``.

    ``config.compiledir`` is set too, so the host data that ``info`` reads (march detection) is
    the one processes using that compiledir see.  Unless ``create``, the directory must already
    exist: pointing the tool at a typo must not create a cache there; and pointing it at a
    directory that is not a compiledir must not fill it with one, ``create`` or not.
    """
    from fncache.cache import cache
    from fncache.config import config, parse_path

    if path is not None:
        try:
            config.compiledir = parse_path(path)
        except ValueError as e:
            raise UsageError(f"--compiledir: {e}") from None
    root = Path(config.compiledir)
    if not root.exists():
        if not create:
            raise CliError(
                f"compiledir {root} does not exist (nothing has been cached there yet)",
                hint="pass --compiledir PATH, or set FNCACHE_FLAGS=compiledir=PATH",
            )
    elif not root.is_dir():
        raise CliError(
            f"compiledir {root} is not a directory", hint="pass the directory fncache compiles into"
        )
    elif not (root / "entries").is_dir() and any(os.scandir(root)):
        raise CliError(
            f"{root} does not look like an fncache compiledir (it has no entries/ directory)",
            hint="pass the directory that fncache compiles into (config.compiledir), or a new one",
        )
    return cache


def candidate(entry: dict[str, Any]) -> dict[str, Any]:
    """The fields an error shows of an entry the user may have meant."""
    return {k: entry.get(k) for k in ("key", "kind", "size", "host", "last_used")}


def resolve_key(cache: Compiledir, prefix: str) -> dict[str, Any]:
    """The one entry whose key starts with ``prefix`` (full metadata); :class:`CliError` with the
    candidates when none or several match."""
    try:
        found = cache.find(prefix)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if len(found) == 1:
        return found[0]
    if found:
        found.sort(key=lambda e: e["key"])
        raise CliError(
            f"key prefix {prefix!r} is ambiguous: it matches {len(found)} entries",
            [candidate(e) for e in found[:_MAX_CANDIDATES]],
            hint="give more characters of the key",
        )
    near: list[dict[str, Any]] = []
    for n in range(len(prefix) - 1, 0, -1):  # the longest shared prefix is the likeliest typo
        near = cache.find(prefix[:n])
        if near:
            break
    near.sort(key=lambda e: e["key"])
    hint = "closest keys are listed; see `fncache list`" if near else "see `fncache list`"
    raise CliError(
        f"no entry has a key starting with {prefix!r}",
        [candidate(e) for e in near[:_MAX_CANDIDATES]],
        hint=hint,
    )
