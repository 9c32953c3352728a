"""What a unit became: merged units point to their successor (since the 2025 reform a
commune-level unit often took in several former communes, wards and towns)."""

from __future__ import annotations

from sqlalchemy import select

from trainer.extensions import db
from trainer.sites.models import Unit


def current_of() -> dict[int, int]:
    """{id of a unit that ended: id of the current unit it became}, following the chain."""
    links: dict[int, int] = {
        unit_id: successor_id for unit_id, successor_id in db.session.execute(
            select(Unit.id, Unit.successor_id).where(Unit.successor_id.is_not(None)))
        if successor_id is not None}
    out: dict[int, int] = {}
    for start in links:
        seen, at = {start}, links[start]
        while at in links and at not in seen:
            seen.add(at)
            at = links[at]
        out[start] = at
    return out
