"""``fncache.tensor.nnet.sigm``, Theano's module of the logistic function and its
approximations (``from theano.tensor.nnet.sigm import hard_sigmoid, ultra_fast_sigmoid``):
the functions of ``ft.nnet``, with Theano's formulas (``hard_sigmoid`` is
``clip(0.2 * x + 0.5, 0, 1)``; ``ultra_fast_sigmoid`` Theano's piecewise approximation)."""

from __future__ import annotations

from . import hard_sigmoid, sigmoid, softplus, ultra_fast_sigmoid

__all__ = ["hard_sigmoid", "sigmoid", "softplus", "ultra_fast_sigmoid"]
