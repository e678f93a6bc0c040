#!/usr/bin/env bash
# The closing check of `sessionpool load`: runs the load command given as a prefix, then renders its
# HTML report in a real headless browser (Debian's chromium) and checks it: every chart is there
# with drawn lines, nothing is fetched from elsewhere, and a full-page screenshot is left to look at.
# Not part of `npm test`. Needs: apt-get update && apt-get install -y chromium
# Usage: test/load-report/check.sh [COMMAND PREFIX...]      (default: node <repo>/src/apps/cli/main.ts)
#   e.g. test/load-report/check.sh npx sessionpool          (from a directory where the package is installed)
# Environment: LOAD_ARGS (default "--concurrency 1,10,50 --requests 200 --stream"), SCREENSHOT (a PNG path).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
if (( $# == 0 )); then set -- node "$here/src/apps/cli/main.ts"; fi

browser="${CHROMIUM_PATH:-$(command -v chromium || command -v chromium-browser || true)}"
if [[ -z "$browser" ]]; then
  echo "check: chromium not found (apt-get update && apt-get install -y chromium)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
report="$work/r.html"
shot="${SCREENSHOT:-${TMPDIR:-/tmp}/sessionpool-load-report.png}"
read -r -a load_args <<<"${LOAD_ARGS:---concurrency 1,10,50 --requests 200 --stream}"

# 1. The run itself: the closing table goes to stdout (kept, and shown), progress to stderr.
"$@" load "${load_args[@]}" --html "$report" --csv "$work/r.csv" | tee "$work/table.txt"
[[ -s "$report" ]] || { echo "check: $report is missing or empty" >&2; exit 1; }
grep -q '^latency ms' "$work/table.txt" || { echo "check: no closing table on stdout" >&2; exit 1; }
levels=$(( $(wc -l <"$work/r.csv") - 1 ))

# 2. The DOM as the browser parsed it.
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --user-data-dir="$work/profile" --hide-scrollbars)
dom="$work/dom.html"
timeout 60 "$browser" "${flags[@]}" --dump-dom "file://$report" >"$dom" 2>"$work/dom.log"
svgs=$(grep -o '<svg' "$dom" | wc -l)
paths=$(grep -o '<path d="M' "$dom" | wc -l)
rows=$(grep -o '<tr>' "$dom" | wc -l)
external=$(grep -Eo '(src|href)="(https?:)?//' "$dom" | wc -l || true)
echo "check: $levels levels, $svgs svg charts, $paths drawn lines, $rows table rows, $external external references"
# Streamed: 2 CDFs + TTFT, e2e, tokens/s and requests/s vs level + requests over time = 7 charts.
if (( levels < 1 || svgs < 7 || paths < 2 * levels + 8 || external > 0 )); then
  echo "check: FAILED (expected 7 charts, a line per level in each CDF, no external resources)" >&2
  exit 1
fi
for id in figures failures latency levels errors; do
  grep -q "<h2 id=\"$id\"" "$dom" || { echo "check: FAILED (section $id missing)" >&2; exit 1; }
done

# 3. A full-page screenshot.
timeout 60 "$browser" "${flags[@]}" --window-size=1280,2200 --screenshot="$(realpath -m "$shot")" "file://$report" >"$work/shot.log" 2>&1
[[ -s "$shot" ]] || { echo "check: no screenshot written" >&2; cat "$work/shot.log" >&2; exit 1; }
echo "check: screenshot $shot (1280x2200); look at it"
