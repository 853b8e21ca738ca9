#!/usr/bin/env bash
# Exhaustive SIGKILL test of `homework --resume` (issue 13, "a kill at the wrong instant breaks
# every later resume"). Every file ann writes goes through io::write_file_atomic (temporary,
# fsync, rename, fsync of the folder), so the results folder changes state at the renames only:
# killing the program on entering each rename in turn visits every state a kill can leave.
#
#   kill_every_rename.sh HOMEWORK SHARED_DATA WORKDIR
#
#   1. extracts CIFAR-10 from SHARED_DATA/cifar-10-binary.tar.gz into WORKDIR/cifar-data (once);
#   2. runs a short configuration of parts 3 and 5 (mlp_2, 200 training images, part 5 with its
#      per-epoch checkpoints and both scheduled runs) once under strace: the reference, and the
#      list of file-system calls it makes; then once more without strace: it must write the
#      same results (the comparison below would be meaningless otherwise);
#   3. for every rename N of the reference, a fresh run under
#        strace -f -e inject=rename:signal=SIGKILL:when=N
#      (the kernel skips the rename: the process dies with rename N not done); it must die of
#      SIGKILL; then ONE run of the same command with --resume (no strace) must exit 0 and end
#      with the reference's results:
#        - the same files (names; checkpoints included), and no temporary (*.tmp.*) left;
#        - every *.json equal once "seconds" (wall time) is removed, summary.md equal once its
#          times (0m03s, 1h02m) are blanked, every other file (the PNG figures) byte-identical;
#        - if the kill left a checkpoint, the resume said "resuming from" (it did not start over).
#   Prints one line per kill point and a summary; exits 1 if any check failed, 77 (ctest:
#   skipped) if strace is missing or cannot trace here (ptrace not permitted), or the
#   CIFAR-10 archive is missing.
#
# KILL_SYSCALLS (environment; default "rename") adds other calls to kill at, each exhaustively:
# "rename fsync openat mkdir unlink" (openat/open: only those with O_CREAT, i.e. the temporaries'
# creations; fsync: the temporary's and the folder's). Each call name (rename, renameat,
# renameat2, ...) is a separate kill series: strace counts when=N per syscall and per tracee,
# and with -f every thread is a tracee of its own, so when=N only means "the N-th of the
# program" for calls made on its main thread. The script checks that every call it kills at
# was made there (a write moved to a worker thread fails the test instead of going untested).
# STRACE (environment) overrides the strace program. bash + coreutils + sed/awk/grep + strace.
set -u

if [[ $# -ne 3 ]]; then
    echo "usage: $0 HOMEWORK SHARED_DATA WORKDIR" >&2
    exit 2
fi
HOMEWORK=$1
SHARED_DATA=$2
WORKDIR=$3
STRACE=${STRACE:-strace}
KILL_SYSCALLS=${KILL_SYSCALLS:-rename}
[[ -x $HOMEWORK ]] || { echo "FAIL: no program at $HOMEWORK" >&2; exit 2; }
mkdir -p "$WORKDIR" && WORKDIR=$(cd "$WORKDIR" && pwd) || exit 2

if ! command -v "$STRACE" >/dev/null 2>&1; then
    echo "skipped: strace not installed (scripts/bootstrap.sh installs it)"
    exit 77
fi
if ! probe=$("$STRACE" -f -o /dev/null -e trace=none true 2>&1); then
    echo "skipped: strace cannot trace here (ptrace not permitted? e.g. a container without CAP_SYS_PTRACE" \
         "or kernel.yama.ptrace_scope=3): $probe"
    exit 77
fi
TGZ=$SHARED_DATA/cifar-10-binary.tar.gz
DATA=$WORKDIR/cifar-data
if [[ ! -f $DATA/cifar-10-batches-bin/test_batch.bin && ! -f $TGZ ]]; then
    echo "skipped: no CIFAR-10 archive at $TGZ"
    exit 77
fi

RUN=$WORKDIR/run  # every run writes here (summary.md names its folder)
REF=$WORKDIR/ref
# shellcheck disable=SC2054  # "3,5" is one argument
ARGS=(--parts 3,5 --archs mlp_2 --part5-arch mlp_2 --train-per-class 20 --val-per-class 5 --test-per-class 10
      --train-acc-images 20 --epochs 1 --part5-epochs 3 --schedule-epochs 4 --switch1 1 --switch2 2
      --record-every 1 --threads 1 --seed 5 --quiet --data "$DATA" --out "$RUN")
export ANN_SHARED_DATA=$SHARED_DATA
unset ANN_DATA
t_start=$SECONDS

passes=0
failures=0
failed=()
fail() {
    failures=$((failures + 1))
    failed+=("$1")
    echo "FAIL $1"
    [[ -n ${2:-} ]] && printf '%s\n' "$2" | sed 's/^/    /'
    return 0
}

# Once: the data, extracted by a first run of the same configuration.
if [[ ! -f $DATA/cifar-10-batches-bin/test_batch.bin ]]; then
    echo "extracting CIFAR-10 once into $DATA"
    rm -rf "$RUN"
    if ! "$HOMEWORK" "${ARGS[@]}" --from "$TGZ" >"$WORKDIR/extract.log" 2>&1; then
        echo "FAIL: cannot extract CIFAR-10 with homework --from $TGZ:"
        tail -5 "$WORKDIR/extract.log"
        exit 1
    fi
fi

# normalize FILE: what of FILE must not change (wall times removed).
normalize() {
    case $1 in
        *.json) sed -E 's/,"seconds":(-?[0-9.eE+-]+|null)([,}])/\2/g; s/\{"seconds":(-?[0-9.eE+-]+|null),/{/g;
                        s/\{"seconds":(-?[0-9.eE+-]+|null)\}/{}/g' "$1" ;;
        *.md) sed -E 's/[0-9]+h[0-9]{2}m|[0-9]+m[0-9]{2}s/TIME/g' "$1" ;;
        *) cat "$1" ;;
    esac
}

