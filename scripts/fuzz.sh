#!/usr/bin/env bash
# Builds a libFuzzer target from fuzz/TARGET.cpp (clang-14, ASan + UBSan) and runs it for SECONDS:
#   scripts/fuzz.sh checkpoint_reader 600
# The committed seeds in fuzz/corpus/TARGET/ are only read; inputs the fuzzer finds go to
# build/fuzz/TARGET/corpus/, crashing inputs to build/fuzz/TARGET/artifacts/ (reproduce one with
# build/fuzz/TARGET/TARGET FILE). The run ends with libFuzzer's stats (execs, run time).
# Extra arguments after SECONDS go to libFuzzer (e.g. -jobs=2). Exit code: libFuzzer's
# (0 = no crash, hang, leak or sanitizer report).
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]"
target=${1:?$usage}
seconds=${2:?$usage}
shift 2
[[ -f fuzz/$target.cpp ]] || { echo "fuzz.sh: no fuzz target fuzz/$target.cpp" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2; }
scripts/bootstrap.sh --fuzz
out=build/fuzz/$target
mkdir -p "$out/corpus" "$out/artifacts"
bin=$out/$target
extra=()
# The ONNX importer uses ONNX's protobuf classes (Debian's libonnx-dev), with the defines its CMake package sets.
[[ $target == onnx_model ]] && extra=(-DONNX_NAMESPACE=onnx -DONNX_ML=1 -lonnx_proto -lprotobuf)
if [[ ! -x $bin ]] || [[ -n $(find include fuzz -newer "$bin" -name '*.[hc]pp' -print -quit) ]]; then
  echo "fuzz.sh: building $bin"
  "${CXX_FUZZ:-clang++-14}" -std=c++17 -O1 -g -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I include -I fuzz "fuzz/$target.cpp" "${extra[@]}" -lopenblas -lz -o "$bin"
fi
# One OpenBLAS thread: the fuzzer runs one input at a time, and the machine may be shared.
export OPENBLAS_NUM_THREADS=1
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/" "$@" "$out/corpus" "fuzz/corpus/$target"
