"""Quiz figures by sex: the people who started, submitted and passed a quiz per site (and
those present), split into women, men and those whose sex is not recorded. Counted from
the same per-person entries as the totals (each person's counted attempt, at its site), so
the split always adds up to the total."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select

from trainer.extensions import db
from trainer.people.models import Participant, Sex
from trainer.quizzes.models import Attempt
from trainer.sessions.models import Checkin

SEXES = tuple(s.value for s in Sex)  # female, male, unspecified
MEASURES = ("started", "submitted", "passed")


def sexes_of(quiz_id: int) -> dict[int, str]:
    """{participant_id: sex} of everyone with an attempt at the quiz (one query, however
    many people)."""
    takers = select(Attempt.participant_id).where(Attempt.quiz_id == quiz_id)
    return {pid: Sex(sex).value for pid, sex in db.session.execute(
        select(Participant.id, Participant.sex).where(Participant.id.in_(takers)))}


def empty() -> dict[str, int]:
    return {f"{m}_{s}": 0 for m in MEASURES for s in SEXES}


def split(quiz_id: int, counted: Mapping[int, Any]) -> dict[int, dict[str, int]]:
    """{site_id: {"started_female": n, ..., "passed_unspecified": n}} from the per-person
    entries of a quiz (objects with participant_id, site_id and attempt)."""
    sexes = sexes_of(quiz_id) if counted else {}
    out: dict[int, dict[str, int]] = {}
    for entry in counted.values():
        sex = sexes.get(entry.participant_id, "unspecified")
        row = out.setdefault(entry.site_id, empty())
        row[f"started_{sex}"] += 1
        if entry.attempt is not None:
            row[f"submitted_{sex}"] += 1
            row[f"passed_{sex}"] += bool(entry.attempt.passed)
    return out


def present(session_id: int) -> dict[int, dict[str, int]]:
    """{site_id: {"present_female": n, ...}}: those checked in to the session, by sex."""
    out: dict[int, dict[str, int]] = {}
    for site_id, sex, n in db.session.execute(
            select(Checkin.site_id, Participant.sex, func.count())
            .join(Participant, Participant.id == Checkin.participant_id)
            .where(Checkin.session_id == session_id)
            .group_by(Checkin.site_id, Participant.sex)):
        row = out.setdefault(site_id, {f"present_{s}": 0 for s in SEXES})
        row[f"present_{Sex(sex).value}"] += n
    return out


def add_up(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The totals of the by-sex keys of these rows."""
    keys = [f"{m}_{s}" for m in ("present", *MEASURES) for s in SEXES]
    return {k: sum(int(r.get(k, 0)) for r in rows) for k in keys}
