#!/usr/bin/env bash
# Are a binary's outputs the same bytes as a recorded baseline's? For kernel refactors that must
# not change a single output bit (issue 15).
#
#   scripts/bit_identical.sh record BIN    # writes .cache/bit_identical/baseline.md5
#   scripts/bit_identical.sh check BIN     # compares BIN's outputs with that file; exit 1 if any differ
#
# Outputs: `classify --json` over the 1275 rt_polarity dev texts (minilm-l6-rt-sentiment) and
# `embed --json` of the 32 golden sentences (all-minilm-l6-v2), for int8, f16 and f32 blobs,
# with every x86 backend this CPU runs forced by EDGEBERT_KERNELS. The blobs are converted once
# (by the first binary that runs) and reused, so only the engine's kernels are compared.
# With EDGEBERT_BIT_ARM=1 the aarch64 binary ($EDGEBERT_BIT_ARM_BIN, by default
# target/aarch64-unknown-linux-gnu/release/edgebert: build it first) also runs under qemu as a Cortex-A72 (neon) and a Cortex-A76 (neon-dotprod);
# ARM lines are recorded and checked only when that variable is set.
# EDGEBERT_BIT_TEXTS=N classifies only the first N dev texts on the slow lines (the scalar
# `generic` backend and the qemu ARM runs; every x86 SIMD backend always runs all 1275); such
# lines say "first N texts", so record and check must use the same N.
# EDGEBERT_BIT_ARM_TEXTS=N (default: EDGEBERT_BIT_TEXTS) does the same for the qemu lines, which
# then also embed only the first N golden sentences when N < 32 (qemu runs f16 slowly).
# EDGEBERT_BIT_BACKENDS="generic avx2 ..." picks the x86 backends (default: all five).
# EDGEBERT_BIT_X86=0 (with EDGEBERT_BIT_ARM=1) runs and checks only the ARM lines, so an x86
# check and an ARM check can run side by side.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:?usage: bit_identical.sh record|check BIN}
bin=$(realpath "${2:?usage: bit_identical.sh record|check BIN}")
assets=${EDGEBERT_ASSETS:-../shared/assets}
dir=.cache/bit_identical
mkdir -p "$dir/blobs" "$dir/out"

dev="$dir/dev_texts.txt"
[ -s "$dev" ] || tail -n +2 "$assets/data/rt_polarity/dev.tsv" | cut -f2 >"$dev"
[ "$(wc -l <"$dev")" = 1275 ] || { echo "expected 1275 dev texts in $dev"; exit 1; }
slow_texts=${EDGEBERT_BIT_TEXTS:-1275}
arm_texts=${EDGEBERT_BIT_ARM_TEXTS:-$slow_texts}
for n in "$slow_texts" "$arm_texts"; do
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 1275 ] ||
        { echo "EDGEBERT_BIT_TEXTS and EDGEBERT_BIT_ARM_TEXTS must be 1..1275, not $n"; exit 1; }
    [ "$n" = 1275 ] || head -n "$n" "$dev" >"$dir/dev_texts_$n.txt"
