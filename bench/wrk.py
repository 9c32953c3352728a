"""Check-ins against a bare endpoint, measured with wrk (Debian's `wrk`) in the same run.

    .venv/bin/python -m bench.wrk                      # SQLite, one `trainer serve` process
    .venv/bin/python -m bench.wrk --postgres           # PostgreSQL + Redis (BENCH_* URLs)
    .venv/bin/python -m bench.wrk --runs 3 --seconds 10 --participants 60000 --watchers 50

Loads 1,000 sites and the participants (bench.loader), starts `trainer serve` and the bare
gevent Flask endpoint (bench.bare, TCP_NODELAY), connects `--watchers` live watchers to the
session, then alternates, per run, wrk on the bare `GET /ping` and wrk on check-ins
(bench/checkin.lua: each request a different participant at their own site, as the
organiser). Prints both rates, their ratio and the check-ins that were not answered 201.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench.common import (
    ROOT,
    Database,
    Row,
    Server,
    free_port,
    load,
    machine,
    postgres_database,
    sqlite_database,
    table,
)

LUA = str(Path(__file__).with_name("checkin.lua"))
THREADS, CONNECTIONS = 2, 32


def wrk(url: str, seconds: float, *script: str) -> tuple[float, int, str]:
    """(requests/s, requests sent, wrk's output)."""
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency"]
    if script:
        cmd += ["-s", LUA, url, "--", *script]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))  # type: ignore[union-attr]
    sent = int(re.search(r"(\d+) requests in", out.stdout).group(1))  # type: ignore[union-attr]
    return rate, sent, out.stdout + out.stderr


class Bare:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bench.bare", "--port", str(self.port)], cwd=ROOT)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("bench.bare did not start")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def watch(server: Server, token: str, session_id: int, n: int, stop: threading.Event,
          ready: threading.Event) -> None:
    """`n` live watchers of the session until `stop` (in their own event loop)."""
    import aiohttp

    from bench.scenarios import Watcher

    async def main() -> None:
        async with aiohttp.ClientSession() as http:
            watchers = [Watcher(server.url, token, session_id) for _ in range(n)]
            tasks = [asyncio.create_task(w.run(http)) for w in watchers]
            await asyncio.gather(*(w.ready.wait() for w in watchers))
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.2)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def run(db: Database, *, redis: bool, runs: int, seconds: float, participants: int,
        watchers: int) -> list[Row]:
    fx = load(db, sites=1000, participants=participants, coordinators=1)
    people = [(pid, site) for pid, site, _ in fx.participants]
    random.Random(1).shuffle(people)  # sites in any order, as at a real conference
    data = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)  # noqa: SIM115
    data.write("".join(f"{pid} {site}\n" for pid, site in people))
    data.close()
    server, bare = Server(db, redis=redis, channel="bench-wrk"), Bare()
    stop, ready = threading.Event(), threading.Event()
    watching = threading.Thread(target=watch, args=(server, fx.organiser_token, fx.session_id,
                                                    watchers, stop, ready), daemon=True)
    try:
        if watchers:
            watching.start()
            if not ready.wait(60):
                raise RuntimeError("the watchers did not connect")
        used = 0

        def checkins(secs: float) -> tuple[float, int, float]:
            nonlocal used
            cpu = server.cpu_seconds()
            rate, sent, out = wrk(server.url, secs, fx.organiser_token, str(fx.session_id),
                                  data.name, str(used), str(THREADS))
            used += int(re.search(r"checkin-lines (\d+)", out).group(1))  # type: ignore[union-attr]
            errors = int(re.search(r"checkin-errors (\d+)", out).group(1))  # type: ignore[union-attr]
            if errors:
                print("\n".join(line for line in out.splitlines()
                                if line.startswith("unexpected")), file=sys.stderr)
            return rate, errors, (server.cpu_seconds() - cpu) * 1000 / max(sent, 1)

        def bare_rate(secs: float) -> tuple[float, float]:
            cpu = bare.cpu_seconds()
            rate, sent, _ = wrk(bare.url + "/ping", secs)
            return rate, (bare.cpu_seconds() - cpu) * 1000 / max(sent, 1)

        wrk(bare.url + "/ping", 2)  # warm-up
        checkins(2)
        bare_rates, rates, bare_cpu, cpu, errors = [], [], [], [], 0
        for _ in range(runs):
            rate, ms = bare_rate(seconds)
            bare_rates.append(rate)
            bare_cpu.append(ms)
            rate, errs, ms = checkins(seconds)
            rates.append(rate)
            cpu.append(ms)
            errors += errs
        if used > len(people):
            print("not enough participants for these runs: some check-ins were repeats",
                  file=sys.stderr)
    finally:
        stop.set()
        if watchers:
            watching.join(timeout=10)
        server.stop()
        bare.stop()
        Path(data.name).unlink(missing_ok=True)
    ratio = [c / b for c, b in zip(rates, bare_rates, strict=True)]
    return [
        Row("bare gevent Flask JSON (bench.bare)", bare_rates, "req/s"),
        Row("check-ins (POST .../checkins)", rates, "req/s"),
        Row("check-ins / bare", ratio, "ratio", "≥ 0.35", statistics.median(ratio) >= 0.35),
        Row("check-ins not answered 201", [float(errors)], "count", "0", errors == 0),
        Row("server CPU per bare request", bare_cpu, "ms"),
        Row("server CPU per check-in", cpu, "ms"),
        Row("CPU per bare request / per check-in", [b / c for b, c in zip(bare_cpu, cpu,
                                                                           strict=True)],
            "ratio"),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL (BENCH_DATABASE_URL) and Redis (BENCH_REDIS_URL)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--participants", type=int, default=60000)
    parser.add_argument("--watchers", type=int, default=50)
    args = parser.parse_args(argv)
    db = postgres_database() if args.postgres else sqlite_database()
    label = "PostgreSQL + Redis" if args.postgres else "SQLite"
    try:
        rows = run(db, redis=args.postgres, runs=args.runs, seconds=args.seconds,
                   participants=args.participants, watchers=args.watchers)
    finally:
        db.drop()
    print(machine())
    print(table(f"Check-ins vs bare with wrk ({label}, one process, {CONNECTIONS} connections, "
                f"{args.watchers} watchers, 1,000 sites)", rows))


if __name__ == "__main__":
    main()
