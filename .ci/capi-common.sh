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

# capi_small_models DIR: one-layer twins of the two models (same config and tokenizer otherwise,
# random weights from `edgebert init`, seed 0) converted into DIR/sentiment.ebq and
# DIR/minilm.ebq, for the runs that are slow per inference (valgrind, the scalar kernels under
# qemu): every C ABI call, error path and thread still runs, on 1/6 of the arithmetic.
capi_small_models() {
    local dir=$1 name model
    mkdir -p "$dir"
    for name in sentiment:minilm-l6-rt-sentiment minilm:all-minilm-l6-v2; do
        model=${name#*:}
        python3 - "$assets/models/$model/config.json" "$dir/$model.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["num_hidden_layers"] = 1
json.dump(config, open(sys.argv[2], "w"), indent=2)
PY
        "$x86_bin" init "$dir/$model.json" -o "$dir/$model" --tokenizer "$assets/models/$model" --force >/dev/null
        "$x86_bin" convert "$dir/$model" -o "$dir/${name%%:*}.ebq" --force >/dev/null
    done
}

# capi_expected BACKEND PREFIX: the CLI's classify and embed answers on $work/texts.txt with the
# kernels BACKEND forces, flattened to PREFIX-classify.txt ("LABEL_INDEX P0 P1 ...") and
# PREFIX-embed.txt ("E0 E1 ...") for the C test (printed shortest-round-trip, so exact).
# The blobs are $models/sentiment.ebq and $models/minilm.ebq ($models: $work unless set).
capi_expected() {
    local backend=$1 prefix=$2 models=${models:-$work}
    EDGEBERT_KERNELS=$backend "$x86_bin" classify "$models/sentiment.ebq" --file "$work/texts.txt" --json >"$prefix-classify.jsonl"
    EDGEBERT_KERNELS=$backend "$x86_bin" embed "$models/minilm.ebq" --file "$work/texts.txt" --json >"$prefix-embed.jsonl"
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
# $expected, on the blobs in $models ($work unless set), prints its summary lines and fails loudly.
capi_run_test() {
    local label=$1 log=$work/c-test-$1.log models=${models:-$work}
    shift
    if ! "$@" "$models/sentiment.ebq" "$models/minilm.ebq" "$work/texts.txt" \
        "$expected-classify.txt" "$expected-embed.txt" >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "FAIL: C test ($label)"
        return 1
    fi
    grep -E '^(classify|embed|threads|PASS)' "$log" | sed "s/^/  [$label] /"
}
