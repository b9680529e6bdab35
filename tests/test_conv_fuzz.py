"""Property tests: convolution and pooling on random geometries, against numpy references and
PyTensor.

PyTensor 3 no longer has Theano's ``nnet.conv2d``/``conv3d``, their named gradients,
``conv2d_transpose`` or ``signal.pool``, so those are checked against numpy: the convolution as
one ``einsum`` of the padded images, the filters and, per spatial dim, a 0/1 matrix saying which
padded position each (output position, filter tap) reads; its gradients are the same ``einsum``
read the other ways (the adjoints), so they check fncache's gradient ops, its named gradients
and ``conv2d_transpose`` independently of its im2col engine. Pooling is checked against
Theano's ``Pool.perform`` written as loops over the windows, and its gradient against each
window's share of the output gradient. ``signal.convolve1d``/``convolve2d``, which PyTensor 3
still has, are checked against PyTensor's values and gradients.

Each example draws several cases (sizes including 1 and filters as large as the padded image,
every border mode, strides, dilations, flips, groups, float32 and float64, sizes declared in
the type, as ``input_shape``/``filter_shape`` or not at all) and compiles one function per mode
holding all of them, with the gradients of a random linear functional ``sum(c * out)``. The
run is deterministic; set FNCACHE_HYPOTHESIS_RANDOM=1 and raise FNCACHE_HYPOTHESIS_EXAMPLES to
explore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
# imported once here: PyTensor raises the recursion limit on import, which hypothesis warns of
pytensor = pytest.importorskip("pytensor")
import pytensor.tensor as pt  # noqa: E402
from pytensor.tensor.signal import convolve1d, convolve2d  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from fcutil import MODES, fuzz_settings  # noqa: E402

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402
from fncache.tensor.nnet import abstract_conv  # noqa: E402
from fncache.tensor.signal import pool  # noqa: E402

#: relative tolerance by dtype, against the magnitude of the terms summed (sums of products)
TOL = {"float64": 1e-11, "float32": 3e-5}
#: cases drawn per example (one compiled function per mode holds them all)
CASES = 3


def assert_close(got: np.ndarray, want: np.ndarray, scale: float, dtype: str, what: str) -> None:
    """``got`` has ``want``'s shape and ``dtype`` and its values within the dtype's tolerance of
    ``scale`` (the largest sum of absolute terms an entry adds up)."""
    assert got.shape == want.shape, f"{what}: shape {got.shape}, the reference gives {want.shape}"
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}, expected {dtype}"
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype] * max(scale, 1.0), err_msg=what)


def check_every_mode(inputs: list, outputs: list, checks: list, dtype: str) -> None:
    """Compile ``outputs`` once per mode and compare them, in order, with ``checks``: per case
    (its input values, [(name, reference)], its scale, the case)."""
    for mode in MODES:
        f = fc.function(inputs, outputs, mode=mode)
        got = iter(f(*[v for vals, *_ in checks for v in vals]))
        for _, refs, scale, case in checks:
            for name, want in refs:
                assert_close(next(got), want, scale, dtype, f"{mode} {name} of {case}")


# -- the convolution's numpy reference ------------------------------------------------------------
def _span(k: int, d: int) -> int:
    return (k - 1) * d + 1


def conv_pads(border: Any, kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """The zeros (before, after) each spatial dim is padded with."""
    n = len(kernel)
    spans = [_span(k, d) for k, d in zip(kernel, dilation)]
    if border == "valid":
        return ((0, 0),) * n
    if border == "full":
        return tuple((s - 1, s - 1) for s in spans)
    if border == "half":
        return tuple((s // 2, s // 2) for s in spans)
    per_dim = (border,) * n if isinstance(border, int) else tuple(border)
    return tuple((p, p) if isinstance(p, int) else tuple(p) for p in per_dim)  # type: ignore[misc]


@dataclass(frozen=True)
class Conv:
    """One convolution case: its options and the shapes it runs on."""

    n: int
    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...]
    border: Any
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    flip: bool
    groups: int
    #: "type": the sizes in the variables' types; "args": as input_shape/filter_shape; "none"
    declared: str

    @property
    def pads(self) -> tuple[tuple[int, int], ...]:
        return conv_pads(self.border, self.w_shape[2:], self.dilation)

    @property
    def out_shape(self) -> tuple[int, ...]:
        spatial = [
            (i + sum(p) - _span(k, d)) // s + 1
            for i, p, k, d, s in zip(
                self.x_shape[2:], self.pads, self.w_shape[2:], self.dilation, self.stride
            )
        ]
        return (self.x_shape[0], self.w_shape[0], *spatial)

    def kw(self) -> dict[str, Any]:
        return dict(
            border_mode=self.border,
            subsample=self.stride,
            filter_flip=self.flip,
            filter_dilation=self.dilation,
            num_groups=self.groups,
        )

    # the einsum: padded images "bc" + P, filters "fc" + K, per dim a matrix (O, K, P)
    def _letters(self) -> tuple[str, str, str]:
        return "PQR"[: self.n], "KLM"[: self.n], "OST"[: self.n]

    def _reads(self) -> list[np.ndarray]:
        """Per spatial dim, ``m[o, k, p] = 1`` where output ``o``'s tap ``k`` reads padded ``p``."""
        mats = []
        for d in range(self.n):
            o_n, k_n = self.out_shape[2 + d], self.w_shape[2 + d]
            p_n = self.x_shape[2 + d] + sum(self.pads[d])
            m = np.zeros((o_n, k_n, p_n))
            for o in range(o_n):
                for k in range(k_n):
                    m[o, k, o * self.stride[d] + k * self.dilation[d]] = 1.0
            mats.append(m)
        return mats

    def _full_filters(self, w: np.ndarray) -> np.ndarray:
        """The filters as taps over every channel (zero outside each filter's group), flipped
        for a true convolution."""
        f, cg = w.shape[:2]
        full = np.zeros((f, cg * self.groups, *w.shape[2:]))
        per = f // self.groups
        for i in range(f):
            g = i // per
            full[i, g * cg : (g + 1) * cg] = w[i]
        return full[(slice(None),) * 2 + (slice(None, None, -1),) * self.n] if self.flip else full

    def _einsum(self, out: str, x: np.ndarray, wt: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
        p, k, o = self._letters()
        terms = [f"{o[d]}{k[d]}{p[d]}" for d in range(self.n)]
        spec = {"x": "bc" + p, "w": "fc" + k, "c": "bf" + o}
        names = [n for n in "xwc" if n != out]
        args = {"x": x, "w": wt, "c": c}
        lhs = ",".join([spec[n] for n in names] + terms)
        return np.einsum(f"{lhs}->{spec[out]}", *[args[n] for n in names], *self._reads(), optimize=True)

    def padded(self, x: np.ndarray) -> np.ndarray:
        return np.pad(x.astype("float64"), ((0, 0), (0, 0)) + self.pads)

    def forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return self._einsum("c", self.padded(x), self._full_filters(w.astype("float64")))

    def grads(self, x: np.ndarray, w: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The gradients of ``sum(c * forward(x, w))`` with respect to ``x`` and ``w``."""
        c = c.astype("float64")
        gxp = self._einsum("x", None, self._full_filters(w.astype("float64")), c)  # type: ignore[arg-type]
        gx = gxp[
            (slice(None),) * 2 + tuple(slice(p[0], p[0] + s) for p, s in zip(self.pads, self.x_shape[2:]))
        ]
        gfull = self._einsum("w", self.padded(x), None, c)  # type: ignore[arg-type]
        if self.flip:
            gfull = gfull[(slice(None),) * 2 + (slice(None, None, -1),) * self.n]
        f, cg = self.w_shape[:2]
        per = f // self.groups
        gw = np.stack([gfull[i, (i // per) * cg : (i // per + 1) * cg] for i in range(f)])
        return gx, gw


@st.composite
def conv_cases(draw: Any, n: int) -> Conv:
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg, fg = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    batch = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4 if n == 2 else 2)) for _ in range(n))
    dilation = tuple(draw(st.sampled_from([1, 1, 2, 3])) for _ in range(n))
    stride = tuple(draw(st.sampled_from([1, 1, 2, 3, 5])) for _ in range(n))
    border = draw(
        st.one_of(
            st.sampled_from(["valid", "full", "half"]),
            st.integers(0, 2),
            st.tuples(*[st.integers(0, 2)] * n),
            # Theano 1.0's asymmetric padding: (before, after) for some dims
            st.tuples(*[st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)))] * n),
        )
    )
    pads = conv_pads(border, kernel, dilation)
    spans = [_span(k, d) for k, d in zip(kernel, dilation)]
    # images from the smallest the padded filter fits (the filter as large as the image) up
    image = tuple(
        draw(
            st.integers(
                max(1, spans[d] - sum(pads[d])), max(1, spans[d] - sum(pads[d])) + (4 if n == 2 else 2)
            )
        )
        for d in range(n)
    )
    return Conv(
        n,
        (batch, cg * groups, *image),
        (fg * groups, cg, *kernel),
        border,
        stride,
        dilation,
        draw(st.booleans()),
        groups,
        draw(st.sampled_from(["type", "args", "none"])),
    )


def _variable(name: str, dtype: str, shape: tuple[int, ...], static: bool) -> Any:
    return ft.TensorType(dtype, shape if static else (None,) * len(shape))(name)


def conv_outputs(case: Conv, dtype: str) -> tuple[list[Any], list[Any]]:
    """The inputs (x, w, c) and the outputs of one case: the convolution, the gradients of
    ``sum(c * out)``, the named gradients and (images) the transposed convolution."""
    static = case.declared == "type"
    x = _variable("x", dtype, case.x_shape, static)
    w = _variable("w", dtype, case.w_shape, static)
    c = _variable("c", dtype, case.out_shape, static)
    hints = dict(input_shape=case.x_shape, filter_shape=case.w_shape) if case.declared == "args" else {}
    conv = ft.nnet.conv2d if case.n == 2 else ft.nnet.conv3d
    y = conv(x, w, **hints, **case.kw())
    gx, gw = fc.grad(ft.sum(y * c), [x, w])
    named = "conv2d" if case.n == 2 else "conv3d"
    # the batch and channels left to the named gradients to infer, as Theano allows
    x_shape = (None, None, *case.x_shape[2:]) if case.declared == "none" else case.x_shape
    w_shape = (None, None, *case.w_shape[2:]) if case.declared == "none" else case.w_shape
    outs = [
        y,
        gx,
        gw,
        getattr(abstract_conv, f"{named}_grad_wrt_inputs")(c, w, x_shape, **case.kw()),
        getattr(abstract_conv, f"{named}_grad_wrt_weights")(x, c, w_shape, **case.kw()),
    ]
    if case.n == 2:
        kw = case.kw()
        kw["input_dilation"] = kw.pop("subsample")
        outs.append(ft.nnet.conv2d_transpose(c, w, x_shape, **kw))
    return [x, w, c], outs


@given(
    st.sampled_from([2, 3]).flatmap(lambda n: st.lists(conv_cases(n), min_size=CASES, max_size=CASES)),
    st.sampled_from(["float64", "float32"]),
    st.integers(0, 2**32 - 1),
)
@fuzz_settings(6)
def test_conv_against_the_einsum_reference(cases: list[Conv], dtype: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    inputs, outputs, wants = [], [], []
    for case in cases:
        ins, outs = conv_outputs(case, dtype)
        inputs += ins
        outputs += outs
        x, w = rng.normal(size=case.x_shape).astype(dtype), rng.normal(size=case.w_shape).astype(dtype)
        c = rng.normal(size=case.out_shape).astype(dtype)
        gx, gw = case.grads(x, w, c)
        # the largest sum of absolute terms: the tolerance's scale
        bound = [case.forward(np.abs(x), np.abs(w)), *case.grads(np.abs(x), np.abs(w), np.abs(c))]
        scale = max(np.abs(b).max(initial=0) for b in bound)
        refs = [case.forward(x, w), gx, gw, gx, gw] + ([gx] if case.n == 2 else [])
        names = ["conv", "grad x", "grad w", "grad_wrt_inputs", "grad_wrt_weights", "conv2d_transpose"]
        wants.append(((x, w, c), list(zip(names, refs)), scale, case))
    check_every_mode(inputs, outputs, wants, dtype)


# -- pooling ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pooling:
    """One pooling case (``nd`` 2: ``pool_2d``, 3: ``pool_3d``; ``same_size``:
    ``max_pool_2d_same_size``)."""

    shape: tuple[int, ...]
    ws: tuple[int, ...]
    stride: tuple[int, ...] | None
    pad: tuple[int, ...]
    ignore_border: bool
    mode: str
    static: bool
    same_size: bool = False

    @property
    def nd(self) -> int:
        return len(self.ws)

    def regions(self) -> list[list[tuple[slice, int]]]:
        """Per pooled dim, each window's slice of the padded input and its count for a mean."""
        nd, stride = self.nd, self.stride or self.ws
        out = []
        for d in range(nd):
            size, ws, s, p = self.shape[d - nd] + 2 * self.pad[d], self.ws[d], stride[d], self.pad[d]
            if self.ignore_border:
                count = max(0, (size - ws) // s + 1)
            else:
                count = (size - 1) // s + 1 if s >= ws else max(0, (size - 1 - ws + s) // s) + 1
            dim = []
            for j in range(count):
                start, end = j * s, min(j * s + ws, size)
                if self.mode != "average_inc_pad":
                    start, end = max(start, p), min(end, size - p)
                dim.append((slice(start, end), end - start))
            out.append(dim)
        return out

    def padded(self, x: np.ndarray) -> np.ndarray:
        return np.pad(x.astype("float64"), ((0, 0),) * (x.ndim - self.nd) + tuple((p, p) for p in self.pad))

    def forward_and_grad(self, x: np.ndarray, c: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Theano's ``Pool.perform`` (windows of the padded input, clipped at its end; the
        padding left out but for ``average_inc_pad``) and the gradient of ``sum(c * out)``."""
        xp, regions = self.padded(x), self.regions()
        lead = x.shape[: x.ndim - self.nd]
        out = np.zeros(lead + tuple(len(r) for r in regions))
        g = np.zeros_like(xp)
        for at in np.ndindex(*out.shape[len(lead) :]):
            sl = tuple(regions[d][at[d]][0] for d in range(self.nd))
            count = float(np.prod([regions[d][at[d]][1] for d in range(self.nd)]))
            win = xp[(Ellipsis, *sl)]
            flat = win.reshape(lead + (-1,))
            ci = 0.0 if c is None or self.same_size else c[(Ellipsis, *at)].astype("float64")
            if self.mode == "max":
                out[(Ellipsis, *at)] = flat.max(axis=-1)
                hit = (flat == flat.max(axis=-1, keepdims=True)) * np.asarray(ci)[..., None]
                g[(Ellipsis, *sl)] += hit.reshape(win.shape)
            else:
                div = 1.0 if self.mode == "sum" else count
                out[(Ellipsis, *at)] = flat.sum(axis=-1) / div
                g[(Ellipsis, *sl)] += np.asarray(ci / div)[(Ellipsis,) + (None,) * self.nd]
        crop = tuple(slice(p, p + n) for p, n in zip(self.pad, x.shape[x.ndim - self.nd :]))
        g = g[(Ellipsis, *crop)]
        if self.same_size:
            # each window's max where it is, zeros elsewhere: the gradient is c at the maxima
            keep, at_max = np.zeros_like(xp), np.zeros(xp.shape, dtype=bool)
            for at in np.ndindex(*out.shape[len(lead) :]):
                sl = tuple(regions[d][at[d]][0] for d in range(self.nd))
                win = xp[(Ellipsis, *sl)]
                top = win.reshape(lead + (-1,)).max(axis=-1)[(Ellipsis,) + (None,) * self.nd]
                keep[(Ellipsis, *sl)] = np.where(win == top, win, keep[(Ellipsis, *sl)])
                at_max[(Ellipsis, *sl)] |= win == top
            return keep, np.where(at_max[(Ellipsis, *crop)], 0.0 if c is None else c, 0.0)
        return out, g

    def build(self, x: Any) -> Any:
        if self.same_size:
            return pool.max_pool_2d_same_size(x, self.ws)
        fn = pool.pool_2d if self.nd == 2 else pool.pool_3d
        return fn(
            x, self.ws, ignore_border=self.ignore_border, stride=self.stride, pad=self.pad, mode=self.mode
        )


@st.composite
def pool_cases(draw: Any) -> Pooling:
    if draw(st.integers(0, 5)) == 0:
        ws = tuple(draw(st.integers(1, 3)) for _ in range(2))
        lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
        shape = lead + tuple(draw(st.integers(1, 6)) for _ in range(2))
        return Pooling(shape, ws, None, (0, 0), True, "max", draw(st.booleans()), same_size=True)
    nd = draw(st.sampled_from([2, 2, 3]))
    ws = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * nd)))
    ignore_border = draw(st.booleans())
    pad = tuple(draw(st.integers(0, w - 1)) for w in ws) if ignore_border else (0,) * nd
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    shape = lead + tuple(draw(st.integers(1, 6 if nd == 2 else 4)) for _ in range(nd))
    mode = draw(st.sampled_from(pool.MODES))
    return Pooling(shape, ws, stride, pad, ignore_border, mode, draw(st.booleans()))


@given(
    st.lists(pool_cases(), min_size=2 * CASES, max_size=2 * CASES),
    st.sampled_from(["float64", "float32"]),
    st.integers(0, 2**32 - 1),
)
@fuzz_settings(5)
def test_pooling_against_theanos_windows(cases: list[Pooling], dtype: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    inputs, outputs, checks = [], [], []
    for case in cases:
        x = _variable("x", dtype, case.shape, case.static)
        y = case.build(x)
        c = ft.TensorType(dtype, (None,) * y.ndim)("c")
        inputs += [x, c]
        outputs += [y, fc.grad(ft.sum(y * c), x)]
        xv = rng.normal(size=case.shape).astype(dtype)  # no ties: each window has one max
        want, _ = case.forward_and_grad(xv, None)
        cv = rng.normal(size=want.shape).astype(dtype)
        _, gwant = case.forward_and_grad(xv, cv)
        scale = float(np.prod(case.ws)) * max(np.abs(xv).max(initial=0), np.abs(cv).max(initial=0))
        assert y.ndim == len(case.shape) and all(
            s is None or s == t for s, t in zip(y.type.shape, want.shape)
        ), f"static shape {y.type.shape} of {case}, the reference gives {want.shape}"
        checks.append(((xv, cv), [("pool", want), ("grad", gwant)], scale, case))
    check_every_mode(inputs, outputs, checks, dtype)


# -- signal.convolve1d / convolve2d against PyTensor's and scipy's -------------------------------
@dataclass(frozen=True)
class Convolve:
    """One ``signal.convolve1d`` (``nd`` 1) or ``convolve2d`` case."""

    nd: int
    mode: str
    a_shape: tuple[int, ...]
    b_shape: tuple[int, ...]
    boundary: str

    @property
    def by_pytensor(self) -> bool:
        # PyTensor's convolve2d pads (for "same", or a boundary other than "fill") with an op
        # that compiles itself in FAST_RUN at each call (seconds): scipy is the reference there
        return self.nd == 1 or (self.mode != "same" and self.boundary == "fill")

    def scipy(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """scipy's convolution of each signal of the stack ``a`` with its filter in ``b``."""
        import scipy.signal

        lead = np.broadcast_shapes(a.shape[: -self.nd], b.shape[: -self.nd])
        a, b = (np.broadcast_to(v, lead + v.shape[-self.nd :]) for v in (a, b))
        outs = [scipy.signal.convolve2d(a[i], b[i], self.mode, self.boundary) for i in np.ndindex(*lead)]
        return np.array(outs).reshape(lead + outs[0].shape)

    def scipy_grads(self, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
        """The gradients of ``sum(c * scipy(a, b))``: the convolution is linear in each input,
        so each entry's is the functional of the convolution of a unit signal with the other."""
        grads = []
        for k, v in enumerate((a, b)):
            g = np.zeros_like(v)
            for i in np.ndindex(*v.shape):
                unit = np.zeros_like(v)
                unit[i] = 1.0
                g[i] = np.sum(c * (self.scipy(unit, b) if k == 0 else self.scipy(a, unit)))
            grads.append(g)
        return grads


def out_sizes(mode: str, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The sizes of scipy's ``mode`` convolution of signals of sizes ``a`` and ``b``."""
    if mode == "full":
        return tuple(n + m - 1 for n, m in zip(a, b))
    if mode == "same":
        return a
    return tuple(abs(n - m) + 1 for n, m in zip(a, b))


@st.composite
def convolve_cases(draw: Any) -> Convolve:
    nd = draw(st.sampled_from([1, 2]))
    mode = draw(st.sampled_from(["full", "valid", "same"]))
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=1)))
    a = lead + tuple(draw(st.integers(1, 5)) for _ in range(nd))
    b = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    if mode == "valid" and nd == 2:
        # scipy's 'valid' needs one operand at least as large in both dims
        a = a[:-2] + tuple(max(s, t) for s, t in zip(a[-2:], b))
    boundary = draw(st.sampled_from(["fill", "wrap", "symm"])) if nd == 2 else "fill"
    return Convolve(nd, mode, a, b, boundary)


@given(st.lists(convolve_cases(), min_size=CASES, max_size=CASES), st.integers(0, 2**32 - 1))
@fuzz_settings(2)
def test_signal_convolve_against_pytensor_and_scipy(cases: list[Convolve], seed: int) -> None:
    rng = np.random.default_rng(seed)
    fc_in, fc_out, pt_in, pt_out, values, wants = [], [], [], [], [], []
    for case in cases:
        a, b = rng.normal(size=case.a_shape), rng.normal(size=case.b_shape)
        nd = case.nd
        lead = np.broadcast_shapes(case.a_shape[:-nd], case.b_shape[:-nd])
        c = rng.normal(size=lead + out_sizes(case.mode, case.a_shape[-nd:], case.b_shape[-nd:]))
        kw = dict(boundary=case.boundary) if nd == 2 else {}
        fa, fb = (_variable(n, "float64", s, False) for n, s in (("a", case.a_shape), ("b", case.b_shape)))
        fy = (ft.signal.convolve1d if nd == 1 else ft.signal.convolve2d)(fa, fb, mode=case.mode, **kw)
        fc_in += [fa, fb]
        fc_out += [fy, *fc.grad(ft.sum(fy * c), [fa, fb])]
        values += [a, b]
        if case.by_pytensor:
            pa, pb = (
                pt.tensor(n, dtype="float64", shape=(None,) * len(v.shape)) for n, v in (("a", a), ("b", b))
            )
            py = (convolve1d if nd == 1 else convolve2d)(pa, pb, mode=case.mode, **kw)
            pt_in += [pa, pb]
            pt_out += [py, *pytensor.grad((py * c).sum(), [pa, pb])]
            wants.append(None)
        else:
            wants.append([case.scipy(a, b), *case.scipy_grads(a, b, c)])
    # PyTensor's Python linker and its fewest rewrites (its gradient ops compile inner functions
    # in the outer one's mode): the reference needs no C compiler, and compiles in a tenth
    quick = pytensor.compile.mode.Mode(linker="py", optimizer="fast_compile")
    pt_values = [v for case, v in zip([c for c in cases for _ in "ab"], values) if case.by_pytensor]
    by_pytensor = iter(pytensor.function(pt_in, pt_out, mode=quick)(*pt_values) if pt_in else [])
    wants = [w if w is not None else [next(by_pytensor) for _ in range(3)] for w in wants]
    for mode in MODES:
        got = iter(fc.function(fc_in, fc_out, mode=mode)(*values))
        for case, refs in zip(cases, wants):
            for name, want in zip(("y", "grad a", "grad b"), refs):
                scale = 10 * float(np.abs(want).max(initial=1.0))
                assert_close(next(got), np.asarray(want), scale, "float64", f"{mode} {name} of {case}")


def test_asymmetric_padding_of_conv2d_and_conv3d() -> None:
    """Theano 1.0's ``border_mode`` with a pair (before, after) for a dim: values, static
    shapes, gradients and the named gradients, as the einsum reference's."""
    cases = [
        Conv(2, (2, 2, 4, 3), (3, 2, 2, 2), ((1, 2), 0), (1, 2), (1, 1), True, 1, "type"),
        Conv(
            3, (1, 2, 3, 2, 3), (2, 1, 2, 1, 2), (1, (0, 2), (2, 0)), (2, 1, 1), (1, 1, 2), False, 2, "none"
        ),
    ]
    rng = np.random.default_rng(3)
    for case in cases:
        ins, outs = conv_outputs(case, "float64")
        assert outs[0].type.shape == (case.out_shape if case.declared == "type" else (None,) * (case.n + 2))
        x, w, c = (rng.normal(size=s) for s in (case.x_shape, case.w_shape, case.out_shape))
        gx, gw = case.grads(x, w, c)
        wants = [case.forward(x, w), gx, gw, gx, gw, gx][: len(outs)]
        for got, want in zip(fc.function(ins, outs)(x, w, c), wants):
            assert_close(got, want, 100.0, "float64", str(case))
    with pytest.raises(
        ValueError, match=r"conv2d: border_mode must be .* each an int or a pair \(before, after\)"
    ):
        ft.nnet.conv2d(ft.dtensor4(), ft.dtensor4(), border_mode=((1, 2, 3), 0))
