"""What a walk through the product as its users found, kept from coming back: a coordinator's
walk-in confirmation in view on a 360 px phone and their sessions as cards; the quiz
statistics within the screen at 1366x768 and 1920x1080 when a question is long; the
projector's tiles whole at 1366x768; a material's versions given room; a trainee's buttons big
enough to tap."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import PHONE, Pages, login
from tests.support_servers import Server, load_world, loader_app

pytestmark = [pytest.mark.browser, pytest.mark.processes]

LONG_QUESTION = ("Theo Quy chế tổ chức và hoạt động của Trung tâm học tập cộng đồng tại xã, "
                 "phường, thị trấn ban hành năm 2008 và được sửa đổi, bổ sung năm 2010, những "
                 "nhiệm vụ nào sau đây thuộc về Trung tâm học tập cộng đồng khi tổ chức các lớp "
                 "xóa mù chữ, giáo dục tiếp tục sau khi biết chữ và chuyển giao khoa học kỹ thuật?")

FITS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def test_walkin_confirmation_is_shown_below_the_search_bar(
        e2e_server: tuple[Server, str, Path], pages: Pages) -> None:
    """The walk-in form sits below the fold and closes once sent: the confirmation at the top
    must be brought into view, not left under the sticky search bar."""
    from playwright.sync_api import expect

    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=30, at_b=0, at_host=0)
    server.start()
    phone = pages.page("phone", pages.context(**PHONE))
    login(phone, "coord_a")
    phone.goto(f"/sessions/{world.session_id}/checkin/{world.a_id}?lang=vi")
    expect(phone.get_by_test_id("checkin-app")).to_have_attribute("data-ready", "1")
    # The search field's hint is read whole ("Họ tên, mã hoặc quét mã" was cut at "que").
    room, text = phone.get_by_test_id("checkin-search").evaluate("""(el) => {
        const style = getComputedStyle(el);
        const ctx = document.createElement("canvas").getContext("2d");
        ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return [room, ctx.measureText(el.placeholder).width]; }""")
    assert text <= room, (text, room)
    expect(phone.get_by_test_id("scan-button")).to_contain_text("Quét mã")
    phone.locator("#walkin summary").tap()
    phone.get_by_test_id("walkin-name").fill("Phan Thị Thu Hoài")
    phone.get_by_test_id("walkin-sex-female").check()
    phone.get_by_test_id("walkin-unit").fill("Xã Ấm Hạ")
    phone.evaluate("window.scrollBy(0, 400)")  # the phone's keyboard pushes the page up
    phone.get_by_test_id("walkin-submit").tap()
    expect(phone.get_by_test_id("confirmation-name")).to_have_text("Phan Thị Thu Hoài")
    box = phone.get_by_test_id("confirmation").bounding_box()
    bar = phone.locator("#search-form").bounding_box()
    assert box is not None and bar is not None
    assert box["y"] >= bar["y"] + bar["height"] - 1, (box, bar)  # not under the search bar
    assert box["y"] + box["height"] <= 740, box  # and not below the screen


def _long_first_question(url: str, data_dir: Path, quiz_id: int) -> None:
    from trainer.extensions import db
    from trainer.quizzes.models import Question, QuizItem

    app = loader_app(url, data_dir)
    with app.app_context():
        item = db.session.scalars(db.select(QuizItem).where(QuizItem.quiz_id == quiz_id)
                                  .order_by(QuizItem.position)).first()
        assert item is not None
        question = db.session.get(Question, item.question_id)
        assert question is not None
        question.text = LONG_QUESTION
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(("size", "path"), [((1366, 768), "results"), ((1920, 1080), "screen")],
                         ids=["results-1366x768", "screen-1920x1080"])
def test_quiz_statistics_with_a_long_question_fit_the_screen(
        e2e_server: tuple[Server, str, Path], pages: Pages, size: tuple[int, int],
        path: str) -> None:
    """A long question is cut with "…" in its bar's label; the page never scrolls sideways
    (it did: the bars of the per-question statistics ran 1,000 px off the projector)."""
    from playwright.sync_api import expect

    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=2, at_b=0, at_host=0, quiz=True)
    assert world.quiz_id is not None
    _long_first_question(url, data_dir, world.quiz_id)
    server.start()
    page = pages.page("organiser", pages.context(viewport={"width": size[0], "height": size[1]}))
    login(page, "organiser")
    page.goto(f"/quizzes/{world.quiz_id}/{path}?lang=vi")
    expect(page.get_by_test_id("question-bar").first).to_contain_text("Theo Quy chế")
    scroll_width, client_width = page.evaluate(FITS)
    assert scroll_width <= client_width, (scroll_width, client_width)
    value = page.get_by_test_id("right-share").first.bounding_box()
    assert value is not None and value["x"] + value["width"] <= size[0], value



DISTRICTS = ["Huyện Hạ Hòa", "Huyện Lâm Thao", "Huyện Phù Ninh", "Huyện Tam Nông",
             "Huyện Tân Sơn", "Huyện Thanh Ba", "Huyện Thanh Sơn", "Huyện Thanh Thủy",
             "Huyện Yên Lập", "Thị xã Phú Thọ"]


def _thirteen_sites_heard_from_a_while_ago(url: str, data_dir: Path, session_id: int) -> None:
    """The demo province's 13 bridge points on trainer's own video room, every page last heard
    from ten minutes ago ("lost", with the time of the last contact: the longest status line of
    a tile; and a line for the video state)."""
    from datetime import timedelta

    from trainer.dbtypes import utcnow
    from trainer.extensions import db
    from trainer.sessions.models import SessionSite, TrainingSession
    from trainer.sites.services import create_site

    app = loader_app(url, data_dir)
    with app.app_context():
        session = db.session.get(TrainingSession, session_id)
        assert session is not None
        session.conference_provider = "builtin"
        for n, name in enumerate(DISTRICTS):
            site = create_site(None, code=f"D{n}", name=name)
            db.session.add(SessionSite(session_id=session_id, site_id=site.id))
        db.session.commit()
        seen = utcnow() - timedelta(minutes=10)
        for row in db.session.scalars(db.select(SessionSite)
                                      .where(SessionSite.session_id == session_id)):
            row.page_seen_at = seen
            if row.site.name == "Huyện Thanh Sơn":
                row.status_note = "Mất tiếng từ điểm cầu chính, đang kiểm tra loa."
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_projector_tiles_are_whole_on_a_laptop(e2e_server: tuple[Server, str, Path],
                                               pages: Pages) -> None:
    """13 bridge points on the laptop's 1366x768 projector output: every tile shows all its
    lines (they were cut at the bottom: the video state and a site's note hidden or squeezed to
    half a line)."""
    from playwright.sync_api import expect

    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=3, at_b=2, at_host=1)
    _thirteen_sites_heard_from_a_while_ago(url, data_dir, world.session_id)
    server.start()
    page = pages.page("projector", pages.context(viewport={"width": 1366, "height": 768}))
    login(page, "organiser")
    page.goto(f"/sessions/{world.session_id}/projector?lang=vi")
    expect(page.get_by_test_id("tile")).to_have_count(13)
    expect(page.locator("[data-testid=tile][data-state=lost]")).to_have_count(13)
    cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid=tile]')]
        .filter((el) => [el, ...el.children].some((part) => !part.hidden && part.clientHeight > 0
                                                   && part.scrollHeight > part.clientHeight + 1))
        .map((el) => el.querySelector('.tile-name').textContent.trim())""")
    assert cut == []
    note = page.locator("[data-testid=tile] button.tile-note:visible")
    expect(note).to_have_count(1)


PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def test_material_page_gives_the_versions_room_on_a_laptop(
        e2e_server: tuple[Server, str, Path], pages: Pages) -> None:
    """The versions of a file take the wider share of the page beside the downloads by site,
    their dates and uploader in full (each card had a quarter of the page, the dates cut)."""
    import io

    from trainer.extensions import db
    from trainer.materials import services

    server, url, data_dir = e2e_server
    load_world(url, data_dir, at_a=1, at_b=0, at_host=0)
    app = loader_app(url, data_dir)
    with app.app_context():
        material = services.create_file(None, io.BytesIO(PDF), "Sổ tay quản lý TTHTCĐ.pdf",
                                        {"topic": "management", "visibility": "staff"})
        material_id = material.id
        db.session.remove()
        db.engine.dispose()
    server.start()
    page = pages.page("organiser", pages.context(viewport={"width": 1366, "height": 768}))
    login(page, "organiser")
    page.goto(f"/materials/{material_id}?lang=vi")
    grid = page.get_by_test_id("material-stats").bounding_box()
    versions = page.get_by_test_id("material-versions")
    box = versions.bounding_box()
    assert grid is not None and box is not None
    assert box["width"] >= 0.55 * grid["width"], (box, grid)
    wrap = versions.locator(".table-wrap").evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert wrap[0] <= wrap[1], wrap


