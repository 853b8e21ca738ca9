#!/usr/bin/env bash
# Builds, on THIS machine, everything the GPU check runs, and packs it for the device tool.
# Nothing is configured or compiled on the GPU machine (it has no Debian packages: no OpenBLAS,
# no xtensor; the old check configured there and failed).
#
#   1. cmake --preset gpu; cmake --build --preset gpu   (build/gpu: Release, the local CUDA
#      toolkit, sm_90 machine code + PTX, static CUDA runtime; targets test_cuda, test_cuda_host,
#      bench_cuda_conv, bench_cuda_train, homework and its CUDA module libann_cuda_plugin.so)
#   2. .gpu-bundle/ (gitignored):
#        bin/      those five programs (stripped)
#        lib/      every shared library they load that the GPU machine lacks: everything ldd
#                  lists except glibc, libstdc++, libgcc_s and CUDA's own (libcuda, cuDNN, cuBLAS,
#                  cudart, nvrtc, nvJitLink: the GPU machine has them in PyTorch's pip wheels,
#                  scripts/gpu-check.sh finds them there)
#        benchmarks/cuda/bench_torch.py, summarize_conv.py, scripts/gpu-check.sh
#        MANIFEST  commit, build date, toolkit, libraries and where they came from, the newest
#                  glibc / libstdc++ symbol versions the files need
#   3. .gpu-pack/gpu-bundle.tar.xz (gitignored): what the device run carries; gpu-check.sh unpacks it.
#      Checked to fit, with the working tree, in the device tool's 64 MiB.
#
# Usage: scripts/gpu-bundle.sh [--no-build]     (JOBS=N for the build; default: all cores, niced)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=.gpu-bundle
PACK=.gpu-pack/gpu-bundle.tar.xz
LIMIT_MIB=64
BUILD=1
case "${1:-}" in
  --no-build) BUILD=0 ;;
  -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "gpu-bundle: unknown option '$1' (see --help)" >&2; exit 2 ;;
esac

die() { echo "gpu-bundle: $*" >&2; exit 1; }
for t in cmake ninja ldd strip xz tar objdump; do command -v "$t" > /dev/null || die "'$t' not found"; done
[ -x /usr/local/cuda/bin/nvcc ] || command -v nvcc > /dev/null || die "no nvcc (CUDA toolkit) on this machine"

# ---- 1. build -------------------------------------------------------------------------------
TARGETS=(test_cuda test_cuda_host bench_cuda_conv bench_cuda_train homework libann_cuda_plugin.so)  # the module sits next to homework, which loads it
if [ "$BUILD" = 1 ]; then
  nice cmake --preset gpu > /dev/null || die "configure failed (cmake --preset gpu)"
  nice cmake --build --preset gpu -j "${JOBS:-$(nproc)}" || die "build failed (cmake --build --preset gpu)"
fi
declare -A BIN
for t in "${TARGETS[@]}"; do
  f=$(find build/gpu -type f -name "$t" -perm -u+x -not -path '*/CMakeFiles/*' | head -n 1)
  [ -n "$f" ] || die "build/gpu has no '$t' (build with: cmake --build --preset gpu)"
  BIN[$t]=$f
done

# ---- 2. the bundle ------------------------------------------------------------------------------
rm -rf "$B"
mkdir -p "$B/bin" "$B/lib" "$B/benchmarks/cuda" "$B/scripts"
for t in "${TARGETS[@]}"; do
  cp "${BIN[$t]}" "$B/bin/$t"
  strip --strip-unneeded "$B/bin/$t"
done

# What the GPU machine has: glibc, libstdc++/libgcc (its Ubuntu base), the driver's libcuda, and
# CUDA's libraries in the pip wheels of PyTorch (nvidia-cudnn-cu13, nvidia-cublas, nvidia-cuda-runtime,
# nvidia-cuda-nvrtc, nvidia-nvjitlink).
provided() {
  case "$1" in
    linux-vdso.so.*|ld-linux*.so.*|libc.so.*|libm.so.*|libdl.so.*|librt.so.*|libpthread.so.*|libresolv.so.*|\
    libutil.so.*|libmvec.so.*|libanl.so.*|libstdc++.so.*|libgcc_s.so.*) return 0 ;;
    libcuda.so.*|libcudnn*.so.*|libcublas.so.*|libcublasLt.so.*|libcudart.so.*|libnvrtc*.so.*|libnvJitLink.so.*) return 0 ;;
  esac
  return 1
}
manifest_libs=()
for t in "${TARGETS[@]}"; do
  while read -r name arrow path _; do
    [ "$arrow" = "=>" ] || continue
    provided "$name" && continue
    [ "$path" != "not" ] || die "${BIN[$t]} needs $name, which is not found here either"
    if [ ! -e "$B/lib/$name" ]; then
      real=$(readlink -f "$path")
      cp "$real" "$B/lib/$name"
      chmod u+w "$B/lib/$name"
      strip --strip-unneeded "$B/lib/$name" 2> /dev/null || true
      pkg=$( (dpkg -S "$real" || dpkg -S "${real/#\/usr\/lib\//\/lib\/}") 2> /dev/null | head -n 1 | cut -d: -f1)
      manifest_libs+=("$name <- $real (${pkg:-no Debian package})")
    fi
  done < <(ldd "${BIN[$t]}")
