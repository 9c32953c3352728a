"""The reports index opens on today's session, not on next week's."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from trainer.dbtypes import utcnow
from trainer.reports.choosing import default_session
from trainer.sessions.models import SessionStatus


def s(ident: int, hours: float, status: str = "scheduled") -> Any:
    return SimpleNamespace(id=ident, starts_at=utcnow() + timedelta(hours=hours),
                           status=SessionStatus(status))


def test_today_before_next_week_and_a_live_one_first(app: Any) -> None:
    with app.test_request_context("/"):
        next_week, today, last_month = s(1, 24 * 7), s(2, -1, "ended"), s(3, -24 * 30, "ended")
        assert default_session([next_week, today, last_month]) is today
        live = s(4, -24 * 3, "live")
        assert default_session([next_week, today, live]) is live
        assert default_session([next_week, last_month]) is last_month  # the latest started
        later, soon = s(5, 24 * 14), s(6, 24 * 7 + 1)
        assert default_session([later, soon]) is soon  # nothing started: the soonest
        assert default_session([]) is None


def test_reports_index_preselects_todays_session(app: Any, make_site: Any, make_session: Any,
                                                 make_user: Any, client: Any,
                                                 login: Any) -> None:
    site = make_site(kind="host")
    today = make_session([site], title="Buổi hôm nay", status="scheduled",
                         starts_in=timedelta(minutes=-10))
    upcoming = make_session([site], title="Buổi tuần sau", status="scheduled",
                            starts_in=timedelta(days=7))
    login(make_user("organiser"))
    html = client.get("/reports?lang=en").get_data(as_text=True)
    assert f'<option value="{today.id}" selected>' in html
    assert f'<option value="{upcoming.id}">' in html
    assert html.index(f'value="{upcoming.id}"') < html.index(f'value="{today.id}"')  # newest first