# compare DIR: prints the differences between DIR and the reference; returns 1 if any.
compare() {
    local dir=$1 out="" f
    local want got
    want=$(cd "$REF" && find . -type f | sort)
    got=$(cd "$dir" && find . -type f | sort)
    if [[ $want != "$got" ]]; then
        out+="files differ from the reference (< reference, > this run):"$'\n'
        out+=$(diff <(echo "$want") <(echo "$got") | grep '^[<>]')$'\n'
    fi
    while IFS= read -r f; do
        f=${f#./}
        [[ $f == checkpoints/* || ! -f $dir/$f ]] && continue
        case $f in
            *.json | *.md)
                if ! cmp -s <(normalize "$REF/$f") <(normalize "$dir/$f"); then
                    out+="$f differs (seconds/times ignored):"$'\n'
                    out+=$(diff <(normalize "$REF/$f" | fold -w 120) <(normalize "$dir/$f" | fold -w 120) | head -8)$'\n'
                fi ;;
            *) cmp -s "$REF/$f" "$dir/$f" || out+="$f differs (byte for byte)"$'\n' ;;
        esac
    done <<<"$want"
    [[ -z $out ]] && return 0
    printf '%s' "$out"
    return 1
}

# The reference, under strace: which file-system calls it makes, in order, on which thread.
declare -A FAMILY=([rename]="rename renameat renameat2" [fsync]="fsync fdatasync" [openat]="open openat creat"
                   [open]="open openat creat" [unlink]="unlink unlinkat" [mkdir]="mkdir mkdirat")
names=()
# shellcheck disable=SC2206  # split on purpose: a family is a list of names
for s in $KILL_SYSCALLS; do names+=(${FAMILY[$s]:-$s}); done
trace_set=$(IFS=,; echo "${names[*]}")
rm -rf "$RUN" "$REF"
if ! "$STRACE" -f -o "$WORKDIR/reference.trace" -e trace="$trace_set" "$HOMEWORK" "${ARGS[@]}" \
        >"$WORKDIR/reference.log" 2>&1; then
    echo "FAIL: the uninterrupted reference run failed:"
    tail -5 "$WORKDIR/reference.log"
    exit 1
fi
mv "$RUN" "$REF"
t_ref=$((SECONDS - t_start))

# A second uninterrupted run, without strace: results are reproducible and the comparison sound.
rm -rf "$RUN"
if ! "$HOMEWORK" "${ARGS[@]}" >"$WORKDIR/control.log" 2>&1; then
    fail "control: a second uninterrupted run failed" "$(tail -5 "$WORKDIR/control.log")"
elif ! diffs=$(compare "$RUN"); then
    fail "control: two uninterrupted runs differ: the runs are not reproducible, nothing below means anything" "$diffs"
    exit 1
else
    passes=$((passes + 1))
    echo "PASS control: a second uninterrupted run writes the same results (PNG figures byte-identical)"
fi

# Kill points: "name N description" for every call of `names` on the main thread (the process
# strace started: the first line's pid); open/openat/creat only those creating a file.
main_pid=$(awk 'NR == 1 { print $1 }' "$WORKDIR/reference.trace")
points=()
per_name=""
for name in "${names[@]}"; do
    mapfile -t lines < <(awk -v name="$name" 'index($2, name "(") == 1 { print }' "$WORKDIR/reference.trace")
    n=0 count=0
    for line in "${lines[@]}"; do
        pid=${line%% *}
        [[ $pid == "$main_pid" ]] && n=$((n + 1))
        [[ ($name == open || $name == openat) && $line != *O_CREAT* ]] && continue
        if [[ $pid != "$main_pid" ]]; then
            fail "$name on thread $pid, not the main thread $main_pid: strace's when=N counts per thread, this call cannot be targeted" \
                 "${line:0:200}"
            continue
        fi
        desc=${line#* }
        desc=${desc//$RUN\//}
        desc=${desc//$DATA\//}
        points+=("$name $n ${desc:0:150}")
        count=$((count + 1))
    done
    ((count)) && per_name+="${per_name:+, }$count $name"
done
echo "reference: ${#points[@]} kill points (${per_name:-none}) on the main thread; a run takes ${t_ref} s"
if [[ $KILL_SYSCALLS == *rename* && $per_name != *rename* ]]; then
    fail "the reference run made no rename: it writes its files some other way, this test no longer covers them"
fi

for point in "${points[@]}"; do
    read -r name n desc <<<"$point"
    id="$name#$n"
    rm -rf "$RUN"
    { "$STRACE" -f -o /dev/null -e trace="$name" -e inject="$name":signal=SIGKILL:when="$n" \
        "$HOMEWORK" "${ARGS[@]}" >"$WORKDIR/kill.log" 2>&1; } 2>/dev/null  # no "Killed" line from bash
    rc=$?
    if [[ $rc -ne 137 ]]; then
        if [[ $rc -eq 0 ]]; then
            fail "$id ($desc): the run finished without reaching it (the program's calls are not the same from run to run)"
        else
            fail "$id ($desc): the run under strace exited $rc, not killed by SIGKILL (137)" "$(tail -5 "$WORKDIR/kill.log")"
        fi
        continue
    fi
    left_checkpoint=0
    compgen -G "$RUN/checkpoints/*.annc" >/dev/null && left_checkpoint=1
    "$HOMEWORK" "${ARGS[@]}" --resume >"$WORKDIR/resume.out" 2>"$WORKDIR/resume.err"
    rc=$?
    if [[ $rc -ne 0 ]]; then
        fail "$id ($desc): killed there, --resume exited $rc:" "$(tail -5 "$WORKDIR/resume.err")"
        rm -rf "$WORKDIR/failed-$name-$n" && cp -a "$RUN" "$WORKDIR/failed-$name-$n"
        continue
    fi
    problems=""
    diffs=$(compare "$RUN") || problems+=$diffs$'\n'
    tmps=$(cd "$RUN" && find . -name '*.tmp.*' | head -5)
    [[ -n $tmps ]] && problems+="temporaries left after the resume: $tmps"$'\n'
    if ((left_checkpoint)) && ! grep -q "resuming from" "$WORKDIR/resume.out"; then
        problems+="the kill left checkpoints but the resume did not say \"resuming from\" (started over?)"$'\n'
    fi
    if [[ -n $problems ]]; then
        fail "$id ($desc): killed there and resumed, but:" "${problems%$'\n'}"
        rm -rf "$WORKDIR/failed-$name-$n" && cp -a "$RUN" "$WORKDIR/failed-$name-$n"
        continue
    fi
    passes=$((passes + 1))
    echo "PASS $id ($desc): SIGKILL, one --resume, same results"
done

echo
echo "kill_every_rename: ${#points[@]} kill points ($KILL_SYSCALLS), $passes passed, $failures failed," \
     "$((SECONDS - t_start)) s (work folder $WORKDIR)"
if ((failures)); then
    for f in "${failed[@]}"; do echo "  FAILED: $f"; done
    exit 1
fi
exit 0
