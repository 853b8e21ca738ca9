#!/usr/bin/python3
"""Summarises bench_conv's JSON output (scripts/bench.sh writes build/bench/results/conv.json):
one row per conv shape and batch; per pass and implementation GFLOP/s (direct-convolution
FLOPs) and, in brackets, % of the cores' FMA peak / % of the sgemm peak, both measured in the
same run."""
import json, sys

d = json.load(open(sys.argv[1]))
ctx = d["context"]
fma = float(ctx.get("fma_peak_gflops", "nan"))
print(f"FMA peak {fma:.1f} GFLOP/s ({ctx.get('fma_peak_isa', '?')} register-only loop; "
      f"AVX-512 {float(ctx.get('fma_peak_avx512_gflops', 0)):.1f}, AVX2 {float(ctx.get('fma_peak_avx2_gflops', 0)):.1f}), "
      f"sgemm peak {float(ctx['sgemm_peak_gflops']):.1f} GFLOP/s (2048^3, OpenBLAS kernel {ctx.get('openblas_core', '?')}), "
      f"{ctx['ann_threads']} threads, measured in the same binary")
print("cells: GFLOP/s (% of FMA peak / % of sgemm peak)")
rows, impls = {}, []
for b in d["benchmarks"]:
    parts = b["name"].split("/")
    if parts[0] != "conv":
        continue
    impl, pas, shape, batch = parts[1], parts[2], parts[3], parts[4]
    key = (shape, batch, b.get("label", ""))
    rows.setdefault(key, {})[(impl, pas)] = (b["GFLOPs"], b.get("pct_fma", float("nan")), b["pct_peak"])
    if impl not in impls:
        impls.append(impl)
passes = ["fwd", "bwd_data", "bwd_weights"]
cols = [(p, i) for p in passes for i in impls if any((i, p) in v for v in rows.values())]
print(f"| shape (layers) | N | " + " | ".join(f"{p} {i}" for p, i in cols) + " |")
print("|" + "---|" * (2 + len(cols)))
for (shape, batch, label), v in rows.items():
    cells = []
    for p, i in cols:
        g = v.get((i, p))
        cells.append(f"{g[0]:.1f} ({g[1]:.0f}% / {g[2]:.0f}%)" if g else "-")
    print(f"| {shape} ({label}) | {batch[1:]} | " + " | ".join(cells) + " |")
