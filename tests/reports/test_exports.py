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
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response.data)
    # Vietnamese only: no English beside it.
    assert rows[0][:12] == [
        "Mã điểm cầu", "Điểm cầu", "Đăng ký", "Có mặt", "Tỷ lệ có mặt", "Nữ", "Nam", "Chưa rõ",
        "Tỷ lệ nữ", "Nộp bài kiểm tra", "Đạt", "Điểm trung bình (%)"]
    # Then each count of people by sex: registered, submitted, passed.
    assert rows[0][12:] == [
        "Đăng ký: nữ", "Đăng ký: nam", "Đăng ký: chưa rõ", "Nộp bài: nữ", "Nộp bài: nam",
        "Nộp bài: chưa rõ", "Đạt: nữ", "Đạt: nam", "Đạt: chưa rõ"]
    assert rows[-1][12:] == ["3", "3", "1", "2", "1", "1", "2", "0", "1"]
    assert [r[:12] for r in rows[1:]] == [
        ["VT", "Thành phố Việt Trì", "3", "2", "66.7", "1", "1", "0", "50.0", "2", "1", "70.0"],
        ["CK", "Huyện Cẩm Khê", "4", "3", "75.0", "1", "1", "1", "33.3", "2", "2", "75.0"],
        ["YL", "Huyện Yên Lập", "0", "0", "–", "0", "0", "0", "–", "0", "0", "–"],
        ["", "Tổng cộng", "7", "5", "71.4", "2", "2", "1", "40.0", "4", "3", "72.5"],
    ]
    english = read_csv(client.get(f"/sessions/{world.s1.id}/report.csv?language=en").data)
    assert english[0][:4] == ["Site code", "Site", "Registered", "Present"]
    assert english[0][7] == "Not recorded" and english[-1][1] == "Total"


def test_xlsx_read_back(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/sessions/{world.s1.id}/report.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Trang đầu", "Theo điểm cầu", "Theo giới tính"]
    ws = wb["Theo điểm cầu"]
    assert ws.freeze_panes == "C2"  # the header row and the site columns stay in view
    assert [c.value for c in ws[1]][:4] == ["Mã điểm cầu", "Điểm cầu", "Đăng ký", "Có mặt"]
    assert ws["A1"].font.b
    values = [[c.value for c in row][:12] for row in ws.iter_rows(min_row=2)]
    assert values == [
        ["VT", "Thành phố Việt Trì", 3, 2, pytest.approx(0.6667), 1, 1, 0, 0.5, 2, 1, 70.0],
        ["CK", "Huyện Cẩm Khê", 4, 3, 0.75, 1, 1, 1, pytest.approx(0.3333), 2, 2, 75.0],
        ["YL", "Huyện Yên Lập", 0, 0, "–", 0, 0, 0, "–", 0, 0, "–"],
        [None, "Tổng cộng", 7, 5, pytest.approx(0.7143), 2, 2, 1, 0.4, 4, 3, 72.5],
    ]
    # Number formats: integers, percentages, one decimal for the mean.
    assert ws["C2"].number_format == "#,##0"
    assert ws["E2"].number_format == "0.0%"
    assert ws["I3"].number_format == "0.0%"
    assert ws["L2"].number_format == "0.0"
    assert ws["A5"].value is None and ws["C5"].font.b  # the bold totals row
    assert ws.column_dimensions["B"].width == 30
    gender = wb["Theo giới tính"]
    assert gender.freeze_panes == "B2"
    labels = {row[0].value: [c.value for c in row[1:]] for row in gender.iter_rows(min_row=2)
              if row[0].value}
    assert labels["Điểm trung bình (%)"] == [90.0, 40.0, 70.0, 72.5, 50.0, 2.25]
    assert labels["Đạt"] == [2, 0, 1, 3, 2, "–"]
    about = {row[0].value: row[1].value for row in wb["Trang đầu"].iter_rows(min_row=8)
             if row[0].value}
    assert about["Buổi tập huấn"] == "Quản lý Trung tâm học tập cộng đồng"
    assert about["Bài kiểm tra"] == "Kiểm tra cuối buổi (đạt từ 60%)"


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
    cell = wb["Theo điểm cầu"]["B3"]
    assert cell.value == name and cell.data_type == "s"
    assert cell.quotePrefix  # stays text even when someone edits the cell in Excel
    about = [c for row in wb["Trang đầu"].iter_rows() for c in row if c.value == name]
    assert about and all(c.data_type == "s" for c in about)

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
    assert rows[-1][:12] == ["", "Tổng cộng", "2", "0", "0.0", "0", "0", "0", "–", "0", "0",
                             "–"]
    wb = load_workbook(io.BytesIO(client.get(f"/sessions/{world.s0.id}/report.xlsx").data))
    about = {row[0].value: row[1].value for row in wb["Trang đầu"].iter_rows(min_row=8)
             if row[0].value}
    assert about["Bài kiểm tra"] == "–"  # no quiz


def test_summary_workbook(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/reports/trainings/{world.training.id}/report.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Trang đầu", "Theo buổi", "Theo điểm cầu",
                             "Theo xã, phường, thị trấn", "Độ phủ", "Chưa tiếp cận",
                             "Theo giới tính"]
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes in ("A2", "B2", "C2"), ws.title
    sessions = wb["Theo buổi"]
    assert [c.value for c in sessions[2]][1:4] == ["Quản lý Trung tâm học tập cộng đồng", 7, 5]
    assert sessions["A2"].number_format == "dd/mm/yyyy"
    missing = [[c.value for c in row] for row in wb["Chưa tiếp cận"].iter_rows(min_row=2)]
    assert missing == [["Huyện Cẩm Khê", "Xã Sơn Tình", None],
                       ["Huyện Yên Lập", "Xã Mỹ Lung", None]]
    cov = wb["Độ phủ"]
    assert cov["C1"].value == "Số xã, phường, thị trấn"
    cov_rows = [[c.value for c in row] for row in cov.iter_rows(min_row=2)]
    assert cov_rows[-1][1:6] == ["Tổng cộng", 6, 4, pytest.approx(0.6667), 3]
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
    about = {row[0].value: row[1].value for row in wb["Trang đầu"].iter_rows(min_row=8)
             if row[0].value}
    assert about["Phạm vi"] == "Các điểm cầu của người lập"
