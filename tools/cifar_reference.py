#!/usr/bin/python3
"""PyTorch reference for homework part 3's protocol, to compare with `homework` (C++).

Same as the C++ driver: the validation split (500 images per class, the same images for the same
seed: ann::Rng, i.e. std::mt19937_64 + Fisher-Yates, is re-implemented below), the fixed
training-accuracy subset, the architectures, Adam with PyTorch's defaults (or SGD), batch 50,
records every 10 steps (loss of the step before the update; train/val accuracy after it, in eval
mode), test accuracy at the end, and the output JSON (part3_<name>.json keys).
Different from the C++ run (so compare means over seeds, not single runs): initial weights come
from torch.manual_seed(seed) and the batch order from a torch.Generator.

Run with Debian's python (torch 1.13), e.g.
  /usr/bin/python3 tools/cifar_reference.py --arch cnn_4 --seed 0 --out results_torch
  for s in 0 1 2; do /usr/bin/python3 tools/cifar_reference.py --arch mlp_1 --seed $s --out ref_s$s; done
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

MASK64 = (1 << 64) - 1


class MT19937_64:
    """std::mt19937_64, seeded like std::mt19937_64(seed)."""

    def __init__(self, seed):
        self.mt = [0] * 312
        self.mt[0] = seed & MASK64
        for i in range(1, 312):
            prev = self.mt[i - 1]
            self.mt[i] = (6364136223846793005 * (prev ^ (prev >> 62)) + i) & MASK64
        self.idx = 312

    def next(self):
        if self.idx >= 312:
            mt = self.mt
            for i in range(312):
                x = (mt[i] & 0xFFFFFFFF80000000) | (mt[(i + 1) % 312] & 0x7FFFFFFF)
                xa = x >> 1
                if x & 1:
                    xa ^= 0xB5026F5AA96619E9
                mt[i] = mt[(i + 156) % 312] ^ xa
            self.idx = 0
        x = self.mt[self.idx]
        self.idx += 1
        x ^= (x >> 29) & 0x5555555555555555
        x ^= (x << 17) & 0x71D67FFFEDA60000
        x ^= (x << 37) & 0xFFF7EEE000000000
        x ^= x >> 43
        return x & MASK64


class Rng:
    """ann::Rng's integer draws and shuffle (core/rng.hpp)."""

    def __init__(self, seed):
        self.e = MT19937_64(seed)

    def below(self, n):
        limit = MASK64 - MASK64 % n
        while True:
            x = self.e.next()
            if x < limit:
                return x % n

    def shuffle(self, a):
        for i in range(len(a), 1, -1):
            j = self.below(i)
            a[i - 1], a[j] = a[j], a[i - 1]


def stratified_split(labels, per_class, seed, frm=None, classes=10):
    """data/split.hpp's stratified_split: (kept, held_out), both sorted."""
    idx = np.arange(len(labels)) if frm is None else np.asarray(frm)
    rng = Rng(seed)
    kept, held = [], []
    for c in range(classes):
        v = sorted(int(i) for i in idx[labels[idx] == c])
        rng.shuffle(v)
        held += v[:per_class]
        kept += v[per_class:]
    return np.array(sorted(kept)), np.array(sorted(held))


def derive_seed(seed, name):
    """examples/cifar_homework.hpp's derive_seed (splitmix64 over the name)."""
    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)
    h = (seed ^ 0x9E3779B97F4A7C15) & MASK64
    for ch in name.encode():
        h = mix((h + ch) & MASK64)
    return mix(h)


def load_cifar(folder):
    def read(name):
        path = os.path.join(folder, name)
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size != 10000 * 3073:
            sys.exit(f"cifar_reference: {path}: wrong size {raw.size} bytes, expected {10000 * 3073}")
        raw = raw.reshape(10000, 3073)
        return raw[:, 1:].reshape(10000, 3, 32, 32), raw[:, 0].astype(np.int64)
    parts = [read(f"data_batch_{i}.bin") for i in range(1, 6)]
    xtr = np.concatenate([p[0] for p in parts])
    ytr = np.concatenate([p[1] for p in parts])
    xte, yte = read("test_batch.bin")
    return xtr, ytr, xte, yte


