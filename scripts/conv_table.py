#!/usr/bin/python3
"""Summarises bench_conv's JSON output (scripts/bench.sh writes build/bench/results/conv.json):
one row per conv shape and batch; per pass and implementation GFLOP/s (direct-convolution
FLOPs) and, in brackets, % of the cores' FMA peak / % of the sgemm peak, both measured in the
same run. The `onednn` column (bench_conv built with libdnnl-dev) times oneDNN's primitive on its
own layouts; its label carries the implementation oneDNN chose, listed under the table with
the cost of the NCHW/OIHW reorders a call on plain tensors would add (reorder_ms; not in its
GFLOP/s), as a share of the primitive's time."""
import json, sys

d = json.load(open(sys.argv[1]))
ctx = d["context"]
fma = float(ctx.get("fma_peak_gflops", "nan"))
print(f"FMA peak {fma:.1f} GFLOP/s ({ctx.get('fma_peak_isa', '?')} register-only loop; "
      f"AVX-512 {float(ctx.get('fma_peak_avx512_gflops', 0)):.1f}, AVX2 {float(ctx.get('fma_peak_avx2_gflops', 0)):.1f}), "
      f"sgemm peak {float(ctx['sgemm_peak_gflops']):.1f} GFLOP/s (2048^3, OpenBLAS kernel {ctx.get('openblas_core', '?')}), "
      f"{ctx['ann_threads']} threads, measured in the same binary")
print("cells: GFLOP/s (% of FMA peak / % of sgemm peak)")
rows, impls, dnnl = {}, [], {}
for b in d["benchmarks"]:
    parts = b["name"].split("/")
    if parts[0] != "conv":
        continue
    impl, pas, shape, batch = parts[1], parts[2], parts[3], parts[4]
    if b.get("error_occurred"):
        print(f"{b['name']}: {b.get('error_message', 'error')}", file=sys.stderr)
        continue
    where, _, chosen = b.get("label", "").partition(" | ")  # onednn: "layers | implementation"
    key = (shape, batch, where)
    if chosen:
        dnnl.setdefault((pas, chosen), []).append((shape, b.get("reorder_ms", float("nan")) /
                                                  (b["real_time"] * {"ns": 1e-6, "us": 1e-3, "ms": 1, "s": 1e3}[b["time_unit"]])))
    rows.setdefault(key, {})[(impl, pas)] = (b["GFLOPs"], b.get("pct_fma", float("nan")), b["pct_peak"])
    if impl not in impls:
        impls.append(impl)
passes = ["fwd", "bwd_data", "bwd_weights"]
cols = [(p, i) for p in passes for i in impls if any((i, p) in v for v in rows.values())]
print(f"| shape (layers) | N | " + " | ".join(f"{p} {i}" for p, i in cols) + " |")
print("|" + "---|" * (2 + len(cols)))
# bench_conv runs one implementation after another: rows in the order the shapes first appear,
# each shape's batches together.
shape_order = {}
for shape, _, _ in rows:
    shape_order.setdefault(shape, len(shape_order))
for (shape, batch, label), v in sorted(rows.items(), key=lambda kv: (shape_order[kv[0][0]], int(kv[0][1][1:]))):
    cells = []
    for p, i in cols:
        g = v.get((i, p))
        cells.append(f"{g[0]:.1f} ({g[1]:.0f}% / {g[2]:.0f}%)" if g else "-")
    print(f"| {shape} ({label}) | {batch[1:]} | " + " | ".join(cells) + " |")
if dnnl:
    nshapes = len({k[0] for k in rows})
    print(f"\noneDNN {ctx.get('onednn_version', '?')}, {ctx.get('onednn_threads', '?')} threads; per pass, the "
          "implementation it chose, for which shapes, and what the untimed NCHW/OIHW reorders would add:")
    for (pas, chosen), v in sorted(dnnl.items()):
        shapes = list(dict.fromkeys(sh for sh, _ in v))
        share = sorted(r for _, r in v)
        print(f"- {pas}: {chosen} on " + (f"all {nshapes} shapes" if len(shapes) == nshapes else ", ".join(shapes)) +
              f"; reorders +{100 * share[0]:.0f}..{100 * share[-1]:.0f}% of the primitive's time")
