#!/usr/bin/env bash
# Data-parallel scaling of ann's training step over MPI on this machine: bench_dist under mpirun
# with 1 rank and with --np ranks (--threads each), the two ALTERNATING per architecture and round
# so both see the same machine load; prints a markdown table per architecture: the step time of
# each (median over rounds of each run's median step), speed-up = t1 / tP, efficiency =
# speed-up / P, and at P ranks the compute and allreduce time per step and the bytes reduced.
#   scripts/bench_dist.sh [--np P] [--threads T] [--steps S] [--rounds R] [--archs a,b]
#                         [--wait-idle SECONDS] [--bin PATH] [--build]
# Defaults: --np 2 --threads 1 --steps 30 --rounds 3, all five architectures. On a shared machine
# the CPU time of other processes during each run is measured and shown (a P-rank run needs P idle
# cores); --wait-idle waits up to that long before each run for them to go idle. Builds the
# `bench` preset's bench_dist if needed (or with --build) unless --bin names one. Results:
# build/bench/results/dist/ (one JSON per run, and table.md).
set -euo pipefail
cd "$(dirname "$0")/.."
np=2 threads=1 steps=30 rounds=3 wait=0 archs=mlp_1,mlp_2,cnn_3,cnn_4,cnn_5 bin="" build=0
usage() { sed -n '2,13p' "$0"; }
need() { [[ $# -ge 2 && -n $2 ]] || { echo "bench_dist.sh: $1 needs a value (see --help)" >&2; exit 2; }; }
whole() {  # option value min
  [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= 100000)) ||
    { echo "bench_dist.sh: $1: expected a whole number from $3 to 100000, got '$2' (see --help)" >&2; exit 2; }
}
while (($#)); do
  case "$1" in
    --np) need "$@"; whole "$1" "$2" 2; np="$2"; shift 2 ;;
    --threads) need "$@"; whole "$1" "$2" 1; threads="$2"; shift 2 ;;
    --steps) need "$@"; whole "$1" "$2" 1; steps="$2"; shift 2 ;;
    --rounds) need "$@"; whole "$1" "$2" 1; rounds="$2"; shift 2 ;;
    --wait-idle) need "$@"; whole "$1" "$2" 0; wait="$2"; shift 2 ;;
    --archs) need "$@"; archs="$2"; shift 2 ;;
    --bin) need "$@"; bin="$2"; shift 2 ;;
    --build) build=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench_dist.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v mpirun >/dev/null || { echo "bench_dist.sh: mpirun not found (Debian: openmpi-bin libopenmpi-dev)" >&2; exit 2; }
if [[ -z $bin ]]; then
  bin=build/bench/benchmarks/bench_dist
  if ((build)) || [[ ! -x $bin ]]; then
    cmake --preset bench >/dev/null
    cmake --build --preset bench -j2 --target bench_dist
  fi
fi
[[ -x $bin ]] || { echo "bench_dist.sh: --bin: '$bin' is not an executable (build the bench_dist target)" >&2; exit 2; }
IFS=, read -ra arch_list <<< "$archs"
for a in "${arch_list[@]}"; do
  case "$a" in mlp_1|mlp_2|cnn_3|cnn_4|cnn_5) ;;
    *) echo "bench_dist.sh: --archs: expected mlp_1, mlp_2, cnn_3, cnn_4 or cnn_5, got '$a' (see --help)" >&2; exit 2 ;;
  esac
done

# Open MPI: more ranks than cores needs --oversubscribe, and root needs the two variables. It binds
# each rank to one core for -np <= 2: a rank with several threads must not be bound.
launcher=(mpirun)
if mpirun --version 2>/dev/null | grep -q "Open MPI"; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  launcher+=(--oversubscribe)
  ((threads > 1)) && launcher+=(--bind-to none)
