"""Smoke-checks provisioned interpreters and writes the manifest the tests read.

stdin: one interpreter per line, `id|minor|exe|source|debug|pythonhome|include:dirs|free_threaded`.
Each must run, report the expected minor, import what the test targets import, and show the
real python binary as /proc/PID/exe (not a loader). A free-threaded one must be built with
Py_GIL_DISABLED and still run without the GIL after those imports (an extension module that does
not declare itself free-threading-safe turns the GIL back on); every other must have the GIL.
Any failure exits nonzero.
"""
import json
import os
import subprocess
import sys

# Runs under every provisioned interpreter, Python 2.7 included: 2.7 has no asyncio or
# concurrent.futures (nor does a 2.7 target import them).
SNIPPET = r"""
import sys, os, threading, json, traceback, multiprocessing, zlib, sysconfig
if sys.version_info[0] >= 3:
    import asyncio, concurrent.futures
t = threading.Thread(target=lambda: None); t.start(); t.join()
print(json.dumps({"version": sys.version.split()[0], "minor": "%d.%d" % sys.version_info[:2],
                  "exe": os.readlink("/proc/self/exe"),
                  "gil_disabled_build": sysconfig.get_config_var("Py_GIL_DISABLED") == 1,
                  "gil_enabled": getattr(sys, "_is_gil_enabled", lambda: True)()}))
"""


def main():
    out_path = sys.argv[1]
    entries = []
    failures = []
    for line in sys.stdin.read().splitlines():
        if not line.strip():
            continue
        id_, minor, exe, source, debug, home, includes, free_threaded = line.split("|")
        free_threaded = free_threaded == "1"
        env = {"PYTHONHOME": home} if home else {}
        try:
            r = subprocess.run([exe, "-c", SNIPPET], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
        except OSError as e:
            failures.append(f"{id_}: cannot run {exe}: {e}")
            continue
        if r.returncode != 0:
            failures.append(f"{id_}: {exe} failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
            continue
        info = json.loads(r.stdout.strip().splitlines()[-1])
        if info["minor"] != minor:
            failures.append(f"{id_}: expected {minor}, got {info['minor']}")
            continue
        if not os.path.basename(info["exe"]).startswith("python"):
            failures.append(f"{id_}: /proc/self/exe is {info['exe']}, not the python binary")
            continue
        if info["gil_disabled_build"] != free_threaded:
            failures.append(f"{id_}: Py_GIL_DISABLED is {int(info['gil_disabled_build'])}, expected {int(free_threaded)}")
            continue
        if info["gil_enabled"] == free_threaded:
            failures.append(f"{id_}: the GIL is {'enabled' if info['gil_enabled'] else 'disabled'} after the imports")
            continue
        entries.append({
            "id": id_, "minor": minor, "version": info["version"], "exe": exe, "env": env,
            "source": source, "debug": debug == "1", "freeThreaded": free_threaded, "include": [d for d in includes.split(":") if d and os.path.isdir(d)],
        })
        print(f"  {id_:<20} {info['version']:<10} {exe}")
    if failures:
        for f in failures:
            print(f"provision-pythons: {f}", file=sys.stderr)
        sys.exit(1)
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"interpreters": entries}, f, indent=2)
    os.replace(tmp, out_path)
    print(f"{len(entries)} interpreters -> {out_path}")


if __name__ == "__main__":
    main()
