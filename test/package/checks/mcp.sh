#!/usr/bin/env bash
# The MCP Inspector's CLI and the official conformance runner against `sessionpool mcp --mock` from
# the installed package (not the source checkout). The bin is run directly, not through `npx`: the
# shutdown check sends SIGTERM and wants the server's own exit status, which npm's wrapper does not pass on.
set -euo pipefail
MCP_SERVER="$SESSIONPOOL_CONSUMER/node_modules/.bin/sessionpool mcp --mock" MCP_SERVER_CWD="$SESSIONPOOL_CONSUMER" bash "$SESSIONPOOL_ROOT/test/mcp-conformance/run.sh"
