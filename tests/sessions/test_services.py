"""Scheduling rules: sessions, sites, agenda, lifecycle, rosters, copies, calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.sessions import services
from trainer.sessions.models import (
    AgendaItem,
    Registration,
    SessionSite,
    SessionStatus,
    TrainingSession,
)

from .conftest import csv_bytes, local, xlsx_bytes


def count(model: Any, **where: Any) -> int:
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt) or 0


def registered(session: Any) -> dict[int, int]:
    return {s["site_id"]: s["registered"] for s in services.roster_counts(session).sites}


# --------------------------------------------------------------------------- creating sessions


def test_create_session_includes_the_host_and_names_coordinators(province: Any,
                                                                  schedule: Any) -> None:
    session = schedule()
    assert session.status == SessionStatus.SCHEDULED
    assert session.starts_at == datetime(2030, 3, 1, 0, 30, tzinfo=UTC)  # 07:30 in Vietnam
    ids = [ss.site_id for ss in session.session_sites]
    assert ids[0] == province.host.id and sorted(ids) == sorted(
        [province.host.id, province.ckh.id, province.hho.id])
    by_site = {ss.site_id: [u.username for u in ss.coordinators] for ss in session.session_sites}
    assert by_site[province.ckh.id] == ["coord_ckh"]
    assert by_site[province.host.id] == []
    assert session.topics == ["management", "gender"]


def test_naive_times_are_read_as_vietnam_time(province: Any, schedule: Any) -> None:
    session = schedule(starts_at=datetime(2030, 3, 1, 7, 30), ends_at=datetime(2030, 3, 1, 9))
    assert session.starts_at == datetime(2030, 3, 1, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize("fields, field, fragment", [
    ({"ends_at": local(2030, 3, 1, 7, 0)}, "ends_at", "end after it starts"),
    ({"ends_at": local(2030, 3, 1, 7, 30)}, "ends_at", "end after it starts"),
    ({"title": "  "}, "title", "required"),
    ({"host_site_id": None}, "host_site_id", "host site"),
    ({"host_site_id": 9999}, "host_site_id", "Unknown site"),
    ({"site_ids": [9999]}, "site_ids", "Unknown site: 9999"),
    ({"conference_url": "javascript:alert(1)"}, "conference_url", "https://"),
    ({"conference_url": "ftp://example.org/x"}, "conference_url", "https://"),
    ({"conference_url": "https://"}, "conference_url", "server name"),
    ({"conference_url": "https://meet.jit.si/a b"}, "conference_url", "no spaces"),
    ({"topics": ["x" * 61]}, "topics", "60"),
    ({"training_id": 4242}, "training_id", "Unknown training"),
    ({"starts_at": None}, "starts_at", "starts"),
])
def test_bad_session_input_is_refused_and_nothing_saved(province: Any, schedule: Any,
                                                        fields: dict[str, Any], field: str,
                                                        fragment: str) -> None:
    with pytest.raises(Invalid) as caught:
        schedule(**fields)
    assert fragment in " ".join(caught.value.errors[field])
    db.session.rollback()
    assert count(TrainingSession) == 0 and count(SessionSite) == 0


def test_a_site_named_twice_is_refused_by_name(province: Any, schedule: Any) -> None:
    with pytest.raises(Invalid) as caught:
        schedule(site_ids=[province.ckh.id, province.hho.id, province.ckh.id])
    assert caught.value.errors["site_ids"] == ["Huyện Cẩm Khê is named twice."]
    db.session.rollback()
    assert count(TrainingSession) == 0


def test_every_field_error_comes_at_once(province: Any, schedule: Any) -> None:
    with pytest.raises(Invalid) as caught:
        schedule(title="", ends_at=local(2030, 2, 1), site_ids=[12345])
    assert set(caught.value.errors) == {"title", "ends_at", "site_ids"}


def test_the_host_may_also_be_listed_among_the_sites(province: Any, schedule: Any) -> None:
    session = schedule(site_ids=[province.host.id, province.ckh.id])
    assert len(session.session_sites) == 2


def test_coordinators_cannot_schedule(province: Any) -> None:
    with pytest.raises(Forbidden):
        services.create_session(province.coord_ckh, {"title": "x"})


@pytest.mark.parametrize("url, service, label", [
    ("https://meet.jit.si/TapHuan", "jitsi", "Join on Jitsi Meet"),
    ("https://jitsi.phutho.edu.vn/phong-1", "jitsi", "Join on Jitsi Meet"),
    ("https://us02web.zoom.us/j/123456789?pwd=abc", "zoom", "Join on Zoom"),
    ("https://meet.google.com/abc-defg-hij", "meet", "Join on Google Meet"),
    ("https://teams.microsoft.com/l/meetup-join/19%3ameeting", "teams",
     "Join on Microsoft Teams"),
    ("https://hop.phutho.gov.vn/phong-hop", None, "Open the conference link"),
    ("https://zoom.us.evil.example/j/1", None, "Open the conference link"),
])
def test_known_conference_services_get_a_join_label(app: Any, url: str, service: str | None,
                                                    label: str) -> None:
    assert services.conference_service(url) == service
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert services.join_label(url) == label
    assert services.clean_conference_url(url) == url


# --------------------------------------------------------------------------- editing


def test_update_changes_fields_and_bumps_the_calendar_sequence(province: Any,
                                                               schedule: Any) -> None:
    session = schedule()
    before = session.ics_sequence
    services.update_session(province.organiser, session,
                            {"title": "Tập huấn (đổi giờ)", "ends_at": local(2030, 3, 1, 12)})
    db.session.expire_all()
    session = db.session.get(TrainingSession, session.id)
    assert session.title == "Tập huấn (đổi giờ)"
    assert session.ends_at == datetime(2030, 3, 1, 5, tzinfo=UTC)
    assert session.ics_sequence == before + 1


def test_update_end_before_existing_start_is_refused(province: Any, schedule: Any) -> None:
    session = schedule()
    with pytest.raises(Invalid) as caught:
        services.update_session(province.organiser, session, {"ends_at": local(2030, 3, 1, 6)})
    assert "ends_at" in caught.value.errors
    db.session.rollback()
    assert db.session.get(TrainingSession, session.id).ends_at == datetime(2030, 3, 1, 4, 30,
                                                                           tzinfo=UTC)


def test_a_site_with_people_expected_cannot_leave(province: Any, schedule: Any) -> None:
    session = schedule()
    services.register_participants(province.organiser, session,
                                   participant_ids=[province.people.ha.id])
    with pytest.raises(Conflict) as caught:
        services.update_session(province.organiser, session,
                                {"site_ids": [province.hho.id], "title": "Đổi tên"})
    assert "Huyện Cẩm Khê" in caught.value.detail and "1" in caught.value.detail
    db.session.rollback()
    session = db.session.get(TrainingSession, session.id)
    assert len(session.session_sites) == 3 and session.title != "Đổi tên"


def test_sites_can_be_added_and_removed(province: Any, schedule: Any) -> None:
    session = schedule()
    services.update_session(province.organiser, session,
                            {"site_ids": [province.ckh.id, province.yla.id]})
    ids = {ss.site_id for ss in db.session.get(TrainingSession, session.id).session_sites}
    assert ids == {province.host.id, province.ckh.id, province.yla.id}


def test_coordinators_cannot_edit(province: Any, schedule: Any) -> None:
    session = schedule()
    with pytest.raises(Forbidden):
        services.update_session(province.coord_ckh, session, {"title": "Của tôi"})
    with pytest.raises(Forbidden):
        services.set_status(province.coord_ckh, session, "live")
    with pytest.raises(Forbidden):
        services.register_participants(province.coord_ckh, session,
                                       participant_ids=[province.people.ha.id])


def test_chair_and_coordinators_per_site(province: Any, schedule: Any, make_user: Any) -> None:
    session = schedule()
    second = make_user("coordinator", sites=[province.ckh], username="coord_ckh2")
    services.update_session_site(province.organiser, session, province.ckh.id, {
        "chair_name": "Phạm Văn Dũng", "chair_title": "Phó Chủ tịch UBND huyện Cẩm Khê",
        "coordinator_ids": [second.id, province.coord_ckh.id]})
    ss = services.get_session_site(session, province.ckh.id)
    assert ss.chair_name == "Phạm Văn Dũng"
    assert [u.username for u in ss.coordinators] == ["coord_ckh", "coord_ckh2"]
    with pytest.raises(Invalid) as caught:
        services.update_session_site(province.organiser, session, province.ckh.id,
                                     {"coordinator_ids": [province.coord_hho.id]})
    assert "coord_hho is not a coordinator of Huyện Cẩm Khê." in caught.value.errors[
        "coordinator_ids"]
    with pytest.raises(NotFound):
        services.update_session_site(province.organiser, session, province.yla.id,
                                     {"chair_name": "X"})


# --------------------------------------------------------------------------- lifecycle

S, L, E = "scheduled", "live", "ended"


@pytest.mark.parametrize("path, target, allowed", [
    ([], L, True),
    ([], E, False),
    ([L], E, True),
    ([L], S, False),
    ([L, E], L, False),
    ([L, E], S, False),
])
def test_lifecycle_transitions(province: Any, schedule: Any, path: list[str], target: str,
                               allowed: bool) -> None:
    session = schedule()
    for step in path:
        services.set_status(province.organiser, session, step)
    before = session.status
    if allowed:
        assert services.set_status(province.organiser, session, target) is True
        assert db.session.get(TrainingSession, session.id).status == SessionStatus(target)
    else:
        with pytest.raises(Conflict):
            services.set_status(province.organiser, session, target)
        db.session.rollback()
        assert db.session.get(TrainingSession, session.id).status == before


def test_asking_for_the_current_status_changes_nothing(province: Any, schedule: Any) -> None:
    session = schedule()
    services.set_status(province.organiser, session, "live")
    sequence = session.ics_sequence
    assert services.set_status(province.organiser, session, "live") is False
    assert session.ics_sequence == sequence


def test_status_change_is_pushed_after_the_commit(province: Any, schedule: Any,
                                                  monkeypatch: Any, app: Any) -> None:
    from sqlalchemy import create_engine, text

    from trainer import live

    session = schedule()
    seen: list[tuple[int, str, dict[str, Any], str]] = []

    def fake_emit(session_id: int, event: str, payload: dict[str, Any], **kw: Any) -> None:
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # another connection
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT status FROM training_session WHERE id = :id"),
                                  {"id": session_id}).scalar()
        engine.dispose()
        seen.append((session_id, event, payload, stored))

    monkeypatch.setattr(live, "emit", fake_emit)
    services.set_status(province.organiser, session, "live")
    assert seen == [(session.id, "session_status",
                     {"session_id": session.id, "status": "live"}, "live")]
    with pytest.raises(Conflict):
        services.set_status(province.organiser, session, "scheduled")
    assert len(seen) == 1


# --------------------------------------------------------------------------- agenda


def test_agenda_items_keep_time_order_and_can_move(province: Any, schedule: Any) -> None:
    session = schedule(agenda=[
        {"time": "07:30", "title": "Khai mạc", "presenter": "Nguyễn Văn Hùng",
         "presenter_org": "Sở Giáo dục và Đào tạo"},
        {"time": "09:00", "title": "Bình đẳng giới", "presenter_org": "Hội Liên hiệp Phụ nữ"},
    ])
    services.add_agenda_item(province.organiser, session,
                             {"time": "8h00", "title": "Quản lý TTHTCĐ"})
    services.add_agenda_item(province.organiser, session, {"title": "Thảo luận"})
    assert [i.title for i in session.agenda] == [
        "Khai mạc", "Quản lý TTHTCĐ", "Bình đẳng giới", "Thảo luận"]
    assert session.agenda[1].starts_at == time(8, 0)
    services.move_agenda_item(province.organiser, session.agenda[3], -1)
    assert [i.title for i in session.agenda][2:] == ["Thảo luận", "Bình đẳng giới"]
    assert [i.position for i in session.agenda] == [0, 1, 2, 3]
    services.delete_agenda_item(province.organiser, session.agenda[0])
    assert [i.position for i in session.agenda] == [0, 1, 2]


def test_a_bad_agenda_saves_nothing(province: Any, schedule: Any) -> None:
    session = schedule(agenda=[{"time": "07:30", "title": "Khai mạc"}])
    with pytest.raises(Invalid) as caught:
        services.replace_agenda(province.organiser, session, [
            {"time": "08:00", "title": "Một"}, {"time": "25:99x", "title": ""}])
    assert set(caught.value.errors) == {"agenda.1.time", "agenda.1.title"}
    db.session.rollback()
    assert [i.title for i in db.session.scalars(select(AgendaItem))] == ["Khai mạc"]


# --------------------------------------------------------------------------- roster


def test_roster_by_ids_site_and_unit(province: Any, schedule: Any) -> None:
    session = schedule()
    p = province.people
    result = services.register_participants(province.organiser, session,
                                            participant_ids=[p.lan.id, p.hoa.id])
    assert (result.added, result.already, result.registered) == (2, 0, 2)
    unit = next(u for u in province.ckh.units if u.name == "Xã Cát Trù")
    result = services.register_participants(province.organiser, session, unit_ids=[unit.id])
    assert result.added == 2  # Hà and Bình, not Sơn (Xã Tam Sơn)
    result = services.register_participants(province.organiser, session,
                                            site_ids=[province.ckh.id])
    assert (result.added, result.already) == (1, 2)
    assert registered(session) == {province.host.id: 1, province.ckh.id: 3, province.hho.id: 1}
    regs = {r.participant_id: r.site_id for r in db.session.scalars(select(Registration))}
    assert regs[p.ha.id] == province.ckh.id  # expected at the home site


def test_people_of_another_province_are_refused_by_name(province: Any, schedule: Any) -> None:
    session = schedule()
    p = province.people
    with pytest.raises(Invalid) as caught:
        services.register_participants(province.organiser, session,
                                       participant_ids=[p.ha.id, p.tuan.id, p.xuan.id])
    message = " ".join(caught.value.errors["participant_ids"])
    assert "Vũ Anh Tuấn" in message and "Quận Ba Đình" in message
    assert "Hoàng Thị Xuân" in message and "Huyện Yên Lập" in message
    assert "Trần Thị Hà" not in message
    db.session.rollback()
    assert count(Registration) == 0  # Hà was not added either


def test_unknown_people_units_and_foreign_sites_are_refused(province: Any,
                                                            schedule: Any) -> None:
    session = schedule()
    with pytest.raises(Invalid) as caught:
        services.register_participants(province.organiser, session, participant_ids=[99999],
                                       site_ids=[province.yla.id], unit_ids=[88888])
    assert "99999" in caught.value.errors["participant_ids"][0]
    assert caught.value.errors["site_ids"] == [
        "Huyện Yên Lập does not take part in this session."]
    assert caught.value.errors["unit_ids"] == ["Unknown unit: 88888."]
    with pytest.raises(Invalid):
        services.register_participants(province.organiser, session)
    assert count(Registration) == 0


def test_unregister_and_clear_keep_checked_in_people(province: Any, schedule: Any) -> None:
    from trainer.dbtypes import utcnow
    from trainer.sessions.models import Checkin

    session = schedule()
    p = province.people
    services.register_participants(province.organiser, session, site_ids=[province.ckh.id])
    db.session.add(Checkin(session_id=session.id, participant_id=p.ha.id,
                           site_id=province.ckh.id, at=utcnow()))
    db.session.commit()
    with pytest.raises(Conflict):
        services.unregister(province.organiser, session, p.ha.id)
    services.unregister(province.organiser, session, p.binh.id)
    assert services.clear_site_roster(province.organiser, session, province.ckh.id) == 1
    assert [r.participant_id for r in db.session.scalars(select(Registration))] == [p.ha.id]


def test_import_roster_by_code_and_by_name(province: Any, schedule: Any) -> None:
    session = schedule()
    p = province.people
    data = csv_bytes([["Mã học viên", "Họ và tên", "Mã điểm cầu", "Năm sinh"],
                      [p.binh.code, "", "", ""],
                      ["", "Trần Thị Hà", "CKH", "1980"],
                      ["", "", "", ""]])
    result = services.import_roster(province.organiser, session, "ds.csv", data)
    assert (result.added, result.registered) == (2, 2)
    xlsx = xlsx_bytes([["code"], [p.hoa.code.lower()], [p.binh.code]])
    result = services.import_roster(province.organiser, session, "ds.xlsx", xlsx)
    assert (result.added, result.already) == (1, 1)
    plain = f"{p.lan.code}\n{p.son.code}\n".encode()
    assert services.import_roster(province.organiser, session, "codes.txt", plain).added == 2


def test_import_with_people_of_another_province_adds_nobody(province: Any,
                                                            schedule: Any) -> None:
    session = schedule()
    p = province.people
    data = xlsx_bytes([["Mã học viên", "Họ và tên", "Mã điểm cầu", "Năm sinh"],
                       [p.ha.code, None, None, None],
                       [None, "Vũ Anh Tuấn", "BDI", 1975],
                       [None, "Ngô Văn Lạ", "HNI01", 1990],
                       [p.xuan.code, None, None, None],
                       ["ZZZZZZ", None, None, None]])
    with pytest.raises(Invalid) as caught:
        services.import_roster(province.organiser, session, "ds.xlsx", data)
    rows = caught.value.errors["file"]
    assert len(rows) == 4
    assert rows[0].startswith("Row 3: Vũ Anh Tuấn is from Quận Ba Đình")
    assert rows[1].startswith("Row 4: Ngô Văn Lạ: the site code “HNI01” is not a site")
    assert "Row 5: Hoàng Thị Xuân" in rows[2] and "Huyện Yên Lập" in rows[2]
    assert rows[3] == "Row 6: no participant has the code ZZZZZZ."
    db.session.rollback()
    assert count(Registration) == 0


def test_import_reads_files_as_the_participant_import_does(province: Any,
                                                             schedule: Any) -> None:
    """A title above the header, Vietnamese headers in other words, blank rows, UTF-16 text
    with ";": rows are still numbered as the spreadsheet shows them."""
    session = schedule()
    p = province.people
    rows = [["DANH SÁCH ĐẠI BIỂU HUYỆN CẨM KHÊ"], [],
            ["STT", "Họ tên đại biểu", "Mã số học viên"],
            ["1", "Trần Thị Hà", p.ha.code], [], ["2", "Vũ Anh Tuấn", p.tuan.code]]
    with pytest.raises(Invalid) as caught:
        services.import_roster(province.organiser, session, "ds.xlsx", xlsx_bytes(rows))
    assert [m.split(":")[0] for m in caught.value.errors["file"]] == ["Row 6"]
    text = "Mã học viên;Họ và tên\r\n" + f"{p.ha.code};Trần Thị Hà\r\n"
    result = services.import_roster(province.organiser, session, "ds.csv",
                                    text.encode("utf-16"))  # with a BOM, as Excel saves it
    assert result.added == 1


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty"),
    (b"PK\x03\x04not really a workbook", "Excel"),
    (b"\x00\x01\x02\x03binary", "Excel"),
    (csv_bytes([["Tên", "Tuổi"], ["A", "3"]]), "Mã học viên"),
])
def test_unreadable_roster_files(province: Any, schedule: Any, data: bytes,
                                 fragment: str) -> None:
    session = schedule()
    with pytest.raises(Invalid) as caught:
        services.import_roster(province.organiser, session, "x", data)
    assert fragment in " ".join(caught.value.errors["file"])


def test_a_coordinator_reads_only_its_sites_rosters(province: Any, schedule: Any) -> None:
    session = schedule()
    services.register_participants(province.organiser, session,
                                   site_ids=[province.ckh.id, province.hho.id])
    coord = province.coord_ckh
    rows = db.session.execute(services.roster_stmt(coord, session)).all()
    assert {p.site_id for _, p in rows} == {province.ckh.id}
    with pytest.raises(Forbidden):
        services.roster_stmt(coord, session, province.hho.id)
    with pytest.raises(Forbidden):
        services.get_session(province.coord_yla, session.id)


def test_coordinators_list_only_sessions_of_their_sites(province: Any, schedule: Any) -> None:
    mine = schedule(title="Có Cẩm Khê")
    schedule(title="Không có Cẩm Khê", site_ids=[province.hho.id])
    titles = [s.title for s in db.session.scalars(services.sessions_stmt(province.coord_ckh))]
    assert titles == [mine.title]
    assert len(list(db.session.scalars(services.sessions_stmt(province.organiser)))) == 2


# --------------------------------------------------------------------------- copies


def test_copy_keeps_sites_chairs_and_agenda_and_optionally_the_roster(
        province: Any, schedule: Any) -> None:
    source = schedule(agenda=[{"time": "07:30", "title": "Khai mạc"}])
    services.update_session_site(province.organiser, source, province.ckh.id,
                                 {"chair_name": "Phạm Văn Dũng"})
    services.register_participants(province.organiser, source,
                                   site_ids=[province.ckh.id, province.hho.id])
    result = services.copy_session(province.organiser, source, {
        "starts_at": local(2031, 3, 1, 7, 30), "ends_at": local(2031, 3, 1, 11, 30),
        "title": services.suggest_copy_title(source.title, 2017, 2018)}, roster=True)
    copy = result.session
    assert copy.id != source.id and copy.status == SessionStatus.SCHEDULED
    assert copy.title == "Tập huấn quản lý TTHTCĐ năm 2018"
    assert {ss.site_id for ss in copy.session_sites} == {
        ss.site_id for ss in source.session_sites}
    assert services.get_session_site(copy, province.ckh.id).chair_name == "Phạm Văn Dũng"
    assert [i.title for i in copy.agenda] == ["Khai mạc"]
    assert (result.registered, result.skipped) == (4, 0)
    assert registered(copy) == registered(source)
    plain = services.copy_session(province.organiser, source, {
        "starts_at": local(2031, 4, 1, 7, 30), "ends_at": local(2031, 4, 1, 11)},
        agenda=False).session
    assert plain.agenda == [] and registered(plain)[province.ckh.id] == 0


def test_copy_with_bad_dates_creates_nothing(province: Any, schedule: Any) -> None:
    source = schedule()
    with pytest.raises(Invalid):
        services.copy_session(province.organiser, source, {
            "starts_at": local(2031, 3, 1, 9), "ends_at": local(2031, 3, 1, 8)})
    db.session.rollback()
    assert count(TrainingSession) == 1


# --------------------------------------------------------------------------- trainings


def test_training_with_partners_and_topics(province: Any) -> None:
    training = services.create_training(province.organiser, {
        "title": "Tập huấn năm 2017", "year": "2017",
        "lead_agency": "Sở Giáo dục và Đào tạo tỉnh Phú Thọ",
        "partners": ["Hội Khuyến học tỉnh Phú Thọ", "Hội Liên hiệp Phụ nữ tỉnh Phú Thọ",
                     "Hội Khuyến học tỉnh Phú Thọ"],
        "topics": ["management", "gender"]})
    assert training.year == 2017 and len(training.partners) == 2
    with pytest.raises(Invalid) as caught:
        services.create_training(province.organiser, {"title": "", "year": 1890})
    assert set(caught.value.errors) == {"title", "year"}
    with pytest.raises(Forbidden):
        services.create_training(province.coord_ckh, {"title": "x", "year": 2017})


# --------------------------------------------------------------------------- calendars


def test_month_grid_and_local_days(app: Any, province: Any, schedule: Any) -> None:
    weeks = services.month_weeks(date(2030, 3, 15))
    assert weeks[0][0] == date(2030, 2, 25) and weeks[-1][-1] == date(2030, 3, 31)
    assert all(len(w) == 7 for w in weeks)
    # 06:30 in Vietnam on 2 March is still 1 March in UTC: it belongs to 2 March.
    early = schedule(starts_at=local(2030, 3, 2, 6, 30), ends_at=local(2030, 3, 2, 8))
    assert list(services.by_local_day([early])) == [date(2030, 3, 2)]
