#!/usr/bin/python3
"""Writes the PyTorch reference tensors that tests/test_layers_extra.cpp compares ann's LeakyReLU,
AvgPool2d, AdaptiveAvgPool2d and Dropout against.

Run by hand, not at test time (the tests only read the committed JSON):
    /usr/bin/python3 tools/make_layer_fixtures.py          # Debian's python3-torch (1.13)

Conventions as in tools/make_torch_fixtures.py (whose helpers this imports): float32 inputs,
references computed by torch in float64 and rounded to float32, torch float32's own distance to
them recorded per case.

Pools: each case also records the most values any output sums ("forward_terms") and the most
windows any input lies in ("backward_terms"), counted here by brute force from PyTorch's window
rules, for the test's rounding-error bound.

Dropout: PyTorch cannot draw ann's masks, so this script recomputes ann's counter-based hash
(include/ann/backend/dropout_hash.hpp) independently in Python integers, and torch computes
y = x * noise and dx = dy * noise with noise = mask / (1 - p) (PyTorch's own formula, 0 for p = 1)
for the first two training forwards (k = 0, 1) of a layer with a given seed.

Output: tests/fixtures/torch_layers_extra.json
"""
import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import layer_case, metric, randn, write  # noqa: E402

SEED = 1871


def leaky_relu_cases(gen):
    x4 = randn(2, 3, 4, 5, scale=3.0, gen=gen)
    # PyTorch's rule at zero (the slope, for +0 and -0 alike) and large magnitudes.
    x4.view(-1)[:6] = torch.tensor([0.0, -0.0, 0.0, 1e30, -1e30, -3e-38])
    x2 = randn(5, 7, gen=gen)
    x2.view(-1)[:2] = torch.tensor([0.0, -0.0])
    cases = []
    for name, slope, x in (("leaky_relu_default", None, x4), ("leaky_relu_0.2", 0.2, x4),
                           ("leaky_relu_negative_slope", -0.5, x4), ("leaky_relu_2d_slope_3", 3.0, x2)):
        make = (lambda: nn.LeakyReLU()) if slope is None else (lambda s=slope: nn.LeakyReLU(s))
        cases.append(layer_case(name, make, x, gen, {"negative_slope": 0.01 if slope is None else slope}))
    return cases


def fixed_window(o, n, k, s, p):
    start = o * s - p
    return max(start, 0), min(start + k, n)


def adaptive_window(o, n, out):
    return (o * n) // out, -((-(o + 1) * n) // out)


def terms(windows_h, windows_w, H, W):
    """Most values one output sums, most windows one input lies in."""
    fwd = max((h1 - h0) * (w1 - w0) for h0, h1 in windows_h for w0, w1 in windows_w)
    cover_h = [sum(1 for a, b in windows_h if a <= i < b) for i in range(H)]
    cover_w = [sum(1 for a, b in windows_w if a <= j < b) for j in range(W)]
    return fwd, max(cover_h) * max(cover_w)


def avgpool_cases(gen):
    # (name, N, C, H, W, k, stride, padding)
    specs = [("avgpool_k2", 2, 3, 6, 6, 2, None, 0), ("avgpool_k3_s2_p1", 2, 2, 7, 9, 3, 2, 1),
             ("avgpool_k3_s1_p1", 1, 2, 5, 5, 3, 1, 1), ("avgpool_k2_s1_overlap", 2, 2, 5, 4, 2, 1, 0),
             ("avgpool_k3_floor", 1, 3, 7, 8, 3, None, 0), ("avgpool_k4_s2_p2", 2, 1, 6, 5, 4, 2, 2)]
    cases = []
    for name, n, c, h, w, k, s, p in specs:
        x = randn(n, c, h, w, gen=gen)
        stride = k if s is None else s
        oh, ow = (h + 2 * p - k) // stride + 1, (w + 2 * p - k) // stride + 1
        fwd, bwd = terms([fixed_window(o, h, k, stride, p) for o in range(oh)],
                         [fixed_window(o, w, k, stride, p) for o in range(ow)], h, w)
        make = (lambda: nn.AvgPool2d(k, padding=p)) if s is None else (lambda: nn.AvgPool2d(k, s, p))
        case = layer_case(name, make, x, gen, {"kernel_size": k, "stride": 0 if s is None else s, "padding": p,
                                               "forward_terms": fwd, "backward_terms": bwd})
        assert list(case["output"].shape) == [n, c, oh, ow]
        cases.append(case)
    return cases


