"""The only place the CLI writes to the terminal.

Data goes to stdout, as JSON (``--json``) or as text for people; warnings, errors and progress
go to stderr, so ``fncache list --json | jq`` and ``fncache purge ... > log`` get clean data.
Progress is drawn only when stderr is a terminal: piped or redirected runs stay quiet.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from . import format as fmt

__all__ = ["Output"]

_SPINNER = "|/-\\"
_TICK = 0.1


def _one_line(text: str) -> str:
    """A message on one line: some errors fncache passes on span several (tarfile's lists each
    decompressor it tried), and every failure is one line on stderr."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class Output:
    """Writes one command's results; with ``json_mode`` a command emits one JSON document instead
    of text (the error path too, so a script always gets JSON on stdout)."""

    def __init__(self, json_mode: bool, stdout: TextIO | None = None, stderr: TextIO | None = None):
        self.json_mode = json_mode
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    # -- data (stdout) ----------------------------------------------------------------------
    def emit_json(self, doc: Any) -> None:
        """One JSON document (indented, keys in the documented order) on stdout."""
        self.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")

    def line(self, text: str = "") -> None:
        self.lines([text])

    def lines(self, texts: Sequence[str]) -> None:
        # Every text line goes out here: names and records a command prints come from a shared
        # compiledir, so their control characters are escaped (a source's lines and tabs are kept).
        self.stdout.write("".join(fmt.printable(t, keep="\n\t") + "\n" for t in texts))

    def table(
        self, headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()
    ) -> None:
        self.lines(fmt.table(headers, rows, right))

    def fields(self, pairs: Sequence[tuple[str, object]], indent: int = 0) -> None:
        """``label  value`` lines with the values aligned; long values wrap under themselves on a
        terminal (piped output keeps one line per field, for grep)."""
        if not pairs:
            return
        width = max(len(label) for label, _ in pairs)
        pad = " " * indent
        wrap_at = shutil.get_terminal_size((100, 24)).columns if self.stdout.isatty() else 0
        out = []
        for label, value in pairs:
            head = f"{pad}{label.ljust(width)}  "
            text = fmt.printable(str(value))  # one line per field
            if wrap_at and len(head) + len(text) > wrap_at and wrap_at - len(head) > 20:
                wrapped = textwrap.wrap(
                    text, wrap_at - len(head), break_long_words=False, break_on_hyphens=False
                ) or [""]
                out.append(head + wrapped[0])
                out.extend(" " * len(head) + w for w in wrapped[1:])
            else:
                out.append((head + text).rstrip())
        self.lines(out)

    # -- messages (stderr) ------------------------------------------------------------------
    def warn(self, text: str) -> None:
        self.stderr.write(f"fncache: warning: {fmt.printable(_one_line(text))}\n")

    def error(self, text: str, detail: Sequence[str] = ()) -> None:
        self.stderr.write(
            f"fncache: error: {fmt.printable(_one_line(text))}\n"
            + "".join("  " + fmt.printable(d, keep="\t") + "\n" for d in detail)
        )

    @contextlib.contextmanager
    def activity(self, label: str) -> Iterator[None]:
        """Show ``label`` with a spinner and the elapsed time on a terminal while the body runs.

        The cache's purge and verify are single calls that report when done, so progress is
        shown as activity and elapsed time rather than a fraction.
        """
        if not self.stderr.isatty():
            yield
            return
        done = threading.Event()
        start = time.monotonic()

        def draw() -> None:
            tick = 0
            while not done.wait(_TICK):
                tick += 1
                self.stderr.write(
                    f"\r{label} {_SPINNER[tick % len(_SPINNER)]} "
                    f"{fmt.duration(time.monotonic() - start)}\x1b[K"
                )
                self.stderr.flush()

        painter = threading.Thread(target=draw, name="fncache-progress", daemon=True)
        painter.start()
        try:
            yield
        finally:
            done.set()
            painter.join()
            self.stderr.write("\r\x1b[K")
            self.stderr.flush()
