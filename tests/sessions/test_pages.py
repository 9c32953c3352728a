"""Scheduling pages: lists and calendars, the session page, forms, agenda, rosters, trainings."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.sessions import services
from trainer.sessions.models import Registration, SessionStatus, TrainingSession

from .conftest import csv_bytes, local


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def form(province: Any, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Tập huấn lồng ghép bình đẳng giới", "training_id": "",
        "starts_at": "2030-03-01T07:30", "ends_at": "2030-03-01T11:30",
        "host_site_id": str(province.host.id),
        "site_ids": [str(province.ckh.id), str(province.hho.id)],
        "topics": ["gender"], "other_topics": "thống kê giới",
        "conference_url": "https://us02web.zoom.us/j/123", "description": "Dòng 1\nDòng 2"}
    data.update(kw)
    return data


def test_organiser_lists_upcoming_and_past(province: Any, schedule: Any, english: Any,
                                           login: Any) -> None:
    now = utcnow()
    schedule(title="Sắp tới", starts_at=now + timedelta(days=3),
             ends_at=now + timedelta(days=3, hours=4))
    past = schedule(title="Đã qua", starts_at=now - timedelta(days=30),
                    ends_at=now - timedelta(days=30) + timedelta(hours=3))
    services.set_status(province.organiser, past, "live")
    services.set_status(province.organiser, past, "ended")
    login(province.organiser)
    upcoming = text(english.get("/sessions"))
    assert "Sắp tới" in upcoming and "Đã qua" not in upcoming
    assert "Join on Zoom" not in upcoming and "Join on Jitsi Meet" in upcoming
    old = text(english.get("/sessions?tab=past"))
    assert "Đã qua" in old and "Sắp tới" not in old


def test_week_and_month_views(province: Any, schedule: Any, english: Any,
                              login: Any) -> None:
    schedule(title="Phiên tháng Ba", starts_at=local(2030, 3, 12, 7, 30),
             ends_at=local(2030, 3, 12, 11))
    login(province.organiser)
    month = text(english.get("/sessions?view=month&date=2030-03-20"))
    assert "Phiên tháng Ba" in month and "07:30" in month
    assert "Month 03/2030" in month
    week = text(english.get("/sessions?view=week&date=2030-03-13"))
    assert "Phiên tháng Ba" in week and "11/03/2030 – 17/03/2030" in week
    other_week = text(english.get("/sessions?view=week&date=2030-03-20"))
    assert "Phiên tháng Ba" not in other_week


def test_session_page_shows_agenda_sites_counts_and_join(province: Any, schedule: Any,
                                                         english: Any, login: Any) -> None:
    session = schedule(agenda=[{"time": "07:30", "title": "Khai mạc",
                                "presenter": "Nguyễn Văn Hùng",
                                "presenter_org": "Sở Giáo dục và Đào tạo tỉnh Phú Thọ"}])
    services.update_session_site(province.organiser, session, province.ckh.id,
                                 {"chair_name": "Phạm Văn Dũng"})
    p = province.people
    services.register_participants(province.organiser, session,
                                   participant_ids=[p.ha.id, p.binh.id, p.hoa.id])
    login(province.organiser)
    page = text(english.get(f"/sessions/{session.id}"))
    assert "01/03/2030" in page and "07:30–11:30" in page
    assert "Khai mạc" in page and "Nguyễn Văn Hùng" in page
    assert "Join on Jitsi Meet" in page and 'href="https://meet.jit.si/TapHuan2017"' in page
    assert "Phạm Văn Dũng" in page and "coord_ckh" in page
    row = re.search(r"Huyện Cẩm Khê.*?</tr>", page, re.S)
    assert row is not None
    assert re.findall(r'<td class="num[^"]*">(\d+)</td>', row.group(0))[:3] == ["2", "1", "1"]
    assert "Go live" in page and "End the session" not in page
    assert f"/sessions/{session.id}.ics" in page


def test_a_plain_link_gets_a_plain_button(province: Any, schedule: Any, english: Any,
                                          login: Any) -> None:
    session = schedule(conference_url="https://hop.phutho.gov.vn/phong-1")
    login(province.organiser)
    page = text(english.get(f"/sessions/{session.id}"))
    assert "Open the conference link" in page


def test_create_form_saves_and_redirects(province: Any, english: Any, login: Any) -> None:
    login(province.organiser)
    assert english.get("/sessions/new").status_code == 200
    response = english.post("/sessions/new", data=form(province))
    assert response.status_code == 302
    session = db.session.scalar(select(TrainingSession))
    assert response.headers["Location"].endswith(f"/sessions/{session.id}")
    assert session.topics == ["gender", "thống kê giới"]
    assert session.description == "Dòng 1\nDòng 2"
    assert len(session.session_sites) == 3
    assert local(2030, 3, 1, 7, 30) == session.starts_at


def test_create_form_shows_messages_and_keeps_input(province: Any, english: Any,
                                                    login: Any) -> None:
    login(province.organiser)
    response = english.post("/sessions/new", data=form(
        province, ends_at="2030-03-01T06:00",
        site_ids=[str(province.ckh.id), str(province.ckh.id)],
        conference_url="javascript:alert(1)"))
    assert response.status_code == 422
    page = text(response)
    assert "The session must end after it starts." in page
    assert "Huyện Cẩm Khê is named twice." in page
    assert "must start with https://" in page
    assert 'value="Tập huấn lồng ghép bình đẳng giới"' in page
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 0


def test_unreadable_dates_in_the_form(province: Any, english: Any, login: Any) -> None:
    login(province.organiser)
    response = english.post("/sessions/new", data=form(province, starts_at="mai"))
    assert response.status_code == 422
    assert "A date and time such as 01/03/2025 07:30." in text(response)


def test_edit_form_and_site_removal_refused(province: Any, schedule: Any, english: Any,
                                            login: Any) -> None:
    session = schedule()
    services.register_participants(province.organiser, session,
                                   participant_ids=[province.people.hoa.id])
    login(province.organiser)
    page = text(english.get(f"/sessions/{session.id}/edit"))
    assert 'value="2030-03-01T07:30"' in page
    response = english.post(f"/sessions/{session.id}/edit", data=form(
        province, site_ids=[str(province.ckh.id)]))
    assert response.status_code == 409
    assert "Huyện Hạ Hòa cannot leave this session" in text(response)
    ok = english.post(f"/sessions/{session.id}/edit", data=form(province, title="Tên mới"))
    assert ok.status_code == 302
    assert db.session.get(TrainingSession, session.id).title == "Tên mới"


def test_status_buttons(province: Any, schedule: Any, english: Any, login: Any,
                        monkeypatch: Any) -> None:
    from trainer import live

    monkeypatch.setattr(live, "emit", lambda *a, **kw: None)
    session = schedule()
    login(province.organiser)
    response = english.post(f"/sessions/{session.id}/status", data={"status": "ended"},
                            follow_redirects=True)
    assert "A scheduled session must go live before it can end." in text(response)
    response = english.post(f"/sessions/{session.id}/status", data={"status": "live"},
                            follow_redirects=True)
    assert "The session is now Live." in text(response)
    assert db.session.get(TrainingSession, session.id).status == SessionStatus.LIVE
    assert "End the session" in text(response)


def test_copy_page_suggests_next_year(province: Any, schedule: Any, english: Any,
                                      login: Any) -> None:
    session = schedule(agenda=[{"time": "07:30", "title": "Khai mạc"}])
    login(province.organiser)
    page = text(english.get(f"/sessions/{session.id}/copy"))
    assert 'value="2031-03-01T07:30"' in page
    response = english.post(f"/sessions/{session.id}/copy", data={
        "title": "Tập huấn quản lý TTHTCĐ năm 2018", "training_id": "",
        "starts_at": "2031-03-01T07:30", "ends_at": "2031-03-01T11:30", "agenda": "1"})
    assert response.status_code == 302
    copy = db.session.scalars(select(TrainingSession).order_by(TrainingSession.id.desc())).first()
    assert copy.id != session.id and [i.title for i in copy.agenda] == ["Khai mạc"]
    bad = english.post(f"/sessions/{session.id}/copy", data={
        "title": "x", "starts_at": "2031-03-01T07:30", "ends_at": "2031-03-01T07:00"})
    assert bad.status_code == 422 and "end after it starts" in text(bad)


def test_agenda_page(province: Any, schedule: Any, english: Any, login: Any) -> None:
    session = schedule()
    login(province.organiser)
    response = english.post(f"/sessions/{session.id}/agenda", data={
        "time": "07:30", "title": "Khai mạc", "presenter": "Bà Lan", "presenter_org": "Sở"})
    assert response.status_code == 302
    bad = english.post(f"/sessions/{session.id}/agenda", data={"time": "7 giờ", "title": ""})
    assert bad.status_code == 422
    assert "A time such as 07:30." in text(bad) and "This field is required." in text(bad)
    item = db.session.get(TrainingSession, session.id).agenda[0]
    edit = english.post(f"/sessions/{session.id}/agenda/{item.id}/edit", data={
        "time": "07:45", "title": "Khai mạc hội nghị", "presenter": "", "presenter_org": ""})
    assert edit.status_code == 302
    assert "Khai mạc hội nghị" in text(english.get(f"/sessions/{session.id}/agenda"))
    english.post(f"/sessions/{session.id}/agenda/{item.id}/delete")
    assert db.session.get(TrainingSession, session.id).agenda == []


def test_roster_page_adds_by_site_unit_and_code(province: Any, schedule: Any, english: Any,
                                                login: Any) -> None:
    session = schedule()
    login(province.organiser)
    url = f"/sessions/{session.id}/sites/{province.ckh.id}/roster"
    unit = next(u for u in province.ckh.units if u.name == "Xã Tam Sơn")
    assert english.post(url, data={"mode": "unit", "unit_id": unit.id}).status_code == 302
    assert english.post(url, data={"mode": "code",
                                   "code": province.people.ha.code}).status_code == 302
    page = text(english.get(url))
    assert "Phạm Văn Sơn" in page and "Trần Thị Hà" in page and "Lê Văn Bình" not in page
    refused = english.post(url, data={"mode": "code", "code": province.people.tuan.code})
    assert refused.status_code == 422
    assert "Vũ Anh Tuấn" in text(refused) and "Quận Ba Đình" in text(refused)
    unknown = english.post(url, data={"mode": "code", "code": "QQQQ"})
    assert unknown.status_code == 422 and "No participant has the code QQQQ." in text(unknown)
    english.post(url, data={"mode": "site"})
    assert "Lê Văn Bình" in text(english.get(url))
    english.post(f"{url}/{province.people.binh.id}/remove")
    assert "Lê Văn Bình" not in text(english.get(url))


def test_roster_import_page(province: Any, schedule: Any, english: Any, login: Any) -> None:
    session = schedule()
    login(province.organiser)
    p = province.people

    def registered() -> int:
        return db.session.scalar(select(func.count()).select_from(Registration))

    # Step 1 checks the whole file and writes nothing: the good row, and the bad rows with
    # their reasons (Tuấn's site is not in this session; ZZZZZZ is nobody's code).
    check = english.post(f"/sessions/{session.id}/roster/import", data={
        "file": (io.BytesIO(csv_bytes([["Mã học viên", "Ghi chú"], [p.ha.code, ""],
                                       [p.tuan.code, "chuyển"], ["ZZZZZZ", ""]])),
                 "ds.csv")}, content_type="multipart/form-data")
    assert check.status_code == 200
    page = check.get_data(as_text=True)
    assert "Vũ Anh Tuấn" in text(check) and "no participant has the code ZZZZZZ." in text(check)
    assert 'data-testid="to-add">1<' in page and 'data-testid="bad-rows">2<' in page
    assert registered() == 0
    stash = re.search(r"/sessions/\d+/roster/import/([A-Za-z0-9_-]+)/errors\.csv", page)
    assert stash, "a link to the bad rows"
    bad_rows = english.get(stash.group(0))
    assert bad_rows.status_code == 200 and bad_rows.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(bad_rows.get_data().decode("utf-8-sig"))))
    assert lines[0] == ["Dòng", "Mã học viên", "Ghi chú", "Lỗi"]
    assert lines[1][:3] == ["3", p.tuan.code, "chuyển"]
    assert lines[1][3].startswith("Vũ Anh Tuấn") and "Quận Ba Đình" in lines[1][3]
    assert lines[2] == ["4", "ZZZZZZ", "", "no participant has the code ZZZZZZ."]
    assert len(lines) == 3

    # Step 2 adds the good rows only.
    done = english.post(f"/sessions/{session.id}/roster/import/{stash.group(1)}",
                        follow_redirects=True)
    assert "1 person added to the roster." in text(done)
    assert "2 rows were left out." in text(done)
    assert registered() == 1
    assert english.get(stash.group(0)).status_code == 404  # the file is forgotten

    good = english.post(f"/sessions/{session.id}/roster/import", data={
        "file": (io.BytesIO(csv_bytes([["Mã học viên"], [p.ha.code], [p.hoa.code]])),
                 "ds.csv")}, content_type="multipart/form-data")
    confirm = re.search(r'action="(/sessions/\d+/roster/import/[A-Za-z0-9_-]+)"',
                        good.get_data(as_text=True))
    assert confirm
    result = english.post(confirm.group(1), follow_redirects=True)
    assert "1 person added to the roster. 1 was already on it." in text(result)


def test_coordinator_sees_only_its_sites(province: Any, schedule: Any, english: Any,
                                         login: Any) -> None:
    mine = schedule(title="Phiên có Cẩm Khê")
    other = schedule(title="Phiên chỉ Hạ Hòa", site_ids=[province.hho.id])
    p = province.people
    services.register_participants(province.organiser, mine,
                                   participant_ids=[p.ha.id, p.hoa.id])
    login(province.coord_ckh)
    assert english.get("/sessions").headers["Location"].endswith("/sessions/mine")
    listing = text(english.get("/sessions/mine"))
    assert "Phiên có Cẩm Khê" in listing and "Phiên chỉ Hạ Hòa" not in listing
    assert "Roster of Huyện Cẩm Khê" in listing
    assert english.get(f"/sessions/{other.id}").status_code == 403
    page = text(english.get(f"/sessions/{mine.id}"))
    assert "Go live" not in page and "Edit" not in page
    own = english.get(f"/sessions/{mine.id}/sites/{province.ckh.id}/roster")
    assert own.status_code == 200 and "Trần Thị Hà" in text(own)
    assert "Đỗ Thị Hoa" not in text(own) and "Add the whole site" not in text(own)
    assert english.get(f"/sessions/{mine.id}/sites/{province.hho.id}/roster").status_code == 403
    assert english.get(f"/sessions/{mine.id}/roster").headers["Location"].endswith(
        f"/sessions/{mine.id}/sites/{province.ckh.id}/roster")
    for url, data in [(f"/sessions/{mine.id}/edit", form(province)),
                      (f"/sessions/{mine.id}/status", {"status": "live"}),
                      (f"/sessions/{mine.id}/sites/{province.ckh.id}/roster",
                       {"mode": "site"}),
                      (f"/sessions/{mine.id}/agenda", {"title": "X"}),
                      ("/sessions/new", form(province))]:
        assert english.post(url, data=data).status_code == 403, url
    assert db.session.get(TrainingSession, mine.id).status == SessionStatus.SCHEDULED
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 2


def test_trainings_pages(province: Any, english: Any, login: Any) -> None:
    login(province.organiser)
    assert english.get("/trainings").status_code == 200
    response = english.post("/trainings/new", data={
        "title": "Tập huấn năm 2017", "year": "2017",
        "lead_agency": "Sở Giáo dục và Đào tạo tỉnh Phú Thọ",
        "partners": "Hội Khuyến học tỉnh Phú Thọ\r\nHội Liên hiệp Phụ nữ tỉnh Phú Thọ",
        "description": "", "topics": ["management", "gender"], "other_topics": ""})
    assert response.status_code == 302
    page = text(english.get(response.headers["Location"]))
    assert "Hội Liên hiệp Phụ nữ tỉnh Phú Thọ" in page and "Tập huấn năm 2017" in page
    bad = english.post("/trainings/new", data={"title": "", "year": "năm ngoái"})
    assert bad.status_code == 422 and "A year such as 2017." in text(bad)


def test_calendar_page_shows_the_feed_address(province: Any, english: Any,
                                              login: Any) -> None:
    login(province.coord_ckh)
    page = text(english.get("/calendar"))
    db.session.refresh(province.coord_ckh)
    key = province.coord_ckh.calendar_key
    assert key and f"/calendar/{key}.ics" in page and "webcal://" in page


def test_pages_need_a_login(client: Any, province: Any, schedule: Any) -> None:
    session = schedule()
    for url in ("/sessions", "/sessions/mine", f"/sessions/{session.id}", "/trainings",
                f"/sessions/{session.id}.ics", "/calendar"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_a_stored_script_link_is_never_rendered(province: Any, schedule: Any, english: Any,
                                                login: Any) -> None:
    session = schedule()
    session.conference_url = "javascript:alert(1)"  # written around the service
    db.session.commit()
    login(province.organiser)
    page = text(english.get(f"/sessions/{session.id}"))
    assert "javascript:" not in page and "Join on" not in page


def test_roster_import_names_the_site_the_vietnamese_way(province: Any, schedule: Any,
                                                         client: Any, login: Any) -> None:
    """Inside a sentence the administrative word is lower-case: "... của huyện Cẩm Khê", not
    "của Huyện Cẩm Khê" (Decree 30/2020 on administrative documents)."""
    session = schedule()
    login(province.organiser)
    check = client.post(f"/sessions/{session.id}/roster/import?lang=vi", data={
        "file": (io.BytesIO(csv_bytes([["Họ và tên", "Năm sinh", "Mã điểm cầu"],
                                       ["Đinh Thị Mơ", "1981", "CKH"]])), "ds.csv")},
        content_type="multipart/form-data")
    assert check.status_code == 200
    page = text(check)
    assert "Đinh Thị Mơ không có trong danh sách học viên của huyện Cẩm Khê" in page
    assert "của Huyện Cẩm Khê" not in page


def test_a_roster_row_without_a_name_is_reported_not_dropped(province: Any, schedule: Any,
                                                             client: Any, login: Any) -> None:
    """A row that fills the list's columns but names nobody (the name forgotten) is a bad
    row with its reason; a note outside the list's columns is still passed over."""
    session = schedule()
    login(province.organiser)
    rows = [["Họ và tên", "Năm sinh", "Mã điểm cầu", ""],
            ["", "1981", "CKH", ""],
            ["", "", "", "Người lập biểu: Hà Văn Tư"]]
    check = client.post(f"/sessions/{session.id}/roster/import?lang=vi", data={
        "file": (io.BytesIO(csv_bytes(rows)), "ds.csv")}, content_type="multipart/form-data")
    assert check.status_code == 200
    page = text(check)
    assert '<td class="num">2</td><td>không có họ tên, mã học viên hay mã số' in page
    assert "Hà Văn Tư" not in page


def test_the_session_page_links_to_the_trainees_page(province: Any, schedule: Any,
                                                     client: Any, login: Any) -> None:
    """/s/<id> (agenda, shared materials, the open quiz) was reached only by typing it."""
    session = schedule()
    login(province.organiser)
    page = text(client.get(f"/sessions/{session.id}?lang=vi"))
    assert re.search(rf'<a class="button secondary" href="/s/{session.id}" '
                     r'data-testid="public-page-link">Trang buổi tập huấn cho học viên</a>', page)
    assert client.get(f"/s/{session.id}").status_code == 200
