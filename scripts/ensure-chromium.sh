#!/usr/bin/env bash
# Makes sure a Chromium for the browser tests (test/report-browser.test.ts) is at /usr/bin/chromium.
# Idempotent: nothing to do when it is there; else, as root with apt-get, installs Debian's
# `chromium` package non-interactively (an `apt-get update` first only if the plain install fails).
# Exit 0: chromium is present. Exit 1: it is not, and stderr says why and what to do.
set -uo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "chromium: $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  echo "ensure-chromium: $CHROMIUM is missing and this is not root, so it cannot be installed here" >&2
  echo "  fix: sudo apt-get install -y --no-install-recommends chromium (or run this script as root)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available on this system" >&2
  echo "  fix: install Chromium with this system's package manager so that $CHROMIUM exists" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold chromium
}

echo "ensure-chromium: installing chromium with apt-get…"
if ! apt_install; then
  echo "ensure-chromium: plain install failed; running apt-get update, then retrying" >&2
  if ! apt-get update || ! apt_install; then
    echo "ensure-chromium: apt-get could not install chromium (see the apt output above)" >&2
    echo "  fix: check the apt sources and network, then run scripts/ensure-chromium.sh again" >&2
    exit 1
  fi
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get finished but $CHROMIUM does not exist" >&2
  exit 1
fi
echo "chromium: $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
