#!/usr/bin/env bash
# Sets up and runs the main job: installs dependencies, builds in Release, and runs the whole
# homework (parts 1-5) into results/. Arguments go to the `homework` program, e.g.
#   scripts/homework.sh --quick          every file of every part in minutes, on a data subset
#   scripts/homework.sh                  the full protocol (about 1 h 25 min on a 2-core machine)
#   scripts/homework.sh --resume         continue an interrupted run from results/checkpoints/
#   scripts/homework.sh --ranks 2        the training runs spread over 2 MPI processes on this machine
#                                        (mpirun -np 2 ...; docs/distributed.md; same result files)
#   scripts/homework.sh --help
# CIFAR-10 comes from ../shared/data/cifar-10-binary.tar.gz (or $ANN_SHARED_DATA, or --from FILE),
# extracted into data/ and checked against the official MD5s on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target homework >/dev/null
ranks=1
args=()
while (($#)); do
  case "$1" in
    --ranks) [[ $# -ge 2 ]] || { echo "homework.sh: --ranks needs a number" >&2; exit 2; }; ranks=$2; shift 2 ;;
    --ranks=*) ranks=${1#--ranks=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ "$ranks" =~ ^[1-9][0-9]*$ ]] || { echo "homework.sh: --ranks $ranks: expected a whole number of at least 1" >&2; exit 2; }
if ((ranks == 1)); then exec build/release/examples/homework "${args[@]}"; fi
command -v mpirun >/dev/null || { echo "homework.sh: --ranks needs Open MPI's mpirun (scripts/bootstrap.sh installs it)" >&2; exit 2; }
# More ranks than cores is allowed (each rank then takes fewer threads); root needs Open MPI's consent.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec mpirun -np "$ranks" --oversubscribe build/release/examples/homework "${args[@]}"
