#!/usr/bin/env bash
# Makes sure a program the tests need from Debian's packages is installed: chromium for the browser
# tests, zsh and fish for the completion tests.
#   usage: scripts/ensure-debian-package.sh <absolute path of the program> <Debian package>
# Idempotent: nothing to do when the program is there; else, as root with apt-get, installs the
# package non-interactively (an `apt-get update` first only if the plain install fails).
# Exit 0: the program is present. Exit 1: it is not, and stderr says why and what to do.
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 <absolute path of the program> <Debian package>" >&2
  exit 2
fi
PROGRAM=$1
PACKAGE=$2
NAME=$(basename "$0")

if [ -x "$PROGRAM" ]; then
  echo "$PACKAGE: $PROGRAM"
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  echo "$NAME: $PROGRAM is missing and this is not root, so it cannot be installed here" >&2
  echo "  fix: sudo apt-get install -y --no-install-recommends $PACKAGE (or run this script as root)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "$NAME: $PROGRAM is missing and apt-get is not available on this system" >&2
  echo "  fix: install $PACKAGE with this system's package manager so that $PROGRAM exists" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$PACKAGE"
}

echo "$NAME: installing $PACKAGE with apt-get…"
if ! apt_install; then
  echo "$NAME: plain install failed; running apt-get update, then retrying" >&2
  if ! apt-get update || ! apt_install; then
    echo "$NAME: apt-get could not install $PACKAGE (see the apt output above)" >&2
    echo "  fix: check the apt sources and network, then run $0 $PROGRAM $PACKAGE again" >&2
    exit 1
  fi
fi

if [ ! -x "$PROGRAM" ]; then
  echo "$NAME: apt-get finished but $PROGRAM does not exist" >&2
  exit 1
fi
echo "$PACKAGE: $PROGRAM"
