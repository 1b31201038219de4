#!/usr/bin/env python3
"""edgebert vs ONNX Runtime, side by side, from one run, on the same token ids and thread counts.

    python benches/peers/compare.py [--models all-minilm-l6-v2,minilm-l6-rt-sentiment]
        [--seq 128] [--batch 1] [--threads 1,2] [--rounds 3] [--seconds 2] [--fused]
        [--cache .cache/peers] [--assets ../shared/assets/models] [--edgebert target/release/edgebert]
        [--ort-only] [--json FILE] [--markdown]

For each model (a folder of --assets holding config.json + model.safetensors):
  1. builds the ONNX graphs once into CACHE/MODEL/ (build_onnx.py: fp32 model.onnx, int8
     model.int8.onnx; with --fused also ORT's transformer-optimizer graphs model.fused*.onnx);
  2. converts the edgebert blobs once: `edgebert convert HFDIR -o CACHE/MODEL/int8.ebq
     --weights int8` and `... f32.ebq --weights f32 --embeddings f32` (delete them, or pass
     --reconvert, after the converter changes);
  3. runs, for --rounds rounds, every (seq, batch, threads) configuration as alternating
     processes: edgebert int8, ORT int8, edgebert f32, ORT fp32 [, ORT fused int8, ORT fused
     fp32]. Each is a fresh process measuring for --seconds (edgebert bench --json,
     ort_bench.py --json), so the two engines see the same machine load, round after round.
Printed: per configuration the median over rounds of each p50 and the median of the per-round
ratios ORT p50 / edgebert p50 (> 1: edgebert is faster), then issue 5's speed bars.
CACHE defaults to $EDGEBERT_PEERS_CACHE or .cache/peers in the repository (gitignored).
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

EB_WARMUP = 3
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run_json(cmd):
    """Runs cmd; returns its JSON lines and the CPU seconds (user + system) the child used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")], cpu


