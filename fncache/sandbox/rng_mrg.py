"""Theano's ``theano.sandbox.rng_mrg`` import path: ``from fncache.sandbox.rng_mrg import
MRG_RandomStreams`` (the same class as ``fncache.tensor.shared_randomstreams``')."""

from ..tensor.shared_randomstreams import MRG_RandomStreams

__all__ = ["MRG_RandomStreams"]
