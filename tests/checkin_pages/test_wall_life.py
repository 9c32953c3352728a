"""The wall tells a site that never opened its page from one that dropped, counts a recent
check-in as a sign of life, marks a site with a problem for the alert, shows its note in full,
the feed of the latest check-ins, women and men as numbers and the video room when the
session has one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from trainer.checkin import services, views
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.i18n import fmt_time
from trainer.sessions.models import Checkin


def wall(world: Any, browser_as: Any, user: Any = None, page: str = "wall") -> str:
    client = browser_as(user or world.organiser)
    response = client.get(f"/sessions/{world.session.id}/{page}?lang=en")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def tile_html(html: str, site: Any) -> str:
    return html.split(f'data-site-id="{site.id}"', 1)[1].split("</article>", 1)[0]


def tiles(page_scan: Any, html: str) -> dict[int, dict[str, Any]]:
    return {int(t["data-site-id"]): t for t in page_scan(html).by_testid("tile")}


def test_a_site_that_never_opened_is_grey_and_one_that_dropped_shows_when_last_heard(
        world: Any, browser_as: Any, page_scan: Any, app: Any) -> None:
    sid = world.session.id
    services.page_connected(world.coord_bridge, sid, world.bridge.id, "sid-bridge")
    services.page_gone("sid-bridge")
    # Its page rows expire and are swept: the wall still knows it was heard from.
    later = utcnow() + timedelta(seconds=float(app.config.get("SITE_OFFLINE_AFTER_S", 30)) + 5)
    assert services.sweep_presence(now=later) == [(sid, world.bridge.id)]
    board = {r["site_id"]: r for r in services.site_board(world.organiser, sid)}
    assert board[world.host.id]["presence"] == "never"
    assert board[world.host.id]["last_heard_at"] is None
    assert board[world.bridge.id]["presence"] == "lost"
    heard = board[world.bridge.id]["last_heard_at"]
    assert heard

    html = wall(world, browser_as)
    shown = tiles(page_scan, html)
    assert shown[world.host.id]["data-state"] == "never"
    assert "Not opened" in tile_html(html, world.host)
    assert shown[world.bridge.id]["data-state"] == "lost"
    bridge = tile_html(html, world.bridge)
    assert "Lost contact" in bridge
    assert f"last heard {fmt_time(views._dt(heard))}" in bridge


def test_a_recent_checkin_is_a_sign_of_life_and_an_old_one_is_not(
        world: Any, browser_as: Any, page_scan: Any) -> None:
    sid = world.session.id
    ha = world.people[0]
    services.check_in(world.organiser, sid, site_id=world.bridge.id, participant_id=ha.id)
    board = {r["site_id"]: r for r in services.site_board(world.organiser, sid)}
    assert board[world.bridge.id]["connected"] is False
    assert board[world.bridge.id]["presence"] == "live"
    assert tiles(page_scan, wall(world, browser_as))[world.bridge.id]["data-state"] == "online"

    # Ten minutes later, with no page open and no new check-in, the site is lost.
    db.session.execute(update(Checkin).values(server_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    board = {r["site_id"]: r for r in services.site_board(world.organiser, sid)}
    assert board[world.bridge.id]["presence"] == "lost"
    assert tiles(page_scan, wall(world, browser_as))[world.bridge.id]["data-state"] == "lost"


def test_a_site_with_a_problem_is_marked_for_the_alert_with_its_full_note(
        world: Any, browser_as: Any, page_scan: Any) -> None:
    sid = world.session.id
    note = ("Mất tiếng ở hội trường, đang thay micro và kiểm tra lại bộ trộn âm thanh, "
            "dự kiến năm phút nữa sẽ có tiếng trở lại")
    services.page_connected(world.coord_bridge, sid, world.bridge.id, "sid-b")
    payload = services.set_site_status(world.coord_bridge, sid, world.bridge.id, "issue", note)
    assert payload["presence"] == "live"
    html = wall(world, browser_as)
    bridge = tiles(page_scan, html)[world.bridge.id]
    assert bridge["data-state"] == "issue"
    assert bridge["data-alert"] == "1"
    assert "tile-alert" in bridge["class"]
    notes = [n for n in page_scan(html).by_testid("tile-note") if n.get("title")]
    assert [n["title"] for n in notes] == [note]  # the whole note, on hover and on a tap
    assert page_scan(html).by_testid("sound-toggle")
    projector = wall(world, browser_as, page="projector")
    assert page_scan(projector).by_testid("projector-notes")  # large notes on the projector


def test_numbers_are_formatted_in_vietnamese(world: Any, browser_as: Any, app: Any) -> None:
    with app.test_request_context("/?lang=vi"):
        from flask import render_template_string
        assert render_template_string("{{ 1284|number }}") == "1.284"
    html = browser_as(world.organiser).get(f"/sessions/{world.session.id}/wall?lang=vi")
    assert 'data-testid="total-registered">4<' in html.get_data(as_text=True)


def test_the_feed_lists_the_latest_checkins_newest_first_and_coordinators_their_own(
        world: Any, browser_as: Any, page_scan: Any) -> None:
    sid = world.session.id
    ha, duc, _mai, an = world.people
    html = wall(world, browser_as)
    assert page_scan(html).by_testid("feed-empty")
    services.check_in(world.organiser, sid, site_id=world.bridge.id, participant_id=ha.id)
    services.check_in(world.organiser, sid, site_id=world.host.id, participant_id=an.id)
    services.check_in(world.organiser, sid, site_id=world.bridge.id, participant_id=duc.id)

    fragment = browser_as(world.organiser).get(f"/sessions/{sid}/wall/feed").get_data(as_text=True)
    order = [fragment.index(name) for name in ("Trần Văn Đức", "Phạm Văn An", "Nguyễn Thị Hà")]
    assert order == sorted(order)
    assert "Huyện Hạ Hòa" in fragment

    mine = browser_as(world.coord_bridge).get(f"/sessions/{sid}/wall/feed").get_data(as_text=True)
    assert "Trần Văn Đức" in mine and "Nguyễn Thị Hà" in mine
    assert "Phạm Văn An" not in mine  # a host-site check-in is not a bridge coordinator's
    assert browser_as(world.coord_other).get(f"/sessions/{sid}/wall/feed").status_code == 403
    wall_html = wall(world, browser_as)
    assert len(page_scan(wall_html).by_testid("feed-item")) == 3


def test_builtin_conference_rows_show_the_video_room_state(
        world: Any, browser_as: Any, page_scan: Any, monkeypatch: Any) -> None:
    board = services.site_board
    dropped = utcnow() - timedelta(minutes=3)
    bridge_id = world.bridge.id  # read here: the request must not touch the test's session

    def with_conference(actor: Any, session_id: int) -> list[dict[str, Any]]:
        rows = board(actor, session_id)
        for row in rows:
            row["conference"] = (
                {"media": "lost", "since": dropped.isoformat(), "last_seen": None, "drops": 1}
                if row["site_id"] == bridge_id else
                {"media": "connected", "since": None, "last_seen": None, "drops": 0})
        return rows

    monkeypatch.setattr(services, "site_board", with_conference)
    html = wall(world, browser_as)
    shown = tiles(page_scan, html)
    assert shown[world.bridge.id]["data-media"] == "lost"
    assert shown[world.host.id]["data-media"] == "connected"
    assert f"Video room: dropped at {fmt_time(dropped)}" in tile_html(html, world.bridge)
    assert "Video room: on the call" in tile_html(html, world.host)

    monkeypatch.setattr(services, "site_board", board)
    plain = wall(world, browser_as)
    assert "data-media" not in plain  # no conference key: no video room line
