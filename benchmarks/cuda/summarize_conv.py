#!/usr/bin/env python3
"""Summarises bench_cuda_conv's JSON lines: per convolution shape and direction, the fastest
cuDNN algorithm, the slowest that ran, and what cudnnFind / the heuristics picked (with its time).

  summarize_conv.py conv.jsonl > conv_summary.md"""
import json
import sys
from collections import defaultdict


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) == 2 else 2
    times = defaultdict(dict)
    picks = {}
    for line in open(sys.argv[1]):
        r = json.loads(line)
        key = (r["arch"], r["layer"], r["shape"])
        if "pick" in r:
            picks[(key, r["pick"])] = r
        elif r["status"] == "ok":
            times[(key, r["dir"])][r["algo"]] = r["ms"]
    print("| arch | layer | shape | dir | fastest algo (ms) | slowest (ms) | find pick (ms) | heuristic pick (ms) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for (key, d), t in sorted(times.items()):
        best = min(t, key=t.get)
        worst = max(t, key=t.get)
        cells = []
        for how in ("find", "heuristic"):
            p = picks.get((key, how))
            a = p[d] if p else None
            cells.append(f"{a} ({t[a]:.4f})" if a in t else f"{a} (-)")
        print(f"| {key[0]} | {key[1]} | {key[2]} | {d} | {best} ({t[best]:.4f}) | {worst} ({t[worst]:.4f}) | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
