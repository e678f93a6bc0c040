#!/usr/bin/env bash
# MCP clients nobody here wrote, against `sessionpool mcp`: the MCP Inspector's CLI (stdio and
# HTTP) and the official conformance runner (HTTP; scenarios for features the server does not offer
# are listed with their reasons in conformance-baseline.yml). For CI, as a step of its own.
#
# MCP_SERVER is the server command, split on spaces (default: "node src/apps/cli/main.ts mcp --mock",
# run from this checkout); the installed-package step sets it to e.g. "npx --no-install sessionpool
# mcp --mock" and MCP_SERVER_CWD to the folder it is installed in. The command must serve the
# embedded mock (--mock): the steps check the mock's answers. MCP_INSPECTOR and MCP_CONFORMANCE
# override the two clients (default: this checkout's devDependencies).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
read -r -a server <<< "${MCP_SERVER:-node src/apps/cli/main.ts mcp --mock}"
server_cwd="${MCP_SERVER_CWD:-$root}"
inspector="${MCP_INSPECTOR:-$root/node_modules/.bin/mcp-inspector}"
conformance="${MCP_CONFORMANCE:-$root/node_modules/.bin/conformance}"

work="$(mktemp -d)"
http_pid=""
cleanup() {
  if [ -n "$http_pid" ] && kill -0 "$http_pid" 2>/dev/null; then kill -TERM "$http_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/home"
# The Inspector keeps a catalog and client settings under HOME: keep them out of the real one.
inspect() {
  (cd "$server_cwd" && HOME="$work/home" MCP_CATALOG_PATH="$work/home/mcp.json" MCP_CLIENT_CONFIG_PATH="$work/home/client.json" "$inspector" --cli "$@")
}
fail() { echo "test-mcp: $*" >&2; exit 1; }
json() { node -e "const out = JSON.parse(require('fs').readFileSync(0, 'utf8')); const r = out.result ?? out; $1"; }

echo "== MCP Inspector CLI ($("$inspector" --version)) over stdio: ${server[*]}"
echo "\$ mcp-inspector --cli --strict ${server[*]} --method tools/list"
inspect --strict --format json "${server[@]}" --method tools/list > "$work/list.json" 2> "$work/list.err" || { cat "$work/list.err" >&2; fail "tools/list failed"; }
json "for (const t of r.tools) console.log('  ' + t.name.padEnd(10) + ' input: ' + Object.keys(t.inputSchema.properties ?? {}).join(', ') + ' | output: ' + Object.keys(t.outputSchema?.properties ?? {}).join(', '));
  if (r.tools.map((t) => t.name).sort().join() !== 'chat,providers,stats') process.exit(1);" < "$work/list.json" || fail "unexpected tool list"
grep -q "portab" "$work/list.err" && { cat "$work/list.err" >&2; fail "tool schemas have portability problems"; }

echo "\$ mcp-inspector --cli ${server[*]} --method tools/call --tool-name chat --tool-arg prompt=hello --tool-arg provider=glm"
inspect --format json "${server[@]}" --method tools/call --tool-name chat --tool-arg prompt=hello --tool-arg provider=glm > "$work/chat.json" 2> "$work/chat.err" || { cat "$work/chat.err" >&2; fail "tools/call chat failed"; }
json "const s = r.structuredContent; console.log('  text: ' + r.content[0].text); console.log('  ' + s.provider + ' ' + s.model + ' ' + s.finishReason + ', usage ' + JSON.stringify(s.usage) + ', session ' + JSON.stringify(s.metadata.session));
  if (!r.content[0].text.startsWith('Answer to \"hello\"') || s.provider !== 'glm' || r.isError) process.exit(1);" < "$work/chat.json" || fail "unexpected chat answer"

echo "\$ mcp-inspector --cli ${server[*]} --method tools/call --tool-name chat --tool-args-json '{\"prompt\":\"no [[mock status=401]]\"}'"
set +e
inspect --format json "${server[@]}" --method tools/call --tool-name chat --tool-args-json '{"prompt":"no [[mock status=401]]"}' > "$work/error.json" 2> "$work/error.err"
code=$?
set -e
[ "$code" -eq 5 ] || { cat "$work/error.err" >&2; fail "a provider failure should be a tool error (Inspector exit 5), got exit $code"; }
echo "  exit $code (tool_is_error): $(json "console.log(r.content[0].text)" < <(head -1 "$work/error.json"))"

echo "\$ mcp-inspector --cli ${server[*]} --method tools/call --tool-name providers"
inspect --format json "${server[@]}" --method tools/call --tool-name providers > "$work/providers.json" 2> "$work/providers.err" || { cat "$work/providers.err" >&2; fail "tools/call providers failed"; }
json "for (const p of r.structuredContent.providers) console.log('  ' + p.name.padEnd(7) + p.defaultModel.padEnd(16) + 'key: ' + (p.hasKey ? 'yes' : 'no'));" < "$work/providers.json"
grep -q "sk-sessionpool-mock" "$work/providers.json" && fail "the providers tool showed a key"

echo "\$ mcp-inspector --cli --load --load-requests 20 --load-concurrency 10 ${server[*]} --method tools/call --tool-name chat --tool-arg prompt=load"
inspect --load --load-requests 20 --load-concurrency 10 "${server[@]}" --method tools/call --tool-name chat --tool-arg prompt=load > "$work/load.json" 2> "$work/load.err" || { cat "$work/load.err" >&2; fail "the load run failed"; }
json "console.log('  ' + r.requests + ' calls, ' + r.ok + ' ok, ' + r.toolErrors + ' tool errors, ' + r.errors + ' errors, p50 ' + r.latencyMs.p50 + ' ms');
  if (r.ok !== 20 || r.errors + r.toolErrors > 0) process.exit(1);" < "$work/load.json" || fail "load run had failures"

echo "== Streamable HTTP: ${server[*]} --http 0"
(cd "$server_cwd" && exec "${server[@]}" --http 0) 2> "$work/http.err" &
http_pid=$!
url=""
for _ in $(seq 1 300); do
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*/mcp' "$work/http.err" || true)"
  [ -n "$url" ] && break
  kill -0 "$http_pid" 2>/dev/null || { cat "$work/http.err" >&2; fail "the HTTP server exited"; }
  sleep 0.1
done
[ -n "$url" ] || fail "the HTTP server printed no URL"
echo "  listening on $url"

echo "\$ mcp-inspector --cli $url --method tools/call --tool-name stats"
inspect --format json "$url" --method tools/call --tool-name stats > "$work/stats.json" 2> "$work/stats.err" || { cat "$work/stats.err" >&2; fail "tools/call stats over HTTP failed"; }
json "const s = r.structuredContent; console.log('  admitted ' + s.admitted + ', completed ' + s.completed + ', pool ' + JSON.stringify(s.pool));" < "$work/stats.json"

echo "== conformance server ($("$conformance" --version)) --url $url --expected-failures test/mcp-conformance/conformance-baseline.yml"
set +e
"$conformance" server --url "$url" --expected-failures "$here/conformance-baseline.yml" -o "$work/conformance" > "$work/conformance.log" 2>&1
code=$?
set -e
node "$here/summarise-conformance.ts" "$work/conformance" "$here/conformance-baseline.yml" || code=1
if [ "$code" -ne 0 ]; then
  # The runner's own summary names the unexpected failures; its "Total:" line is left out.
  grep -v '^Total:' "$work/conformance.log" | tail -40 >&2
  fail "conformance: unexpected results (exit $code)"
fi

kill -TERM "$http_pid"
set +e
wait "$http_pid"
code=$?
set -e
http_pid=""
[ "$code" -eq 0 ] || fail "the HTTP server did not exit cleanly on SIGTERM (exit $code)"
echo "test-mcp: Inspector (stdio, HTTP) and conformance done; the HTTP server exited 0 on SIGTERM"
