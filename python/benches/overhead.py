"""Calling overhead of model.embed on one 8-token text against the same work in Rust
(`edgebert bench --seq 8 --batch 1 --threads 1`), measured side by side (issue 20's bar: <= 1.2x).

    python python/benches/overhead.py MODEL.ebq [--cli target/release/edgebert] [--rounds 5] [--seconds 2]

Each round times model.embed(["a cat sat on the mat"]) (8 tokens with [CLS] and [SEP]; the
script checks) for --seconds, then runs the CLI's benchmark for as long, then edgebert.bench
in-process (the same Rust loop, this process). Python's figure includes argument checks,
tokenization, a new session, the GIL release and the numpy array; the benchmark's feeds
ready-made ids to a reused session. Printed: p50 per call and the ratios, per round and median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

import edgebert

TEXT = "a cat sat on the mat"


def python_p50(model: edgebert.Model, seconds: float) -> float:
    times = []
    stop = time.perf_counter() + seconds
    batch = [TEXT]
    while time.perf_counter() < stop or len(times) < 10:
        t = time.perf_counter()
        model.embed(batch)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--cli", default=str(Path(__file__).resolve().parents[2] / "target" / "release" / "edgebert"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    model = edgebert.Model(args.model, threads=1)
    tokens = len(model.tokenize(TEXT))
    assert tokens == 8, f"{TEXT!r} is {tokens} tokens for this model, not 8"
    for _ in range(50):
        model.embed([TEXT])
    print(f"{model!r}; Python p50 vs `edgebert bench --seq 8 --batch 1 --threads 1` p50")
    cli_ratios, inproc_ratios = [], []
    for r in range(args.rounds):
        py = python_p50(model, args.seconds)
        out = subprocess.run(
            [args.cli, "bench", args.model, "--seq", "8", "--batch", "1", "--threads", "1",
             "--seconds", str(args.seconds), "--json"],
            capture_output=True, text=True, check=True,
        ).stdout
        cli = json.loads(out.splitlines()[-1])["p50_ms"]
        inproc = edgebert.bench(args.model, seq=[8], batch=[1], threads=[1], seconds=args.seconds)[0]["p50_ms"]
        cli_ratios.append(py / cli)
        inproc_ratios.append(py / inproc)
        print(
            f"round {r + 1}: python embed {py:.4f} ms, CLI bench {cli:.4f} ms (ratio {py / cli:.3f}), "
            f"in-process bench {inproc:.4f} ms (ratio {py / inproc:.3f})"
        )
    print(
        f"median ratio python / CLI bench: {statistics.median(cli_ratios):.3f}; "
        f"python / in-process bench: {statistics.median(inproc_ratios):.3f}"
    )


if __name__ == "__main__":
    main()
