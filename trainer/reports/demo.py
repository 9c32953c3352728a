"""The demo's document settings (who issues and signs), and the demo quiz under way: about
half of those present at most sites have taken it on their phones (through the trainee
services), so results, reports and certificates show figures."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from trainer.extensions import db
from trainer.people.models import Participant
from trainer.quizzes import services as quizzes
from trainer.quizzes.models import Option
from trainer.sessions.models import Checkin


def documents() -> None:
    """Who issues and signs the demo's documents (the signatory's name is invented)."""
    from trainer.reports.models import DocumentSettings
    from trainer.reports.settings import row_for

    if row_for(None) is None:
        db.session.add(DocumentSettings(
            parent_agency="UBND tỉnh Phú Thọ", issuing_agency="Sở Giáo dục và Đào tạo",
            place_name="Phú Thọ", signer_authority="KT. GIÁM ĐỐC", signer_title="PHÓ GIÁM ĐỐC",
            signer_name="Nguyễn Văn Thành"))
        db.session.commit()


def load(ctx: Any) -> None:
    documents()
    session = getattr(ctx, "live_session", None)
    if session is None:
        return
    quiz = next(iter(quizzes.quizzes_for_session(session.id)), None)
    if quiz is None or str(quiz.status) != "open":
        return
    rng = random.Random(2007)
    skip = [ctx.sites[c].id for c in ctx.province.not_taken if c in ctx.sites]  # quiz not opened
    codes = db.session.scalars(
        select(Participant.code).join(Checkin, Checkin.participant_id == Participant.id)
        .where(Checkin.session_id == session.id, Checkin.site_id.not_in(skip))
        .order_by(Checkin.id)).all()
    options: dict[int, list[int]] = {}
    right: dict[int, list[int]] = {}
    for option_id, question_id, correct in db.session.execute(
            select(Option.id, Option.question_id, Option.correct).order_by(Option.id)):
        options.setdefault(question_id, []).append(option_id)
        if correct:
            right.setdefault(question_id, []).append(option_id)
    taken = 0
    for code in codes:
        if rng.random() > 0.5:
            continue
        attempt, token, _ = quizzes.start_attempt(quiz.id, code)
        skill = rng.uniform(0.45, 0.95)
        answers = {
            str(qid): right[qid] if rng.random() < skill else [rng.choice(options[qid])]
            for qid in attempt.question_ids if options.get(qid) and right.get(qid)
        }
        quizzes.save_answers(attempt.id, token, answers)
        quizzes.submit(attempt.id, token)
        taken += 1
    ctx.notes.append(f"Demo quiz: {taken} trainees have submitted so far.")
