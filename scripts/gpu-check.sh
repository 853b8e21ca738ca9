#!/usr/bin/env bash
# The device check, run on the lent GPU machine (CUDA 13, cmake, ninja, PyTorch with CUDA in
# python3; no Debian packages, no network). Needs .gpu-bundle/ carried along (made here by
# scripts/gpu-bundle.sh). Steps, each logged to $OUT/<step>.log with its exit code and time in
# $OUT/steps.log; a failed step does not stop the later ones:
#   env       what the machine has (GPU, nvcc, cuDNN/cuBLAS locations, torch)
#   configure cmake --preset gpu (+ where cuDNN lives there)     build  test_cuda + benchmarks
#   tests     the CUDA parity tests                               conv   every cuDNN algorithm
#   train     training-step / evaluation benchmark (ann)          torch  the same in PyTorch + ratios
#   memcheck  compute-sanitizer (memcheck + leak check) on the fast tests
# Usage: scripts/gpu-check.sh     (OUT defaults to ./gpu-results)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-results}
mkdir -p "$OUT"
: > "$OUT/steps.log"
export PYTHONUNBUFFERED=1
status=0
step() {  # step NAME TIMEOUT_S CMD...
  local name=$1 limit=$2 t0=$SECONDS rc
  shift 2
  echo "== $name: $*" | tee -a "$OUT/steps.log"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  echo "== $name rc=$rc $((SECONDS - t0))s" | tee -a "$OUT/steps.log"
  tail -n 15 "$OUT/$name.log"
  [ $rc -eq 0 ] || status=1
  return $rc
}

if [ ! -d .gpu-bundle ]; then
  echo "gpu-check: .gpu-bundle/ missing: run scripts/gpu-bundle.sh on the dev machine and carry it" >&2
  exit 2
fi
export LD_LIBRARY_PATH=$ROOT/.gpu-bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
command -v nvcc > /dev/null || export PATH=/usr/local/cuda/bin:$PATH

# cuDNN: the toolkit's if it has one, else the pip wheel's library (nvidia-cudnn-cu13, which
# torch uses) with its headers, or ours from the bundle if the wheel has none.
cudnn_args=()
cudnn_found=""
for d in /usr/local/cuda/include /usr/include /usr/include/x86_64-linux-gnu; do
  [ -f "$d/cudnn_version.h" ] && cudnn_found=$d
done
if [ -z "$cudnn_found" ]; then
  wheel=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2> /dev/null || true)
  if [ -n "$wheel" ] && ls "$wheel"/lib/libcudnn.so* > /dev/null 2>&1; then
    lib=$(ls "$wheel"/lib/libcudnn.so* | head -n 1)
    inc=$wheel/include
    [ -f "$inc/cudnn_version.h" ] || inc=$ROOT/.gpu-bundle/cudnn/include
    cudnn_args=(-DCUDNN_LIBRARY="$lib" -DCUDNN_INCLUDE_DIR="$inc")
    export LD_LIBRARY_PATH=$wheel/lib:$LD_LIBRARY_PATH
  fi
fi
# The same for cuBLAS, if the toolkit lacks it (torch's wheel has one).
if ! ls /usr/local/cuda/lib64/libcublas.so* /usr/local/cuda/lib/libcublas.so* > /dev/null 2>&1; then
  cw=$(python3 -c 'import nvidia.cublas as m; print(list(m.__path__)[0])' 2> /dev/null || true)
  [ -n "$cw" ] && export LD_LIBRARY_PATH=$cw/lib:$LD_LIBRARY_PATH
fi

{
  date -u
  nvidia-smi
  echo "nvcc: $(command -v nvcc)"; nvcc --version
  cmake --version | head -n 1; echo "ninja $(ninja --version)"; g++ --version | head -n 1
  echo "cudnn headers in toolkit/system: ${cudnn_found:-none}; cmake args: ${cudnn_args[*]:-none}"
  ls /usr/local/cuda/ /usr/local/cuda/lib64/ 2>&1 | grep -iE "cudnn|cublas|^lib" | head -n 20
  python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda, torch.cuda.get_device_name(), "cudnn", torch.backends.cudnn.version())'
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
} > "$OUT/env.txt" 2>&1
head -n 40 "$OUT/env.txt"

B=$ROOT/build/gpu
step configure 300 cmake --preset gpu -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" "${cudnn_args[@]}" || { echo "configure failed"; exit 1; }
step build 400 cmake --build --preset gpu -j "$(nproc)" || { echo "build failed"; exit 1; }

step tests 240 "$B/tests/cuda/test_cuda" --durations yes
step conv 120 "$B/benchmarks/cuda/bench_cuda_conv" "$OUT/conv.jsonl" 50 30
python3 benchmarks/cuda/summarize_conv.py "$OUT/conv.jsonl" > "$OUT/conv_summary.md" 2>&1 || true
step train 180 "$B/benchmarks/cuda/bench_cuda_train" "$OUT/train.jsonl" 300 10000
step torch 240 python3 benchmarks/cuda/bench_torch.py --out "$OUT/torch.jsonl" --ours "$OUT/train.jsonl" --summary "$OUT/summary.md" --steps 300 --eval-samples 10000
if command -v compute-sanitizer > /dev/null; then
  step memcheck 150 compute-sanitizer --tool memcheck --leak-check full --report-api-errors no --error-exitcode 3 \
    "$B/tests/cuda/test_cuda" "[layers],[loss],[optim],[data],[errors]"
fi
echo "== done, status $status; results in $OUT"
cat "$OUT/steps.log"
exit $status
