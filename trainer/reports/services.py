"""Reports: per-site session tables, training and year summaries, coverage of the communes
and the gender view (certificates: trainer.reports.issuing).

Decisions:
- Every figure is aggregated in SQL (GROUP BY session, site and sex), never one query per
  site: a session of 1,000 sites and 30,000 people takes a handful of queries.
- Registered counts a person at the site of their registration, present at the site where
  they checked in (as the live wall does). Quiz figures use the quizzes feature's rule: each
  person's best submitted attempt counts (highest percent, then the earliest), at the
  attempt's site. Completion = submitted / present; pass rate = passed / submitted.
- The quiz of a session report: `quiz_id` when given (one of the session's quizzes), else
  the session's latest quiz that was opened (open or closed; drafts never count).
- A rate whose denominator is zero is None (shown "–"), never a division by zero.
- Scope: admins and organisers see every site; a coordinator sees the rows of its own sites
  only, and totals over those rows (sessions that include none of its sites are refused).
- A year is the calendar year in the app's time zone, by the sessions' start.
- Coverage: the communes / centres (sites.Unit) of the sites in scope; a unit is reached when
  at least one participant whose unit it is was checked in to any session of the set.
- Gender view: each indicator for women, men and unspecified side by side; the gap is
  female minus male (persons for counts, percentage points for rates and mean scores) and
  the ratio is female / male (None when the male figure is zero or missing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, case, distinct, func, select

from trainer.auth.models import User
from trainer.auth.services import require_any, visible_site_ids
from trainer.conference import report as conference_report
from trainer.dbtypes import utcnow
from trainer.errors import Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.i18n import local_zone, to_local
from trainer.people.models import Participant, Sex
from trainer.quizzes.models import Attempt, Quiz, QuizStatus
from trainer.sessions.models import (
    Checkin,
    Registration,
    SessionSite,
    SessionStatus,
    Training,
    TrainingSession,
)
from trainer.sites.lineage import current_of
from trainer.sites.models import Site, SiteKind, Unit

SEXES = tuple(s.value for s in Sex)  # female, male, unspecified
FIELDS = ("registered", "present", "quiz_present", "submitted", "passed", "pct_sum", "eligible")
MIN_YEAR, MAX_YEAR = 2000, 2100


# --------------------------------------------------------------------------- small helpers

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


# --------------------------------------------------------------------------- scope

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


# --------------------------------------------------------------------------- quizzes

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


# --------------------------------------------------------------------------- the facts

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


# --------------------------------------------------------------------------- session report

def _quiz_info(quiz: Quiz | None) -> dict[str, Any] | None:
    if quiz is None:
        return None
    return {"id": quiz.id, "title": quiz.title, "status": quiz.status.value,
            "pass_percent": quiz.pass_percent}


def _session_info(session: TrainingSession) -> dict[str, Any]:
    return {"id": session.id, "title": session.title, "starts_at": session.starts_at,
            "ends_at": session.ends_at, "status": session.status.value,
            "training_id": session.training_id,
            "training_title": session.training.title if session.training else None,
            "host_site_id": session.host_site_id}


def session_report(actor: User | None, session_id: int, quiz_id: int | None = None
                   ) -> dict[str, Any]:
    """Per site: registered, present, attendance rate, present by sex and the share of women,
    quiz submitted / passed / mean, certificates due; then totals, and the gender view."""
    _user, session, scope = _session_for(actor, session_id)
    quiz = pick_quiz(session.id, quiz_id)
    if quiz is not None:
        _finalise([quiz])
    tallies = facts([session.id], {session.id: quiz} if quiz else {}, scope)
    site_ids = set(db.session.scalars(select(SessionSite.site_id)
                                      .where(SessionSite.session_id == session.id)))
    if scope is not None:
        site_ids &= set(scope)
    site_ids |= {site_id for (_sid, site_id) in tallies}
    sites = _sites(site_ids)
    video = conference_report.columns_for(session)  # per site on the video room, if builtin
    rows, totals = [], Tally()
    for site in sorted(sites.values(), key=lambda s: _site_order(s, session.host_site_id)):
        t = tallies.get((session.id, site.id)) or Tally()
        totals.merge(t)
        rows.append({**_site_info(site, session.host_site_id), **measures(t),
                     **({} if video is None else video.get(site.id, conference_report.EMPTY))})
    return {
        "session": _session_info(session),
        "conference": session.conference_provider,
        "quiz": _quiz_info(quiz),
        "quizzes": [_quiz_info(q) for q in session_quizzes(session.id)],
        "scope_site_ids": scope,
        "sites": rows,
        "totals": measures(totals),
        "gender": gender_indicators(totals, None),
        "generated_at": utcnow(),
    }


# --------------------------------------------------------------------------- gender view

INDICATORS: tuple[tuple[str, str], ...] = (
    ("registered", "count"),
    ("visits", "count"),
    ("participants", "count"),
    ("participant_share_percent", "percent"),
    ("attendance_percent", "percent"),
    ("submitted", "count"),
    ("completion_percent", "percent"),
    ("passed", "count"),
    ("pass_percent", "percent"),
    ("mean_percent", "score"),
)


def _indicator_values(t: Tally, distinct: Mapping[str, int] | None, sex: str | None
                      ) -> dict[str, float | None]:
    visits = t.get(sex, "present")
    people = (sum(distinct.values()) if sex is None else distinct.get(sex, 0)) \
        if distinct is not None else visits
    all_people = sum(distinct.values()) if distinct is not None else t.total("present")
    submitted = t.get(sex, "submitted")
    return {
        "registered": int(t.get(sex, "registered")),
        "visits": int(visits),
        "participants": int(people),
        "participant_share_percent": percent(people, all_people),
        "attendance_percent": percent(visits, t.get(sex, "registered")),
        "submitted": int(submitted),
        "completion_percent": percent(submitted, t.get(sex, "quiz_present")),
        "passed": int(t.get(sex, "passed")),
        "pass_percent": percent(t.get(sex, "passed"), submitted),
        "mean_percent": mean(t.get(sex, "pct_sum"), submitted),
    }


def gender_indicators(t: Tally, distinct: Mapping[str, int] | None) -> list[dict[str, Any]]:
    """Each indicator by sex with the gap (female - male) and the ratio (female / male).
    `distinct`: distinct participants by sex (a summary); None for one session, where the
    participants are the people present."""
    values = {sex: _indicator_values(t, distinct, sex) for sex in SEXES}
    overall = _indicator_values(t, distinct, None)
    out = []
    for key, kind in INDICATORS:
        f, m = values["female"][key], values["male"][key]
        gap = round(f - m, 2) if f is not None and m is not None else None
        ratio = round(f / m, 2) if f is not None and m else None
        out.append({"key": key, "kind": kind, "female": f, "male": m,
                    "unspecified": values["unspecified"][key], "total": overall[key],
                    "gap": gap, "ratio": ratio})
    return out


def gender_report(actor: User | None, *, session_id: int | None = None,
                  training_id: int | None = None, year: int | None = None,
                  quiz_id: int | None = None) -> dict[str, Any]:
    """The gender view for a session, a training or a year."""
    given = [x for x in (session_id, training_id, year) if x is not None]
    if len(given) != 1:
        raise Invalid(gettext("Choose a session, a training or a year."),
                      errors={"session_id": [gettext("Choose a session, a training or a year.")]})
    if session_id is not None:
        report = session_report(actor, session_id, quiz_id)
        by_site = [{**{k: r[k] for k in ("site_id", "code", "name", "is_host")},
                    "female": r["female"], "male": r["male"],
                    "unspecified": r["unspecified"], "female_percent": r["female_percent"]}
                   for r in report["sites"]]
        return {"kind": "session", "session": report["session"], "training_id": None,
                "training_title": None, "year": None, "quiz": report["quiz"],
                "scope_site_ids": report["scope_site_ids"], "sessions": 1,
                "indicators": report["gender"], "sites": by_site}
    summary = summary_report(actor, training_id=training_id, year=year)
    by_site = [{**{k: r[k] for k in ("site_id", "code", "name", "is_host")},
                "female": r["participants_female"], "male": r["participants_male"],
                "unspecified": r["participants_unspecified"],
                "female_percent": r["participants_female_percent"]}
               for r in summary["sites"]]
    return {"kind": summary["kind"], "session": None, "training_id": summary["training_id"],
            "training_title": summary["training_title"], "year": summary["year"],
            "quiz": None, "scope_site_ids": summary["scope_site_ids"],
            "sessions": len(summary["sessions"]), "indicators": summary["gender"],
            "sites": by_site}


# --------------------------------------------------------------------------- summaries

def _distinct_by(selection: Selection, *columns: Any) -> list[Any]:
    """Check-ins of the selection grouped by `columns` and sex: visits and distinct people."""
    stmt = (select(*columns, Participant.sex, func.count(),
                   func.count(distinct(Checkin.participant_id)))
            .join(Participant, Participant.id == Checkin.participant_id)
            .where(Checkin.session_id.in_(selection.session_ids or [-1]))
            .group_by(*columns, Participant.sex))
    if selection.scope is not None:
        stmt = stmt.where(Checkin.site_id.in_(selection.scope or [-1]))
    return list(db.session.execute(stmt))


def _people(rows: dict[str, list[int]]) -> dict[str, Any]:
    """{"visits", "participants", "participants_female", ...} from {sex: [visits, people]}."""
    out: dict[str, Any] = {
        "visits": sum(v[0] for v in rows.values()),
        "participants": sum(v[1] for v in rows.values()),
    }
    for sex in SEXES:
        out[f"visits_{sex}"] = rows.get(sex, [0, 0])[0]
        out[f"participants_{sex}"] = rows.get(sex, [0, 0])[1]
    out["participants_female_percent"] = percent(out["participants_female"],
                                                 out["participants"])
    return out


def summary_report(actor: User | None, *, training_id: int | None = None,
                   year: int | None = None) -> dict[str, Any]:
    """Across the sessions of a training or a year: participant-visits (check-ins) and
    distinct participants, by session, by site, by unit (commune / centre) and by sex."""
    selection = select_sessions(actor, training_id=training_id, year=year)
    ids = selection.session_ids
    quizzes = default_quizzes(ids)
    _finalise(quizzes.values())
    tallies = facts(ids, quizzes, selection.scope)

    by_session: dict[int, Tally] = defaultdict(Tally)
    by_site: dict[int, Tally] = defaultdict(Tally)
    totals = Tally()
    held = {s.id for s in selection.sessions if s.status != SessionStatus.SCHEDULED}
    for (sid, site_id), t in tallies.items():
        by_session[sid].merge(t)
        for tally in (by_site[site_id], totals) if sid in held else ():  # listed, not summed
            tally.merge(t)

    sessions = []
    for s in selection.sessions:
        quiz = quizzes.get(s.id)
        sessions.append({"session_id": s.id, "title": s.title, "starts_at": s.starts_at,
                         "status": s.status.value,
                         "quiz_id": quiz.id if quiz else None,
                         "quiz_title": quiz.title if quiz else None,
                         **measures(by_session.get(s.id) or Tally())})

    site_people: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for site_id, sex, visits, people in _distinct_by(selection, Checkin.site_id):
        site_people[site_id][_sex(sex)] = [visits, people]
    sites = _sites(set(by_site) | set(site_people))
    site_rows = []
    for site in sorted(sites.values(), key=_site_order):
        t = by_site.get(site.id) or Tally()
        m = measures(t)
        site_rows.append({**_site_info(site), "registered": m["registered"],
                          "attendance_percent": m["attendance_percent"],
                          **_people(site_people.get(site.id, {})),
                          "quiz_submitted": m["quiz_submitted"],
                          "quiz_passed": m["quiz_passed"],
                          "quiz_mean_percent": m["quiz_mean_percent"],
                          "by_sex": m["by_sex"]})

    unit_people: dict[int | None, dict[str, list[int]]] = defaultdict(dict)
    for unit_id, sex, visits, people in _distinct_by(selection, Participant.unit_id):
        unit_people[unit_id][_sex(sex)] = [visits, people]
    unit_ids = [i for i in unit_people if i is not None]
    units = db.session.execute(
        select(Unit.id, Unit.site_id, Unit.name, Unit.centre_name, Unit.sort_key)
        .where(Unit.id.in_(unit_ids or [-1]))).all()
    unit_sites = _sites(u.site_id for u in units)
    site_keys = {i: _site_order(site) for i, site in unit_sites.items()}
    unit_rows = []
    for unit in sorted(units, key=lambda u: (site_keys[u.site_id], u.sort_key, u.id)):
        site = unit_sites[unit.site_id]
        unit_rows.append({"unit_id": unit.id, "name": unit.name, "centre_name": unit.centre_name,
                          "site_id": site.id, "site_code": site.code, "site_name": site.name,
                          **_people(unit_people[unit.id])})
    if None in unit_people:
        unit_rows.append({"unit_id": None, "name": None, "centre_name": None, "site_id": None,
                          "site_code": None, "site_name": None, **_people(unit_people[None])})

    sex_people: dict[str, list[int]] = {}
    for sex, visits, people in _distinct_by(selection):
        sex_people[_sex(sex)] = [visits, people]
    people_totals = _people(sex_people)
    m = measures(totals)
    return {
        **selection.describe(),
        "sessions": sessions,
        "totals": {"sessions": len(held), "registered": m["registered"],
                   "attendance_percent": m["attendance_percent"], **people_totals,
                   "quiz_submitted": m["quiz_submitted"], "quiz_passed": m["quiz_passed"],
                   "quiz_mean_percent": m["quiz_mean_percent"],
                   "quiz_passed_percent": m["quiz_passed_percent"], "by_sex": m["by_sex"]},
        "sites": site_rows,
        "units": unit_rows,
        "gender": gender_indicators(totals, {sex: v[1] for sex, v in sex_people.items()}),
        "generated_at": utcnow(),
    }


def coverage_report(actor: User | None, *, training_id: int | None = None,
                    year: int | None = None) -> dict[str, Any]:
    """How many communes / centres (of the sites in scope) had at least one person trained
    in the training or year, per site and in all, and the list of those not yet reached."""
    selection = select_sessions(actor, training_id=training_id, year=year)
    units_q = select(Unit.id, Unit.site_id, Unit.name, Unit.centre_name,
                     Unit.sort_key).where(Unit.ended_on.is_(None))  # merged units: successor
    if selection.scope is not None:
        units_q = units_q.where(Unit.site_id.in_(selection.scope or [-1]))
    units = db.session.execute(units_q).all()
    reached: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    unrecorded, current = 0, current_of()
    if selection.session_ids:
        trained = (select(Participant.unit_id, Participant.sex,
                          func.count(distinct(Participant.id)))
                   .join(Checkin, Checkin.participant_id == Participant.id)
                   .where(Checkin.session_id.in_(selection.session_ids))
                   .group_by(Participant.unit_id, Participant.sex))
        for unit_id, sex, n in db.session.execute(trained):
            if unit_id is not None:
                reached[current.get(unit_id, unit_id)][_sex(sex)] += n
        missing = (select(func.count(distinct(Checkin.participant_id)))  # provincial staff
                   .join(Participant, Participant.id == Checkin.participant_id)  # at the host
                   .join(Site, Site.id == Checkin.site_id)  # belong to no commune
                   .where(Checkin.session_id.in_(selection.session_ids), Site.kind != SiteKind.HOST,
                          Participant.unit_id.is_(None)))
        if selection.scope is not None:
            missing = missing.where(Checkin.site_id.in_(selection.scope or [-1]))
        unrecorded = db.session.scalar(missing) or 0
    site_ids = {u.site_id for u in units}
    if selection.scope is not None:
        site_ids |= set(selection.scope)
    sites = _sites(site_ids)
    by_site: dict[int, list[Any]] = defaultdict(list)
    for unit in units:
        by_site[unit.site_id].append(unit)
    rows = []
    total_units = total_reached = total_women = 0
    for site in sorted(sites.values(), key=_site_order):
        site_units = sorted(by_site.get(site.id, []), key=lambda u: (u.sort_key, u.id))
        hit = [u for u in site_units if sum(reached.get(u.id, {}).values())]
        with_women = [u for u in hit if reached[u.id].get("female")]
        not_reached = [{"unit_id": u.id, "name": u.name, "centre_name": u.centre_name}
                       for u in site_units if not sum(reached.get(u.id, {}).values())]
        total_units += len(site_units)
        total_reached += len(hit)
        total_women += len(with_women)
        rows.append({**_site_info(site), "units": len(site_units), "reached": len(hit),
                     "reached_percent": percent(len(hit), len(site_units)),
                     "reached_with_women": len(with_women),
                     "trained": sum(sum(reached.get(u.id, {}).values()) for u in hit),
                     "not_reached": not_reached})
    return {
        **selection.describe(),
        "sessions": len(selection.sessions),
        "totals": {"units": total_units, "reached": total_reached,
                   "reached_percent": percent(total_reached, total_units),
                   "reached_with_women": total_women,
                   "not_reached": total_units - total_reached,
                   "participants_without_unit": int(unrecorded)},
        "sites": rows,
        "generated_at": utcnow(),
    }


# --------------------------------------------------------------------------- index

def report_choices(actor: User | None) -> dict[str, Any]:
    """What the reports index offers: sessions (newest first), trainings, years."""
    user = require_any(actor)
    scope = visible_site_ids(user)
    stmt = select(TrainingSession)
    if scope is not None:
        stmt = stmt.where(TrainingSession.id.in_(
            select(SessionSite.session_id).where(SessionSite.site_id.in_(scope or [-1]))))
    sessions = list(db.session.scalars(stmt.order_by(TrainingSession.starts_at.desc(),
                                                     TrainingSession.id.desc()).limit(500)))
    t_stmt = select(Training).order_by(Training.year.desc(), Training.id.desc())
    if scope is not None:
        t_stmt = t_stmt.where(Training.id.in_(
            select(TrainingSession.training_id).join(
                SessionSite, SessionSite.session_id == TrainingSession.id)
            .where(SessionSite.site_id.in_(scope or [-1]))))
    trainings = list(db.session.scalars(t_stmt))
    first, last = db.session.execute(
        select(func.min(TrainingSession.starts_at), func.max(TrainingSession.starts_at))).one()
    years: list[int] = []
    if first is not None and last is not None:
        from trainer.dbtypes import UTCDateTime

        # SQLite hands back naive values from an aggregate: they are UTC.
        lo = UTCDateTime().process_result_value(first, db.engine.dialect)
        hi = UTCDateTime().process_result_value(last, db.engine.dialect)
        if lo is not None and hi is not None:
            years = list(range(to_local(hi).year, to_local(lo).year - 1, -1))
    return {"sessions": sessions, "trainings": trainings, "years": years}