def adaptive_cases(gen):
    # (name, N, C, H, W, output_size)
    specs = [("adaptive_1", 2, 3, 5, 7, 1), ("adaptive_2x3", 2, 2, 5, 7, (2, 3)),
             ("adaptive_3_overlap", 1, 2, 7, 7, 3), ("adaptive_4x5_upsample", 2, 1, 3, 2, (4, 5)),
             ("adaptive_2_even", 1, 2, 6, 6, 2)]
    cases = []
    for name, n, c, h, w, size in specs:
        x = randn(n, c, h, w, gen=gen)
        oh, ow = (size, size) if isinstance(size, int) else size
        fwd, bwd = terms([adaptive_window(o, h, oh) for o in range(oh)], [adaptive_window(o, w, ow) for o in range(ow)],
                         h, w)
        case = layer_case(name, lambda: nn.AdaptiveAvgPool2d(size), x, gen,
                          {"output_size": size if isinstance(size, int) else list(size),
                           "forward_terms": fwd, "backward_terms": bwd})
        assert list(case["output"].shape) == [n, c, oh, ow]
        cases.append(case)
    return cases


# ---- ann's dropout hash, written again from its specification (dropout_hash.hpp) ----
M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def dropout_mask(seed, k, n, p):
    keep_below = int((1.0 - p) * 2.0 ** 53)  # exact: scaling by a power of two, then floor
    key = mix((seed + (k + 1) * GOLDEN) & M64)
    return torch.tensor([1.0 if (mix((key + (i + 1) * GOLDEN) & M64) >> 11) < keep_below else 0.0
                         for i in range(n)], dtype=torch.float64)


def dropout_cases(gen):
    seed = 0x0123456789ABCDEF
    cases = []
    for name, p, shape in (("dropout_0.5", 0.5, (4, 3, 5, 7)), ("dropout_0.2", 0.2, (6, 50)),
                           ("dropout_0.9", 0.9, (3, 4, 4)), ("dropout_0", 0.0, (2, 9)), ("dropout_1", 1.0, (2, 9))):
        n = math.prod(shape)
        forwards = []
        for k in (0, 1):
            x = randn(*shape, gen=gen)
            dy = randn(*shape, gen=gen)
            mask = dropout_mask(seed, k, n, p).reshape(shape)

            def run(dtype):
                # PyTorch's dropout: noise = bernoulli(1 - p) / (1 - p); y = x * noise (p = 1: x * 0).
                noise = torch.zeros(shape, dtype=dtype) if p == 1.0 else mask.to(dtype, copy=True).div_(1.0 - p)
                xx = x.to(dtype).clone().requires_grad_(True)
                y = xx * noise
                y.backward(dy.to(dtype))
                return y.detach(), xx.grad.detach()

            y, dx = run(torch.float64)
            y32, dx32 = run(torch.float32)
            forwards.append({"k": k, "input": x, "mask": [int(v) for v in mask.reshape(-1).tolist()],
                             "output": y, "grad_output": dy, "grad_input": dx,
                             "torch_float32_max_diff": float("%.3g" % max(metric(y32, y), metric(dx32, dx)))})
        kept = sum(sum(f["mask"]) for f in forwards) / (2 * n)
        print("  %-28s kept %.3f (1-p = %.3f)" % (name, kept, 1 - p))
        cases.append({"name": name, "p": p, "seed": str(seed), "forwards": forwards})
    return cases


def main():
    if not torch.__version__.startswith("1.13"):
        print("warning: fixtures were made with torch 1.13, this is %s" % torch.__version__, file=sys.stderr)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(SEED)
    cases = leaky_relu_cases(gen) + avgpool_cases(gen) + adaptive_cases(gen)
    write("layers_extra", cases, {"generator": "tools/make_layer_fixtures.py", "dropout": dropout_cases(gen)})


if __name__ == "__main__":
    main()
