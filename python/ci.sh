#!/usr/bin/env bash
# CI for the Python package (issue 20), called by .ci/run. From a fresh venv (packages from PyPI):
#   1. builds the abi3 wheel with `maturin build --release` and installs it;
#   2. checks the type stubs (mypy stubtest), runs the issue's one-liner (prints (1, 384) for all-MiniLM-L6-v2) and pytest (python/tests:
#      bitwise agreement with the release CLI, tasks, threads, error cases);
#   3. cross-builds the manylinux aarch64 wheel (Debian's aarch64 gcc as linker, set up by
#      scripts/arm-setup.sh) and imports it under qemu with an aarch64 CPython (python/arm-python.sh).
# Every missing piece fails the run; nothing is skipped (EDGEBERT_REQUIRE_ASSETS=1).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export EDGEBERT_REQUIRE_ASSETS=1
export CARGO_TERM_COLOR=never
assets=${EDGEBERT_ASSETS:-$root/../shared/assets}
# Where cargo puts the release CLI (CARGO_TARGET_DIR is honoured, as in .ci/capi and .ci/arm).
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
step() { echo "== [python $((SECONDS - start))s] $*"; }

step "fresh venv: maturin, pytest, numpy from PyPI"
python3 -m venv "$work/venv"
py=$work/venv/bin/python
"$py" -m pip install -q --disable-pip-version-check "maturin>=1.9,<2" "pytest>=7" "numpy>=1.21"

step "release CLI (the bitwise comparisons run it)"
cargo build --release --bin edgebert

step "maturin build --release (abi3 wheel), pip install"
"$work/venv/bin/maturin" build --release -m python/Cargo.toml --out "$work/wheels"
wheel=$(ls "$work"/wheels/edgebert-*-cp39-abi3-*x86_64.whl)
echo "wheel: $(basename "$wheel") ($(stat -c %s "$wheel") bytes)"
"$py" -m pip install -q --disable-pip-version-check "$wheel"

step "the issue's one-liner on the all-MiniLM-L6-v2 blob"
(cd "$work" && "$py" -c "import edgebert; edgebert.convert('$assets/models/all-minilm-l6-v2', 'x.ebq', progress=False)")
shape=$(cd "$work" && "$py" -c "import edgebert; m = edgebert.Model('x.ebq'); print(m.encode(['a cat']).shape)")
echo "$shape"
[ "$shape" = "(1, 384)" ] || { echo "FAIL: expected (1, 384)"; exit 1; }

step "type stubs against the installed package (mypy stubtest)"
"$py" -m pip install -q --disable-pip-version-check "mypy>=1.10"
(cd "$work" && "$py" -m mypy.stubtest edgebert)

step "pytest (from outside the source tree, so the installed wheel is imported)"
(cd "$work" && EDGEBERT_BIN=$target_dir/release/edgebert "$py" -m pytest "$root/python/tests" -q -p no:cacheprovider)

step "aarch64 manylinux wheel (cross-built), imported under qemu"
python/arm-wheel.sh "$work/venv" "$work"
step "done"