def test_my_sessions_fit_a_phone(e2e_server: tuple[Server, str, Path], pages: Pages) -> None:
    """A coordinator's sessions on a 360 px phone: one card each, the status in view (seven
    squeezed columns put it and the join links off the right edge); the session page's panel
    links 44 px tall; the materials library without sideways scrolling."""
    from playwright.sync_api import expect

    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=2, at_b=0, at_host=0)
    server.start()
    phone = pages.page("phone", pages.context(**PHONE))
    login(phone, "coord_a")
    phone.goto("/sessions/mine?lang=vi")
    status = phone.locator(".sessions-table .badge.live")
    expect(status).to_have_text("Đang diễn ra")
    box = status.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360, box
    expect(phone.locator(".sessions-table td[data-label]").first).to_be_visible()
    width = phone.locator(".sessions-table").evaluate("(el) => el.parentElement.scrollWidth")
    assert width <= 360, width
    # The session page's panels: every link a thumb can hit.
    phone.goto(f"/sessions/{world.session_id}?lang=vi")
    small = phone.evaluate("""() => [...document.querySelectorAll('.session-panels a')]
        .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
        .map((el) => el.textContent.trim())""")
    assert small == []
    # The library's filters: a session's full title in a select no longer widens the page.
    phone.goto("/materials?lang=vi")
    expect(phone.locator("select[name=session_id] option")).to_have_count(2)
    scroll_width, client_width = phone.evaluate(FITS)
    assert scroll_width <= client_width, (scroll_width, client_width)


