#!/usr/bin/python3
"""Writes tests/fixtures/torch_optim_extra.json, which tests/test_optim_extra.cpp compares ann against:
weight decay, Nesterov and AdamW steps, and the learning rates of StepLR, CosineAnnealingLR and
ReduceLROnPlateau, all from torch.optim (1.13).

Run by hand, not at test time (the tests only read the committed JSON):
    /usr/bin/python3 tools/make_optim_fixtures.py

Optimizers: fixed float32 parameters and a fixed float32 gradient per step (no network, so the
optimizer's rule is all that is tested). Each case runs torch's single-tensor optimizer in float64
from those float32 values; its parameters after every step are the reference, printed with 17
significant digits (a float64 round trip), so ann's float64 run can be held to float64 precision
and its float32 run to float32's. torch's own float32 run's distance to the same reference is
recorded as "torch_float32_max_diff" (metric: max |a - r| / max(1, |r|)).

Schedulers: an SGD optimizer (lr 0.1) over one parameter, the scheduler stepped once per epoch
(ReduceLROnPlateau with a fixed metric sequence); "lrs"[e] is the rate after e epochs ("lrs"[0]
the rate at construction), as float64 at 17 digits.
"""
import json
import math
import os
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "torch_optim_extra.json")
SEED = 1913
STEPS = 6
EPOCHS = 30


def f64_list(t):
    return [float(v) for v in t.detach().to(torch.float64).reshape(-1).tolist()]


def tensor(t):
    return {"shape": list(t.shape), "data": f64_list(t)}


def metric(ours, ref):
    ours, ref = ours.detach().double(), ref.detach().double()
    return float(((ours - ref).abs() / ref.abs().clamp(min=1.0)).max())


def optimizer_case(name, make_opt, init, grads, **config):
    def run(dtype):
        params = [p.clone().to(dtype).requires_grad_(True) for p in init]
        opt = make_opt(params)
        after = []
        for step_grads in grads:
            opt.zero_grad()
            for p, g in zip(params, step_grads):
                p.grad = g.clone().to(dtype)
            opt.step()
            after.append([p.detach().clone() for p in params])
        return after

    ref, f32 = run(torch.float64), run(torch.float32)
    torch_diff = max(metric(a, b) for s32, s in zip(f32, ref) for a, b in zip(s32, s))
    print("  %-24s torch float32 vs float64: %.3g" % (name, torch_diff))
    return dict(name=name, **config, params_after_step=[[tensor(p) for p in s] for s in ref],
                torch_float32_max_diff=float("%.3g" % torch_diff))


def optimizer_cases(gen):
    init = [torch.randn(3, 4, generator=gen), torch.randn(5, generator=gen) * 2.0]
    grads = [[torch.randn(p.shape, generator=gen) * s for p in init] for s in (1.0, 0.5, 2.0, 0.1, 1.0, 0.01)]
    sgd = torch.optim.SGD
    cases = [
        optimizer_case("sgd_wd", lambda ps: sgd(ps, lr=0.1, weight_decay=0.05, foreach=False), init, grads,
                       optimizer="sgd", lr=0.1, momentum=0.0, weight_decay=0.05, nesterov=False),
        optimizer_case("sgd_momentum_wd", lambda ps: sgd(ps, lr=0.1, momentum=0.9, weight_decay=0.01, foreach=False),
                       init, grads, optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=False),
        optimizer_case("sgd_nesterov", lambda ps: sgd(ps, lr=0.05, momentum=0.8, nesterov=True, foreach=False),
                       init, grads, optimizer="sgd", lr=0.05, momentum=0.8, weight_decay=0.0, nesterov=True),
        optimizer_case("sgd_nesterov_wd",
                       lambda ps: sgd(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True, foreach=False),
                       init, grads, optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
        optimizer_case("adam_wd", lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1, foreach=False),
                       init, grads, optimizer="adam", lr=0.01, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.1),
        optimizer_case("adamw_defaults", lambda ps: torch.optim.AdamW(ps, foreach=False), init, grads,
                       optimizer="adamw", lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.01),
        optimizer_case("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6,
                                                             weight_decay=0.5, foreach=False),
                       init, grads, optimizer="adamw", lr=0.05, betas=[0.8, 0.99], eps=1e-6, weight_decay=0.5),
    ]
    extra = {"init": [tensor(p) for p in init], "grads": [[tensor(g) for g in s] for s in grads]}
    return cases, extra


