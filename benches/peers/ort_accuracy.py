#!/usr/bin/env python3
"""Accuracy of ONNX Runtime's int8 (quantize_dynamic, per channel) against its fp32 graph.

    python benches/peers/ort_accuracy.py --data DEV.tsv \
        [--classifier HFDIR ONNXDIR] [--embedder HFDIR ONNXDIR] [--batch 1] [--threads 1] [--json]

--classifier (e.g. minilm-l6-rt-sentiment): accuracy of fp32 and int8 against the labels,
the accuracy lost by int8, argmax agreement int8 vs fp32, max |logit| difference.
--embedder (e.g. all-MiniLM-L6-v2): cosine of int8 vs fp32 sentence embeddings, mean and min.

ONNXDIR holds model.onnx and model.int8.onnx as written by build_onnx.py. Text is tokenized
with the `tokenizers` package from HFDIR/tokenizer.json, truncated to the model's limit (512,
or max_seq_length from sentence_bert_config.json: 256 for all-MiniLM-L6-v2).
By default each sentence runs alone (--batch 1, no padding). ORT's dynamic quantization picks
one activation scale per tensor (DynamicQuantizeLinear over the whole [batch, seq, hidden]
input), so with --batch N > 1 (consecutive sentences, zero-padded, masked) the int8 results
depend on the batch's other rows and its padding; fp32 results do not.
DEV.tsv: a header line, then label<TAB>text.
"""
import argparse
import json
import os

import numpy as np

from ort_bench import session


def read_tsv(path):
    labels, texts = [], []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        li, ti = header.index("label"), header.index("text")
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) <= max(li, ti):
                continue
            labels.append(int(parts[li]))
            texts.append(parts[ti])
    return np.array(labels), texts


def tokenize(hfdir, texts):
    from tokenizers import Tokenizer

    max_len = 512
    sb = os.path.join(hfdir, "sentence_bert_config.json")
    if os.path.exists(sb):
        max_len = int(json.load(open(sb)).get("max_seq_length", max_len))
    tok = Tokenizer.from_file(os.path.join(hfdir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_len)
    return [(np.array(e.ids, np.int64), np.array(e.type_ids, np.int64)) for e in tok.encode_batch(texts)]


def run_all(path, encoded, output, threads, batch=1):
    sess = session(path, threads)
    out = []
    for start in range(0, len(encoded), batch):
        chunk = encoded[start:start + batch]
        n = max(len(ids) for ids, _ in chunk)
        ids = np.zeros((len(chunk), n), np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for j, (i, t) in enumerate(chunk):
            ids[j, : len(i)], types[j, : len(t)], mask[j, : len(i)] = i, t, 1
        out.append(sess.run([output], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0])
    return np.concatenate(out)


def classifier(hfdir, onnxdir, labels, texts, threads, batch):
    enc = tokenize(hfdir, texts)
    f32 = run_all(os.path.join(onnxdir, "model.onnx"), enc, "logits", threads, batch)
    i8 = run_all(os.path.join(onnxdir, "model.int8.onnx"), enc, "logits", threads, batch)
    a32, a8 = f32.argmax(1), i8.argmax(1)
    return {
        "model": os.path.basename(os.path.normpath(hfdir)), "n": int(len(labels)), "batch": batch,
        "accuracy_fp32": float((a32 == labels).mean()), "accuracy_int8": float((a8 == labels).mean()),
        "accuracy_lost_points": float(((a32 == labels).mean() - (a8 == labels).mean()) * 100),
        "agreement_int8_fp32": float((a32 == a8).mean()),
        "max_abs_logit_diff": float(np.abs(f32 - i8).max()),
    }


def embedder(hfdir, onnxdir, texts, threads, batch):
    enc = tokenize(hfdir, texts)
    f32 = run_all(os.path.join(onnxdir, "model.onnx"), enc, "sentence_embedding", threads, batch)
    i8 = run_all(os.path.join(onnxdir, "model.int8.onnx"), enc, "sentence_embedding", threads, batch)
    cos = (f32 * i8).sum(1) / (np.linalg.norm(f32, axis=1) * np.linalg.norm(i8, axis=1))
    return {"model": os.path.basename(os.path.normpath(hfdir)), "n": int(len(texts)), "batch": batch,
            "cosine_int8_fp32_mean": float(cos.mean()), "cosine_int8_fp32_min": float(cos.min()),
            "cosine_int8_fp32_p01": float(np.percentile(cos, 1))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--classifier", nargs=2, metavar=("HFDIR", "ONNXDIR"))
    ap.add_argument("--embedder", nargs=2, metavar=("HFDIR", "ONNXDIR"))
    ap.add_argument("--batch", type=int, default=1, help="sentences per run (zero-padded); default 1")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    labels, texts = read_tsv(args.data)
    results = []
    if args.classifier:
        results.append(classifier(*args.classifier, labels, texts, args.threads, args.batch))
    if args.embedder:
        results.append(embedder(*args.embedder, texts, args.threads, args.batch))
    for r in results:
        if args.json:
            print(json.dumps(r))
        elif "accuracy_fp32" in r:
            print(f"{r['model']} on {r['n']} sentences (batch {r['batch']}): accuracy fp32 {r['accuracy_fp32']:.4f}, "
                  f"int8 {r['accuracy_int8']:.4f} (int8 loses {r['accuracy_lost_points']:.2f} point); "
                  f"argmax agreement int8/fp32 {r['agreement_int8_fp32'] * 100:.2f}%; "
                  f"max |logit diff| {r['max_abs_logit_diff']:.4f}")
        else:
            print(f"{r['model']} on {r['n']} sentences (batch {r['batch']}): cosine int8 vs fp32 embeddings "
                  f"mean {r['cosine_int8_fp32_mean']:.4f}, min {r['cosine_int8_fp32_min']:.4f} "
                  f"(1st percentile {r['cosine_int8_fp32_p01']:.4f})")


if __name__ == "__main__":
    main()
