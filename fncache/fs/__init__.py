"""Filesystem primitives shared by the toolchain and the cache, knowing nothing of either.

``safedir``  directory walking and reading that never follows a link, whole writes
``perms``    the compiledir's directory map and who may write it
``signing``  the HMAC key named by ``config.signing_key``
``workdirs`` private work directories under $TMPDIR; those of killed processes removed
"""
