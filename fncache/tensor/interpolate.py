"""``fncache.tensor.interpolate``, PyTensor's module path of the interpolation functions
(``from pytensor.tensor.interpolate import interpolate1d``): the front end's own."""

from __future__ import annotations

from .binning import interp, interpolate1d

__all__ = ["interp", "interpolate1d"]
