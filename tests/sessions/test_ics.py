"""Calendar files parsed back with a real iCalendar parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from trainer.auth.services import calendar_key
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.sessions import services

from .conftest import local


def events(data: bytes) -> list[Any]:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def test_session_ics_has_correct_times_uid_and_details(province: Any, schedule: Any,
                                                       client: Any, login: Any) -> None:
    session = schedule(agenda=[
        {"time": "07:30", "title": "Khai mạc", "presenter": "Nguyễn Văn Hùng",
         "presenter_org": "Sở Giáo dục và Đào tạo"},
        {"time": "08:00", "title": "Bình đẳng giới; định kiến giới, phân biệt đối xử"}])
    login(province.organiser)
    response = client.get(f"/sessions/{session.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    (event,) = events(response.data)
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.astimezone(UTC) == datetime(2030, 3, 1, 0, 30, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2030, 3, 1, 4, 30, tzinfo=UTC)
    assert start.utcoffset() == timedelta(hours=7)
    assert event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert str(event["UID"]) == f"session-{session.id}@trainer"
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert str(event["SUMMARY"]) == "Tập huấn quản lý TTHTCĐ năm 2017"
    assert str(event["URL"]) == "https://meet.jit.si/TapHuan2017"
    assert str(event["LOCATION"]) == "https://meet.jit.si/TapHuan2017"
    description = str(event["DESCRIPTION"])
    assert "07:30 Khai mạc (Nguyễn Văn Hùng, Sở Giáo dục và Đào tạo)" in description
    assert "08:00 Bình đẳng giới; định kiến giới, phân biệt đối xử" in description
    assert "Huyện Cẩm Khê" in description and "Huyện Hạ Hòa" in description


def test_uid_stays_and_sequence_grows_with_each_change(province: Any, schedule: Any,
                                                       client: Any, login: Any) -> None:
    session = schedule()
    login(province.organiser)
    url = f"/sessions/{session.id}.ics"
    (first,) = events(client.get(url).data)
    services.update_session(province.organiser, session, {
        "starts_at": local(2030, 3, 2, 8), "ends_at": local(2030, 3, 2, 10)})
    (second,) = events(client.get(url).data)
    services.add_agenda_item(province.organiser, session, {"time": "08:00", "title": "Mở đầu"})
    (third,) = events(client.get(url).data)
    assert str(first["UID"]) == str(second["UID"]) == str(third["UID"])
    assert first.decoded("SEQUENCE") < second.decoded("SEQUENCE") < third.decoded("SEQUENCE")
    assert second.decoded("DTSTART").astimezone(UTC) == datetime(2030, 3, 2, 1, tzinfo=UTC)
    assert "Mở đầu" in str(third["DESCRIPTION"])


def test_session_without_link_is_located_at_the_host(province: Any, schedule: Any,
                                                     client: Any, login: Any) -> None:
    session = schedule(conference_url=None)
    login(province.organiser)
    (event,) = events(client.get(f"/sessions/{session.id}.ics").data)
    assert str(event["LOCATION"]) == "Thành phố Việt Trì"
    assert str(event["URL"]).endswith(f"/sessions/{session.id}")


def test_coordinator_cannot_fetch_other_sites_ics(province: Any, schedule: Any, client: Any,
                                                  login: Any) -> None:
    session = schedule(site_ids=[province.hho.id])
    login(province.coord_ckh)
    assert client.get(f"/sessions/{session.id}.ics").status_code == 403


def test_personal_feed_lists_the_users_sessions(province: Any, schedule: Any,
                                                client: Any) -> None:
    now = utcnow()
    mine = schedule(title="Cẩm Khê", starts_at=now + timedelta(days=2),
                    ends_at=now + timedelta(days=2, hours=3))
    schedule(title="Hạ Hòa", site_ids=[province.hho.id], starts_at=now + timedelta(days=3),
             ends_at=now + timedelta(days=3, hours=3))
    schedule(title="Xưa", starts_at=now - timedelta(days=400),
             ends_at=now - timedelta(days=400) + timedelta(hours=3))
    key = calendar_key(province.coord_ckh)
    response = client.get(f"/calendar/{key}.ics")  # no login: the key is the secret
    assert response.status_code == 200
    found = events(response.data)
    assert [str(e["SUMMARY"]) for e in found] == ["Cẩm Khê"]
    assert str(found[0]["UID"]) == f"session-{mine.id}@trainer"
    staff = events(client.get(f"/calendar/{calendar_key(province.organiser)}.ics").data)
    assert sorted(str(e["SUMMARY"]) for e in staff) == ["Cẩm Khê", "Hạ Hòa"]
    local_start = found[0].decoded("DTSTART")
    assert local_start.tzinfo is not None
    assert local_start.astimezone(ZoneInfo("UTC")) == mine.starts_at.replace(microsecond=0)


def test_unknown_or_disabled_feed_key_is_404(province: Any, client: Any) -> None:
    assert client.get("/calendar/not-a-key.ics").status_code == 404
    key = calendar_key(province.coord_ckh)
    province.coord_ckh.active = False
    db.session.commit()
    assert client.get(f"/calendar/{key}.ics").status_code == 404
