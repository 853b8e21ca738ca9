#!/usr/bin/env bash
# The device check: runs ON the lent GPU machine, from the repository root, with .gpu-pack/
# carried (made here by scripts/gpu-bundle.sh: programs built here, nothing is compiled there).
#
#   unpack    .gpu-pack/gpu-bundle.tar.xz -> .gpu-bundle/ (bin/, lib/, MANIFEST)
#   libs      cuDNN, cuBLAS(Lt) (and cudart, nvrtc) from python3's nvidia pip wheels (PyTorch's),
#             else the toolkit's or ldconfig's; LD_LIBRARY_PATH = .gpu-bundle/lib first;
#             `ldd` of every program must resolve (missing libraries are named)
#   env       GPU, driver, glibc, torch, compute-sanitizer, the bundle's MANIFEST
#   host      test_cuda_host (the backend's host-side checks)
#   parity    test_cuda (CUDA backend vs CPU backend); exit 77 = no usable device: stop here, exit 77
#   conv      bench_cuda_conv, deterministic then nondeterministic
#   train     bench_cuda_train (train_epochs + Evaluator on cuda and cpu side by side)
#   torch     bench_torch.py (the same step in PyTorch) and the ratio table
#   homework  `homework --help`, and --device cuda up to the data (no CIFAR-10 there: ../shared does
#             not travel, so `homework --quick --device cuda` cannot run; informational)
#   memcheck  compute-sanitizer memcheck on test_cuda "[primitives]" (if compute-sanitizer is there)
# Every step has its own `timeout`, and the whole check a budget (GPU_CHECK_BUDGET_S, default
# 330 s): steps that would not fit are skipped, and say so.
#
# $OUT (default ./gpu-results) gets at most 8 files: steps.log (environment, each step's exit
# code, seconds and last lines), tests.log, logs.txt (every other step's full output),
# conv.jsonl, train.jsonl, torch.jsonl, summary.md, memcheck.log.
# Exit codes: 0 every step passed; 77 no usable CUDA device (nothing after the parity step ran);
# 1 a step failed, or the bundle is missing / broken.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-results}
BUDGET=${GPU_CHECK_BUDGET_S:-330}
BUNDLE=$ROOT/.gpu-bundle
PACK=$ROOT/.gpu-pack/gpu-bundle.tar.xz
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" || { echo "gpu-check: cannot create $OUT" >&2; exit 1; }
OUTFILES=(steps.log tests.log logs.txt conv.jsonl train.jsonl torch.jsonl summary.md memcheck.log)
for f in "${OUTFILES[@]}"; do rm -f "$OUT/$f"; done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX") || { echo "gpu-check: no temporary folder" >&2; exit 1; }
trap 'rm -rf "$WORK"' EXIT
STEPS=$OUT/steps.log LOGS=$OUT/logs.txt TESTS=$OUT/tests.log
: > "$STEPS"
: > "$LOGS"
: > "$TESTS"
T0=$SECONDS
failed=()
rows=()

note() { echo "$*" | tee -a "$STEPS"; }
finish() {  # finish EXIT_CODE MESSAGE
  note "== $2 (total $((SECONDS - T0)) s)"
  {
    echo "# GPU check: $2"
    echo
    head -n 3 "$BUNDLE/MANIFEST" 2> /dev/null | sed 's/^/    /'
    echo
    echo "| step | result | seconds |"
    echo "| --- | --- | --- |"
    for r in "${rows[@]}"; do echo "$r"; done
    echo
    [ -s "$WORK/torch_summary.md" ] && { cat "$WORK/torch_summary.md"; echo; }
    [ -s "$WORK/conv_summary.md" ] && cat "$WORK/conv_summary.md"
  } > "$OUT/summary.md"
  local n
  n=$(find "$OUT" -type f | wc -l)
  [ "$n" -le 8 ] || note "gpu-check: WARNING: $n files in $OUT, the device tool returns 8"
  exit "$1"
}

