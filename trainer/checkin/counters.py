"""The attendance counters of a site (SiteAttendance), changed in the transaction of each
check-in, walk-in and undo, and the attendance version bump that goes with them.

Core statements on the session's connection (the session's transaction): one UPDATE ...
RETURNING for the version, one upsert (or UPDATE for an undo) ... RETURNING for the site's
counters; on PostgreSQL a check-in's version bump is a WITH of its upsert (one round trip
instead of two: SQLite takes no UPDATE inside a WITH). What they return is the site's row of
a live push: the request that changed it hands it to trainer.checkin.push, which sends it
without counting check-ins again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, literal, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite

from trainer.checkin.models import SiteAttendance
from trainer.extensions import db
from trainer.people.models import Participant, Sex
from trainer.sessions.models import Checkin, TrainingSession

SEXES = ("female", "male", "unspecified")

_t = SiteAttendance.__table__
_s = TrainingSession.__table__

_BUMP = (update(_s).where(_s.c.id == bindparam("session_id"))
         .values(attendance_version=_s.c.attendance_version + 1,
                 updated_at=_s.c.updated_at)  # not an edit of the session
         .returning(_s.c.attendance_version))


_NEW: dict[str, Any] = {
    "session_id": bindparam("session_id"), "site_id": bindparam("site_id"),
    "female": bindparam("female"), "male": bindparam("male"),
    "unspecified": bindparam("unspecified"), "last_checkin_at": bindparam("at")}


def _upsert(dialect: Any) -> Any:
    """Count one more at a site: INSERT ... ON CONFLICT DO UPDATE ... RETURNING the counters
    and the version. On PostgreSQL the version comes from the bump, a WITH of the statement."""
    if dialect is postgresql:
        bumped = _BUMP.cte("bumped")
        stmt = dialect.insert(_t).from_select(
            [*_NEW, "version"],
            select(*[type_coerce(v, _t.c[k].type) for k, v in _NEW.items()],
                   bumped.c.attendance_version))
    else:
        stmt = dialect.insert(_t).values(**_NEW, version=bindparam("version"))
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["session_id", "site_id"],
        set_={"female": _t.c.female + new.female, "male": _t.c.male + new.male,
              "unspecified": _t.c.unspecified + new.unspecified,
              "last_checkin_at": case(
                  (_t.c.last_checkin_at.is_(None), new.last_checkin_at),
                  (_t.c.last_checkin_at < new.last_checkin_at, new.last_checkin_at),
                  else_=_t.c.last_checkin_at),
              "version": new.version},
    ).returning(_t.c.female, _t.c.male, _t.c.unspecified, _t.c.last_checkin_at, _t.c.version)


_ADD = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}

_REMOVE = (
    update(_t).where(_t.c.session_id == bindparam("b_session_id"),
                     _t.c.site_id == bindparam("b_site_id"))
    .values(female=_t.c.female - bindparam("b_female"), male=_t.c.male - bindparam("b_male"),
            unspecified=_t.c.unspecified - bindparam("b_unspecified"),
            version=bindparam("b_version"),
            last_checkin_at=select(func.max(Checkin.at))
            .where(Checkin.session_id == bindparam("b_session_id"),
                   Checkin.site_id == bindparam("b_site_id")).scalar_subquery())
    .returning(_t.c.female, _t.c.male, _t.c.unspecified, _t.c.last_checkin_at))


def bump_version(session_id: int) -> int:
    """attendance_version + 1 in the caller's transaction (on PostgreSQL it also serialises
    the changes of one session until the commit, so versions follow the commit order)."""
    conn = db.session.connection()
    return int(conn.execute(_BUMP, {"session_id": session_id}).scalar_one())


def site_row(site_id: int, counts: Any) -> dict[str, Any]:
    """A site's row of the attendance body (without `registered`, which the push adds)."""
    female, male, unspecified, last = counts
    return {"site_id": site_id, "present": female + male + unspecified, "female": female,
            "male": male, "unspecified": unspecified,
            "last_checkin_at": last.isoformat() if last is not None else None}


def change(session_id: int, site_id: int, sex: str, at: datetime | None, *,
           removed: bool = False) -> tuple[int, dict[str, Any]]:
    """Count one person more (or, `removed`, one less) at a site, with the version bump, in
    the caller's transaction: (the new version, the site's row)."""
    conn = db.session.connection()
    params: dict[str, Any] = {"session_id": session_id, "site_id": site_id, "at": at,
                              **{s: int(s == sex) for s in SEXES}}
    counts: Any
    if not removed and conn.dialect.name == "postgresql":  # the bump is in the statement
        counts = conn.execute(_ADD["postgresql"], params).one()
        return counts.version, site_row(site_id, counts[:4])
    version = params["version"] = bump_version(session_id)
    if removed:
        counts = conn.execute(_REMOVE, {f"b_{k}": v for k, v in params.items()}).first()
    else:
        counts = conn.execute(_ADD[conn.dialect.name], params).first()
    if counts is None:  # an undo of a check-in counted before the counters existed
        counts = (0, 0, 0, None)
    return version, site_row(site_id, counts[:4])


def rebuild(session_id: int | None = None) -> None:
    """Count the counters again from the check-ins (after a bulk load: the demo, benchmarks),
    in the caller's transaction."""
    conn = db.session.connection()
    stale = delete(_t)
    counted = (select(Checkin.session_id, Checkin.site_id,
                      *[func.sum(case((Participant.sex == Sex(s), 1), else_=0))
                        for s in SEXES],
                      func.max(Checkin.at), func.max(TrainingSession.attendance_version)
                      + literal(0))
               .join(Participant, Participant.id == Checkin.participant_id)
               .join(TrainingSession, TrainingSession.id == Checkin.session_id)
               .group_by(Checkin.session_id, Checkin.site_id))
    if session_id is not None:
        stale = stale.where(_t.c.session_id == session_id)
        counted = counted.where(Checkin.session_id == session_id)
    conn.execute(stale)
    conn.execute(insert(_t).from_select(
        ["session_id", "site_id", "female", "male", "unspecified", "last_checkin_at",
         "version"], counted))
