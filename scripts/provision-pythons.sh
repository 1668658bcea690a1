#!/usr/bin/env bash
# Provisions every CPython the tests run against, without touching the system: Debian packages
# fetched with a private apt state and unpacked with dpkg -x, plus the CPythons the machine
# already has (the system python3.11, the image's pyenv builds). Writes the list the tests read
# to <repo>/.cache/pythons/manifest.json. Any interpreter that cannot be provisioned fails the
# run: a test suite that silently tests fewer versions proves less than it claims.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
# The interpreters themselves (about 1 GB with the apt state) live outside the clone, in the
# user's cache: a fresh clone, a second worktree or a CI run on the same machine then reuses them
# instead of downloading (and, later, compiling) everything again. The manifest stays in the
# clone, because it is this checkout's list of what its tests run against.
CACHE_ROOT=${PYSPY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pyspy-ts}
CACHE="$CACHE_ROOT/pythons"
APT_DIR="$CACHE/apt"
MANIFEST="$REPO/.cache/pythons/manifest.json"
MIRROR=${PYSPY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$CACHE" "$APT_DIR" "$(dirname "$MANIFEST")"

die() { echo "provision-pythons: $*" >&2; exit 1; }

# Several clones may provision into the one cache at once (the lead's test run beside a
# helper's): one at a time, or two would unpack into the same folder.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  echo "provision-pythons: waiting for another provisioning run to release $CACHE/.lock" >&2
  flock 9
fi

apt_private() {
  local suite=$1; shift
  apt-get -qq \
    -o Dir::Etc::SourceList="$APT_DIR/$suite.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$APT_DIR/$suite/lists" -o Dir::Cache="$APT_DIR/$suite/cache" \
    -o Dir::State::status=/dev/null -o APT::Sandbox::User=root -o Debug::NoLocking=1 "$@"
}

# Package lists are refreshed at most daily: the archive moves slowly and CI runs often.
apt_update_once() {
  local suite=$1 stamp="$APT_DIR/$suite/updated"
  if [ -f "$stamp" ] && [ -n "$(find "$stamp" -mmin -1440)" ]; then return; fi
  mkdir -p "$APT_DIR/$suite/lists/partial" "$APT_DIR/$suite/cache/archives/partial"
  echo "deb [signed-by=$KEYRING] $MIRROR $suite main" > "$APT_DIR/$suite.list"
  apt_private "$suite" update || die "apt-get update for $suite failed (is $MIRROR reachable?)"
  touch "$stamp"
}

# Unpacks packages from a suite into a root folder (once; a marker records what is there).
unpack() {
  local suite=$1 root=$2; shift 2
  local marker="$root/.unpacked-$(echo "$*" | md5sum | cut -c1-12)"
  [ -f "$marker" ] && return
  apt_update_once "$suite"
  local debs="$APT_DIR/$suite/debs"
  mkdir -p "$debs" "$root"
  (cd "$debs" && apt_private "$suite" download "$@") || die "could not download $* from $suite"
  for pkg in "$@"; do
    local deb
    deb=$(ls -t "$debs/${pkg}"_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || die "no .deb for $pkg from $suite"
    dpkg -x "$deb" "$root"
  done
  touch "$marker"
}

PATCHELF="$CACHE/tools/usr/bin/patchelf"
ensure_patchelf() {
  [ -x "$PATCHELF" ] && return
  unpack bookworm "$CACHE/tools" patchelf
  [ -x "$PATCHELF" ] || die "patchelf did not unpack"
}

# Newer suites need their own glibc. The binary is patched to use that suite's loader and
# libraries, rather than being started through ld.so, so /proc/PID/exe is the real python
# binary, as it is for every python a user runs. DT_RPATH (not RUNPATH) so that extension
# modules loaded with dlopen find the same libraries.
patch_for_own_glibc() {
  local root=$1 exe=$2
  ensure_patchelf
  local loader="$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
  [ -e "$loader" ] || loader="$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
  [ -e "$loader" ] || die "no ld-linux in $root"
  "$PATCHELF" --set-interpreter "$loader" \
    --force-rpath --set-rpath "$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" "$exe"
}

patched_for_own_glibc() { # root exe
  ensure_patchelf
  case "$("$PATCHELF" --print-interpreter "$2" 2>/dev/null)" in
    "$1"/*) return 0 ;;
    *) return 1 ;;
  esac
}

# Everything the smoke check imports, from each suite: the minimal and stdlib packages plus
# the C libraries their extension modules link against.
# libc6-dbg: that glibc's debug files, in the tree's own usr/lib/debug/.build-id, where --native
# looks for a library unpacked there (Debian strips libc to .dynsym, which names none of the
# functions every thread starts in). Kept in the cache with the interpreter it belongs to.
STDLIB_LIBS_NEW="libc6 libc6-dbg zlib1g libexpat1 libffi8 libbz2-1.0 liblzma5 libmpdec4 libuuid1 libzstd1"

MANIFEST_ENTRIES=()
add_interpreter() { # id minor exe source debug pythonhome include_dirs(colon-separated, may be empty)
  MANIFEST_ENTRIES+=("$1|$2|$3|$4|$5|$6|$7")
}

debian_interpreter() { # id suite minor debug(0/1) own_glibc(0/1)
  local id=$1 suite=$2 minor=$3 debug=$4 own_glibc=$5
  local root="$CACHE/$id" pkgs
  pkgs="python$minor-minimal libpython$minor-minimal libpython$minor-stdlib libpython$minor-dev"
  if [ "$debug" = 1 ]; then pkgs="$pkgs python$minor-dbg libpython$minor-dbg"; fi
  if [ "$own_glibc" = 1 ]; then pkgs="$pkgs $STDLIB_LIBS_NEW"; fi
  # shellcheck disable=SC2086
  unpack "$suite" "$root" $pkgs
  local exe="$root/usr/bin/python$minor"
  [ "$debug" = 1 ] && exe="$root/usr/bin/python$minor-dbg"
  [ -x "$exe" ] || die "$id: $exe missing after unpacking"
  # Checked on the binary itself, not by a marker: unpacking again (a package added to the list)
  # writes the unpatched binary back over the patched one.
  if [ "$own_glibc" = 1 ] && ! patched_for_own_glibc "$root" "$exe"; then
    patch_for_own_glibc "$root" "$exe"
  fi
  add_interpreter "$id" "$minor" "$exe" "debian-$suite" "$debug" "$root/usr" \
    "$root/usr/include/python$minor$([ "$debug" = 1 ] && echo d):$root/usr/include"
}

debian_interpreter 3.9-bullseye bullseye 3.9 0 0
debian_interpreter 3.13-trixie trixie 3.13 0 1
debian_interpreter 3.14-sid sid 3.14 0 1
debian_interpreter 3.15-sid sid 3.15 0 1
debian_interpreter 3.11-dbg-bookworm bookworm 3.11 1 0
debian_interpreter 3.14-dbg-sid sid 3.14 1 1

# Debian 11's C and C++ runtime (glibc 2.31), unpacked apart: tests/addon-load.test.ts runs Node
# through its loader to check that the addon loads on the oldest glibc users commonly have.
unpack bullseye "$CACHE/glibc-bullseye" libc6 libgcc-s1 libstdc++6
[ -x "$CACHE/glibc-bullseye/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ] || die "bullseye's loader did not unpack"
# Beside the manifest, where the test looks for it.
GLIBC_LINK="$(dirname "$MANIFEST")/glibc-bullseye"
[ -L "$GLIBC_LINK" ] || rm -rf "$GLIBC_LINK"
ln -sfn "$CACHE/glibc-bullseye" "$GLIBC_LINK"

[ -x /usr/bin/python3.11 ] || die "/usr/bin/python3.11 missing (the system python of this machine image)"
# Debian's pyconfig.h includes <x86_64-linux-gnu/python3.X/pyconfig.h>, so usr/include itself is a header dir too.
add_interpreter 3.11-system 3.11 /usr/bin/python3.11 system 0 "" "/usr/include/python3.11:/usr/include"

# The machine image's pyenv builds (shared libpython, unlike Debian's static binaries) are the
# only 3.8, 3.10 and 3.12 here. The newest patch release of each minor.
PYENV_ROOT_DIR=${PYENV_ROOT:-/root/.pyenv}/versions
for minor in 3.8 3.9 3.10 3.11 3.12 3.13; do
  version=$(ls "$PYENV_ROOT_DIR" 2>/dev/null | grep -E "^${minor//./\\.}\.[0-9]+$" | sort -V | tail -1 || true)
  [ -n "$version" ] || die "no pyenv CPython $minor under $PYENV_ROOT_DIR (the machine image should have it)"
  add_interpreter "$minor-pyenv" "$minor" "$PYENV_ROOT_DIR/$version/bin/python$minor" pyenv 0 "" \
    "$PYENV_ROOT_DIR/$version/include/python$minor"
done

# Smoke check each one and write the manifest (python3 of the host does the JSON).
printf '%s\n' "${MANIFEST_ENTRIES[@]}" | python3 "$REPO/scripts/provision/check.py" "$MANIFEST"
