#!/usr/bin/env python3
"""PyTorch reference for bench_cuda_train: the same training step on the GPU, for ratios.

The five homework architectures, batch 50, Adam (PyTorch's defaults, as ann's), fp32 with TF32
off and cudnn.deterministic=True (ann's CUDA default). Each step does what ann's train_epochs
does: the batch is gathered from uint8 images and scaled to [0, 1] on the host, copied to the
GPU, the loss is read back before backward (ann checks it for divergence every step), then
backward and the update. Evaluation: batches of --eval-batch under no_grad, logits copied to the
host for the argmax (as ann's Evaluator). Synthetic data, as bench_cuda_train.

  bench_torch.py --out torch.jsonl [--ours train.jsonl --summary summary.md]
  bench_torch.py --no-run --ours train.jsonl [--out torch.jsonl] --summary summary.md

--ours: ann's train.jsonl; with --summary, writes a markdown table of ann/PyTorch times (ratio
< 1: ann is faster) and ann's CPU/GPU ratio. --no-run only makes that table (no torch needed;
torch columns from --out if that file exists). Exit codes: 0 done, 1 failure, 2 bad command
line, 77 no torch or no CUDA device ("SKIPPED: ..." on stdout)."""
import argparse
import json
import os
import sys
import time

ARCHS = ["mlp_1", "mlp_2", "cnn_3", "cnn_4", "cnn_5"]


def homework(nn, name):
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


