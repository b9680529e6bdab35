"""gammainc and gammaincc for large arguments: the uniform asymptotic expansion (Temme's) for a
large shape a with x near a, and the series and continued fraction around it, against scipy in
both backends; the C helper's table of the expansion's coefficients against their exact
derivation in the Python reference."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import special  # the reference (a test dependency)

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.gamma_reference import temme_coefficients
from fcutil import MODES

#: (a, x / a): the expansion's region (a > 20, |x - a| / a < 0.3) on both sides of a and at its
#: edges, the series and continued fraction beyond it, for shapes from 20 to 1e20
_RATIOS = (
    0.3,
    0.5,
    0.6999,
    0.7001,
    0.75,
    0.9,
    0.99,
    0.999999,
    1.0,
    1.000001,
    1.01,
    1.1,
    1.29,
    1.31,
    2.0,
    5.0,
)
_SHAPES = (19.5, 20.5, 25.0, 100.0, 1e3, 1e4, 1e6, 1e10, 1e12, 1e16, 1e20)
#: points where scipy loses digits: P(a, x) summed in 40-digit arithmetic instead
_EXACT_P = {(1e6, 0.99): 5.446644693010809e-24}


def _grid() -> tuple[np.ndarray, np.ndarray]:
    a = np.repeat(np.array(_SHAPES), len(_RATIOS))
    return a, a * np.tile(np.array(_RATIOS), len(_SHAPES))


@pytest.fixture(scope="module", params=MODES)
def igam(request: pytest.FixtureRequest) -> fc.Function:
    a, x = ft.dvector("a"), ft.dvector("x")
    return fc.function([a, x], [ft.gammainc(a, x), ft.gammaincc(a, x)], mode=request.param)


def _check(got: np.ndarray, want: np.ndarray, a: np.ndarray, x: np.ndarray, name: str, rtol: float) -> None:
    tiny = np.abs(want) < 1e-300  # underflow: both 0 (or denormal)
    err = np.where(tiny, np.abs(got - want) / 1e-300, np.abs(got - want) / np.where(tiny, 1.0, np.abs(want)))
    bad = ~(err <= rtol)
    assert not bad.any(), f"{name}: wrong at (a, x) = {list(zip(a[bad], x[bad], got[bad], want[bad]))[:5]}"


def test_large_shapes_match_scipy(igam: fc.Function) -> None:
    a, x = _grid()
    p, q = igam(a, x)
    want_p = special.gammainc(a, x)
    for (ka, r), v in _EXACT_P.items():
        want_p[(a == ka) & (x == ka * r)] = v
    _check(p, want_p, a, x, "gammainc", 1e-12)
    _check(q, special.gammaincc(a, x), a, x, "gammaincc", 1e-12)
    # P + Q = 1 where neither is tiny
    both = (p > 1e-3) & (q > 1e-3)
    np.testing.assert_allclose(p[both] + q[both], 1.0, rtol=1e-15)


def test_extreme_arguments_are_scipys(igam: fc.Function) -> None:
    """x = 0, a tiny shape, a huge x, infinities and NaN, as scipy."""
    cases = [
        (1e10, 0.0),
        (1e-300, 1.0),
        (1e-300, 1e-300),
        (1e-10, 1e300),
        (1e6, 1e300),
        (1e300, 1.0),
        (1e300, 1e300),
        (1.0, np.inf),
        (np.inf, 1.0),
        (np.inf, np.inf),
        (0.0, 0.0),
        (0.0, 5.0),
        (np.nan, 1.0),
        (1.0, np.nan),
        (-1.0, 1.0),
        (1.0, -1.0),
        (1e16, 1e16 + 2e8),
        (1e16, 1e16 - 2e8),
        (1e300, 1e301),
        (1e300, 1e299),
        (1e300, 1.1e300),
        (1e300, 0.9e300),
        (1e200, 1e5),
        (5.0, 1e5),
    ]
    a, x = (np.array(v) for v in zip(*cases))
    p, q = igam(a, x)
    with np.errstate(all="ignore"):
        # scipy's P(1e-300, 1) is 1 + 2e-14: the reference is clipped into [0, 1]
        for got, want, name in (
            (p, special.gammainc(a, x), "gammainc"),
            (q, special.gammaincc(a, x), "gammaincc"),
        ):
            want = np.clip(want, 0.0, 1.0)
            nan = np.isnan(want)
            assert (np.isnan(got) == nan).all(), f"{name}: NaN where scipy has {got} vs {want}"
            _check(got[~nan], want[~nan], a[~nan], x[~nan], name, 1e-12)


def test_the_c_table_is_the_exact_coefficients() -> None:
    """The C helper's literal table of Temme's coefficients is the exact derivation, rounded."""
    prelude = Path(fc.__file__).parent / "codegen" / "prelude.h"
    text = prelude.read_text()
    body = text[text.index("fc_temme_c[25][25] = {") :]
    body = body[: body.index("};")]
    rows = [[float(v) for v in re.findall(r"[-+0-9.e]+", row)] for row in re.findall(r"\{([^{}]*)\}", body)]
    want = temme_coefficients()
    assert len(rows) == len(want) and all(len(r) == len(w) for r, w in zip(rows, want))
    assert rows == [list(w) for w in want]
    # the known first values (DLMF 8.12.8: c_0(0) = -1/3, c_1(0) = -1/540)
    assert want[0][:2] == (-1 / 3, 1 / 12) and want[1][0] == pytest.approx(-1 / 540, rel=1e-15)


def test_a_random_sweep_of_shapes_up_to_1e300_matches_scipy(igam: fc.Function) -> None:
    """Shapes from 1e-3 to 1e300 and x / a from 1e-3 to 1e3 (a third within 2 of a): no NaN, and
    scipy's values within 1e-12 (the far tails, near 1e-200, are where that much is lost)."""
    rng = np.random.default_rng(7)
    a = 10 ** rng.uniform(-3, 300, 400)
    ratio = np.concatenate([rng.uniform(0.5, 2.0, 130), 10 ** rng.uniform(-3, 3, 270)])
    x = a * ratio
    p, q = igam(a, x)
    _check(p, np.clip(special.gammainc(a, x), 0.0, 1.0), a, x, "gammainc", 1e-12)
    _check(q, np.clip(special.gammaincc(a, x), 0.0, 1.0), a, x, "gammaincc", 1e-12)
