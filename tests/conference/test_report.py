"""The session report gives, per bridge point on the built-in video room: first joined,
minutes connected, drops (JSON, CSV, XLSX and the page)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from tests.conference.test_api import post_events, publisher_events


def test_report_per_site_first_joined_minutes_and_drops(world: Any, client: Any,
                                                        api_as: Any, login: Any) -> None:
    from openpyxl import load_workbook

    from trainer.conference.models import ConferenceRoom, ConferenceSite
    from trainer.extensions import db

    db.session.add(ConferenceRoom(session_id=world.session.id, janus_room=4250, pin="p",
                                  secret="s"))
    db.session.commit()
    events = publisher_events(world.session.id, world.a.id)
    events[1]["event"]["data"]["room"] = 4250
    post_events(client, events)
    post_events(client, [{"type": 16, "session_id": 900, "handle_id": 501,
                          "event": {"connection": "hangup"}}])
    row = db.session.query(ConferenceSite).filter_by(site_id=world.a.id).one()
    row.connected_s = 25 * 60 + 30  # as if the stretch had lasted 25.5 minutes
    first = row.first_joined_at
    db.session.commit()

    body = api_as(world.organiser).get(f"/api/v1/reports/sessions/{world.session.id}").get_json()
    assert body["conference"] == "builtin"
    sites = {s["site_id"]: s for s in body["sites"]}
    assert sites[world.a.id]["conference_minutes"] == 25
    assert sites[world.a.id]["conference_drops"] == 1
    assert sites[world.a.id]["conference_first_joined_at"] is not None
    assert sites[world.b.id]["conference_first_joined_at"] is None
    assert sites[world.b.id]["conference_minutes"] == 0

    login(world.organiser)
    text = client.get(f"/sessions/{world.session.id}/report.csv").get_data().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][-3:] == ["Vào phòng họp lúc", "Số phút trực tuyến", "Số lần mất kết nối"]
    a_line = next(r for r in lines if r[0] == world.a.code)
    local = (first + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M")
    assert a_line[-3:] == [local, "25", "1"]

    book = load_workbook(io.BytesIO(client.get(
        f"/sessions/{world.session.id}/report.xlsx").get_data()))
    sheet = book["Theo điểm cầu"]  # after the title sheet
    header = [c.value for c in sheet[1]]
    assert header[-3:] == ["Vào phòng họp lúc", "Số phút trực tuyến", "Số lần mất kết nối"]
    a_cells = next(r for r in sheet.iter_rows(values_only=True) if r[0] == world.a.code)
    assert list(a_cells[-2:]) == [25, 1]

    page = client.get(f"/reports/sessions/{world.session.id}",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Minutes connected" in page and "First joined the video room" in page

    link = api_as(world.organiser).get(f"/api/v1/reports/sessions/{world.link.id}").get_json()
    assert "conference_minutes" not in link["sites"][0]
    assert "Minutes connected" not in client.get(
        f"/sessions/{world.link.id}/report.csv").get_data().decode("utf-8-sig")
