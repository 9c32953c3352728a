"""A roster import as large as the limits allow must not freeze the server: parsing runs off
the gevent loop and stops past the row cap, so `/healthz` keeps answering while it runs, and
a second import by the same user waits its turn (429)."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.faults.conftest import bearer
from tests.support_servers import load_world

pytestmark = pytest.mark.processes


def big_workbook(rows: int) -> bytes:
    """A workbook of many short rows (the attack: far more rows than the cap, under 10 MB)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["Họ và tên", "Giới tính", "Mã điểm cầu"])
    for n in range(rows):
        ws.append([f"Nguyễn Văn {n}", "Nam", "CK"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_healthz_answers_while_a_big_import_runs(database: str, servers: Any,
                                                  tmp_path: Path) -> None:
    world = load_world(database, tmp_path, at_a=2, at_b=1, at_host=1)
    server = servers("one", database)
    data = big_workbook(130_000)
    assert len(data) < 10 * 1024 * 1024
    done: dict[str, Any] = {}

    def upload() -> None:
        response = requests.post(
            server.url + "/api/v1/participants/import", headers=bearer(world.organiser_token),
            files={"file": ("big.xlsx", data)}, data={"dry_run": "true"}, timeout=300)
        done["at"] = time.monotonic()
        done["response"] = response

    worker = threading.Thread(target=upload)
    worker.start()
    answered_during: list[int] = []
    second = None
    try:
        while worker.is_alive():
            status = requests.get(server.url + "/healthz", timeout=60).status_code
            if worker.is_alive():
                answered_during.append(status)
                if second is None and len(answered_during) >= 3:
                    second = requests.post(
                        server.url + "/api/v1/participants/import",
                        headers=bearer(world.organiser_token),
                        files={"file": ("small.csv", "Họ và tên,Mã điểm cầu\nA,CK\n".encode())},
                        data={"dry_run": "true"}, timeout=60)
    finally:
        worker.join(timeout=300)
    response = done["response"]
    # the file is refused as too large, having been read only up to the cap
    assert response.status_code == 413, response.text[:500]
    assert "100000" in response.text or "100,000" in response.text or "100.000" in response.text
    # meanwhile the server answered others, all with 200
    assert len(answered_during) >= 3, answered_during
    assert set(answered_during) == {200}
    # and the same user's second import was told to wait (it was in flight at the time)
    assert second is not None and second.status_code == 429, (second and second.text)
    assert int(second.headers["Retry-After"]) >= 1
    assert server.alive()


def test_files_built_off_the_loop_come_out_whole_under_the_server(
        database: str, servers: Any, tmp_path: Path) -> None:
    """Every file `trainer serve` builds in its worker processes: what the worker reads from
    the database (on SQLite through a read-only connection) and what it is handed both arrive,
    and a refused file still gets its translated error."""
    from openpyxl import load_workbook

    world = load_world(database, tmp_path, at_a=3, at_b=2, at_host=1, quiz=True)
    server = servers("one", database)
    auth = bearer(world.organiser_token)
    sid, year = world.session_id, time.gmtime().tm_year

    def get(path: str, kind: str) -> bytes:
        response = requests.get(server.url + path, headers=auth, timeout=120)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        assert response.headers["Content-Type"].startswith(kind), path
        return response.content

    for person in world.people["a"]:  # checked in: on the results sheet
        checkin = requests.post(f"{server.url}/api/v1/sessions/{sid}/checkins", headers=auth,
                                json={"site_id": world.a_id, "participant_id": person["id"]},
                                timeout=30)
        assert checkin.status_code == 201, checkin.text[:500]
    results = load_workbook(io.BytesIO(get(f"/api/v1/quizzes/{world.quiz_id}/results.xlsx",
                                           "application/vnd.openxmlformats")))
    names = {row[1] for row in results["Học viên"].iter_rows(min_row=2, values_only=True)}
    assert {p["full_name"] for p in world.people["a"]} <= names
    report = load_workbook(io.BytesIO(get(f"/sessions/{sid}/report.xlsx",
                                          "application/vnd.openxmlformats")))
    assert report.sheetnames
    assert "Cẩm Khê" in get(f"/sessions/{sid}/report.csv", "text/csv").decode("utf-8-sig")
    for path in (f"/sessions/{sid}/report.pdf", f"/reports/years/{year}/report.pdf"):
        assert get(path, "application/pdf").startswith(b"%PDF")
    load_workbook(io.BytesIO(get(f"/sessions/{sid}/attendance.xlsx",
                                 "application/vnd.openxmlformats")))
    load_workbook(io.BytesIO(get(f"/reports/years/{year}/report.xlsx",
                                 "application/vnd.openxmlformats")))
    badges = get(f"/participants/badges?site_id={world.a_id}", "text/html").decode()
    assert badges.count("data:image/svg+xml") >= 3

    refused = requests.post(server.url + "/api/v1/participants/import",
                            headers={**auth, "Accept-Language": "vi"},
                            files={"file": ("x.xlsx", b"PK\x03\x04 not really a workbook")},
                            data={"dry_run": "true"}, timeout=60)
    assert refused.status_code == 422, refused.text[:500]
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert "Excel" in refused.json()["detail"]
    assert server.alive()
