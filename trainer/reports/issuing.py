"""Certificates of completion: who may have one, issuing them, and the public check.

- A certificate is for a participant checked in to the session whose counted attempt at the
  session's quiz passed. A session without a quiz gives none.
- Issued on the first request: a random code (stored with the session, participant, quiz
  and score) and the next number in the register of the year of issue (số vào sổ, counted
  from 1 each calendar year in the app's time zone); later requests give the same code and
  number. A certificate once issued stays verifiable.
- What a certificate shows (CertificateView) includes who issues and signs it
  (trainer.reports.settings: the training's settings over the default ones).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from trainer.audit.services import record
from trainer.auth.models import User
from trainer.auth.services import require_any, require_site, visible_site_ids
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.i18n import to_local
from trainer.people.models import Participant
from trainer.quizzes.models import Quiz
from trainer.reports.models import Certificate
from trainer.reports.settings import Letterhead, letterhead
from trainer.reports.tallies import (
    _finalise,
    _session_for,
    _sites,
    counted_attempts,
    pick_quiz,
)
from trainer.sessions.models import Checkin, TrainingSession
from trainer.sites.models import Site, Unit

# Verification codes: printable, no look-alike characters (as participant codes).
CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"
CODE_LENGTH = 16  # 23**16 ~ 2**72: not guessable


class NotEligible(Conflict):
    slug = "not-eligible"


@dataclass(frozen=True)
class CertificateView:
    """What a certificate shows."""

    code: str
    issued_at: datetime
    register_year: int
    register_number: int
    participant_id: int
    full_name: str
    sex: str
    birth_year: int | None
    position: str | None
    unit: str | None
    session_id: int
    session_title: str
    session_starts_at: datetime
    training_title: str | None
    site_name: str | None
    percent: float | None
    letterhead: Letterhead

    @property
    def register(self) -> str:
        """"15/2026": the number in the year's register."""
        return f"{self.register_number}/{self.register_year}"


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise_code(value: str | None) -> str | None:
    """A code as typed or scanned ("abcd-efgh-..." too) -> the stored form; None if it cannot
    be one."""
    text = "".join(ch for ch in (value or "")[:64] if ch.isalnum()).upper()
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        return None
    return text


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _refusal(reason: str, participant: Participant, quiz: Quiz | None,
             score: float | None = None) -> NotEligible:
    from trainer.i18n import fmt_number

    name, title = participant.full_name, quiz.title if quiz else ""
    messages = {
        "no_quiz": lambda: gettext("This session has no quiz: a certificate needs a passed "
                                   "quiz."),
        "not_present": lambda: gettext("%(name)s was not checked in to this session.",
                                       name=name),
        "not_submitted": lambda: gettext("%(name)s did not submit the quiz %(quiz)s.",
                                         name=name, quiz=title),
        "not_passed": lambda: gettext(
            "%(name)s did not pass the quiz %(quiz)s (%(score)s %%; the pass mark is "
            "%(mark)s %%).", name=name, quiz=title, score=fmt_number(score, 1),
            mark=fmt_number(quiz.pass_percent if quiz else None, 0)),
    }
    return NotEligible(messages[reason](), reason=reason)


def _counted_of(quiz: Quiz, participant_ids: Sequence[int]) -> dict[int, tuple[bool, float]]:
    """{participant_id: (passed, percent)} of the counted attempts of these people."""
    counted = counted_attempts([quiz.id])
    rows = db.session.execute(select(counted.c.participant_id, counted.c.passed, counted.c.pct)
                              .where(counted.c.participant_id.in_(list(participant_ids))))
    return {pid: (bool(passed), float(pct or 0.0)) for pid, passed, pct in rows}