# step NAME LIMIT_S LOG CMD...: runs CMD with `timeout`, its output appended to LOG; records
# the exit code and seconds. Returns the exit code (125 = skipped: no time left in the budget).
step() {
  local name=$1 limit=$2 log=$3 t0=$SECONDS rc left
  shift 3
  left=$((BUDGET - (SECONDS - T0)))
  if [ "$left" -lt 15 ]; then
    note "== $name: SKIPPED, the check's budget of ${BUDGET} s is spent"
    LAST_RC=125 LAST_S=0
    return 125
  fi
  [ "$limit" -le "$left" ] || limit=$left
  local first
  [ -f "$log" ] || : > "$log"
  first=$(($(wc -l < "$log") + 1))
  LAST_LOG=$log LAST_FIRST=$first
  echo "== $name (limit ${limit} s): $*" >> "$log"
  timeout -k 5 "$limit" "$@" >> "$log" 2>&1
  rc=$?
  echo "== $name: exit $rc after $((SECONDS - t0)) s" >> "$log"
  local what="rc=$rc"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && what="rc=$rc TIMED OUT after ${limit} s"
  note "== $name: $what, $((SECONDS - t0)) s"
  tail -n "+$first" "$log" | grep -v '^== ' | grep -v '^ *$' | tail -n 6 | sed 's/^/   | /' | tee -a "$STEPS"
  LAST_RC=$rc LAST_S=$((SECONDS - t0))
  return $rc
}
last_output() { tail -n "+$LAST_FIRST" "$LAST_LOG"; }  # what the last step printed
record() {  # record NAME RESULT: a row of the summary; "FAILED..." marks the check failed
  local r=$2
  [ "${LAST_RC:-0}" -ne 125 ] || r="skipped (budget)"
  rows+=("| $1 | $r | ${LAST_S:-0} |")
  case "$2" in FAILED*) failed+=("$1") ;; esac
}

# ---- unpack -----------------------------------------------------------------------------------
if [ -f "$PACK" ] && { [ ! -f "$BUNDLE/MANIFEST" ] || [ "$PACK" -nt "$BUNDLE/MANIFEST" ]; }; then
  rm -rf "$BUNDLE"
  # tar's -J needs the xz program; python3's tarfile (lzma) is the fallback.
  tar -xJf "$PACK" -C "$ROOT" 2> "$WORK/untar.err" || {
    rm -rf "$BUNDLE"
    python3 - "$PACK" "$ROOT" << 'PY' || { note "gpu-check: cannot unpack $PACK: $(cat "$WORK/untar.err")"; exit 1; }
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    try:
        t.extractall(sys.argv[2], filter="fully_trusted")
    except TypeError:  # Python < 3.12: no filter argument
        t.extractall(sys.argv[2])
PY
  }
  touch "$BUNDLE/MANIFEST"
fi
if [ ! -d "$BUNDLE/bin" ]; then
  note "gpu-check: no .gpu-bundle/bin: run scripts/gpu-bundle.sh on the dev machine and carry .gpu-pack"
  exit 1
fi
PROGRAMS=(test_cuda test_cuda_host bench_cuda_conv bench_cuda_train homework libann_cuda_plugin.so)
for p in "${PROGRAMS[@]}"; do
  [ -x "$BUNDLE/bin/$p" ] || { note "gpu-check: .gpu-bundle/bin/$p missing (rebuild the bundle)"; exit 1; }
done
PY_DIR=$BUNDLE/benchmarks/cuda
[ -f "$PY_DIR/bench_torch.py" ] || PY_DIR=$ROOT/benchmarks/cuda

# ---- libraries ------------------------------------------------------------------------------
# Folders to search for CUDA's libraries: python3's nvidia wheels (what PyTorch loads), then
# the toolkit's folders. ldconfig's cache is asked last.
ORIG_LD=${LD_LIBRARY_PATH-}
wheel_roots=$(timeout 60 python3 -c 'import nvidia, os; print("\n".join(list(nvidia.__path__)))' 2> /dev/null)
search_dirs=()
while IFS= read -r r; do
  [ -n "$r" ] || continue
  while IFS= read -r d; do search_dirs+=("$d"); done < <(find "$r" -maxdepth 3 -type d -name lib 2> /dev/null | sort)
