#!/usr/bin/python3
"""Reads the JSON lines written by scripts/bench.sh (alternating ann and PyTorch runs) and
prints the ratio table: per architecture the median over rounds of each side, and
PyTorch time / ann time for the training step and ann images/s / PyTorch images/s for evaluation
(> 1 means ann is faster in both columns)."""
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
print(f"threads={ann[0]['threads']}  rounds: ann {len(ann)}, PyTorch {len(torch)} (medians over rounds)")
print(f"{'arch':6} | {'ann train ms':>12} {'torch ms':>9} {'speedup':>8} | {'ann eval img/s':>14} {'torch img/s':>11} {'speedup':>8}")
print("-" * 82)
for a in archs:
    at, tt = med(ann, "train_ms", a), med(torch, "train_ms", a)
    ae, te = med(ann, "eval_ips", a), med(torch, "eval_ips", a)
    print(f"{a:6} | {at:12.3f} {tt:9.3f} {tt / at:7.2f}x | {ae:14.0f} {te:11.0f} {ae / te:7.2f}x")
