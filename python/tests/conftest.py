"""Shared fixtures: the shared assets, blobs converted once per session with edgebert.convert,
and the edgebert command-line binary the bindings must agree with byte for byte.

Assets are read from ../shared/assets relative to the checkout (EDGEBERT_ASSETS overrides). A
test that needs a missing asset is skipped with the reason, or fails when EDGEBERT_REQUIRE_ASSETS
is 1 (CI). The CLI binary is EDGEBERT_BIN, else target/release/edgebert, else target/debug/edgebert.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

import edgebert

ROOT = Path(__file__).resolve().parents[2]
ASSETS = Path(os.environ.get("EDGEBERT_ASSETS", ROOT.parent / "shared" / "assets"))
REQUIRE = os.environ.get("EDGEBERT_REQUIRE_ASSETS") == "1"


def need(path: Path, what: str) -> Path:
    if path.exists():
        return path
    message = f"{what} not found at {path}: set EDGEBERT_ASSETS, or run scripts/fetch-assets (if present)"
    if REQUIRE:
        pytest.fail(message + " (EDGEBERT_REQUIRE_ASSETS=1)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def blob_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("blobs")


_BLOBS: Dict[str, Path] = {}


def blob(name: str, out_dir: Path, **options: str) -> Path:
    """The shared model `name` converted with `options` (once per session)."""
    key = name + json.dumps(options, sort_keys=True)
    if key not in _BLOBS:
        src = need(ASSETS / "models" / name, f"model {name}")
        out = out_dir / (name + "".join(f"-{v}" for v in options.values()) + ".ebq")
        report = edgebert.convert(src, out, progress=False, **options)
        assert report["output"] == str(out) and out.stat().st_size == report["blob_bytes"]
        _BLOBS[key] = out
    return _BLOBS[key]


@pytest.fixture(scope="session")
def minilm(blob_dir: Path) -> Path:
    return blob("all-minilm-l6-v2", blob_dir)


@pytest.fixture(scope="session")
def sentiment(blob_dir: Path) -> Path:
    return blob("minilm-l6-rt-sentiment", blob_dir)


@pytest.fixture(scope="session")
def tiny(blob_dir: Path):
    return lambda name: blob(name, blob_dir)


@pytest.fixture(scope="session")
def golden() -> dict:
    return json.loads(need(ASSETS / "golden" / "golden.json", "golden outputs").read_text())


@pytest.fixture(scope="session")
def cli() -> Path:
    candidates = [os.environ.get("EDGEBERT_BIN")] if os.environ.get("EDGEBERT_BIN") else []
    candidates += [str(ROOT / "target" / "release" / "edgebert"), str(ROOT / "target" / "debug" / "edgebert")]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    message = f"the edgebert binary is not built (tried {candidates}): run `cargo build --release`"
    if REQUIRE:
        pytest.fail(message)
    pytest.skip(message)


def run_cli(cli: Path, *args: str) -> List[str]:
    """The CLI's stdout lines (it must succeed)."""
    done = subprocess.run([str(cli), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"edgebert {' '.join(args[:2])} failed: {done.stderr}"
    return done.stdout.splitlines()
