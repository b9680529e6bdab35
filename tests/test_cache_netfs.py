"""One compiledir shared by two "hosts" through a network filesystem: a real sshfs pair.

An sshd on 127.0.0.1 (its own host key, config and authorized key) serves one directory; it is
mounted twice with sshfs, caches off, and each mount is one "host": workers run under
``unshare --uts`` with their own host name.  As on NFS without lockd, flock through one mount
does not exclude flock through the other, sshfs answers EINVAL to an exchange rename, and EPERM
where a local disk says ENOTEMPTY or EEXIST.  Nothing is simulated: real sshd, real FUSE, real
gcc, real SIGKILL.

``.ci/run`` installs sshfs and openssh-server; without them, or without FUSE, these tests are
skipped and say why.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
#: Short leases keep the group to about a minute; every process of a test uses the same value.
LEASE = 6.0
# Both "hosts" are one CPU: pin the vector width, which each host otherwise measures for itself
# (on a loaded machine the two measurements may pick different widths, hence different kernel
# keys; these tests count entries and waits of one shared key).
SAME_CODE = {"vector_width": "default"}

RACE_WORKER = r"""
import json, os, socket, sys, time
spec = json.loads(sys.argv[1])
import numpy as np
import fncache as fc
from fncache import tensor as ft
fc.config.compiledir = spec["compiledir"]
for k, v in spec["flags"].items():
    setattr(fc.config, k, v)
x, y = ft.dvector("x"), ft.dvector("y")
a, b = np.linspace(-2.0, 2.0, 1001), np.linspace(3.0, -1.0, 1001)
cases = [(ft.exp(x) * y + ft.sin(x), np.exp(a) * b + np.sin(a)),
         (ft.sum((x - y) ** 2), np.sum((a - b) ** 2)),
         (x * 2.5 - y / 3.0, a * 2.5 - b / 3.0)]
open(spec["ready"], "w").close()
while not os.path.exists(spec["go"]):
    time.sleep(0.002)
wrong = [i for i, (out, want) in enumerate(cases) if not np.allclose(fc.function([x, y], out)(a, b), want)]
print(json.dumps({"host": socket.gethostname(), "wrong": wrong}))
"""

KILL_WORKER = r"""
import json, os, socket, sys, time
spec = json.loads(sys.argv[1])
from fncache.config import config
config.compiledir = spec["compiledir"]
for k, v in spec["flags"].items():
    setattr(config, k, v)
from fncache.toolchain import compile_shared_object
from fncache.cache import cache, module_key
SOURCE = "int answer(void) { return 42; }\n"
started = []
def build(staging):
    started.append(time.time())
    open(spec["announce"], "w").write(str(os.getpid()))
    time.sleep(spec["build_sleep"])
    so = compile_shared_object(SOURCE, staging, "answer", python_ext=False)
    return {"library": so.name}
open(spec["ready"], "w").close()
entry = cache.get_or_build(module_key("kernel_library", SOURCE), build)
print(json.dumps({"host": socket.gethostname(), "started": started, "done": time.time(),
                  "files": entry.files}))
