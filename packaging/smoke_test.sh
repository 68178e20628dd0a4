#!/usr/bin/env bash
# smoke_test.sh DIST_DIR: the frozen program starts, reports its version, audits the demo lab
# (JSON and PDF) and opens its main window offscreen. Used by `make package` and CI.
set -euo pipefail
dist=${1:-dist/auditapp}
exe="$dist/auditapp"
[ -x "$exe" ] || { echo "smoke test: $exe not found (build with make package)" >&2; exit 1; }
out=$(mktemp -d "${TMPDIR:-/tmp}/auditapp-smoke.XXXXXX")
trap 'rm -rf -- "$out"' EXIT
want=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
got=$("$exe" --version)
[ "$got" = "auditapp $want" ] || { echo "smoke test: --version says '$got', pyproject says $want" >&2; exit 1; }
echo "smoke test: $got"
"$exe" demo --out "$out/demo" --lang de > "$out/demo.log"
test -s "$out/demo/demo-audit.json" && head -c 5 "$out/demo/demo-report-de.pdf" | grep -q '%PDF' \
  || { echo "smoke test: demo did not write JSON and PDF" >&2; cat "$out/demo.log" >&2; exit 1; }
echo "smoke test: demo wrote $(wc -c < "$out/demo/demo-audit.json") bytes of JSON and a $(wc -c < "$out/demo/demo-report-de.pdf")-byte PDF"
AUDITAPP_HOME="$out/home" QT_QPA_PLATFORM=offscreen "$exe" --self-test
AUDITAPP_HOME="$out/home" QT_QPA_PLATFORM=offscreen "$dist/auditapp-gui" --self-test
echo "smoke test: passed"
