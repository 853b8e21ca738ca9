#!/usr/bin/env bash
# The device check, run on the lent GPU machine (CUDA 13, cmake, ninja, PyTorch with CUDA in
# python3; no Debian packages, no network). Needs .gpu-pack/ (or .gpu-bundle/) carried along,
# made on the dev machine by scripts/gpu-bundle.sh. Each step logs to $OUT/<step>.log, with its
# exit code and time in $OUT/steps.log; a failed step does not stop the later ones:
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

if [ ! -d .gpu-bundle ] && [ -f .gpu-pack/gpu-bundle.tar.xz ]; then
  tar -xJf .gpu-pack/gpu-bundle.tar.xz || { echo "gpu-check: cannot unpack .gpu-pack/gpu-bundle.tar.xz" >&2; exit 2; }
fi
if [ ! -d .gpu-bundle ]; then
  echo "gpu-check: .gpu-bundle/ missing: run scripts/gpu-bundle.sh on the dev machine and carry .gpu-pack" >&2
  exit 2
fi
export LD_LIBRARY_PATH=$ROOT/.gpu-bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
command -v nvcc > /dev/null || export PATH=/usr/local/cuda/bin:$PATH

# cuDNN (and cuBLAS): the toolkit's if it has them, else the pip wheels' that torch uses
# (nvidia-cudnn-cu13, nvidia-cublas), wherever under site-packages/nvidia they keep their files;
# cuDNN's headers from the bundle if the wheel has none.
find_in_wheels() {
  python3 - "$@" << 'PY' 2> /dev/null
import glob, os, sys
try:
    import nvidia
    roots = list(nvidia.__path__)
except Exception:
    roots = []
for pat in sys.argv[1:]:
    hit = ""
    for r in roots:
        g = sorted(glob.glob(os.path.join(r, "**", pat), recursive=True))
        if g:
            hit = g[0]
            break
    print(hit or "-")
PY
}
has() {  # has "GLOB..." -> true if any match exists
  local f
  for f in $1; do [ -e "$f" ] && return 0; done
  return 1
}
cmake_extra=()
if ! has "/usr/local/cuda/include/cudnn_version.h /usr/include/cudnn_version.h /usr/include/x86_64-linux-gnu/cudnn_version.h"; then
  read -r lib inc < <(find_in_wheels libcudnn.so.9 cudnn_version.h | tr '\n' ' ')
  if [ "${lib:--}" != "-" ]; then
    [ "${inc:--}" != "-" ] && inc=$(dirname "$inc") || inc=$ROOT/.gpu-bundle/cudnn/include
    cmake_extra+=(-DCUDNN_LIBRARY="$lib" -DCUDNN_INCLUDE_DIR="$inc")
    export LD_LIBRARY_PATH=$(dirname "$lib"):$LD_LIBRARY_PATH
  fi
fi
if ! has "/usr/local/cuda/lib64/libcublas.so* /usr/local/cuda/lib/libcublas.so* /usr/local/cuda/targets/x86_64-linux/lib/libcublas.so*"; then
  read -r lib inc < <(find_in_wheels 'libcublas.so.*' cublas_v2.h | tr '\n' ' ')
  if [ "${lib:--}" != "-" ] && [ "${inc:--}" != "-" ]; then
    cmake_extra+=(-DCUBLAS_LIBRARY="$lib" -DCUBLAS_INCLUDE_DIR="$(dirname "$inc")")
    export LD_LIBRARY_PATH=$(dirname "$lib"):$LD_LIBRARY_PATH
  fi
fi

{
  date -u
  nvidia-smi
  echo "nvcc: $(command -v nvcc)"; nvcc --version
  cmake --version | head -n 1; echo "ninja $(ninja --version)"; g++ --version | head -n 1
  echo "extra cmake args (cuDNN/cuBLAS from wheels): ${cmake_extra[*]:-none}"
  ls /usr/local/cuda/ /usr/local/cuda/lib64/ 2>&1 | grep -iE "cudnn|cublas|^lib" | head -n 20
  python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda, torch.cuda.get_device_name(), "cudnn", torch.backends.cudnn.version())'
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
} > "$OUT/env.txt" 2>&1
head -n 40 "$OUT/env.txt"

B=$ROOT/build/gpu
step configure 300 cmake --preset gpu -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" "${cmake_extra[@]}" || { echo "configure failed"; exit 1; }
step build 400 cmake --build --preset gpu -j "${JOBS:-$(nproc)}" || { echo "build failed"; exit 1; }

step tests 240 "$B/tests/cuda/test_cuda" --durations yes
step conv 120 "$B/benchmarks/cuda/bench_cuda_conv" "$OUT/conv.jsonl" 50 30
python3 benchmarks/cuda/summarize_conv.py "$OUT/conv.jsonl" > "$OUT/conv_summary.md" 2>&1 || true
step train 180 "$B/benchmarks/cuda/bench_cuda_train" "$OUT/train.jsonl" 300 10000
step torch 240 python3 benchmarks/cuda/bench_torch.py --out "$OUT/torch.jsonl" --ours "$OUT/train.jsonl" --summary "$OUT/summary.md" --steps 300 --eval-samples 10000
if command -v compute-sanitizer > /dev/null; then
  ANN_CUDA_CONV_ALGO=heuristic step memcheck 150 compute-sanitizer --tool memcheck --leak-check full --report-api-errors no --error-exitcode 3 \
    "$B/tests/cuda/test_cuda" "[layers],[loss],[optim],[data],[errors]"
fi
echo "== done, status $status; results in $OUT"
cat "$OUT/steps.log"
exit $status
