"""Bad input to the ``fncache`` command, run in-process: every mistake is one line on stderr naming
the input and the fix, with exit status 2 for a malformed argument and 1 for a failure, never a
traceback, never a password, and nothing created or changed.

The compiledir is made of synthetic entries (``put_bytes``): nothing is compiled here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest

from fncache.config import config
from fncache_cli.main import build_parser, main


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """``fncache ARGS`` in this process: (exit status, stdout, stderr); the flags a command sets
    (``--compiledir`` sets config.compiledir) are put back afterwards."""
    with config.change_flags(compiledir=config.compiledir):
        try:
            rc = main([str(a) for a in args])
        except SystemExit as e:  # usage errors exit through argparse
            rc = int(e.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "a bug in fncache" not in captured.err, captured.err
    return rc, captured.out, captured.err


def one_error(err: str) -> str:
    """The one error line of stderr (a usage error's usage lines and a hint's indented lines aside)."""
    lines = [ln for ln in err.splitlines() if ln and not ln.startswith(("usage:", " "))]
    assert len(lines) == 1, err
    return lines[0]


def tree(path: Path) -> list[tuple[str, int]]:
    """Every path under ``path`` with its size (0 for a directory): what a failed command must not change."""
    return sorted(
        (os.path.relpath(os.path.join(r, n), path), os.lstat(os.path.join(r, n)).st_size if n in fs else 0)
        for r, ds, fs in os.walk(path)
        for n in [*ds, *fs]
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A compiledir of three synthetic entries and its export."""
    from fncache.cache import CacheKey, cache

    base = tmp_path_factory.mktemp("cli_errors")
    with config.change_flags(compiledir=base / "cd"):
        for i in range(3):
            cache.put_bytes(CacheKey("synthetic", {"i": str(i)}), {"blob.bin": os.urandom(4000)}, {})
        cache.export(base / "all.tar.gz")
    return {"dir": base / "cd", "tar": base / "all.tar.gz"}


