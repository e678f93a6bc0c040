#!/usr/bin/env bash
# Renders the bench's HTML report in a real headless browser (Debian's chromium) and checks it:
# the DOM must hold every chart, and a full-page screenshot is left for a human to look at.
# Not part of `npm test`. Needs: apt-get update && apt-get install -y chromium
# Usage: benchmarks/check-report.sh [REPORT.html] [SCREENSHOT.png]
#   without REPORT, runs `node benchmarks/run.ts --quick --html` into a temporary file first.
set -euo pipefail
cd "$(dirname "$0")/.."

browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$browser" ]]; then
  echo "check-report: chromium not found (apt-get update && apt-get install -y chromium)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
report="${1:-}"
shot="${2:-${TMPDIR:-/tmp}/sessionpool-bench-report.png}"
if [[ -z "$report" ]]; then
  report="$work/report.html"
  node benchmarks/run.ts --quick --json --html "$report" >/dev/null
fi
[[ -s "$report" ]] || { echo "check-report: $report is missing or empty" >&2; exit 2; }
url="file://$(realpath "$report")"

flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --user-data-dir="$work/profile" --hide-scrollbars)

# 1. The DOM as the browser parsed it: count the charts and make sure nothing asks the network.
dom="$work/dom.html"
timeout 60 "$browser" "${flags[@]}" --dump-dom "$url" >"$dom" 2>"$work/dom.log"
svgs=$(grep -o '<svg' "$dom" | wc -l)
paths=$(grep -o '<path' "$dom" | wc -l)
sections=$(grep -o '<h2 id=' "$dom" | wc -l)
external=$(grep -Eo '(src|href)="(https?:)?//' "$dom" | wc -l || true)
echo "check-report: $sections scenario sections, $svgs svg charts, $paths line paths, $external external references"
if (( sections < 1 || svgs < sections + 1 || paths < sections || external > 0 )); then
  echo "check-report: FAILED (expected a chart per scenario, a CPU chart, no external resources)" >&2
  exit 1
fi

# 2. A full-page screenshot: tall enough for every section (charts are ~300-700 px each).
height=$(( 900 + sections * 1100 ))
timeout 60 "$browser" "${flags[@]}" --window-size=1280,"$height" --screenshot="$(realpath -m "$shot")" "$url" >"$work/shot.log" 2>&1
[[ -s "$shot" ]] || { echo "check-report: no screenshot written" >&2; cat "$work/shot.log" >&2; exit 1; }
echo "check-report: screenshot $shot (1280x$height); look at it"
