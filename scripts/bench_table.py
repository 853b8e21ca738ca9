#!/usr/bin/python3
"""Reads the JSON lines written by scripts/bench.sh (alternating ann and PyTorch runs) and
prints the ratio table: per architecture the median over rounds of each side, and
PyTorch time / ann time for the training step and ann images/s / PyTorch images/s for evaluation
(> 1 means ann is faster in both columns). Each side's speed is also given as % of the cores'
FMA peak that bench_e2e measured in the same run (median over ann's rounds), from the models'
useful FLOPs (benchmarks/model_flops.hpp: direct-convolution FLOPs, the same for both sides)."""
import json, statistics, sys

ann, torch = [], []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    rec = json.loads(line)
    (torch if "torch" in rec else ann).append(rec)
if not ann or not torch:
    sys.exit("bench_table: need at least one ann and one PyTorch result")

def med(runs, key, arch):
    return statistics.median(r[key][arch] for r in runs if arch in r[key])

archs = list(ann[0]["train_ms"].keys())
fma = statistics.median(r["fma_peak_gflops"] for r in ann) if "fma_peak_gflops" in ann[0] else None
print(f"threads={ann[0]['threads']}  rounds: ann {len(ann)}, PyTorch {len(torch)} (medians over rounds)")
if fma:
    sg = statistics.median(r["sgemm_peak_gflops"] for r in ann)
    print(f"FMA peak {fma:.1f} GFLOP/s ({ann[0]['fma_peak_isa']}), sgemm peak {sg:.1f} GFLOP/s "
          f"(OpenBLAS kernel {ann[0]['openblas_core']}); (x%) = % of the FMA peak")
print(f"{'arch':6} | {'ann train ms':>19} {'torch ms':>16} {'speedup':>8} | {'ann eval img/s':>21} {'torch img/s':>19} {'speedup':>8}")
print("-" * 108)

def pct(flops, seconds):
    return f" ({100 * flops / seconds * 1e-9 / fma:4.1f}%)" if fma else ""

for a in archs:
    at, tt = med(ann, "train_ms", a), med(torch, "train_ms", a)
    ae, te = med(ann, "eval_ips", a), med(torch, "eval_ips", a)
    fl = ann[0].get("flops", {}).get(a)
    ts = fl["train_step"] if fl else 0
    ei = fl["eval_image"] if fl else 0
    print(f"{a:6} | {at:11.3f}{pct(ts, at / 1e3):>8} {tt:8.3f}{pct(ts, tt / 1e3):>8} {tt / at:7.2f}x | "
          f"{ae:13.0f}{pct(ei, 1 / ae):>8} {te:11.0f}{pct(ei, 1 / te):>8} {ae / te:7.2f}x")
