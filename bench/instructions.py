"""Instructions per check-in and per `/ping` through the Flask test client, counted by
valgrind (callgrind). Unlike CPU time, the count does not move with the machine's load, so two
versions of the code can be compared at any moment (run it in each checkout).

    .venv/bin/python -m bench.instructions             # 200 check-ins, then 200 /ping
    .venv/bin/python -m bench.instructions --requests 500

Needs Debian's `valgrind`. Only the requests are counted (callgrind's instrumentation is
switched on around them); the live push is held back (LIVE_COALESCE_S of an hour) so that the
count does not depend on how many pushes valgrind's slowness lets through.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT, Database, _env, load, sqlite_database


def child(fixture: str, what: str, requests: int) -> None:
    data = json.loads(Path(fixture).read_text())
    os.environ.update(_env(Database(data["url"], Path(data["data_dir"]))))
    from trainer import create_app

    app = create_app()
    app.config["LIVE_COALESCE_S"] = 3600.0
    client = app.test_client()
    headers = {"Authorization": "Bearer " + data["token"]}
    url = f"/api/v1/sessions/{data['session_id']}/checkins"
    people = data["people"]
    random.Random(1).shuffle(people)
    for pid, site in people[:50]:  # warm-up: imports, statement caches
        client.post(url, json={"site_id": site, "participant_id": pid}, headers=headers)
    switch = ["callgrind_control", "-i"]
    subprocess.run([*switch, "on", str(os.getpid())], check=True, capture_output=True)
    for pid, site in people[50:50 + requests]:
        if what == "checkin":
            status = client.post(url, json={"site_id": site, "participant_id": pid},
                                 headers=headers).status_code
            if status != 201:
                raise SystemExit(f"check-in answered {status}")
        else:
            client.get("/ping")
    subprocess.run([*switch, "off", str(os.getpid())], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--child", nargs=2, metavar=("FIXTURE", "WHAT"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.requests)
        return
    db = sqlite_database()
    try:
        fx = load(db, sites=1000, participants=args.requests + 100, coordinators=1)
        fixture = db.data_dir / "fixture.json"
        fixture.write_text(json.dumps({
            "url": db.url, "data_dir": str(db.data_dir), "token": fx.organiser_token,
            "session_id": fx.session_id, "people": [[p, s] for p, s, _ in fx.participants]}))
        for what in ("checkin", "ping"):
            with tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
                subprocess.run(  # noqa: S603
                    ["valgrind", "--tool=callgrind", "--instr-atstart=no",  # noqa: S607
                     f"--callgrind-out-file={out.name}", sys.executable, "-m",
                     "bench.instructions", "--requests", str(args.requests), "--child",
                     str(fixture), what], cwd=ROOT, check=True, capture_output=True)
                totals = next(line for line in Path(out.name).read_text().splitlines()
                              if line.startswith("totals:"))
            per = int(totals.split()[1]) / args.requests / 1e6
            print(f"{'check-in' if what == 'checkin' else '/ping':<9} {per:6.2f} M instructions "
                  f"per request")
    finally:
        db.drop()


if __name__ == "__main__":
    main()
