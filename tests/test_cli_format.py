"""The CLI's text layer on its own: sizes, ages, durations, tables, flag differences, progress."""

from __future__ import annotations

import io
import time

from fncache_cli import format as fmt
from fncache_cli.output import Output


def test_sizes_use_units_that_max_size_accepts() -> None:
    from fncache.config import parse_size

    assert [fmt.size(n) for n in (0, 999, 1000, 61642, 1_234_567_890, 10**13, None)] == [
        "0 B",
        "999 B",
        "1.0 KB",
        "61.6 KB",
        "1.2 GB",
        "10.0 TB",
        "-",
    ]
    assert fmt.size(999_960) == "1.0 MB"  # rounds into the next unit, never "1000.0 KB"
    assert abs(parse_size(fmt.size(1_234_567_890).replace(" ", "")) - 1_234_567_890) < 10**8


def test_ages_and_durations() -> None:
    now = 1_000_000.0
    assert [fmt.age(now - d, now) for d in (0.2, 42, 300, 3 * 3600, 3 * 86400)] == [
        "just now",
        "42 s ago",
        "5 min ago",
        "3 h ago",
        "3 d ago",
    ]
    assert fmt.age(now + 30, now) == "just now"  # another host's clock ahead of ours
    assert fmt.age(None) == "-" and fmt.timestamp(None) == "-"
    assert [fmt.duration(s) for s in (0, 0.00085, 0.0451, 1.234, 185, 7560, None)] == [
        "0 s",
        "850 µs",
        "45.1 ms",
        "1.23 s",
        "3 min 5 s",
        "2.1 h",
        "-",
    ]
    assert fmt.count(10_000, "entry", "entries") == "10,000 entries" and fmt.count(1, "entry") == "1 entry"
    assert fmt.percent(0.625) == "62.5%" and fmt.percent(None) == "-"


def test_table_aligns_columns_without_trailing_blanks() -> None:
    lines = fmt.table(
        ["KEY", "SIZE", "HOST"], [["ab", "1.2 GB", "node7"], ["abcdef", "12 B", "n"]], right=[1]
    )
    assert lines == ["KEY       SIZE  HOST", "ab      1.2 GB  node7", "abcdef    12 B  n"]


def test_value_difference_compares_flag_lists_flag_by_flag() -> None:
    native = "-march=znver3 -mavx2 -mfma -mno-avx512f -mtune=znver3"
    assert fmt.value_difference(native, "-march=x86-64") == [
        "only in a: -march=znver3 -mavx2 -mfma -mno-avx512f -mtune=znver3",
        "only in b: -march=x86-64",
    ]
    assert fmt.value_difference(native, native.replace("-mfma", "-mno-fma"), ("this host", "other")) == [
        "only in this host: -mfma",
        "only in other: -mno-fma",
    ]
    assert fmt.value_difference("gcc 12", "gcc 13") == ["a: gcc 12", "b: gcc 13"]
    assert fmt.value_difference("1", None) == ["a: 1", "b: (absent)"]
    many = " ".join(f"-mflag{i}" for i in range(40))
    assert fmt.value_difference(many, "-march=x86-64")[0].endswith("-mflag11 ... (+28 more)")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    tty, piped = _Terminal(), io.StringIO()
    with Output(False, io.StringIO(), tty).activity("verifying /cache"):
        time.sleep(0.35)
    assert "verifying /cache" in tty.getvalue() and tty.getvalue().endswith("\r\x1b[K")
    with Output(False, io.StringIO(), piped).activity("verifying /cache"):
        time.sleep(0.15)
    assert piped.getvalue() == ""


def test_fields_wrap_long_values_only_on_a_terminal() -> None:
    value = " ".join(["-mflag"] * 40)
    piped = io.StringIO()
    Output(False, piped).fields([("march", value), ("host", "node7")])
    assert piped.getvalue().splitlines() == [f"march  {value}", "host   node7"]
    tty = _Terminal()
    Output(False, tty).fields([("march", value)])
    lines = tty.getvalue().splitlines()
    assert len(lines) > 1 and all(line.startswith("       -mflag") for line in lines[1:])
