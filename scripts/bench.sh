#!/usr/bin/env bash
# Benchmarks ann against PyTorch on this machine and prints the ratio table.
#   scripts/bench.sh [--threads N] [--rounds R] [--no-conv] [--build]
# Builds the `bench` preset if needed (or with --build), runs the conv kernel microbenchmarks
# (bench_conv, GFLOP/s and % of the measured sgemm peak per shape), then R rounds of
# ann (bench_e2e) and PyTorch (benchmarks/torch_e2e.py, Debian's python3-torch) ALTERNATING, so
# both see the same machine load, and prints medians and ratios (scripts/bench_table.py).
# Results go to build/bench/results/ (conv.json, e2e.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2 rounds=3 conv=1 build=0
while (($#)); do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --no-conv) conv=0; shift ;;
    --build) build=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3  # Debian's python with python3-torch, not a pyenv one
bin=build/bench/benchmarks
if ((build)) || [[ ! -x $bin/bench_e2e || ! -x $bin/bench_conv ]]; then
  cmake --preset bench >/dev/null
  cmake --build --preset bench -j2 --target bench_e2e bench_conv
fi
out=build/bench/results
mkdir -p "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
if ((conv)); then
  "$bin/bench_conv" --ann_threads="$threads" --benchmark_min_time=0.2 \
    --benchmark_out="$out/conv.json" --benchmark_out_format=json
fi
: > "$out/e2e.jsonl"
for ((r = 1; r <= rounds; r++)); do
  "$bin/bench_e2e" --threads "$threads" | tee -a "$out/e2e.jsonl"
  "$py" benchmarks/torch_e2e.py --threads "$threads" | tee -a "$out/e2e.jsonl"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
((conv)) && "$py" scripts/conv_table.py "$out/conv.json"
"$py" scripts/bench_table.py "$out/e2e.jsonl"