def run(a):
    try:
        import torch
        import torch.nn as nn
    except ImportError as e:
        print(f"SKIPPED: no PyTorch ({e})", flush=True)
        return 77
    gpu = a.device == "cuda"
    if gpu and not torch.cuda.is_available():
        print("SKIPPED: PyTorch sees no CUDA device", flush=True)
        return 77
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    # TF32 off: the new API where it exists (PyTorch >= 2.9 warns on the legacy flags).
    try:
        torch.backends.cuda.matmul.fp32_precision = "ieee"
        torch.backends.cudnn.conv.fp32_precision = "ieee"
    except (AttributeError, AssertionError):  # older PyTorch: no fp32_precision
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    dev = torch.device(a.device)
    B = 50
    steps = a.epochs * (a.images // B)
    n = max(a.images, a.eval, a.warmup_steps * B)
    g = torch.Generator().manual_seed(7)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)
    info = {"device_name": torch.cuda.get_device_name() if gpu else "cpu", "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version()}
    rows = []
    for arch in a.archs.split(","):
        torch.manual_seed(1)
        m = homework(nn, arch).to(dev)
        opt = torch.optim.Adam(m.parameters())
        ce = nn.CrossEntropyLoss()

        def train(count, pool):
            order, last = torch.randperm(pool, generator=g), 0.0
            for i in range(count):
                idx = order[(i * B) % pool:(i * B) % pool + B]
                x = (images[idx].float() / 255.0).to(dev)
                y = labels[idx].to(dev)
                opt.zero_grad(set_to_none=False)
                loss = ce(m(x), y)
                last = loss.item()  # ann reads every step's loss on the host
                loss.backward()
                opt.step()
            return last

        train(a.warmup_steps, a.warmup_steps * B)
        sync()
        t0 = time.perf_counter()
        last = train(steps, a.images)
        sync()
        step_s = (time.perf_counter() - t0) / steps

        def evaluate():
            m.eval()
            correct = 0
            with torch.no_grad():
                for f in range(0, a.eval, a.eval_batch):
                    x = (images[f:f + a.eval_batch].float() / 255.0).to(dev)
                    z = m(x).cpu()
                    correct += int((z.argmax(1) == labels[f:f + a.eval_batch]).sum())
            m.train()
            return 100.0 * correct / a.eval

        evaluate()
        sync()
        e0 = time.perf_counter()
        for _ in range(3):
            acc = evaluate()
        eval_ms = (time.perf_counter() - e0) * 1000 / 3
        rows.append({"bench": "torch", **info, "arch": arch, "batch": B, "steps": steps, "step_ms": step_s * 1000,
                     "images_per_s": B / step_s, "last_loss": last, "eval_images": a.eval,
                     "eval_batch": a.eval_batch, "eval_ms": eval_ms, "eval_images_per_s": a.eval / (eval_ms / 1000),
                     "eval_acc": acc})
        print(f"{arch:5s} torch {step_s * 1000:8.3f} ms/step   eval {a.eval} images {eval_ms:8.2f} ms", flush=True)
    with open(a.out, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return 0


def load(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def summary(ours, torch_rows):
    """Markdown: per architecture, ann (GPU, CPU) against PyTorch on the GPU."""
    ann = {}
    for r in ours:
        ann[(r["arch"], r["device"], r.get("mode", ""))] = r
    tr = {r["arch"]: r for r in torch_rows}
    f = lambda v, p=3: "-" if v is None else f"{v:.{p}f}"
    ratio = lambda x, y: "-" if x is None or y is None or y == 0 else f"{x / y:.2f}"
    get = lambda r, k: None if r is None else r.get(k)
    lines = ["| arch | ann cuda ms/step | torch ms/step | ann/torch | ann cuda nondet ms/step | ann cpu ms/step | cpu/cuda "
             "| ann cuda ms/step with val | ann cuda eval ms | torch eval ms | ann/torch eval |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for arch in ARCHS:
        gd, gn = ann.get((arch, "cuda", "deterministic")), ann.get((arch, "cuda", "nondeterministic"))
        c, t = ann.get((arch, "cpu", "cpu")), tr.get(arch)
        if not (gd or gn or c or t):
            continue
        g = gd or gn
        lines.append(" | ".join([f"| {arch}", f(get(gd, "step_ms")), f(get(t, "step_ms")),
                                 ratio(get(gd, "step_ms"), get(t, "step_ms")), f(get(gn, "step_ms")),
                                 f(get(c, "step_ms")), ratio(get(c, "step_ms"), get(g, "step_ms")),
                                 f(get(g, "step_ms_with_val")), f(get(g, "eval_ms"), 2), f(get(t, "eval_ms"), 2),
                                 ratio(get(g, "eval_ms"), get(t, "eval_ms"))]) + " |")
    head = []
    g = next((r for r in ours if r["device"] == "cuda"), None)
    c = next((r for r in ours if r["device"] == "cpu"), None)
    if g:
        head.append(f"ann GPU: {g['device_name']}; {g['steps']} timed steps after {g['warmup_steps']} warm-up steps, "
                    f"evaluation of {g.get('eval_images', '-')} images in batches of {g.get('eval_batch', '-')}"
                    + (f"; 'with val': val_acc on {g['val_images']} images every 10 steps" if "val_images" in g else ""))
    if c:
        head.append(f"ann CPU: {c['device_name']}; {c['steps']} timed steps, evaluation of "
                    f"{c.get('eval_images', '-')} images")
    if torch_rows:
        t0 = torch_rows[0]
        head.append(f"PyTorch {t0['torch']} (CUDA {t0['cuda']}, cuDNN {t0['cudnn']}) on {t0['device_name']}; "
                    f"{t0['steps']} timed steps, same loop (host batch, loss read every step), fp32, TF32 off, "
                    "cudnn.deterministic")
    else:
        head.append("PyTorch: no results")
    return ("Training step (batch 50, Adam) and evaluation; ratio < 1: ann is faster.\n\n" +
            "".join(f"- {h}\n" for h in head) + "\n" + "\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="torch results (JSON lines)")
    ap.add_argument("--ours", help="ann's results (bench_cuda_train's JSON lines)")
    ap.add_argument("--summary", help="markdown table of the ratios")
    ap.add_argument("--no-run", action="store_true", help="only the table (no torch needed)")
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--images", type=int, default=5000, help="images of one timed epoch (default 5000)")
    ap.add_argument("--epochs", type=int, default=2, help="timed epochs (default 2: 200 steps)")
    ap.add_argument("--warmup-steps", type=int, default=10)
    ap.add_argument("--eval", type=int, default=10000, help="evaluation images (default 10000)")
    ap.add_argument("--eval-batch", type=int, default=1000)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: only to smoke-test this script")
    a = ap.parse_args()
    bad = [x for x in a.archs.split(",") if x not in ARCHS]
    if bad or a.images < 50 or a.images % 50 or a.epochs < 1 or a.warmup_steps < 1 or a.eval < 1 or a.eval_batch < 1:
        ap.error(f"unknown architecture {bad[0]}" if bad else "--images must be a positive multiple of 50, "
                 "--epochs, --warmup-steps, --eval and --eval-batch positive")
    if not a.no_run and not a.out:
        ap.error("--out is required unless --no-run")
    rc = 0
    if not a.no_run:
        try:
            rc = run(a)
        except Exception as e:  # one clear line, not a traceback
            print(f"bench_torch: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    if a.summary:
        text = summary(load(a.ours), load(a.out))
        with open(a.summary, "w") as f:
            f.write(text)
        print(text)
    return rc


if __name__ == "__main__":
    sys.exit(main())