def prepare(model, args):
    hf = os.path.join(args.assets, model)
    out = os.path.join(args.cache, model)
    need = ["model.onnx", "model.int8.onnx"] + (["model.fused.onnx", "model.fused.int8.onnx"] if args.fused else [])
    if args.rebuild or not all(os.path.exists(os.path.join(out, f)) for f in need):
        log(f"building ONNX graphs for {model} in {out}")
        cmd = [sys.executable, os.path.join(HERE, "build_onnx.py"), hf, out]
        if args.fused:
            cmd.append("--fused")
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    blobs = {}
    if not args.ort_only:
        for prec, extra in (("int8", ["--weights", "int8"]), ("f32", ["--weights", "f32", "--embeddings", "f32"])):
            blob = os.path.join(out, f"{prec}.ebq")
            if args.reconvert or not os.path.exists(blob):
                log(f"converting {model} to {blob}")
                subprocess.run([args.edgebert, "convert", hf, "-o", blob, "--force"] + extra, check=True,
                               stdout=sys.stderr)
            blobs[prec] = blob
    return out, blobs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="all-minilm-l6-v2")
    ap.add_argument("--seq", default="128")
    ap.add_argument("--batch", default="1")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0, help="measuring time per process")
    ap.add_argument("--fused", action="store_true", help="also time ORT's transformer-optimizer (pre-fused) graphs")
    ap.add_argument("--cache", default=os.environ.get("EDGEBERT_PEERS_CACHE", os.path.join(REPO, ".cache", "peers")))
    ap.add_argument("--assets", default=os.path.join(REPO, "..", "shared", "assets", "models"))
    ap.add_argument("--edgebert", default=os.path.join(REPO, "target", "release", "edgebert"))
    ap.add_argument("--ort-only", action="store_true", help="skip edgebert (ORT half only)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the ONNX graphs")
    ap.add_argument("--reconvert", action="store_true", help="re-convert the edgebert blobs")
    ap.add_argument("--json", metavar="FILE", help="write every measurement and the summary as JSON")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args()
    if not args.ort_only and not os.path.exists(args.edgebert):
        sys.exit(f"{args.edgebert} not found: cargo build --release, or --ort-only")

    models = [m for m in args.models.split(",") if m]
    seqs = [int(x) for x in args.seq.split(",")]
    batches = [int(x) for x in args.batch.split(",")]
    threads = [int(x) for x in args.threads.split(",")]
    if not args.ort_only:
        # measure one binary throughout even if someone rebuilds target/release meanwhile
        os.makedirs(args.cache, exist_ok=True)
        snap = os.path.join(args.cache, "edgebert.snapshot")
        shutil.copy2(args.edgebert, snap)
        args.edgebert = snap
    prepared = {m: prepare(m, args) for m in models}

    # engines: (name, precision, command builder)
    def eb(blob):
        return lambda s, b, t: [args.edgebert, "bench", blob, "--seq", str(s), "--batch", str(b), "--threads", str(t),
                                "--seconds", str(args.seconds), "--warmup", str(EB_WARMUP), "--json"]

    def ort(path):
        return lambda s, b, t: [sys.executable, os.path.join(HERE, "ort_bench.py"), path, "--seq", str(s),
                                "--batch", str(b), "--threads", str(t), "--min-time", str(args.seconds),
                                "--iters", "10", "--json"]

    load_start = os.getloadavg()[0]
    runs = []  # (model, engine, precision, seq, batch, threads, round, p50, record)
    started = time.time()
    for r in range(args.rounds):
        for m in models:
            out, blobs = prepared[m]
            engines = []
            for prec, onnx_name in (("int8", "model.int8.onnx"), ("fp32", "model.onnx")):
                if not args.ort_only:
                    engines.append(("edgebert", prec, eb(blobs["int8" if prec == "int8" else "f32"])))
                engines.append(("ort", prec, ort(os.path.join(out, onnx_name))))
            if args.fused:
                engines.append(("ort-fused", "int8", ort(os.path.join(out, "model.fused.int8.onnx"))))
                engines.append(("ort-fused", "fp32", ort(os.path.join(out, "model.fused.onnx"))))
            for s in seqs:
                for b in batches:
                    for t in threads:
                        for name, prec, cmd in engines:
                            recs, cpu_s = run_json(cmd(s, b, t))
                            rec = recs[0]
                            # CPU ms per run: ORT measures it per run; for edgebert, the child's
                            # total CPU time over its runs (warm-up included; open and start-up
                            # are a fraction of a millisecond per run). With one thread this is
                            # what a run costs on a quiet machine; other processes' load does
                            # not enter it (their cache and memory traffic still does).
                            cpu_ms = rec.get("cpu_p50_ms") if name != "edgebert" else \
                                cpu_s * 1e3 / (rec["iters"] + EB_WARMUP)
                            runs.append(dict(model=m, engine=name, precision=prec, seq=s, batch=b, threads=t, round=r,
                                             p50_ms=rec["p50_ms"], cpu_ms=cpu_ms, record=rec))
                            log(f"round {r + 1}/{args.rounds} {m} {name:9s} {prec} seq {s} batch {b} threads {t}: "
                                f"p50 {rec['p50_ms']:.2f} ms, cpu {cpu_ms:.2f} ms/run")

    def p50s(m, eng, prec, s, b, t, key="p50_ms"):
        return [x[key] for x in runs if (x["model"], x["engine"], x["precision"], x["seq"], x["batch"], x["threads"])
                == (m, eng, prec, s, b, t)]

    summary = []
    for m in models:
        for prec in ("int8", "fp32"):
            for s in seqs:
                for b in batches:
                    for t in threads:
                        row = dict(model=m, precision=prec, seq=s, batch=b, threads=t)
                        e = p50s(m, "edgebert", prec, s, b, t)
                        o = p50s(m, "ort", prec, s, b, t)
                        f = p50s(m, "ort-fused", prec, s, b, t)
                        row["edgebert_p50_ms"] = statistics.median(e) if e else None
                        row["ort_p50_ms"] = statistics.median(o)
                        row["ort_fused_p50_ms"] = statistics.median(f) if f else None
                        # the least disturbed round of each (a noisy shared machine only ever adds time)
                        row["edgebert_best_p50_ms"] = min(e) if e else None
                        row["ort_best_p50_ms"] = min(o)
                        row["ort_fused_best_p50_ms"] = min(f) if f else None
                        if t == 1:
                            ec = p50s(m, "edgebert", prec, s, b, t, "cpu_ms")
                            oc = p50s(m, "ort", prec, s, b, t, "cpu_ms")
                            fc = p50s(m, "ort-fused", prec, s, b, t, "cpu_ms")
                            row["edgebert_cpu_ms"] = statistics.median(ec) if ec else None
                            row["ort_cpu_ms"] = statistics.median(oc)
                            row["ort_fused_cpu_ms"] = statistics.median(fc) if fc else None
                        if e:
                            row["ratio_ort_over_edgebert"] = statistics.median([oo / ee for oo, ee in zip(o, e)])
                            best = [min(oo, ff) for oo, ff in zip(o, f)] if f else o
                            row["ratio_best_ort_over_edgebert"] = statistics.median([bb / ee for bb, ee in zip(best, e)])
                        summary.append(row)

    md = args.markdown
    sep = " | " if md else "  "
    head = ["model", "weights", "seq", "batch", "thr", "edgebert p50 (min)", "ORT p50 (min)"] \
        + (["ORT fused p50 (min)"] if args.fused else []) \
        + ([] if args.ort_only else ["ORT/edgebert"] + (["best ORT/edgebert"] if args.fused else []))
    widths = [22, 7, 4, 5, 3, 18, 15] + ([19] if args.fused else []) + ([] if args.ort_only else [12] + ([17] if args.fused else []))

    def fmt(cells):
        line = sep.join(str(c).rjust(w) if i > 1 else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return f"| {line} |" if md else line

    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, {args.rounds} rounds: median over rounds of p50 in ms "
          f"(min over rounds in parentheses); ratio = median over rounds of ORT p50 / edgebert p50 (> 1: edgebert faster)")
    print(f"# 1-minute load average {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end, "
          f"{os.cpu_count()} CPUs (a load above the CPU count slows every timing here)")
    print(fmt(head))
    if md:
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")

    def ms(v, best):
        return "-" if v is None else f"{v:.2f} ({best:.2f})"

    for row in summary:
        cells = [row["model"], row["precision"], row["seq"], row["batch"], row["threads"],
                 ms(row["edgebert_p50_ms"], row["edgebert_best_p50_ms"]), ms(row["ort_p50_ms"], row["ort_best_p50_ms"])]
        if args.fused:
            cells.append(ms(row["ort_fused_p50_ms"], row["ort_fused_best_p50_ms"]))
        if not args.ort_only:
            cells.append(f"{row['ratio_ort_over_edgebert']:.2f}x")
            if args.fused:
                cells.append(f"{row['ratio_best_ort_over_edgebert']:.2f}x")
        print(fmt(cells))

    one = [row for row in summary if row["threads"] == 1]
    if one:
        print()
        print("# one thread, CPU ms per run (median over rounds): what a run costs without the other processes' load")
        h2 = ["model", "weights", "seq", "batch", "edgebert cpu", "ORT cpu"] + (["ORT fused cpu"] if args.fused else []) \
            + ([] if args.ort_only else ["ORT/edgebert"])
        w2 = [22, 7, 4, 5, 12, 9] + ([13] if args.fused else []) + ([] if args.ort_only else [12])

        def fmt2(cells):
            line = sep.join(str(c).rjust(w) if i > 1 else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, w2)))
            return f"| {line} |" if md else line

        print(fmt2(h2))
        if md:
            print("|" + "|".join("-" * (w + 2) for w in w2) + "|")
        for row in one:
            best = min(v for v in (row["ort_cpu_ms"], row["ort_fused_cpu_ms"]) if v is not None)
            cells = [row["model"], row["precision"], row["seq"], row["batch"],
                     "-" if row["edgebert_cpu_ms"] is None else f"{row['edgebert_cpu_ms']:.2f}", f"{row['ort_cpu_ms']:.2f}"]
            if args.fused:
                cells.append(f"{row['ort_fused_cpu_ms']:.2f}")
            if not args.ort_only:
                cells.append(f"{best / row['edgebert_cpu_ms']:.2f}x")
            print(fmt2(cells))

    # issue 5's speed bars (all-MiniLM-L6-v2, seq 128, batch 1)
    if not args.ort_only:
        print()
        for m in models:
            for s in seqs:
                for b in batches:
                    get = {(x["precision"], x["threads"]): x for x in summary
                           if (x["model"], x["seq"], x["batch"]) == (m, s, b)}
                    for t in threads:
                        i8 = get.get(("int8", t))
                        f32 = get.get(("fp32", t))
                        key = "ratio_best_ort_over_edgebert" if args.fused else "ratio_ort_over_edgebert"
                        print(f"bar {m} seq {s} batch {b} threads {t}: int8 {i8[key]:.2f}x ORT int8 (bar >= 1.5x: "
                              f"{'met' if i8[key] >= 1.5 else 'NOT met'}); f32 {f32[key]:.2f}x ORT fp32 "
                              f"{'(faster graph) ' if args.fused else ''}(bar >= 1.0x: "
                              f"{'met' if f32[key] >= 1.0 else 'NOT met'})")
                    if 1 in threads and 2 in threads:
                        for prec in ("int8", "fp32"):
                            one = [x for x in runs if (x["model"], x["engine"], x["precision"], x["seq"], x["batch"],
                                                       x["threads"]) == (m, "edgebert", prec, s, b, 1)]
                            two = [x for x in runs if (x["model"], x["engine"], x["precision"], x["seq"], x["batch"],
                                                       x["threads"]) == (m, "edgebert", prec, s, b, 2)]
                            sp = statistics.median([a["p50_ms"] / c["p50_ms"] for a, c in zip(one, two)])
                            print(f"bar {m} seq {s} batch {b} edgebert {prec}: 2 threads {sp:.2f}x faster than 1 "
                                  f"(bar >= 1.7x: {'met' if sp >= 1.7 else 'NOT met'})")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "args": vars(args),
                       "runs": runs, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
