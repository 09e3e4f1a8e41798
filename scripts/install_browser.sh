#!/usr/bin/env bash
# Install the headless browser the real-browser UI tests drive (tests/ui).
#
# Debian's `chromium` package is used instead of `playwright install`, whose browser
# download is not reachable from this project's machines (only the package registries are).
# Idempotent: does nothing when /usr/bin/chromium already exists. Needs root (CI runs as root)
# or passwordless sudo.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "install_browser: $CHROMIUM present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown')), nothing to do"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser: $CHROMIUM missing and not root (no sudo): run 'apt-get install -y chromium' as root" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install_browser: $CHROMIUM missing; running apt-get update"
$SUDO apt-get update -q
# fonts-liberation: so text in screenshots renders with real glyphs on a bare image
echo "install_browser: apt-get install -y --no-install-recommends chromium fonts-liberation"
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-liberation

if [ ! -x "$CHROMIUM" ]; then
    echo "install_browser: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "install_browser: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
