#!/usr/bin/env bash
# The browser test of the live view (not part of `npm test`): installs Debian's Chromium when it is
# missing (as root, or through sudo), then runs `npm run test:browser`. For CI, as a step of its own.
set -euo pipefail
cd "$(dirname "$0")/../.."

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium
fi
"$chromium" --version
npm run test:browser
