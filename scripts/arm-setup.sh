#!/usr/bin/env bash
# Prepare a Debian bookworm x86-64 machine to cross-build edgebert for ARM and run the ARM
# binaries under qemu user emulation (see docs/ARM.md). Idempotent: run it as often as you like.
#
#   scripts/arm-setup.sh            aarch64 (the default)
#   scripts/arm-setup.sh --armv7    aarch64 and armv7 (32-bit, hard float)
#   scripts/arm-setup.sh --android  also the aarch64-linux-android std (type-checking only)
#
# Debian packages: the cross gcc (used as linker only) and the cross libc, and qemu-user-static.
# Rust standard libraries for the targets come from rustup when rustup is installed. Without
# rustup, it falls back to Debian's Rust (rustc-web, cargo-web and libstd-rust-web-dev:arm64,
# which needs `dpkg --add-architecture arm64`); bookworm ships 1.85 there, older than the 1.89
# that edgebert-kernels needs, so that route stops with a clear message until Debian catches up.
set -euo pipefail

want_armv7=0
want_android=0
for arg in "$@"; do
    case "$arg" in
        --armv7) want_armv7=1 ;;
        --android) want_android=1 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "arm-setup.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

MIN_RUST=1.89 # edgebert-kernels' rust-version (AVX-512 intrinsics)

say() { echo "arm-setup: $*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages that are not installed yet (no apt-get update unless needed).
apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; then
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    fi
}

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
[ $want_armv7 = 1 ] && pkgs+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
apt_install "${pkgs[@]}"

# musl: fully static binaries for Android phones and any board (docs/ARM.md, .ci/capi-arm).
targets=(aarch64-unknown-linux-gnu aarch64-unknown-linux-musl)
[ $want_armv7 = 1 ] && targets+=(armv7-unknown-linux-gnueabihf)
[ $want_android = 1 ] && targets+=(aarch64-linux-android)

if command -v rustup >/dev/null 2>&1; then
    installed=$(rustup target list --installed)
    for t in "${targets[@]}"; do
        if grep -qx "$t" <<<"$installed"; then
            say "rust std for $t: installed (rustup)"
        elif rustup target add "$t"; then
            say "rust std for $t: added (rustup)"
        elif [ "$t" = aarch64-unknown-linux-gnu ]; then
            say "rustup target add $t failed (offline?); trying Debian's Rust"
            use_debian=1
        else
            say "rustup target add $t failed; $t is unavailable on this machine"
            exit 1
        fi
    done
else
    use_debian=1
fi

if [ "${use_debian:-0}" = 1 ]; then
    # Debian's route (issue 6): its aarch64 std matches its own compiler only, so builds must use
    # /usr/bin/cargo (or `rustup toolchain link debian-web /usr` and `cargo +debian-web`). Do not
    # add the armhf architecture: its index breaks apt-get update on bookworm.
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        say "adding the arm64 dpkg architecture"
        as_root dpkg --add-architecture arm64
        as_root apt-get update
    fi
    deb_pkgs=(rustc-web cargo-web libstd-rust-web-dev:arm64)
    [ $want_armv7 = 1 ] && deb_pkgs+=(rust-web-src)
    apt_install "${deb_pkgs[@]}"
    v=$(/usr/bin/rustc --version | awk '{print $2}')
    if ! version_ge "$v" "$MIN_RUST"; then
        say "Debian's rustc is $v; edgebert needs >= $MIN_RUST. Install rustup"
        say "(https://rustup.rs) and rerun, or use a newer Debian's rustc-web."
        exit 1
    fi
    say "using Debian's Rust $v: build with /usr/bin/cargo"
    [ $want_armv7 = 1 ] && say "armv7 with Debian's Rust: RUSTC_BOOTSTRAP=1 /usr/bin/cargo -Zbuild-std --target armv7-unknown-linux-gnueabihf"
fi

# Runner sanity check: the emulator starts and reports the CPUs the CI uses.
cpus=$(qemu-aarch64-static -cpu help || true) # exits non-zero after listing
for cpu in cortex-a72 cortex-a76; do
    grep -qw "$cpu" <<<"$cpus" || { say "qemu-aarch64-static lacks -cpu $cpu"; exit 1; }
done
say "ready: cargo build --release --target aarch64-unknown-linux-gnu (runner and linker in .cargo/config.toml)"
