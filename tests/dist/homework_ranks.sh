#!/bin/sh
# homework_ranks.sh HOMEWORK WORKDIR NP [HOMEWORK OPTIONS...]
# Runs the homework alone into WORKDIR/np1 (once per build of HOMEWORK: reused by later calls
# while it is newer than the binary), then under
# `$MPIEXEC -np NP $MPIEXEC_FLAGS` into WORKDIR/npNP. Every result JSON of the ranks' run must equal
# the single process's byte for byte once the wall-time values ("seconds") are blanked.
# With KILL_AT=K set, one rank of the ranks' run is killed (SIGKILL) once K checkpoints exist; the
# job must fail, and the same command with --resume must then complete it, with the same files.
set -eu
homework=$1 work=$2 np=$3
shift 3
mkdir -p "$work"
if [ ! -f "$work/np1/summary.md" ] || [ "$homework" -nt "$work/np1/summary.md" ]; then
  rm -rf "$work/np1"
  "$homework" "$@" --quiet --out "$work/np1" >/dev/null
fi
rm -rf "$work/np$np"
# shellcheck disable=SC2086
if [ -n "${KILL_AT:-}" ]; then
  "$MPIEXEC" -np "$np" $MPIEXEC_FLAGS "$homework" "$@" --quiet --out "$work/np$np" >/dev/null 2>"$work/killed.err" &
  launcher=$!
  while [ "$(ls "$work/np$np/checkpoints" 2>/dev/null | grep -c '\.annc$')" -lt "$KILL_AT" ]; do
    kill -0 "$launcher" 2>/dev/null || { echo "homework_ranks: the run ended before $KILL_AT checkpoints"; exit 1; }
    sleep 0.2
  done
  victim=$(pgrep -P "$launcher" -f homework | tail -n 1)
  [ -n "$victim" ] || { echo "homework_ranks: no rank to kill"; exit 1; }
  kill -KILL "$victim"
  if wait "$launcher"; then echo "homework_ranks: the job with a killed rank exited 0"; exit 1; fi
  echo "homework_ranks: killed rank (pid $victim) after $KILL_AT checkpoints; the launcher said:"
  grep -i "signal\|rank" "$work/killed.err" | head -n 3
  "$MPIEXEC" -np "$np" $MPIEXEC_FLAGS "$homework" "$@" --quiet --resume --out "$work/np$np" >/dev/null
else
  "$MPIEXEC" -np "$np" $MPIEXEC_FLAGS "$homework" "$@" --quiet --out "$work/np$np" >/dev/null
fi
blank() { sed -E 's/"seconds":[-0-9.eE+]+/"seconds":_/g' "$1"; }
n=0
for f in "$work"/np1/part*/*.json; do
  rel=${f#"$work/np1/"}
  [ -f "$work/np$np/$rel" ] || { echo "homework_ranks: $rel missing from the run on $np ranks"; exit 1; }
  blank "$f" > "$work/a.json"
  blank "$work/np$np/$rel" > "$work/b.json"
  cmp -s "$work/a.json" "$work/b.json" || { echo "homework_ranks: $rel differs between 1 and $np ranks"; exit 1; }
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "homework_ranks: no result files"; exit 1; }
count1=$(ls "$work"/np1/part*/*.json | wc -l)
countn=$(ls "$work/np$np"/part*/*.json | wc -l)
[ "$count1" -eq "$countn" ] || { echo "homework_ranks: $count1 result files alone, $countn on $np ranks"; exit 1; }
echo "homework_ranks: $n result files identical (wall times aside) on 1 and $np ranks"
