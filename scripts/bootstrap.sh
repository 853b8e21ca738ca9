#!/usr/bin/env bash
# Installs what ann needs from Debian's packages. Idempotent: installs only what is missing.
#   scripts/bootstrap.sh            library, tests, examples
#   scripts/bootstrap.sh --bench    also Google Benchmark, PyTorch and oneDNN (for the comparisons)
#   scripts/bootstrap.sh --fuzz     also clang-14 and libFuzzer (scripts/fuzz.sh)
set -euo pipefail
pkgs=(cmake g++ make libxtensor-dev libxtensor-blas-dev libopenblas-dev libopenblas0-pthread catch2
      libstb-dev nlohmann-json3-dev libcli11-dev fonts-dejavu-core)
pkgs+=(zlib1g-dev)  # data/tar_gz.hpp
pkgs+=(strace)      # tests/kill/kill_every_rename.sh (SIGKILL at every rename)
pkgs+=(libopenmpi-dev openmpi-bin)  # ann::dist and its tests (optional: the core builds without them)
pkgs+=(libonnx-dev libprotobuf-dev)  # ann::onnx (optional, like MPI)
pkgs+=(python3-onnx python3-opencv python3-torch python3-numpy)  # tests/onnx: checked by onnx, OpenCV and PyTorch
if [[ "${1:-}" == "--bench" ]]; then pkgs+=(libbenchmark-dev python3-torch python3-numpy libdnnl-dev); fi  # libdnnl-dev: bench_conv's onednn column
if [[ "${1:-}" == "--fixtures" ]]; then pkgs+=(python3-torch python3-numpy); fi
if [[ "${1:-}" == "--fuzz" ]]; then pkgs+=(clang-14 libclang-rt-14-dev); fi  # scripts/fuzz.sh only
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
