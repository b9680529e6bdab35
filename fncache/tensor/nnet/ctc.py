"""Theano's ``theano.tensor.nnet.ctc`` import path, for ported scripts: importing it gives
:mod:`fncache.tensor.ctc` itself (the module ``ft.nnet.ctc`` already is)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("fncache.tensor.ctc")
