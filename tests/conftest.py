"""Shared pytest fixtures. Keep each fixture in its own clearly marked section."""

from __future__ import annotations

import os

import pytest

import fncache as fc


# -- private compiledir (core test suite) ----------------------------------------------------
@pytest.fixture(scope="session", autouse=True)
def _private_compiledir(tmp_path_factory: pytest.TempPathFactory):
    """Every test session compiles into its own compiledir, never the user's cache.

    ``FNCACHE_TEST_COMPILEDIR`` names a directory to use instead (e.g. to keep a warm cache
    between runs while iterating).
    """
    path = os.environ.get("FNCACHE_TEST_COMPILEDIR") or str(tmp_path_factory.mktemp("compiledir"))
    with fc.config.change_flags(compiledir=path):
        yield path


# -- verified cache hits (tests marked verify_hits) ---------------------------------------------
@pytest.fixture(autouse=True)
def _verify_hits(request: pytest.FixtureRequest):
    """Tests marked ``verify_hits`` run with ``cache_verify_hits``: every cache hit is rebuilt
    and compared with the stored entry, so an unsound key fails the test that hit it."""
    if request.node.get_closest_marker("verify_hits") is None:
        yield
        return
    with fc.config.change_flags(cache_verify_hits=True):
        yield
