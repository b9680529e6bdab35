"""Theano's ``theano.sandbox.rng_mrg`` import path: ``from fncache.tensor.rng_mrg import
MRG_RandomStreams``."""

from .shared_randomstreams import MRG_RandomStreams

__all__ = ["MRG_RandomStreams"]
