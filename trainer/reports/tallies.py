"""Report figures: tallies by sex, the sessions a report covers, the quizzes counted, the facts
read in a few GROUP BY queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, case, func, select

from trainer.auth.models import User
from trainer.auth.services import require_any, visible_site_ids
from trainer.errors import Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.i18n import local_zone
from trainer.people.models import Participant, Sex
from trainer.quizzes.models import Attempt, Quiz, QuizStatus
from trainer.sessions.models import (
    Checkin,
    Registration,
    SessionSite,
    Training,
    TrainingSession,
)
from trainer.sites.models import Site, SiteKind

SEXES = tuple(s.value for s in Sex)  # female, male, unspecified


FIELDS = ("registered", "present", "quiz_present", "submitted", "passed", "pct_sum", "eligible")


MIN_YEAR, MAX_YEAR = 2000, 2100


def percent(part: float | int | None, whole: float | int | None, digits: int = 2
            ) -> float | None:
    """part / whole in percent, rounded; None when the whole is zero (nothing to divide)."""
    if not whole or part is None:
        return None
    return round(100.0 * float(part) / float(whole), digits)


def mean(total: float | None, n: int | float | None, digits: int = 2) -> float | None:
    if not n or total is None:
        return None
    return round(float(total) / float(n), digits)


def _zero() -> dict[str, float]:
    return dict.fromkeys(FIELDS, 0)


class Tally:
    """Counts by sex: tally[sex][field]."""

    def __init__(self) -> None:
        self.by_sex: dict[str, dict[str, float]] = {s: _zero() for s in SEXES}

    def add(self, sex: str, field: str, n: float) -> None:
        self.by_sex[sex][field] += n or 0

    def merge(self, other: Tally) -> None:
        for sex in SEXES:
            for field in FIELDS:
                self.by_sex[sex][field] += other.by_sex[sex][field]

    def total(self, field: str) -> float:
        return sum(self.by_sex[s][field] for s in SEXES)

    def get(self, sex: str | None, field: str) -> float:
        return self.total(field) if sex is None else self.by_sex[sex][field]


def measures(t: Tally) -> dict[str, Any]:
    """The figures of one row (a site, a session, the totals) from its tally."""
    registered, present = int(t.total("registered")), int(t.total("present"))
    submitted, passed = int(t.total("submitted")), int(t.total("passed"))
    female = int(t.get("female", "present"))
    return {
        "registered": registered,
        "present": present,
        "attendance_percent": percent(present, registered),
        "female": female,
        "male": int(t.get("male", "present")),
        "unspecified": int(t.get("unspecified", "present")),
        "female_percent": percent(female, present),
        "quiz_submitted": submitted,
        "quiz_passed": passed,
        "quiz_completion_percent": percent(submitted, t.total("quiz_present")),
        "quiz_mean_percent": mean(t.total("pct_sum"), submitted),
        "quiz_passed_percent": percent(passed, submitted),
        "certificates": int(t.total("eligible")),
        "by_sex": by_sex(t),
    }


# The counts of people a row reports, and the tally field each is read from.
COUNTS = {"registered": "registered", "present": "present", "quiz_submitted": "submitted",
          "quiz_passed": "passed", "certificates": "eligible"}


def by_sex(t: Tally) -> dict[str, dict[str, int]]:
    """Every count of people of a row split by sex: {count: {female, male, unspecified}}."""
    return {key: {sex: int(t.by_sex[sex][field]) for sex in SEXES}
            for key, field in COUNTS.items()}


_SEX_KEY: dict[Any, str] = {**{m: m.value for m in Sex}, **{m.value: m.value for m in Sex}}


def _sex(value: Any) -> str:
    return _SEX_KEY[value]


@dataclass(frozen=True)
class SiteRef:
    """The columns of a site a report shows (read without the ORM: 1,000 sites are cheap)."""

    id: int
    code: str
    name: str
    kind: SiteKind
    order: str  # the Vietnamese sort key of the name


def _site_order(site: SiteRef, host_id: int | None = None) -> tuple[Any, ...]:
    is_host = site.id == host_id if host_id is not None else site.kind == SiteKind.HOST
    return (not is_host, site.order, site.id)


def _site_info(site: SiteRef, host_id: int | None = None) -> dict[str, Any]:
    return {"site_id": site.id, "code": site.code, "name": site.name, "kind": site.kind.value,
            "is_host": site.id == host_id if host_id is not None
            else site.kind == SiteKind.HOST}


def _sites(ids: Iterable[int]) -> dict[int, SiteRef]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = db.session.execute(select(Site.id, Site.code, Site.name, Site.kind, Site.sort_key)
                              .where(Site.id.in_(wanted)))
    return {i: SiteRef(i, code, name, SiteKind(kind), key) for i, code, name, kind, key in rows}


def _session_for(actor: User | None, session_id: int) -> tuple[User, TrainingSession,
                                                                list[int] | None]:
    """The session and the sites the actor may see in it (None: all of them)."""
    user = require_any(actor)
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        raise NotFound(gettext("Unknown session."))
    scope = visible_site_ids(user)
    if scope is not None:
        ids = set(db.session.scalars(select(SessionSite.site_id)
                                     .where(SessionSite.session_id == session_id)))
        if not ids.intersection(scope):
            raise Forbidden(gettext("None of your sites takes part in this session."))
    return user, session, scope


def year_bounds(year: int) -> tuple[datetime, datetime]:
    zone = local_zone()
    return (datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone))


def check_year(year: Any) -> int:
    try:
        value = int(year)
    except (TypeError, ValueError):
        raise Invalid.field("year", gettext("Not a valid year.")) from None
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise Invalid.field("year", gettext("A year between %(lo)d and %(hi)d.",
                                            lo=MIN_YEAR, hi=MAX_YEAR))
    return value


@dataclass
class Selection:
    """The sessions a summary covers (a training or a year) and the sites in scope."""

    kind: str  # "training" | "year"
    training: Training | None
    year: int | None
    sessions: list[TrainingSession]
    scope: list[int] | None

    @property
    def session_ids(self) -> list[int]:
        return [s.id for s in self.sessions]

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind,
                "training_id": self.training.id if self.training else None,
                "training_title": self.training.title if self.training else None,
                "year": self.year,
                "scope_site_ids": self.scope}


def select_sessions(actor: User | None, *, training_id: int | None = None,
                    year: int | None = None) -> Selection:
    """The sessions of a training, or those starting in a calendar year; a coordinator's
    selection keeps the sessions that include one of its sites."""
    user = require_any(actor)
    scope = visible_site_ids(user)
    if (training_id is None) == (year is None):
        raise Invalid(gettext("Choose a training or a year."),
                      errors={"training_id": [gettext("Choose a training or a year.")]})
    stmt = select(TrainingSession)
    training = None
    if training_id is not None:
        training = db.session.get(Training, training_id)
        if training is None:
            raise NotFound(gettext("Unknown training."))
        stmt = stmt.where(TrainingSession.training_id == training_id)
    else:
        year = check_year(year)
        start, end = year_bounds(year)
        stmt = stmt.where(TrainingSession.starts_at >= start, TrainingSession.starts_at < end)
    if scope is not None:
        stmt = stmt.where(TrainingSession.id.in_(
            select(SessionSite.session_id).where(SessionSite.site_id.in_(scope or [-1]))))
    sessions = list(db.session.scalars(stmt.order_by(TrainingSession.starts_at,
                                                      TrainingSession.id)))
    return Selection("training" if training is not None else "year", training, year,
                     sessions, scope)


def session_quizzes(session_id: int) -> list[Quiz]:
    return list(db.session.scalars(select(Quiz).where(Quiz.session_id == session_id)
                                   .order_by(Quiz.id)))


def _latest(quizzes: Iterable[Quiz]) -> Quiz | None:
    """The latest quiz that was opened (by opening time, then creation)."""
    opened = [q for q in quizzes if q.status != QuizStatus.DRAFT]
    if not opened:
        return None
    return max(opened, key=lambda q: (q.opened_at.timestamp() if q.opened_at else 0.0, q.id))


def pick_quiz(session_id: int, quiz_id: int | None = None) -> Quiz | None:
    """The quiz a session report uses: `quiz_id` (one of the session's), else the latest
    opened one (open or closed), else None."""
    if quiz_id is not None:
        quiz = db.session.get(Quiz, quiz_id)
        if quiz is None or quiz.session_id != session_id:
            raise Invalid.field("quiz_id", gettext("This quiz is not one of this session's."))
        return quiz
    return _latest(session_quizzes(session_id))


def default_quizzes(session_ids: Sequence[int]) -> dict[int, Quiz]:
    """{session_id: its report quiz} for many sessions (one query)."""
    if not session_ids:
        return {}
    by_session: dict[int, list[Quiz]] = defaultdict(list)
    for quiz in db.session.scalars(select(Quiz).where(Quiz.session_id.in_(list(session_ids)),
                                                      Quiz.status != QuizStatus.DRAFT)):
        by_session[quiz.session_id].append(quiz)
    out = {}
    for sid, quizzes in by_session.items():
        chosen = _latest(quizzes)
        if chosen is not None:
            out[sid] = chosen
    return out


def _finalise(quizzes: Iterable[Quiz]) -> None:
    """Attempts whose time is up count as submitted (as the quiz results do)."""
    from trainer.quizzes import services as quiz_services

    for quiz in quizzes:
        quiz_services.finalise_expired(quiz.id)


def counted_attempts(quiz_ids: Sequence[int]) -> Any:
    """A subquery: each person's counted attempt per quiz (best percent, then the earliest),
    with its exact percent `pct`."""
    rank = func.row_number().over(
        partition_by=(Attempt.quiz_id, Attempt.participant_id),
        order_by=(func.coalesce(Attempt.percent, 0.0).desc(), Attempt.number, Attempt.id))
    pct = case((Attempt.max_score > 0,
                func.coalesce(Attempt.score, 0.0) * 100.0 / Attempt.max_score), else_=0.0)
    ranked = (select(Attempt.quiz_id, Attempt.participant_id, Attempt.site_id,
                     Attempt.passed, pct.label("pct"), rank.label("rank"))
              .where(Attempt.quiz_id.in_(list(quiz_ids) or [-1]),
                     Attempt.submitted_at.isnot(None))
              .subquery("ranked"))
    return select(ranked).where(ranked.c.rank == 1).subquery("counted")


Key = tuple[int, int]  # (session_id, site_id)


def facts(session_ids: Sequence[int], quizzes: Mapping[int, Quiz],
          scope: Sequence[int] | None) -> dict[Key, Tally]:
    """Registered, present, quiz submitted / passed / sum of percents and certificates due,
    by session, site and sex: four GROUP BY queries whatever the number of sites."""
    out: dict[Key, Tally] = defaultdict(Tally)
    if not session_ids:
        return out
    ids = list(session_ids)
    sites = list(scope) if scope is not None else None

    reg = (select(Registration.session_id, Registration.site_id, Participant.sex, func.count())
           .join(Participant, Participant.id == Registration.participant_id)
           .where(Registration.session_id.in_(ids))
           .group_by(Registration.session_id, Registration.site_id, Participant.sex))
    present = (select(Checkin.session_id, Checkin.site_id, Participant.sex, func.count())
               .join(Participant, Participant.id == Checkin.participant_id)
               .where(Checkin.session_id.in_(ids))
               .group_by(Checkin.session_id, Checkin.site_id, Participant.sex))
    if sites is not None:
        reg = reg.where(Registration.site_id.in_(sites or [-1]))
        present = present.where(Checkin.site_id.in_(sites or [-1]))
    for sid, site_id, sex, n in db.session.execute(reg):
        out[(sid, site_id)].add(_sex(sex), "registered", n)
    for sid, site_id, sex, n in db.session.execute(present):
        out[(sid, site_id)].add(_sex(sex), "present", n)
        if sid in quizzes:  # present at a session with a quiz: completion's denominator
            out[(sid, site_id)].add(_sex(sex), "quiz_present", n)

    quiz_session = {q.id: sid for sid, q in quizzes.items()}
    if quiz_session:
        counted = counted_attempts(list(quiz_session))
        passed = case((counted.c.passed.is_(True), 1), else_=0)
        attempts = (select(counted.c.quiz_id, counted.c.site_id, Participant.sex, func.count(),
                           func.sum(passed), func.sum(counted.c.pct))
                    .join(Participant, Participant.id == counted.c.participant_id)
                    .group_by(counted.c.quiz_id, counted.c.site_id, Participant.sex))
        # Certificates due: checked in to the session and passed its quiz (at the check-in site).
        due = (select(Checkin.session_id, Checkin.site_id, Participant.sex, func.count())
               .join(Participant, Participant.id == Checkin.participant_id)
               .join(Quiz, Quiz.session_id == Checkin.session_id)
               .join(counted, and_(counted.c.quiz_id == Quiz.id,
                                   counted.c.participant_id == Checkin.participant_id))
               .where(Checkin.session_id.in_(ids), counted.c.passed.is_(True))
               .group_by(Checkin.session_id, Checkin.site_id, Participant.sex))
        if sites is not None:
            attempts = attempts.where(counted.c.site_id.in_(sites or [-1]))
            due = due.where(Checkin.site_id.in_(sites or [-1]))
        for quiz_id, site_id, sex, n, n_passed, pct_sum in db.session.execute(attempts):
            t = out[(quiz_session[quiz_id], site_id)]
            t.add(_sex(sex), "submitted", n)
            t.add(_sex(sex), "passed", n_passed or 0)
            t.add(_sex(sex), "pct_sum", float(pct_sum or 0.0))
        for sid, site_id, sex, n in db.session.execute(due):
            out[(sid, site_id)].add(_sex(sex), "eligible", n)
    return out
