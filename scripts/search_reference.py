#!/usr/bin/env python3
"""Brute-force top-10 for issue 19's search bar, in numpy, independently of edgebert.

Builds the synthetic corpus of engine/tests/search_corpus (100,000 x 384 float32 values
`(splitmix64(i) >> 40) / 2**24 - 0.5`, then 8 queries after it), computes every cosine in
float64 and writes the 10 best rows per query (ties by row) to engine/tests/data/search_top10.json,
which engine/tests/search_exact.rs compares edgebert's search with. CI's Python has no numpy: the
output is checked in; regenerate with

    pip install numpy
    python3 scripts/search_reference.py > engine/tests/data/search_top10.json
"""
import json
import sys

import numpy as np

ROWS, DIM, QUERIES, TOP = 100_000, 384, 8, 10
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(i):
    with np.errstate(over="ignore"):
        z = (i + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def values(first, count):
    i = np.arange(first, first + count, dtype=np.uint64)
    return ((splitmix64(i) >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24) - np.float32(0.5)).astype(np.float32)


def main():
    corpus = values(0, ROWS * DIM).reshape(ROWS, DIM).astype(np.float64)
    queries = values(ROWS * DIM, QUERIES * DIM).reshape(QUERIES, DIM).astype(np.float64)
    corpus /= np.linalg.norm(corpus, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    scores = queries @ corpus.T
    out = []
    for q in range(QUERIES):
        order = np.lexsort((np.arange(ROWS), -scores[q]))[:TOP]
        out.append({"rows": order.tolist(), "scores": scores[q, order].tolist()})
    json.dump({"rows": ROWS, "dim": DIM, "top": out, "first_values": values(0, 4).tolist()}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
