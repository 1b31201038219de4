#!/usr/bin/env bash
# The aarch64 half of python/ci.sh (or run it alone): cross-builds the manylinux aarch64 abi3
# wheel with maturin, the linker being Debian's aarch64-linux-gnu-gcc (.cargo/config.toml,
# installed by scripts/arm-setup.sh), then imports it and runs a model under qemu-aarch64 with
# Debian's aarch64 CPython 3.11. That interpreter comes from Debian's arm64 .deb files, fetched
# with a private apt state (the machine's dpkg configuration is not touched) and unpacked into a
# sysroot; numpy is its manylinux aarch64 wheel from PyPI.
#
#   python/arm-wheel.sh VENV [WORKDIR]
# VENV has maturin and the x86-64 edgebert wheel installed (python/ci.sh makes one); it converts
# the test blob. WORKDIR defaults to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:?usage: python/arm-wheel.sh VENV [WORKDIR]}
maturin=$venv/bin/maturin
work=${2:-$(mktemp -d)}
assets=${EDGEBERT_ASSETS:-$PWD/../shared/assets}
A64=aarch64-unknown-linux-gnu
start=$SECONDS
step() { echo "== [arm-wheel $((SECONDS - start))s] $*"; }

if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
    step "setup: scripts/arm-setup.sh (aarch64 gcc, qemu-user-static, rust std)"
    scripts/arm-setup.sh
fi

step "maturin build --release --target $A64"
"$maturin" build --release --target $A64 -m python/Cargo.toml --out "$work/wheels-a64"
wheel=$(ls "$work"/wheels-a64/edgebert-*-cp39-abi3-manylinux*aarch64*.whl)
echo "wheel: $(basename "$wheel") ($(stat -c %s "$wheel") bytes)"

step "aarch64 CPython from Debian's arm64 packages (private apt state)"
apt_dir=$work/apt-arm64
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
: >"$apt_dir/status"
apt_opts=(-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Dir::State::status=$apt_dir/status"
    -o APT::Architecture=arm64 -o "APT::Architectures::=arm64" -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" -qq download \
    libc6 libgcc-s1 zlib1g libexpat1 libffi8 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib)
sysroot=$work/sysroot-arm64
mkdir -p "$sysroot"
for deb in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done

step "numpy's manylinux aarch64 wheel (PyPI) and the edgebert wheel, unpacked for that interpreter"
site=$work/site-arm64
python3 -m pip download -q --disable-pip-version-check --only-binary=:all: --platform manylinux2014_aarch64 \
    --python-version 3.11 --implementation cp --abi cp311 "numpy>=1.21" -d "$work/numpy-a64"
python3 -m zipfile -e "$(ls "$work"/numpy-a64/numpy-*.whl)" "$site"
python3 -m zipfile -e "$wheel" "$site"

step "import and run under qemu-aarch64 (cortex-a76)"
"$venv/bin/python" -c "import edgebert; edgebert.convert('$assets/models/tiny-bert-pair-cls', '$work/pair.ebq', progress=False)"
out=$(QEMU_CPU=cortex-a76 qemu-aarch64-static -L "$sysroot" "$sysroot/usr/bin/python3.11" -c "
import sys, platform
sys.path.insert(0, '$site')
import edgebert, numpy
m = edgebert.Model('$work/pair.ebq')
r = m.classify([('A man is eating.', 'Someone eats.')])[0]
e = m.embed(['a cat'])
print(platform.machine(), m.info['backend'], r['label'], e.shape, e.dtype)
")
echo "$out"
case "$out" in
    "aarch64 neon-dotprod "*" (1, 32) float32") ;;
    *) echo "FAIL: unexpected output under qemu"; exit 1 ;;
esac
step "done"
