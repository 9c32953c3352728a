"""Roster import speed: a generated 30,000-row CSV through trainer.people.importer.

    .venv/bin/python bench/import_roster.py [--rows 30000] [--database URL] [--xlsx]

Runs in-process on a fresh database (SQLite in a temporary folder unless --database names
another, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench_import; that database is
emptied first). Measures: the check (dry run), the first import (all rows created), and a
re-import of the same file (every row matched, nothing duplicated). Prints rows per second.

On SQLite a probe process meanwhile writes a tiny transaction every 20 ms on its own
connection (as a check-in would) and the longest wait for the write lock is printed: the
import must not hold the lock while it reads the file and checks rows, and writes in
batches so that check-ins get in between.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Hà", "Đinh", "Cao", "Triệu")
MIDDLE_F = ("Thị", "Thị Thu", "Thị Minh", "Ngọc", "Thu", "Thị Thanh", "Thị Hồng", "Khánh")
MIDDLE_M = ("Văn", "Đức", "Minh", "Quang", "Hữu", "Văn Tuấn", "Xuân", "Công")
GIVEN_F = ("Hà", "Hoa", "Hòa", "Lan", "Hương", "Mai", "Thảo", "Ngân", "Trang", "Yến", "Hạnh",
           "Nhung", "Huyền", "Phượng", "Loan", "Dung", "Thủy", "Liên", "Oanh", "Giang")
GIVEN_M = ("Đức", "Hùng", "Dũng", "Nam", "Tuấn", "Thắng", "Long", "Sơn", "Hải", "Quân",
           "Cường", "Bình", "Khánh", "Phong", "Trung", "Hiếu", "Toàn", "Việt", "Thành", "An")
POSITIONS = ("Giám đốc TTHTCĐ", "Phó Giám đốc TTHTCĐ", "Giáo viên", "Cán bộ Hội Khuyến học",
             "Cán bộ Hội Liên hiệp Phụ nữ xã", "Công chức văn hóa - xã hội")


def make_rows(n: int, sites: list[tuple[str, list[str]]], seed: int = 2017) -> list[list[str]]:
    rng = random.Random(seed)
    phones: set[str] = set()
    rows = []
    for _ in range(n):
        female = rng.random() < 0.5
        name = " ".join((rng.choice(FAMILY), rng.choice(MIDDLE_F if female else MIDDLE_M),
                         rng.choice(GIVEN_F if female else GIVEN_M)))
        code, units = rng.choice(sites)
        phone = ""
        while not phone or phone in phones:
            phone = rng.choice(("03", "05", "07", "08", "09")) + f"{rng.randrange(10**8):08d}"
        phones.add(phone)
        rows.append([name, "Nữ" if female else "Nam", str(rng.randint(1960, 2000)),
                     rng.choice(POSITIONS), rng.choice(units) if units else "", phone, code])
    return rows


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["DANH SÁCH HỌC VIÊN"])
    writer.writerow([])
    writer.writerow(["Họ và tên", "Giới tính", "Năm sinh", "Chức vụ", "Đơn vị", "Điện thoại",
                     "Mã điểm cầu"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["Họ và tên", "Giới tính", "Năm sinh", "Chức vụ", "Đơn vị", "Điện thoại",
               "Mã điểm cầu"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _probe(path: str, stop: Any, out: Any) -> None:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=60000")
    conn.execute("PRAGMA synchronous=NORMAL")  # as the app's connections
    waits = []
    while not stop.is_set():
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")  # waits while another connection holds the lock
        waits.append(time.perf_counter() - started)
        conn.execute("UPDATE site SET address = address WHERE id = 1")
        conn.execute("COMMIT")
        stop.wait(0.02)
    conn.close()
    out.send(waits)


class Probe:
    """Small write transactions from another process (as check-ins would come), recording
    the slowest: another process, so that it measures database locks, not the GIL."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.waits: list[float] = []

    def __enter__(self) -> Probe:
        ctx = multiprocessing.get_context("spawn")
        self.stop = ctx.Event()
        self.receive, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_probe, args=(self.path, self.stop, send),
                                   daemon=True)
        self.process.start()
        time.sleep(0.5)  # let it connect
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.waits = self.receive.recv() if self.receive.poll(70) else []
        self.process.join(timeout=10)

    def summary(self) -> str:
        if not self.waits:
            return ""
        return (f"  probe: {len(self.waits)} writes, longest wait for the lock "
                f"{max(self.waits) * 1000:,.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite)")
    parser.add_argument("--xlsx", action="store_true", help="import an XLSX file, not CSV")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="bench-import-")
    os.environ["TRAINER_DATA_DIR"] = data_dir
    os.environ.setdefault("SECRET_KEY", "bench-only")
    url = args.database or f"sqlite:///{data_dir}/bench.db"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")

    from trainer import create_app
    from trainer.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": data_dir,
                      "IMPORT_MAX_BYTES": 100 * 1024 * 1024})
    with app.test_request_context():
        if url.startswith("postgresql"):
            from sqlalchemy import text

            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.create_all()
        from trainer import demo_data
        from trainer.auth.services import create_user
        from trainer.people.importer import import_roster
        from trainer.sites.services import add_unit, create_site

        sites: list[tuple[str, list[str]]] = []
        for spec in demo_data.SITES:
            site = create_site(None, code=spec.code, name=spec.name, kind=spec.kind,
                               commit=False)
            db.session.flush()
            for commune in spec.communes:
                add_unit(None, site, commune, commit=False)
            sites.append((spec.code, list(spec.communes)))
        user = create_user("bench", "bench-password-1", "organiser", commit=False)
        db.session.commit()

        rows = make_rows(args.rows, sites)
        payload = as_xlsx(rows) if args.xlsx else as_csv(rows)
        kind = "XLSX" if args.xlsx else "CSV"
        print(f"{args.rows:,} rows, {kind} {len(payload) / 1e6:.1f} MB, database "
              f"{db.engine.dialect.name}, {len(sites)} sites")
        probe = Probe(url.removeprefix("sqlite:///")) if url.startswith("sqlite") else None
        for label, dry in (("check (dry run)", True), ("first import", False),
                           ("re-import, same file", False)):
            if probe:
                probe.__enter__()
            started = time.perf_counter()
            report = import_roster(user, payload, f"bench.{kind.lower()}", dry_run=dry)
            elapsed = time.perf_counter() - started
            if probe:
                probe.__exit__()
            print(f"  {label:<22} {elapsed:6.2f} s  {args.rows / elapsed:9,.0f} rows/s  "
                  f"created {report['created']:,}  updated {report['updated']:,}  "
                  f"(unchanged {report['unchanged']:,})  errors {len(report['errors'])}"
                  + (probe.summary() if probe else ""))
        from sqlalchemy import func, select

        from trainer.people.models import Participant

        stored = db.session.scalar(select(func.count()).select_from(Participant))
        print(f"  participants stored: {stored:,}")
        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
