#!/usr/bin/env bash
# Copies what the GPU machine lacks into .gpu-bundle/ (gitignored), so that scripts/gpu-check.sh
# can configure and build there with `cmake --preset gpu` (CMAKE_PREFIX_PATH=.gpu-bundle):
#   include/    xtensor, xtl, xsimd, xtensor-blas, xflens, catch2, nlohmann, CLI11, stb
#   cudnn/include/  cuDNN 9 headers (used only if the GPU machine has none: its pip wheel has the
#                   library; the headers are small)
#   lib/        OpenBLAS (shared; the static one alone is 58 MB) + libgfortran + libquadmath,
#               the cmake config files of the header-only packages, with their /usr layout kept
#               so their relative prefixes still resolve
# Everything comes from this machine's Debian packages. The folder is about 57 MiB, too close to
# the device tool's 64 MiB limit (carry + working tree), so it is also packed as
# .gpu-pack/gpu-bundle.tar.xz (about 7 MB): carry .gpu-pack; scripts/gpu-check.sh unpacks it.
set -euo pipefail
cd "$(dirname "$0")/.."
B=.gpu-bundle
rm -rf "$B"
mkdir -p "$B/include" "$B/lib" "$B/cudnn/include" "$B/lib/cmake" "$B/lib/x86_64-linux-gnu/cmake" "$B/share/cmake"

for d in xtensor xtl xsimd xtensor-blas xflens catch2 nlohmann CLI stb; do
  cp -r "/usr/include/$d" "$B/include/"
done
cp /usr/local/cuda/include/cudnn*.h "$B/cudnn/include/"

for d in xtensor xtensor-blas xsimd; do cp -r "/usr/lib/x86_64-linux-gnu/cmake/$d" "$B/lib/x86_64-linux-gnu/cmake/"; done
for d in xtl nlohmann_json CLI11; do cp -r "/usr/share/cmake/$d" "$B/share/cmake/"; done
cp -r /usr/lib/cmake/Catch2 "$B/lib/cmake/"
cp /usr/lib/libCatch2WithMain.a "$B/lib/"  # its config checks that the file exists

# OpenBLAS: the real file under the names FindBLAS and the loader look for.
ob=$(readlink -f /usr/lib/x86_64-linux-gnu/libopenblas.so.0)
cp "$ob" "$B/lib/libopenblas.so.0"
ln -s libopenblas.so.0 "$B/lib/libopenblas.so"
cp "$(readlink -f /usr/lib/x86_64-linux-gnu/libgfortran.so.5)" "$B/lib/libgfortran.so.5"
cp "$(readlink -f /usr/lib/x86_64-linux-gnu/libquadmath.so.0)" "$B/lib/libquadmath.so.0"
strip --strip-unneeded "$B/lib/"*.so.* 2>/dev/null || true

du -sh "$B"
mkdir -p .gpu-pack
tar -cf - "$B" | xz -T2 -6 > .gpu-pack/gpu-bundle.tar.xz.tmp
mv .gpu-pack/gpu-bundle.tar.xz.tmp .gpu-pack/gpu-bundle.tar.xz
du -sh .gpu-pack/gpu-bundle.tar.xz