"""


def _why_not() -> str | None:
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse: FUSE (and so sshfs) cannot work on this machine"
    for tool in ("sshfs", "fusermount", "unshare", "ssh-keygen", "hostname"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/run installs sshfs and openssh-server)"
    if not os.path.exists(SSHD):
        return "sshd is not installed (.ci/run installs openssh-server)"
    if os.geteuid() != 0:
        return "needs root: sshd logs in as root and unshare --uts needs CAP_SYS_ADMIN"
    return None


@dataclass(frozen=True)
class SshfsPair:
    share: Path  # the served directory, as the server sees it
    mounts: dict[str, Path]  # host name -> that host's sshfs mount of ``share``


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, sshd: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if sshd.poll() is not None:
            raise AssertionError(f"sshd exited: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"sshd did not listen on port {port}: {log.read_text()}")


@pytest.fixture(scope="module")
def sshfs_pair(tmp_path_factory: pytest.TempPathFactory):
    why = _why_not()
    if why:
        pytest.skip(why)
    base = tmp_path_factory.mktemp("sshfs")
    for key in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / key)], check=True)
    shutil.copy(base / "user_key.pub", base / "authorized_keys")
    port = _free_port()
    (base / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_key'}\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        f"PidFile {base / 'sshd.pid'}\nSubsystem sftp internal-sftp\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation directory
    log = base / "sshd.log"
    with open(log, "wb") as log_file:
        sshd = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(base / "sshd_config")], stdout=log_file, stderr=subprocess.STDOUT
        )
    mounted: list[Path] = []
    try:
        _wait_for_port(port, sshd, log)
        share = base / "share"
        share.mkdir(mode=0o700)
        options = (
            f"StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR,"
            f"IdentityFile={base / 'user_key'},dir_cache=no,entry_timeout=0,attr_timeout=0,"
            f"negative_timeout=0"
        )
        mounts = {}
        for host in ("hostA", "hostB"):
            mnt = base / f"mnt-{host}"
            mnt.mkdir()
            subprocess.run(
                ["sshfs", "-p", str(port), "-o", options, f"root@127.0.0.1:{share}", str(mnt)],
                check=True,
                timeout=30,
            )
            mounted.append(mnt)
            mounts[host] = mnt
        yield SshfsPair(share, mounts)
    finally:
        for mnt in mounted:
            if subprocess.run(["fusermount", "-u", str(mnt)], capture_output=True).returncode != 0:
                subprocess.run(["fusermount", "-uz", str(mnt)], capture_output=True)
        sshd.terminate()
        try:
            sshd.wait(10)
        except subprocess.TimeoutExpired:
            sshd.kill()
            sshd.wait()


def start_on(host: str, worker: str, spec: dict) -> subprocess.Popen:
    """A worker process on "host": its own UTS namespace, whose host name is ``host``."""
    cmd = [
        "unshare",
        "--uts",
        "sh",
        "-c",
        'hostname "$0" && exec "$@"',
        host,
        sys.executable,
        "-c",
        worker,
        json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in spec.items()}),
    ]
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def wait_for(path: Path, procs: list[subprocess.Popen], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"a worker exited early: {p.communicate()[1]}")
        assert time.monotonic() < deadline, f"no worker wrote {path}"
        time.sleep(0.01)


def collect(procs: list[subprocess.Popen], timeout: float = 180) -> tuple[list[dict], list[str]]:
    """Each worker's report, and the stderr of each one that failed."""
    reports, failures = [], []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        if p.returncode == 0:
            reports.append(json.loads(out.strip().splitlines()[-1]))
        else:
            failures.append(err[-3000:] or f"exit status {p.returncode}")
    return reports, failures


