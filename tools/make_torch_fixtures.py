#!/usr/bin/python3
"""Writes the PyTorch reference tensors that tests/test_torch_agreement.cpp compares ann against.

Run by hand, not at test time (the tests only read the committed JSON):
    /usr/bin/python3 tools/make_torch_fixtures.py          # Debian's python3-torch (1.13)

Every input and parameter is drawn in float32, so ann's float32 layers see exactly the same
numbers. The references are then computed by torch in float64 from those float32 values and
rounded to float32: they carry no float32 rounding error of their own, so the test measures
ann's error alone. For each case the file also records how far torch's own float32 computation
lies from the same reference ("torch_float32_max_diff", in the test's metric), so that ann's
differences can be quoted next to torch's.

Tensors are {"shape": [...], "data": [flat row-major, float32 printed with 9 significant digits]}.
Output: tests/fixtures/torch_{linear,conv2d,maxpool2d,activations,cross_entropy,optim,init}.json
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
SEED = 449


def f32_str(t):
    """A float32 scalar tensor at 9 significant digits."""
    return "%.9g" % t.to(torch.float32).item()


def tensor_json(t):
    """Tensor -> JSON text with float32 values at 9 significant digits (exact round trip)."""
    t = t.detach().to(torch.float32).contiguous()
    shape = list(t.shape)
    data = ", ".join("%.9g" % v for v in t.reshape(-1).tolist())
    return '{"shape": %s, "data": [%s]}' % (json.dumps(shape), data)


class Raw:
    """Pre-rendered JSON text, so tensors keep their 9-digit form inside json.dumps output."""

    def __init__(self, text):
        self.text = text


def render(obj, indent=0):
    pad = "  " * indent
    if isinstance(obj, Raw):
        return obj.text
    if isinstance(obj, torch.Tensor):
        return tensor_json(obj)
    if isinstance(obj, dict):
        items = ['%s  %s: %s' % (pad, json.dumps(k), render(v, indent + 1)) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, torch.Tensor, Raw)) for v in obj):
        return "[\n" + ",\n".join(pad + "  " + render(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def write(name, cases, extra=None):
    doc = {
        "generator": "tools/make_torch_fixtures.py",
        "torch_version": torch.__version__,
        "reference": "torch float64 on float32 inputs, rounded to float32",
    }
    doc.update(extra or {})
    doc["cases"] = cases
    path = os.path.join(OUT_DIR, "torch_%s.json" % name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(render(doc) + "\n")
    os.replace(tmp, path)
    print("wrote %s (%d bytes)" % (os.path.relpath(path), os.path.getsize(path)))


def metric(ours, ref):
    """The test's metric: max |a - r| / max(1, |r|) (absolute up to 1, relative beyond)."""
    ours = ours.detach().double()
    ref = ref.detach().to(torch.float32).double()
    return float(((ours - ref).abs() / ref.abs().clamp(min=1.0)).max()) if ref.numel() else 0.0


def randn(*shape, scale=1.0, gen=None):
    return (torch.randn(*shape, generator=gen, dtype=torch.float32) * scale).to(torch.float32)


def run_module(module, x, dy):
    """Forward + backward with an explicit upstream gradient; returns output and all gradients."""
    x = x.clone().requires_grad_(True)
    y = module(x)
    y.backward(dy)
    grads = {name: p.grad.clone() for name, p in module.named_parameters()}
    return y.detach(), x.grad.detach(), grads


def layer_case(name, make_module, x, gen, config):
    """One layer fixture: torch float64 reference plus torch float32's own distance to it."""
    m32 = make_module()
    with torch.no_grad():  # parameters drawn from the seeded generator, float32-exact
        for p in m32.parameters():
            p.copy_(torch.empty_like(p).uniform_(-0.5, 0.5, generator=gen))
    params = {n: p.detach().clone() for n, p in m32.named_parameters()}
    y32_shape = m32(x).shape
    dy = randn(*y32_shape, gen=gen)

    m64 = make_module().double()
    with torch.no_grad():
        for n, p in m64.named_parameters():
            p.copy_(params[n].double())
    y, dx, dparams = run_module(m64, x.double(), dy.double())
    y_32, dx_32, dparams_32 = run_module(m32, x, dy)

    torch_diff = max([metric(y_32, y), metric(dx_32, dx)] + [metric(dparams_32[n], dparams[n]) for n in dparams])
    case = {"name": name}
    case.update(config)
    case.update({
        "input": x,
        "params": params,
        "output": y,
        "grad_output": dy,
        "grad_input": dx,
        "grad_params": dparams,
        "torch_float32_max_diff": float("%.3g" % torch_diff),
    })
    print("  %-28s torch float32 vs float64: %.3g" % (name, torch_diff))
    return case


