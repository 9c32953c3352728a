"""`make bench`: run the benchmarks against real `trainer serve` processes and print tables.

python -m bench [--only checkin,latency,connections,quiz,scaleout,pages,wall,freeze,conference]
    [--runs 3] [--quick]

`--only scaleout-latency` runs table 5b alone (not part of the default list).

--quick: shorter runs and smaller loads (200 watchers, 1,000 connections, 400 trainees in
20 s): a smoke test of the harness, not the goals.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import scenarios
from bench.common import Row, machine, postgres_database, sqlite_database, table

ALL = ("checkin", "latency", "connections", "quiz", "scaleout", "pages", "wall", "freeze",
       "conference")
EXTRA = ("scaleout-latency",)  # 5b alone


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default=",".join(ALL))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="short runs, smaller loads")
    args = parser.parse_args()
    chosen = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = [c for c in chosen if c not in ALL + EXTRA]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ALL + EXTRA)}",
              file=sys.stderr)
        return 2
    quick = args.quick
    seconds = 5.0 if quick else 10.0
    latency_s = 10.0 if quick else 30.0
    watchers = 200 if quick else 1000
    print(f"Machine: {machine()}")
    print(f"Load average before: {scenarios.load_average()}")
    print(f"Runs per measure: {args.runs} (median, min, max){' - QUICK' if quick else ''}")
    started = time.monotonic()
    for name in chosen:
        t0 = time.monotonic()
        if name == "conference":
            from bench.conference import bench_conference

            sites = 4 if quick else 13
            print(table(f"8. The video room ({sites} sites and the host on one Janus, 180p, "
                        "inside a network namespace)", bench_conference(1, sites)))
        elif name == "scaleout-latency":
            print(table(*_latency_pg(args.runs, latency_s, watchers)))
        elif name == "scaleout":
            for processes in (1, 2):  # one process first: what the second one adds
                db = postgres_database()
                try:
                    rows = scenarios.bench_checkin(db, args.runs, seconds,
                                                   processes=processes, redis=True)
                finally:
                    db.drop()
                print(table(f"5a. Check-in throughput, {processes} process"
                            f"{'es' if processes > 1 else ''}, PostgreSQL + Redis, "
                            "32 clients, 1,000 sites", rows))
            print(table(*_latency_pg(args.runs, latency_s, watchers)))
            db = postgres_database()
            try:
                rows = scenarios.bench_pages(db, args.runs)
            finally:
                db.drop()
            print(table("5c. Pages at scale on PostgreSQL (one process, 1,000 sites, 30,000 "
                        "participants, 15,000 checked in)", rows))
        else:
            db = sqlite_database()
            try:
                if name == "checkin":
                    rows = scenarios.bench_checkin(db, args.runs, seconds)
                    title = ("1. Check-in throughput (SQLite, one process, 32 clients, "
                             "1,000 sites)")
                elif name == "latency":
                    rows = scenarios.bench_latency(db, args.runs, latency_s, watchers=watchers)
                    title = (f"2. Live latency (SQLite, one process, 1,000 sites, 30,000 "
                             f"participants, {watchers:,} watchers, 200 check-ins/s for "
                             f"{latency_s:.0f} s)")
                elif name == "connections":
                    clients = 1000 if quick else 5000
                    rows = scenarios.bench_connections(db, args.runs, clients=clients)
                    title = f"3. Connections (one process, {clients:,} Socket.IO clients)"
                elif name == "quiz":
                    trainees, window = (400, 20.0) if quick else (2000, 60.0)
                    rows = scenarios.bench_quiz(db, args.runs, trainees=trainees,
                                                window=window)
                    title = (f"4. Quiz rush (SQLite, one process, {trainees:,} trainees, "
                             f"10 answers each, {window:.0f} s)")
                elif name == "wall":
                    from bench.wall import bench_wall

                    rows = bench_wall(db, args.runs, seconds=5.0 if quick else 10.0)
                    title = ("7. The live wall in Chromium (one process, 1,000 sites, 30,000 "
                             "participants, 15,000 checked in, 200 check-ins/s streaming)")
                elif name == "freeze":
                    from bench.freeze import bench_freeze

                    rows = bench_freeze(db, 1 if quick else args.runs)
                    title = ("9. No request freezes the server (one process, a 700,000-row "
                             "import, a 100,000-row import check, 30,000-row exports)")
                else:
                    rows = scenarios.bench_pages(db, args.runs)
                    title = ("6. Pages at scale (SQLite, one process, 1,000 sites, 30,000 "
                             "participants, 15,000 checked in)")
            finally:
                db.drop()
            print(table(title, rows))
        print(f"({name}: {time.monotonic() - t0:,.0f} s; load average now "
              f"{scenarios.load_average()})")
        sys.stdout.flush()
    print(f"\nTotal time: {time.monotonic() - started:,.0f} s")
    return 0


def _latency_pg(runs: int, seconds: float, watchers: int) -> tuple[str, list[Row]]:
    """Table 5b."""
    db = postgres_database()
    try:
        rows = scenarios.bench_latency(db, runs, seconds, watchers=watchers, processes=2,
                                       redis=True)
    finally:
        db.drop()
    return (f"5b. Live latency, two processes, PostgreSQL + Redis, 1,000 sites, 30,000 "
            f"participants, {watchers:,} watchers, 200 check-ins/s for {seconds:.0f} s", rows)


if __name__ == "__main__":
    sys.exit(main())