# A loss-like sequence: falls, stalls (exercising patience and cooldown), wobbles within the
# thresholds, falls again, then flat long enough to hit min_lr.
METRIC = [1.0, 0.8, 0.7, 0.69995, 0.7, 0.71, 0.70, 0.72, 0.6, 0.59, 0.5899, 0.5899, 0.58, 0.6, 0.61,
          0.62, 0.5, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.44, 0.45, 0.46]
assert len(METRIC) == EPOCHS


def scheduler_case(name, make_sched, kind, metric=None, **config):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make_sched(opt)
    lrs = [opt.param_groups[0]["lr"]]
    extra = {}
    if metric is not None:
        extra = {"best": [], "num_bad_epochs": [], "cooldown_counter": []}
    for e in range(EPOCHS):
        opt.step()
        if metric is None:
            sched.step()
        else:
            sched.step(metric[e])
            extra["best"].append(sched.best)
            extra["num_bad_epochs"].append(sched.num_bad_epochs)
            extra["cooldown_counter"].append(sched.cooldown_counter)
        lrs.append(opt.param_groups[0]["lr"])
    print("  %-24s lrs %s ..." % (name, ", ".join("%.4g" % v for v in lrs[:8])))
    case = dict(name=name, scheduler=kind, lr=0.1, **config, lrs=lrs)
    if metric is not None:
        case["metric"] = metric
        case.update(extra)
    return case


def scheduler_cases():
    from torch.optim import lr_scheduler as ls
    P = ls.ReduceLROnPlateau
    neg = [-v for v in METRIC]  # the same story for mode max
    return [
        scheduler_case("step_lr_defaults", lambda o: ls.StepLR(o, 4), "step_lr", step_size=4, gamma=0.1),
        scheduler_case("step_lr", lambda o: ls.StepLR(o, 7, gamma=0.7), "step_lr", step_size=7, gamma=0.7),
        scheduler_case("cosine_T10_eta0.001", lambda o: ls.CosineAnnealingLR(o, 10, eta_min=0.001),
                       "cosine_annealing_lr", T_max=10, eta_min=0.001),
        scheduler_case("cosine_T7", lambda o: ls.CosineAnnealingLR(o, 7), "cosine_annealing_lr", T_max=7, eta_min=0.0),
        scheduler_case("cosine_T1", lambda o: ls.CosineAnnealingLR(o, 1), "cosine_annealing_lr", T_max=1, eta_min=0.0),
        scheduler_case("plateau_min_rel", lambda o: P(o, patience=2, cooldown=1, factor=0.5, min_lr=0.01),
                       "reduce_lr_on_plateau", METRIC, mode="min", factor=0.5, patience=2, threshold=1e-4,
                       threshold_mode="rel", cooldown=1, min_lr=0.01, eps=1e-8),
        scheduler_case("plateau_min_abs", lambda o: P(o, patience=1, threshold=0.05, threshold_mode="abs", factor=0.3),
                       "reduce_lr_on_plateau", METRIC, mode="min", factor=0.3, patience=1, threshold=0.05,
                       threshold_mode="abs", cooldown=0, min_lr=0.0, eps=1e-8),
        scheduler_case("plateau_max_rel", lambda o: P(o, mode="max", patience=0, cooldown=2, threshold=0.01),
                       "reduce_lr_on_plateau", neg, mode="max", factor=0.1, patience=0, threshold=0.01,
                       threshold_mode="rel", cooldown=2, min_lr=0.0, eps=1e-8),
        scheduler_case("plateau_max_abs_eps",
                       lambda o: P(o, mode="max", patience=1, threshold=0.02, threshold_mode="abs", factor=0.5,
                                   min_lr=0.01, eps=0.004),
                       "reduce_lr_on_plateau", neg, mode="max", factor=0.5, patience=1, threshold=0.02,
                       threshold_mode="abs", cooldown=0, min_lr=0.01, eps=0.004),
        scheduler_case("plateau_defaults", lambda o: P(o), "reduce_lr_on_plateau", METRIC, mode="min", factor=0.1,
                       patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8),
    ]


def main():
    if not torch.__version__.startswith("1.13"):
        print("warning: fixtures were made with torch 1.13, this is %s" % torch.__version__, file=sys.stderr)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(SEED)
    opt_cases, extra = optimizer_cases(gen)
    doc = {"generator": "tools/make_optim_fixtures.py", "torch_version": torch.__version__,
           "reference": "torch float64 from float32 inputs, 17 significant digits",
           "steps": STEPS, "epochs": EPOCHS}
    doc.update(extra)
    doc["optimizers"] = opt_cases
    doc["schedulers"] = scheduler_cases()
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        # json.dumps writes floats with repr(): the shortest text that reads back as the same double.
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, OUT)
    print("wrote %s (%d bytes)" % (os.path.relpath(OUT), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
