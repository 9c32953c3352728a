"""An organiser's home shows what is live now, each session with its screens; a session's page
puts them at its top."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from trainer.extensions import db
from trainer.quizzes.models import Quiz, QuizStatus


def test_home_lists_live_sessions_with_their_screens(world: Any, browser_as: Any,
                                                     page_scan: Any, make_session: Any) -> None:
    organiser = browser_as(world.organiser)
    later = make_session([world.host], title="Buổi tuần sau", status="scheduled",
                         starts_in=timedelta(days=7))
    html = organiser.get("/", follow_redirects=True).get_data(as_text=True)
    page = page_scan(html)
    live = page.by_testid("live-session")
    assert [s["data-session-id"] for s in live] == [str(world.session.id)]
    assert str(later.id) not in [s["data-session-id"] for s in live]
    sid = world.session.id
    hrefs = [a.get("href") for _t, a in page.elements if a.get("data-testid", "").startswith("open-")]
    assert hrefs == [f"/sessions/{sid}/wall", f"/sessions/{sid}/projector"]  # no video, no quiz
    assert "0 of 4 present" in organiser.get("/sessions?lang=en").get_data(as_text=True)


def test_video_room_and_quiz_screen_show_when_the_session_has_them(
        world: Any, browser_as: Any, page_scan: Any) -> None:
    sid = world.session.id
    world.session.conference_url = "https://meet.example.org/tap-huan"
    quiz = Quiz(session_id=sid, title="Kiểm tra", short_code="LIVE1", status=QuizStatus.OPEN)
    db.session.add(quiz)
    db.session.commit()
    page = page_scan(browser_as(world.organiser).get("/sessions").get_data(as_text=True))
    hrefs = {a.get("data-testid"): a.get("href") for _t, a in page.elements
             if a.get("data-testid", "").startswith("open-")}
    # An outside conference (Meet, Zoom...): the button opens it; trainer's own room is for
    # builtin sessions (tests/conference_pages).
    assert hrefs["open-video"] == "https://meet.example.org/tap-huan"
    assert hrefs["open-quiz-screen"] == f"/quizzes/{quiz.id}/screen"

    # The session page puts the same screens at its top.
    html = browser_as(world.organiser).get(f"/sessions/{sid}").get_data(as_text=True)
    assert html.index('data-testid="screen-buttons"') < html.index("session-actions")
    assert 'data-testid="open-video"' in html and 'href="https://meet.example.org/tap-huan"' in html


def test_coordinators_get_no_organiser_screens(world: Any, browser_as: Any) -> None:
    html = browser_as(world.coord_bridge).get(f"/sessions/{world.session.id}").get_data(as_text=True)
    assert 'data-testid="screen-buttons"' not in html
