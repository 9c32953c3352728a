"""Per-person attendance (API.md v1.1: attendance.xlsx / .csv) and the sign-in sheet."""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.checkin_pages.conftest import DEFAULT_PASSWORD

HEADER = ["Mã học viên", "Họ và tên", "Giới tính", "Năm sinh", "Đơn vị", "Điểm cầu", "Có mặt",
          "Giờ điểm danh", "Cách điểm danh", "Ghi chú"]
HEADER_EN = ["Code", "Name", "Sex", "Birth year", "Unit", "Site", "Present", "Check-in time",
             "Method", "Flags"]


@pytest.fixture
def day(app: Any, make_site: Any, make_participant: Any, make_session: Any, register: Any,
        make_user: Any) -> Any:
    from types import SimpleNamespace

    from trainer.checkin import services as checkin

    host = make_site(code="VT", name="Thành phố Việt Trì", kind="host")
    a = make_site(code="CK", name="Huyện Cẩm Khê")
    b = make_site(code="DH", name="Huyện Đoan Hùng")
    session = make_session([host, a, b])
    ha = make_participant(a, "Nguyễn Thị Hà", "female", unit="Xã Tạ Xá", birth_year=1975)
    duc = make_participant(a, "Trần Văn Đức", "male")
    evil = make_participant(b, "=HYPERLINK(\"x\")", "male")
    lan = make_participant(b, "Lê Thị Lan", "female", birth_year=1982)
    register(session, [ha, duc, evil, lan])
    organiser = make_user("organiser")
    checkin.check_in(organiser, session.id, site_id=a.id, participant_id=ha.id,
                     client_id=str(uuid.uuid4()), method="search")
    checkin.check_in(organiser, session.id, site_id=b.id, participant_id=lan.id,
                     client_id=str(uuid.uuid4()), method="camera")
    return SimpleNamespace(host=host, a=a, b=b, session=session, ha=ha, duc=duc, evil=evil,
                           lan=lan, organiser=organiser,
                           coord_a=make_user("coordinator", sites=[a]))


def logged_in(app: Any, user: Any) -> Any:
    client = app.test_client()
    client.post("/login", data={"username": user.username, "password": DEFAULT_PASSWORD})
    return client


def read_csv(response: Any) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_has_a_row_per_person_registered_or_checked_in(app: Any, day: Any) -> None:
    response = logged_in(app, day.organiser).get(f"/sessions/{day.session.id}/attendance.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == HEADER
    by_name = {r[1]: r for r in rows[1:]}
    assert len(rows) == 5
    ha = by_name["Nguyễn Thị Hà"]
    assert ha[0] == day.ha.code and ha[2:7] == ["Nữ", "1975", "Xã Tạ Xá", "Huyện Cẩm Khê", "Có"]
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", ha[7]) and ha[8] == "Tìm theo tên"
    assert by_name["Trần Văn Đức"][5:9] == ["Huyện Cẩm Khê", "Không", "", ""]
    assert by_name["Lê Thị Lan"][8] == "Quét mã bằng camera"
    # a name that looks like a formula stays text
    assert "'=HYPERLINK(\"x\")" in by_name


def test_a_coordinator_gets_its_own_sites_rows_only(app: Any, day: Any) -> None:
    client = logged_in(app, day.coord_a)
    rows = read_csv(client.get(f"/sessions/{day.session.id}/attendance.csv"))
    assert sorted(r[1] for r in rows[1:]) == ["Nguyễn Thị Hà", "Trần Văn Đức"]
    book = load_workbook(io.BytesIO(
        client.get(f"/sessions/{day.session.id}/attendance.xlsx").get_data()))
    names = [c.value for c in book["Điểm danh"]["B"][1:]]
    assert sorted(names) == ["Nguyễn Thị Hà", "Trần Văn Đức"]


def test_the_xlsx_keeps_types_under_a_vietnamese_header_and_a_title_sheet(
        app: Any, day: Any) -> None:
    client = logged_in(app, day.organiser)
    response = client.get(f"/sessions/{day.session.id}/attendance.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames[0] == "Trang đầu"  # the document's title sheet comes first
    sheet = book["Điểm danh"]
    assert [c.value for c in sheet[1]] == HEADER
    english = load_workbook(io.BytesIO(client.get(
        f"/sessions/{day.session.id}/attendance.xlsx?language=en").get_data()))["Attendance"]
    assert [c.value for c in english[1]] == HEADER_EN
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=2)}
    assert rows["Nguyễn Thị Hà"][3].value == 1975
    assert rows["Nguyễn Thị Hà"][7].is_date
    evil = rows["=HYPERLINK(\"x\")"][1]
    assert evil.data_type == "s"


def test_other_callers_are_refused(app: Any, day: Any, make_user: Any,
                                   make_site: Any) -> None:
    outsider = make_user("coordinator", sites=[make_site(name="Huyện Tân Sơn")])
    response = logged_in(app, outsider).get(f"/sessions/{day.session.id}/attendance.csv")
    assert response.status_code == 403
    anonymous = app.test_client().get(f"/sessions/{day.session.id}/attendance.csv")
    assert anonymous.status_code in (302, 401)
    assert logged_in(app, day.organiser).get("/sessions/999999/attendance.xlsx").status_code == 404


def test_the_sign_in_sheet_lists_the_site_with_a_signature_column(app: Any, day: Any) -> None:
    client = logged_in(app, day.coord_a)
    client.language = None
    response = client.get(f"/sessions/{day.session.id}/sites/{day.a.id}/sign-in-sheet")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<th class=\"signin-sign\">Chữ ký</th>" in html
    rows = re.findall(r'data-testid="signin-row"><td class="num">(\d+)</td><td>([^<]*)</td>'
                      r'<td>([^<]*)</td><td></td>', html)
    # the Vietnamese order: by given name (Đức before Hà)
    assert rows == [("1", "Trần Văn Đức", ""), ("2", "Nguyễn Thị Hà", "Xã Tạ Xá")]
    assert html.count('data-testid="signin-blank"') == 8
    other = client.get(f"/sessions/{day.session.id}/sites/{day.b.id}/sign-in-sheet")
    assert other.status_code == 403
