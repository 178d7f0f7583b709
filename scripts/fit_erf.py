#!/usr/bin/python3
"""Fits the coefficients of FloatErf (Tensorlet.Kernels/Cpu/FloatErf.cs), the float32 erf of the GELU kernels.

Run:  /usr/bin/python3 scripts/fit_erf.py        (prints the C# constants; needs numpy and mpmath)

Two pieces, split at |x| = 0.875 (exact in binary, so |x| - 0.875 is exact in float32):
  |x| < 0.875:  erf(x) = x + x*S(x^2), S of degree 5, minimax in the relative error of erf;
  |x| >= 0.875: erf(|x|) = 1 - exp(L(|x| - 0.875)), L of degree 6 fitted to log(erfc) on [0.875, 4], minimax in
                the absolute error of erf, which is erfc times the error of L. Beyond 4, erf is 1 in float32.
The minimax fits are Lawson's iteratively reweighted least squares on 4000 points, in float64 against mpmath's erf
at 40 digits; the same run prints the same coefficients. The float32 errors, rounding included, are measured by
Tensorlet.Tests/Kernels/ErfTests.cs.
"""
import mpmath as mp
import numpy as np

SPLIT, SATURATION = 0.875, 4.0
mp.mp.dps = 40


def minimax(a, y, iterations=400):
    """c minimising max |a c - y| (Lawson): least squares, each point's weight multiplied by its error, repeated."""
    weights = np.full(len(y), 1.0 / len(y))
    for _ in range(iterations):
        root = np.sqrt(weights)
        c = np.linalg.lstsq(a * root[:, None], y * root, rcond=None)[0]
        weights *= np.abs(a @ c - y)
        weights /= weights.sum()
    return c, np.max(np.abs(a @ c - y))


def small(degree=5):
    x = np.linspace(1e-4, SPLIT, 4000)
    g = np.array([float(mp.erf(v) / v) for v in x])  # erf(x)/x = 1 + S(x^2)
    a = np.stack([x ** (2 * k) for k in range(degree + 1)], axis=1)
    return minimax(a / g[:, None], (g - 1) / g)  # (x + x S - erf)/erf


def large(degree=6):
    t = np.linspace(SPLIT, SATURATION, 4000)
    erfc = np.array([float(mp.erfc(v)) for v in t])
    log_erfc = np.array([float(mp.log(mp.erfc(v))) for v in t])
    a = np.stack([(t - SPLIT) ** k for k in range(degree + 1)], axis=1)
    return minimax(a * erfc[:, None], log_erfc * erfc)  # erf error = erfc * (L - log erfc)


def main():
    for name, (coefficients, error), what in [("S", small(), "relative"), ("L", large(), "absolute")]:
        print(f"// {name}: {what} error of the fit {error:.2e} (before rounding to float)")
        for k, c in enumerate(coefficients):
            print(f"internal const float {name}{k} = {np.float32(c):.9e}f;")


if __name__ == "__main__":
    main()