def test_a_trainees_buttons_are_big_enough_to_tap(e2e_server: tuple[Server, str, Path],
                                                   pages: Pages) -> None:
    """The quiz on a phone, from the code to the result: every button and link a trainee taps
    is at least 44 px tall ("Another participant on this phone" was 23 px)."""
    from playwright.sync_api import expect

    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=2, at_b=0, at_host=0, quiz=True)
    server.start()
    trainee = world.people["a"][0]
    response = requests.post(
        f"{server.url}/api/v1/sessions/{world.session_id}/checkins",
        json={"site_id": world.a_id, "participant_id": trainee["id"],
              "client_id": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {world.organiser_token}"}, timeout=10)
    assert response.status_code == 201, response.text
    phone = pages.page("trainee", pages.context(**PHONE))
    phone.goto(f"/q/{world.quiz_short_code}?lang=vi")
    phone.get_by_test_id("code").fill(trainee["code"])
    phone.get_by_test_id("start").tap()
    questions = phone.locator("fieldset")
    expect(questions).to_have_count(3)
    for n in range(3):
        questions.nth(n).locator("label").first.tap()
    phone.get_by_test_id("submit").tap()
    expect(phone.get_by_test_id("another")).to_be_visible()
    small = phone.evaluate("""() => [...document.querySelectorAll('main button, main a, summary')]
        .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
        .map((el) => el.textContent.trim().slice(0, 40))""")
    assert small == []


def test_the_site_table_of_a_session_fits_a_laptop(e2e_server: tuple[Server, str, Path],
                                                    pages: Pages) -> None:
    """The session page's site table at 1366x768 with chairs, present counts and the
    organiser's links: no sideways scrolling to reach "Chair and coordinators"."""
    from trainer.extensions import db
    from trainer.sessions.models import SessionSite

    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=3, at_b=2, at_host=1)
    app = loader_app(url, data_dir)
    with app.app_context():
        for row in db.session.scalars(db.select(SessionSite)
                                      .where(SessionSite.session_id == world.session_id)):
            row.chair_name = "Nguyễn Thị Thu Hằng"
            row.chair_title = "Phó Chủ tịch Ủy ban nhân dân huyện"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    server.start()
    person = world.people["a"][0]
    response = requests.post(f"{server.url}/api/v1/sessions/{world.session_id}/checkins",
                             json={"participant_id": person["id"], "site_id": world.a_id,
                                   "client_id": str(uuid.uuid4())},
                             headers={"Authorization": f"Bearer {world.organiser_token}"},
                             timeout=10)
    assert response.status_code == 201, response.text  # the "present" columns appear
    page = pages.page("organiser", pages.context(viewport={"width": 1366, "height": 768}))
    login(page, "organiser")
    page.goto(f"/sessions/{world.session_id}?lang=vi")
    wrap = page.locator(".sites-table").evaluate(
        "(el) => [el.parentElement.scrollWidth, el.parentElement.clientWidth]")
    assert wrap[0] <= wrap[1], wrap


def test_wall_tiles_show_whole_site_names_on_a_full_hd_screen(
        e2e_server: tuple[Server, str, Path], pages: Pages) -> None:
    """The wall's narrow tiles at 1920x1080 cut "Thành phố Việt Trì ★" to "Thành phố Việt
    Tr…": a name now takes a second line instead. The sort choice is shown whole."""
    from playwright.sync_api import expect

    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=2, at_b=2, at_host=2)
    server.start()
    page = pages.page("wall", pages.context(viewport={"width": 1920, "height": 1080}))
    login(page, "organiser")
    page.goto(f"/sessions/{world.session_id}/wall?lang=vi")
    expect(page.get_by_test_id("tile")).to_have_count(3)
    cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid=tile] .tile-name')]
        .filter((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
        .map((el) => el.textContent.trim())""")
    assert cut == []
    # The sort choice is read whole too ("Điểm cầu chính trước, sau…" was cut).
    room, text = page.get_by_test_id("wall-sort").evaluate("""(el) => {
        const style = getComputedStyle(el);
        const ctx = document.createElement("canvas").getContext("2d");
        ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        return [el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
                ctx.measureText(el.options[el.selectedIndex].text).width]; }""")
    assert text <= room, (text, room)


def test_the_session_report_fits_a_laptop(e2e_server: tuple[Server, str, Path],
                                          pages: Pages) -> None:
    """A session with a quiz and trainer's own video room: the report's site table shows its
    last column (the video's drops) at 1366x768 without scrolling sideways."""
    from trainer.extensions import db
    from trainer.sessions.models import TrainingSession

    server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=2, at_b=1, at_host=1, quiz=True)
    app = loader_app(url, data_dir)
    with app.app_context():
        session = db.session.get(TrainingSession, world.session_id)
        assert session is not None
        session.conference_provider = "builtin"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    server.start()
    page = pages.page("organiser", pages.context(viewport={"width": 1366, "height": 768}))
    login(page, "organiser")
    page.goto(f"/reports/sessions/{world.session_id}?lang=vi")
    table = page.get_by_test_id("report-table")
    headers = table.locator("thead th")
    assert "Số lần mất kết nối" in headers.all_inner_texts()[-1]
    wrap = table.evaluate("(el) => [el.parentElement.scrollWidth, el.parentElement.clientWidth]")
    assert wrap[0] <= wrap[1], wrap
