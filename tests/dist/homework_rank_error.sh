#!/bin/sh
# homework_rank_error.sh TEXT LAUNCH...: the launched job must fail (non-zero exit), and its
# stderr must hold exactly one line of the homework's own, "homework: ...", containing TEXT
# (the launcher may add its own report).
text=$1
shift
err=$("$@" 2>&1 >/dev/null)
rc=$?
printf '%s\n' "$err"
[ "$rc" -ne 0 ] || { echo "homework_rank_error: exit code 0, expected a failure"; exit 1; }
lines=$(printf '%s\n' "$err" | grep -c '^homework: ')
[ "$lines" -eq 1 ] || { echo "homework_rank_error: $lines lines from the homework, expected one"; exit 1; }
printf '%s\n' "$err" | grep '^homework: ' | grep -qF -- "$text" || { echo "homework_rank_error: its line does not contain '$text'"; exit 1; }
echo "homework_rank_error: ok"