done
# The golden sentences hold newlines: pass them as arguments, not lines of a file.
mapfile -d '' golden < <(python3 -c '
import json, sys
for s in json.load(open(sys.argv[1]))["sentences"]:
    sys.stdout.write(s + "\0")' "$assets/golden/golden.json")
[ "${#golden[@]}" = 32 ] || { echo "expected 32 golden sentences"; exit 1; }

for w in int8 f16 f32; do
    for model in minilm-l6-rt-sentiment all-minilm-l6-v2; do
        blob="$dir/blobs/$model-$w.ebq"
        [ -s "$blob" ] || "$bin" convert "$assets/models/$model" -o "$blob" --weights "$w" --force >/dev/null
    done
done

# run LABEL TEXTS SENTENCES RUNNER...: every output of one backend (classify over the first
# TEXTS dev texts, embed of the first SENTENCES golden sentences), one md5 line each.
run() {
    local label=$1 texts=$2 sentences=$3 file=$dev note="" enote=""
    shift 3
    if [ "$texts" != 1275 ]; then
        file="$dir/dev_texts_$texts.txt" note=" (first $texts texts)"
    fi
    [ "$sentences" = 32 ] || enote=" (first $sentences sentences)"
    for w in int8 f16 f32; do
        local o="$dir/out/$label-classify-$w.json"
        "$@" classify "$dir/blobs/minilm-l6-rt-sentiment-$w.ebq" --file "$file" --json >"$o"
        [ "$(wc -l <"$o")" = "$texts" ] || { echo "$label classify $w: $(wc -l <"$o") lines, want $texts"; exit 1; }
        echo "$(md5sum <"$o" | cut -d' ' -f1) $label classify $w$note"
        o="$dir/out/$label-embed-$w.json"
        "$@" embed "$dir/blobs/all-minilm-l6-v2-$w.ebq" --json "${golden[@]:0:$sentences}" >"$o"
        [ "$(wc -l <"$o")" = "$sentences" ] ||
            { echo "$label embed $w: $(wc -l <"$o") lines, want $sentences"; exit 1; }
        echo "$(md5sum <"$o" | cut -d' ' -f1) $label embed $w$enote"
    done
}

result="$dir/$mode-$(date +%H%M%S).md5"
: >"$result"
# EDGEBERT_BIT_BACKENDS overrides the list. A backend the baseline's binary predates needs no
# override: check says "not in baseline: ..." and holds avx-vnni to avx2's lines (see below).
x86_backends=${EDGEBERT_BIT_BACKENDS:-"generic avx2 avx512 avx-vnni avx512-vnni"}
[ "${EDGEBERT_BIT_X86:-1}" = 0 ] && x86_backends=""
for b in $x86_backends; do
    if EDGEBERT_KERNELS=$b "$bin" classify "$dir/blobs/minilm-l6-rt-sentiment-int8.ebq" "x" >/dev/null 2>&1; then
        texts=1275
        [ "$b" = generic ] && texts=$slow_texts
        EDGEBERT_KERNELS=$b run "$b" "$texts" 32 "$bin" | tee -a "$result"
    else
        echo "this CPU lacks $b: not compared" | tee -a "$result"
    fi
done
if [ "${EDGEBERT_BIT_ARM:-0}" = 1 ]; then
    arm=${EDGEBERT_BIT_ARM_BIN:-target/aarch64-unknown-linux-gnu/release/edgebert}
    [ -x "$arm" ] || { echo "EDGEBERT_BIT_ARM=1 but $arm is missing: cargo build --release --target aarch64-unknown-linux-gnu"; exit 1; }
    for cpu in cortex-a72:neon cortex-a76:neon-dotprod; do
        QEMU_CPU=${cpu%%:*} run "${cpu#*:}" "$arm_texts" "$((arm_texts < 32 ? arm_texts : 32))" scripts/arm-run.sh aarch64 "$arm" | tee -a "$result"
    done
fi

if [ "$mode" = record ]; then
    cp "$result" "$dir/baseline.md5"
    echo "recorded $(grep -c ' ' "$dir/baseline.md5") lines in $dir/baseline.md5"
    exit 0
fi
base="$dir/baseline.md5"
[ -s "$base" ] || { echo "no baseline: run scripts/bit_identical.sh record BIN first"; exit 1; }
# The baseline's lines for what this run compared, in the order of this run. A backend newer than
# the baseline's binary has no lines there: avx-vnni (int8 by exact vpdpbusd, every float slot
# the v3 one) must give avx2's bytes, so it is held to the baseline's avx2 lines; any other
# missing backend is left out, and each case is said.
lines_of() { awk -v b="$1" '$2 == b || $0 == "this CPU lacks " b ": not compared"' "$2"; }
base_cmp="" cmp_result=$(cat "$result")
labels=$x86_backends
[ "${EDGEBERT_BIT_ARM:-0}" = 1 ] && labels="$labels neon neon-dotprod"
for b in $labels; do
    have=$(lines_of "$b" "$base")
    if [ -z "$have" ] && [ "$b" = avx-vnni ] && [ -n "$(lines_of avx2 "$base")" ]; then
        echo "not in baseline: avx-vnni (held to the baseline's avx2 lines)"
        have=$(lines_of avx2 "$base" | sed 's/^\([0-9a-f]*\) avx2 /\1 avx-vnni /; s/lacks avx2:/lacks avx-vnni:/')
    elif [ -z "$have" ]; then
        echo "not in baseline: $b (not compared)"
        cmp_result=$(echo "$cmp_result" | awk -v b="$b" '$2 != b')
        continue
    fi
    base_cmp+="$have"$'\n'
done
if diff <(printf '%s' "$base_cmp") <(echo "$cmp_result"); then
    echo "bit-identical: $(echo "$cmp_result" | wc -l) outputs match $base"
else
    echo "DIFFERENT: see the diff above ($result against $base)"
    exit 1
fi
