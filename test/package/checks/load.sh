#!/usr/bin/env bash
# `npx sessionpool load --concurrency 1,10,50 --requests 200 --stream --html …` from the installed
# package, its report rendered and checked in Debian's headless Chromium (installed when missing).
set -euo pipefail
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cd "$SESSIONPOOL_CONSUMER"
bash "$SESSIONPOOL_ROOT/test/load-report/check.sh" npx --no-install sessionpool
