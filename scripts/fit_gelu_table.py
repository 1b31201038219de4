#!/usr/bin/env python3
"""Fits the piecewise polynomial of the AVX-512 GELU (kernels/src/arch/x86/avx512/gelu.rs).

    python3 scripts/fit_gelu_table.py   # prints the Rust table and the measured error

Phi(x) = (1 + erf(x / sqrt 2)) / 2 on [LO, HI] is cut into N = 30 intervals of width h; on each
a degree-4 polynomial in t = (x - a) / h, t in [0, 1], is fitted near-minimax (Lawson-weighted
least squares at Chebyshev points). Entry 30 is the constant 1 (x past HI: 1 - Phi < 2e-8) and
entry 31 the constant 0 (x below LO: |GELU| < 3e-8), so with the cell clamped to [-1, 30] (-1
wraps to 31 in vpermt2ps' 5-bit index) GELU(x) = x * Phi(x) needs no blend. The error is
measured by evaluating exactly as the kernel does in f32 (cell from one FMA, Horner by FMA),
relative to max(1, |GELU|), over [-8, 8]. Needs numpy.
"""
from math import erf, sqrt

import numpy as np

LO, HI, N, DEG = -5.75, 5.5, 30, 4


def phi(x):
    return 0.5 * (1 + np.vectorize(erf)(x / sqrt(2)))


def fit():
    h = (HI - LO) / N
    coef = np.zeros((N, DEG + 1))
    t = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, 400))
    a = np.vstack([t**k for k in range(DEG + 1)]).T
    for i in range(N):
        y = phi(LO + i * h + t * h)
        w = np.ones_like(t)
        for _ in range(100):
            sw = np.sqrt(w)
            c, *_ = np.linalg.lstsq(a * sw[:, None], y * sw, rcond=None)
            w = w * (np.abs(a @ c - y) + 1e-30)
            w /= w.sum()
        coef[i] = c
    saturated = np.zeros((2, DEG + 1))
    saturated[0, 0] = 1.0
    return np.vstack([coef, saturated]).astype(np.float32)


def measure(c):
    h = (HI - LO) / N
    x = np.linspace(-8, 8, 400001).astype(np.float32)
    fma = lambda a, b, d: (a.astype(np.float64) * b + d).astype(np.float32)
    u = fma(x, np.float32(1 / h), np.float32(-LO / h))
    u = np.minimum(np.maximum(u, np.float32(-1)), np.float32(N))
    cell = np.floor(u)
    t = (u - cell).astype(np.float32)
    i = cell.astype(np.int64) & 31
    p = c[i, DEG].copy()
    for k in range(DEG - 1, -1, -1):
        p = fma(p, t, c[i, k])
    g = (x * p).astype(np.float32)
    ref = x.astype(np.float64) * phi(x.astype(np.float64))
    err = np.abs(g - ref) / np.maximum(1, np.abs(ref))
    return err.max(), x[err.argmax()]


def rust_f32(v):
    """The shortest literal that reads back as `v` in Rust (`1.0e0`, not numpy's `1.e0`)."""
    mantissa, exponent = np.format_float_scientific(v, unique=True, exp_digits=1).split("e")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}e{int(exponent)}"


def main():
    c = fit()
    print(f"// LO = {LO}, HI = {HI}, {N} intervals, degree {DEG}; row k = coefficient of t^k.")
    print(f"const GELU_TABLE: [[f32; {N + 2}]; {DEG + 1}] = [")
    for k in range(DEG + 1):
        vals = ", ".join(rust_f32(v) for v in c[:, k])
        print(f"    [{vals}],")
    print("];")
    err, at = measure(c)
    print(f"// max error relative to max(1, |GELU|): {err:.3e} at x = {at}")


if __name__ == "__main__":
    main()
