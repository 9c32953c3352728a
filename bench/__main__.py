"""`make bench`: run the benchmarks against real `trainer serve` processes and print tables.

python -m bench [--only checkin,latency,connections,quiz,scaleout] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import scenarios
from bench.common import machine, postgres_database, sqlite_database, table

ALL = ("checkin", "latency", "connections", "quiz", "scaleout")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default=",".join(ALL))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="short runs, smaller loads")
    args = parser.parse_args()
    chosen = [c.strip() for c in args.only.split(",") if c.strip()]
    seconds = 5.0 if args.quick else 10.0
    print(f"Machine: {machine()}")
    print(f"Runs per measure: {args.runs} (median, min, max)")
    started = time.monotonic()
    for name in chosen:
        db = sqlite_database()
        try:
            if name == "checkin":
                rows = scenarios.bench_checkin(db, args.runs, seconds)
                print(table("1. Check-in throughput (SQLite, one process, 32 clients, "
                            "1,000 sites)", rows))
            elif name == "latency":
                rows = scenarios.bench_latency(
                    db, args.runs, 10.0 if args.quick else 30.0,
                    watchers=200 if args.quick else 1000)
                print(table("2. Live latency (SQLite, one process, 1,000 sites, 30,000 "
                            "participants, 1,000 watchers, 200 check-ins/s)", rows))
            elif name == "connections":
                rows = scenarios.bench_connections(db, args.runs,
                                                   clients=1000 if args.quick else 5000)
                print(table("3. Connections (one process)", rows))
            elif name == "quiz":
                rows = scenarios.bench_quiz(db, args.runs, trainees=400 if args.quick else 2000,
                                            window=20.0 if args.quick else 60.0)
                print(table("4. Quiz rush (SQLite, one process)", rows))
            elif name == "scaleout":
                db.drop()
                db = postgres_database()
                rows = scenarios.bench_checkin(db, args.runs, seconds, processes=2, redis=True)
                print(table("5a. Check-in throughput, two processes, PostgreSQL + Redis", rows))
                db.drop()
                db = postgres_database()
                rows = scenarios.bench_latency(
                    db, args.runs, 10.0 if args.quick else 30.0,
                    watchers=200 if args.quick else 1000, processes=2, redis=True)
                print(table("5b. Live latency, two processes, PostgreSQL + Redis", rows))
            else:
                print(f"unknown benchmark {name!r}", file=sys.stderr)
                return 2
        finally:
            db.drop()
        sys.stdout.flush()
    print(f"\nTotal time: {time.monotonic() - started:,.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
