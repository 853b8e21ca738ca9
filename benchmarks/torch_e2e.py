#!/usr/bin/python3
"""PyTorch side of the end-to-end benchmark: the same five homework models, the same work
(batch-50 Adam training step; evaluation in batches of --eval-batch), the same thread count.
Prints one JSON object: {"train_ms": {arch: ms}, "eval_ips": {arch: images/s}}.
Run with Debian's /usr/bin/python3 (python3-torch 1.13)."""
import argparse, json, sys, time

import torch
import torch.nn as nn


def homework(name):
    relu = nn.ReLU
    if name == "mlp_1":
        return nn.Sequential(nn.Flatten(), nn.Linear(3072, 32), relu(), nn.Linear(32, 10))
    if name == "mlp_2":
        return nn.Sequential(nn.Flatten(), nn.Linear(3072, 32), relu(), nn.Linear(32, 64, bias=False),
                             nn.Linear(64, 10))
    if name == "cnn_3":
        return nn.Sequential(nn.Conv2d(3, 16, 3), relu(), nn.Conv2d(16, 8, 5), relu(), nn.MaxPool2d(2, 2),
                             nn.Conv2d(8, 16, 7), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(16 * 3 * 3, 10))
    if name == "cnn_4":
        return nn.Sequential(nn.Conv2d(3, 16, 3), relu(), nn.Conv2d(16, 8, 3), relu(), nn.Conv2d(8, 16, 5), relu(),
                             nn.MaxPool2d(2, 2), nn.Conv2d(16, 16, 5), relu(), nn.MaxPool2d(2, 2), nn.Flatten(),
                             nn.Linear(16 * 4 * 4, 10))
    if name == "cnn_5":
        return nn.Sequential(nn.Conv2d(3, 8, 3), relu(), nn.Conv2d(8, 16, 3), relu(), nn.Conv2d(16, 8, 3), relu(),
                             nn.Conv2d(8, 16, 3), relu(), nn.MaxPool2d(2, 2), nn.Conv2d(16, 16, 3), relu(),
                             nn.Conv2d(16, 8, 3), relu(), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    raise SystemExit(f"unknown architecture {name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--eval-batch", type=int, default=100)
    ap.add_argument("--steps", type=int, default=40, help="timed training steps per architecture")
    ap.add_argument("--eval-images", type=int, default=5000)
    ap.add_argument("--archs", default="mlp_1,mlp_2,cnn_3,cnn_4,cnn_5")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    out = {"threads": a.threads, "torch": torch.__version__, "train_ms": {}, "eval_ips": {}}
    for arch in a.archs.split(","):
        m = homework(arch)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        lossf = nn.CrossEntropyLoss()
        x = torch.rand(a.batch, 3, 32, 32)
        t = torch.randint(0, 10, (a.batch,))

        def step():
            opt.zero_grad()
            loss = lossf(m(x), t)
            loss.backward()
            opt.step()

        for _ in range(5):
            step()
        times = []
        for _ in range(a.steps):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        times.sort()
        out["train_ms"][arch] = 1e3 * times[len(times) // 2]  # median

        xe = torch.rand(a.eval_batch, 3, 32, 32)
        with torch.no_grad():
            m.eval()
            m(xe)
            reps = max(1, a.eval_images // a.eval_batch)
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                for _ in range(reps):
                    m(xe)
                best = min(best, time.perf_counter() - t0)
            out["eval_ips"][arch] = reps * a.eval_batch / best
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