def linear_cases(gen):
    cases = []
    for bias in (True, False):
        n, fin, fout = 5, 7, 4
        x = randn(n, fin, gen=gen)
        cases.append(layer_case("linear_bias" if bias else "linear_nobias",
                                lambda: nn.Linear(fin, fout, bias=bias), x, gen,
                                {"in_features": fin, "out_features": fout, "bias": bias}))
    return cases


def conv_cases(gen):
    # (name, N, C, H, W, O, k, stride, pad, bias)
    specs = [
        ("conv_s1_p0", 2, 3, 6, 6, 4, 3, 1, 0, True),
        ("conv_s2_p1", 2, 3, 7, 7, 4, 3, 2, 1, True),
        ("conv_nonsquare_s1_p1", 2, 2, 5, 8, 3, 3, 1, 1, True),
        ("conv_nonsquare_s2_p0", 2, 2, 6, 9, 3, 3, 2, 0, True),
        ("conv_k5", 2, 3, 10, 10, 4, 5, 1, 0, True),
        ("conv_k5_s2_p2_nobias", 1, 2, 9, 11, 3, 5, 2, 2, False),
    ]
    cases = []
    for name, n, c, h, w, o, k, s, p, bias in specs:
        x = randn(n, c, h, w, gen=gen)
        cases.append(layer_case(name, lambda: nn.Conv2d(c, o, k, stride=s, padding=p, bias=bias), x, gen,
                                {"in_channels": c, "out_channels": o, "kernel_size": k, "stride": s,
                                 "padding": p, "bias": bias}))
    return cases


def maxpool_cases(gen):
    specs = [("maxpool_k2_s2", 2, 3, 6, 6, 2, 2), ("maxpool_k2_s2_odd", 2, 2, 7, 5, 2, 2),
             ("maxpool_k3_s2", 2, 2, 7, 9, 3, 2)]
    cases = []
    for name, n, c, h, w, k, s in specs:
        x = randn(n, c, h, w, gen=gen)
        cases.append(layer_case(name, lambda: nn.MaxPool2d(k, s), x, gen, {"kernel_size": k, "stride": s}))
    return cases


def activation_cases(gen):
    x = randn(2, 3, 4, 5, scale=3.0, gen=gen)
    # A few saturating values: the stable sigmoid branch and tanh's flat tails.
    x.view(-1)[:6] = torch.tensor([-50.0, -20.0, -9.5, 9.5, 20.0, 50.0])
    cases = []
    for name, make in (("relu", nn.ReLU), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh)):
        cases.append(layer_case(name, make, x, gen, {"activation": name}))
    return cases


def ce_case(name, logits, targets):
    def run(z):
        z = z.clone().requires_grad_(True)
        loss = nn.CrossEntropyLoss()(z, targets)
        loss.backward()  # upstream gradient 1: ann's CrossEntropyLoss::backward() has no argument
        return loss.detach(), z.grad.detach()

    loss, dz = run(logits.double())
    loss32, dz32 = run(logits)
    torch_diff = max(metric(loss32, loss), metric(dz32, dz))
    print("  %-28s torch float32 vs float64: %.3g" % (name, torch_diff))
    return {"name": name, "logits": logits, "targets": targets.tolist(), "loss": loss.reshape(1),
            "grad_output": 1.0, "grad_logits": dz, "torch_float32_max_diff": float("%.3g" % torch_diff)}


def cross_entropy_cases(gen):
    n, k = 6, 5
    small = randn(n, k, scale=2.0, gen=gen)
    t_small = torch.randint(0, k, (n,), generator=gen)
    # Logits in the thousands: exp overflows float32 (and float64 at 1e4) unless shifted by the max.
    large = randn(n, k, scale=1000.0, gen=gen)
    large[0] = torch.tensor([1.0e4, 9.99e3, -1.0e4, 0.0, 1.0e4 - 0.5])
    t_large = torch.randint(0, k, (n,), generator=gen)
    return [ce_case("cross_entropy", small, t_small), ce_case("cross_entropy_large_logits", large, t_large)]


def make_net(dtype):
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(dtype)


