"""Theano's ``theano.updates`` import path: ``from fncache.updates import OrderedUpdates``."""

from .tensor.updates import OrderedUpdates

__all__ = ["OrderedUpdates"]
