#!/usr/bin/env python3
"""Summarises bench_cuda_conv's JSON lines as a markdown table: per convolution of the homework
architectures, the CUDA backend's forward, backward-data and backward-weights time (ms per call,
CUDA events) and GFLOP/s, in deterministic mode and, when the file has them, nondeterministic
mode (bench_cuda_conv --nondeterministic), with the total of the three directions.

  summarize_conv.py conv.jsonl > conv_summary.md"""
import json
import sys

DIRS = ("fwd", "bwd_data", "bwd_weights")


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) == 2 else 2
    rows, order, device = {}, [], None
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            key = (r["arch"], r["layer"], r["shape"])
            if key not in order:
                order.append(key)
            rows[(key, r["mode"])] = r
            device = device or r.get("device")
    if not order:
        print("(no convolution results)")
        return 0
    modes = [m for m in ("deterministic", "nondeterministic") if any((k, m) in rows for k in order)]
    n = next(iter(rows.values()))["N"]
    print(f"CUDA backend convolutions, batch {n}, float32, ms per call (GFLOP/s); {device}\n")
    head = "| arch | layer | shape | " + " | ".join(f"{d} {'det' if m == 'deterministic' else 'nondet'}" for m in modes for d in DIRS + ("total",)) + " |"
    print(head)
    print("|" + " --- |" * (3 + 4 * len(modes)))
    totals = {m: 0.0 for m in modes}
    for key in order:
        cells = [key[0], str(key[1]), key[2]]
        for m in modes:
            r = rows.get((key, m))
            if r is None:
                cells += ["-"] * 4
                continue
            cells += [f"{r[d]['ms']:.4f} ({r[d]['gflops']:.0f})" for d in DIRS]
            t = sum(r[d]["ms"] for d in DIRS)
            totals[m] += t
            cells.append(f"{t:.4f}")
        print("| " + " | ".join(cells) + " |")
    print()
    for m in modes:
        print(f"- all {len(order)} convolutions, {m}: {totals[m]:.3f} ms per forward + backward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
