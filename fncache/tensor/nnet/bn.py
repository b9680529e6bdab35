"""Theano's ``theano.tensor.nnet.bn`` import path, for ported scripts: importing it gives
:mod:`fncache.tensor.bn` itself (the module ``ft.nnet.bn`` already is)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("fncache.tensor.bn")
