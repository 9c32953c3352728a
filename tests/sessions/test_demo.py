"""`trainer demo`, scheduling part: the training, a session live today at all 13 bridge points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from trainer import demo, demo_data
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.sessions.demo import live_window
from trainer.sessions.models import Registration, SessionStatus, Training, TrainingSession

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def loaded(app: Any, monkeypatch: Any) -> Any:
    monkeypatch.setattr(demo, "FEATURE_ORDER", ("sessions",))
    app.config["JANUS_MANAGED"] = False  # no video server: the live session keeps its link
    ctx = demo.load_demo()
    assert ctx is not None
    return ctx


def test_demo_training_and_live_session(loaded: Any) -> None:
    (training,) = db.session.scalars(select(Training))
    assert "lồng ghép bình đẳng giới năm 2017" in training.title
    assert training.year == 2017 and training.lead_agency == demo_data.LEAD_AGENCY
    assert training.partners == list(demo_data.PARTNERS)
    assert training.topics == ["management", "gender"]

    (live,) = db.session.scalars(select(TrainingSession).where(
        TrainingSession.status == SessionStatus.LIVE))
    now = utcnow()
    assert live.starts_at <= now < live.ends_at
    assert live.starts_at.astimezone(VN).date() == now.astimezone(VN).date()
    assert loaded.live_session.id == live.id
    assert len(live.session_sites) == 13
    host = next(s for s in demo_data.SITES if s.kind == "host")
    assert live.host_site_id == loaded.sites[host.code].id
    for spec in demo_data.SITES:
        ss = next(s for s in live.session_sites if s.site_id == loaded.sites[spec.code].id)
        assert ss.chair_name == demo_data.CHAIRS[spec.code]
        assert [u.username for u in ss.coordinators] == [f"coord-{spec.code.lower()}"]
    orgs = {item.presenter_org for item in live.agenda}
    assert {demo_data.LEAD_AGENCY, *demo_data.PARTNERS} <= orgs
    assert len(live.agenda) >= 6 and live.conference_url.startswith("https://")


def test_demo_roster_is_everyone_at_their_home_site(loaded: Any) -> None:
    live = loaded.live_session
    people = db.session.scalar(select(func.count()).select_from(Participant))
    regs = db.session.execute(
        select(Registration.site_id, Participant.site_id)
        .join(Participant, Participant.id == Registration.participant_id)
        .where(Registration.session_id == live.id)).all()
    assert len(regs) == people == loaded.participants
    assert all(a == b for a, b in regs)
    assert len({a for a, _ in regs}) == 13


def test_demo_has_a_next_and_a_past_session(loaded: Any) -> None:
    now = utcnow()
    upcoming, past = loaded.sessions["next"], loaded.sessions["past"]
    assert upcoming.status == SessionStatus.SCHEDULED
    assert timedelta(days=5) < upcoming.starts_at - now < timedelta(days=9)
    assert past.status == SessionStatus.ENDED and past.ends_at < now - timedelta(days=20)


@pytest.mark.parametrize("local_now, start", [
    (datetime(2030, 3, 1, 9, 0, tzinfo=VN), datetime(2030, 3, 1, 7, 30, tzinfo=VN)),
    (datetime(2030, 3, 1, 14, 40, tzinfo=VN), datetime(2030, 3, 1, 14, 0, tzinfo=VN)),
    (datetime(2030, 3, 1, 0, 10, tzinfo=VN), datetime(2030, 3, 1, 0, 0, tzinfo=VN)),
    (datetime(2030, 3, 1, 6, 50, tzinfo=VN), datetime(2030, 3, 1, 6, 0, tzinfo=VN)),
])
def test_live_window_always_holds_now(app: Any, local_now: datetime, start: datetime) -> None:
    begins, ends = live_window(local_now.astimezone(UTC))
    assert begins == start and begins <= local_now < ends
    assert ends - begins == timedelta(hours=4)
