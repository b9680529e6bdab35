"""Theano's ``theano.tensor.nnet.neighbours`` import path, for ported scripts: importing it gives
:mod:`fncache.tensor.neighbours` itself (the module ``ft.nnet.neighbours`` already is)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("fncache.tensor.neighbours")
