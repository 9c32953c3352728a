"""Registrations by sex per session (the lists of sessions show who is expected, women and
men apart)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from trainer.extensions import db
from trainer.people.models import Participant, Sex
from trainer.sessions.models import Registration


def registered(session_ids: Sequence[int], site_ids: Sequence[int] | None = None
               ) -> dict[int, dict[str, int]]:
    """{session_id: {"female": n, "male": n, "unspecified": n}} of the registrations (of these
    sites only, when given)."""
    if not session_ids:
        return {}
    stmt = (select(Registration.session_id, Participant.sex, func.count())
            .join(Participant, Participant.id == Registration.participant_id)
            .where(Registration.session_id.in_(list(session_ids)))
            .group_by(Registration.session_id, Participant.sex))
    if site_ids is not None:
        stmt = stmt.where(Registration.site_id.in_(list(site_ids) or [-1]))
    out: dict[int, dict[str, int]] = {}
    for session_id, sex, n in db.session.execute(stmt):
        row = out.setdefault(session_id, {s.value: 0 for s in Sex})
        row[Sex(sex).value] += n
    return out