done

cp benchmarks/cuda/bench_torch.py benchmarks/cuda/summarize_conv.py "$B/benchmarks/cuda/"
cp scripts/gpu-check.sh scripts/gpu-bundle.sh "$B/scripts/"

newest() {  # newest symbol version of a prefix (GLIBC_, GLIBCXX_) needed by the bundle's files
  objdump -T "$B"/bin/* "$B"/lib/* 2> /dev/null | grep -o "$1[0-9][0-9.]*" | sort -uV | tail -n 1
}
nvcc_bin=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
{
  echo "gpu-bundle made $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(. /etc/os-release && echo "$PRETTY_NAME"), $(ldd --version | head -n 1)"
  echo "commit $(git rev-parse --short HEAD 2> /dev/null || echo '?')$(git diff --quiet HEAD 2> /dev/null || echo " + uncommitted changes (diff sha256 $(git diff HEAD | sha256sum | cut -c1-12))")"
  echo "toolkit: $("$nvcc_bin" --version | tail -n 1); cuDNN headers $(grep -hE '#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ' /usr/local/cuda/include/cudnn_version.h 2> /dev/null | awk '{printf "%s%s", sep, $3; sep="."}')"
  echo "architectures: $(grep -E '^CMAKE_CUDA_ARCHITECTURES' build/gpu/CMakeCache.txt | cut -d= -f2); CUDA runtime: $(grep -E '^ANN_CUDA_STATIC_RUNTIME' build/gpu/CMakeCache.txt | cut -d= -f2 | sed 's/ON/static/;s/OFF/shared/')"
  echo "needs at least: $(newest GLIBC_) $(newest GLIBCXX_)"
  echo "programs:"
  (cd "$B/bin" && sha256sum ./* | sed 's/^/  /')
  echo "libraries (the rest comes from the GPU machine: glibc, libstdc++, libgcc, libcuda, and cuDNN/cuBLAS/cudart from the pip wheels):"
  for l in "${manifest_libs[@]}"; do echo "  $l"; done
  echo "CUDA libraries the programs load from the GPU machine:"
  for t in "${TARGETS[@]}"; do ldd "${BIN[$t]}"; done | awk '{print $1}' | grep -E '^lib(cuda|cudnn|cublas|cudart|nvrtc|nvJitLink)' | sort -u | sed 's/^/  /'
} > "$B/MANIFEST"

# ---- 3. the pack ----------------------------------------------------------------------------
mkdir -p .gpu-pack
tar -cf - "$B" | xz -T"$(nproc)" -9 > "$PACK.tmp"
mv "$PACK.tmp" "$PACK"

pack_bytes=$(stat -c %s "$PACK")
tree_bytes=$( (git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2> /dev/null || true) |
  awk '{s += $1} END {print s + 0}')
total=$((pack_bytes + tree_bytes))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
cat "$B/MANIFEST"
echo
echo "bundle:        $(du -sh "$B" | cut -f1) in $B ($(ls "$B/bin" | wc -l) programs, $(ls "$B/lib" | wc -l) libraries)"
echo "pack:          $(mib "$pack_bytes")  $PACK"
echo "working tree:  $(mib "$tree_bytes") (tracked + untracked, not ignored; git ls-files | xargs du -ch: $(git ls-files | xargs du -ch 2> /dev/null | tail -n 1 | cut -f1))"
echo "carried total: $(mib "$total") of the device tool's $LIMIT_MIB MiB"
[ "$total" -le $((LIMIT_MIB * 1048576)) ] || die "pack + working tree exceed $LIMIT_MIB MiB"