def homework_model(name, act="relu"):
    nn = torch.nn
    A = nn.ReLU if act == "relu" else nn.Sigmoid
    pool = lambda: nn.MaxPool2d(2, 2)
    if name == "mlp_1":
        layers = [nn.Flatten(), nn.Linear(3072, 32), A(), nn.Linear(32, 10)]
    elif name == "mlp_2":
        layers = [nn.Flatten(), nn.Linear(3072, 32), A(), nn.Linear(32, 64, bias=False), nn.Linear(64, 10)]
    elif name == "cnn_3":
        layers = [nn.Conv2d(3, 16, 3), A(), nn.Conv2d(16, 8, 5), A(), pool(), nn.Conv2d(8, 16, 7), pool(),
                  nn.Flatten(), nn.Linear(144, 10)]
    elif name == "cnn_4":
        layers = [nn.Conv2d(3, 16, 3), A(), nn.Conv2d(16, 8, 3), A(), nn.Conv2d(8, 16, 5), A(), pool(),
                  nn.Conv2d(16, 16, 5), A(), pool(), nn.Flatten(), nn.Linear(256, 10)]
    elif name == "cnn_5":
        layers = [nn.Conv2d(3, 8, 3), A(), nn.Conv2d(8, 16, 3), A(), nn.Conv2d(16, 8, 3), A(), nn.Conv2d(8, 16, 3),
                  A(), pool(), nn.Conv2d(16, 16, 3), A(), nn.Conv2d(16, 8, 3), A(), pool(), nn.Flatten(),
                  nn.Linear(128, 10)]
    else:
        sys.exit(f"cifar_reference: unknown architecture '{name}'")
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="cnn_4")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    ap.add_argument("--lr", type=float, default=None, help="default: 0.001 (adam), 0.01 (sgd)")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--record-every", type=int, default=10)
    ap.add_argument("--train-acc-images", type=int, default=5000, help="0: the whole training set")
    ap.add_argument("--eval-batch", type=int, default=500)
    ap.add_argument("--data", default="data/cifar-10-batches-bin")
    ap.add_argument("--out", default="results_torch")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if not os.path.isdir(a.data):
        sys.exit(f"cifar_reference: {a.data}: missing (run cifar10_data first)")
    xtr, ytr, xte, yte = load_cifar(a.data)
    kept, val = stratified_split(ytr, 500, a.seed)
    train_eval = kept
    if a.train_acc_images and a.train_acc_images < len(kept):
        _, train_eval = stratified_split(ytr, a.train_acc_images // 10, derive_seed(a.seed, "train-eval"), frm=kept)

    def as_float(x):
        return torch.from_numpy(x).float().div(255)

    model = homework_model(a.arch)
    lr = a.lr if a.lr is not None else (1e-3 if a.optimizer == "adam" else 0.01)
    opt = torch.optim.Adam(model.parameters(), lr=lr) if a.optimizer == "adam" else \
        torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed + 1)

    def accuracy(x, y, idx):
        model.eval()
        correct = 0
        with torch.no_grad():
            for s in range(0, len(idx), a.eval_batch):
                b = idx[s:s + a.eval_batch]
                correct += (model(as_float(x[b])).argmax(1) == torch.from_numpy(y[b])).sum().item()
        model.train()
        return 100.0 * correct / len(idx)

    curves = {"loss": [], "train_acc": [], "val_acc": []}
    step = 0
    t0 = time.time()
    model.train()
    for epoch in range(a.epochs):
        order = kept[torch.randperm(len(kept), generator=gen).numpy()]
        for s in range(0, len(order), a.batch):
            b = order[s:s + a.batch]
            opt.zero_grad()
            loss = loss_fn(model(as_float(xtr[b])), torch.from_numpy(ytr[b]))
            loss.backward()
            rec = step % a.record_every == 0
            if rec:
                curves["loss"].append(loss.item())
            opt.step()
            if rec:
                curves["train_acc"].append(accuracy(xtr, ytr, train_eval))
                curves["val_acc"].append(accuracy(xtr, ytr, val))
            step += 1
        print(f"{a.arch} seed {a.seed} epoch {epoch + 1}/{a.epochs}  loss {curves['loss'][-1]:.4f}  "
              f"val {curves['val_acc'][-1]:.2f}%  {time.time() - t0:.0f}s", flush=True)
    test_acc = accuracy(xte, yte, np.arange(len(yte)))
    first = next(m for m in model if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)))
    out = {"name": a.arch, "loss_curve": curves["loss"], "train_acc_curve": curves["train_acc"],
           "val_acc_curve": curves["val_acc"], "test_acc": test_acc, "weights": first.weight.detach().numpy().tolist(),
           "record_every": a.record_every, "seed": a.seed, "epochs": a.epochs, "optimizer": f"{a.optimizer} lr={lr}",
           "framework": f"pytorch {torch.__version__}", "seconds": time.time() - t0,
           "num_parameters": sum(p.numel() for p in model.parameters()),
           "val_images_sum": int(val.sum()), "train_eval_images_sum": int(train_eval.sum())}
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, f"part3_{a.arch}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    os.replace(path + ".tmp", path)
    print(f"{a.arch} seed {a.seed}: test accuracy {test_acc:.2f}%  ({time.time() - t0:.0f}s)  -> {path}")


if __name__ == "__main__":
    main()
