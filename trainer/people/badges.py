"""Printable badges: one card per participant of a site, with name, unit, code and QR code."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import segno
from sqlalchemy import select

from trainer.auth.models import User
from trainer.auth.services import require_site
from trainer.extensions import db
from trainer.offload import off_loop
from trainer.people.models import Participant
from trainer.sites.models import Site
from trainer.sites.services import get_site


@lru_cache(maxsize=4096)
def qr_data_uri(code: str) -> str:
    """The participant code as an SVG QR code in a data: URI (one request for a whole sheet;
    the CSP allows img data:)."""
    return str(segno.make(code, error="m").svg_data_uri(scale=4, border=2))


def qr_data_uris(codes: list[str]) -> list[str]:
    return [qr_data_uri(code) for code in codes]


def qr_svg(code: str) -> bytes:
    """A standalone SVG document (with its namespace, so it renders as an image)."""
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="svg", scale=4, border=2,
                                     title=f"QR {code}")
    return out.getvalue()


@dataclass(frozen=True)
class Badge:
    participant_id: int
    full_name: str
    position: str | None
    unit: str | None
    site_name: str
    code: str
    qr: str


def badges_for_site(actor: User, site_id: int) -> tuple[Site, list[Badge]]:
    """The site's participants in Vietnamese name order, as badges. Coordinators: their
    sites only."""
    require_site(actor, site_id)
    site = get_site(site_id)
    people = list(db.session.scalars(
        select(Participant).where(Participant.site_id == site.id)
        .order_by(Participant.sort_key, Participant.id)))
    codes = [p.code for p in people]
    qrs = off_loop(qr_data_uris, codes)  # seconds for a big site
    return site, [
        Badge(participant_id=p.id, full_name=p.full_name, position=p.position, unit=p.unit,
              site_name=site.name, code=p.code, qr=qr)
        for p, qr in zip(people, qrs, strict=True)
    ]
