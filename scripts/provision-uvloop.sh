#!/usr/bin/env bash
# Installs uvloop from PyPI for every interpreter in .cache/pythons/manifest.json that has a wheel,
# into .cache/pythons/uvloop/<id>/ (a --target directory: run the interpreter with PYTHONPATH set
# to it). Nothing is installed into an interpreter itself. Wheels are picked for each minor's ABI:
# debug builds (ABI "d") have none and are skipped; 3.8's newest wheel is uvloop 0.21.0.
# uvloop imports ssl, and the Debian interpreters' _ssl wants their own suite's OpenSSL, which the
# image lacks: that library is unpacked beside uvloop and named in the entry's LD_LIBRARY_PATH.
# Writes .cache/pythons/uvloop/manifest.json:
#   {id: {"path": dir, "version": x, "env": {...}} | {"skipped": why}}; run with PYTHONPATH=path.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE="$REPO/.cache/pythons"
[ -f "$CACHE/manifest.json" ] || { echo "provision-uvloop: run scripts/provision-pythons.sh first" >&2; exit 1; }
PIP=${PIP:-"python3 -m pip"}

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=${PYSPY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Unpacks one Debian package of a suite into a directory, with a private apt state.
debian_lib() { # suite package dest
  local suite=$1 pkg=$2 dest=$3 apt_dir="$CACHE/uvloop/apt/$1"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$dest"
  echo "deb [signed-by=$KEYRING] $MIRROR $suite main" > "$apt_dir/sources.list"
  local opts=(-qq -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" -o Dir::State::status=/dev/null
    -o APT::Sandbox::User=root -o Debug::NoLocking=1)
  [ -n "$(ls "$apt_dir/lists" | grep -v partial)" ] || apt-get "${opts[@]}" update
  (cd "$apt_dir/debs" && apt-get "${opts[@]}" download "$pkg")
  dpkg -x "$(ls -t "$apt_dir/debs/${pkg}"_*.deb | head -1)" "$dest"
}
export -f debian_lib
export CACHE KEYRING MIRROR

python3 - "$CACHE" "$PIP" <<'EOF'
import json, os, subprocess, sys
cache, pip = sys.argv[1], sys.argv[2].split()
# The OpenSSL package of each suite whose _ssl needs more than the image has.
SSL_PACKAGE = {"bullseye": "libssl1.1", "trixie": "libssl3t64", "sid": "libssl3t64"}
out_dir = os.path.join(cache, "uvloop")
os.makedirs(out_dir, exist_ok=True)
result = {}
for interp in json.load(open(os.path.join(cache, "manifest.json")))["interpreters"]:
    ident, minor = interp["id"], interp["minor"]
    if interp.get("debug"):
        result[ident] = {"skipped": "debug ABI: PyPI has no uvloop wheel for it"}
        continue
    target = os.path.join(out_dir, ident)
    abi = "cp" + minor.replace(".", "")
    if not os.path.isdir(os.path.join(target, "uvloop")):
        cmd = pip + ["install", "--quiet", "--disable-pip-version-check", "--no-deps", "--only-binary", ":all:",
                     "--target", target, "--python-version", minor, "--implementation", "cp", "--abi", abi,
                     "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64",
                     "--platform", "manylinux2014_x86_64", "uvloop"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            result[ident] = {"skipped": "no wheel: " + r.stderr.strip().splitlines()[-1]}
            continue
    extra_env = {}
    suite = interp["source"].removeprefix("debian-")
    if suite in SSL_PACKAGE:
        libs = os.path.join(target, "_debian_libs")
        if not os.path.isdir(libs):
            subprocess.run(["bash", "-c", 'debian_lib "$0" "$1" "$2"', suite, SSL_PACKAGE[suite], libs], check=True)
        extra_env["LD_LIBRARY_PATH"] = ":".join(
            os.path.join(libs, d) for d in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"))
    env = dict(os.environ, **interp["env"], **extra_env, PYTHONPATH=target)
    r = subprocess.run([interp["exe"], "-c", "import uvloop; print(uvloop.__version__)"], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        # e.g. 3.9-bullseye: its _ssl needs libssl.so.1.1, which the image lacks.
        result[ident] = {"skipped": "does not import: " + r.stderr.strip().splitlines()[-1]}
        print(f"{ident}: skipped, {result[ident]['skipped']}")
        continue
    result[ident] = {"path": target, "version": r.stdout.strip(), "env": extra_env}
    print(f"{ident}: uvloop {result[ident]['version']}")
json.dump(result, open(os.path.join(out_dir, "manifest.json"), "w"), indent=1)
EOF
