"""The compiledir's promises for functions whose entry carries the entries of inner functions.

A loop through ``scan`` whose gradient is also computed, and a lazy ``ifelse`` on its last step,
make five functions: the outer one, the step, the gradient's step and the two branches. The
outer function's entry carries the four others' (docs/cache.md), so publishing it writes more
than a plain function's: its own graph, the carried graphs, the inner functions' own entries and
up to five kernel libraries. Every worker is a fresh Python process compiling with real gcc:

* processes released at one instant each compute numpy's values, every key is published once,
  the carried entries are those the inner functions published, ``fncache verify`` finds the
  compiledir clean and a later process's hit looks up one function entry and compiles nothing;
* a process SIGKILLed while building such a function (a kernel library's compiler running, the
  outer entry half written, the outer entry sealed but not yet renamed, and random moments)
  leaves no damaged entry: the next process computes numpy's values and uses no damaged entry,
  and ``fncache verify --repair`` removes what the killed builds left;
* a disk that fills up as the outer entry is written, or is full from the start, costs the
  cache, not the values: one warning, nothing half published, and once space is back the next
  process publishes the outer entry, which the process after it hits.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from fcutil import in_tests_dir
from fncache.runtime.compile import CARRIED_FIELD, GRAPH_FILE
from test_cache_concurrency import ENV, assert_clean, wait_for
from test_cache_full_disk import fill, small  # noqa: F401  (small: a fixture)
from test_cli import run_json

TESTS = Path(__file__).resolve().parent

#: A fresh process compiling and calling, for each scale ``k`` of ``spec["scales"]``, the loop
#: ``h = tanh(x_t W + k h)``, the gradient of ``sum(hs ** 2)`` by ``W`` and a lazy ``ifelse`` on
#: the last step (each ``k`` its own outer function, step and gradient's step; the branches are
#: the same for every ``k``). It saves the results to ``spec["out"]``. Hooks, each for one test:
#: ``ready``/``go`` (a file it writes once imported, one it waits for), ``announce`` (a file it
#: writes as a kernel library's build starts), ``kill`` (it SIGKILLs itself as it writes the
#: entry carrying others: ``"writing"`` half of its files written, ``"staged"`` sealed, before
#: the rename publishing it) and ``fill`` (the filesystem it fills as that entry is written,
#: leaving ``spec["leave"]`` bytes).
WORKER = r"""
import json, os, signal
from pathlib import Path
import fncache.cache.compiledir as _compiledir, fncache.cache.install as _install
from fncache.runtime.compile import CARRIED_FIELD
spec = json.loads(sys.argv[2])

def _die():  # the worker and its compiler calls, as a scheduler ends a job
    os.killpg(0, signal.SIGKILL)

