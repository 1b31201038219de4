#!/usr/bin/env bash
# Cargo runner for ARM targets (.cargo/config.toml): runs an ARM Linux binary under qemu user
# emulation, so `cargo run/test --target aarch64-unknown-linux-gnu` work on an x86-64 machine.
#
#   arm-run.sh aarch64|armv7 BINARY [ARGS...]
#
# QEMU_CPU picks the emulated core (default cortex-a72 for aarch64: NEON, no dot-product;
# cortex-a76 has dot-product; cortex-a15 for armv7). The ARM loader and libc come from Debian's
# cross libc (/usr/aarch64-linux-gnu) through QEMU_LD_PREFIX, unless the native ARM libc is
# installed (libc6:arm64 with the arm64 dpkg architecture): then no prefix is set, because a
# prefix on top of it makes rayon's threads hang (issue 6).
set -euo pipefail

arch=${1:?usage: arm-run.sh aarch64|armv7 BINARY [ARGS...]}
shift
case "$arch" in
    aarch64) qemu=qemu-aarch64-static; cpu=cortex-a72; loader=/lib/ld-linux-aarch64.so.1; prefix=/usr/aarch64-linux-gnu ;;
    armv7) qemu=qemu-arm-static; cpu=cortex-a15; loader=/lib/ld-linux-armhf.so.3; prefix=/usr/arm-linux-gnueabihf ;;
    *) echo "arm-run.sh: unknown arch $arch (aarch64 or armv7)" >&2; exit 2 ;;
esac

export QEMU_CPU=${QEMU_CPU:-$cpu}
if [ -z "${QEMU_LD_PREFIX:-}" ] && [ ! -e "$loader" ]; then
    export QEMU_LD_PREFIX=$prefix
fi
exec "$qemu" "$@"
