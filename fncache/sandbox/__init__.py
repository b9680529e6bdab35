"""Theano's ``theano.sandbox`` import path, for ported scripts: ``fncache.sandbox.rng_mrg``."""
