"""Example target: an asyncio health monitor, to read with `pyspy-ts record --async --idle`.

Like a monitor built on asyncssh, one task per host connects, runs a few commands, disconnects,
and starts again a moment later. The "hosts" are a server in this same process, on 127.0.0.1,
that takes its time: host-1 is slow to accept a session, host-2 slow to run commands, host-3
quick at both. A plain profile shows the event loop and little else (waiting runs no Python);
with --async --idle every task is sampled where it waits, under its own `Task monitor host-N`
frame, so the flame graph splits each task's time into connection set-up and command runs.

    python3 examples/health_monitor.py --seconds 20 &
    ./node_modules/.bin/pyspy-ts record --async --idle -o monitor.svg --pid $!
    ./node_modules/.bin/pyspy-ts record --async --idle -f raw -o monitor.txt -- python3 examples/health_monitor.py

At exit it prints, per host, the share of its monitor task's time that it measured itself in
set-up and in commands, to hold the profile against (`--report FILE` writes it as JSON).
"""
import argparse
import asyncio
import hashlib
import json
import time

# host: (seconds before the session is ready, seconds per command)
HOSTS = {"host-1": (0.30, 0.02), "host-2": (0.03, 0.12), "host-3": (0.03, 0.02)}
COMMANDS = ["uptime", "df -h", "systemctl is-active app"]
PAUSE = 0.1


async def serve(reader, writer):
    """The far side: a banner once the session is ready, then one reply per command."""
    host = (await reader.readline()).decode().strip()
    ready, per_command = HOSTS[host]
    await asyncio.sleep(ready)
    writer.write(b"SSH-2.0-fake\n")
    while line := await reader.readline():
        await asyncio.sleep(per_command)
        writer.write(f"ok {line.decode().strip()}\n".encode())
        await writer.drain()
    writer.close()


def key_exchange(banner):
    # A little CPU, as a real handshake has.
    digest = banner
    for _ in range(200):
        digest = hashlib.sha256(digest).digest()
    return digest


async def connect(port, host):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{host}\n".encode())
    banner = await reader.readline()
    key_exchange(banner)
    return reader, writer


async def run_command(reader, writer, command):
    writer.write(f"{command}\n".encode())
    await writer.drain()
    return (await reader.readline()).decode().strip()


async def monitor(port, host, stop, spent):
    while time.monotonic() < stop:
        started = time.monotonic()
        reader, writer = await connect(port, host)
        connected = time.monotonic()
        for command in COMMANDS:
            await run_command(reader, writer, command)
        done = time.monotonic()
        writer.close()
        spent["setup"] += connected - started
        spent["commands"] += done - connected
        await asyncio.sleep(PAUSE)


async def main(seconds, report):
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stop = time.monotonic() + seconds
    spent = {host: {"setup": 0.0, "commands": 0.0} for host in HOSTS}
    async with asyncio.TaskGroup() if hasattr(asyncio, "TaskGroup") else _Gather() as group:
        for host in HOSTS:
            group.create_task(monitor(port, host, stop, spent[host]), name=f"monitor {host}")
    server.close()
    shares = {host: round(100 * s["setup"] / ((s["setup"] + s["commands"]) or 1), 1) for host, s in spent.items()}
    for host, share in shares.items():
        print(f"{host}: {share}% of its time in set-up, {round(100 - share, 1)}% in commands (as measured here)")
    if report:
        with open(report, "w") as f:
            json.dump({"setup_share_pct": shares}, f)


class _Gather:
    """TaskGroup's shape on 3.8-3.10: the tasks are gathered when the block ends."""

    async def __aenter__(self):
        self.tasks = []
        return self

    def create_task(self, coro, name):
        self.tasks.append(asyncio.ensure_future(coro))
        self.tasks[-1].set_name(name)

    async def __aexit__(self, *exc):
        await asyncio.gather(*self.tasks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--report", help="write the measured shares to this JSON file")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.report))
