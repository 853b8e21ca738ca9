#!/usr/bin/env bash
# Sets up and runs the main job: installs dependencies, builds in Release, and runs the whole
# homework (parts 1-5) into results/. Arguments go to the `homework` program, e.g.
#   scripts/homework.sh --quick          every file of every part in minutes, on a data subset
#   scripts/homework.sh                  the full protocol (about 1.5 h on a 2-core machine)
#   scripts/homework.sh --resume         continue an interrupted run from results/checkpoints/
#   scripts/homework.sh --help
# CIFAR-10 comes from ../shared/data/cifar-10-binary.tar.gz (or $ANN_SHARED_DATA, or --from FILE),
# extracted into data/ and checked against the official MD5s on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target homework >/dev/null
exec build/release/examples/homework "$@"
