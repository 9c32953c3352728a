"""The session report (per site and totals, by sex, quiz and video room) and the gender indicators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from trainer.auth.models import User
from trainer.conference import report as conference_report
from trainer.dbtypes import utcnow
from trainer.errors import Invalid
from trainer.extensions import db
from trainer.quizzes.models import Quiz
from trainer.reports.tallies import (
    SEXES,
    Tally,
    _finalise,
    _session_for,
    _site_info,
    _site_order,
    _sites,
    facts,
    mean,
    measures,
    percent,
    pick_quiz,
    session_quizzes,
)
from trainer.sessions.models import (
    SessionSite,
    TrainingSession,
)


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
    from trainer.reports.summaries import summary_report
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