def eligibility(session_id: int, participant: Participant, quiz: Quiz | None
                ) -> tuple[str | None, float | None, int | None]:
    """(reason refused or None, percent, check-in site) for one participant."""
    checkin_site = db.session.scalar(select(Checkin.site_id).where(
        Checkin.session_id == session_id, Checkin.participant_id == participant.id))
    if checkin_site is None:
        return "not_present", None, None
    if quiz is None:
        return "no_quiz", None, checkin_site
    result = _counted_of(quiz, [participant.id]).get(participant.id)
    if result is None:
        return "not_submitted", None, checkin_site
    passed, pct = result
    if not passed:
        return "not_passed", pct, checkin_site
    return None, pct, checkin_site


def _next_numbers(year: int, n: int) -> list[int]:
    last = db.session.scalar(select(func.max(Certificate.register_number))
                             .where(Certificate.register_year == year)) or 0
    return list(range(last + 1, last + 1 + n))


def _issue(session: TrainingSession, quiz: Quiz, wanted: Mapping[int, float],
           actor: User) -> dict[int, Certificate]:
    """The certificates of these participants ({participant_id: percent}), creating the
    missing ones with the next register numbers. The caller commits."""
    def existing() -> dict[int, Certificate]:
        return {c.participant_id: c for c in db.session.scalars(select(Certificate).where(
            Certificate.session_id == session.id,
            Certificate.participant_id.in_(list(wanted))))}

    have = existing()
    missing = [pid for pid in wanted if pid not in have]
    if not missing:
        return have
    for _ in range(5):
        try:
            with db.session.begin_nested():
                now = utcnow()
                year = to_local(now).year
                for pid, number in zip(missing, _next_numbers(year, len(missing)),
                                       strict=True):
                    db.session.add(Certificate(
                        code=_new_code(), session_id=session.id, participant_id=pid,
                        quiz_id=quiz.id, percent=round(wanted[pid], 2), issued_at=now,
                        register_year=year, register_number=number,
                        issued_by_id=actor.id))
                db.session.flush()
        except IntegrityError:  # issued (or numbered) meanwhile by another request
            have = existing()
            missing = [pid for pid in wanted if pid not in have]
            if not missing:
                return have
            continue
        record("certificate.issue", user_id=actor.id, session_id=session.id,
               participant_ids=missing[:1000], count=len(missing), quiz_id=quiz.id)
        return existing()
    raise Conflict(gettext("The certificates could not be issued. Please try again."))


def _views(session: TrainingSession, certs: Iterable[Certificate],
           participants: Mapping[int, Participant], sites: Mapping[int, int]
           ) -> list[CertificateView]:
    site_names = {s.id: s.name for s in _sites(sites.values()).values()}
    unit_ids = {p.unit_id for p in participants.values() if p.unit_id}
    unit_names = dict(db.session.execute(select(Unit.id, Unit.name)
                                         .where(Unit.id.in_(unit_ids or {-1}))).all())
    training = session.training
    head = letterhead(training)
    out = []
    for cert in certs:
        p = participants[cert.participant_id]
        out.append(CertificateView(
            code=cert.code, issued_at=cert.issued_at,
            register_year=cert.register_year or to_local(cert.issued_at).year,
            register_number=cert.register_number or 0, participant_id=p.id,
            full_name=p.full_name, sex=p.sex.value, birth_year=p.birth_year,
            position=p.position, unit=p.unit or unit_names.get(p.unit_id or -1),
            session_id=session.id, session_title=session.title,
            session_starts_at=session.starts_at,
            training_title=training.title if training else None,
            site_name=site_names.get(sites.get(p.id, -1)), percent=cert.percent,
            letterhead=head))
    return out


def certificate(actor: User | None, session_id: int, participant_id: int,
                quiz_id: int | None = None) -> CertificateView:
    """One participant's certificate, issued on the first request; refused (409, saying
    why) for someone who was not present, did not submit or did not pass."""
    user = require_any(actor)
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        raise NotFound(gettext("Unknown session."))
    participant = db.session.get(Participant, participant_id)
    if participant is None:
        raise NotFound(gettext("Unknown participant."))
    quiz = pick_quiz(session.id, quiz_id)
    if quiz is not None:
        _finalise([quiz])
    reason, pct, site_id = eligibility(session.id, participant, quiz)
    mine = visible_site_ids(user)
    if mine is not None and site_id not in mine and participant.site_id not in mine:
        raise Forbidden(gettext("You coordinate other sites, not this participant's."))
    if reason is not None:
        raise _refusal(reason, participant, quiz, pct)
    assert quiz is not None and pct is not None and site_id is not None
    certs = _issue(session, quiz, {participant.id: pct}, user)
    db.session.commit()
    return _views(session, [certs[participant.id]], {participant.id: participant},
                  {participant.id: site_id})[0]


