#!/usr/bin/env python3
"""PyTorch eager reference for bench_cuda_train: the same five homework architectures, batch 50,
Adam, uint8 data kept on the GPU and converted per batch, fp32 with TF32 off (as ours), CUDA-event
timing after a warm-up; evaluation in batches of 2000 under no_grad.

  bench_torch.py --out torch.jsonl [--ours ours.jsonl --summary summary.md] [--steps 300]

With --ours, prints and writes a table of ann/PyTorch time ratios (< 1: ann is faster)."""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn


def homework(name):
    R = nn.ReLU
    if name == "mlp_1":
        return nn.Sequential(nn.Flatten(), nn.Linear(3072, 32), R(), nn.Linear(32, 10))
    if name == "mlp_2":
        return nn.Sequential(nn.Flatten(), nn.Linear(3072, 32), R(), nn.Linear(32, 64, bias=False), nn.Linear(64, 10))
    if name == "cnn_3":
        return nn.Sequential(nn.Conv2d(3, 16, 3), R(), nn.Conv2d(16, 8, 5), R(), nn.MaxPool2d(2, 2),
                             nn.Conv2d(8, 16, 7), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(144, 10))
    if name == "cnn_4":
        return nn.Sequential(nn.Conv2d(3, 16, 3), R(), nn.Conv2d(16, 8, 3), R(), nn.Conv2d(8, 16, 5), R(),
                             nn.MaxPool2d(2, 2), nn.Conv2d(16, 16, 5), R(), nn.MaxPool2d(2, 2), nn.Flatten(),
                             nn.Linear(256, 10))
    if name == "cnn_5":
        return nn.Sequential(nn.Conv2d(3, 8, 3), R(), nn.Conv2d(8, 16, 3), R(), nn.Conv2d(16, 8, 3), R(),
                             nn.Conv2d(8, 16, 3), R(), nn.MaxPool2d(2, 2), nn.Conv2d(16, 16, 3), R(),
                             nn.Conv2d(16, 8, 3), R(), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(128, 10))
    raise ValueError(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ours")
    ap.add_argument("--summary")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--eval-samples", type=int, default=10000)
    ap.add_argument("--device", default="cuda", help="cpu only to smoke-test this script without a GPU")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        print("bench_torch: no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    device_name = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    B, steps = 50, a.steps
    n = max(B * (steps + 10), a.eval_samples)
    g = torch.Generator(device="cpu").manual_seed(7)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g).to(dev)
    labels = torch.randint(0, 10, (n,), generator=g).to(dev)
    order = torch.randperm(B * (steps + 10), generator=g).to(dev)
    rows = []
    for arch in ["mlp_1", "mlp_2", "cnn_3", "cnn_4", "cnn_5"]:
        torch.manual_seed(1)
        m = homework(arch).to(dev)
        opt = torch.optim.Adam(m.parameters())
        ce = nn.CrossEntropyLoss()

        def step(i):
            idx = order[i * B:(i + 1) * B]
            x = images[idx].float() / 255.0
            loss = ce(m(x), labels[idx])
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
            return loss

        for i in range(10):
            step(i)
        sync()
        t0 = time.perf_counter()
        for i in range(10, 10 + steps):
            loss = step(i)
        sync()
        step_ms = (time.perf_counter() - t0) * 1000 / steps

        def evaluate():
            tot, correct = 0.0, 0
            with torch.no_grad():
                for f in range(0, a.eval_samples, 2000):
                    x = images[f:f + 2000].float() / 255.0
                    z = m(x)
                    y = labels[f:f + 2000]
                    tot += nn.functional.cross_entropy(z, y, reduction="sum")
                    correct += (z.argmax(1) == y).sum()
            return float(tot) / a.eval_samples, int(correct) / a.eval_samples

        evaluate()
        sync()
        e0 = time.perf_counter()
        for _ in range(5):
            evaluate()
        eval_ms = (time.perf_counter() - e0) * 1000 / 5
        rows.append({"device": device_name, "torch": torch.__version__, "arch": arch, "batch": B,
                     "steps": steps, "step_ms": step_ms, "last_loss": float(loss), "eval_samples": a.eval_samples,
                     "eval_ms": eval_ms, "eval_images_per_s": a.eval_samples / (eval_ms / 1000)})
        print(arch, "done", flush=True)
    with open(a.out, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    if a.ours:
        ours = {r["arch"]: r for r in map(json.loads, open(a.ours))}
        lines = ["| arch | ann step ms (graph) | ann step ms (eager) | torch step ms | ratio graph/torch | ann eval ms | torch eval ms | ratio eval |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in rows:
            o = ours.get(r["arch"])
            if not o:
                continue
            lines.append(f"| {r['arch']} | {o['step_ms_graph']:.3f} | {o['step_ms_eager']:.3f} | {r['step_ms']:.3f} | "
                         f"{o['step_ms_graph'] / r['step_ms']:.2f} | {o['eval_ms']:.2f} | {r['eval_ms']:.2f} | "
                         f"{o['eval_ms'] / r['eval_ms']:.2f} |")
        text = f"Device: {rows[0]['device']}, torch {rows[0]['torch']}, batch 50, fp32 (TF32 off)\n\n" + "\n".join(lines) + "\n"
        print(text)
        if a.summary:
            with open(a.summary, "w") as f:
                f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
