"""A walk-in named "... Thị ..." whose sex is left "not recorded" gets one gentle question
on the check-in page; choosing Female (or sending again) registers the person."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import PHONE, Pages, login
from tests.support_servers import Server, count_rows, load_world

pytestmark = [pytest.mark.browser, pytest.mark.processes]


def test_walkin_with_thi_and_no_sex_is_asked_once(e2e_server: tuple[Server, str, Path],
                                                  pages: Pages) -> None:
    from playwright.sync_api import expect

    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=2, at_b=0, at_host=0)
    server.start()
    phone = pages.page("phone", pages.context(**PHONE))
    login(phone, "coord_a")
    phone.goto(f"/sessions/{world.session_id}/checkin/{world.a_id}?lang=vi")
    expect(phone.get_by_test_id("checkin-app")).to_have_attribute("data-ready", "1")
    phone.locator("#walkin summary").click()
    hint = phone.get_by_test_id("walkin-thi")
    expect(hint).to_be_hidden()

    def walkins(name: str) -> list[tuple[str]]:
        return count_rows(url, "SELECT sex FROM participant WHERE full_name = :n", n=name)

    # "Lò Thị Mai", sex not recorded: the page asks, and sends nothing yet.
    phone.get_by_test_id("walkin-name").fill("Lò Thị Mai")
    phone.get_by_test_id("walkin-sex-unspecified").check()
    phone.get_by_test_id("walkin-submit").click()
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Tên có chữ “Thị”")
    assert walkins("Lò Thị Mai") == []
    # Choosing Female answers it; the walk-in is registered as a woman.
    phone.get_by_test_id("walkin-sex-female").check()
    expect(hint).to_be_hidden()
    phone.get_by_test_id("walkin-submit").click()
    expect(phone.get_by_test_id("confirmation-name")).to_have_text("Lò Thị Mai")
    expect(phone.get_by_test_id("confirmation")).to_have_attribute("data-kind", "ok")
    assert walkins("Lò Thị Mai") == [("female",)]

    # Asked once: sending again keeps "not recorded". A family name "Thị" alone is no cue.
    phone.locator("#walkin summary").click()
    phone.get_by_test_id("walkin-name").fill("Hà Thị Tuyết")
    phone.get_by_test_id("walkin-sex-unspecified").check()
    phone.get_by_test_id("walkin-submit").click()
    expect(hint).to_be_visible()
    phone.get_by_test_id("walkin-submit").click()
    expect(phone.get_by_test_id("confirmation-name")).to_have_text("Hà Thị Tuyết")
    phone.locator("#walkin summary").click()
    phone.get_by_test_id("walkin-name").fill("Vũ Thịnh")
    phone.get_by_test_id("walkin-sex-unspecified").check()
    phone.get_by_test_id("walkin-submit").click()
    expect(phone.get_by_test_id("confirmation-name")).to_have_text("Vũ Thịnh")
    expect(hint).to_be_hidden()