_write, _publish, _build = _install.write_files, _install.publish, _compiledir.Compiledir._build_shared
def write_files(staging, files, mode=None):
    if any(name.startswith("inner-") for name in files):
        if spec.get("kill") == "writing":
            _write(staging, dict(list(files.items())[: len(files) // 2]), mode)
            _die()
        if spec.get("fill"):
            from test_cache_full_disk import fill
            fill(Path(spec["fill"]), spec["leave"])
    return _write(staging, files, mode)
def publish(staging, final, layout):
    if spec.get("kill") == "staged" and CARRIED_FIELD in json.loads((staging / "meta.json").read_text()):
        _die()
    return _publish(staging, final, layout)
def build_shared(self, root, key, build):
    if key.kind == "kernel_library" and spec.get("announce"):
        open(spec["announce"], "w").close()
    return _build(self, root, key, build)
_install.write_files, _install.publish = write_files, publish
_compiledir.Compiledir._build_shared = build_shared

rng = np.random.default_rng(5)
X, W0 = rng.standard_normal((4, 3, 2)), rng.standard_normal((2, 2))
def rnn(k):
    x, c = ft.tensor3("x"), ft.dscalar("c")
    W = fc.shared(W0, name="W")
    hs, _ = fc.scan(lambda xt, h: ft.tanh(ft.dot(xt, W) + k * h), sequences=x,
                    outputs_info=ft.zeros((x.shape[1], 2)))
    last = hs[-1]
    return fc.function([x, c], [hs, fc.grad((hs ** 2).sum(), W),
                                fc.ifelse(c > 0, ft.exp(last).sum(axis=0), (last * last).sum(axis=0) - 1)])
if spec.get("ready"):
    open(spec["ready"], "w").close()
if spec.get("go"):
    while not os.path.exists(spec["go"]):
        time.sleep(0.002)
results = {}
for k in spec["scales"]:
    f = rnn(k)
    for i, a in enumerate(a for cond in (1.0, -1.0) for a in f(X, cond)):
        results[f"{k}_{i}"] = a
np.savez(spec["out"], **results)
"""


def reference(k: float) -> list[np.ndarray]:
    """The worker's six results for scale ``k`` as numpy computes them (the gradient by
    back-propagation through the loop's steps)."""
    rng = np.random.default_rng(5)
    X, W = rng.standard_normal((4, 3, 2)), rng.standard_normal((2, 2))
    h, hs = np.zeros((3, 2)), []
    for xt in X:
        h = np.tanh(xt @ W + k * h)
        hs.append(h)
    dW, carry = np.zeros_like(W), np.zeros_like(h)
    for xt, ht in zip(X[::-1], hs[::-1]):
        da = (2 * ht + carry) * (1 - ht**2)
        dW += xt.T @ da
        carry = k * da
    return [np.array(hs), dW, np.exp(h).sum(axis=0), np.array(hs), dW, (h * h).sum(axis=0) - 1]


def start(
    cd: Path, out: Path, lock_mode: str = "auto", tmpdir: Path | None = None, **spec
) -> subprocess.Popen:
    """A worker on compiledir ``cd`` saving its results to ``out`` (the hooks in ``spec``)."""
    spec = {
        "scales": [0.5],
        "out": str(out),
        **{k: str(v) if isinstance(v, Path) else v for k, v in spec.items()},
    }
    env = {**ENV, "FNCACHE_FLAGS": f"compiledir={cd},lock_mode={lock_mode},lock_timeout=60"}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    code = in_tests_dir(cd, "import time") + WORKER
    return subprocess.Popen(
        [sys.executable, "-c", code, str(TESTS), json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: killed with its compiler calls
    )


def finish(proc: subprocess.Popen, out: Path, scales: tuple[float, ...] = (0.5,)) -> tuple[dict, str]:
    """The results of a worker that ran to the end, checked against numpy's; its log."""
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    with np.load(out) as saved:
        results = {name: saved[name] for name in saved.files}
    for k in scales:
        for i, want in enumerate(reference(k)):
            np.testing.assert_allclose(
                results[f"{k}_{i}"], want, rtol=1e-10, atol=1e-12, err_msg=f"k={k} #{i}"
            )
    return results, err


def run(cd: Path, out: Path, scales: tuple[float, ...] = (0.5,), **spec) -> tuple[dict, str]:
    return finish(start(cd, out, scales=list(scales), **spec), out, scales)


def events(cd: Path) -> collections.Counter[tuple[str, str, str]]:
    """(event, kind, key) of every hit, miss and compile the stats logs of ``cd`` hold, counted."""
    found: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for path in (cd / "stats").glob("*.log"):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4:
                found[(parts[0], parts[1], parts[2])] += 1
    return found


def metas(cd: Path) -> dict[str, dict]:
    """The ``meta.json`` of every published entry, by key."""
    return {m.parent.name: json.loads(m.read_text()) for m in cd.glob("entries/*/*/meta.json")}


def outer_entries(cd: Path) -> dict[str, dict]:
    return {key: meta for key, meta in metas(cd).items() if meta.get(CARRIED_FIELD)}


def assert_one_lookup_hits(cd: Path, out: Path, scales: tuple[float, ...]) -> None:
    """A fresh process's hit of each scale's function looks up its one function entry, finds
    every kernel library and compiles nothing."""
    before = events(cd)
    run(cd, out, scales)
    new = events(cd) - before
    assert {event for event, _, _ in new} == {"hit"}, new
    assert sum(n for (_, kind, _), n in new.items() if kind == "function") == len(scales), new


# -- processes racing --------------------------------------------------------------------------
def test_processes_released_at_once_publish_each_key_once(tmp_path):
    cd = tmp_path / "cd"
    go = tmp_path / "go"
    procs = [start(cd, tmp_path / f"r{i}.npz", ready=tmp_path / f"ready{i}", go=go) for i in range(4)]
    for i, p in enumerate(procs):
        wait_for(tmp_path / f"ready{i}", p)
    go.touch()
    results = [finish(p, tmp_path / f"r{i}.npz")[0] for i, p in enumerate(procs)]
    for other in results[1:]:
        assert other.keys() == results[0].keys()
        for name, value in results[0].items():
            np.testing.assert_array_equal(other[name], value)

    compiled = collections.Counter(
        key for (event, _, key), n in events(cd).items() if event == "compile" for _ in range(n)
    )
    published = metas(cd)
    assert set(compiled) == set(published) and set(compiled.values()) == {1}, compiled
    kinds = collections.Counter(meta["kind"] for meta in published.values())
    assert kinds["function"] == 5 and 1 <= kinds["kernel_library"] <= 5, kinds
    # the entry carrying the others carries what each inner function published itself
    ((key, outer),) = outer_entries(cd).items()
    carried = outer[CARRIED_FIELD]
    assert set(carried) == {k for k, m in published.items() if m["kind"] == "function"} - {key}
    for digest, record in carried.items():
        own = cd / "entries" / digest[:2] / digest
        assert (cd / "entries" / key[:2] / key / record["graph"]).read_bytes() == (
            own / GRAPH_FILE
        ).read_bytes()
        assert {k: v for k, v in record.items() if k != "graph"} == {
            k: v for k, v in published[digest].items() if k in record and k != "graph"
        }
    report = run_json("verify", "--compiledir", cd)
    assert report["ok"] is True and report["bad"] == [] and report["checked"] == len(published), report
    assert not list((cd / "tmp").iterdir())
    assert_one_lookup_hits(cd, tmp_path / "hit.npz", (0.5,))


# -- SIGKILL -----------------------------------------------------------------------------------
#: How each trial kills its builder (with its compiler calls): as a kernel library's build
#: starts (compilers running, the library's lock about to be taken or held), by the builder
#: itself with the entry carrying others half written or sealed, or at a random moment once it
#: is imported.
KILLS = ("compiling", "writing", "staged", "random", "random")


def work_dirs(tmp: Path) -> dict[int, list[Path]]:
    """The private work directories under ``tmp`` (a $TMPDIR), by the pid that made them."""
    found: dict[int, list[Path]] = collections.defaultdict(list)
    for path in tmp.glob("fncache-work-*/*"):
        found[int(path.name.partition("-")[0])].append(path)
    return found


def files_in(tmp: Path) -> list[Path]:
    return [p for p in tmp.rglob("*") if not p.is_dir()]


def test_sigkill_while_building_a_function_with_inner_functions(tmp_path):
    cd, tmp = tmp_path / "cd", tmp_path / "tmpdir"
    tmp.mkdir()
    rng = random.Random(20261205)
    published = []  # whether each killed builder had published the entry carrying others
    scales, killed = [], set()
    for trial, how in enumerate(KILLS):
        k = 0.25 + 0.125 * trial  # a loop of its own: its step, gradient and outer function are built
        scales.append(k)
        mode = ("flock", "lease")[trial % 2]
        signal_file = tmp_path / f"signal{trial}"
        out = tmp_path / f"killed{trial}.npz"
        carried_before = len(outer_entries(cd)) if cd.exists() else 0
        if how in ("compiling", "random"):
            hook = {"announce" if how == "compiling" else "ready": signal_file}
            proc = start(cd, out, mode, tmp, scales=[k], **hook)
            wait_for(signal_file, proc)
            if how == "random":  # else at once: surely mid-build, its compiler calls running
                time.sleep(rng.uniform(0.0, 0.8))
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc = start(cd, out, mode, tmp, scales=[k], kill=how)
        proc.communicate(timeout=240)
        # a random moment may come after the builder finished
        assert proc.returncode == -signal.SIGKILL or how == "random" and proc.returncode == 0, (
            f"trial {trial} ({how}): exit {proc.returncode}"
        )
        killed.add(proc.pid)
        published.append((how, len(outer_entries(cd)) - carried_before))
        if how in ("writing", "staged"):
            assert published[-1][1] == 0, "the killed builder published the entry it was writing"
        if how == "compiling":
            assert files_in(tmp), "the killed build left nothing in $TMPDIR: the trial tests nothing"
        assert_clean(cd)
        # the next process rebuilds what is missing, and uses no damaged entry
        _, log = run(cd, tmp_path / f"after{trial}.npz", (k,), lock_mode=mode, tmpdir=tmp)
        assert "damaged" not in log and not list((cd / "quarantine").iterdir()), log
        assert len(outer_entries(cd)) == carried_before + 1
        # it removed its own work directories, and (building the library the killed process
        # was building) what the killed process and its compiler calls left in $TMPDIR
        left = work_dirs(tmp)
        assert set(left) <= killed, left
        if how == "compiling":
            assert files_in(tmp) == [], "a killed build's files stay in $TMPDIR for good"
    print(
        "outer entries the killed builds published:",
        published,
        sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*")),
    )
    assert_one_lookup_hits(cd, tmp_path / "hit.npz", tuple(scales))
    report = run_json("verify", "--compiledir", cd)
    assert report["ok"] is True and report["bad"] == [], report
    repaired = run_json("verify", "--repair", "--compiledir", cd)
    assert repaired["ok"] is True and repaired["repaired"] == 0, repaired
    assert not list((cd / "tmp").iterdir()), "staging directories of killed builds were not removed"


# -- a full disk -------------------------------------------------------------------------------
def _unpublished(log: str) -> int:
    return log.count("uncached")


def test_a_disk_filling_up_as_the_outer_entry_is_written(small, tmp_path):  # noqa: F811
    cd = small / "cd"
    # the disk fills up as the entry carrying the others is written, leaving less than it needs
    for leave in (0, 6 << 10):
        _, log = run(cd, tmp_path / f"full{leave}.npz", fill=small, leave=leave)
        (small / "filler").unlink()
        assert _unpublished(log) == 1 and "damaged" not in log, log
        assert outer_entries(cd) == {}
        assert_clean(cd)
        assert not list((cd / "tmp").iterdir())
    # every function but the outer one was published: with space back, the next process
    # publishes the outer entry, carrying them, and the process after it hits that entry
    _, log = run(cd, tmp_path / "back.npz")
    assert _unpublished(log) == 0, log
    assert len(next(iter(outer_entries(cd).values()))[CARRIED_FIELD]) == 4
    assert_one_lookup_hits(cd, tmp_path / "hit.npz", (0.5,))


def test_a_disk_full_from_the_start(small, tmp_path):  # noqa: F811
    cd = small / "cd"
    run(cd, tmp_path / "first.npz", scales=(0.5,))  # the compiledir, and the branches, exist
    filler = fill(small, 0)
    _, log = run(cd, tmp_path / "full.npz", scales=(0.75,))
    assert _unpublished(log) == 1 and "damaged" not in log, log
    assert len(outer_entries(cd)) == 1
    assert_clean(cd)
    filler.unlink()
    _, log = run(cd, tmp_path / "back.npz", scales=(0.75,))
    assert _unpublished(log) == 0, log
    assert len(outer_entries(cd)) == 2
    assert_one_lookup_hits(cd, tmp_path / "hit.npz", (0.5, 0.75))
