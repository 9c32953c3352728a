"""End to end in a real browser.

An organiser watches the live wall on a laptop while a site coordinator checks people in on a
phone: online, then with the phone's network gone, then back. A trainee takes the quiz on a
phone. Waits are on what the page shows (expect(...) with a timeout), never on the clock.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LAPTOP, PHONE, Pages, login
from tests.support_servers import Server, World, count_rows, load_world

pytestmark = [pytest.mark.browser, pytest.mark.processes]

LIVE_S = 10_000  # ms: a push reaches the wall in well under a second; this is the ceiling

# Site A's roster: the coordinator finds the first two by name typed without diacritics, the
# third by code; then, offline, one by code and one by name.
NAMES_AT_A = [("Nguyễn Thị Hà", "female"), ("Đặng Văn Đức", "male"), ("Trần Thị Lan", "female"),
              ("Lê Văn Minh", "male"), ("Phạm Thị Ngọc", "female"), ("Hoàng Văn Sơn", "male"),
              ("Vũ Thị Yến", "female")]


def person(world: World, name: str) -> dict[str, Any]:
    return next(p for p in world.people["a"] if p["full_name"] == name)


def start(e2e_server: tuple[Server, str, Path], **kw: Any) -> tuple[Server, str, World]:
    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, **kw)
    server.start()
    return server, url, world


def test_wall_follows_a_phone_checking_in_online_then_offline(
        e2e_server: tuple[Server, str, Path], pages: Pages) -> None:
    from playwright.sync_api import expect

    server, url, world = start(e2e_server, at_a=len(NAMES_AT_A), names_at_a=NAMES_AT_A,
                               at_b=3, at_host=2)
    registered = len(NAMES_AT_A) + 3 + 2
    assert registered == 12

    # The organiser's wall, on a laptop.
    wall = pages.page("wall", pages.context(**LAPTOP))
    login(wall, "organiser")
    wall.goto(f"/sessions/{world.session_id}/wall")
    expect(wall.get_by_test_id("live-state")).to_have_attribute("data-state", "live")
    wall.evaluate("window.__notReloaded = true")
    tile_a = wall.locator(f'[data-testid=tile][data-site-id="{world.a_id}"]')
    totals = wall.get_by_test_id("totals")

    def wall_shows(present_a: int, present: int, female: int, male: int) -> None:
        expect(tile_a.locator("[data-field=present]")).to_have_text(str(present_a), timeout=LIVE_S)
        expect(tile_a.locator("[data-field=registered]")).to_have_text(str(len(NAMES_AT_A)))
        expect(wall.get_by_test_id("total-present")).to_have_text(str(present), timeout=LIVE_S)
        expect(wall.get_by_test_id("total-registered")).to_have_text(str(registered))
        expect(totals.locator("[data-total=female]")).to_have_text(str(female), timeout=LIVE_S)
        expect(totals.locator("[data-total=male]")).to_have_text(str(male), timeout=LIVE_S)

    wall_shows(0, 0, 0, 0)

    # The coordinator of site A, on a phone.
    phone_ctx = pages.context(**PHONE)
    phone = pages.page("phone", phone_ctx)
    login(phone, "coord_a")
    phone.goto(f"/sessions/{world.session_id}/checkin/{world.a_id}")
    app = phone.get_by_test_id("checkin-app")
    expect(app).to_have_attribute("data-ready", "1")
    expect(phone.get_by_test_id("roster-row")).to_have_count(len(NAMES_AT_A))
    search = phone.get_by_test_id("checkin-search")
    confirmation = phone.get_by_test_id("confirmation")

    def by_name(typed: str, full_name: str) -> None:
        search.fill(typed)
        result = phone.get_by_test_id("result").filter(has_text=full_name)
        expect(result).to_have_count(1)
        result.tap()
        expect(phone.get_by_test_id("confirmation-name")).to_have_text(full_name)

    def by_code(full_name: str) -> None:
        search.fill(person(world, full_name)["code"])
        search.press("Enter")
        expect(phone.get_by_test_id("confirmation-name")).to_have_text(full_name)

    def row(full_name: str) -> Any:
        return phone.get_by_test_id("roster-row").filter(has_text=full_name)

    by_name("nguyen thi ha", "Nguyễn Thị Hà")
    expect(confirmation).to_have_attribute("data-kind", "ok")
    by_name("dang van duc", "Đặng Văn Đức")  # đ typed as d
    expect(confirmation).to_have_attribute("data-kind", "ok")
    by_code("Trần Thị Lan")
    expect(confirmation).to_have_attribute("data-kind", "ok")
    expect(phone.get_by_test_id("count-present")).to_have_text("3")
    wall_shows(3, 3, female=2, male=1)

    # The phone loses its network: two more are checked in and wait on the phone.
    phone_ctx.set_offline(True)
    expect(phone.get_by_test_id("net-status")).to_have_attribute("data-state", "offline")
    by_code("Lê Văn Minh")
    by_name("pham thi ngoc", "Phạm Thị Ngọc")
    pending = phone.get_by_test_id("pending-count")
    expect(pending).to_have_attribute("data-count", "2")
    expect(pending).to_contain_text("2 waiting")
    expect(row("Phạm Thị Ngọc")).to_have_attribute("data-present", "1")
    expect(phone.get_by_test_id("count-present")).to_have_text("5")
    # Nothing of it reached the server yet; the wall still shows three.
    attendance = requests.get(
        f"{server.url}/api/v1/sessions/{world.session_id}/attendance",
        headers={"Authorization": f"Bearer {world.organiser_token}"}, timeout=10).json()
    assert attendance["totals"]["present"] == 3
    wall_shows(3, 3, female=2, male=1)

    # The network comes back: the phone sends what waited, the wall shows all five.
    phone_ctx.set_offline(False)
    expect(pending).to_have_attribute("data-count", "0", timeout=LIVE_S)
    expect(phone.get_by_test_id("net-status")).to_have_attribute("data-state", "online",
                                                                  timeout=LIVE_S)
    wall_shows(5, 5, female=3, male=2)
    assert wall.evaluate("window.__notReloaded") is True  # updated in place, never reloaded
    expect(wall.get_by_test_id("live-state")).to_have_attribute("data-state", "live")

    # Stored once each: five check-ins at site A, the two taken offline with the phone's time.
    rows = count_rows(url, "SELECT participant_id, site_id, device_at FROM checkin "
                           "WHERE session_id = :s", s=world.session_id)
    assert len(rows) == 5 and {r.site_id for r in rows} == {world.a_id}
    by_id = {p["id"]: p["full_name"] for p in world.people["a"]}
    assert {by_id[r.participant_id] for r in rows} == {n for n, _ in NAMES_AT_A[:5]}
    offline = {by_id[r.participant_id] for r in rows if r.device_at is not None}
    assert offline == {"Lê Văn Minh", "Phạm Thị Ngọc"}
    assert not pages.errors, pages.errors


def test_trainee_takes_the_quiz_on_a_phone(e2e_server: tuple[Server, str, Path],
                                           pages: Pages) -> None:
    from playwright.sync_api import expect

    server, url, world = start(e2e_server, quiz=True)
    trainee = world.people["b"][0]
    response = requests.post(
        f"{server.url}/api/v1/sessions/{world.session_id}/checkins",
        json={"site_id": world.b_id, "participant_id": trainee["id"],
              "client_id": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {world.organiser_token}"}, timeout=10)
    assert response.status_code == 201, response.text

    phone = pages.page("trainee", pages.context(**PHONE))
    phone.goto(f"/q/{world.quiz_short_code}")
    expect(phone.get_by_test_id("quiz-title")).to_have_text("Bài kiểm tra cuối buổi")
    phone.get_by_test_id("code").fill(trainee["code"].lower())  # as typed on a phone keyboard
    phone.get_by_test_id("start").tap()
    questions = phone.get_by_test_id("question")
    expect(questions).to_have_count(3)
    expect(phone.get_by_test_id("who")).to_contain_text(trainee["full_name"])
    for option_ids in world.quiz_answers.values():
        for option_id in option_ids:
            phone.get_by_test_id(f"option-{option_id}").tap()
    expect(phone.get_by_test_id("progress")).to_contain_text("3")
    phone.get_by_test_id("submit").tap()

    result = phone.get_by_test_id("result-panel")
    expect(result).to_be_visible()
    expect(phone.get_by_test_id("score")).to_have_text("3 / 3")
    expect(phone.get_by_test_id("percent")).to_have_text("100%")
    expect(phone.get_by_test_id("verdict")).to_have_attribute("data-passed", "true")
    expect(phone.get_by_test_id("review-question")).to_have_count(3)

    stored = count_rows(url, "SELECT participant_id, score, max_score, passed, submitted_at "
                             "FROM attempt WHERE quiz_id = :q", q=world.quiz_id)
    assert len(stored) == 1
    attempt = stored[0]
    assert attempt.participant_id == trainee["id"] and attempt.score == 3
    assert attempt.max_score == 3 and attempt.passed and attempt.submitted_at is not None
    assert not pages.errors, pages.errors
