"""The video room's pages through the test client: who may open them, the headers that let
only them use the microphone and reach Janus, the session page's video panel, and what the
pages say when no Janus server is available."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

PASSWORD = "correct horse battery"  # make_user's default (tests/conftest.py)
JANUS_URL = "http://127.0.0.1:18088/janus"


@pytest.fixture
def room(make_site: Callable[..., Any], make_session: Callable[..., Any],
         make_user: Callable[..., Any]) -> dict[str, Any]:
    from trainer.extensions import db

    host = make_site(code="VT", name="Thành phố Việt Trì", kind="host")
    bridge = make_site(code="HH", name="Huyện Hạ Hòa")
    second = make_site(code="CK", name="Huyện Cẩm Khê")
    other = make_site(code="TS", name="Huyện Tân Sơn")
    session = make_session([host, bridge, second], title="Quản lý trung tâm học tập cộng đồng")
    session.conference_provider = "builtin"
    db.session.commit()
    return {"session": session, "host": host, "bridge": bridge, "second": second,
            "other": other, "organiser": make_user("organiser"),
            "coord": make_user("coordinator", sites=[bridge])}


@pytest.fixture
def janus(app: Any) -> Iterator[str]:
    """A Janus server configured by URL (nothing is asked of it to render the pages)."""
    from trainer.conference.runtime import Runtime

    before = app.extensions["conference"]
    app.extensions["conference"] = Runtime.from_config({"JANUS_URL": JANUS_URL})
    try:
        yield JANUS_URL
    finally:
        app.extensions["conference"] = before


def logged_in(app: Any, user: Any) -> Any:
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_the_host_room_is_for_organisers_and_opens_camera_microphone_and_janus(
        app: Any, room: dict[str, Any], janus: str) -> None:
    sid = room["session"].id
    organiser = logged_in(app, room["organiser"])
    page = organiser.get(f"/sessions/{sid}/conference/host")
    assert page.status_code == 200
    body = text(page)
    assert 'data-testid="host-room"' in body
    assert "vendor/janus-1.1.2.min.js" in body and "vendor/webrtc-adapter-8.2.0.min.js" in body
    assert body.count('data-testid="conf-tile"') == 2  # the two bridge points, not the host
    assert "Huyện Hạ Hòa" in body and "Huyện Cẩm Khê" in body
    policy = page.headers["Permissions-Policy"]
    assert "microphone=(self)" in policy and "camera=(self)" in policy
    csp = page.headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:18088" in csp
    # Every other page keeps the microphone off and reaches no other server.
    other = organiser.get(f"/sessions/{sid}")
    assert "microphone=()" in other.headers["Permissions-Policy"]
    assert "18088" not in other.headers["Content-Security-Policy"]

    coordinator = logged_in(app, room["coord"])
    assert coordinator.get(f"/sessions/{sid}/conference/host").status_code == 403


def test_a_site_room_is_for_its_coordinators_and_organisers(
        app: Any, room: dict[str, Any], janus: str) -> None:
    sid = room["session"].id
    coordinator = logged_in(app, room["coord"])
    own = coordinator.get(f"/sessions/{sid}/conference/site/{room['bridge'].id}")
    assert own.status_code == 200
    body = text(own)
    assert 'data-testid="site-room"' in body and "Huyện Hạ Hòa" in body
    assert 'data-testid="prejoin"' in body and 'id="guidance"' in body
    assert "microphone=(self)" in own.headers["Permissions-Policy"]
    assert coordinator.get(f"/sessions/{sid}/conference/site/{room['second'].id}").status_code == 403
    organiser = logged_in(app, room["organiser"])
    assert organiser.get(f"/sessions/{sid}/conference/site/{room['second'].id}").status_code == 200
    # A site that does not take part in the session has no room computer here.
    assert organiser.get(f"/sessions/{sid}/conference/site/{room['other'].id}").status_code == 404
    anonymous = app.test_client().get(f"/sessions/{sid}/conference/site/{room['bridge'].id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_session_page_links_to_the_rooms_at_its_top(
        app: Any, room: dict[str, Any], janus: str) -> None:
    sid = room["session"].id
    body = text(logged_in(app, room["organiser"]).get(f"/sessions/{sid}"))
    panel = body.index('data-testid="conference-panel"')
    assert panel < body.index('class="stats"')  # above the figures and the site table
    assert f'href="/sessions/{sid}/conference/host"' in body
    for site in (room["bridge"], room["second"]):
        assert f'href="/sessions/{sid}/conference/site/{site.id}"' in body
    assert "apt-get install janus" not in body

    mine = text(logged_in(app, room["coord"]).get(f"/sessions/{sid}"))
    assert f'href="/sessions/{sid}/conference/site/{room["bridge"].id}"' in mine
    assert f'/conference/site/{room["second"].id}"' not in mine
    assert "/conference/host" not in mine


@pytest.mark.vietnamese_default
def test_without_janus_the_pages_say_how_to_enable_video(app: Any, room: dict[str, Any]) -> None:
    sid = room["session"].id
    organiser = logged_in(app, room["organiser"])
    organiser.language = None  # type: ignore[attr-defined]
    session_page = text(organiser.get(f"/sessions/{sid}"))
    assert "apt-get install janus" in session_page
    assert f'href="/sessions/{sid}/conference/host"' not in session_page
    host = organiser.get(f"/sessions/{sid}/conference/host")
    assert host.status_code == 200
    body = text(host)
    assert 'data-testid="conf-unavailable"' in body and "apt-get install janus" in body
    assert "Máy chủ video (Janus) chưa chạy" in body
    assert "janus-1.1.2.min.js" not in body


def test_a_session_on_an_outside_link_has_no_video_room(
        app: Any, room: dict[str, Any], janus: str) -> None:
    from trainer.extensions import db

    session = room["session"]
    session.conference_provider = "link"
    session.conference_url = "https://meet.google.com/abc-defg-hij"
    db.session.commit()
    organiser = logged_in(app, room["organiser"])
    body = text(organiser.get(f"/sessions/{session.id}/conference/host"))
    assert 'data-testid="conf-unavailable"' in body and 'data-testid="host-room"' not in body
    assert 'data-testid="conference-panel"' not in text(organiser.get(f"/sessions/{session.id}"))


def test_the_coordinators_pages_lead_to_their_room_computer(
        app: Any, room: dict[str, Any], janus: str) -> None:
    """A coordinator logs in on the room computer and lands on the check-in page: one tap from
    there (or from "my sites' sessions") opens the site's video room, not four."""
    sid, bridge = room["session"].id, room["bridge"]
    coord = logged_in(app, room["coord"])
    site_room = f'href="/sessions/{sid}/conference/site/{bridge.id}"'
    checkin = text(coord.get(f"/sessions/{sid}/checkin/{bridge.id}"))
    assert 'data-testid="checkin-video-room"' in checkin and site_room in checkin
    mine = text(coord.get("/sessions/mine"))
    assert 'data-testid="list-video-room"' in mine and site_room in mine
    assert f'/conference/site/{room["second"].id}"' not in mine
    assert "/conference/host" not in mine
    organiser = text(logged_in(app, room["organiser"]).get("/sessions"))
    assert f'href="/sessions/{sid}/conference/host" data-testid="list-video-room"' in organiser


