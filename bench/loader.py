"""Load benchmark-scale data (run as `python -m bench.loader`, prints a JSON fixture)."""

from __future__ import annotations

import argparse
import json
import random
from datetime import timedelta

from sqlalchemy import insert, select

from trainer import create_app
from trainer.auth.services import create_user, issue_token
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.sessions.models import (
    Checkin,
    Registration,
    SessionSite,
    SessionStatus,
    TrainingSession,
)
from trainer.sites.models import Site, SiteKind
from trainer.text import fold, name_sort_key, split_name

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hà", "Đinh"]
MIDDLE = ["Thị", "Văn", "Đức", "Minh", "Thu", "Ngọc", "Hữu"]
GIVEN = ["Hà", "Hòa", "Lan", "Hương", "Dũng", "Đức", "Nam", "Bình", "Thảo", "Trang", "Hùng"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--participants", type=int, default=30000)
    parser.add_argument("--coordinators", type=int, default=50)
    parser.add_argument("--quiz", action="store_true")
    parser.add_argument("--builtin-conference", action="store_true",
                        help="the session's conference is trainer's video room (Janus)")
    parser.add_argument("--checked-in", action="store_true")
    parser.add_argument("--checked-in-share", type=float, default=1.0,
                        help="with --checked-in: the share of participants checked in")
    args = parser.parse_args()
    rng = random.Random(8)
    app = create_app()
    with app.app_context():
        # create_all until the initial migration is regenerated (then: flask_migrate.upgrade)
        db.create_all()
        now = utcnow()
        db.session.execute(insert(Site), [
            {"code": f"B{i:04d}", "name": f"Điểm cầu {i:04d}", "name_folded": f"diem cau {i:04d}",
             "kind": SiteKind.HOST if i == 0 else SiteKind.BRIDGE, "created_at": now}
            for i in range(args.sites)])
        site_ids = list(db.session.scalars(select(Site.id).order_by(Site.id)))
        rows = []
        for i in range(args.participants):
            full = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)} {i}"
            family, middle, given = split_name(full)
            rows.append({
                "code": f"P{i:06d}", "full_name": full, "family_name": family,
                "middle_name": middle, "given_name": given, "name_folded": fold(full),
                "sort_key": name_sort_key(family, middle, given),
                "sex": rng.choice(["female", "male"]), "site_id": site_ids[i % len(site_ids)],
                "created_at": now, "updated_at": now})
        db.session.execute(insert(Participant), rows)
        session = TrainingSession(title="Benchmark session", starts_at=now - timedelta(hours=1),
                                  ends_at=now + timedelta(hours=6), host_site_id=site_ids[0],
                                  status=SessionStatus.LIVE, topics=["management"])
        if args.builtin_conference:
            session.conference_provider = "builtin"
        db.session.add(session)
        db.session.flush()
        db.session.execute(insert(SessionSite), [
            {"session_id": session.id, "site_id": s} for s in site_ids])
        people = db.session.execute(
            select(Participant.id, Participant.site_id, Participant.code).order_by(Participant.id)
        ).all()
        db.session.execute(insert(Registration), [
            {"session_id": session.id, "participant_id": pid, "site_id": sid,
             "created_at": now} for pid, sid, _ in people])
        if args.checked_in:
            every = max(1, round(1 / max(args.checked_in_share, 1e-6)))
            db.session.execute(insert(Checkin), [
                {"session_id": session.id, "participant_id": pid, "site_id": sid, "at": now,
                 "server_at": now, "method": "bench", "flags": []}
                for i, (pid, sid, _) in enumerate(people) if i % every == 0])
            from trainer.checkin import counters

            counters.rebuild(session.id)
        organiser = create_user("bench-organiser", "bench-password-1", "organiser", commit=False)
        coordinators = {}
        for site_id in site_ids[: args.coordinators]:
            coordinators[site_id] = create_user(f"bench-c{site_id}", "bench-password-1",
                                                "coordinator", [site_id], commit=False)
        db.session.commit()
        quiz_id = None
        if args.quiz:
            from trainer.quizzes import services as quizzes

            quiz = quizzes.create_quiz(organiser, {
                "session_id": session.id, "title": "Benchmark quiz", "time_limit_s": 1800,
                "pass_percent": 50,
                "questions": [{
                    "text": f"Câu hỏi {q}", "kind": "single", "points": 1,
                    "options": [{"text": f"Phương án {o}", "correct": o == 0} for o in range(4)],
                } for q in range(10)],
            })
            quizzes.set_status(organiser, quiz.id, "open")
            quiz_id = quiz.id
        fixture = {
            "session_id": session.id, "site_ids": site_ids,
            "participants": [list(p) for p in people],
            "organiser_token": issue_token(organiser).token,
            "coordinator_tokens": {str(k): issue_token(u).token for k, u in coordinators.items()},
            "quiz_id": quiz_id,
        }
        if db.engine.dialect.name == "sqlite":  # start the server on a checkpointed file
            db.session.remove()
            db.engine.dispose()
            import sqlite3

            conn = sqlite3.connect(db.engine.url.database or "")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
    print(json.dumps(fixture))


if __name__ == "__main__":
    main()
