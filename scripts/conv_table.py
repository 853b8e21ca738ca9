#!/usr/bin/python3
"""Summarises bench_conv's JSON output (scripts/bench.sh writes build/bench/results/conv.json):
one row per conv shape and batch, GFLOP/s and % of the measured sgemm peak per pass and
implementation."""
import json, sys

d = json.load(open(sys.argv[1]))
ctx = d["context"]
print(f"sgemm peak {float(ctx['sgemm_peak_gflops']):.1f} GFLOP/s at {ctx['ann_threads']} threads "
      f"(2048^3 through OpenBLAS, measured in the same binary)")
rows, impls = {}, []
for b in d["benchmarks"]:
    parts = b["name"].split("/")
    if parts[0] != "conv":
        continue
    impl, pas, shape, batch = parts[1], parts[2], parts[3], parts[4]
    key = (shape, batch, b.get("label", ""))
    rows.setdefault(key, {})[(impl, pas)] = (b["GFLOPs"], b["pct_peak"])
    if impl not in impls:
        impls.append(impl)
passes = ["fwd", "bwd_data", "bwd_weights"]
head = " | ".join(f"{p} {i}" for p in passes for i in impls)
print(f"| shape (layers) | N | {head} |")
print("|" + "---|" * (2 + len(passes) * len(impls)))
for (shape, batch, label), v in rows.items():
    cells = []
    for p in passes:
        for i in impls:
            g = v.get((i, p))
            cells.append(f"{g[0]:.1f} ({g[1]:.0f}%)" if g else "-")
    print(f"| {shape} ({label}) | {batch[1:]} | " + " | ".join(cells) + " |")
