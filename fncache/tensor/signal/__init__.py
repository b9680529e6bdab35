"""``ft.signal``: the image-signal functions of Theano's and PyTensor's ``tensor.signal``
(``from fncache.tensor.signal import pool``; ``pool.pool_2d``), Theano's older
``downsample.max_pool_2d``, Theano's ``conv.conv2d`` (the 2-d convolution of images with
filters), PyTensor's ``convolve1d`` (numpy's convolve along the last axis of stacks of
signals) and ``convolve2d`` (scipy's, over the last two dims of stacks of images)."""

from __future__ import annotations

import importlib
from typing import Any

from ..convolve import convolve1d, convolve2d
from . import downsample, pool

__all__ = ["conv", "convolve1d", "convolve2d", "downsample", "pool"]  # noqa: F822  (conv: __getattr__ below)


def __getattr__(name: str) -> Any:
    # conv loads the convolution op's module, which pooling does not need
    if name == "conv":
        return importlib.import_module(f".{name}", __package__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
