"""The training day as its users live it, in a real browser on a 360 x 740 touch phone.

The coordinator: from the login form straight onto the site's check-in page, a person found by
name and checked in with one tap; the wrong person undone (and restored once); the list keeping
its place; the network gone and back. The trainee: from the session's public page (its QR
code) to a submitted quiz. The key screens are saved to test-artifacts/journey-*.png.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ARTIFACTS, LAPTOP, PHONE, Pages
from tests.support_servers import PASSWORD, Server, World, count_rows, load_world

pytestmark = [pytest.mark.browser, pytest.mark.processes]

LIVE_S = 10_000  # ms: the ceiling for what the page shows after a push or a send

# Site A: two names that start alike, two people with the same name, then enough people for
# the roster to scroll.
NAMES_AT_A: list[tuple[Any, ...]] = [
    ("Nguyễn Thị Thu Ly", "female", {"unit": "Xã Tạ Xá", "birth_year": 1981}),
    ("Nguyễn Thị Thu", "female", {"unit": "Xã Văn Khúc", "birth_year": 1975}),
    ("Nguyễn Văn Nam", "male", {"unit": "Xã Tạ Xá", "birth_year": 1968}),
    ("Nguyễn Văn Nam", "male", {"unit": "Xã Sơn Tình", "birth_year": 1990}),
]

# What may be tapped on a phone page, and is smaller than 44 x 44 CSS pixels.
SMALL_TARGETS = """() => {
  const out = [];
  const sel = 'button, a, .nav-toggle-label, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, summary, .ck-sex label';
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!r.width || !r.height || style.visibility === 'hidden') continue;
    // a link inside a sentence is exempt (WCAG 2.5.8); links standing alone are not
    if (el.tagName === 'A' && !el.classList.contains('button') && el.closest('p, li, td, dd') && el.closest('p, li, td, dd').textContent.trim() !== el.textContent.trim()) continue;
    if (el.classList.contains('skip')) continue;
    if (r.height < 44 || r.width < 44) out.push(`${el.tagName} ${el.id || el.textContent.trim().slice(0, 30)} ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return out;
}"""


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=False)


def start(e2e_server: tuple[Server, str, Path], **kw: Any) -> tuple[Server, str, World]:
    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, **kw)
    server.start()
    return server, url, world


def checked_in(url: str, world: World, participant_id: int) -> bool:
    rows = count_rows(url, "SELECT id FROM checkin WHERE session_id = :s AND participant_id = :p",
                      s=world.session_id, p=participant_id)
    return bool(rows)


def test_coordinator_from_login_to_checked_in_people_undo_and_offline(
        e2e_server: tuple[Server, str, Path], pages: Pages) -> None:
    from playwright.sync_api import expect

    server, url, world = start(e2e_server, at_a=40, names_at_a=NAMES_AT_A, at_b=2, at_host=2)
    ids = {(p["full_name"], i): p["id"] for i, p in enumerate(world.people["a"])}
    thu, thu_ly = ids[("Nguyễn Thị Thu", 1)], ids[("Nguyễn Thị Thu Ly", 0)]
    nam_1968, nam_1990 = ids[("Nguyễn Văn Nam", 2)], ids[("Nguyễn Văn Nam", 3)]

    ctx = pages.context(**PHONE)
    phone = pages.page("coordinator", ctx)
    phone.goto("/login?lang=vi")
    phone.fill("#username", "coord_a")
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit]")
    # Straight onto the site's check-in page of the live session: no tap on the way.
    phone.wait_for_url(f"**/sessions/{world.session_id}/checkin/{world.a_id}")
    expect(phone.get_by_test_id("checkin-app")).to_have_attribute("data-ready", "1")
    expect(phone.locator("link[rel=manifest]")).to_have_count(1)
    shot(phone, "coordinator-1-after-login")

    # The search: the exact name first, then the name that starts with it. One tap.
    search = phone.get_by_test_id("checkin-search")
    search.fill("nguyen thi thu")
    results = phone.get_by_test_id("result")
    expect(results.nth(0).locator(".ck-result-name")).to_have_text("Nguyễn Thị Thu")
    expect(results.nth(1).locator(".ck-result-name")).to_have_text("Nguyễn Thị Thu Ly")
    shot(phone, "coordinator-2-search")
    results.nth(0).tap()  # tap 1
    expect(phone.get_by_test_id("confirmation-name")).to_have_text("Nguyễn Thị Thu")
    expect(phone.get_by_test_id("confirmation")).to_have_attribute("data-kind", "ok",
                                                                   timeout=LIVE_S)
    assert checked_in(url, world, thu) and not checked_in(url, world, thu_ly)
    shot(phone, "coordinator-3-checked-in")

    # Same names: told apart by birth year and unit.
    search.fill("nguyen van nam")
    expect(results).to_have_count(2)
    expect(results.nth(0)).to_have_attribute("data-same-name", "1")
    metas = results.locator("[data-testid=result-meta]").all_inner_texts()
    assert [m.split(" · ")[:2] for m in metas] == [["sinh năm 1968", "Xã Tạ Xá"],
                                                  ["sinh năm 1990", "Xã Sơn Tình"]]

    # The wrong Nam: undo shows "Đã hủy · Khôi phục"; Restore keeps the check-in...
    results.nth(0).tap()
    expect(phone.get_by_test_id("confirmation")).to_have_attribute("data-kind", "ok",
                                                                   timeout=LIVE_S)
    phone.get_by_test_id("undo").tap()
    toast = phone.get_by_test_id("undo-toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Đã hủy · Khôi phục")
    shot(phone, "coordinator-4-undone-restore")
    phone.get_by_test_id("undo-restore").tap()
    expect(toast).to_be_hidden()
    row_1968 = phone.locator(f'[data-testid=roster-row][data-participant-id="{nam_1968}"]')
    expect(row_1968).to_have_attribute("data-present", "1")
    # ...and an undo left alone is sent after five seconds.
    phone.get_by_test_id("undo").tap()
    expect(toast).to_be_visible()
    expect(row_1968).to_have_attribute("data-present", "0")
    expect(toast).to_be_hidden(timeout=LIVE_S)
    expect(phone.get_by_test_id("pending-count")).to_have_attribute("data-count", "0",
                                                                      timeout=LIVE_S)
    assert not checked_in(url, world, nam_1968)
    search.fill("nguyen van nam")
    results.nth(1).tap()
    expect(phone.get_by_test_id("confirmation")).to_have_attribute("data-kind", "ok",
                                                                   timeout=LIVE_S)
    assert checked_in(url, world, nam_1990)

    # Far down the roster: check in and undo from the list, the page does not jump.
    far = phone.get_by_test_id("roster-row").nth(35)
    far.scroll_into_view_if_needed()
    assert phone.evaluate("window.scrollY") > 1000
    before = far.bounding_box()["y"]  # where the coordinator sees the row

    def stays() -> None:
        assert abs(far.bounding_box()["y"] - before) <= 2

    far.get_by_test_id("roster-action").tap()
    expect(far).to_have_attribute("data-present", "1")
    expect(phone.get_by_test_id("pending-count")).to_have_attribute("data-count", "0",
                                                                      timeout=LIVE_S)
    stays()
    far.get_by_test_id("roster-action").tap()
    expect(toast).to_be_visible()
    expect(far).to_have_attribute("data-present", "0")
    stays()
    shot(phone, "coordinator-5-undo-in-the-list")
    phone.get_by_test_id("undo-restore").tap()
    expect(far).to_have_attribute("data-present", "1")
    stays()

    # Tap targets on the phone page and in its menu.
    phone.evaluate("window.scrollTo(0, 0)")
    assert phone.evaluate(SMALL_TARGETS) == []
    phone.locator(".nav-toggle-label").tap()
    expect(phone.locator(".nav a[href='/sessions/checkin']")).to_be_visible()
    assert phone.evaluate(SMALL_TARGETS) == []
    shot(phone, "coordinator-6-menu")
    phone.locator(".nav-toggle-label").tap()

    # The network goes: a short pill and a line that wraps; the check-in waits on the phone.
    ctx.set_offline(True)
    net = phone.get_by_test_id("net-status")
    expect(net).to_have_attribute("data-state", "offline", timeout=LIVE_S)
    expect(net).to_have_text("Mất mạng")
    expect(phone.get_by_test_id("net-line")).to_be_visible()
    search.fill("nguyen thi thu ly")
    results.nth(0).tap()
    pending = phone.get_by_test_id("pending-count")
    expect(pending).to_have_attribute("data-count", "1")
    assert net.bounding_box()["width"] < 120
    line = phone.get_by_test_id("net-line").bounding_box()
    assert line["x"] >= 0 and line["x"] + line["width"] <= 360
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "coordinator-7-offline")
    # Back: online and "all sent" as soon as the queue is empty.
    ctx.set_offline(False)
    expect(pending).to_have_attribute("data-count", "0", timeout=LIVE_S)
    expect(pending).to_have_text("Đã gửi hết")
    expect(net).to_have_attribute("data-state", "online", timeout=LIVE_S)
    expect(net).to_have_text("Có mạng")
    expect(phone.get_by_test_id("net-line")).to_be_hidden()
    assert checked_in(url, world, thu_ly)
    shot(phone, "coordinator-8-back-online")

    # Opened from the home screen without a network: the check-in page kept on the phone.
    app = phone.get_by_test_id("checkin-app")
    expect(app).to_have_attribute("data-sw", "ready", timeout=LIVE_S)
    phone.reload()  # now under the service worker, which keeps the page for the app's start
    expect(app).to_have_attribute("data-ready", "1")
    expect(app).to_have_attribute("data-roster-saved", re.compile(r"\d+"))  # kept on the phone
    ctx.set_offline(True)
    phone.goto("/sessions/checkin")
    expect(app).to_have_attribute("data-site-id", str(world.a_id))
    expect(app).to_have_attribute("data-ready", "1")  # its scripts came from the phone too
    expect(phone.get_by_test_id("roster-row")).to_have_count(40)
    expect(phone.get_by_test_id("net-status")).to_have_attribute("data-state", "offline")
    expect(phone.get_by_test_id("count-present")).to_have_text("4")
    shot(phone, "coordinator-9-reopened-offline")
    ctx.set_offline(False)
    assert not pages.errors, pages.errors


def test_coordinator_on_a_laptop(e2e_server: tuple[Server, str, Path], pages: Pages) -> None:
    from playwright.sync_api import expect

    server, url, world = start(e2e_server, at_a=6, names_at_a=NAMES_AT_A, at_b=2, at_host=2)
    thu = next(p["id"] for p in world.people["a"] if p["full_name"] == "Nguyễn Thị Thu")
    laptop = pages.page("coordinator-laptop", pages.context(**LAPTOP))
    laptop.goto("/login?lang=vi")
    laptop.fill("#username", "coord_a")
    laptop.fill("#password", PASSWORD)
    laptop.click("button[type=submit]")
    laptop.wait_for_url(f"**/sessions/{world.session_id}/checkin/{world.a_id}")
    expect(laptop.get_by_test_id("checkin-app")).to_have_attribute("data-ready", "1")
    laptop.get_by_test_id("checkin-search").fill("nguyen thi thu")
    first = laptop.get_by_test_id("result").nth(0)
    expect(first.locator(".ck-result-name")).to_have_text("Nguyễn Thị Thu")
    first.click()
    expect(laptop.get_by_test_id("confirmation")).to_have_attribute("data-kind", "ok",
                                                                    timeout=LIVE_S)
    laptop.get_by_test_id("undo").click()
    expect(laptop.get_by_test_id("undo-toast")).to_contain_text("Đã hủy · Khôi phục")
    laptop.get_by_test_id("undo-restore").click()
    expect(laptop.get_by_test_id("undo-toast")).to_be_hidden()
    shot(laptop, "coordinator-laptop")
    assert checked_in(url, world, thu)
    assert not pages.errors, pages.errors


@pytest.mark.parametrize("device", ["phone", "laptop"])
def test_trainee_from_the_session_page_to_a_submitted_quiz(
        e2e_server: tuple[Server, str, Path], pages: Pages, device: str) -> None:
    from playwright.sync_api import expect

    server, url, world = start(e2e_server, quiz=True)
    trainee = world.people["b"][0]
    response = requests.post(
        f"{server.url}/api/v1/sessions/{world.session_id}/checkins",
        json={"site_id": world.b_id, "participant_id": trainee["id"],
              "client_id": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {world.organiser_token}"}, timeout=10)
    assert response.status_code == 201, response.text

    phone = pages.page("trainee", pages.context(**(PHONE if device == "phone" else LAPTOP)))

    def press(locator: Any) -> None:
        locator.tap() if device == "phone" else locator.click()

    phone.goto(f"/s/{world.session_id}?lang=vi")  # the session's QR code
    expect(phone.get_by_test_id("public-agenda")).to_be_visible()
    if device == "phone":
        assert phone.evaluate(SMALL_TARGETS) == []
    shot(phone, f"trainee-{device}-1-session-page")
    press(phone.get_by_test_id("quiz-link"))
    expect(phone.get_by_test_id("quiz-title")).to_have_text("Bài kiểm tra cuối buổi")
    start_button = phone.get_by_test_id("start")
    expect(start_button).to_have_text("Bắt đầu làm bài")
    if device == "phone":
        assert phone.evaluate(SMALL_TARGETS) == []
    phone.get_by_test_id("code").fill(trainee["code"].lower())
    shot(phone, f"trainee-{device}-2-start")
    press(start_button)
    expect(phone.get_by_test_id("question")).to_have_count(3)
    for option_ids in world.quiz_answers.values():
        for option_id in option_ids:
            press(phone.get_by_test_id(f"option-{option_id}"))
    shot(phone, f"trainee-{device}-3-answered")
    press(phone.get_by_test_id("submit"))
    expect(phone.get_by_test_id("result-panel")).to_be_visible()
    expect(phone.get_by_test_id("score")).to_have_text("3 / 3")
    shot(phone, f"trainee-{device}-4-submitted")
    stored = count_rows(url, "SELECT score, submitted_at FROM attempt WHERE quiz_id = :q "
                             "AND participant_id = :p", q=world.quiz_id, p=trainee["id"])
    assert len(stored) == 1 and stored[0].score == 3 and stored[0].submitted_at is not None
    assert not pages.errors, pages.errors