done <<< "$wheel_roots"
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$d" ] && search_dirs+=("$d")
done
find_lib() {  # the folder holding library $1, or nothing
  local d
  for d in "${search_dirs[@]}"; do [ -e "$d/$1" ] && { echo "$d"; return; }; done
  ldconfig -p 2> /dev/null | awk -v n="$1" '$1 == n {print $NF; exit}' | xargs -r dirname
}
lib_path=$BUNDLE/lib
lib_notes=()
add_dir() { case ":$lib_path:" in *":$1:"*) ;; *) lib_path=$lib_path:$1 ;; esac; }
# CUDA's libraries that the programs link (ldd's names: cuDNN, cuBLAS, cuBLASLt, cudart if not
# static), anything else ldd cannot find, and what cuDNN and cuBLAS load at run time without ldd
# seeing it (nvrtc for cuDNN's runtime-compiled engines, nvJitLink): each from the first folder
# above that has it, put before any system copy (LD_LIBRARY_PATH wins over ldconfig's cache).
needed=$(for p in "${PROGRAMS[@]}"; do LD_LIBRARY_PATH=$lib_path ldd "$BUNDLE/bin/$p" 2>&1; done |
  awk '$1 ~ /^lib(cudnn|cublas|cublasLt|cudart|nvrtc|nvJitLink)[^ ]*\.so/ || /not found/ {print $1}' | sort -u)
for l in $needed libnvrtc.so.13 libnvrtc-builtins.so.13.0 libnvJitLink.so.13; do
  case " ${lib_notes[*]-} " in *" $l: "*) continue ;; esac
  d=$(find_lib "$l")
  if [ -n "$d" ]; then add_dir "$d"; lib_notes+=("$l: $d"); else lib_notes+=("$l: NOT FOUND"); fi
done
export LD_LIBRARY_PATH=$lib_path${ORIG_LD:+:$ORIG_LD}

# ---- env --------------------------------------------------------------------------------------
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); host: $(uname -srm); $(. /etc/os-release 2> /dev/null && echo "$PRETTY_NAME"); $(ldd --version 2>&1 | head -n 1); $(nproc) cores"
  if command -v nvidia-smi > /dev/null; then
    timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | sed 's/^/gpu: /'
  else
    echo "gpu: nvidia-smi not found"
  fi
  echo "torch: $(LD_LIBRARY_PATH=$ORIG_LD timeout 90 python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version(), "device:", torch.cuda.get_device_name() if torch.cuda.is_available() else "none")' 2>&1 | tail -n 1)"
  cs=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2> /dev/null)
  echo "compute-sanitizer: ${cs:-not found}"
  echo "nvidia wheels: ${wheel_roots:-none (python3 has no nvidia package)}"
  echo "libraries from this machine:"
  for n in "${lib_notes[@]}"; do echo "  $n"; done
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "--- bundle MANIFEST"
  cat "$BUNDLE/MANIFEST"
} > "$WORK/env.txt" 2>&1
cat "$WORK/env.txt" | tee -a "$STEPS"
cat "$WORK/env.txt" >> "$LOGS"
COMPUTE_SANITIZER=$(command -v compute-sanitizer || { [ -x /usr/local/cuda/bin/compute-sanitizer ] && echo /usr/local/cuda/bin/compute-sanitizer; })

# ---- ldd ---------------------------------------------------------------------------------------
LAST_S=0 LAST_RC=0
bad=""
for p in "${PROGRAMS[@]}"; do
  echo "--- ldd $p" >> "$LOGS"
  ldd "$BUNDLE/bin/$p" >> "$LOGS" 2>&1
  m=$(ldd "$BUNDLE/bin/$p" 2>&1 | awk '/not found/ {print $1}' | tr '\n' ' ')
  [ -z "$m" ] || bad+="$p needs ${m% }; "
done
if [ -n "$bad" ]; then
  note "== libs: FAILED: ${bad% }"
  note "   searched: .gpu-bundle/lib, ${search_dirs[*]:-no nvidia wheel folders}, ldconfig"
  record libs "FAILED: missing ${bad% }"
  finish 1 "FAILED: shared libraries missing"
fi
note "== libs: every program's libraries resolve"
record libs "ok"

B=$BUNDLE/bin
# ---- tests ---------------------------------------------------------------------------------------
step host 60 "$TESTS" "$B/test_cuda_host"
[ $LAST_RC -eq 0 ] && record host ok || record host "FAILED (rc $LAST_RC)"

