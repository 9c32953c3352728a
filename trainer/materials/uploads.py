"""Adding and changing materials: files streamed to storage once per content, links, versions,
deletion."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import IO, Any

from flask_babel import gettext
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from trainer.audit import services as audit
from trainer.auth.models import User
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Invalid
from trainer.extensions import db
from trainer.materials import storage
from trainer.materials.library import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    UPDATABLE,
    _id,
    _insert_ignore,
    _language,
    _meta,
    _topic,
    _visibility,
    _write,
    attachment,
    check_url,
)
from trainer.materials.models import (
    Blob,
    Material,
    MaterialKind,
    MaterialVersion,
)
from trainer.text import fold
from trainer.validation import field_text

log = logging.getLogger(__name__)


def _insert_blob(staged: storage.Staged) -> None:
    """The Blob row, unless the same content is stored already (INSERT ... ON CONFLICT)."""
    _insert_ignore(Blob, [{"sha256": staged.sha256, "size": staged.size,
                           "content_type": staged.ftype.content_type, "created_at": utcnow()}],
                   "sha256")


def _forget_file(sha256: str) -> None:
    """After a failed transaction: remove a blob file this request put there, unless
    another transaction has stored (and so now needs) the same content."""
    try:
        still_needed = db.session.get(Blob, sha256) is not None
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the database is gone: keep the (harmless) file
        log.warning("could not check blob %s after a failed upload; file kept", sha256)
        return
    if not still_needed:
        storage.remove_blob_file(sha256)


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a dead connection: drop it, keep the first error
        db.session.close()


def _save_version(actor: User | None, material: Material, staged: storage.Staged,
                  number: int, *, commit: bool, action: str) -> MaterialVersion:
    """Row(s), then the file moved into place, then the commit; undone together."""
    created_file = False
    try:
        _insert_blob(staged)
        version = MaterialVersion(
            number=number, blob_sha256=staged.sha256, filename=staged.filename,
            size=staged.size, content_type=staged.ftype.content_type,
            uploaded_by_id=actor.id if actor is not None else None,
        )
        material.versions.append(version)
        material.current_version = number
        db.session.add(material)
        db.session.flush()
        created_file = storage.place(staged)
        audit.record(action, user_id=actor.id if actor is not None else None,
                     session_id=material.session_id, material_id=material.id,
                     version=number, sha256=staged.sha256, filename=staged.filename)
        if commit:
            db.session.commit()
    except IntegrityError as exc:
        _rollback()
        if created_file:
            _forget_file(staged.sha256)
        # e.g. two replacements of one file at once: both wanted the same version number
        raise Conflict(gettext("The material changed at the same time. Please try again.")
                       ) from exc
    except BaseException:
        _rollback()
        if created_file:
            _forget_file(staged.sha256)
        raise
    finally:
        staged.discard()
    return version


def create_file(actor: User | None, stream: IO[bytes], filename: str | None,
                data: Mapping[str, Any], *, commit: bool = True,
                made_here: bool = False) -> Material:
    """A new file material from an upload stream (read in chunks, never whole). `made_here`:
    a file trainer made (a recording), not bound by the upload limit."""
    _write(actor)
    meta = _meta(data, title_required=False)
    staged = storage.stage(stream, filename, made_here=made_here)
    try:
        title = meta.title or storage.title_from_filename(staged.filename)[:TITLE_MAX]
        material = Material(
            title=title, title_folded=fold(title), topic_key=meta.topic.key,
            language=meta.language, description=meta.description, kind=MaterialKind.FILE,
            visibility=meta.visibility, training_id=meta.attach.training_id,
            session_id=meta.attach.session_id, agenda_item_id=meta.attach.agenda_item_id,
            created_by_id=actor.id if actor is not None else None,
        )
    except BaseException:
        staged.discard()
        raise
    _save_version(actor, material, staged, 1, commit=commit, action="material.create")
    return material


def create_link(actor: User | None, url: str, data: Mapping[str, Any], *,
                commit: bool = True) -> Material:
    _write(actor)
    url = check_url(url)
    meta = _meta(data, title_required=False)
    title = meta.title or url[:TITLE_MAX]
    material = Material(
        title=title, title_folded=fold(title), topic_key=meta.topic.key,
        language=meta.language, description=meta.description, kind=MaterialKind.LINK,
        url=url, visibility=meta.visibility, training_id=meta.attach.training_id,
        session_id=meta.attach.session_id, agenda_item_id=meta.attach.agenda_item_id,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(material)
    db.session.flush()
    audit.record("material.create", user_id=actor.id if actor is not None else None,
                 session_id=material.session_id, material_id=material.id, url=url)
    if commit:
        db.session.commit()
    return material


def create(actor: User | None, data: Mapping[str, Any], *, stream: IO[bytes] | None = None,
           filename: str | None = None) -> Material:
    """A file (stream given) or a link (data["url"]), not both."""
    has_url = bool(str(data.get("url") or "").strip())
    if stream is not None and has_url:
        message = gettext("Send a file or a web address, not both.")
        raise Invalid(message, errors={"file": [message], "url": [message]})
    if stream is not None:
        return create_file(actor, stream, filename, data)
    if has_url:
        return create_link(actor, data["url"], data)
    _write(actor)
    message = gettext("Choose a file to upload or give a web address.")
    raise Invalid(message, errors={"file": [message]})


def add_version(actor: User | None, material: Material, stream: IO[bytes],
                filename: str | None) -> MaterialVersion:
    """Replace a material's file; the earlier versions are kept."""
    _write(actor)
    if material.kind != MaterialKind.FILE:
        raise Conflict(gettext("A link has no file to replace."))
    staged = storage.stage(stream, filename)
    number = (db.session.scalar(select(func.max(MaterialVersion.number))
                                .where(MaterialVersion.material_id == material.id)) or 0) + 1
    return _save_version(actor, material, staged, number, commit=True,
                         action="material.version")


