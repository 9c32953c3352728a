"""The security tests' world: two bridge sites A and B (and the host H) in one live session,
people at A and at B who are registered, checked in, and have taken (or are taking) the open
quiz, a certificate each, materials (staff-only and shared), and one account of every kind.

`build_world()` makes it on empty tables and returns a `World` (ids, codes and tokens).
The `frozen` fixture builds it once per test module; `Frozen.isolated()` runs requests in a
transaction rolled back afterwards, so each request of a module sees the same world.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

PASSWORD = "correct horse battery"
HOSTILE_NAME = "<img src=x onerror=alert(1)><script>alert(1)</script>"

PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")

QUESTIONS = [
    {"text": "Mỗi xã có bao nhiêu Trung tâm học tập cộng đồng?", "kind": "single", "points": 1,
     "explanation": "Mỗi xã, phường, thị trấn có một trung tâm.",
     "options": [{"text": "Một", "correct": True}, {"text": "Hai", "correct": False}]},
    {"text": "Giới tính là đặc điểm sinh học của nam và nữ.", "kind": "true_false",
     "points": 1, "options": [{"text": "Đúng", "correct": True},
                              {"text": "Sai", "correct": False}]},
]


@dataclass
class Side:
    """What a caller acts on: the objects of one site (A or B)."""

    site: int = 0
    site_code: str = ""
    unit: int = 0
    participant: int = 0        # checked in here, passed the quiz, has a certificate
    participant_code: str = ""
    trainee: int = 0            # checked in here, an attempt in progress
    trainee_code: str = ""
    newcomer: int = 0           # registered here, not checked in
    newcomer_code: str = ""
    checkin: int = 0            # the participant's check-in
    issue: int = 0              # a refused offline check-in at this site
    attempt: int = 0            # the trainee's attempt
    token: str = ""             # ... and its X-Attempt-Token
    done_attempt: int = 0       # the participant's submitted attempt
    certificate: str = ""       # the participant's certificate code
    coordinator: int = 0        # a coordinator account of this site
    people: list[str] = field(default_factory=list)  # names and codes of its participants


@dataclass
class World:
    host: int = 0
    training: int = 0
    session: int = 0            # live, sites H, A and B
    other_session: int = 0      # scheduled, sites H and B only
    agenda_item: int = 0
    quiz: int = 0               # open
    draft_quiz: int = 0
    other_quiz: int = 0         # of other_session (site B only)
    short_code: str = ""
    question: int = 0           # in the open quiz (used)
    option_ok: int = 0          # its correct option
    question_topic: str = "management"
    material_staff: int = 0
    material_shared: int = 0
    material_link: int = 0
    material_topic: str = ""
    year: int = 0
    calendar_key: str = ""
    stash: str = ""             # a people import waiting for the organiser's confirmation
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    a: Side = field(default_factory=Side)
    b: Side = field(default_factory=Side)


def build_world(app: Flask, *, names_a: tuple[str, str, str] = (
        "Nguyễn Thị An", "Trần Văn Bình", "Lê Thị Cúc")) -> World:
    from trainer.auth.models import User
    from trainer.auth.services import calendar_key, create_user, issue_token
    from trainer.extensions import db
    from trainer.materials import services as materials
    from trainer.people import importer
    from trainer.people.services import create as create_participant
    from trainer.quizzes import services as quizzes
    from trainer.quizzes.models import QuizStatus
    from trainer.reports import issuing as reports
    from trainer.sessions import services as sessions
    from trainer.sessions.models import Checkin, CheckinIssue, Registration
    from trainer.sites.services import add_unit, create_site

    w = World()
    host = create_site(None, code="VT", name="Thành phố Việt Trì", kind="host")
    site_a = create_site(None, code="CK", name="Huyện Cẩm Khê")
    site_b = create_site(None, code="YL", name="Huyện Yên Lập")
    w.host = host.id
    users = {
        "admin": create_user("admin", PASSWORD, "admin", commit=False),
        "organiser": create_user("organiser", PASSWORD, "organiser", commit=False),
        "coord_a": create_user("coord_a", PASSWORD, "coordinator", [site_a.id], commit=False),
        "coord_b": create_user("coord_b", PASSWORD, "coordinator", [site_b.id], commit=False),
    }
    db.session.commit()
    w.users = {k: u.id for k, u in users.items()}
    w.tokens = {k: issue_token(u).token for k, u in users.items()}
    organiser = users["organiser"]

    training = sessions.create_training(None, {"title": "Tập huấn 2025", "year": 2025,
                                               "topics": ["management"]})
    w.training = training.id
    from datetime import timedelta

    from trainer.dbtypes import utcnow

    start = utcnow() - timedelta(minutes=30)
    session = sessions.create_session(None, {
        "title": "Phiên tập huấn thử", "starts_at": start, "ends_at": start + timedelta(hours=3),
        "host_site_id": host.id, "site_ids": [site_a.id, site_b.id], "topics": ["management"],
        "training_id": training.id}, agenda=[{"time": "08:00", "title": "Khai mạc"}])
    sessions.set_status(organiser, session, "live")
    w.session = session.id
    w.year = session.starts_at.year
    w.agenda_item = session.agenda[0].id
    other = sessions.create_session(None, {
        "title": "Phiên chỉ Yên Lập", "starts_at": start + timedelta(days=7),
        "ends_at": start + timedelta(days=7, hours=2), "host_site_id": host.id,
        "site_ids": [site_b.id], "topics": ["gender"]})
    w.other_session = other.id

    quizzes.create_topic(None, "management", "Quản lý, điều hành Trung tâm học tập cộng đồng",
                         "Managing a community learning centre")
    quiz = quizzes.create_quiz(None, {
        "session_id": session.id, "title": "Bài kiểm tra", "time_limit_s": 3600,
        "pass_percent": 50, "shuffle_questions": False, "shuffle_options": False,
        "questions": QUESTIONS})
    quiz.status = QuizStatus.OPEN
    quiz.opened_at = utcnow()
    db.session.commit()
    w.quiz, w.short_code = quiz.id, quiz.short_code
    draft = quizzes.create_quiz(None, {"session_id": session.id, "title": "Nháp",
                                       "questions": QUESTIONS[:1]})
    w.draft_quiz = draft.id
    w.other_quiz = quizzes.create_quiz(None, {"session_id": other.id, "title": "Bài Yên Lập",
                                              "questions": QUESTIONS[:1]}).id
    w.question = quiz.items[0].question_id
    w.option_ok = next(o.id for o in quiz.items[0].question.options if o.correct)
    correct = {str(item.question_id): [o.id for o in item.question.options if o.correct]
               for item in quiz.items}

    for side, site, coord, names in (
            (w.a, site_a, "coord_a", names_a),
            (w.b, site_b, "coord_b", ("Phạm Thị Dung", "Hoàng Văn Em", "Đỗ Minh Giang"))):
        side.site, side.site_code = site.id, site.code
        side.coordinator = w.users[coord]
        side.unit = add_unit(None, site, f"Xã {site.code} Một").id
        people = [create_participant(None, {"full_name": n, "sex": s, "site_id": site.id,
                                            "unit": f"Xã {site.code} Một"})
                  for n, s in zip(names, ("female", "male", "female"), strict=True)]
        p, t, n = people
        side.people = [x for person in people for x in (person.full_name, person.code)]
        side.participant, side.participant_code = p.id, p.code
        side.trainee, side.trainee_code = t.id, t.code
        side.newcomer, side.newcomer_code = n.id, n.code
        for person in people:
            db.session.add(Registration(session_id=session.id, participant_id=person.id,
                                        site_id=site.id))
        db.session.flush()
        checkin = Checkin(session_id=session.id, participant_id=p.id, site_id=site.id,
                          at=utcnow())
        db.session.add(checkin)
        db.session.add(Checkin(session_id=session.id, participant_id=t.id, site_id=site.id,
                               at=utcnow()))
        issue = CheckinIssue(session_id=session.id, participant_id=n.id, site_id=site.id,
                             reason="conflict", details={"message": "thử"})
        db.session.add(issue)
        db.session.commit()
        side.checkin, side.issue = checkin.id, issue.id
        done, done_token, _ = quizzes.start_attempt(quiz.id, p.code)
        quizzes.save_answers(done.id, done_token, correct)
        quizzes.submit(done.id, done_token)
        side.done_attempt = done.id
        attempt, token, _ = quizzes.start_attempt(quiz.id, t.code)
        side.attempt, side.token = attempt.id, token
        side.certificate = reports.certificate(organiser, session.id, p.id).code

    materials.ensure_topics()
    topic = materials.list_topics()[0]
    w.material_topic = topic.key
    w.material_staff = materials.create_file(
        organiser, io.BytesIO(PDF), "noi-bo.pdf",
        {"title": "Tài liệu nội bộ", "topic": topic.key, "visibility": "staff",
         "session_id": session.id}).id
    w.material_shared = materials.create_file(
        organiser, io.BytesIO(PDF + b"% shared\n"), "bai-giang.pdf",
        {"title": "Bài giảng", "topic": topic.key, "visibility": "shared",
         "session_id": session.id}).id
    w.material_link = materials.create_link(
        organiser, "https://example.org/tai-lieu",
        {"title": "Liên kết", "topic": topic.key, "visibility": "shared"}).id

    w.calendar_key = calendar_key(db.session.get(User, w.users["coord_a"]))
    csv = "Họ và tên,Giới tính,Mã điểm cầu\nVũ Thị Hoa,Nữ,CK\n".encode()
    w.stash = importer.stash_upload(organiser, csv, "danh-sach.csv", site_a.id)
    from trainer.checkin import services as checkin

    checkin.start_rollcall(organiser, session.id)
    db.session.commit()
    return w


class Frozen:
    """A world built once for a whole test module; `isolated()` runs requests in a database
    transaction that is rolled back afterwards (the application's commits become savepoints),
    and puts the data folder back as it was, so every request sees the same world."""

    def __init__(self, app: Flask, world: World, data_dir: Path, pristine: Path) -> None:
        self.app, self.world, self.data_dir, self.pristine = app, world, data_dir, pristine

    @contextlib.contextmanager
    def isolated(self, *, files: bool = True) -> Iterator[None]:
        from flask import g
        from sqlalchemy.orm import scoped_session, sessionmaker

        from trainer.extensions import db

        for key in list(g):  # a request starts with an empty g, as in production (see
            g.pop(key)       # tests/conftest.py's Client): no user cached from the last one
        original = db.session
        original.remove()
        conn = db.engine.connect()
        outer = conn.begin()
        db.session = scoped_session(sessionmaker(bind=conn,
                                                 join_transaction_mode="create_savepoint"))
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            conn.close()
            if files:
                shutil.rmtree(self.data_dir, ignore_errors=True)
                shutil.copytree(self.pristine, self.data_dir)


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Frozen]:
    """The shared test application (tests/conftest.py) on a world built once per module."""
    from tests.conftest import _reset_schema, _shared, new_app  # type: ignore[import-not-found]
    from trainer.extensions import db, socketio

    if "app" not in _shared:
        _shared["app"] = new_app()
        _shared["config"] = dict(_shared["app"].config)
        _shared["socketio"] = socketio.server
    app = _shared["app"]
    socketio.server = _shared["socketio"]
    root = tmp_path_factory.mktemp("security")
    data_dir, pristine = root / "data", root / "pristine"
    data_dir.mkdir()
    _reset_schema(app)
    with app.app_context():
        app.config["DATA_DIR"] = str(data_dir)
        try:
            world = build_world(app)
            db.session.remove()
            shutil.copytree(data_dir, pristine)
            yield Frozen(app, world, data_dir, pristine)
        finally:
            db.session.remove()
            app.config.clear()
            app.config.update(_shared["config"])
