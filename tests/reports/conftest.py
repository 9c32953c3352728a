"""A small province whose report figures are worked out by hand in the tests.

Sites: VT (host, Thành phố Việt Trì), CK (Huyện Cẩm Khê), YL (Huyện Yên Lập: in the session,
nobody registered), OT (Huyện Tân Sơn: in no session).
Communes: VT: Gia Cẩm, Tân Dân; CK: Tiên Lương, Văn Bán, Sơn Tình; YL: Mỹ Lung.

Training "Tập huấn 2024", sessions s1 (05/03/2024) and s2 (10/04/2024); s3 (01/01/2024 06:00
local = 31/12/2023 23:00 UTC) is outside the training; s0 has a roster and no check-in.

person           sex  site unit        s1: registered / present / quiz (main)       s2
p1 Nguyễn Thị An  F   VT  Gia Cẩm      yes / yes / 40 % then 100 % (best: pass)      present
p2 Trần Văn Bình  M   VT  Gia Cẩm      yes / yes / 40 % (fail)                       -   (s3 present)
p3 Lê Thị Cúc     F   VT  Tân Dân      yes / no                                      present
p4 Phạm Thị Dung  F   CK  Tiên Lương   yes / yes / 80 % (pass)                       -
p5 Hoàng Văn Em   M   CK  Tiên Lương   yes / yes / started, never submitted          present
p6 Đỗ Minh Giang  U   CK  Văn Bán      yes / yes / 70 % (pass)                       -
p7 Vũ Văn Hải     M   CK  (none)       yes / no                                      -
p9 Bùi Thị Lan    F   CK  (none)       -                                             present

Quizzes of s1 (pass mark 60 %): "old" opened first (p1: 10 %), "main" opened later (the
default), a draft created last (never counts).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest


def at(y: int, m: int, d: int, hh: int = 1, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


@pytest.fixture
def add_checkin(app: Any) -> Any:
    from trainer.extensions import db
    from trainer.sessions.models import Checkin

    def add(session: Any, participant: Any, site: Any | None = None) -> Any:
        c = Checkin(session_id=session.id, participant_id=participant.id,
                    site_id=(site.id if site is not None else participant.site_id),
                    at=session.starts_at + timedelta(minutes=5))
        db.session.add(c)
        db.session.commit()
        return c

    return add


@pytest.fixture
def add_quiz(app: Any) -> Any:
    from trainer.extensions import db
    from trainer.quizzes.models import Quiz, QuizStatus

    n = iter(range(1, 1000))

    def add(session: Any, title: str, status: str = "closed", opened_at: datetime | None = None,
            pass_percent: float = 60, attempts_allowed: int = 2) -> Any:
        quiz = Quiz(session_id=session.id, title=title, status=QuizStatus(status),
                    opened_at=opened_at, pass_percent=pass_percent,
                    attempts_allowed=attempts_allowed, short_code=f"T{next(n):05d}")
        db.session.add(quiz)
        db.session.commit()
        return quiz

    return add


@pytest.fixture
def add_attempt(app: Any) -> Any:
    from trainer.extensions import db
    from trainer.quizzes.models import Attempt

    def add(quiz: Any, participant: Any, score: float | None, max_score: float = 10,
            number: int = 1, site: Any | None = None) -> Any:
        """A submitted attempt scoring score/max_score (None: started, not submitted)."""
        submitted = score is not None
        percent = round(100 * score / max_score, 2) if submitted else None
        a = Attempt(quiz_id=quiz.id, participant_id=participant.id, number=number,
                    site_id=(site.id if site is not None else participant.site_id),
                    token_key="k" * 16, layout=[], started_at=quiz.session.starts_at,
                    submitted_at=quiz.session.starts_at + timedelta(minutes=30 + number)
                    if submitted else None,
                    score=score, max_score=max_score, percent=percent,
                    passed=(percent >= quiz.pass_percent) if submitted else None,
                    ended_by="submit" if submitted else None)
        db.session.add(a)
        db.session.commit()
        return a

    return add


class World(SimpleNamespace):
    def __init__(self, make_user: Any, users: dict[str, Any], **kw: Any) -> None:
        super().__init__(**kw)
        self._make_user, self._users = make_user, users

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._users:
            raise AttributeError(name)
        role, sites = self._users[name]
        user = self._make_user(role, sites=sites, username=name)
        setattr(self, name, user)
        return user


@pytest.fixture
def world(app: Any, make_site: Any, make_user: Any, make_participant: Any, make_session: Any,
          register: Any, add_checkin: Any, add_quiz: Any, add_attempt: Any) -> World:
    from trainer.extensions import db
    from trainer.sessions.models import Training

    vt = make_site(code="VT", name="Thành phố Việt Trì", kind="host",
                   units=("Phường Gia Cẩm", "Phường Tân Dân"))
    ck = make_site(code="CK", name="Huyện Cẩm Khê",
                   units=("Xã Tiên Lương", "Xã Văn Bán", "Xã Sơn Tình"))
    yl = make_site(code="YL", name="Huyện Yên Lập", units=("Xã Mỹ Lung",))
    ot = make_site(code="OT", name="Huyện Tân Sơn")
    p = SimpleNamespace(
        p1=make_participant(vt, "Nguyễn Thị An", "female", unit="Gia Cẩm", phone="0912345678",
                            birth_year=1980, position="Phó Giám đốc"),
        p2=make_participant(vt, "Trần Văn Bình", "male", unit="Gia Cẩm"),
        p3=make_participant(vt, "Lê Thị Cúc", "female", unit="Tân Dân"),
        p4=make_participant(ck, "Phạm Thị Dung", "female", unit="Tiên Lương"),
        p5=make_participant(ck, "Hoàng Văn Em", "male", unit="Tiên Lương"),
        p6=make_participant(ck, "Đỗ Minh Giang", "unspecified", unit="Văn Bán"),
        p7=make_participant(ck, "Vũ Văn Hải", "male"),
        p9=make_participant(ck, "Bùi Thị Lan", "female"),
    )
    training = Training(title="Tập huấn 2024", year=2024, lead_agency="Sở Giáo dục và Đào tạo",
                        partners=["Hội Khuyến học tỉnh", "Hội Liên hiệp Phụ nữ tỉnh"])
    db.session.add(training)
    db.session.commit()

    s1 = make_session([vt, ck, yl], title="Quản lý Trung tâm học tập cộng đồng",
                      status="ended", training_id=training.id)
    s2 = make_session([vt, ck], title="Lồng ghép giới", status="ended", training_id=training.id)
    s3 = make_session([vt], title="Buổi đầu năm", status="ended")
    s0 = make_session([vt, ck], title="Buổi chưa ai điểm danh", status="scheduled")
    for s, start in ((s1, at(2024, 3, 5)), (s2, at(2024, 4, 10)), (s3, at(2023, 12, 31, 23)),
                     (s0, at(2024, 6, 1))):
        s.starts_at, s.ends_at = start, start + timedelta(hours=3)
    db.session.commit()

    register(s1, [p.p1, p.p2, p.p3, p.p4, p.p5, p.p6, p.p7])
    register(s2, [p.p1, p.p3, p.p5, p.p9])
    register(s0, [p.p1, p.p4])
    for person in (p.p1, p.p2, p.p4, p.p5, p.p6):
        add_checkin(s1, person)
    for person in (p.p1, p.p3, p.p5, p.p9):
        add_checkin(s2, person)
    add_checkin(s3, p.p2)

    old = add_quiz(s1, "Kiểm tra đầu giờ", opened_at=at(2024, 3, 5, 1, 10))
    main = add_quiz(s1, "Kiểm tra cuối buổi", opened_at=at(2024, 3, 5, 3, 0))
    draft = add_quiz(s1, "Bài nháp", status="draft")
    add_attempt(old, p.p1, 1)
    add_attempt(main, p.p1, 4, number=1)
    add_attempt(main, p.p1, 10, number=2)
    add_attempt(main, p.p2, 4)
    add_attempt(main, p.p4, 8)
    add_attempt(main, p.p5, None)
    add_attempt(main, p.p6, 7)

    users = {"organiser": ("organiser", ()), "admin": ("admin", ()),
             "coord_ck": ("coordinator", (ck,)), "coord_other": ("coordinator", (ot,))}
    return World(make_user, users, vt=vt, ck=ck, yl=yl, ot=ot, training=training,
                 s0=s0, s1=s1, s2=s2, s3=s3, old=old, main=main, draft=draft, **vars(p))
