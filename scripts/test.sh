#!/usr/bin/env bash
# Sets up and runs every test: installs dependencies, builds in Release, runs ctest.
#   scripts/test.sh              Release build in build/release
#   scripts/test.sh --sanitize   Debug + ASan/UBSan build in build/sanitize
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
preset=release
[[ "${1:-}" == "--sanitize" ]] && preset=sanitize
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset"
