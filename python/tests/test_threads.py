"""One model, several Python threads: the GIL is released, results do not change. (Speed is
measured by python/benches/threads.py, not here.)"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import edgebert


@pytest.mark.parametrize("threads", [None, 1, 2])
def test_two_threads_on_one_model_give_the_same_bits(minilm, golden, threads):
    m = edgebert.Model(minilm, threads=threads)
    texts = golden["sentences"]
    alone = m.embed(texts)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda i: m.embed(texts[i % 3 :] + texts[: i % 3]), range(8)))
    for i, r in enumerate(results):
        shift = i % 3
        assert np.array_equal(r.view(np.uint32), np.roll(alone, -shift, axis=0).view(np.uint32))


def test_threads_mix_tasks_and_models(sentiment, minilm):
    a, b = edgebert.Model(sentiment, threads=1), edgebert.Model(minilm)
    texts = ["A gem of a film.", "Dull and long."] * 8
    want_a, want_b = a.classify(texts), b.embed(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(a.classify, texts) if i % 2 else pool.submit(b.embed, texts) for i in range(8)]
        for i, f in enumerate(futures):
            got = f.result()
            if i % 2:
                assert got == want_a
            else:
                assert np.array_equal(got, want_b)


def test_the_gil_is_released_during_a_call(minilm):
    """While one thread is inside embed, another runs Python code: with the GIL held for the
    whole call, no tick of the main loop could fall inside the call's window."""
    import threading
    import time

    m = edgebert.Model(minilm, threads=1)
    texts = ["A long enough sentence to keep the encoder busy for a while, again and again."] * 64
    window = []

    def call() -> None:
        start = time.perf_counter()
        m.embed(texts)
        window.append((start, time.perf_counter()))

    worker = threading.Thread(target=call)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    ((start, end),) = window
    inside = sum(start < t < end for t in ticks)
    assert inside > 100, f"only {inside} main-thread ticks during a {end - start:.3f} s call"
