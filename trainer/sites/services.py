"""Bridge points and their units: rules for creating, editing and listing them."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select

from trainer.auth.models import User
from trainer.auth.services import require_any, require_staff, visible_site_ids
from trainer.errors import Conflict, Invalid, NotFound
from trainer.extensions import db
from trainer.sites.levels import admin_sort_key
from trainer.sites.models import Site, SiteKind, Unit
from trainer.text import fold, nfc

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
#: a code as typed (upper-cased before CODE_RE), for the OpenAPI document
CODE_PATTERN = CODE_RE.pattern.replace("A-Z", "A-Za-z")


def _code(code: str) -> str:
    code = nfc(code or "").upper()
    if not CODE_RE.match(code):
        raise Invalid.field("code", gettext(
            "A site code is 1 to 32 letters A-Z, digits, '-' or '_'."))
    return code


def _name(name: str, field: str = "name") -> str:
    name = nfc(name or "")
    if not name:
        raise Invalid.field(field, gettext("This field is required."))
    if len(name) > 200:
        raise Invalid.field(field, gettext("At most %(n)s characters.", n=200))
    return name


def _kind(kind: str | SiteKind) -> SiteKind:
    try:
        return SiteKind(kind)
    except ValueError:
        raise Invalid.field("kind", gettext("Must be one of: %(values)s",
                                            values="host, bridge")) from None


def list_sites(actor: User, *, q: str | None = None, kind: str | None = None) -> Any:
    """An ordered select() of the sites the actor may see (host first, then in officials'
    order: city, towns, districts; or wards, then communes)."""
    require_any(actor)
    stmt = select(Site)
    ids = visible_site_ids(actor)
    if ids is not None:
        stmt = stmt.where(Site.id.in_(ids))
    if q:
        stmt = stmt.where(Site.name_folded.contains(fold(q)) | Site.code.contains(nfc(q).upper()))
    if kind:
        stmt = stmt.where(Site.kind == _kind(kind))
    return stmt.order_by(Site.kind.desc(), Site.sort_key, Site.id)


def all_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.kind.desc(), Site.sort_key, Site.id)))


def get_site(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound(gettext("Unknown site."))
    return site


def site_by_code(code: str) -> Site | None:
    return db.session.scalar(select(Site).where(Site.code == nfc(code or "").upper()))


def create_site(actor: User | None, *, code: str, name: str, kind: str = "bridge",
                address: str | None = None, commit: bool = True) -> Site:
    if actor is not None:
        require_staff(actor)
    code, name, kind_ = _code(code), _name(name), _kind(kind)
    if site_by_code(code):
        raise Conflict(gettext("The site code %(code)s is taken.", code=code),
                       errors={"code": [gettext("Already taken.")]})
    site = Site(code=code, name=name, name_folded=fold(name), kind=kind_,
                address=nfc(address) if address else None)
    db.session.add(site)
    if commit:
        db.session.commit()
    return site


def update_site(actor: User, site: Site, *, code: str | None = None, name: str | None = None,
                kind: str | None = None, address: str | None = None) -> Site:
    require_staff(actor)
    if code is not None:
        code = _code(code)
        other = site_by_code(code)
        if other is not None and other.id != site.id:
            raise Conflict(gettext("The site code %(code)s is taken.", code=code),
                           errors={"code": [gettext("Already taken.")]})
        site.code = code
    if name is not None:
        site.name = _name(name)
        site.name_folded, site.sort_key = fold(site.name), admin_sort_key(site.name)
    if kind is not None:
        site.kind = _kind(kind)
    if address is not None:
        site.address = nfc(address) or None
    db.session.commit()
    return site


def add_unit(actor: User | None, site: Site, name: str, *, centre_name: str | None = None,
             rating: str | None = None, commit: bool = True) -> Unit:
    if actor is not None:
        require_staff(actor)
    name = _name(name)
    exists = db.session.scalar(
        select(Unit.id).where(Unit.site_id == site.id, Unit.name_folded == fold(name)))
    if exists:
        raise Conflict(gettext("%(name)s is already listed under this site.", name=name),
                       errors={"name": [gettext("Already listed.")]})
    unit = Unit(site_id=site.id, name=name, name_folded=fold(name), sort_key=admin_sort_key(name),
                centre_name=nfc(centre_name) if centre_name else None, rating=rating or None)
    db.session.add(unit)
    if commit:
        db.session.commit()
    return unit


def update_unit(actor: User, unit: Unit, *, name: str | None = None,
                centre_name: str | None = None, rating: str | None = None) -> Unit:
    require_staff(actor)
    if name is not None:
        name = _name(name)
        clash = db.session.scalar(select(Unit.id).where(
            Unit.site_id == unit.site_id, Unit.name_folded == fold(name), Unit.id != unit.id))
        if clash:
            raise Conflict(gettext("%(name)s is already listed under this site.", name=name),
                           errors={"name": [gettext("Already listed.")]})
        unit.name, unit.name_folded, unit.sort_key = name, fold(name), admin_sort_key(name)
    if centre_name is not None:
        unit.centre_name = nfc(centre_name) or None
    if rating is not None:
        unit.rating = rating or None
    db.session.commit()
    return unit


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(gettext("Unknown unit."))
    return unit


UNIT_PREFIXES = ("xa ", "phuong ", "thi tran ", "dac khu ", "ttr ", "p. ", "x. ")


def _bare(folded: str) -> str:
    for prefix in UNIT_PREFIXES:
        if folded.startswith(prefix):
            return folded.removeprefix(prefix)
    return folded


def find_unit(site_id: int, name: str | None) -> Unit | None:
    """The unit of a site whose name matches, ignoring accents, case, tone placement and a
    leading "Xã" / "Phường" / "Thị trấn" / "Đặc khu"."""
    if not name:
        return None
    wanted = _bare(fold(name))
    for unit in db.session.scalars(select(Unit).where(Unit.site_id == site_id)):
        if _bare(unit.name_folded) == wanted:
            return unit
    return None


def unit_counts() -> dict[int, int]:
    rows = db.session.execute(select(Unit.site_id, func.count())
                              .where(Unit.ended_on.is_(None)).group_by(Unit.site_id))
    return {site_id: n for site_id, n in rows}
