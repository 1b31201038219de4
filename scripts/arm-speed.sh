#!/usr/bin/env bash
# ARM speed model (issue 16 item 5, docs/ARM.md "Speed model"): no ARM board here, and qemu is
# not a clock, so the latency of one all-MiniLM-L6-v2 inference on real ARM cores is estimated:
#   (a) llvm-mca (the newest installed: llvm-mca-19 > ... > llvm-mca-14) on the inner loop of every
#       ARM micro-kernel, found in the real compiled binary (objdump), per modelled core:
#       multiply-adds per cycle against the core's published peak;
#   (b) the instructions of one inference (seq 128, batch 1) under qemu, per ARM backend
#       (neon, neon-dotprod, neon-i8mm; generic on request), per qemu translation block (-d in_asm,exec,nochain:
#       Debian's qemu-user has no TCG plugins);
#   (c) llvm-mca cycles of every hot block x its executions (+ the cold rest at an assumed IPC)
#       at each core's clock: the estimated one-core latency, printed with its assumptions.
# The tables (kernels, cores, backends) are at the top of scripts/arm_speed.py: a new
# micro-kernel or core is one entry there.
#
#   scripts/arm-speed.sh                 build, convert int8 + f32 blobs, run (a)+(b)+(c) (~10 min)
#   scripts/arm-speed.sh BLOB...         the same on given blobs
#   scripts/arm-speed.sh --kernels       (a) only
#   scripts/arm-speed.sh --armv7         (a) for the armv7 kernel (builds the armv7 kernels' rlib)
#   scripts/arm-speed.sh --armv7-count [BLOB]  (b) for armv7: instructions of one int8 inference
#                                        under qemu-arm (builds the armv7 edgebert binary)
#   scripts/arm-speed.sh --check [BIN]   CI (~2 s): fails if llvm-mca is missing or a kernel's inner
#                                        loop cannot be found in BIN (default: the newest aarch64
#                                        release rlib of edgebert-kernels, which keeps symbols;
#                                        then the newest armv7 one's, if there is one)
set -euo pipefail
cd "$(dirname "$0")/.."
here=scripts
A64=aarch64-unknown-linux-gnu
A32=armv7-unknown-linux-gnueabihf
target_dir=${CARGO_TARGET_DIR:-target}

if [ "${1:-}" = "--check" ]; then
    # The kernels' rlib keeps its symbols (the release binary's are stripped); same code.
    bin=${2:-$(ls -t "$target_dir"/$A64/release/deps/libedgebert_kernels-*.rlib 2>/dev/null | head -1 || true)}
    [ -n "$bin" ] && [ -f "$bin" ] || { echo "arm-speed --check: no aarch64 kernels build (cargo build --release --target $A64 -p edgebert-kernels)" >&2; exit 1; }
    python3 "$here/arm_speed.py" check "$bin"
    # armv7-neon's kernel too, where an armv7 release build exists (CI builds one for its suites).
    bin32=$(ls -t "$target_dir"/$A32/release/deps/libedgebert_kernels-*.rlib 2>/dev/null | head -1 || true)
    if [ -n "$bin32" ]; then
        exec python3 "$here/arm_speed.py" check32 "$bin32"
    fi
    echo "arm-speed --check: no armv7 kernels build, armv7-neon's loop not checked" >&2
    exit 0
fi

if [ "${1:-}" = "--armv7" ]; then
    # (a) for armv7-neon: llvm-mca on its inner loop in the armv7 kernels' rlib (symbols kept).
    nice cargo build --release --target $A32 -p edgebert-kernels >&2
    bin32=$(ls -t "$target_dir"/$A32/release/deps/libedgebert_kernels-*.rlib | head -1)
    exec python3 "$here/arm_speed.py" kernels32 "$bin32"
fi

if [ "${1:-}" = "--armv7-count" ]; then
    # (b) for armv7: instructions of one all-MiniLM-L6-v2 int8 `embed` (128 tokens) under qemu-arm
    # per backend (ARM_SPEED_BACKENDS, default armv7-neon), from the armv7 release binary with
    # its symbols kept.
    CARGO_PROFILE_RELEASE_STRIP=none nice cargo build --release --target $A32 --bin edgebert >&2
    bin32=$target_dir/arm-speed/edgebert-armv7
    mkdir -p "$(dirname "$bin32")"
    cp "$target_dir/$A32/release/edgebert" "$bin32"
    blob=${2:-.cache/arm-speed/all-minilm-l6-v2.int8.ebq}
    if [ ! -s "$blob" ]; then
        mkdir -p "$(dirname "$blob")"
        scripts/arm-run.sh armv7 "$bin32" convert "${EDGEBERT_ASSETS:-/work/shared/assets}/models/all-minilm-l6-v2" \
            -o "$blob" --weights int8 >&2
    fi
    ARM_SPEED_TEXT=$(printf 'speed %.0s' $(seq 126))
    export ARM_SPEED_TEXT
    exec python3 "$here/arm_speed.py" count32 "$bin32" "$blob"
fi

# The release binary with its symbols kept: the same code as the shipped (stripped) binary.
bin=$target_dir/arm-speed/edgebert
if [ ! -x "$bin" ] || [ -n "$(find src kernels/src engine/src models/src -newer "$bin" -name '*.rs' | head -1)" ]; then
    CARGO_PROFILE_RELEASE_STRIP=none nice cargo build --release --target $A64 --bin edgebert >&2
    mkdir -p "$(dirname "$bin")"
    cp "$target_dir/$A64/release/edgebert" "$bin"
fi

if [ "${1:-}" = "--kernels" ]; then
    exec python3 "$here/arm_speed.py" kernels "$bin"
fi

blobs=("$@")
if [ ${#blobs[@]} -eq 0 ]; then
    model=${EDGEBERT_ASSETS:-/work/shared/assets}/models/all-minilm-l6-v2
    mkdir -p .cache/arm-speed
    for w in int8 f32; do
        out=.cache/arm-speed/all-minilm-l6-v2.$w.ebq
        if [ ! -s "$out" ]; then
            scripts/arm-run.sh aarch64 "$bin" convert "$model" -o "$out" --weights $w >&2
        fi
        blobs+=("$out")
    done
fi

# 126 word pieces + [CLS] + [SEP] = 128 tokens ("speed" is one token of the uncased vocab).
ARM_SPEED_TEXT=$(printf 'speed %.0s' $(seq 126))
export ARM_SPEED_TEXT
exec python3 "$here/arm_speed.py" model "$bin" "${blobs[@]}"
