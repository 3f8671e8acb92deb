#!/usr/bin/env bash
# Create (or repair, or reuse) the project's virtual environment with the whole OpenMMLab stack.
#
#   tools/install_env.sh [VENV_DIR]        (default: <repository>/.venv)
#
# VENV_DIR may be relative to the current directory. Stack: torch 2.14.1 + torchvision 0.29.1,
# mmcv 2.1.0 built from source with its C++ ops (CPU), mmengine 0.10.7, mmpretrain 1.2.0,
# mmdet 3.3.0, mmsegmentation 1.2.2, openmim 0.3.9 (the `mim` command), and the test tools.
#
# The mmcv build takes 13-30 min on 2 cores, so its wheel is cached in a directory of our own keyed
# by mmcv, torch and Python versions (pip's wheel cache ignores the torch version and would silently
# reuse a build made against another torch). MIM_PLUGINS_CACHE overrides the cache directory
# (default ~/.cache/mim_plugins); PYTHON the interpreter the environment is made from (python3).
#
# The environment is stamped as ready only after every step passed and the stack imports; an
# environment without the stamp (an interrupted or failed run) is repaired, or rebuilt where its
# interpreter is broken, by the next run. Two runs at once build mmcv once: the second waits.
set -euo pipefail

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
say() { echo "[install_env] $*"; }
die() { echo "[install_env] ERROR: $*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(abspath "${1:-$ROOT/.venv}")"
PY="${PYTHON:-python3}"
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
CACHE="$(abspath "${MIM_PLUGINS_CACHE:-$HOME/.cache/mim_plugins}")"
STAMP="$VENV/.mim_plugins_env_ok"
REQ_HASH="$(cat "$ROOT/tools/install_env.sh" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
VPY="$VENV/bin/python"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQ_HASH" ] && "$VPY" -c 'import sys' 2>/dev/null; then
  say "reusing $VENV"
  exit 0
fi

trap 'echo "[install_env] ERROR: set-up of $VENV stopped (line $LINENO); it is not marked ready, run the same command again to repair it" >&2' ERR

rm -f "$STAMP"
if [ -e "$VENV" ] && ! "$VPY" -c 'import sys' 2>/dev/null; then
  say "$VENV is incomplete (no working interpreter): rebuilding it"
  rm -rf "$VENV"
fi
say "setting up $VENV"
"$PY" -m venv "$VENV"
PIP=("$VPY" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
"${PIP[@]}" install -q "setuptools==80.9.0" wheel ninja "numpy<2"

PYTAG="$("$VPY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$PYTAG-cpu"
mkdir -p "$WHEEL_DIR" "$CACHE/logs"

build_mmcv() {
  local build src log
  log="$CACHE/logs/mmcv-$MMCV_VERSION-build-$(date +%Y%m%d-%H%M%S).log"
  say "building mmcv $MMCV_VERSION with C++ ops for torch $TORCH_VERSION (13-30 min on 2 cores); log: $log"
  build="$(mktemp -d)"
  if ! "${PIP[@]}" download --no-deps --no-binary :all: --no-build-isolation \
      "mmcv==$MMCV_VERSION" -d "$build" >"$log" 2>&1; then
    die "could not download the mmcv $MMCV_VERSION source (pip output in $log). Check that PyPI is reachable, then run the same command again."
  fi
  tar -xzf "$build"/mmcv-*.tar.gz -C "$build"
  src="$build/mmcv-$MMCV_VERSION"
  # torch >= 2.14 headers need C++20; mmcv 2.1.0 hard-codes C++17.
  sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
  if ! (cd "$src" && env -u FORCE_CUDA MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" \
        "${PIP[@]}" wheel -v --no-deps --no-build-isolation --no-cache-dir -w "$build/dist" .) \
        >>"$log" 2>&1; then
    grep -m 5 -iE 'error' "$log" >&2 || true
    die "the mmcv $MMCV_VERSION build failed; the compiler output is in $log.
  Try: 'MAX_JOBS=1 make test' if the compiler was killed (out of memory);
       install gcc, g++ and the Python headers (Debian: build-essential python3-dev) if they are missing;
       check free disk space (df -h) for the build directory $build.
  The wheel cache ($WHEEL_DIR) and $VENV were left unchanged except for the packages already installed."
  fi
  # publish atomically: a killed build never leaves a half-written wheel in the cache
  local whl
  whl="$(ls "$build"/dist/mmcv-*.whl)"
  cp "$whl" "$WHEEL_DIR/.$(basename "$whl").part"
  mv "$WHEEL_DIR/.$(basename "$whl").part" "$WHEEL_DIR/$(basename "$whl")"
  rm -rf "$build"
  say "mmcv wheel cached in $WHEEL_DIR"
}

(
  flock 9  # two installs at once (make demo & make test) build mmcv only once: the second waits
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    build_mmcv
  else
    say "using the cached mmcv wheel in $WHEEL_DIR"
  fi
) 9>"$WHEEL_DIR/.lock"

"${PIP[@]}" install -q "$WHEEL_DIR"/mmcv-*.whl \
  "mmengine==0.10.7" "mmpretrain==1.2.0" "mmdet==3.3.0" "mmsegmentation==1.2.2" \
  pycocotools ftfy regex "numpy<2" "setuptools==80.9.0" "scipy<1.14" matplotlib \
  pytest "timm==1.0.31" "openmim==0.3.9"
# the package itself: editable, its requirements are all installed above
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
# an editable install leaves out the start-up hook that a wheel installs
# beside the packages (mim_plugins:: config paths in every process)
cp "$ROOT/mim_plugins_hook.pth" "$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/"
if ! "$VPY" -c 'import mmcv.ops, mmdet, mmseg, mmpretrain, mim_plugins' 2>"$CACHE/logs/import-check.log"; then
  cat "$CACHE/logs/import-check.log" >&2
  die "the installed stack does not import (above; also in $CACHE/logs/import-check.log). $VENV is not marked ready. Delete $WHEEL_DIR if the mmcv wheel is the cause, then run the same command again."
fi
echo "$REQ_HASH" > "$STAMP"
say "ready: $VENV"
