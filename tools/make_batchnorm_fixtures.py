#!/usr/bin/python3
"""Writes tests/fixtures/torch_batchnorm.json: what torch.nn.BatchNorm2d computes, for
tests/test_batchnorm.cpp.

Run by hand, not at test time:  /usr/bin/python3 tools/make_batchnorm_fixtures.py

Each case builds one BatchNorm2d with float32-exact weight, bias and starting running statistics
(random, so the momentum update is checked from values other than PyTorch's 0 and 1), then
  steps:  3 training forwards on fresh inputs; each records its output and the running_mean and
          running_var after it; the last one is followed by backward(grad_output): grad_input,
          grad_params (weight, bias; the gradients of that one backward);
  eval:   a forward in eval mode (running statistics) and its backward, with fresh gradients.
As in tools/make_torch_fixtures.py, inputs and parameters are float32 values, the references are
computed by torch in float64 and rounded to float32, and "torch_float32_max_diff" says how far
torch's own float32 run lies from them (the test's metric).
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import OUT_DIR, metric, randn, render  # noqa: E402

SEED = 2024

# (name, N, C, H, W, affine, eps, momentum, input offset)
SPECS = [
    ("affine_4x3x5x6", 4, 3, 5, 6, True, 1e-5, 0.1, 0.0),
    ("n1_hw12", 1, 2, 3, 4, True, 1e-5, 0.1, 0.0),
    ("c1", 5, 1, 2, 3, True, 1e-5, 0.1, 0.0),
    ("hw1_n3", 3, 4, 1, 1, True, 1e-5, 0.1, 0.0),
    ("no_affine", 2, 3, 4, 4, False, 1e-5, 0.1, 0.0),
    ("eps1e-3_momentum0.3", 3, 2, 3, 5, True, 1e-3, 0.3, 0.0),
    # Values around 1000 with spread ~1: E[x^2] - E[x]^2 in float32 would lose everything here.
    ("mean_1000", 4, 2, 4, 4, True, 1e-5, 0.1, 1000.0),
]


def run(spec, init, inputs, eval_input, grad_out, eval_grad_out, dtype):
    name, n, c, h, w, affine, eps, momentum, offset = spec
    m = nn.BatchNorm2d(c, eps=eps, momentum=momentum, affine=affine).to(dtype)
    with torch.no_grad():
        for k, v in init.items():
            getattr(m, k).copy_(v.to(dtype))
    m.train()
    steps = []
    for i, x in enumerate(inputs):
        x = x.to(dtype).clone().requires_grad_(True)
        y = m(x)
        step = {"input": inputs[i], "output": y.detach().clone(),
                "running_mean": m.running_mean.detach().clone(), "running_var": m.running_var.detach().clone()}
        if i == len(inputs) - 1:
            y.backward(grad_out.to(dtype))
            step["grad_output"] = grad_out
            step["grad_input"] = x.grad.detach().clone()
            step["grad_params"] = {k: p.grad.detach().clone() for k, p in m.named_parameters()}
        steps.append(step)
    m.eval()
    m.zero_grad()
    x = eval_input.to(dtype).clone().requires_grad_(True)
    y = m(x)
    y.backward(eval_grad_out.to(dtype))
    ev = {"input": eval_input, "output": y.detach().clone(), "grad_output": eval_grad_out,
          "grad_input": x.grad.detach().clone(),
          "grad_params": {k: p.grad.detach().clone() for k, p in m.named_parameters()}}
    # The running statistics must not move in eval mode.
    assert torch.equal(m.running_mean, steps[-1]["running_mean"])
    return steps, ev


def tensors_of(steps, ev):
    out = []
    for s in steps + [ev]:
        for k, v in s.items():
            if k in ("input", "grad_output"):
                continue
            out += list(v.values()) if isinstance(v, dict) else [v]
    return out


def case(spec, gen):
    name, n, c, h, w, affine, eps, momentum, offset = spec
    init = {"running_mean": torch.empty(c).uniform_(-0.5, 0.5, generator=gen),
            "running_var": torch.empty(c).uniform_(0.5, 2.0, generator=gen)}
    if affine:
        init["weight"] = torch.empty(c).uniform_(0.5, 1.5, generator=gen)
        init["bias"] = torch.empty(c).uniform_(-0.5, 0.5, generator=gen)
    # A different scale and shift per channel, so each channel's statistics differ.
    scale = torch.empty(1, c, 1, 1).uniform_(0.5, 3.0, generator=gen)
    shift = torch.empty(1, c, 1, 1).uniform_(-1.0, 1.0, generator=gen) + offset
    inputs = [(randn(n, c, h, w, gen=gen) * scale + shift).to(torch.float32) for _ in range(3)]
    eval_input = (randn(n, c, h, w, gen=gen) * scale + shift).to(torch.float32)
    grad_out = randn(n, c, h, w, gen=gen)
    eval_grad_out = randn(n, c, h, w, gen=gen)

    steps, ev = run(spec, init, inputs, eval_input, grad_out, eval_grad_out, torch.float64)
    steps32, ev32 = run(spec, init, inputs, eval_input, grad_out, eval_grad_out, torch.float32)
    torch_diff = max(metric(a, b) for a, b in zip(tensors_of(steps32, ev32), tensors_of(steps, ev)))
    print("  %-24s torch float32 vs float64: %.3g" % (name, torch_diff))
    return {"name": name, "num_features": c, "affine": affine, "eps": eps, "momentum": momentum,
            "init": init, "steps": steps, "eval": ev, "torch_float32_max_diff": float("%.3g" % torch_diff)}


def main():
    if not torch.__version__.startswith("1.13"):
        print("warning: fixtures were made with torch 1.13, this is %s" % torch.__version__, file=sys.stderr)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(SEED)
    doc = {"generator": "tools/make_batchnorm_fixtures.py", "torch_version": torch.__version__,
           "reference": "torch float64 on float32 inputs, rounded to float32",
           "cases": [case(s, gen) for s in SPECS]}
    path = os.path.join(OUT_DIR, "torch_batchnorm.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(render(doc) + "\n")
    os.replace(tmp, path)
    print("wrote %s (%d bytes)" % (os.path.relpath(path), os.path.getsize(path)))


if __name__ == "__main__":
    main()
