"""The check-in pages through the Flask test client: who may open them, what they show, and
that they carry what their scripts need and nothing the CSP would refuse."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import render_template_string

from trainer.checkin import services
from trainer.dbtypes import utcnow

PAGES = ("checkin", "wall", "projector", "flagged")


def url(world: Any, page: str, site: Any = None) -> str:
    sid = world.session.id
    if page == "checkin":
        return f"/sessions/{sid}/checkin/{(site or world.bridge).id}"
    return f"/sessions/{sid}/{page}"


# --------------------------------------------------------------------------- who sees what

@pytest.mark.parametrize(("who", "page", "status"), [
    ("admin", "checkin", 200),
    ("organiser", "checkin", 200),
    ("coord_bridge", "checkin", 200),
    ("coord_host", "checkin", 403),     # a coordinator of another site of the session
    ("coord_other", "checkin", 403),    # a coordinator of a site outside the session
    ("organiser", "wall", 200),
    ("admin", "wall", 200),
    ("coord_bridge", "wall", 200),      # read-only, as Socket.IO `watch` allows
    ("coord_other", "wall", 403),
    ("organiser", "projector", 200),
    ("coord_host", "projector", 200),
    ("coord_other", "projector", 403),
    ("organiser", "flagged", 200),
    ("admin", "flagged", 200),
    ("coord_bridge", "flagged", 403),
])
def test_status_codes_per_role(world: Any, browser_as: Any, who: str, page: str,
                               status: int) -> None:
    response = browser_as(getattr(world, who)).get(url(world, page))
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    if status == 403:
        assert response.mimetype == "text/html"
        assert "<h1>" in body  # the friendly error page, not a bare answer


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_the_login_page(world: Any, browser_as: Any, page: str) -> None:
    response = browser_as(None).get(url(world, page))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_coordinator_of_another_site_sees_a_translated_403_page(world: Any,
                                                                  browser_as: Any) -> None:
    response = browser_as(world.coord_host).get(url(world, "checkin") + "?lang=en")
    assert response.status_code == 403
    assert "You coordinate other sites, not this one." in response.get_data(as_text=True)


def test_unknown_session_and_site_outside_the_session_are_404(world: Any,
                                                              browser_as: Any) -> None:
    organiser = browser_as(world.organiser)
    assert organiser.get(f"/sessions/{world.session.id}/checkin/{world.other.id}").status_code == 404
    assert organiser.get(f"/sessions/999999/checkin/{world.bridge.id}").status_code == 404
    assert organiser.get("/sessions/999999/wall").status_code == 404
    assert organiser.get("/sessions/999999/flagged").status_code == 404


# --------------------------------------------------------------------------- the check-in page

def test_checkin_page_carries_what_its_script_needs(world: Any, browser_as: Any,
                                                    page_scan: Any) -> None:
    response = browser_as(world.coord_bridge).get(url(world, "checkin"))
    assert response.status_code == 200
    page = page_scan(response.get_data(as_text=True))
    app_el = page.by_id("checkin-app")
    assert app_el is not None
    sid, site = world.session.id, world.bridge.id
    assert app_el["data-session-id"] == str(sid)
    assert app_el["data-site-id"] == str(site)
    assert app_el["data-site-name"] == "Huyện Hạ Hòa"
    assert app_el["data-roster-url"] == f"/api/v1/sessions/{sid}/roster?site_id={site}"
    assert app_el["data-checkins-url"] == f"/api/v1/sessions/{sid}/checkins"
    assert app_el["data-walkins-url"] == f"/api/v1/sessions/{sid}/walkins"
    assert app_el["data-status-url"] == f"/api/v1/sessions/{sid}/sites/{site}/status"
    assert app_el["data-rollcall-url"] == f"/api/v1/sessions/{sid}/rollcall/{site}"
    assert app_el["data-sw-url"] == "/sessions/checkin-sw.js"
    assert app_el["data-sw-scope"] == "/sessions/"
    assert app_el["data-jsqr-url"].endswith("/vendor/jsQR-1.4.0.js")
    assert app_el["data-timezone"] == "Asia/Ho_Chi_Minh"
    for testid in ("checkin-search", "confirmation", "undo", "pending-count", "net-status",
                   "results", "roster", "count-present", "count-registered", "count-absent",
                   "filter-present", "filter-absent", "walkin-form", "walkin-name",
                   "walkin-submit", "status-ready", "status-problem", "rollcall-banner",
                   "rollcall-confirm", "attention-list", "scan-button", "checkin-message"):
        assert page.by_testid(testid), testid
    search = page.by_testid("checkin-search")[0]
    assert "autofocus" in search
    metas = [a for t, a in page.elements if t == "meta" and a.get("name") == "csrf-token"]
    assert metas and metas[0]["content"]
    srcs = [s.get("src") or "" for s in page.scripts]
    assert any(s.endswith("/vendor/socket.io-4.8.1.min.js") for s in srcs)
    assert any(s.endswith("/js/checkin.js") for s in srcs)
    module = [s for s in page.scripts if (s.get("src") or "").endswith("/js/checkin.js")][0]
    assert module.get("type") == "module"


def test_checkin_page_lists_the_roster_with_counts(world: Any, browser_as: Any,
                                                   page_scan: Any) -> None:
    ha, duc, mai, _an = world.people
    services.check_in(world.organiser, world.session.id, site_id=world.bridge.id,
                      participant_id=ha.id)
    response = browser_as(world.coord_bridge).get(url(world, "checkin"))
    html = response.get_data(as_text=True)
    page = page_scan(html)
    rows = page.by_testid("roster-row")
    # Only the bridge site's people, in Vietnamese order of given names: Đức, Hà, Mai.
    assert [r["data-name"] for r in rows] == ["Trần Văn Đức", "Nguyễn Thị Hà", "Lê Thị Mai"]
    by_id = {r["data-participant-id"]: r for r in rows}
    assert by_id[str(ha.id)]["data-present"] == "1"
    assert by_id[str(ha.id)]["data-checkin-id"]
    assert by_id[str(ha.id)]["data-checked-in-at"]
    assert by_id[str(duc.id)]["data-present"] == "0"
    assert by_id[str(duc.id)]["data-code"] == duc.code
    assert by_id[str(mai.id)]["data-sex"] == "female"
    assert page.by_id("count-present") is not None
    assert 'data-testid="count-present">1<' in html
    assert 'data-testid="count-registered">3<' in html
    assert 'data-testid="count-absent">2<' in html
    assert "Phạm Văn An" not in html  # the host site's participant is not on this list


def test_names_with_markup_are_shown_as_text(world: Any, browser_as: Any,
                                             make_participant: Any, register: Any) -> None:
    evil = make_participant(world.bridge, "<script>alert(1)</script>", "female",
                            unit='"><img src=x onerror=alert(2)>')
    register(world.session, [evil])
    services.check_in(world.organiser, world.session.id, site_id=world.bridge.id,
                      participant_id=evil.id)
    html = browser_as(world.coord_bridge).get(url(world, "checkin")).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_site_name_with_markup_is_escaped_on_wall_and_projector(
        make_site: Any, make_user: Any, make_session: Any, browser_as: Any,
        page_scan: Any) -> None:
    host = make_site(code="H1", name="Host", kind="host")
    evil = make_site(code="EV", name="<b onmouseover=alert(1)>Xã</b>")
    session = make_session([host, evil])
    organiser = make_user("organiser")
    for page in ("wall", "projector"):
        html = browser_as(organiser).get(f"/sessions/{session.id}/{page}").get_data(as_text=True)
        assert "&lt;b onmouseover=alert(1)&gt;Xã&lt;/b&gt;" in html
        assert "<b onmouseover" not in html
        assert not page_scan(html).handlers


def test_rollcall_banner_shows_while_the_site_has_not_confirmed(world: Any, browser_as: Any,
                                                                page_scan: Any) -> None:
    coordinator = browser_as(world.coord_bridge)
    banner = page_scan(coordinator.get(url(world, "checkin")).get_data(as_text=True)
                       ).by_testid("rollcall-banner")[0]
    assert "hidden" in banner
    services.start_rollcall(world.organiser, world.session.id)
    page = page_scan(coordinator.get(url(world, "checkin")).get_data(as_text=True))
    assert "hidden" not in page.by_testid("rollcall-banner")[0]
    assert page.by_id("checkin-app")["data-rollcall-pending"] == "1"
    services.confirm_rollcall(world.coord_bridge, world.session.id, world.bridge.id)
    page = page_scan(coordinator.get(url(world, "checkin")).get_data(as_text=True))
    assert "hidden" in page.by_testid("rollcall-banner")[0]


def test_walkin_form_offers_the_sites_communes(world: Any, browser_as: Any) -> None:
    html = browser_as(world.coord_bridge).get(url(world, "checkin")).get_data(as_text=True)
    assert '<option value="Xã Ấm Hạ">' in html
    assert '<option value="Xã Gia Điền">' in html


def test_walkin_form_carries_the_prompt_for_a_name_with_thi(world: Any, browser_as: Any,
                                                           page_scan: Any) -> None:
    html = browser_as(world.coord_bridge).get(url(world, "checkin"),
                                              headers={"Accept-Language": "vi"}
                                              ).get_data(as_text=True)
    (hint,) = page_scan(html).by_testid("walkin-thi")
    assert "hidden" in hint  # shown by the page's script only when it applies
    assert "Tên có chữ “Thị”: học viên này là nữ?" in html


# --------------------------------------------------------------------------- wall and projector

def test_wall_tiles_show_the_counts_from_the_database(world: Any, browser_as: Any,
                                                      page_scan: Any) -> None:
    ha, duc, _mai, an = world.people
    for person, site in ((ha, world.bridge), (duc, world.bridge), (an, world.host)):
        services.check_in(world.organiser, world.session.id, site_id=site.id,
                          participant_id=person.id)
    html = browser_as(world.organiser).get(url(world, "wall")).get_data(as_text=True)
    page = page_scan(html)
    tiles = {t["data-site-id"]: t for t in page.by_testid("tile")}
    assert set(tiles) == {str(world.host.id), str(world.bridge.id)}
    bridge = tiles[str(world.bridge.id)]
    assert (bridge["data-present"], bridge["data-registered"]) == ("2", "3")
    assert (bridge["data-female"], bridge["data-male"], bridge["data-unspecified"]) == ("1", "1", "0")
    assert bridge["data-last-checkin-at"]
    host = tiles[str(world.host.id)]
    assert (host["data-present"], host["data-registered"]) == ("1", "1")
    assert 'data-testid="total-present">3<' in html
    assert 'data-testid="total-registered">4<' in html
    # Women and men present at the bridge site, as numbers: 1 and 1.
    bridge_html = html.split(f'data-site-id="{world.bridge.id}"', 1)[1].split("</article>", 1)[0]
    assert '<b data-field="female">1</b>' in bridge_html
    assert '<b data-field="male">1</b>' in bridge_html
    # Host first (the board's order), with its status badge.
    assert [t["data-site-id"] for t in page.by_testid("tile")][0] == str(world.host.id)
    assert page.by_id("wall")["data-version"] == str(services.attendance(world.session.id)["version"])
    assert page.by_testid("chart-row")


def test_wall_shows_site_status_and_rollcall(world: Any, browser_as: Any,
                                             page_scan: Any) -> None:
    services.page_connected(world.coord_bridge, world.session.id, world.bridge.id, "sid-1")
    services.set_site_status(world.coord_bridge, world.session.id, world.bridge.id, "issue",
                             "Mất tiếng <loa>")
    services.start_rollcall(world.organiser, world.session.id)
    services.confirm_rollcall(world.coord_bridge, world.session.id, world.bridge.id)
    html = browser_as(world.organiser).get(url(world, "wall") + "?lang=en").get_data(as_text=True)
    page = page_scan(html)
    tiles = {t["data-site-id"]: t for t in page.by_testid("tile")}
    assert tiles[str(world.bridge.id)]["data-status"] == "issue"
    assert tiles[str(world.bridge.id)]["data-connected"] == "1"
    assert tiles[str(world.host.id)]["data-status"] == "offline"
    assert tiles[str(world.host.id)]["data-connected"] == "0"
    assert tiles[str(world.host.id)]["data-state"] == "never"  # never opened its page
    assert "Mất tiếng &lt;loa&gt;" in html
    assert "Roll-call: 1 of 2 sites confirmed" in html
    assert page.by_testid("rollcall-start")


def test_coordinator_sees_the_wall_without_the_rollcall_button(world: Any, browser_as: Any,
                                                               page_scan: Any) -> None:
    page = page_scan(browser_as(world.coord_bridge).get(url(world, "wall")).get_data(as_text=True))
    assert page.by_testid("tile")
    assert not page.by_testid("rollcall-start")
    assert not page.by_testid("flagged-link")


def test_projector_has_no_navigation(world: Any, browser_as: Any, page_scan: Any) -> None:
    html = browser_as(world.organiser).get(url(world, "projector")).get_data(as_text=True)
    page = page_scan(html)
    assert not [a for t, a in page.elements if t == "header"]
    assert not [a for t, a in page.elements if t == "nav"]
    body = [a for t, a in page.elements if t == "body"][0]
    assert "projector" in (body.get("class") or "")
    assert page.by_id("wall")["data-mode"] == "projector"
    assert len(page.by_testid("tile")) == 2


# --------------------------------------------------------------------------- flagged list

def test_flagged_page_lists_offline_uploads_and_conflicts(world: Any, browser_as: Any,
                                                          page_scan: Any) -> None:
    ha, duc, _mai, _an = world.people
    earlier = utcnow() - timedelta(minutes=10)
    # Taken offline at the bridge site ten minutes ago, uploaded now: flagged.
    services.check_in(world.coord_bridge, world.session.id, site_id=world.bridge.id,
                      participant_id=duc.id, client_id=str(uuid.uuid4()), at=earlier)
    # Hà is at the bridge site; the host site's phone uploads an offline scan of her: conflict.
    services.check_in(world.organiser, world.session.id, site_id=world.bridge.id,
                      participant_id=ha.id)
    with pytest.raises(services.CheckedInElsewhere):
        services.check_in(world.organiser, world.session.id, site_id=world.host.id,
                          participant_id=ha.id, client_id=str(uuid.uuid4()), at=earlier)
    html = browser_as(world.organiser).get(url(world, "flagged") + "?lang=en").get_data(as_text=True)
    page = page_scan(html)
    rows = page.by_testid("flagged-row")
    assert sorted(r["data-kind"] for r in rows) == ["checkin", "issue"]
    assert "Trần Văn Đức" in html and "Late upload" in html and "Taken offline" in html
    assert "Already checked in at Huyện Hạ Hòa" in html
    assert 'data-testid="conflict-count">1<' in html
    assert "min after the device time" in html


def test_flagged_page_when_nothing_is_flagged(world: Any, browser_as: Any) -> None:
    html = browser_as(world.organiser).get(url(world, "flagged") + "?lang=en").get_data(as_text=True)
    assert "Nothing flagged." in html


# --------------------------------------------------------------------------- no inline scripts

@pytest.mark.parametrize("page", PAGES)
def test_no_inline_scripts_or_event_handlers(world: Any, browser_as: Any, page_scan: Any,
                                             page: str) -> None:
    services.start_rollcall(world.organiser, world.session.id)
    html = browser_as(world.organiser).get(url(world, page)).get_data(as_text=True)
    scanned = page_scan(html)
    assert all(s.get("src") for s in scanned.scripts), scanned.scripts
    assert not scanned.inline_script_text
    assert not scanned.handlers, scanned.handlers
    assert "javascript:" not in html


def test_service_worker_is_served_for_the_sessions_scope(world: Any, browser_as: Any) -> None:
    response = browser_as(None).get("/sessions/checkin-sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/sessions/"
    assert "no-cache" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    assert "/static/js/checkin.js" in body and "addEventListener(\"fetch\"" in body


def test_every_asset_the_service_worker_keeps_exists(world: Any, browser_as: Any) -> None:
    import re

    client = browser_as(None)
    body = client.get("/sessions/checkin-sw.js").get_data(as_text=True)
    assets = re.findall(r'"(/static/[^"]+)"', body)
    assert len(assets) >= 8
    for path in assets:
        response = client.get(path)
        status = response.status_code
        response.close()
        assert status == 200, path


# --------------------------------------------------------------------------- session panel

PANEL = '{% include "checkin/_session_panel.html" ignore missing %}'


def _panel(app: Any, browser_as: Any, user: Any, session: Any) -> str:
    client = browser_as(user)
    with client:
        client.get("/healthz")  # a request context with this user's session cookie
        from flask_login import login_user

        login_user(user)
        return render_template_string(PANEL, session=session)


def test_session_panel_for_organisers_links_every_page(app: Any, world: Any, browser_as: Any,
                                                       page_scan: Any) -> None:
    services.check_in(world.organiser, world.session.id, site_id=world.bridge.id,
                      participant_id=world.people[0].id)
    html = _panel(app, browser_as, world.organiser, world.session)
    page = page_scan(html)
    hrefs = [a.get("href") for t, a in page.elements if t == "a"]
    sid = world.session.id
    assert f"/sessions/{sid}/wall" in hrefs
    assert f"/sessions/{sid}/projector" in hrefs
    assert f"/sessions/{sid}/flagged" in hrefs
    assert f"/sessions/{sid}/checkin/{world.host.id}" in hrefs
    assert f"/sessions/{sid}/checkin/{world.bridge.id}" in hrefs
    sites = {s["data-site-id"] for s in page.by_testid("panel-site")}
    assert sites == {str(world.host.id), str(world.bridge.id)}
    assert "1 / 3" in html and "0 / 1" in html
    # who came, by sex, per site and in all (Nguyễn Thị Hà checked in at Hạ Hòa)
    split = re.findall(r'data-testid="panel-site-by-sex">([^<]*)<', html)
    assert sorted(split) == ["Women 0 · Men 0", "Women 1 · Men 0"]
    assert "(Women 1, Men 0)" in " ".join(html.split())


def test_session_panel_for_a_coordinator_shows_only_its_sites(app: Any, world: Any,
                                                              browser_as: Any,
                                                              page_scan: Any) -> None:
    html = _panel(app, browser_as, world.coord_bridge, world.session)
    page = page_scan(html)
    hrefs = [a.get("href") for t, a in page.elements if t == "a"]
    sid = world.session.id
    assert f"/sessions/{sid}/checkin/{world.bridge.id}" in hrefs
    assert f"/sessions/{sid}/checkin/{world.host.id}" not in hrefs
    assert f"/sessions/{sid}/flagged" not in hrefs
    assert f"/sessions/{sid}/wall" in hrefs


def test_session_panel_is_empty_for_a_coordinator_outside_the_session(
        app: Any, world: Any, browser_as: Any) -> None:
    html = _panel(app, browser_as, world.coord_other, world.session)
    assert "checkin-panel" not in html


def test_the_session_page_includes_the_panel(world: Any, browser_as: Any, page_scan: Any) -> None:
    response = browser_as(world.coord_bridge).get(f"/sessions/{world.session.id}")
    assert response.status_code == 200
    page = page_scan(response.get_data(as_text=True))
    assert page.by_testid("checkin-panel")
    assert {s["data-site-id"] for s in page.by_testid("panel-site")} == {str(world.bridge.id)}
    assert not page.handlers and all(s.get("src") for s in page.scripts)


def test_an_organiser_marks_a_refused_upload_as_seen(world: Any, browser_as: Any,
                                                     page_scan: Any) -> None:
    from sqlalchemy import select

    from trainer.extensions import db
    from trainer.sessions.models import CheckinIssue

    ha = world.people[0]
    services.check_in(world.organiser, world.session.id, site_id=world.host.id,
                      participant_id=ha.id)
    with pytest.raises(services.CheckedInElsewhere):  # an offline upload in conflict
        services.check_in(world.coord_bridge, world.session.id, site_id=world.bridge.id,
                          participant_id=ha.id, client_id=str(uuid.uuid4()),
                          at=utcnow() - timedelta(minutes=5))
    issue = db.session.scalar(select(CheckinIssue))
    assert issue is not None and issue.resolved_at is None
    coordinator = browser_as(world.coord_bridge)
    assert coordinator.post(f"/sessions/{world.session.id}/flagged/{issue.id}/seen").status_code == 403
    organiser = browser_as(world.organiser)
    page = page_scan(organiser.get(url(world, "flagged") + "?lang=en").get_data(as_text=True))
    assert page.by_testid("issue-seen-button")
    response = organiser.post(f"/sessions/{world.session.id}/flagged/{issue.id}/seen")
    assert response.status_code == 302
    html = organiser.get(url(world, "flagged") + "?lang=en").get_data(as_text=True)
    assert "Already checked in at Thành phố Việt Trì" in html
    assert 'data-testid="issue-seen"' in html
    assert organiser.post(f"/sessions/{world.session.id}/flagged/999999/seen").status_code == 404
