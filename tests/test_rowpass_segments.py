"""A row pass over an X of several segments (`ROWPASS_SEGMENT_BYTES`): every other call visits
the segments last to first, so the rows an earlier call read last are read first while still in
the L2 cache; each segment sums X.T @ g into an accumulator of its own and the accumulators are
added in one order, so the bits are the same on every call, whichever way it went. Checked by
the generated source's structure and by results against numpy and the unfused graph, call
after call, on one, two and three threads and with two products in the pass.

On threads the pass is cut into chunks, each thread going through a share of its own (last to
first every other call) and then taking what is left of the others': the chunks' sums are added
in chunk order, so two and three threads, and the calling thread alone (a process forked after
threads ran), give the same bits on every call, for chunks of one segment and of several, X
stored by rows or by columns, one product or two."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_hvp_passes import _hvp, _hvp_data, _hvp_ref
from test_rowpass import UNFUSED, _data, _logreg, _logreg_ref

import fncache as fc
from fncache.codegen.c_module import render_module
from fncache.codegen.c_nodes import ROWPASS_BLOCK_BYTES, ROWPASS_SEGMENT_BYTES

# 1.2 MB of float64 X (three segments), a row count that leaves a part block at the end
M, N = 601, 256


def test_sizes_give_several_segments_of_several_blocks() -> None:
    rows_per_block = ROWPASS_BLOCK_BYTES // (N * 8)
    segments = -(-M * N * 8 // ROWPASS_SEGMENT_BYTES)
    assert 2 <= segments <= (-(-M // rows_per_block)) // 4


def test_the_pass_alternates_the_segments_order_and_sums_them_in_one() -> None:
    ins, outs = _logreg()
    source = render_module(fc.function(ins, outs).optimized_graph, n_explicit=4, single=True).source
    turn = re.search(r"static _Thread_local unsigned (fc_k\d+)_turn;", source)
    assert turn, "no per-thread turn in the row pass"
    k = turn.group(1)
    start = source.index(f" {k}_pass(")
    body = source[start : source.index("free(scratch_);", start)]
    assert f"const int back = (int)({k}_turn++ & 1);" in body
    assert "const npy_intp s_ = back ? S - 1 - i_ : i_;" in body
    # the axpy sums into the segment's accumulator; the accumulators are added first to last
    assert re.search(rf"{k}_axpy4\(X \+ r \* rs, rs, G\[0\] \+ r, A \+ 0 \* n, n, pre\);", body)
    assert re.search(
        r"for \(npy_intp s = 1; s < S; s\+\+\)\s+for \(npy_intp j = 0; j < 1 \* n; j\+\+\) GW\[j\] \+= ACC",
        body,
    )


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_call_gives_the_same_bits_and_numpy_s_result(threads: int, dtype: str) -> None:
    ins, outs = _logreg(dtype)
    args = _data(M, N, dtype)
    with fc.config.change_flags(threads=threads):
        f = fc.function(ins, outs)
        first = f(*args)
        for _ in range(3):  # forward, backward, forward
            for a, b in zip(f(*args), first):
                np.testing.assert_array_equal(a, b)
    u = fc.function(ins, outs, mode=UNFUSED)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    for got, want, ref in zip(first, u(*args), _logreg_ref(*args)):
        np.testing.assert_allclose(got, want, **tol)
        np.testing.assert_allclose(got, ref, **tol)


def test_two_products_in_segments() -> None:
    args = _hvp_data(M, N)
    f = fc.function(*_hvp())
    first = f(*args)
    for _ in range(3):
        for a, b in zip(f(*args), first):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(first, _hvp_ref(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# Passes of at least 524288 elements (FC_PAR_BIG), which threads run on every call (smaller ones
# run on the calling thread until one was measured to take long enough): (m, n) giving chunks of
# at least 64 rows (FC_ROWPASS_MIN_ROWS) of one segment each, and of two.
THREADED = [(1100, 480), (700, 1024)]


def _threaded_cases() -> list[tuple]:
    """(what, inputs, outputs, arguments, numpy's results, tolerance) for each size: X stored by
    rows and by columns, float32, and a pass of two products."""
    f64, f32 = dict(rtol=1e-10, atol=1e-12), dict(rtol=2e-4, atol=2e-5)
    cases = []
    for m, n in THREADED:
        args = _data(m, n)
        cases += [
            (f"{m}x{n}", *_logreg(), args, _logreg_ref(*args), f64),
            (
                f"{m}x{n} by columns",
                *_logreg(),
                [np.asfortranarray(args[0]), *args[1:]],
                _logreg_ref(*args),
                f64,
            ),
            (
                f"{m}x{n} float32",
                *_logreg("float32"),
                _data(m, n, "float32"),
                _logreg_ref(*_data(m, n, "float32")),
                f32,
            ),
            (f"{m}x{n} two products", *_hvp(), _hvp_data(m, n), _hvp_ref(*_hvp_data(m, n)), f64),
        ]
    return cases


_THREADS_CHILD = """
import os, pickle, sys
import numpy as np
import fncache as fc
from test_rowpass_segments import _threaded_cases

cases = _threaded_cases()
runs = {}
for threads in (2, 3):
    with fc.config.change_flags(threads=threads):
        fs = [fc.function(ins, outs) for _, ins, outs, *_ in cases]
    runs[threads] = [[[np.array(o) for o in f(*c[3])] for _ in range(3)] for f, c in zip(fs, cases)]
r, w = os.pipe()
if os.fork() == 0:  # the child runs the same chunks on its calling thread alone
    os.close(r)
    with os.fdopen(w, "wb") as out:
        pickle.dump([[np.array(o) for o in f(*c[3])] for f, c in zip(fs, cases)], out)
    os._exit(0)
os.close(w)
with os.fdopen(r, "rb") as got:
    alone = pickle.load(got)
os.wait()
pickle.dump((runs, alone), sys.stdout.buffer)
"""


def test_threads_and_the_calling_thread_alone_give_the_same_bits(tmp_path: Path) -> None:
    """2 and 3 threads cut these passes into the same chunks (m / 64 of them), which a process
    forked after threads ran computes on its calling thread alone: the same bits everywhere,
    call after call, and numpy's results."""
    here = Path(__file__).parent
    env = {
        **os.environ,
        "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'}",
        "PYTHONPATH": os.pathsep.join([str(here), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run([sys.executable, "-c", _THREADS_CHILD], env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    runs, alone = pickle.loads(done.stdout)
    cases = _threaded_cases()
    assert len(alone) == len(cases)
    for (what, *_, want, tol), one in zip(cases, alone):
        for got, ref in zip(one, want):
            np.testing.assert_allclose(got, ref, err_msg=what, **tol)
    for threads, calls in runs.items():
        for (what, *_), per_call, one in zip(cases, calls, alone):
            for i, got in enumerate(per_call):
                for a, b in zip(got, one):
                    np.testing.assert_array_equal(a, b, err_msg=f"{what}, {threads} threads, call {i}")
