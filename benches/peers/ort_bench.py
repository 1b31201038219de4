#!/usr/bin/env python3
"""Latency of an ONNX BERT graph under ONNX Runtime, on the same token ids as `edgebert bench`.

    python benches/peers/ort_bench.py ONNXFILE [--seq 128] [--batch 1] [--threads 1,2]
                                      [--warmup 10] [--iters 100] [--min-time 2] [--json]

One session per thread count: intra_op_num_threads=N, inter_op_num_threads=1, sequential
execution, graph_optimization_level=ORT_ENABLE_ALL, CPU execution provider. Warm-up runs, then
timed runs (at least --iters and at least --min-time seconds); p50/p90/p99 of the per-run wall
time. --seq, --batch and --threads take comma-separated lists; every combination is run.

Token ids (the ones edgebert's bench uses): ids[0] = 101, ids[seq-1] = 102, and
ids[i] = 1000 + (i * 7919) % (vocab_size - 1000) in between; attention_mask all ones;
token_type_ids zeros; every batch row identical. vocab_size comes from the model's metadata
(written by build_onnx.py) or the word-embedding table, or --vocab.

--json prints one JSON object per configuration (keys as edgebert bench --json where they mean
the same thing: seq, batch, threads, p50_ms, p90_ms, p99_ms, mean_ms, tokens_per_s, iters,
backend, open_ms, file_bytes, peak_rss_bytes), plus cpu_p50_ms: the process's CPU time per run
(p50). With --threads 1 that is what the run costs without other processes' load; with more
threads it also counts ORT's spin-waiting, so it is not a latency.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np


def csv_ints(s):
    return [int(x) for x in s.split(",") if x.strip()]


def token_ids(seq, vocab):
    ids = np.empty(seq, np.int64)
    span = vocab - 1000
    for i in range(seq):
        ids[i] = 1000 + (i * 7919) % span
    ids[0] = 101
    if seq > 1:
        ids[seq - 1] = 102
    return ids


def feeds(seq, batch, vocab):
    ids = np.tile(token_ids(seq, vocab), (batch, 1))
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}


def vocab_size(path):
    import onnx

    m = onnx.load(path, load_external_data=False)
    props = {p.key: p.value for p in m.metadata_props}
    if "vocab_size" in props:
        return int(props["vocab_size"])
    for t in m.graph.initializer:
        if "word_embeddings" in t.name and len(t.dims) == 2:
            return int(t.dims[0])
    raise SystemExit("cannot tell the vocabulary size; pass --vocab")


def session(path, threads, level="all"):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    }[level]
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def measure(sess, feed, warmup, iters, min_time):
    for _ in range(warmup):
        sess.run(None, feed)
    times, cpu = [], []
    t_end = time.perf_counter() + min_time
    while len(times) < iters or time.perf_counter() < t_end:
        c0 = time.process_time()
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return np.array(times) * 1e3, np.array(cpu) * 1e3


def bench(path, seqs, batches, threads_list, warmup=10, iters=100, min_time=2.0, vocab=None, level="all"):
    import onnxruntime as ort

    vocab = vocab or vocab_size(path)
    results = []
    for threads in threads_list:
        t0 = time.perf_counter()
        sess = session(path, threads, level)
        open_ms = (time.perf_counter() - t0) * 1e3
        for seq in seqs:
            for batch in batches:
                ms, cpu = measure(sess, feeds(seq, batch, vocab), warmup, iters, min_time)
                p50, p90, p99 = np.percentile(ms, [50, 90, 99])
                results.append({
                    "seq": seq, "batch": batch, "threads": threads,
                    "p50_ms": round(float(p50), 4), "p90_ms": round(float(p90), 4), "p99_ms": round(float(p99), 4),
                    "mean_ms": round(float(ms.mean()), 4),
                    "tokens_per_s": round(seq * batch / (p50 / 1e3), 1),
                    # CPU time of the whole process per run (all ORT threads, spinning included):
                    # with threads=1 a load-insensitive estimate of the latency on a quiet machine
                    "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 4),
                    "iters": int(len(ms)),
                    "backend": f"onnxruntime {ort.__version__} CPU (opt {level})",
                    "open_ms": round(open_ms, 2),
                    "file_bytes": os.path.getsize(path),
                    # ru_maxrss is in KiB on Linux; it is the whole Python process's peak
                    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                })
        del sess
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnxfile")
    ap.add_argument("--seq", default="128", type=csv_ints)
    ap.add_argument("--batch", default="1", type=csv_ints)
    ap.add_argument("--threads", default="1,2", type=csv_ints)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--iters", type=int, default=100, help="at least this many timed runs")
    ap.add_argument("--min-time", type=float, default=2.0, help="and at least this many seconds of timed runs")
    ap.add_argument("--vocab", type=int)
    ap.add_argument("--opt", default="all", choices=["all", "extended", "basic", "none"],
                    help="graph optimization level (default all)")
    ap.add_argument("--json", action="store_true", help="one JSON object per configuration")
    args = ap.parse_args()

    res = bench(args.onnxfile, args.seq, args.batch, args.threads, args.warmup, args.iters, args.min_time,
                args.vocab, args.opt)
    if args.json:
        for r in res:
            print(json.dumps(r))
        return
    print(f"{args.onnxfile}  ({res[0]['backend']}, {res[0]['file_bytes'] / 1e6:.1f} MB)")
    print(f"{'seq':>5} {'batch':>5} {'thr':>3} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'tokens/s':>10} {'iters':>6}"
          f" {'cpu p50 ms':>10}")
    for r in res:
        print(f"{r['seq']:>5} {r['batch']:>5} {r['threads']:>3} {r['p50_ms']:>9.2f} {r['p90_ms']:>9.2f} "
              f"{r['p99_ms']:>9.2f} {r['tokens_per_s']:>10.0f} {r['iters']:>6} {r['cpu_p50_ms']:>10.2f}")


if __name__ == "__main__":
    sys.exit(main())