def verify_cli(compiledir: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "fncache_cli.main", "verify", "--json", "--compiledir", str(compiledir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_the_pair_behaves_like_two_clients_without_shared_locks(sshfs_pair: SshfsPair):
    """What the other tests rely on: one directory, two clients, flock not shared between them."""
    import fcntl
    from fncache.cache import Compiledir

    a, b = sshfs_pair.mounts["hostA"] / "probe", sshfs_pair.mounts["hostB"] / "probe"
    a.write_text("x")
    fa, fb = os.open(a, os.O_RDWR), os.open(b, os.O_RDWR)
    try:
        fcntl.flock(fa, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fb, fcntl.LOCK_EX | fcntl.LOCK_NB)  # would raise if flock reached the other client
    finally:
        os.close(fa)
        os.close(fb)
        a.unlink()
    fs = Compiledir(sshfs_pair.mounts["hostA"] / "probe-cd").filesystem()
    assert fs == {
        "fstype": "fuse.sshfs",
        "flock_across_clients": False,
        "flock_works": True,
        "exchange_rename": False,
        "exists_errno": "EPERM",
        "lock_mode": "lease",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "fncache_cli.main",
            "info",
            "--compiledir",
            str(sshfs_pair.mounts["hostB"] / "probe-cd"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert "fuse.sshfs: flock stays on each client, no exchange rename" in out.stdout, out.stdout + out.stderr
    shutil.rmtree(sshfs_pair.share / "probe-cd")


@pytest.mark.parametrize("lock_mode", ["auto", "lease", "flock"])
def test_eight_processes_on_two_hosts_race_on_three_functions(sshfs_pair: SshfsPair, tmp_path, lock_mode):
    from fncache.cache import Compiledir

    name = f"race-{lock_mode}"
    procs = []
    for i in range(8):
        host = ("hostA", "hostB")[i % 2]
        spec = {
            "compiledir": sshfs_pair.mounts[host] / name,
            "ready": tmp_path / f"ready{i}",
            "go": tmp_path / "go",
            "flags": {"lock_mode": lock_mode, "lease_seconds": LEASE, "lock_timeout": 120, **SAME_CODE},
        }
        procs.append(start_on(host, RACE_WORKER, spec))
    for i in range(8):
        wait_for(tmp_path / f"ready{i}", procs)
    (tmp_path / "go").touch()
    reports, failures = collect(procs)
    print(f"{lock_mode}: {len(failures)} of 8 processes raised", failures)
    assert failures == []
    assert [r["wrong"] for r in reports] == [[]] * 8
    assert collections.Counter(r["host"] for r in reports) == {"hostA": 4, "hostB": 4}
    cd = sshfs_pair.mounts["hostA"] / name
    info = Compiledir(cd).info()
    assert info["entries"] == 6  # three function entries, three kernel libraries
    print(f"{lock_mode}: {info['compiles']} compiles for {info['entries']} entries")
    if lock_mode == "flock":  # flock does not reach the other host: each host may compile a key once
        assert info["entries"] <= info["compiles"] <= 2 * info["entries"]
    else:
        assert info["compiles"] == info["entries"]
    report = verify_cli(cd)
    assert report["bad"] == [] and report["checked"] == 6 and report["ok"]
    assert not list((sshfs_pair.share / name / "tmp").iterdir())
    leftovers = [
        p.name for p in (sshfs_pair.share / name / "locks").rglob("*") if p.is_file() and p.suffix != ".flock"
    ]
    assert leftovers == []


def _kill_holder_and_time_the_waiters(
    pair: SshfsPair, tmp_path: Path, waiter_hosts: list[str]
) -> tuple[float, list[dict]]:
    """A holder on hostA SIGKILLed in the middle of its build; seconds until a waiter started
    building in its place, and the waiters' reports."""
    flags = {"lock_mode": "auto", "lease_seconds": LEASE, "lock_timeout": 120, **SAME_CODE}
    announce = tmp_path / "holder-building"

    def spec(host: str, i: int, **extra) -> dict:
        return {
            "compiledir": pair.mounts[host] / "kill",
            "flags": flags,
            "ready": tmp_path / f"ready{i}",
            "announce": tmp_path / f"announce{i}",
            "build_sleep": 0,
            **extra,
        }

    holder = start_on("hostA", KILL_WORKER, spec("hostA", 99, announce=announce, build_sleep=300))
    waiters: list[subprocess.Popen] = []
    try:
        wait_for(announce, [holder])
        waiters = [start_on(h, KILL_WORKER, spec(h, i)) for i, h in enumerate(waiter_hosts)]
        for i in range(len(waiters)):
            wait_for(tmp_path / f"ready{i}", waiters)
        time.sleep(1.0)  # let every waiter find the lease held and start polling it
        assert all(p.poll() is None for p in waiters), "a waiter did not wait for the holder"
        holder.send_signal(signal.SIGKILL)
        killed_at = time.time()
        holder.wait()
        reports, failures = collect(waiters, timeout=60)
    finally:
        for p in [holder, *waiters]:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert failures == []
    builders = [r for r in reports if r["started"]]
    assert len(builders) == 1, reports  # one build in the holder's place, the others load it
    assert all(r["files"] == builders[0]["files"] for r in reports)
    verdict = verify_cli(pair.mounts["hostB"] / "kill")
    assert verdict["bad"] == [] and verdict["ok"]
    shutil.rmtree(pair.share / "kill")
    return builders[0]["started"][0] - killed_at, reports


def test_a_sigkilled_holder_is_replaced_at_once_by_a_waiter_on_its_own_host(sshfs_pair: SshfsPair, tmp_path):
    waited, reports = _kill_holder_and_time_the_waiters(
        sshfs_pair, tmp_path, ["hostA", "hostA", "hostB", "hostB"]
    )
    print(f"a waiter on the dead holder's host went on {waited:.2f}s after the SIGKILL")
    # Only a waiter on hostA can tell the holder is dead; once it has broken the lease, a waiter
    # on either host may be the one whose exclusive create comes first.
    assert waited <= 2.0 < LEASE * 2 / 3


def test_a_sigkilled_holder_on_another_host_is_replaced_after_its_lease_expires(
    sshfs_pair: SshfsPair, tmp_path
):
    waited, _ = _kill_holder_and_time_the_waiters(sshfs_pair, tmp_path, ["hostB", "hostB", "hostB"])
    print(f"waiters on the other host went on {waited:.2f}s after the SIGKILL (lease {LEASE:g}s)")
    # The holder refreshed its lease every LEASE/3 s until it died: no waiter may break it sooner
    # than LEASE minus that, and every waiter must go on soon after it expires.
    assert LEASE * 2 / 3 - 1.0 <= waited <= LEASE + 5.0
