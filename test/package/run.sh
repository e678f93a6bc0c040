#!/usr/bin/env bash
# The published package as a library user gets it: `npm pack`, the tarball installed into a fresh
# consumer project outside the repository (its own `npm install`), then every check below against
# that install. Usage: bash test/package/run.sh [--keep]
#
# More checks: every test/package/checks/*.sh runs last, from the consumer folder, with
#   SESSIONPOOL_CONSUMER  the consumer project (node_modules/sessionpool installed from the tarball)
#   SESSIONPOOL_TARBALL   the packed .tgz
#   SESSIONPOOL_ROOT      this repository
# A check that installs more into the consumer should do it with `npm install --prefer-offline`.
# Env: OLD_NODE=/path/to/node (older than 22.12) also checks the launcher's one-line refusal;
#      SESSIONPOOL_CONSUMER_TS (default typescript@5) is the consumer's TypeScript.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
keep=false
[ "${1:-}" = "--keep" ] && keep=true

work=$(mktemp -d "${TMPDIR:-/tmp}/sessionpool-package.XXXXXX")
consumer="$work/consumer"
$keep || trap 'rm -rf "$work"' EXIT
npm_quiet=(--no-audit --no-fund --loglevel=error --prefer-offline)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
step() { printf '\n== %s\n' "$1"; }
fail() { echo "test-package: FAILED: $*" >&2; exit 1; }
# Runs a command that must exit 0 within a time limit (a process that does not exit by itself fails).
run() { local limit=$1; shift; timeout --kill-after=5 "$limit" "$@" || fail "$* (exit $?)"; }

step "pack (prepack builds dist/)"
t=$(now)
tarball_name=$(cd "$root" && npm pack --pack-destination "$work" --loglevel=error | tail -n 1)
tarball="$work/$tarball_name"
echo "$tarball: $(du -k "$tarball" | cut -f1) KiB, packed in $(since "$t") s"
listing=$(tar -tzf "$tarball")
grep -qx 'package/dist/workers/session-worker.js' <<<"$listing" || fail "the worker entry is not in the tarball"
grep -qx 'package/dist/src/apps/observe/live-view.html' <<<"$listing" || fail "the live view page is not in the tarball"
if grep -E '^package/(dist/)?(test|test-package|test-browser|\.ci)/' <<<"$listing"; then fail "test files are in the tarball (a benchmark the build includes imports test/?)"; fi

step "install the tarball into a consumer project ($consumer)"
cp -R "$root/test/package/consumer" "$consumer"
cd "$consumer"
t=$(now)
npm install "${npm_quiet[@]}" "$tarball"
echo "installed in $(since "$t") s; node_modules $(du -sk node_modules | cut -f1) KiB, $(npm ls --all --parseable 2>/dev/null | tail -n +2 | wc -l) packages"

step "lean install: the optional peers are missing and say so"
[ ! -e node_modules/ws ] && [ ! -e node_modules/@statelyai/inspect ] || fail "an optional peer was installed"
run 60 node --input-type=module -e "
import assert from 'node:assert/strict';
import { createSupervisor } from 'sessionpool';
import { startLiveView, startStatelyInspector, MissingPeerDependencyError } from 'sessionpool/observe';
const supervisor = createSupervisor({ threads: 1, logger: false });
for (const [start, name] of [[() => startLiveView(supervisor), 'ws'], [() => startStatelyInspector(), '@statelyai/inspect']]) {
  const error = await start().then(() => null, (e) => e);
  assert.ok(error instanceof MissingPeerDependencyError, String(error));
  assert.equal(error.code, 'ERR_MISSING_PEER_DEPENDENCY');
  assert.equal(error.packageName, name);
  console.log(error.message);
}
await supervisor.close();"

step "ESM: chat, stream, execute (handler in the consumer's folder), close, exit by itself"
run 60 node esm.mjs

step "CommonJS: require('sessionpool') (require of ESM, Node >= 22.12)"
run 60 node cjs.cjs

step "strict TypeScript consumer (nodenext, no skipLibCheck)"
t=$(now)
npm install "${npm_quiet[@]}" --no-save "${SESSIONPOOL_CONSUMER_TS:-typescript@5}" @types/node@22
echo "typescript $(npx tsc --version) installed in $(since "$t") s"
run 120 npx tsc -p tsconfig.json
echo "types-ok.ts type-checks"
if bad=$(npx tsc -p tsconfig.bad.json 2>&1); then fail "types-bad.ts type-checked"; fi
grep -q "types-bad.ts.*error TS2322" <<<"$bad" || fail "types-bad.ts failed for another reason: $bad"
echo "types-bad.ts is refused: $(grep -m1 TS2322 <<<"$bad")"

step "npx sessionpool --help, demo, bench --quick"
run 30 npx --no-install sessionpool --help >/dev/null
run 120 npx --no-install sessionpool demo >/dev/null
run 300 npx --no-install sessionpool bench --quick >/dev/null
echo "all three exit 0"

if [ -n "${OLD_NODE:-}" ]; then
  step "the launcher on $("$OLD_NODE" --version): one line, exit 2"
  set +e
  out=$("$OLD_NODE" node_modules/.bin/sessionpool --help 2>&1)
  code=$?
  set -e
  [ "$code" = 2 ] || fail "exit $code on old Node: $out"
  [ "$(wc -l <<<"$out")" = 1 ] || fail "more than one line on old Node: $out"
  echo "$out"
fi

step "publint and arethetypeswrong on the tarball"
run 120 "$root/node_modules/.bin/publint" run --strict "$tarball"
# ESM only: the CommonJS story is require(esm), which attw's TypeScript (5.6) does not model.
run 120 "$root/node_modules/.bin/attw" --profile esm-only "$tarball"

for check in "$root"/test/package/checks/*.sh; do
  [ -e "$check" ] || continue
  step "check $(basename "$check")"
  SESSIONPOOL_CONSUMER="$consumer" SESSIONPOOL_TARBALL="$tarball" SESSIONPOOL_ROOT="$root" bash "$check" || fail "$check"
done

printf '\ntest-package: all checks passed (consumer %s%s)\n' "$consumer" "$($keep && echo ', kept' || echo ', removed')"
