# Shared by .ci/capi (x86-64) and .ci/capi-arm (aarch64): the texts, the models and the
# command line's answers that the C test compares with. Sourced; needs $work, $assets, $x86_bin.

# capi_texts FILE: edge cases (empty, accents, CJK, emoji, numbers, a long review) and real
# reviews from the dev set, one per line.
capi_texts() {
    {
        printf '%s\n' "" "A gem of a film." "The plot is a tedious mess and the acting is worse." \
            "Café crème, très bon : un film à voir !" "这部电影非常好看" "I loved it 😍🎬 10/10" \
            "$(printf 'an endless, joyless slog %.0s' $(seq 1 80))"
        head -n 9 "$assets/data/rt_polarity/dev.tsv" | cut -f2
    } >"$1"
}

# capi_models: converts the shared sentiment classifier and all-MiniLM-L6-v2 with the x86 binary.
capi_models() {
    "$x86_bin" convert "$assets/models/minilm-l6-rt-sentiment" -o "$work/sentiment.ebq" --force >/dev/null
    "$x86_bin" convert "$assets/models/all-minilm-l6-v2" -o "$work/minilm.ebq" --force >/dev/null
}

# capi_expected BACKEND PREFIX: the CLI's classify and embed answers on $work/texts.txt with the
# kernels BACKEND forces, flattened to PREFIX-classify.txt ("LABEL_INDEX P0 P1 ...") and
# PREFIX-embed.txt ("E0 E1 ...") for the C test (printed shortest-round-trip, so exact).
capi_expected() {
    local backend=$1 prefix=$2
    EDGEBERT_KERNELS=$backend "$x86_bin" classify "$work/sentiment.ebq" --file "$work/texts.txt" --json >"$prefix-classify.jsonl"
    EDGEBERT_KERNELS=$backend "$x86_bin" embed "$work/minilm.ebq" --file "$work/texts.txt" --json >"$prefix-embed.jsonl"
    python3 - "$prefix" <<'PY'
import json, sys
p = sys.argv[1]
with open(p + "-classify.txt", "w") as out:
    for line in open(p + "-classify.jsonl"):
        r = json.loads(line)
        best = max(range(len(r["probs"])), key=lambda i: r["probs"][i])
        assert r["probs"][best] == r["score"], r
        out.write(" ".join([str(best)] + [repr(x) for x in r["probs"]]) + "\n")
with open(p + "-embed.txt", "w") as out:
    for line in open(p + "-embed.jsonl"):
        out.write(" ".join(repr(x) for x in json.loads(line)["embedding"]) + "\n")
PY
}

# capi_run_test LABEL CMD...: runs the C test (CMD prefix, e.g. valgrind or qemu), expected from
# $expected, prints its summary lines and fails loudly.
capi_run_test() {
    local label=$1 log=$work/c-test-$1.log
    shift
    if ! "$@" "$work/sentiment.ebq" "$work/minilm.ebq" "$work/texts.txt" \
        "$expected-classify.txt" "$expected-embed.txt" >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "FAIL: C test ($label)"
        return 1
    fi
    grep -E '^(classify|embed|threads|PASS)' "$log" | sed "s/^/  [$label] /"
}
