#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment with the whole OpenMMLab stack.
#
#   tools/install_env.sh [VENV_DIR]        (default: .venv)
#
# Stack: torch 2.14.1 + torchvision 0.29.1, mmcv 2.1.0 built from source with its C++ ops (CPU),
# mmengine 0.10.7, mmpretrain 1.2.0, mmdet 3.3.0, mmsegmentation 1.2.2.
# The mmcv build takes ~30 min on 2 cores, so its wheel is cached in a directory of our own keyed by
# mmcv, torch and Python versions (pip's wheel cache ignores the torch version and would silently reuse
# a build made against another torch). Override the cache with MIM_PLUGINS_CACHE.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
CACHE="${MIM_PLUGINS_CACHE:-$HOME/.cache/mim_plugins}"
STAMP="$VENV/.mim_plugins_env_ok"
REQ_HASH="$(cat "$ROOT/tools/install_env.sh" "$ROOT/setup.py" | sha256sum | cut -c1-16)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQ_HASH" ]; then
  echo "[install_env] reusing $VENV"
  exit 0
fi

echo "[install_env] setting up $VENV"
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
"${PIP[@]}" install -q "setuptools==80.9.0" wheel ninja "numpy<2"

PYTAG="$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$PYTAG-cpu"
mkdir -p "$WHEEL_DIR"
(
  flock 9  # two installs at once (make demo & make test) build mmcv only once
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    echo "[install_env] building mmcv $MMCV_VERSION with C++ ops for torch $TORCH_VERSION (about 30 min on 2 cores)"
    BUILD="$(mktemp -d)"
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation "mmcv==$MMCV_VERSION" -d "$BUILD"
    tar -xzf "$BUILD"/mmcv-*.tar.gz -C "$BUILD"
    SRC="$(ls -d "$BUILD"/mmcv-$MMCV_VERSION)"
    # torch >= 2.14 headers need C++20; mmcv 2.1.0 hard-codes C++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
    (cd "$SRC" && env -u FORCE_CUDA MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" \
      "${PIP[@]}" wheel -q --no-deps --no-build-isolation --no-cache-dir -w "$BUILD/dist" .)
    mv "$BUILD"/dist/mmcv-*.whl "$WHEEL_DIR/"
    rm -rf "$BUILD"
  fi
) 9>"$WHEEL_DIR/.lock"

"${PIP[@]}" install -q "$WHEEL_DIR"/mmcv-*.whl \
  "mmengine==0.10.7" "mmpretrain==1.2.0" "mmdet==3.3.0" "mmsegmentation==1.2.2" \
  pycocotools ftfy regex "numpy<2" "setuptools==80.9.0" "scipy<1.14" matplotlib pytest
# the package itself: editable, its requirements are all installed above
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
echo "$REQ_HASH" > "$STAMP"
echo "[install_env] ready: $VENV"
