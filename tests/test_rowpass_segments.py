"""A row pass over an X of several segments (`ROWPASS_SEGMENT_BYTES`): every other call visits
the segments last to first, so the rows an earlier call read last are read first while still in
the L2 cache; each segment sums X.T @ g into an accumulator of its own and the accumulators are
added in one order, so the bits are the same on every call, whichever way it went. Checked by
the generated source's structure and by results against numpy and the unfused graph, call
after call, on one and two threads and with two products in the pass."""

from __future__ import annotations

import re

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


@pytest.mark.parametrize("threads", [1, 2])
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
