"""9. No request freezes the server: loop latency while the heaviest requests run.

One `trainer serve` process (SQLite, 50 sites, 30,000 participants checked in, an open quiz).
While the heaviest requests the limits allow run one after another:

- the attack file: an XLSX of 700,000 short rows (under the 10 MB upload limit), refused
  past the 100,000-row cap;
- the largest import accepted: 100,000 rows, checked (dry run);
- a 30,000-row export: the quiz results workbook (one row per participant), twice at once
  with each import;

a prober asks `GET /healthz` every 50 ms (its latency is the gevent loop's), and a Socket.IO
client watching the session must stay connected throughout. Goal: `/healthz` p99 <= 200 ms,
no socket dropped.

    .venv/bin/python -m bench --only freeze
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.common import Database, Row, Server, load, percentile

CACHE = Path(__file__).resolve().parent / ".cache"


def workbook(rows: int, *, valid: bool) -> bytes:
    """Rows of people; `valid` ones name a site of the benchmark's data (B0001...)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"roster-{rows}-{'sites' if valid else 'short'}.xlsx"
    if path.exists():
        return path.read_bytes()
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    if valid:
        ws.append(["Họ và tên", "Giới tính", "Năm sinh", "Mã điểm cầu"])
        for n in range(rows):
            ws.append([f"Nguyễn Thị Thử {n}", "Nữ", 1970 + n % 30, f"B{n % 50:04d}"])
    else:
        ws.append(["Họ và tên", "Mã điểm cầu"])
        for n in range(rows):
            ws.append([f"A{n}", "X"])
    out = io.BytesIO()
    wb.save(out)
    path.write_bytes(out.getvalue())
    return out.getvalue()


class Prober(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.latencies, self.errors = url, [], 0
        self.stopping = threading.Event()

    def run(self) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            t0 = time.perf_counter()
            try:
                ok = session.get(self.url + "/healthz", timeout=60).status_code == 200
            except requests.RequestException:
                ok = False
            self.latencies.append((time.perf_counter() - t0) * 1000)
            self.errors += 0 if ok else 1
            self.stopping.wait(0.05)


def _watcher(url: str, token: str, session_id: int) -> tuple[Any, dict[str, int]]:
    import socketio

    counts = {"disconnects": 0}
    client = socketio.Client(reconnection=False)

    @client.on("disconnect", namespace="/live")
    def _gone(*_: Any) -> None:
        counts["disconnects"] += 1

    client.connect(url, namespaces=["/live"], auth={"token": token},
                   transports=["websocket"], wait_timeout=10)
    client.call("watch", {"session_id": session_id}, namespace="/live", timeout=30)
    return client, counts


def bench_freeze(db: Database, runs: int) -> list[Row]:
    fx = load(db, sites=50, participants=30_000, quiz=True, checked_in=True)
    attack, largest = workbook(700_000, valid=False), workbook(100_000, valid=True)
    headers = {"Authorization": f"Bearer {fx.organiser_token}"}
    p99s: list[float] = []
    maxes: list[float] = []
    dropped: list[float] = []
    import_s: list[float] = []
    export_s: list[float] = []
    statuses: set[int] = set()
    with Server(db) as server:
        for _ in range(runs):
            client, counts = _watcher(server.url, fx.organiser_token, fx.session_id)
            prober = Prober(server.url)
            prober.start()
            time.sleep(1)
            for data in (attack, largest):
                done: list[float] = []

                def export(done: list[float] = done) -> None:
                    t0 = time.perf_counter()
                    r = requests.get(f"{server.url}/api/v1/quizzes/{fx.quiz_id}/results.xlsx",
                                     headers=headers, timeout=600)
                    statuses.add(r.status_code)
                    done.append(time.perf_counter() - t0)

                exporter = threading.Thread(target=export)
                exporter.start()
                t0 = time.perf_counter()
                r = requests.post(f"{server.url}/api/v1/participants/import", headers=headers,
                                  files={"file": ("roster.xlsx", data)},
                                  data={"dry_run": "true"}, timeout=600)
                statuses.add(r.status_code)
                import_s.append(time.perf_counter() - t0)
                exporter.join()
                export_s.extend(done)
            time.sleep(1)
            prober.stopping.set()
            prober.join()
            # read before our own disconnect, which runs the "disconnect" handler too
            lost = 0 if client.connected and not counts["disconnects"] else 1
            client.disconnect()
            p99s.append(percentile(prober.latencies, 99))
            maxes.append(max(prober.latencies))
            dropped.append(lost + prober.errors)
    return [
        Row("/healthz p99 during imports and exports", p99s, "ms", "<= 200", max(p99s) <= 200),
        Row("/healthz max", maxes, "ms"),
        Row("sockets dropped + failed probes", dropped, "", "0", max(dropped) == 0),
        Row("import (700,000-row attack file, 100,000-row check)", import_s, "s"),
        Row("30,000-row results export", export_s, "s"),
        Row(f"answers seen: {sorted(statuses)}", [float(len(statuses))], ""),
    ]
