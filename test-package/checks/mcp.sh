#!/usr/bin/env bash
# The MCP Inspector's CLI and the official conformance runner against `npx sessionpool mcp --mock`
# from the installed package (not the source checkout).
set -euo pipefail
MCP_SERVER="npx --no-install sessionpool mcp --mock" MCP_SERVER_CWD="$SESSIONPOOL_CONSUMER" bash "$SESSIONPOOL_ROOT/test-mcp/run.sh"
