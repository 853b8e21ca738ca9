#!/usr/bin/python3
"""Fixtures for tests/test_part2.cpp: what PyTorch's conv2d gives on the course's part-2 data.

Writes, under tests/fixtures/:
  conv2d_torch_samples_0.npy  float64 (1, 8, 25, 25): torch.nn.functional.conv2d(samples_0, kernel)[:1]
  conv2d_torch_moments.npy    float64 (10, 5, 8, 3): for samples_0..9, per image and output channel,
                              the sum, the sum of squares and the position-weighted sum
                              sum_{i,j} (1 + i * 25 + j) * out[i, j] of the output plane
(the full outputs of all ten files would be 2 MB; the moments pin them down in 10 kB).

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_conv_fixtures.py [DATA_DIR]
DATA_DIR defaults to ../shared/data/hw1 next to the repository.
"""
import os
import sys

import numpy as np
import torch

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "data", "hw1")
out_dir = os.path.join(root, "tests", "fixtures")

kernel = torch.from_numpy(np.load(os.path.join(data, "kernel.npy")))  # float64 (8, 1, 4, 4)
moments = []
for x in range(10):
    samples = np.load(os.path.join(data, f"samples_{x}.npy"))  # uint8 (5, 1, 28, 28)
    out = torch.nn.functional.conv2d(torch.from_numpy(samples.astype(np.float64)), kernel).numpy()
    if x == 0:
        np.save(os.path.join(out_dir, "conv2d_torch_samples_0.npy"), out[:1])
    weight = 1.0 + np.arange(out.shape[2] * out.shape[3], dtype=np.float64).reshape(out.shape[2:])
    moments.append(np.stack([out.sum(axis=(2, 3)), (out * out).sum(axis=(2, 3)),
                             (out * weight).sum(axis=(2, 3))], axis=-1))
np.save(os.path.join(out_dir, "conv2d_torch_moments.npy"), np.stack(moments))
print("wrote", out_dir, "torch", torch.__version__)
