"""The organiser's day in a real browser, on a laptop and on a full-HD screen: from the home
page to the live wall in one click; sites that never opened their page are grey; a check-in
brings a site to life; a site reporting a problem flashes, sounds the alert and shows its note
in full; numbers are written the Vietnamese way (1.284); the projector shows the note large.
Screens are saved to test-artifacts/ for a person to look at."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ARTIFACTS, Pages, login
from tests.support_servers import Server, load_world

pytestmark = [pytest.mark.browser, pytest.mark.processes]

LIVE_S = 10_000
AT_B = 1284
NOTE = ("Mất tiếng ở hội trường: đang thay micro và kiểm tra bộ trộn âm thanh, "
        "dự kiến năm phút nữa có tiếng trở lại")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"organiser-{name}.png"))


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=["1366x768", "1920x1080"])
def test_organiser_goes_from_home_to_the_wall_and_sees_a_problem_site_alert(
        e2e_server: tuple[Server, str, Path], pages: Pages, size: tuple[int, int]) -> None:
    from playwright.sync_api import expect

    server, database_url, data_dir = e2e_server
    world = load_world(database_url, data_dir, at_a=4, at_b=AT_B, at_host=2)
    server.start()
    url = server.url
    tag = f"{size[0]}x{size[1]}"
    ctx = pages.context(viewport={"width": size[0], "height": size[1]})
    page = pages.page("organiser", ctx)
    login(page, "organiser")

    # Home: the live session with its screens; one click opens the wall.
    page.goto("/?lang=vi")  # Vietnamese, remembered for the visit
    live = page.get_by_test_id("live-session")
    expect(live).to_have_count(1)
    shot(page, f"home-{tag}")
    live.get_by_test_id("open-wall").click()
    page.wait_for_url(f"**/sessions/{world.session_id}/wall")
    expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "live")

    tile_a = page.locator(f'[data-testid=tile][data-site-id="{world.a_id}"]')
    tile_b = page.locator(f'[data-testid=tile][data-site-id="{world.b_id}"]')
    # Numbers the Vietnamese way.
    expect(tile_b.locator("[data-field=registered]")).to_have_text("1.284")
    expect(page.get_by_test_id("total-registered")).to_have_text(f"{4 + AT_B + 2:,}".replace(",", "."))
    # No site has opened its page: grey, "Chưa mở".
    expect(tile_a).to_have_attribute("data-state", "never")
    expect(tile_a.get_by_test_id("tile-status")).to_have_text("Chưa mở")

    page.get_by_test_id("sound-toggle").click()
    expect(page.get_by_test_id("wall")).to_have_attribute("data-sound", "1")

    # A check-in at site A (a phone over plain HTTP, no page open) is a sign of life.
    auth = {"Authorization": f"Bearer {world.coord_token}"}
    person = world.people["a"][0]
    response = requests.post(f"{url}/api/v1/sessions/{world.session_id}/checkins",
                             json={"participant_id": person["id"], "site_id": world.a_id,
                                   "client_id": str(uuid.uuid4())}, headers=auth, timeout=10)
    assert response.status_code == 201, response.text
    expect(tile_a.locator("[data-field=present]")).to_have_text("1", timeout=LIVE_S)
    expect(tile_a).to_have_attribute("data-state", "online", timeout=LIVE_S)
    expect(tile_a.locator("[data-field=female], [data-field=male]")).to_have_text(
        ["1", "0"] if person["sex"] == "female" else ["0", "1"])
    expect(page.get_by_test_id("feed-item").first).to_contain_text(person["full_name"],
                                                                    timeout=LIVE_S)

    # Site A reports a problem: the tile flashes, the alert sounds, the note reads in full.
    response = requests.post(f"{url}/api/v1/sessions/{world.session_id}/sites/{world.a_id}/status",
                             json={"status": "issue", "note": NOTE}, headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    expect(tile_a).to_have_attribute("data-state", "issue", timeout=LIVE_S)
    expect(tile_a).to_have_class(re.compile(r"\btile-alert\b"))
    expect(tile_a).to_have_class(re.compile(r"\btile-flash\b"))
    wall = page.get_by_test_id("wall")
    expect(wall).to_have_attribute("data-alerts", "1")
    expect(wall).to_have_attribute("data-sounds-played", "1")
    expect(tile_a.get_by_test_id("tile-status")).to_have_text("Có sự cố")
    note = tile_a.get_by_test_id("tile-note")
    expect(note).to_have_attribute("title", NOTE)
    note.click()
    expect(note).to_have_attribute("aria-expanded", "true")
    expect(note).to_have_text(NOTE)
    box = note.bounding_box()
    assert box is not None and box["height"] > 30  # wraps onto several lines, nothing cut
    shot(page, f"wall-{tag}")

    # The projector: the note large, under the tiles.
    page.goto(f"/sessions/{world.session_id}/projector")
    notes = page.get_by_test_id("projector-notes")
    expect(notes).to_contain_text(NOTE)
    size_px = float(notes.evaluate("n => parseFloat(getComputedStyle(n).fontSize)"))
    assert size_px >= 17
    expect(page.locator(f'[data-testid=tile][data-site-id="{world.b_id}"] [data-field=registered]')
           ).to_have_text("1.284")
    shot(page, f"projector-{tag}")
    tile_a = page.locator(f'[data-testid=tile][data-site-id="{world.a_id}"]')
    expect(tile_a).to_have_class(re.compile(r"\btile-alert\b"))

    # Fixed: back to ready, the flashing stops and the note goes, live on the projector.
    response = requests.post(f"{url}/api/v1/sessions/{world.session_id}/sites/{world.a_id}/status",
                             json={"status": "online"}, headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    expect(tile_a).to_have_attribute("data-state", "online", timeout=LIVE_S)
    expect(tile_a).not_to_have_class(re.compile(r"\btile-(alert|flash)\b"))
    expect(tile_a.get_by_test_id("tile-note")).to_be_hidden()
    expect(notes).to_be_hidden()
    assert not pages.errors


def test_quiz_statistics_grow_on_the_room_screen_while_the_quiz_is_open(
        e2e_server: tuple[Server, str, Path], pages: Pages) -> None:
    from playwright.sync_api import expect

    server, database_url, data_dir = e2e_server
    world = load_world(database_url, data_dir, at_a=4, at_b=2, at_host=2, quiz=True)
    server.start()
    url = server.url
    organiser = {"Authorization": f"Bearer {world.organiser_token}"}
    questions = list(world.quiz_answers)

    def take(person: dict[str, Any], right: int) -> None:
        """Check the person in, then answer the first `right` questions right, the rest not
        at all, and submit."""
        response = requests.post(f"{url}/api/v1/sessions/{world.session_id}/checkins",
                                 json={"participant_id": person["id"], "site_id": world.a_id,
                                       "client_id": str(uuid.uuid4())},
                                 headers=organiser, timeout=10)
        assert response.status_code == 201, response.text
        started = requests.post(f"{url}/api/v1/quizzes/{world.quiz_id}/attempts",
                                json={"participant_code": person["code"]}, timeout=10)
        assert started.status_code in (200, 201), started.text
        body = started.json()
        token = {"X-Attempt-Token": body["token"]}
        answers = {str(q): world.quiz_answers[q] for q in questions[:right]}
        saved = requests.put(f"{url}/api/v1/attempts/{body['attempt_id']}/answers",
                             json={"answers": answers}, headers=token, timeout=10)
        assert saved.status_code == 200, saved.text
        done = requests.post(f"{url}/api/v1/attempts/{body['attempt_id']}/submit",
                             headers=token, timeout=10)
        assert done.status_code == 200, done.text

    ctx = pages.context(viewport={"width": 1920, "height": 1080})
    page = pages.page("screen", ctx)
    login(page, "organiser")
    page.goto(f"/quizzes/{world.quiz_id}/screen?lang=vi")
    expect(page.get_by_test_id("stats-empty")).to_be_visible()
    people = world.people["a"]
    take(people[0], 3)   # 100 %
    take(people[1], 1)   # 33 %
    stats = page.get_by_test_id("quiz-stats")
    expect(stats).to_have_attribute("data-submitted", "2", timeout=25_000)  # pushed, then fetched
    bars = page.get_by_test_id("question-bar")
    expect(bars).to_have_count(3)
    expect(bars.first.get_by_test_id("right-share")).to_have_text("100 %")
    expect(bars.nth(1).get_by_test_id("right-share")).to_have_text("50 %")
    expect(page.locator('[data-testid=hist-bin][data-lo="90"]')).to_have_attribute("data-total", "1")
    expect(page.locator('[data-testid=hist-bin][data-lo="30"]')).to_have_attribute("data-total", "1")
    shot(page, "quiz-screen-1920x1080")

    results = pages.page("results", pages.context(viewport={"width": 1366, "height": 768}))
    login(results, "organiser")
    results.goto(f"/quizzes/{world.quiz_id}/results?lang=vi")
    expect(results.get_by_test_id("histogram")).to_be_visible()
    results.get_by_test_id("histogram").scroll_into_view_if_needed()
    shot(results, "quiz-results-1366x768")
    assert not pages.errors
