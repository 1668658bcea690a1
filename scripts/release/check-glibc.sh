#!/usr/bin/env bash
# Fails when a shared object asks for a glibc symbol version newer than MAX (default 2.17):
#   scripts/release/check-glibc.sh pyspy.linux-x64-gnu.node [2.17]
# readelf reads the version needs of any architecture's ELF, so it checks cross-built arm64 too.
set -euo pipefail
file=$1 max=${2:-2.17}
newest=$(readelf -W -V "$file" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
[ -n "$newest" ] || { echo "$file: no GLIBC symbol versions found" >&2; exit 1; }
if [ "$(printf '%s\n%s\n' "$newest" "$max" | sort -V | tail -1)" != "$max" ]; then
  echo "$file needs GLIBC_$newest, newer than the $max floor" >&2
  exit 1
fi
echo "$file: newest glibc symbol version $newest (floor $max)"
