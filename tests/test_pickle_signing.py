"""Signed pickles (docs/trust.md): with ``config.signing_key`` set, a function payload carries an
HMAC-SHA256 that is checked before any of it is unpickled; tampered, unsigned or foreign-key
payloads are refused with ``fc.PickleError``."""

from __future__ import annotations

import hashlib
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.runtime import pickling
from fcutil import reseal


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    d = tmp_path_factory.mktemp("keys")
    a, b = d / "a.key", d / "b.key"
    a.write_bytes(os.urandom(32))
    b.write_bytes(os.urandom(32))
    return str(a), str(b)


@pytest.fixture(scope="module")
def signing_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("signed-cd"))


@pytest.fixture(autouse=True)
def _own_compiledir(signing_dir: str):
    """These tests use their own compiledir: under a key, the suite's unsigned entries would be
    (rightly) refused and rebuilt."""
    with fc.config.change_flags(compiledir=signing_dir):
        yield


@pytest.fixture(scope="module")
def signed(keys, signing_dir):
    """A function compiled with signing on, its payload and its pickle."""
    with fc.config.change_flags(compiledir=signing_dir, signing_key=keys[0]):
        x = ft.dvector("x")
        f = fc.function([x], ft.exp(x) + 1, name="signed")
        return f, fc.dumps(f), pickle.dumps(f)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_signed_payloads_load(signed, keys):
    f, raw, outer = signed
    with fc.config.change_flags(signing_key=keys[0]):
        for g in (fc.loads(raw), pickle.loads(outer)):
            np.testing.assert_array_equal(g(np.arange(3.0)), f(np.arange(3.0)))


@pytest.mark.parametrize("where", ["version", "key", "mac", "body"])
def test_tampering_anywhere_is_refused(signed, keys, where):
    _, raw, outer = signed
    n = raw[len(pickling.MAGIC) + 2]
    key_at = len(pickling.MAGIC) + 3 + n + 1
    mac_at = key_at + raw[key_at - 1] + 32 + 1
    at = {"version": len(pickling.MAGIC) + 3, "key": key_at + 3, "mac": mac_at + 5, "body": len(raw) - 100}[
        where
    ]
    with fc.config.change_flags(signing_key=keys[0]):
        if where != "mac":  # damage, caught by the checksum
            with pytest.raises(fc.PickleError, match="checksum does not match"):
                fc.loads(_flip(raw, at))
        # a deliberate change (checksum recomputed): only the signature catches it
        with pytest.raises(fc.PickleError, match="signature does not verify"):
            fc.loads(reseal(_flip(raw, at)))
        start = outer.index(pickling.MAGIC)  # the same through pickle.loads
        with pytest.raises(fc.PickleError, match="signature does not verify"):
            pickle.loads(outer[:start] + reseal(_flip(raw, at)) + outer[start + len(raw) :])


def test_unsigned_payload_refused_when_a_key_is_set(signed, keys):
    f, _, _ = signed
    unsigned = fc.dumps(f)  # signing_key is unset here
    assert fc.loads(unsigned) is not None
    with fc.config.change_flags(signing_key=keys[0]):
        with pytest.raises(fc.PickleError, match="unsigned"):
            fc.loads(unsigned)


def test_another_key_is_refused(signed, keys):
    _, raw, _ = signed
    with fc.config.change_flags(signing_key=keys[1]):
        with pytest.raises(fc.PickleError, match="another key"):
            fc.loads(raw)


class _Plant:
    """A pickle that creates a directory when it is unpickled: it shows whether anything in a
    payload ran before the signature check refused it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return os.mkdir, (str(self.path),)


def _forged(body: bytes, mac: bytes) -> bytes:
    version = fc.__version__.encode()
    head = pickling.MAGIC + struct.pack(">HB", pickling.FORMAT, len(version)) + version + b"\x00"
    return head + hashlib.sha256(head + body).digest() + struct.pack(">B", len(mac)) + mac + body


def test_nothing_is_unpickled_before_verification(keys, tmp_path):
    marker = tmp_path / "ran"
    body = pickle.dumps(_Plant(marker))
    with fc.config.change_flags(signing_key=keys[0]):
        for mac in (b"", b"\x00" * 32):
            with pytest.raises(fc.PickleError):
                fc.loads(_forged(body, mac))
            assert not marker.exists()
    # Control: without a key the same body is unpickled (and is then refused as no function).
    with pytest.raises(fc.PickleError, match="does not hold a function"):
        fc.loads(_forged(body, b""))
    assert marker.exists()
