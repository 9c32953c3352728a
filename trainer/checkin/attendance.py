"""Attendance: counts per site and by sex, what a watcher of the session gets, a site's roster for
its check-in page."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, func, select, union

from trainer.auth.models import User
from trainer.auth.services import require_site
from trainer.checkin.rules import _session_for_site, iso, require_session_viewer, session_site_ids
from trainer.errors import NotFound
from trainer.extensions import db
from trainer.people.models import Participant, Sex
from trainer.sessions.models import (
    Checkin,
    Registration,
    TrainingSession,
)

log = logging.getLogger(__name__)


def _zero() -> dict[str, Any]:
    return {"registered": 0, "present": 0, "female": 0, "male": 0, "unspecified": 0}


def _counts(session_id: int, site_ids: Iterable[int] | None = None
            ) -> tuple[dict[int, dict[str, Any]], dict[int, datetime]]:
    """Registered and present (by sex) per site, and the last check-in time per site:
    two GROUP BY queries."""
    reg = select(Registration.site_id, func.count()).where(
        Registration.session_id == session_id).group_by(Registration.site_id)
    present = (select(Checkin.site_id, Participant.sex, func.count(), func.max(Checkin.at))
               .join(Participant, Participant.id == Checkin.participant_id)
               .where(Checkin.session_id == session_id)
               .group_by(Checkin.site_id, Participant.sex))
    if site_ids is not None:
        ids = list(site_ids)
        reg = reg.where(Registration.site_id.in_(ids))
        present = present.where(Checkin.site_id.in_(ids))
    out: dict[int, dict[str, Any]] = {}
    last: dict[int, datetime] = {}
    for site_id, n in db.session.execute(reg):
        out.setdefault(site_id, _zero())["registered"] = n
    for site_id, sex, n, latest in db.session.execute(present):
        row = out.setdefault(site_id, _zero())
        row[Sex(sex).value] += n
        row["present"] += n
        if latest is not None and (site_id not in last or latest > last[site_id]):
            last[site_id] = latest
    return out, last


def attendance(session_id: int, site_ids: Iterable[int] | None = None) -> dict[str, Any]:
    """The API.md attendance body, read from the database, with its version.

    The version is read before the counts, so the counts are never older than the version
    says (a client keeps the newest version; a later push can only carry more)."""
    version = db.session.scalar(select(TrainingSession.attendance_version)
                                .where(TrainingSession.id == session_id))
    if version is None:
        raise NotFound(gettext("Unknown session."))
    wanted = None if site_ids is None else set(site_ids)
    ids = [i for i in session_site_ids(session_id) if wanted is None or i in wanted]
    counts, last = _counts(session_id, ids if wanted is not None else None)
    for extra in sorted(set(counts) - set(ids)):  # e.g. a site removed after its check-ins
        if wanted is None or extra in wanted:
            ids.append(extra)
    totals = _zero()
    sites = []
    for site_id in ids:
        row = counts.get(site_id) or _zero()
        for key in totals:
            totals[key] += row[key]
        sites.append({"site_id": site_id, **row, "last_checkin_at": iso(last.get(site_id))})
    return {"session_id": session_id, "version": int(version), "sites": sites,
            "totals": totals}


def watch(actor: User | None, session_id: int) -> dict[str, Any]:
    """What a watcher (the wall, a projector, a script) gets on `watch`: the attendance."""
    require_session_viewer(actor, session_id)
    return attendance(session_id)


def roster(actor: User | None, session_id: int, site_id: int) -> list[dict[str, Any]]:
    """The people expected at a site (registered there) and the people checked in there,
    sorted the Vietnamese way, with their check-in if any (possibly at another site)."""
    require_site(actor, site_id)
    _session_for_site(session_id, site_id)
    ids = union(
        select(Registration.participant_id).where(Registration.session_id == session_id,
                                                  Registration.site_id == site_id),
        select(Checkin.participant_id).where(Checkin.session_id == session_id,
                                             Checkin.site_id == site_id),
    )
    stmt = (
        select(Participant, Registration.site_id, Registration.walk_in, Checkin.id, Checkin.at,
               Checkin.site_id, Checkin.flags)
        .outerjoin(Registration, and_(Registration.participant_id == Participant.id,
                                      Registration.session_id == session_id))
        .outerjoin(Checkin, and_(Checkin.participant_id == Participant.id,
                                 Checkin.session_id == session_id))
        .where(Participant.id.in_(select(ids.subquery().c[0])))
        .order_by(Participant.sort_key, Participant.id)
    )
    rows = []
    for p, reg_site, walk, c_id, c_at, c_site, c_flags in db.session.execute(stmt):
        rows.append({
            "participant_id": p.id, "code": p.code, "full_name": p.full_name,
            "sex": p.sex.value, "unit": p.unit, "position": p.position,
            "birth_year": p.birth_year, "site_id": reg_site if reg_site is not None else p.site_id,
            "registered": reg_site is not None, "walk_in": bool(walk),
            "checkin_id": c_id, "checked_in_at": iso(c_at), "checkin_site_id": c_site,
            "present": c_id is not None and c_site == site_id,
            "flags": list(c_flags or []),
        })
    return rows
