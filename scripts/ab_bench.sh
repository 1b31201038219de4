#!/usr/bin/env bash
# Alternating A/B latency comparison of two `edgebert` binaries (or two kernel backends of one)
# on a shared, noisy machine: each round runs A then B (then B then A on odd rounds) for every
# sequence length, and the ratio of the medians of the per-round p50s is reported.
#
#   scripts/ab_bench.sh BLOB ROUNDS SEQS A_CMD B_CMD
# A_CMD / B_CMD are "[VAR=value ..] /path/to/edgebert" strings (split on spaces), e.g.
#   scripts/ab_bench.sh m.ebq 5 8,128 "EDGEBERT_KERNELS=avx2 bin" "EDGEBERT_KERNELS=avx-vnni bin"
# Output: one line per seq: A p50 median, B p50 median, B/A (below 1 = B faster).
set -euo pipefail
blob=${1:?blob} rounds=${2:?rounds} seqs=${3:?seqs} a=${4:?A command} b=${5:?B command}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run() { # run TAG CMD SEQ
    # shellcheck disable=SC2086 # the command's words: optional VAR=value, then the binary
    env $2 bench "$blob" --seq "$3" --batch 1 --threads 1 --seconds 1 --warmup 3 --json |
        python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); print(sys.argv[1], sys.argv[2], r["p50_ms"])' "$1" "$3" >>"$out"
}
for r in $(seq 1 "$rounds"); do
    for s in ${seqs//,/ }; do
        if [ $((r % 2)) = 1 ]; then run A "$a" "$s"; run B "$b" "$s"; else run B "$b" "$s"; run A "$a" "$s"; fi
    done
done
python3 - "$out" <<'PY'
import statistics, sys, collections
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tag, seq, p50 = line.split()
    d[(tag, int(seq))].append(float(p50))
for seq in sorted({s for _, s in d}):
    a, b = statistics.median(d[("A", seq)]), statistics.median(d[("B", seq)])
    print(f"seq {seq}: A p50 {a:.3f} ms, B p50 {b:.3f} ms, B/A {b / a:.3f} ({len(d[('A', seq)])} rounds)")
PY
