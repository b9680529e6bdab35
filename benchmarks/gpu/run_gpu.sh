#!/usr/bin/env bash
# One command on a bare GPU machine (no network): install pycuda from carried packages, run the
# GPU tests, then the GPU benchmark side by side with CuPy. See benchmarks/gpu/README.md.
#
#   bash benchmarks/gpu/run_gpu.sh [all|build|test|bench] [bench options...]
#
# Environment: PYTHON (default python3), CUDA_HOME (default /usr/local/cuda),
# FNCACHE_GPU_WHEELS (default benchmarks/gpu/wheels), OUT (where logs, the benchmark's JSON and
# a freshly built pycuda wheel are written; default benchmarks/gpu/out).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-python3}"
WHEELS="${FNCACHE_GPU_WHEELS:-$HERE/wheels}"
OUT_DIR="${OUT:-$HERE/out}"
STEP="${1:-all}"
[ $# -gt 0 ] && shift
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
export CUDA_ROOT="$CUDA_HOME"
export PATH="$CUDA_HOME/bin:$PATH"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT_DIR"
cd "$ROOT"

log() { echo "[run_gpu] $*" >&2; }

install_pycuda() {
  if "$PY" -c "import pycuda.driver" 2>/dev/null; then
    log "pycuda already importable: $("$PY" -c 'import pycuda; print(pycuda.VERSION_TEXT)')"
    return
  fi
  [ -d "$WHEELS" ] || { log "no $WHEELS: fetch the packages first (README.md)"; exit 2; }
  log "installing pycuda's dependencies from $WHEELS"
  "$PY" -m pip install -q --no-index --find-links "$WHEELS" pytools mako platformdirs
  local wheel
  wheel="$(ls "$WHEELS"/pycuda-*.whl 2>/dev/null | head -n1 || true)"
  if [ -z "$wheel" ]; then
    local sdist build
    sdist="$(ls "$WHEELS"/pycuda-*.tar.gz | head -n1)"
    build="$(mktemp -d)"
    log "building pycuda from $sdist against $CUDA_HOME (a few minutes)"
    tar -xzf "$sdist" -C "$build"
    (
      cd "$build"/pycuda-*
      "$PY" configure.py --cuda-root="$CUDA_HOME" >/dev/null
      # setuptools compiles serially unless asked; use every core.
      "$PY" setup.py -q build_ext --parallel "$(nproc)" bdist_wheel -d "$WHEELS" >"$OUT_DIR/pycuda_build.log" 2>&1 \
        || "$PY" -m pip wheel -q --no-index --find-links "$WHEELS" --no-build-isolation --no-deps . -w "$WHEELS" \
             >>"$OUT_DIR/pycuda_build.log" 2>&1
    )
    wheel="$(ls "$WHEELS"/pycuda-*.whl | head -n1)"
    cp "$wheel" "$OUT_DIR/" && log "built $(basename "$wheel"); a copy is in $OUT_DIR (carry it next time)"
  fi
  "$PY" -m pip install -q --no-index --no-deps "$wheel"
  "$PY" -c "import pycuda.driver as d; d.init(); print('[run_gpu] pycuda', __import__('pycuda').VERSION_TEXT, 'sees', d.Device.count(), 'device(s)')" >&2
}

build_runtime() {
  # fncache runs from this checkout (PYTHONPATH), not from an install, so its one C extension
  # (the CPU run-time, fncache/codegen/c_runtime.c and c_steps.c) is compiled here for this Python.
  if "$PY" -c "import fncache.codegen._c_runtime" 2>/dev/null; then
    return
  fi
  log "compiling fncache's C run-time for $("$PY" -V 2>&1)"
  local inc np suffix
  inc="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  np="$("$PY" -c 'import numpy; print(numpy.get_include())')"
  suffix="$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
  src="$("$PY" -c 'from pathlib import Path; from fncache.codegen.c_linker import runtime_source_hash as h; print(h(Path("fncache/codegen")))')"
  gcc -O2 -fopenmp -std=c11 -shared -fPIC -DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION \
    -DFC_RUNTIME_SOURCE="\"$src\"" \
    -I"$inc" -I"$np" fncache/codegen/c_runtime.c fncache/codegen/c_steps.c -o "fncache/codegen/_c_runtime$suffix" -ldl
}

run_tests() {
  log "GPU tests"
  "$PY" -m pytest -q -p no:cacheprovider -m gpu -rs tests/test_cuda_gpu.py 2>&1 | tee "$OUT_DIR/gpu_tests.log"
  return "${PIPESTATUS[0]}"
}

run_bench() {
  log "GPU benchmark"
  "$PY" "$HERE/bench_gpu.py" --json "$OUT_DIR/gpu_bench.json" "$@" 2>&1 | tee "$OUT_DIR/gpu_bench.log"
  return "${PIPESTATUS[0]}"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
nvcc --version | tail -n2 >&2 || { log "nvcc not found under $CUDA_HOME"; exit 2; }
build_runtime
case "$STEP" in
  build) install_pycuda ;;
  test) install_pycuda; run_tests ;;
  bench) install_pycuda; run_bench "$@" ;;
  all) install_pycuda; status=0; run_tests || status=$?; run_bench "$@" || status=$?; exit "$status" ;;
  *) log "unknown step $STEP (all, build, test, bench)"; exit 2 ;;
esac