# -- import: nothing is created or changed when it fails ------------------------------------------
def bad_archives(tmp_path: Path, good: Path) -> dict[str, tuple[Path, str]]:
    """Paths that are no usable archive, each with what its error says."""
    data = good.read_bytes()
    made: dict[str, tuple[Path, str]] = {}

    def write(name: str, content: bytes, says: str) -> None:
        (tmp_path / name).write_bytes(content)
        made[name] = (tmp_path / name, says)

    made["missing"] = (tmp_path / "missing.tar", "no such archive")
    (tmp_path / "a_dir.tar").mkdir()
    made["directory"] = (tmp_path / "a_dir.tar", "not a regular file (it is a directory)")
    os.mkfifo(tmp_path / "fifo.tar")  # opening it to read would wait for a writer for ever
    made["fifo"] = (tmp_path / "fifo.tar", "not a regular file (it is a FIFO)")
    (tmp_path / "dir_link.tar").symlink_to(tmp_path / "a_dir.tar")
    made["link to a directory"] = (tmp_path / "dir_link.tar", "(it is a directory)")
    (tmp_path / "dangling.tar").symlink_to(tmp_path / "nowhere")
    made["dangling link"] = (tmp_path / "dangling.tar", "no such archive")
    write("text.tar", b"this is not a tar archive\n" * 40, "cannot read cache archive")
    write("unnamed", b"\x00" * 3, "no tar archive, plain or compressed")
    write("random.tar.gz", os.urandom(300), "cannot read cache archive")
    write("empty.tar.gz", b"", "cannot read cache archive")
    for cut in (100, len(data) // 2, len(data) - 40):  # cut in its header, its middle, its end
        write(f"cut{cut}.tar.gz", data[:cut], "cannot read cache archive")
    with tarfile.open(tmp_path / "foreign.tar", "w") as tar:  # a tar archive, but not fncache's
        tar.add(good, arcname="entries/readme")
    made["foreign.tar"] = (tmp_path / "foreign.tar", "is not an fncache cache archive")
    return made


def test_a_failed_import_creates_and_changes_nothing(capsys, archive, tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    shutil.copytree(archive["dir"], existing)
    before = tree(existing)
    for name, (path, says) in bad_archives(tmp_path, archive["tar"]).items():
        for target in (tmp_path / "new" / "deeper" / "cd", existing):
            done: list[Any] = []
            args = ("import", path, "--compiledir", target)
            worker = threading.Thread(target=lambda a=args, d=done: d.append(run(capsys, *a)))
            worker.start()
            worker.join(timeout=60)  # a FIFO must not hang the import
            assert done, f"import of the {name} did not return"
            rc, out, err = done[0]
            line = one_error(err)
            assert rc == 1 and not out and str(path) in line and says in line, (name, err)
        assert not (tmp_path / "new").exists(), name  # not even the parents
        assert tree(existing) == before, name


def test_import_into_a_directory_that_is_no_compiledir_is_refused(capsys, archive, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    for command in (["import", archive["tar"]], ["demo"]):
        rc, _, err = run(capsys, *command, "--compiledir", home)
        assert rc == 1 and "does not look like an fncache compiledir" in one_error(err)
        assert tree(home) == [("notes.txt", 4)]
    rc, out, _ = run(capsys, "import", archive["tar"], "--json", "--compiledir", tmp_path / "seeded")
    assert rc == 0 and len(json.loads(out)["imported"]) == 3  # a new one is seeded


# -- option values starting with '-' -----------------------------------------------------------------
def test_purge_refuses_a_negative_age_naming_the_option_and_the_forms(capsys, archive) -> None:
    before = tree(archive["dir"])
    for args in (["--older-than", "-1d"], ["--older-than=-1d"], ["--older-than", "-30"], ["--older", "-2w"]):
        rc, _, err = run(capsys, "purge", *args, "--compiledir", archive["dir"])
        line = one_error(err)
        assert rc == 2 and "--older-than: an age must be >= 0" in line and "30d, 12h" in line, err
    for age in ("9" * 400 + "d", "inf"):
        rc, _, err = run(capsys, "purge", "--older-than", age, "--compiledir", archive["dir"])
        assert rc == 2 and "--older-than:" in one_error(err), err
    rc, _, err = run(capsys, "purge", "--max-size", "-5GB", "--compiledir", archive["dir"])
    assert rc == 2 and "--max-size: expected a size" in one_error(err) and "'-5GB'" in err
    rc, _, err = run(capsys, "purge", "--older-than", "--all", "--compiledir", archive["dir"])
    assert rc == 2 and "--older-than: expected one argument" in err  # an option is no value
    for args in (["--compiledir", "--dry-run"], ["--compiledir", "--dry"], ["--compiledir", "--all"]):
        rc, _, err = run(capsys, "purge", "--all", *args)  # not a compiledir named --dry-run
        assert rc == 2 and "--compiledir: expected one argument" in err, err
    assert tree(archive["dir"]) == before


def test_purge_refuses_a_max_size_of_0_pointing_to_all(capsys, archive) -> None:
    """cache_max_size=0 means no cap, so ``--max-size 0`` cannot mean "remove everything": it is
    refused, however it is spelled, and --all named; the library's purge refuses it too."""
    from fncache.cache import cache

    before = tree(archive["dir"])
    for size in ("0", "0B", "0.0GB", "0KiB"):
        rc, out, err = run(capsys, "purge", "--max-size", size, "--compiledir", archive["dir"])
        line = one_error(err)
        assert rc == 2 and not out and f"--max-size: a size of 0 is refused ({size!r})" in line, err
        assert "cache_max_size=0 means no cap" in line and "use --all" in line, err
    rc, _, err = run(capsys, "purge", "--max-size", "0", "--all", "--compiledir", archive["dir"])
    assert rc == 2 and "--all removes every entry; it cannot be combined" in one_error(err)
    with config.change_flags(compiledir=archive["dir"]):
        for size in (0, "0MB"):
            with pytest.raises(ValueError, match=r"a size of 0 is refused .* use all=True"):
                cache.purge(max_size=size)
        assert len(cache.purge(max_size=1, dry_run=True)) == 3  # the smallest cap keeps nothing
    assert tree(archive["dir"]) == before


def subcommand_options() -> list[tuple[str, str]]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    return [
        (name, option)
        for name, sub in subparsers.items()
        for action in sub._actions
        if action.option_strings and action.nargs is None
        for option in action.option_strings
        if option.startswith("--")
    ]


@pytest.mark.parametrize(("command", "option"), subcommand_options())
def test_every_option_value_may_start_with_a_dash(capsys, command: str, option: str) -> None:
    """The value reaches the option's own check (or is taken) instead of argparse's "expected
    one argument"."""
    operands = {"show": ["ab"], "export": ["x.tar"], "import": ["x.tar"]}.get(command, [])
    try:
        args = build_parser().parse_args([command, *operands, option, "-1x"])
    except SystemExit:
        err = capsys.readouterr().err
        assert "expected one argument" not in err and option in err and "'-1x'" in err, err
    else:
        assert getattr(args, option[2:].replace("-", "_")) == "-1x"


# -- empty, unicode, huge and misplaced input ----------------------------------------------------------
def test_bad_arguments_are_one_line_naming_them(capsys, archive, tmp_path: Path) -> None:
    cd = archive["dir"]
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    (tmp_path / "file_link").symlink_to(a_file)
    fifo = tmp_path / "fifo.pkl"
    os.mkfifo(fifo)
    cases: list[tuple[list[Any], int, list[str]]] = [
        (["list", "--kind", ""], 2, ["--kind", "got ''"]),
        (["list", "--host", ""], 2, ["--host", "got ''"]),
        (["export", ""], 2, ["PATH", "empty"]),
        (["import", " "], 2, ["PATH", "empty"]),
        (["explain", "--function", ""], 2, ["--function", "empty"]),
        (["info", "--compiledir", ""], 2, ["--compiledir", "empty"]),
        (["show", "é"], 2, ["'é'", "hexadecimal"]),
        (["show", "ab\u200b"], 2, ["hexadecimal"]),
        (["list", "--limit", "0"], 2, ["--limit", "> 0"]),
        (["list", "--sort", "größe"], 2, ["--sort", "invalid choice"]),
        (["list", "--compiledir", a_file], 1, [f"compiledir {a_file} is not a directory"]),
        (["stats", "--compiledir", tmp_path / "file_link"], 1, ["is not a directory"]),
        (["info", "--compiledir", tmp_path / "ünïcødé"], 1, ["ünïcødé does not exist"]),
        (["explain", "--function", tmp_path], 1, [f"cannot read {tmp_path}", "it is a directory"]),
        (["explain", "--function", fifo], 1, [f"cannot read {fifo}", "it is a FIFO"]),  # not waited on
        (["explain", "--function", a_file], 1, [str(a_file), "could not be unpickled"]),
        (["export", tmp_path / "no" / "such" / "dir.tar"], 1, ["cannot write cache archive"]),
        (["export", a_file / "x.tar"], 1, ["cannot write cache archive"]),
    ]
    for args, status, says in cases:
        rc, _, err = run(capsys, *args, *(["--compiledir", cd] if "--compiledir" not in args else []))
        line = one_error(err)
        assert rc == status and all(s in line for s in says), (args, err)
    for command in (["export", "-x.tar"], ["import", "-x.tar"], ["show", "-abc"]):
        rc, _, err = run(capsys, *command, "--compiledir", cd)
        assert rc == 2 and "is read as an option: put -- before an operand" in one_error(err), err
    rc, out, _ = run(capsys, "list", "--limit", str(10**30), "--kind", "ké*", "--json", "--compiledir", cd)
    assert rc == 0 and json.loads(out)["matched"] == 0
    assert not (tmp_path / "no").exists()


# -- URLs: checked when given, their password never shown ---------------------------------------------
def test_a_bad_remote_url_is_a_usage_error_without_its_password(capsys, archive) -> None:
    for command in ("info", "stats", "list", "purge"):
        for url, says in (
            ("redis://:s3cret@cache/-1", "database '-1' is not a number"),
            ("redis://:s3cret@cache:0/0", "port 0"),
            ("http://:s3cret@cache/0", "unsupported URL scheme 'http'"),
            ("redis://:s3cret@:6379/0", "no host"),
        ):
            extra = ["--all"] if command == "purge" else []
            rc, out, err = run(
                capsys, command, *extra, "--remote", url, "--json", "--compiledir", archive["dir"]
            )
            line = one_error(err)
            assert rc == 2 and not out and "--remote: '" in line and "://:***@" in line, err
            assert says in line and "s3cret" not in err, err


def test_no_cli_output_shows_a_url_password(capsys, archive) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"redis://alice:s3cret@127.0.0.1:{s.getsockname()[1]}/0"
    for args in (["info", "--remote", url], ["list", "--remote", url, "--json"], ["info", url]):
        rc, out, err = run(capsys, *args, "--compiledir", archive["dir"])
        assert rc in (1, 2) and "alice:***@" in err and "s3cret" not in out + err, err
    with config.change_flags(remote_cache=url):
        rc, out, err = run(capsys, "stats", "--remote", "--json", "--compiledir", archive["dir"])
    assert rc == 1 and "alice:***@" in json.loads(out)["error"]["message"] and "s3cret" not in out + err
    env = {**os.environ, "FNCACHE_FLAGS": "remote_cache=redis://:s3cret@cache/-1"}
    proc = subprocess.run(
        [sys.executable, "-m", "fncache_cli.main", "info"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    line = one_error(proc.stderr)
    assert proc.returncode == 1 and "FNCACHE_FLAGS: bad value for flag 'remote_cache'" in line
    assert "redis://:***@cache/-1" in line and "s3cret" not in proc.stderr