def eligible_at_site(actor: User | None, session_id: int, site_id: int,
                     quiz_id: int | None = None) -> tuple[TrainingSession, Quiz | None,
                                                          list[dict[str, Any]]]:
    """The people checked in at a site who passed the session's quiz, in Vietnamese name
    order, with their certificate code and register number when issued."""
    require_site(actor, site_id)
    _user, session, _scope = _session_for(actor, session_id)
    if db.session.get(Site, site_id) is None:
        raise NotFound(gettext("Unknown site."))
    quiz = pick_quiz(session.id, quiz_id)
    if quiz is None:
        return session, None, []
    _finalise([quiz])
    counted = counted_attempts([quiz.id])
    rows = db.session.execute(
        select(Participant, counted.c.pct, Certificate.code, Certificate.issued_at,
               Certificate.register_year, Certificate.register_number)
        .join(Checkin, and_(Checkin.participant_id == Participant.id,
                            Checkin.session_id == session.id))
        .join(counted, counted.c.participant_id == Participant.id)
        .outerjoin(Certificate, and_(Certificate.participant_id == Participant.id,
                                     Certificate.session_id == session.id))
        .where(Checkin.site_id == site_id, counted.c.passed.is_(True))
        .order_by(Participant.sort_key, Participant.id))
    return session, quiz, [
        {"participant": p, "participant_id": p.id, "full_name": p.full_name,
         "sex": p.sex.value, "percent": round(float(pct or 0), 2), "code": code,
         "issued_at": issued_at,
         "register": f"{number}/{year}" if number else None}
        for p, pct, code, issued_at, year, number in rows]


def site_certificates(actor: User | None, session_id: int, site_id: int | None,
                      quiz_id: int | None = None) -> list[CertificateView]:
    """Every certificate due at a site (issuing the missing ones), for one PDF."""
    if site_id is None:
        raise Invalid.field("site_id", gettext("Choose a site."))
    user = require_any(actor)
    session, quiz, rows = eligible_at_site(user, session_id, site_id, quiz_id)
    if quiz is None:
        raise NotEligible(gettext("This session has no quiz: a certificate needs a passed "
                                  "quiz."), reason="no_quiz")
    if not rows:
        raise NotFound(gettext("Nobody checked in at this site has passed the quiz yet."))
    certs = _issue(session, quiz, {r["participant_id"]: r["percent"] for r in rows}, user)
    db.session.commit()
    people = {r["participant_id"]: r["participant"] for r in rows}
    return _views(session, [certs[r["participant_id"]] for r in rows], people,
                  dict.fromkeys(people, site_id))


def verify(code: str | None) -> dict[str, Any]:
    """What the public verification page may show: the person's name, the training and
    session titles and date, the date of issue and the register number. Nothing else."""
    wanted = normalise_code(code)
    cert = db.session.scalar(select(Certificate).where(Certificate.code == wanted)) \
        if wanted else None
    if cert is None:
        raise NotFound(gettext("There is no certificate with this code."))
    session = cert.session
    return {"full_name": cert.participant.full_name, "session_title": session.title,
            "training_title": session.training.title if session.training else None,
            "session_date": session.starts_at, "issued_at": cert.issued_at,
            "register": f"{cert.register_number}/{cert.register_year}"
            if cert.register_number else None}


def verify_url(code: str) -> str:
    from flask import url_for

    return url_for("reports.verify", code=format_code(code), _external=True)
