#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (playwright-core never downloads a browser). Installs it when it is
# missing and this user may (root); otherwise says what to do.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: $chromium is missing; install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH" >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
