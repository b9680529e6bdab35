"""Theano's ``theano.tensor.nnet.abstract_conv`` import path, for ported scripts: importing it gives
:mod:`fncache.tensor.abstract_conv` itself (the module ``ft.nnet.abstract_conv`` already is)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("fncache.tensor.abstract_conv")
