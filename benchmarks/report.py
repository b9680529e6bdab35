"""The printed table, the targets (compiler speed, cache, pickles), and the JSON record."""

from __future__ import annotations

import json

from timing import COLUMN_TITLES, COLUMNS, fmt_value

CELL_MAX = 30


def _ratio(row, col, ref="fncache"):
    a, b = row.value(col), row.value(ref)
    if a is None or b is None or b <= 0:
        return None
    return a / b


def cell_text(row, col):
    c = row.cells.get(col)
    if c is None:
        return ""
    if c.status == "-":
        return "-"
    if c.status != "ok":
        text = f"{c.status} ({c.reason})"
        return text if len(text) <= CELL_MAX else text[: CELL_MAX - 2] + "…)"
    text = fmt_value(c.value, row.unit)
    if col != "fncache":
        r = _ratio(row, col)
        if r is not None:
            text += f" ({r:.3g}x)"
    return text


def format_table(rows):
    cols = [c for c in COLUMNS if any(c in r.cells for r in rows)]
    head = ["figure"] + [COLUMN_TITLES[c] for c in cols]
    body = [[r.label] + [cell_text(r, c) for c in cols] for r in rows]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    sep = "-+-".join("-" * w for w in widths)

    def line(cells):
        return " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [line(head), sep]
    group = None
    for r, cells in zip(rows, body):
        if group is not None and r.group != group:
            out.append(sep)
        group = r.group
        out.append(line(cells))
    return "\n".join(out)


def format_notes(rows):
    out = []
    for r in rows:
        if r.note:
            out.append(f"- {r.label}: {r.note}")
    reasons = {}
    for r in rows:
        for col, c in r.cells.items():
            if c.status in ("n/a", "FAIL") and len(f"{c.status} ({c.reason})") > CELL_MAX:
                reasons.setdefault((col, c.status, c.reason), []).append(r.label)
    for (col, status, reason), labels in reasons.items():
        where = labels[0] if len(labels) == 1 else f"{len(labels)} figures"
        out.append(f"- {col} {status} ({where}): {reason}")
    return "\n".join(out)


# ---- targets --------------------------------------------------------------------------------


def _targets():
    def ratio(key, col, ref="fncache"):
        return lambda rows: _ratio(rows[key], col, ref) if key in rows else None

    def value_ratio(key_a, key_b, col="fncache"):
        def f(rows):
            if key_a not in rows or key_b not in rows:
                return None
            a, b = rows[key_a].value(col), rows[key_b].value(col)
            return a / b if a is not None and b else None

        return f

    def diff(key, col_a, col_b):
        def f(rows):
            if key not in rows:
                return None
            a, b = rows[key].value(col_a), rows[key].value(col_b)
            return a - b if a is not None and b is not None else None

        return f

    def max_err(key, col="fncache"):
        def f(rows):
            c = rows[key].cells.get(col) if key in rows else None
            return c.extra.get("max_rel_err") if c is not None and c.status == "ok" else None

        return f

    def scaling(rows):
        return value_ratio("W1_f64_1t", "W1_f64_all")(rows) if "W1_f64_all" in rows else None

    # (area, text, compute, ">=" | "<=" | ">", threshold, fmt)
    return [
        ("speed", "W1 f64 1 thread: pytensor/fncache", ratio("W1_f64_1t", "pytensor"), ">=", 3.5, "x"),
        ("speed", "W1 f64: fncache max relative error vs numpy", max_err("W1_f64_1t"), "<=", 1e-12, "e"),
        ("speed", "W1 f64 all cores: fncache scaling", scaling, ">=", 1.7, "x"),
        ("speed", "W2 f64: pytensor/fncache", ratio("W2_f64", "pytensor"), ">=", 2.5, "x"),
        ("speed", "W3: numpy/fncache", ratio("W3_f64", "numpy"), ">=", 1.0, "x"),
        ("speed", "call overhead default: numba/fncache", ratio("overhead_default", "numba"), ">=", 1.0, "x"),
        (
            "speed",
            "call overhead trust_input: numba/fncache",
            ratio("overhead_trust", "numba"),
            ">=",
            2.0,
            "x",
        ),
        (
            "speed",
            "call overhead: fncache trust_input / f.fn()",
            value_ratio("overhead_trust", "overhead_fn"),
            ">",
            1.0,
            "x",
        ),
        ("speed", "cold compile W1: pytensor/fncache", ratio("cold_W1", "pytensor"), ">=", 8.0, "x"),
        ("speed", "cold compile W3: pytensor/fncache", ratio("cold_W3", "pytensor"), ">=", 8.0, "x"),
        (
            "speed",
            "import fncache+tensor - import numpy",
            diff("import", "fncache", "numpy"),
            "<=",
            0.05,
            "s",
        ),
        ("cache", "warm hit W3: pytensor warm path/fncache", ratio("warm_hit", "pytensor"), ">=", 50.0, "x"),
        (
            "cache",
            "warm hit after +N functions / warm hit",
            value_ratio("warm_more", "warm_hit"),
            "<=",
            1.3,
            "x",
        ),
        (
            "cache",
            "warm hit, big cache / 10-function cache",
            value_ratio("warm_big", "warm_10"),
            "<=",
            1.3,
            "x",
        ),
        ("pickle", "unpickle W3: pytensor/fncache", ratio("unpickle", "pytensor"), ">=", 20.0, "x"),
        (
            "gradients",
            "W4 training step, 1 thread: pytensor/fncache",
            ratio("W4_train", "pytensor"),
            ">=",
            2.0,
            "x",
        ),
        ("gradients", "W4 cold compile: pytensor/fncache", ratio("cold_W4", "pytensor"), ">=", 8.0, "x"),
        (
            "gradients",
            "W4 warm hit, fresh process: pytensor/fncache",
            ratio("warm_W4", "pytensor"),
            ">=",
            50.0,
            "x",
        ),
    ]


def evaluate_targets(rows):
    by_key = {r.key: r for r in rows}
    out = []
    for area, text, fn, op, thr, unit in _targets():
        v = fn(by_key)
        if v is None:
            verdict = "n/a"
        elif op == ">=":
            verdict = "PASS" if v >= thr else "MISS"
        elif op == ">":
            verdict = "PASS" if v > thr else "MISS"
        else:
            verdict = "PASS" if v <= thr else "MISS"
        out.append(
            {
                "area": area,
                "figure": text,
                "value": v,
                "op": op,
                "threshold": thr,
                "unit": unit,
                "verdict": verdict,
            }
        )
    return out


def format_targets(targets):
    lines = []
    for t in targets:
        if t["unit"] == "s":
            val = "n/a" if t["value"] is None else f"{t['value'] * 1e3:.1f} ms"
            thr = f"{t['threshold'] * 1e3:.0f} ms"
        elif t["unit"] == "e":
            val = "n/a" if t["value"] is None else f"{t['value']:.2g}"
            thr = f"{t['threshold']:g}"
        else:
            val = "n/a" if t["value"] is None else f"{t['value']:.3g}x"
            thr = f"{t['threshold']:g}x"
        lines.append(f"  [{t['verdict']:<4}] {t['area']}: {t['figure']} = {val}   (target {t['op']} {thr})")
    return "\n".join(lines)


def to_json(meta, rows, targets):
    return json.dumps(
        {"meta": meta, "rows": [r.to_json() for r in rows], "targets": targets}, indent=1, default=str
    )
