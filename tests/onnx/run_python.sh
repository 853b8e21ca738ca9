#!/bin/sh
# run_python.sh SCRIPT ARGS...: Debian's python (the one with python3-onnx, -opencv and -torch; a
# python3 earlier on PATH may lack them) runs SCRIPT; skipped (77) where there is none.
[ -x /usr/bin/python3 ] || { echo "skipped: no /usr/bin/python3"; exit 77; }
exec /usr/bin/python3 "$@"
