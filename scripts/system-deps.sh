#!/usr/bin/env bash
# What the tests need from the machine beyond Node, Rust and Python: Debian's Chromium (the flame
# graph and the core-dump page are tested in a real browser), gdb (gcore makes the core files the
# core tests read; unshare and mount, from util-linux/mount, hide their files), Go (pprof files are checked with `go tool pprof`), gcc and
# the system python's static libpython (CPython is linked into stripped programs and profiled),
# and an unprivileged user (permission-denied is tested for real).
# Installs them when run as root; otherwise says what is missing and fails.
set -euo pipefail

TEST_USER=pyspy-test
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v gcore >/dev/null || missing+=(gdb)
command -v go >/dev/null || missing+=(golang-go)
command -v gcc >/dev/null || missing+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libpython3.11.a ] || missing+=(libpython3.11-dev)
id -u "$TEST_USER" >/dev/null 2>&1 || missing+=("user:$TEST_USER")
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing ${missing[*]}; run scripts/system-deps.sh as root once" >&2
    exit 1
  fi
  for item in "${missing[@]}"; do
    case "$item" in
      chromium | gdb | golang-go | gcc | libpython3.11-dev)
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$item" >/dev/null
        ;;
      user:*)
        useradd --no-create-home --shell /usr/sbin/nologin "$TEST_USER"
        ;;
    esac
  done
  echo "system deps: installed ${missing[*]}"
fi

# Go builds `go tool pprof` on its first use (a minute or more on a busy 2-core machine) and
# caches it: build it here, not inside a test's time limit.
go tool pprof -h >/dev/null 2>&1 || true
