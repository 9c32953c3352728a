"""Results: progress, per site, per question (facility, discrimination), per participant; the XLSX
export."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select

from trainer import live
from trainer.auth.models import User
from trainer.auth.services import require_any, require_staff, visible_site_ids
from trainer.errors import Forbidden
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.quizzes import bysex
from trainer.quizzes.answers import finalise_expired
from trainer.quizzes.builder import get_quiz, get_quiz_for_viewer
from trainer.quizzes.models import (
    Answer,
    Attempt,
    Question,
    Quiz,
)
from trainer.quizzes.stats import item_stats
from trainer.sessions.models import Checkin, SessionSite
from trainer.sites.models import Site


@dataclass
class _Counted:
    participant_id: int
    site_id: int
    started: bool
    attempt: Attempt | None  # the counted (best submitted) attempt
    attempts: int
    in_progress: bool


def _per_participant(quiz_id: int, *, lean: bool = False) -> dict[int, _Counted]:
    """One entry per participant with an attempt: their best submitted attempt counts (highest
    percent, then the earliest). lean: the attempts are plain rows with only participant_id,
    site_id, submitted_at, percent and passed (the live progress, pushed several times a
    second during a quiz, needs no more than that)."""
    out: dict[int, _Counted] = {}
    rows: Any
    if lean:
        rows = (SimpleNamespace(participant_id=r[0], site_id=r[1], submitted_at=r[2],
                                percent=r[3], passed=r[4])
                for r in db.session.execute(
                    select(Attempt.participant_id, Attempt.site_id, Attempt.submitted_at,
                           Attempt.percent, Attempt.passed)
                    .where(Attempt.quiz_id == quiz_id)
                    .order_by(Attempt.participant_id, Attempt.number)))
    else:
        rows = db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz_id)
                                  .order_by(Attempt.participant_id, Attempt.number))
    for a in rows:
        if a.participant_id not in out:
            out[a.participant_id] = _Counted(a.participant_id, a.site_id, True, None, 0, False)
        entry = out[a.participant_id]
        entry.attempts += 1
        if a.submitted_at is None:
            entry.in_progress = True
            if entry.attempt is None:
                entry.site_id = a.site_id
            continue
        best = entry.attempt
        if best is None or (a.percent or 0) > (best.percent or 0):
            entry.attempt = a
            entry.site_id = a.site_id
    return out


def _session_sites(quiz: Quiz, extra: Iterable[int] = (), what: Any = Site) -> list[Any]:
    """The session's sites (and those of `extra` ids), host first, then by name; `what`:
    Site for the sites, or a column such as Site.id."""
    ids = set(db.session.scalars(select(SessionSite.site_id).where(
        SessionSite.session_id == quiz.session_id))) | set(extra)
    if not ids:
        return []
    return list(db.session.scalars(select(what).where(Site.id.in_(ids))
                                   .order_by(Site.kind.desc(), Site.sort_key, Site.id)))


def progress(quiz_id: int) -> dict[str, Any]:
    """The `quiz_progress` payload: per site, people who started, submitted and passed.
    `version` counts attempts started plus attempts finalised, so it only grows."""
    quiz = get_quiz(quiz_id)
    counted = _per_participant(quiz_id, lean=True)
    per_site: dict[int, dict[str, int]] = {}
    for entry in counted.values():
        row = per_site.setdefault(entry.site_id, {"started": 0, "submitted": 0, "passed": 0})
        row["started"] += 1
        if entry.attempt is not None:
            row["submitted"] += 1
            row["passed"] += bool(entry.attempt.passed)
    version = db.session.scalar(
        select(func.count(Attempt.id) + func.count(Attempt.submitted_at))
        .where(Attempt.quiz_id == quiz_id)) or 0
    site_ids = _session_sites(quiz, per_site, Site.id)
    sexes = bysex.split(quiz_id, counted)
    return {
        "quiz_id": quiz.id, "session_id": quiz.session_id, "status": quiz.status.value,
        "version": int(version),
        "sites": [{"site_id": i, **per_site.get(i, {"started": 0, "submitted": 0,
                                                    "passed": 0}),
                   **sexes.get(i, bysex.empty())} for i in site_ids],
    }


def _push_progress(quiz: Quiz) -> None:
    quiz_id, session_id = quiz.id, quiz.session_id

    def build() -> tuple[str, dict[str, Any]]:
        return "quiz_progress", progress(quiz_id)

    live.schedule(session_id, f"quiz_progress:{quiz_id}", build)


def _require_results(actor: User | None) -> None:
    if actor is not None:
        require_staff(actor)


def site_results(quiz_id: int, actor: User | None = None, *,
                 finalise: bool = True) -> dict[str, Any]:
    """The API.md results body: per site present / submitted / mean_percent / passed (counts of
    people, the counted attempt per person), and per question facility and discrimination.
    Attempts whose time is up are finalised first, unless the caller has (`finalise=False`:
    a read-only reader, see trainer.offload)."""
    _require_results(actor)
    quiz = get_quiz(quiz_id)
    if finalise:
        finalise_expired(quiz_id)
    counted = _per_participant(quiz_id)
    present = dict(db.session.execute(
        select(Checkin.site_id, func.count()).where(Checkin.session_id == quiz.session_id)
        .group_by(Checkin.site_id)).all())
    groups: dict[int, list[_Counted]] = {}
    for entry in counted.values():
        groups.setdefault(entry.site_id, []).append(entry)
    sites = _session_sites(quiz, set(groups) | set(present))

    def summary(entries: list[_Counted], n_present: int) -> dict[str, Any]:
        done = [e.attempt for e in entries if e.attempt is not None]
        exact = [Fraction(str(a.score or 0)) * 100 / Fraction(str(a.max_score))
                 if a.max_score else Fraction(0) for a in done]  # not the rounded percents
        mean = round(float(sum(exact, Fraction(0)) / len(exact)), 2) if exact else None
        return {"present": n_present, "started": len(entries), "submitted": len(done),
                "mean_percent": mean, "passed": sum(1 for a in done if a.passed)}

    sexes, present_sexes = bysex.split(quiz_id, counted), bysex.present(quiz.session_id)
    rows = [{"site_id": s.id, "code": s.code, "name": s.name,
             **summary(groups.get(s.id, []), present.get(s.id, 0)),
             **present_sexes.get(s.id, {}), **sexes.get(s.id, bysex.empty())} for s in sites]
    return {
        "quiz_id": quiz.id,
        "session_id": quiz.session_id,
        "title": quiz.title,
        "status": quiz.status.value,
        "pass_percent": quiz.pass_percent,
        "sites": rows,
        "totals": {**summary(list(counted.values()), sum(present.values())),
                   **bysex.add_up(rows)},
        "questions": question_stats(quiz_id),
    }


def question_stats(quiz_id: int, actor: User | None = None) -> list[dict[str, Any]]:
    """Per question over the counted attempts: facility (0..1) and discrimination (-1..1)."""
    _require_results(actor)
    quiz = get_quiz(quiz_id)
    counted = [e.attempt for e in _per_participant(quiz_id).values() if e.attempt is not None]
    scores: dict[int, dict[int, float]] = {}
    if counted:
        ids = [a.id for a in counted]
        for attempt_id, qid, score in db.session.execute(
                select(Answer.attempt_id, Answer.question_id, Answer.score)
                .where(Answer.attempt_id.in_(ids))):
            scores.setdefault(attempt_id, {})[qid] = score or 0.0
    rows = [{int(item["q"]): (scores.get(a.id, {}).get(int(item["q"]), 0.0), float(item["p"]))
             for item in a.layout} for a in counted]
    order = [item.question_id for item in quiz.items]
    others = sorted({qid for row in rows for qid in row} - set(order))
    qids = order + others
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(qids)))}
    out = []
    for st in item_stats(rows, qids):
        q = questions[st.question_id]
        out.append({"id": q.id, "text": q.text, "kind": q.kind.value, "topic": q.topic,
                    "points": q.points, "attempts": st.attempts, "facility": st.facility,
                    "discrimination": st.discrimination})
    return out


def participant_results(quiz_id: int, actor: User | None = None, site_id: int | None = None,
                        *, finalise: bool = True) -> list[dict[str, Any]]:
    """One row per participant checked in to the session or with an attempt, sorted by site
    then name (Vietnamese order). Coordinators see their own sites only. `finalise`: as in
    site_results."""
    site_ids = None
    if actor is not None:
        user = require_any(actor)
        site_ids = visible_site_ids(user)
        if site_ids is not None and site_id is not None and site_id not in site_ids:
            raise Forbidden(gettext("You coordinate other sites, not this one."))
    quiz = get_quiz_for_viewer(actor, quiz_id) if actor is not None else get_quiz(quiz_id)
    if finalise:
        finalise_expired(quiz_id)
    counted = _per_participant(quiz_id)
    checkins = dict(db.session.execute(
        select(Checkin.participant_id, Checkin.site_id)
        .where(Checkin.session_id == quiz.session_id)).all())
    wanted: dict[int, int] = {pid: sid for pid, sid in checkins.items()}
    for pid, entry in counted.items():
        wanted[pid] = entry.site_id if entry.attempt is not None or pid not in wanted \
            else wanted[pid]
    if site_ids is not None:
        wanted = {pid: sid for pid, sid in wanted.items() if sid in site_ids}
    if site_id is not None:
        wanted = {pid: sid for pid, sid in wanted.items() if sid == site_id}
    if not wanted:
        return []
    people = {p.id: p for p in db.session.scalars(
        select(Participant).where(Participant.id.in_(list(wanted))))}
    sites = {s.id: s for s in db.session.scalars(
        select(Site).where(Site.id.in_(set(wanted.values()))))}
    rows: list[dict[str, Any]] = []
    order: dict[int, tuple[bool, str, str, int]] = {}
    for pid, sid in wanted.items():
        p, found = people[pid], counted.get(pid)
        a = found.attempt if found else None
        status = ("submitted" if a is not None else
                  "in_progress" if found is not None and found.in_progress else "not_started")
        site = sites[sid]
        rows.append({
            "participant_id": p.id, "code": p.code, "full_name": p.full_name,
            "sex": p.sex.value, "unit": p.unit, "position": p.position,
            "site_id": sid, "site_code": site.code, "site_name": site.name,
            "checked_in": pid in checkins, "status": status,
            "attempts": found.attempts if found else 0,
            "attempt_id": a.id if a else None, "source": a.source.value if a else None,
            "score": a.score if a else None, "max_score": a.max_score if a else None,
            "percent": a.percent if a else None, "passed": a.passed if a else None,
            "submitted_at": a.submitted_at if a else None,
        })
        order[p.id] = (site.kind.value != "host", site.name_folded, p.sort_key, p.id)
    rows.sort(key=lambda r: order[r["participant_id"]])
    return rows
