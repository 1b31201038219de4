"""Throughput of two Python threads against one, on one edgebert.Model (issue 20's bar: >= 1.7x
on a 2-core machine).

    python python/benches/threads.py MODEL.ebq [--rounds 5] [--seconds 2] [--batch 32] [--threads 1]

Each round measures one thread, then two threads, for --seconds each, so both see the same
machine load; it prints per-round texts/s and the ratio, then the median ratio. The model runs
with threads=1 by default (each call on one core; Python threads give the parallelism), the
texts are 32 review-length sentences (~20 tokens each) per call. CPU seconds per wall second
show how many cores the process really got (other processes on the machine take the rest);
"calls overlapping" is the share of thread 1's call time during which thread 2 was inside a
call too: near 100% means the GIL is released for the whole call, whatever the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

import edgebert

TEXTS = [
    f"Review {i}: the plot was thin, but the acting carried the film to a satisfying and warm ending."
    for i in range(32)
]


def overlap(a: list, b: list) -> float:
    """Fraction of the time covered by calls in `a` during which a call in `b` was running too."""
    total = sum(e - s for s, e in a)
    shared, j = 0.0, 0
    for s, e in a:
        while j < len(b) and b[j][1] <= s:
            j += 1
        k = j
        while k < len(b) and b[k][0] < e:
            shared += max(0.0, min(e, b[k][1]) - max(s, b[k][0]))
            k += 1
    return shared / total if total else 0.0


def run(model: edgebert.Model, n_threads: int, seconds: float, batch: list) -> tuple:
    done = [0] * n_threads
    calls: list = [[] for _ in range(n_threads)]
    stop = time.perf_counter() + seconds

    def worker(k: int) -> None:
        while time.perf_counter() < stop:
            t = time.perf_counter()
            model.embed(batch)
            calls[k].append((t, time.perf_counter()))
            done[k] += len(batch)

    cpu0, t0 = os.times(), time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    shared = overlap(calls[0], calls[1]) if n_threads == 2 else 0.0
    return sum(done) / wall, cpu / wall, shared


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1, help="threads per call (Model(threads=...)); 0 = every core")
    args = ap.parse_args()
    model = edgebert.Model(args.model, threads=args.threads or None)
    batch = (TEXTS * (args.batch // len(TEXTS) + 1))[: args.batch]
    model.embed(batch)  # warm-up: scratch buffers, page cache
    print(f"{model!r}, threads per call {args.threads or 'all'}, {len(batch)} texts per call, cores {os.cpu_count()}")
    ratios = []
    for r in range(args.rounds):
        one, cpu1, _ = run(model, 1, args.seconds, batch)
        two, cpu2, shared = run(model, 2, args.seconds, batch)
        ratios.append(two / one)
        print(
            f"round {r + 1}: 1 thread {one:8.1f} texts/s (cpu {cpu1:.2f}), "
            f"2 threads {two:8.1f} texts/s (cpu {cpu2:.2f}, calls overlapping {shared:.0%}), ratio {two / one:.2f}"
        )
    print(f"median ratio (2 threads / 1 thread) over {args.rounds} rounds: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
