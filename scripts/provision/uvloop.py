"""Provisions uvloop (from PyPI) for every interpreter of the manifest, for the `--async` tests.

usage: uvloop.py MANIFEST CACHE_DIR

Each interpreter gets its ABI's wheel unpacked into CACHE_DIR/uvloop/<id> (a pip --target folder:
the interpreter runs it with PYTHONPATH; nothing is installed into an interpreter), and its
manifest entry gets `"uvloop": {"path", "version", "env"}`. uvloop imports ssl, and the Debian
interpreters' _ssl wants its own suite's OpenSSL, which the image lacks: provision-pythons.sh
unpacks that into CACHE_DIR/ssl/<suite>, named here in the entry's LD_LIBRARY_PATH.

PyPI has no wheel for a Py_DEBUG ABI: those interpreters get `"uvloop": {"unavailable": why}`, an
exception the tests list and check; so do the builds `--async` refuses (before 3.8, free-threaded),
whose tests only check the refusal. Any other interpreter without uvloop fails provisioning.
"""
import json
import os
import subprocess
import sys

# 3.8's newest wheel is 0.21.0; the others take the newest.
PINNED = {"3.8": "uvloop==0.21.0"}
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]


def provision(interp, cache):
    ident, minor = interp["id"], interp["minor"]
    major_minor = tuple(int(p) for p in minor.split("."))
    if major_minor < (3, 8) or interp.get("freeThreaded"):
        return {"unavailable": "--async does not read this build"}
    if interp.get("debug"):
        return {"unavailable": "debug ABI: PyPI has no uvloop wheel for it"}
    target = os.path.join(cache, "uvloop", ident)
    if not os.path.isdir(os.path.join(target, "uvloop")):
        abi = "cp" + minor.replace(".", "")
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--only-binary", ":all:", "--target", target, "--python-version", minor, "--implementation", "cp",
               "--abi", abi, *[a for p in PLATFORMS for a in ("--platform", p)], PINNED.get(minor, "uvloop")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"no uvloop wheel: {(r.stderr.strip().splitlines() or ['pip failed'])[-1]}")
    extra_env = {}
    suite = interp["source"].removeprefix("debian-")
    ssl = os.path.join(cache, "ssl", suite)
    if interp["source"].startswith("debian-") and os.path.isdir(ssl):
        extra_env["LD_LIBRARY_PATH"] = ":".join(os.path.join(ssl, d) for d in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"))
    env = dict(os.environ, **interp["env"], **extra_env, PYTHONPATH=target)
    r = subprocess.run([interp["exe"], "-c", "import uvloop; print(uvloop.__version__)"], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"uvloop does not import: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    return {"path": target, "version": r.stdout.strip(), "env": extra_env}


def main():
    manifest_path, cache = sys.argv[1], sys.argv[2]
    manifest = json.load(open(manifest_path))
    failures = []
    for interp in manifest["interpreters"]:
        try:
            interp["uvloop"] = provision(interp, cache)
        except RuntimeError as e:
            failures.append(f"{interp['id']}: {e}")
            continue
        got = interp["uvloop"]
        print(f"  {interp['id']:<20} uvloop {got.get('version') or '-- ' + got['unavailable']}")
    if failures:
        for f in failures:
            print(f"provision-pythons: uvloop for {f}", file=sys.stderr)
        sys.exit(1)
    tmp = manifest_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
    os.replace(tmp, manifest_path)


if __name__ == "__main__":
    main()
