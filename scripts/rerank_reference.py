#!/usr/bin/env python3
"""Cross-encoder scores computed independently of edgebert, in numpy, for issue 19's rerank bar.

A one-label BertForSequenceClassification (random weights from `edgebert init`) reads each
(query, document) pair as transformers does: `[CLS] query [SEP] document [SEP]`, token types 0
then 1, the document cut when the pair exceeds max_position_embeddings (truncation="only_second");
BERT forward in float64 numpy from model.safetensors; score = sigmoid(logit), as
sentence-transformers' CrossEncoder gives for one label. Writes tests/data/rerank/expected.json,
which tests/rerank_cli.rs compares `edgebert rerank` with (1e-5, same order).

    edgebert init tests/data/rerank/config.json -o /tmp/cross --seed 19 \
        --tokenizer ../shared/assets/models/tiny-bert-pair-cls
    pip install numpy safetensors tokenizers
    python3 scripts/rerank_reference.py /tmp/cross > tests/data/rerank/expected.json
"""
import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

QUERY = "how do cats sleep during the day"
DOCUMENTS = [
    "Cats sleep for twelve to sixteen hours a day, mostly in short naps.",
    "The stock market fell sharply on Monday after the announcement.",
    "A cat curled up on the warm windowsill and slept all afternoon.",
    "",
    "Dogs, unlike cats, are often active during the day.",
    # Longer than the model's 128 positions: cut on the document side only.
    " ".join(["The history of domestic cats spans thousands of years across many cultures."] * 20),
    "sleep",
]


def layer_norm(x, p, name, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * p[name + ".weight"] + p[name + ".bias"]


def linear(x, p, name):
    return x @ p[name + ".weight"].T + p[name + ".bias"]


def logit(ids, types, p, cfg):
    eps, heads = cfg["layer_norm_eps"], cfg["num_attention_heads"]
    n = len(ids)
    x = p["bert.embeddings.word_embeddings.weight"][ids]
    x = x + p["bert.embeddings.position_embeddings.weight"][:n]
    x = x + p["bert.embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, p, "bert.embeddings.LayerNorm", eps)
    erf = np.vectorize(math.erf)
    for i in range(cfg["num_hidden_layers"]):
        pre = f"bert.encoder.layer.{i}."
        d = x.shape[1] // heads
        q, k, v = (linear(x, p, pre + f"attention.self.{t}").reshape(n, heads, d).transpose(1, 0, 2)
                   for t in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        ctx = (s / s.sum(-1, keepdims=True)) @ v
        ctx = ctx.transpose(1, 0, 2).reshape(n, heads * d)
        x = layer_norm(linear(ctx, p, pre + "attention.output.dense") + x, p, pre + "attention.output.LayerNorm", eps)
        h = linear(x, p, pre + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = layer_norm(linear(h, p, pre + "output.dense") + x, p, pre + "output.LayerNorm", eps)
    pooled = np.tanh(linear(x[:1], p, "bert.pooler.dense"))
    return float(linear(pooled, p, "classifier")[0, 0])


def main(model_dir):
    cfg = json.load(open(f"{model_dir}/config.json"))
    p = {k: v.astype(np.float64) for k, v in load_file(f"{model_dir}/model.safetensors").items()}
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.no_truncation()
    max_len = cfg["max_position_embeddings"]
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    q = tok.encode(QUERY, add_special_tokens=False).ids
    rows = []
    for doc in DOCUMENTS:
        d = tok.encode(doc, add_special_tokens=False).ids if doc else []
        if d:
            d = d[: max_len - len(q) - 3]
            ids = [cls] + q + [sep] + d + [sep]
            types = [0] * (len(q) + 2) + [1] * (len(d) + 1)
        else:  # an empty second text counts as none, as in transformers
            ids, types = [cls] + q + [sep], [0] * (len(q) + 2)
        z = logit(ids, types, p, cfg)
        rows.append({"document": doc, "tokens": len(ids), "logit": z, "score": 1.0 / (1.0 + math.exp(-z))})
    order = sorted(range(len(rows)), key=lambda i: (-rows[i]["score"], i))
    json.dump({"query": QUERY, "documents": rows, "order": order}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
