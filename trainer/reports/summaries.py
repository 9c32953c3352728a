"""Training and year summaries, the coverage of communes, and what a reader may choose."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import distinct, func, select

from trainer.auth.models import User
from trainer.auth.services import require_any, visible_site_ids
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.i18n import to_local
from trainer.people.models import Participant
from trainer.reports.session_reports import gender_indicators
from trainer.reports.tallies import (
    SEXES,
    Selection,
    Tally,
    _finalise,
    _sex,
    _site_info,
    _site_order,
    _sites,
    default_quizzes,
    facts,
    measures,
    percent,
    select_sessions,
)
from trainer.sessions.models import (
    Checkin,
    SessionSite,
    SessionStatus,
    Training,
    TrainingSession,
)
from trainer.sites.lineage import current_of
from trainer.sites.models import Site, SiteKind, Unit


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