def test_no_video_room_link_on_the_checkin_page_without_janus(
        app: Any, room: dict[str, Any]) -> None:
    sid, bridge = room["session"].id, room["bridge"]
    page = text(logged_in(app, room["coord"]).get(f"/sessions/{sid}/checkin/{bridge.id}"))
    assert 'data-testid="checkin-video-room"' not in page


def test_the_room_computers_are_listed_in_officials_order(
        app: Any, room: dict[str, Any], janus: str, make_site: Callable[..., Any]) -> None:
    """Towns before districts, as in the site table under the panel (alphabetical order put
    "Thị xã Phú Thọ" after every "Huyện ...")."""
    from trainer.extensions import db
    from trainer.sessions.models import SessionSite

    session = room["session"]
    town = make_site(code="PT", name="Thị xã Phú Thọ")
    db.session.add(SessionSite(session_id=session.id, site_id=town.id))
    db.session.commit()
    body = text(logged_in(app, room["organiser"]).get(f"/sessions/{session.id}"))
    panel = body[body.index('data-testid="conference-panel"'):]
    links = [panel.index(f'/conference/site/{site.id}"')
             for site in (town, room["second"], room["bridge"])]  # Phú Thọ, Cẩm Khê, Hạ Hòa
    assert links == sorted(links)


def test_the_control_room_says_what_its_count_counts(
        app: Any, room: dict[str, Any], janus: str) -> None:
    """The count beside the floor state was a bare "0 / 12": it now names the sites in the
    room (the page's script fills {n} and {total})."""
    sid = room["session"].id
    body = text(logged_in(app, room["organiser"]).get(f"/sessions/{sid}/conference/host?lang=vi"))
    assert '<li data-k="sites_in_room">{n}/{total} điểm cầu đã vào phòng họp</li>' in body