step parity 150 "$TESTS" "$B/test_cuda" --durations yes
rc=$LAST_RC
# 77 with its "SKIPPED: <reason>" line (Catch2 alone could exit 77 after 77 failed assertions).
if [ $rc -eq 77 ] && last_output | grep -q '^SKIPPED'; then
  record parity "no CUDA device"
  why=$(last_output | grep -m1 '^SKIPPED' || echo "test_cuda exited 77")
  note "== no usable CUDA device: $why"
  note "== stopping here: the benchmarks and memcheck need a GPU"
  [ ${#failed[@]} -eq 0 ] || note "== (also failed: ${failed[*]})"
  finish 77 "no CUDA device"
fi
[ $rc -eq 0 ] && record parity ok || record parity "FAILED (rc $rc)"

# ---- benchmarks ----------------------------------------------------------------------------------
bench_result() {  # ok / no device / FAILED
  case $LAST_RC in 0) echo ok ;; 77) echo "FAILED: no device (but test_cuda found one)" ;; 125) echo "skipped (budget)" ;; *) echo "FAILED (rc $LAST_RC)" ;; esac
}
step conv 60 "$LOGS" "$B/bench_cuda_conv" --out "$WORK/conv_det.jsonl"
record conv "$(bench_result)"
step conv_nondet 60 "$LOGS" "$B/bench_cuda_conv" --out "$WORK/conv_nondet.jsonl" --nondeterministic
record conv_nondet "$(bench_result)"
cat "$WORK"/conv_det.jsonl "$WORK"/conv_nondet.jsonl > "$OUT/conv.jsonl" 2> /dev/null
[ -s "$OUT/conv.jsonl" ] && python3 "$PY_DIR/summarize_conv.py" "$OUT/conv.jsonl" > "$WORK/conv_summary.md" 2>> "$LOGS"

step train 150 "$LOGS" "$B/bench_cuda_train" --out "$OUT/train.jsonl" --val 500
record train "$(bench_result)"

step torch 120 "$LOGS" env LD_LIBRARY_PATH="$ORIG_LD" python3 "$PY_DIR/bench_torch.py" \
  --out "$OUT/torch.jsonl" --ours "$OUT/train.jsonl" --summary "$WORK/torch_summary.md"
case $LAST_RC in
  0) record torch ok ;;
  77) record torch "FAILED: $(last_output | grep -m1 '^SKIPPED' || echo 'no torch / no device')" ;;
  125) record torch "skipped (budget)" ;;
  *) record torch "FAILED (rc $LAST_RC)" ;;
esac
# The table even when torch failed (ann's columns).
[ -s "$WORK/torch_summary.md" ] || python3 "$PY_DIR/bench_torch.py" --no-run --ours "$OUT/train.jsonl" \
  --out "$OUT/torch.jsonl" --summary "$WORK/torch_summary.md" > /dev/null 2>> "$LOGS"

# ---- homework ------------------------------------------------------------------------------------
step homework 30 "$LOGS" "$B/homework" --help
[ $LAST_RC -eq 0 ] && record homework "ok (--help; no CIFAR-10 here, so no training run)" || record homework "FAILED (rc $LAST_RC)"
# Informational: --device cuda gets past device selection and stops at the missing data.
mkdir -p "$WORK/no-data"
echo "== homework --device cuda without data (informational: the error must be about the data, not CUDA)" >> "$LOGS"
timeout 30 "$B/homework" --quick --device cuda --parts 3 --archs mlp_1 --data "$WORK/no-data" --out "$WORK/hw" >> "$LOGS" 2>&1
echo "== exit $?" >> "$LOGS"

# ---- memcheck ------------------------------------------------------------------------------------
if [ -n "$COMPUTE_SANITIZER" ]; then
  step memcheck 100 "$OUT/memcheck.log" "$COMPUTE_SANITIZER" --tool memcheck --report-api-errors no \
    --error-exitcode 3 "$B/test_cuda" "[primitives]"
  if [ $LAST_RC -eq 0 ]; then
    record memcheck ok
  elif [ $LAST_RC -eq 125 ]; then
    record memcheck "skipped (budget)"
  elif [ $LAST_RC -eq 124 ] || [ $LAST_RC -eq 137 ]; then
    record memcheck "inconclusive: timed out (not counted as a failure)"
  elif grep -qiE "device not supported|not supported on this|error 999" "$OUT/memcheck.log"; then
    record memcheck "unsupported on this machine (not counted as a failure)"
  else
    record memcheck "FAILED (rc $LAST_RC; 3 = memcheck errors)"
  fi
else
  echo "compute-sanitizer not found: memcheck not run" > "$OUT/memcheck.log"
  LAST_S=0 LAST_RC=0
  record memcheck "not run (no compute-sanitizer)"
fi

if [ ${#failed[@]} -gt 0 ]; then
  finish 1 "FAILED: ${failed[*]}"
fi
finish 0 "all steps passed"
