"""The session report as CSV and XLSX (read back with the csv module and openpyxl), the summary
workbook, formula injection, empty sessions, and who may download."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_rows_per_site_then_totals(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/sessions/{world.s1.id}/report.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response.data)
    assert rows[0] == [
        "Mã điểm cầu / Site code", "Điểm cầu / Site", "Đăng ký / Registered", "Có mặt / Present",
        "Tỷ lệ có mặt / Attendance rate", "Nữ / Female", "Nam / Male",
        "Không xác định / Unspecified", "Tỷ lệ nữ / Share of women",
        "Nộp bài kiểm tra / Quiz submitted", "Đạt / Passed",
        "Điểm trung bình (%) / Mean score (%)"]
    assert rows[1:] == [
        ["VT", "Thành phố Việt Trì", "3", "2", "66.7", "1", "1", "0", "50.0", "2", "1", "70.0"],
        ["CK", "Huyện Cẩm Khê", "4", "3", "75.0", "1", "1", "1", "33.3", "2", "2", "75.0"],
        ["YL", "Huyện Yên Lập", "0", "0", "–", "0", "0", "0", "–", "0", "0", "–"],
        ["", "Tổng cộng / Total", "7", "5", "71.4", "2", "2", "1", "40.0", "4", "3", "72.5"],
    ]


def test_xlsx_read_back(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/sessions/{world.s1.id}/report.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Theo điểm cầu", "Theo giới tính", "Thông tin"]
    ws = wb["Theo điểm cầu"]
    assert ws.freeze_panes == "C3"  # both header rows and the site columns stay in view
    assert [c.value for c in ws[1]][:4] == ["Mã điểm cầu", "Điểm cầu", "Đăng ký", "Có mặt"]
    assert [c.value for c in ws[2]][:4] == ["Site code", "Site", "Registered", "Present"]
    assert ws["A1"].font.b
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert values == [
        ["VT", "Thành phố Việt Trì", 3, 2, pytest.approx(0.6667), 1, 1, 0, 0.5, 2, 1, 70.0],
        ["CK", "Huyện Cẩm Khê", 4, 3, 0.75, 1, 1, 1, pytest.approx(0.3333), 2, 2, 75.0],
        ["YL", "Huyện Yên Lập", 0, 0, "–", 0, 0, 0, "–", 0, 0, "–"],
        [None, "Tổng cộng / Total", 7, 5, pytest.approx(0.7143), 2, 2, 1, 0.4, 4, 3, 72.5],
    ]
    # Number formats: integers, percentages, one decimal for the mean.
    assert ws["C3"].number_format == "#,##0"
    assert ws["E3"].number_format == "0.0%"
    assert ws["I4"].number_format == "0.0%"
    assert ws["L3"].number_format == "0.0"
    assert ws["A6"].value is None and ws["C6"].font.b  # the bold totals row
    assert ws.column_dimensions["B"].width == 30
    gender = wb["Theo giới tính"]
    assert gender.freeze_panes == "B3"
    labels = {row[0].value: [c.value for c in row[1:]] for row in gender.iter_rows(min_row=3)
              if row[0].value and " / " in row[0].value}
    assert labels["Điểm trung bình (%) / Mean score (%)"] == [90.0, 40.0, 70.0, 72.5, 50.0, 2.25]
    assert labels["Đạt / Passed"] == [2, 0, 1, 3, 2, "–"]
    about = {row[0].value: row[1].value for row in wb["Thông tin"].iter_rows()}
    assert about["Buổi tập huấn / Session"] == "Quản lý Trung tâm học tập cộng đồng"
    assert about["Bài kiểm tra / Quiz"] == "Kiểm tra cuối buổi (đạt từ 60 %)"


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2",
                                  "-2+3", "@SUM(A1)", "=1+1"])
def test_no_formula_injection(app: Any, make_site: Any, make_user: Any, make_session: Any,
                              make_participant: Any, register: Any, client: Any, login: Any,
                              name: str) -> None:
    host = make_site(code="H1", name="Điểm cầu chính")
    evil = make_site(code="EV", name=name, units=(name,))
    person = make_participant(evil, name, "female", unit=name)
    session = make_session([host, evil], title=name)
    register(session, [person])
    login(make_user("organiser"))

    rows = read_csv(client.get(f"/sessions/{session.id}/report.csv").data)
    assert rows[2][1] == "'" + name  # prefixed: shown as text, never run

    wb = load_workbook(io.BytesIO(client.get(f"/sessions/{session.id}/report.xlsx").data))
    cell = wb["Theo điểm cầu"]["B4"]
    assert cell.value == name and cell.data_type == "s"
    assert cell.quotePrefix  # stays text even when someone edits the cell in Excel
    about = wb["Thông tin"]["B1"]
    assert about.value == name and about.data_type == "s"

    from trainer.extensions import db
    from trainer.sessions.models import Checkin, Training

    training = Training(title=name, year=2025)
    db.session.add(training)
    db.session.commit()
    session.training_id = training.id
    db.session.add(Checkin(session_id=session.id, participant_id=person.id, site_id=evil.id,
                           at=session.starts_at))
    db.session.commit()
    summary = load_workbook(io.BytesIO(
        client.get(f"/reports/trainings/{training.id}/report.xlsx").data))
    cells = [c for ws in summary.worksheets for row in ws.iter_rows() for c in row
             if c.value == name]
    assert len(cells) >= 4  # session title, site, commune, training title
    assert all(c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for ws in summary.worksheets for row in ws.iter_rows()
                   for c in row)


def test_empty_session_exports(world: Any, client: Any, login: Any) -> None:
    """s0: a roster, nobody checked in, no quiz."""
    login(world.organiser)
    rows = read_csv(client.get(f"/sessions/{world.s0.id}/report.csv").data)
    assert rows[-1] == ["", "Tổng cộng / Total", "2", "0", "0.0", "0", "0", "0", "–", "0", "0",
                        "–"]
    wb = load_workbook(io.BytesIO(client.get(f"/sessions/{world.s0.id}/report.xlsx").data))
    assert wb["Thông tin"]["B5"].value == "–"  # no quiz


def test_summary_workbook(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/reports/trainings/{world.training.id}/report.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Theo buổi", "Theo điểm cầu", "Theo xã", "Độ phủ", "Chưa tiếp cận",
                             "Theo giới tính", "Thông tin"]
    for ws in wb.worksheets[:6]:
        assert ws.freeze_panes in ("A3", "B3", "C3"), ws.title
    sessions = wb["Theo buổi"]
    assert [c.value for c in sessions[3]][1:4] == ["Quản lý Trung tâm học tập cộng đồng", 7, 5]
    assert sessions["A3"].number_format == "dd/mm/yyyy"
    missing = [[c.value for c in row] for row in wb["Chưa tiếp cận"].iter_rows(min_row=3)]
    assert missing == [["Huyện Cẩm Khê", "Xã Sơn Tình", None],
                       ["Huyện Yên Lập", "Xã Mỹ Lung", None]]
    cov = [[c.value for c in row] for row in wb["Độ phủ"].iter_rows(min_row=3)]
    assert cov[-1][1:6] == ["Tổng cộng / Total", 6, 4, pytest.approx(0.6667), 3]
    year = client.get("/reports/years/2024/report.xlsx")
    assert year.status_code == 200 and year.mimetype == XLSX


def test_downloads_take_a_bearer_token(world: Any, client: Any, token_for: Any) -> None:
    headers = {"Authorization": f"Bearer {token_for(world.organiser)}"}
    response = client.get(f"/sessions/{world.s1.id}/report.csv", headers=headers)
    assert response.status_code == 200
    assert read_csv(response.data)[1][0] == "VT"
    assert client.get(f"/sessions/{world.s1.id}/report.xlsx", headers=headers).status_code == 200
    bad = client.get(f"/sessions/{world.s1.id}/report.csv",
                     headers={"Authorization": "Bearer nope", "Accept": "application/json"})
    assert bad.status_code == 401


def test_downloads_refuse_anonymous_callers(world: Any, client: Any) -> None:
    response = client.get(f"/sessions/{world.s1.id}/report.xlsx")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get(f"/sessions/{world.s1.id}/report.csv",
                      headers={"Accept": "application/json"}).status_code == 401


def test_coordinator_downloads_its_own_sites(world: Any, client: Any, token_for: Any) -> None:
    headers = {"Authorization": f"Bearer {token_for(world.coord_ck)}"}
    rows = read_csv(client.get(f"/sessions/{world.s1.id}/report.csv", headers=headers).data)
    assert [r[0] for r in rows[1:]] == ["CK", ""]
    assert rows[-1][2:4] == ["4", "3"]  # totals over CK only
    other = {"Authorization": f"Bearer {token_for(world.coord_other)}"}
    assert client.get(f"/sessions/{world.s1.id}/report.csv", headers=other).status_code == 403
    wb = load_workbook(io.BytesIO(client.get(f"/sessions/{world.s1.id}/report.xlsx",
                                             headers=headers).data))
    assert wb["Thông tin"]["B6"].value == "Các điểm cầu của người lập / The requester's sites only"
