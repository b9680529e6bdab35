"""Theano's ``theano.tensor.nnet.conv`` import path, for ported scripts: importing it gives
:mod:`fncache.tensor.conv` itself (the module ``ft.nnet.conv`` already is)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("fncache.tensor.conv")
