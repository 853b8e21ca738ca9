#!/bin/sh
# cli_check.sh TEXT PROGRAM ARGS...: the program must exit with code 2 and print exactly one
# line on stderr, containing TEXT. (Used by the cli.* ctest entries.)
text=$1
shift
err=$("$@" 2>&1 >/dev/null)
rc=$?
printf '%s\n' "$err"
[ "$rc" -eq 2 ] || { echo "cli_check: exit code $rc, expected 2"; exit 1; }
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || { echo "cli_check: expected one line on stderr"; exit 1; }
printf '%s\n' "$err" | grep -qF -- "$text" || { echo "cli_check: the line does not contain '$text'"; exit 1; }
echo "cli_check: ok"
