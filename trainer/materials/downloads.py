"""Downloads: a version's file, download counts per material and site (signed site links, one count
per visitor and day), previews."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, select

from trainer.auth.models import User
from trainer.auth.services import require_any
from trainer.dbtypes import utcnow
from trainer.errors import NotFound
from trainer.extensions import db
from trainer.materials import storage
from trainer.materials.library import _is_actor
from trainer.materials.models import (
    Material,
    MaterialDownload,
    MaterialKind,
    MaterialVersion,
)
from trainer.sites.models import Site
from trainer.text import fold

log = logging.getLogger(__name__)


def version_of(material: Material, number: int | None = None) -> MaterialVersion:
    if material.kind != MaterialKind.FILE:
        raise NotFound(gettext("This material is a link, not a file."))
    wanted = number if number is not None else material.current_version
    for v in material.versions:
        if v.number == wanted:
            return v
    raise NotFound(gettext("Unknown version."))


def file_path(version: MaterialVersion) -> Path:
    path = storage.blob_path(version.blob_sha256)
    if not path.is_file():
        log.error("blob %s of material %s is missing from %s", version.blob_sha256,
                  version.material_id, path.parent)
        raise NotFound(gettext("The file is missing from storage. Ask an organiser to "
                               "upload it again."))
    return path


def _site_signature(site_id: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"materials-site:{site_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def signed_site_args(site_id: int) -> dict[str, Any]:
    """The query of a trainees' page link that counts its downloads for a site."""
    return {"site": site_id, "sig": _site_signature(site_id)}


def visitor_key(address: str | None, user_agent: str | None) -> str:
    """Who downloaded, for counting a person once a day, without keeping their address."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{address}|{user_agent}".encode(), hashlib.sha256).hexdigest()


def download_site(actor: Any, requested: int | None, signature: str | None = None
                  ) -> int | None:
    """The site a download is counted for: a coordinator's site (the one asked for among
    theirs, or their only one); for a trainee the site of a signed trainees' page link
    (signed_site_args), else none: an address typed by anyone counts for no site."""
    if _is_actor(actor):
        if actor.is_staff:
            return None
        ids = actor.site_ids
        if requested in ids:
            return requested
        return ids[0] if len(ids) == 1 else None
    if requested is None or not signature or not hmac.compare_digest(
            signature.encode(), _site_signature(requested).encode()):
        return None
    return requested if db.session.get(Site, requested) is not None else None


def record_download(actor: Any, material: Material, version: int | None,
                    site_id: int | None, *, visitor: str | None = None) -> None:
    """Count a download: by an account, or through a signed trainees' page link; each
    person (account, or browser and address) once per material, version and day."""
    from trainer.i18n import to_local

    user_id = actor.id if _is_actor(actor) else None
    if user_id is None and site_id is None:
        return  # anonymous, from no signed link: not counted
    now = utcnow()
    day = to_local(now).date()
    same = select(MaterialDownload.id).where(
        MaterialDownload.material_id == material.id, MaterialDownload.day == day,
        MaterialDownload.version.is_(None) if version is None
        else MaterialDownload.version == version,
        MaterialDownload.by_user_id == user_id if user_id is not None
        else MaterialDownload.visitor == visitor)
    if db.session.scalar(same.limit(1)) is not None:
        db.session.commit()
        return
    db.session.add(MaterialDownload(
        material_id=material.id, version=version, site_id=site_id, day=day,
        at=now, by_user_id=user_id, public=user_id is None,
        visitor=visitor if user_id is None else None,
    ))
    db.session.commit()


def download_total(material_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(MaterialDownload).where(
        MaterialDownload.material_id == material_id)) or 0


def download_totals(material_ids: list[int]) -> dict[int, int]:
    if not material_ids:
        return {}
    rows = db.session.execute(
        select(MaterialDownload.material_id, func.count())
        .where(MaterialDownload.material_id.in_(material_ids))
        .group_by(MaterialDownload.material_id))
    return dict(rows.all())


@dataclass(frozen=True)
class SiteCount:
    site_id: int | None
    name: str
    count: int


def downloads_by_site(actor: User, material: Material) -> list[SiteCount]:
    """Download counts per site; coordinators see their own sites only."""
    require_any(actor)
    rows = db.session.execute(
        select(MaterialDownload.site_id, func.count())
        .where(MaterialDownload.material_id == material.id)
        .group_by(MaterialDownload.site_id)).all()
    names = dict(db.session.execute(select(Site.id, Site.name)).all())
    out = [SiteCount(sid, names.get(sid, "") if sid is not None else "", n) for sid, n in rows]
    if not actor.is_staff:
        mine = set(actor.site_ids)
        out = [c for c in out if c.site_id in mine]
    return sorted(out, key=lambda c: (c.site_id is None, fold(c.name)))


def versions(material: Material) -> list[MaterialVersion]:
    return sorted(material.versions, key=lambda v: v.number, reverse=True)


def uploader_names(items: list[MaterialVersion]) -> dict[int, str]:
    ids = {v.uploaded_by_id for v in items if v.uploaded_by_id}
    if not ids:
        return {}
    return {u.id: (u.display_name or u.username)
            for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def preview_kind(material: Material) -> str | None:
    version = material.version
    if version is None:
        return None
    ftype = storage.BY_CONTENT_TYPE.get(version.content_type)
    return ftype.preview if ftype else None
