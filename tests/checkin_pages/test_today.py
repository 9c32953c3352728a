"""The coordinator's start: after login, today's check-in desk; the installable app's manifest;
the check-in entry of the menu."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from tests.checkin_pages.conftest import DEFAULT_PASSWORD


def login(app: Any, user: Any) -> tuple[Any, Any]:
    client = app.test_client()
    client.language = None  # the product's default language, Vietnamese
    response = client.post("/login", data={"username": user.username,
                                           "password": DEFAULT_PASSWORD})
    return client, response


def test_a_coordinator_with_one_live_session_lands_on_its_checkin_page(app: Any,
                                                                       world: Any) -> None:
    client, response = login(app, world.coord_bridge)
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.headers["Location"] == "/sessions/checkin"
    desk = client.get("/sessions/checkin")
    assert desk.status_code == 302
    assert desk.headers["Location"] == f"/sessions/{world.session.id}/checkin/{world.bridge.id}"
    page = client.get(desk.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="checkin-app"' in page


def test_several_desks_today_are_cards_with_one_checkin_button_each(
        app: Any, world: Any, make_session: Any, make_user: Any) -> None:
    later = make_session([world.host, world.bridge], title="Phiên chiều", status="scheduled",
                         starts_in=timedelta(minutes=5))
    tomorrow = make_session([world.bridge], title="Phiên ngày mai", status="scheduled",
                            starts_in=timedelta(days=2))
    both = make_user("coordinator", sites=[world.host, world.bridge])
    client, _ = login(app, both)
    response = client.get("/sessions/checkin")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    desks = re.findall(r'data-testid="desk"\s+data-session-id="(\d+)" data-site-id="(\d+)"', html)
    # the live session first (host site first), then this afternoon's; never tomorrow's
    assert desks == [(str(world.session.id), str(world.host.id)),
                     (str(world.session.id), str(world.bridge.id)),
                     (str(later.id), str(world.host.id)), (str(later.id), str(world.bridge.id))]
    assert str(tomorrow.id) not in {d[0] for d in desks}
    buttons = re.findall(r'data-testid="desk-checkin"\s+href="([^"]+)">([^<]+)</a>', html)
    assert len(buttons) == 4
    assert {label for _, label in buttons} == {"Điểm danh"}
    assert buttons[0][0] == f"/sessions/{world.session.id}/checkin/{world.host.id}"


def test_a_session_just_after_midnight_is_on_the_desk_list_before_it(
        app: Any, world: Any, make_session: Any, make_user: Any) -> None:
    """At 23:58 local time, a session at 00:03 is listed (and one the day after is not):
    the list does not depend on which side of midnight the coordinator opens it."""
    from datetime import datetime, time

    from trainer.checkin import today
    from trainer.dbtypes import utcnow
    from trainer.i18n import local_zone

    local_now = utcnow().astimezone(local_zone())
    midnight = datetime.combine(local_now.date() + timedelta(days=2), time(0),
                                tzinfo=local_zone())
    night = make_session([world.bridge], title="Phiên nửa đêm", status="scheduled",
                         starts_in=midnight + timedelta(minutes=3) - utcnow())
    later = make_session([world.bridge], title="Phiên hôm sau", status="scheduled",
                         starts_in=midnight + timedelta(hours=9) - utcnow())
    before = midnight - timedelta(minutes=2)
    listed = {d.session_id for d in today.desks(world.coord_bridge, now=before)}
    assert night.id in listed
    assert later.id not in listed


def test_two_live_sessions_are_listed_not_guessed(app: Any, world: Any,
                                                  make_session: Any) -> None:
    make_session([world.host, world.bridge], title="Phiên song song")
    client, _ = login(app, world.coord_bridge)
    response = client.get("/sessions/checkin")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('data-testid="desk"') == 2


def test_without_a_session_today_the_coordinator_sees_its_sessions(app: Any,
                                                                    world: Any) -> None:
    client, _ = login(app, world.coord_other)
    response = client.get("/sessions/checkin")
    assert response.status_code == 302 and response.headers["Location"] == "/sessions/mine"
    html = client.get("/sessions/mine").get_data(as_text=True)
    assert "Hôm nay không có buổi tập huấn nào tại điểm cầu của bạn." in html


def test_the_menu_of_a_coordinator_has_a_checkin_entry(app: Any, world: Any) -> None:
    client, _ = login(app, world.coord_bridge)
    html = client.get("/sessions/mine").get_data(as_text=True)
    nav = html[html.index('<nav class="nav"'):html.index("</nav>")]
    assert '<a href="/sessions/checkin"' in nav and ">Điểm danh</a>" in nav


def test_the_checkin_app_is_installable(app: Any, world: Any) -> None:
    client, _ = login(app, world.coord_bridge)
    page = client.get(f"/sessions/{world.session.id}/checkin/{world.bridge.id}"
                      ).get_data(as_text=True)
    link = re.search(r'<link rel="manifest" href="([^"]+)"', page)
    assert link is not None
    response = client.get(link.group(1))
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["start_url"] == "/sessions/checkin"   # reopens on the live session
    assert manifest["scope"] == "/sessions/"
    assert manifest["display"] == "standalone"
    sizes = {i["sizes"] for i in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(i["purpose"] == "maskable" for i in manifest["icons"])
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as image:
            assert image.status_code == 200 and image.mimetype == "image/png"
            data = image.data
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


@pytest.mark.parametrize("who", ["organiser", "admin"])
def test_staff_do_not_get_a_checkin_menu_entry(app: Any, world: Any, who: str) -> None:
    client, _ = login(app, getattr(world, who))
    html = client.get("/sessions").get_data(as_text=True)
    nav = html[html.index('<nav class="nav"'):html.index("</nav>")]
    assert "/sessions/checkin" not in nav


def test_an_organiser_gets_the_host_sites_desk(app: Any, world: Any) -> None:
    client, _ = login(app, world.organiser)
    response = client.get("/sessions/checkin")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sessions/{world.session.id}/checkin/{world.host.id}"