fi
out=build/bench/results/dist
mkdir -p "$out"
rm -f "$out"/np*.json "$out"/np*.others
# The machine may be shared: other processes' CPU use is measured around every run, as the ticks
# all cores were busy (/proc/stat) minus this script's children's own (/proc/$$/stat), in cores.
busy_ticks() { local c; read -ra c < <(grep '^cpu ' /proc/stat); echo $((c[1] + c[2] + c[3] + c[6] + c[7])) $((c[4] + c[5])); }
own_ticks() { local s f; s=$(< "/proc/$$/stat"); read -ra f <<< "${s##*) }"; echo $((f[13] + f[14])); }
ncpu=$(nproc)
others() {  # busy0 idle0 own0 busy1 idle1 own1 -> cores used by other processes
  awk -v b="$(($4 - $1 - ($6 - $3)))" -v t="$(($4 - $1 + $5 - $2))" -v n="$ncpu" \
    'BEGIN { v = t > 0 ? n * b / t : 0; printf "%.2f", v < 0 ? 0 : v }'
}
idle_load() { local a b o; a=$(busy_ticks); o=$(own_ticks); sleep 1; b=$(busy_ticks); others $a $o $b "$(own_ticks)"; }
wait_idle() {
  local waited=0 load
  load=$(idle_load)
  while ((waited < wait)) && awk -v l="$load" 'BEGIN { exit !(l >= 0.25) }'; do
    ((waited == 0)) && echo "  waiting for the other processes' $load cores to go idle (--wait-idle $wait)"
    sleep 4; waited=$((waited + 5)); load=$(idle_load)
  done
}
echo "machine: $ncpu cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); other processes use $(idle_load) cores"
echo "launcher: ${launcher[*]} -np P $bin --threads $threads --steps $steps"
for ((r = 1; r <= rounds; r++)); do
  for a in "${arch_list[@]}"; do
    for p in 1 "$np"; do
      ((wait)) && wait_idle
      echo "round $r/$rounds, $a, $p rank(s)"
      b0=$(busy_ticks) o0=$(own_ticks)
      # The whole report once, then only the result rows (the header repeats in every run).
      "${launcher[@]}" -np "$p" "$bin" --arch "$a" --threads "$threads" --steps "$steps" \
        --json "$out/np$p-$a-r$r.json" | { if [[ $r == 1 && $a == "${arch_list[0]}" ]]; then cat; else tail -n 1; fi; }
      load=$(others $b0 $o0 $(busy_ticks) "$(own_ticks)")
      echo "$load" > "$out/np$p-$a-r$r.others"
      awk -v l="$load" 'BEGIN { exit !(l >= 0.25) }' && echo "  warning: other processes used $load cores during this run"
    done
  done
done

python3 - "$out" "$np" "$rounds" "${arch_list[@]}" <<'EOF' | tee "$out/table.md"
import json, statistics, sys
out, P, rounds, archs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def runs(p, a):
    return [json.load(open(f"{out}/np{p}-{a}-r{r}.json")) for r in range(1, rounds + 1)]
def med(rs, key, a):
    return statistics.median(r["archs"][a][key] for r in rs)
first = runs(1, archs[0])[0]
print(f"\n{P} ranks vs 1, {first['threads']} thread(s) per rank, global batch {first['batch']}, Adam; "
      f"median of {first['steps']} steps, then of {rounds} round(s); OpenBLAS core {first['openblas_core']}, {first['mpi']}\n")
print(f"| arch | params | bytes/step | P=1 step ms | P={P} step ms | speed-up | efficiency "
      f"| P={P} compute ms | P={P} allreduce ms | P={P} imbalance ms | allreduce alone ms | other load (cores) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
worst = 0.0
for a in archs:
    one, many = runs(1, a), runs(P, a)
    t1, tp = med(one, "step_ms", a), med(many, "step_ms", a)
    j = many[0]["archs"][a]
    load = max(float(open(f"{out}/np{p}-{a}-r{r}.others").read()) for p in (1, P) for r in range(1, rounds + 1))
    worst = max(worst, load)
    print(f"| {a} | {j['params']} | {j['bytes_per_step']} | {t1:.3f} | {tp:.3f} | {t1 / tp:.2f} | {t1 / tp / P:.0%} "
          f"| {med(many, 'compute_ms', a):.3f} | {med(many, 'allreduce_ms', a):.3f} | {med(many, 'imbalance_ms', a):.3f} "
          f"| {med(many, 'allreduce_alone_ms', a):.3f} | {load:.2f} |")
print("\ncompute: the slowest rank's shard (forward, backward) + Adam; allreduce: that rank's time in the one sum "
      "(gradients and loss); imbalance: slowest minus fastest rank's compute; alone: the same bytes allreduced after a "
      "barrier; other load: the most CPU cores other processes used during any run of that row.")
if worst >= 0.25:
    print(f"\nwarning: other processes used up to {worst:.2f} cores during the runs: the times above are not of an idle "
          "machine (--wait-idle waits for one)")
EOF