def update(actor: User | None, material: Material, data: Mapping[str, Any]) -> Material:
    """Change metadata. Giving any of training_id / session_id / agenda_item_id replaces the
    attachment with the one given (all three null detaches)."""
    _write(actor)
    unknown = set(data) - set(UPDATABLE)
    if unknown:
        raise Invalid(gettext("Some fields are not valid."),
                      errors={k: [gettext("Unknown field.")] for k in sorted(unknown)})
    if "title" in data:
        title = field_text("title", data["title"], TITLE_MAX, required=True) or ""
        material.title, material.title_folded = title, fold(title)
    if "topic" in data:
        material.topic_key = _topic(data["topic"]).key
    if "language" in data:
        material.language = _language(data["language"])
    if "description" in data:
        material.description = field_text("description", data["description"], DESCRIPTION_MAX, multiline=True)
    if "visibility" in data:
        material.visibility = _visibility(data["visibility"])
    if "url" in data:
        if material.kind != MaterialKind.LINK:
            raise Invalid.field("url", gettext("Only a link has a web address; replace the "
                                               "file with a new version instead."))
        material.url = check_url(data["url"])
    if any(k in data for k in ("training_id", "session_id", "agenda_item_id")):
        att = attachment(data)
        material.training_id = att.training_id
        material.session_id = att.session_id
        material.agenda_item_id = att.agenda_item_id
    if "current_version" in data and data["current_version"] is not None:
        number = _id(data["current_version"], "current_version")
        if material.kind != MaterialKind.FILE or number not in {
                v.number for v in material.versions}:
            raise Invalid.field("current_version", gettext("Unknown version."))
        material.current_version = number
    audit.record("material.update", user_id=actor.id if actor is not None else None,
                 session_id=material.session_id, material_id=material.id,
                 fields=sorted(data))
    db.session.commit()
    return material


def delete_material(actor: User | None, material: Material) -> None:
    """Delete a material, its versions and its download counts; content no other material
    uses is removed from disk once the deletion is committed."""
    _write(actor)
    shas = {v.blob_sha256 for v in material.versions}
    audit.record("material.delete", user_id=actor.id if actor is not None else None,
                 session_id=material.session_id, material_id=material.id,
                 title=material.title)
    db.session.delete(material)
    db.session.flush()
    unused = [sha for sha in shas if not db.session.scalar(
        select(func.count()).select_from(MaterialVersion)
        .where(MaterialVersion.blob_sha256 == sha))]
    if unused:
        db.session.execute(delete(Blob).where(Blob.sha256.in_(unused)))
    db.session.commit()
    for sha in unused:
        if db.session.get(Blob, sha) is None:  # not stored again meanwhile
            storage.remove_blob_file(sha)
    db.session.rollback()  # end the read transaction
