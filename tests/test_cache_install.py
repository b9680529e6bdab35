"""Every route into ``entries/`` installs verified bytes the same way (cache/install.py): a fresh
build, ``put_bytes`` and a bundle import here; the remote tier's fetch in test_remote.py.

Each route must fsync every file of the entry and the staging directory before the publishing
rename and the shard directory after it, and a corrupted input must never leave a published entry.
"""

from __future__ import annotations

import io
import os
import tarfile
import uuid
from pathlib import Path

import pytest

from fncache.cache import CacheKey, Compiledir, compiledir, install
from fncache.errors import CacheError


class Synced:
    """The paths this process fsynced, in order (real fsyncs: the call is passed on)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def files_of(self, final: Path) -> set[str]:
        """Names fsynced inside a staging directory of the compiledir that holds ``final``."""
        staging = str(final.parent.parent.parent / "tmp") + "/"
        return {Path(p).name for p in self.paths if p.startswith(staging)}

    def dir_synced_after_publish(self, final: Path) -> bool:
        return str(final.parent) in self.paths


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> Synced:
    record = Synced()
    real = os.fsync

    def fsync(fd: int) -> None:
        record.paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return record


@pytest.fixture
def installs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The file listing of each staged entry that went through the install path."""
    seen: list[list[str]] = []
    real = install._sync_staged

    def spy(staging: Path) -> int:
        seen.append(sorted(os.listdir(staging)))
        return real(staging)

    monkeypatch.setattr(install, "_sync_staged", spy)
    return seen


def new_key() -> CacheKey:
    return CacheKey("kernel_library", {"name": "install", "nonce": uuid.uuid4().hex})


def one_file(content: bytes):
    def build(staging: Path) -> dict:
        (staging / "lib.bin").write_bytes(content)
        return {"library": "lib.bin"}

    return build


def published(cd: Compiledir, key: CacheKey) -> bool:
    return (cd.path / "entries" / key.digest[:2] / key.digest).exists()


def assert_durable(entry_path: Path, files: list[str], synced: Synced) -> None:
    assert set(files) | {"meta.json"} <= synced.files_of(entry_path)
    assert synced.dir_synced_after_publish(entry_path)


# -- a fresh build and put_bytes ---------------------------------------------------------------------


def test_a_fresh_build_is_installed_durably(tmp_path, synced, installs):
    cd = Compiledir(tmp_path / "cd")
    key = new_key()
    entry = cd.get_or_build(key, one_file(b"built"))
    assert installs == [["lib.bin", "meta.json"]]
    assert_durable(entry.path, entry.files, synced)
    assert entry.read_bytes("lib.bin") == b"built" and published(cd, key)


def test_put_bytes_is_installed_durably(tmp_path, synced, installs):
    cd = Compiledir(tmp_path / "cd")
    key = CacheKey("function", {"graph": uuid.uuid4().hex})
    entry = cd.put_bytes(key, {"graph.pkl": b"g"}, {"nodes": 1})
    assert installs == [["graph.pkl", "meta.json"]]
    assert_durable(entry.path, entry.files, synced)


def test_a_build_changed_after_sealing_is_never_published(tmp_path, monkeypatch):
    """Bytes that stop matching their seal before the rename (a failing disk, a stray writer) are
    refused with an error naming the key; the next build publishes a good entry."""
    real_seal = compiledir.seal

    def seal_then_damage(staging: Path, *args, **kwargs):
        meta = real_seal(staging, *args, **kwargs)
        (staging / "lib.bin").write_bytes(b"changed after sealing")
        return meta

    cd = Compiledir(tmp_path / "cd")
    key = new_key()
    monkeypatch.setattr(compiledir, "seal", seal_then_damage)
    with pytest.raises(CacheError, match=f"{key.digest[:16]}.*did not verify"):
        cd.get_or_build(key, one_file(b"built"))
    assert not published(cd, key) and cd.get(key) is None
    monkeypatch.setattr(compiledir, "seal", real_seal)
    assert cd.get_or_build(key, one_file(b"built")).read_bytes("lib.bin") == b"built"


# -- bundle import -------------------------------------------------------------------------------------


def _archive(tmp_path: Path, content: bytes = b"exported") -> tuple[Path, CacheKey]:
    src = Compiledir(tmp_path / "src")
    key = new_key()
    src.get_or_build(key, one_file(content))
    archive = tmp_path / "bundle.tar"
    assert src.export(archive)["exported"] == [key.digest]
    return archive, key


def _rewrite(archive: Path, out: Path, change) -> Path:
    """A copy of ``archive`` with each member's bytes passed through ``change(name, data)``
    (None drops the member), plus any extra members ``change`` returns for the name ``None``."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for m in src:
            data = change(m.name, src.extractfile(m).read())
            if data is None:
                continue
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
        for name, data in (change(None, b"") or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


def test_a_bundle_import_is_verified_and_durable(tmp_path, synced, installs):
    archive, key = _archive(tmp_path)
    installs.clear()
    synced.paths.clear()
    dst = Compiledir(tmp_path / "dst")
    assert dst.import_(archive)["imported"] == [key.digest]
    assert installs == [["lib.bin", "meta.json"]]
    entry = dst.get(key)
    assert_durable(entry.path, entry.files, synced)
    assert entry.read_bytes("lib.bin") == b"exported"


@pytest.mark.parametrize("damage", ["content", "meta", "unlisted_file", "missing_file"])
def test_a_corrupted_bundle_entry_is_never_published(tmp_path, damage):
    archive, key = _archive(tmp_path)

    def change(name, data):
        if name is None:
            return {f"entries/{key.digest}/extra.bin": b"planted"} if damage == "unlisted_file" else None
        if name.endswith("/lib.bin"):
            if damage == "content":
                return data[:-1] + bytes([data[-1] ^ 1])
            if damage == "missing_file":
                return None
        if name.endswith("/meta.json") and damage == "meta":
            return data.replace(b'"library"', b'"librarz"')
        return data

    bad = _rewrite(archive, tmp_path / "bad.tar", change)
    dst = Compiledir(tmp_path / "dst")
    report = dst.import_(bad)
    assert [b["key"] for b in report["bad"]] == [key.digest] and report["imported"] == []
    assert not published(dst, key) and dst.get(key) is None
    assert not any((dst.path / "tmp").iterdir())  # nothing staged is left behind


def test_a_bundle_entry_replaces_a_damaged_entry_of_its_key(tmp_path, caplog):
    """The install that loses the rename verifies the winner: a damaged one is moved aside and the
    verified copy takes its place."""
    archive, key = _archive(tmp_path)
    dst = Compiledir(tmp_path / "dst")
    dst.import_(archive)
    entry_dir = dst.path / "entries" / key.digest[:2] / key.digest
    (entry_dir / "lib.bin").write_bytes(b"bit rot")
    assert dst.import_(archive)["imported"] == [key.digest]
    assert dst.get(key).read_bytes("lib.bin") == b"exported"
    assert list((dst.path / "quarantine").iterdir())