def train_case(name, make_opt, init, x, t, steps=5):
    """Per step: zero_grad, forward, loss, backward, step; records the loss and the parameters after."""

    def run(dtype):
        net = make_net(dtype)
        with torch.no_grad():
            for p, v in zip(net.parameters(), init):
                p.copy_(v.to(dtype))
        opt = make_opt(net.parameters())
        losses, params = [], []
        for _ in range(steps):
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(net(x.to(dtype)), t)
            loss.backward()
            opt.step()
            losses.append(loss.detach().clone())
            params.append([p.detach().clone() for p in net.parameters()])
        return losses, params

    losses, params = run(torch.float64)
    losses32, params32 = run(torch.float32)
    torch_diff = max([metric(a, b) for a, b in zip(losses32, losses)] +
                     [metric(a, b) for s32, s in zip(params32, params) for a, b in zip(s32, s)])
    print("  %-28s torch float32 vs float64: %.3g" % (name, torch_diff))
    return {"name": name, "losses": torch.stack(losses),
            "params_after_step": [{"weight1": s[0], "bias1": s[1], "weight2": s[2], "bias2": s[3]} for s in params],
            "torch_float32_max_diff": float("%.3g" % torch_diff)}


def optim_fixture(gen):
    init_net = make_net(torch.float32)
    with torch.no_grad():
        for p in init_net.parameters():
            p.copy_(torch.empty_like(p).uniform_(-0.5, 0.5, generator=gen))
    init = [p.detach().clone() for p in init_net.parameters()]
    x = randn(6, 4, gen=gen)
    t = torch.tensor([0, 2, 1, 1, 0, 2])
    cases = [
        dict(train_case("sgd_lr0.1_momentum0.9", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), init, x, t),
             optimizer="sgd", lr=0.1, momentum=0.9),
        dict(train_case("adam_defaults", lambda ps: torch.optim.Adam(ps), init, x, t),
             optimizer="adam", lr=1e-3, betas=[0.9, 0.999], eps=1e-8),
        dict(train_case("adam_lr0.01", lambda ps: torch.optim.Adam(ps, lr=0.01), init, x, t),
             optimizer="adam", lr=0.01, betas=[0.9, 0.999], eps=1e-8),
    ]
    return cases, {"net": "Sequential(Linear(4, 8), ReLU(), Linear(8, 3)), CrossEntropyLoss, 5 steps",
                   "init": {"weight1": init[0], "bias1": init[1], "weight2": init[2], "bias2": init[3]},
                   "input": x, "targets": t.tolist()}


def init_fixture():
    """torch's default init bounds, computed torch's way, plus the extremes of large torch layers."""
    torch.manual_seed(SEED)
    cases = []
    for name, make in (("linear_3072_32", lambda: nn.Linear(3072, 32)),
                       ("conv_16_64_k5", lambda: nn.Conv2d(16, 64, 5)),
                       ("linear_4_20000", lambda: nn.Linear(4, 20000))):
        m = make()
        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
        # The formula inside reset_parameters(): kaiming_uniform_(a=sqrt(5)) and U(+-1/sqrt(fan_in)).
        gain = nn.init.calculate_gain("leaky_relu", math.sqrt(5))
        weight_bound = math.sqrt(3.0) * gain / math.sqrt(fan_in)
        bias_bound = 1.0 / math.sqrt(fan_in)
        w, b = m.weight.detach(), m.bias.detach()
        assert float(w.abs().max()) <= weight_bound and float(b.abs().max()) <= bias_bound
        cases.append({"name": name, "weight_shape": list(w.shape), "fan_in": fan_in,
                      "weight_bound": Raw("%.17g" % weight_bound), "bias_bound": Raw("%.17g" % bias_bound),
                      "torch_weight_min": Raw(f32_str(w.min())), "torch_weight_max": Raw(f32_str(w.max())),
                      "torch_bias_min": Raw(f32_str(b.min())), "torch_bias_max": Raw(f32_str(b.max()))})
        print("  %-28s fan_in %d weight bound %.9g, torch max|w| %.9g" % (name, fan_in, weight_bound,
                                                                         float(w.abs().max())))
    return cases


def main():
    if not torch.__version__.startswith("1.13"):
        print("warning: fixtures were made with torch 1.13, this is %s" % torch.__version__, file=sys.stderr)
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED)
    write("linear", linear_cases(gen))
    write("conv2d", conv_cases(gen))
    write("maxpool2d", maxpool_cases(gen))
    write("activations", activation_cases(gen))
    write("cross_entropy", cross_entropy_cases(gen))
    cases, extra = optim_fixture(gen)
    write("optim", cases, extra)
    write("init", init_fixture())


if __name__ == "__main__":
    main()
