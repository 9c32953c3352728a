"""Materials: the rules for topics, uploads, versions, links, visibility and downloads.

Organisers (and admins) write; coordinators read and download everything; people without
an account (trainees) reach shared materials only. Services own the commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import get_locale, gettext
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from trainer.audit import services as audit
from trainer.auth.models import User
from trainer.auth.services import require_any, require_staff
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Invalid, NotFound
from trainer.extensions import db
from trainer.materials import storage
from trainer.materials.models import (
    Blob,
    Material,
    MaterialDownload,
    MaterialKind,
    MaterialVersion,
    Topic,
    Visibility,
)
from trainer.sessions.models import AgendaItem, Training, TrainingSession
from trainer.sites.models import Site
from trainer.text import fold, nfc, search_terms
from trainer.validation import field_text

log = logging.getLogger(__name__)

BUILTIN_TOPICS: tuple[tuple[str, str, str], ...] = (
    ("management", "Quản lý, điều hành TTHTCĐ",
     "Managing and running community learning centres"),
    ("gender", "Giới và bình đẳng giới", "Gender and gender equality"),
)
LANGUAGES = ("vi", "en")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
TOPIC_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
TITLE_MAX = 300
DESCRIPTION_MAX = 5000
URL_MAX = 2000


def _is_actor(actor: Any) -> bool:
    return actor is not None and bool(getattr(actor, "is_authenticated", False))


def _write(actor: User | None) -> None:
    """Writes: organisers and admins; None means the command line / demo loader."""
    if actor is not None:
        require_staff(actor)


# --------------------------------------------------------------------------- topics

def _insert_ignore(model: Any, rows: list[dict[str, Any]], key: str) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: safe when another request inserts the same key."""
    if not rows:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(model).values(rows).on_conflict_do_nothing(index_elements=[key])
    db.session.execute(stmt)


def ensure_topics() -> bool:
    """The built-in topics exist (inserted, in the caller's transaction, the first time they
    are needed); True when some were added."""
    have = set(db.session.scalars(select(Topic.key).where(
        Topic.key.in_([k for k, _, _ in BUILTIN_TOPICS]))))
    missing = [{"key": key, "name_vi": vi, "name_en": en, "position": i, "created_at": utcnow()}
               for i, (key, vi, en) in enumerate(BUILTIN_TOPICS) if key not in have]
    _insert_ignore(Topic, missing, "key")
    return bool(missing)


def list_topics() -> list[Topic]:
    if ensure_topics():
        db.session.commit()
    return list(db.session.scalars(select(Topic).order_by(Topic.position, Topic.key)))


def topic_name(topic: Topic | None) -> str:
    if topic is None:
        return ""
    if str(get_locale() or "vi") == "en" and topic.name_en:
        return topic.name_en
    return topic.name_vi


def topic_names() -> dict[str, str]:
    return {t.key: topic_name(t) for t in list_topics()}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:32].strip("-")


def create_topic(actor: User | None, *, name_vi: str, name_en: str | None = None,
                 key: str | None = None) -> Topic:
    _write(actor)
    ensure_topics()
    vi = field_text("name_vi", name_vi, 200, required=True)
    en = field_text("name_en", name_en, 200)
    key = (nfc(key).lower() if key else "") or _slug(en or vi or "")
    if not TOPIC_KEY_RE.match(key):
        raise Invalid.field("key", gettext(
            "A topic key is 1 to 32 lower-case letters, digits or '-'."))
    if db.session.get(Topic, key) is not None:
        raise Conflict(gettext("The topic %(key)s exists already.", key=key),
                       errors={"key": [gettext("Already taken.")]})
    position = (db.session.scalar(select(func.max(Topic.position))) or 0) + 1
    topic = Topic(key=key, name_vi=vi, name_en=en, position=position)
    db.session.add(topic)
    db.session.commit()
    return topic


def _topic(key: Any) -> Topic:
    ensure_topics()
    topic = db.session.get(Topic, str(key or "").strip().lower()) if key else None
    if topic is None:
        raise Invalid.field("topic", gettext("Unknown topic."))
    return topic


# --------------------------------------------------------------------------- field rules

def _language(value: Any) -> str:
    lang = str(value or "vi").strip().lower() or "vi"
    if not LANGUAGE_RE.match(lang):
        raise Invalid.field("language", gettext(
            "A language is a short code such as vi or en."))
    return lang


def _visibility(value: Any) -> Visibility:
    try:
        return Visibility(value or Visibility.STAFF)
    except ValueError:
        raise Invalid.field("visibility", gettext("Must be one of: %(values)s",
                                                  values="staff, shared")) from None


def check_url(value: Any) -> str:
    url = field_text("url", value, URL_MAX, required=True) or ""
    if " " in url:
        raise Invalid.field("url", gettext("A web address has no spaces."))
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise Invalid.field("url", gettext(
            "Give a full web address starting with https:// or http://."))
    return url


def _id(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid.field(name, gettext("Not a valid whole number.")) from None
    if number < 1:
        raise Invalid.field(name, gettext("Not a valid whole number."))
    return number


@dataclass(frozen=True)
class Attachment:
    training_id: int | None = None
    session_id: int | None = None
    agenda_item_id: int | None = None


def attachment(data: Mapping[str, Any]) -> Attachment:
    """One of training_id / session_id / agenda_item_id, or none; each must exist."""
    training_id = _id(data.get("training_id"), "training_id")
    session_id = _id(data.get("session_id"), "session_id")
    agenda_item_id = _id(data.get("agenda_item_id"), "agenda_item_id")
    given = [n for n, v in (("training_id", training_id), ("session_id", session_id),
                            ("agenda_item_id", agenda_item_id)) if v is not None]
    if len(given) > 1:
        message = gettext("Attach a material to one training, session or agenda item, "
                          "not several.")
        raise Invalid(message, errors={n: [message] for n in given})
    if training_id is not None and db.session.get(Training, training_id) is None:
        raise Invalid.field("training_id", gettext("Unknown training."))
    if session_id is not None and db.session.get(TrainingSession, session_id) is None:
        raise Invalid.field("session_id", gettext("Unknown session."))
    if agenda_item_id is not None and db.session.get(AgendaItem, agenda_item_id) is None:
        raise Invalid.field("agenda_item_id", gettext("Unknown agenda item."))
    return Attachment(training_id, session_id, agenda_item_id)


def parse_attach(value: str | None) -> dict[str, Any]:
    """The pages' single "attach to" choice ("training:3", "session:5", "agenda:7", "")."""
    kind, _, ident = (value or "").partition(":")
    field = {"training": "training_id", "session": "session_id",
             "agenda": "agenda_item_id"}.get(kind)
    return {field: ident} if field and ident else {}


def attach_value(material: Material | None) -> str:
    if material is None:
        return ""
    if material.training_id:
        return f"training:{material.training_id}"
    if material.session_id:
        return f"session:{material.session_id}"
    if material.agenda_item_id:
        return f"agenda:{material.agenda_item_id}"
    return ""


@dataclass(frozen=True)
class Meta:
    title: str | None
    topic: Topic
    language: str
    description: str | None
    visibility: Visibility
    attach: Attachment


def _meta(data: Mapping[str, Any], *, title_required: bool) -> Meta:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    checks = (
        ("title", lambda: field_text("title", data.get("title"), TITLE_MAX, required=title_required)),
        ("topic", lambda: _topic(data.get("topic"))),
        ("language", lambda: _language(data.get("language"))),
        ("description", lambda: field_text("description", data.get("description"), DESCRIPTION_MAX, multiline=True)),
        ("visibility", lambda: _visibility(data.get("visibility"))),
        ("attach", lambda: attachment(data)),
    )
    for name, check in checks:
        try:
            values[name] = check()
        except Invalid as exc:
            for field, msgs in (exc.errors or {name: [exc.detail]}).items():
                errors.setdefault(field, []).extend(str(m) for m in msgs)
    if errors:
        raise Invalid(gettext("Some fields are not valid."), errors=errors)
    return Meta(**values)


# --------------------------------------------------------------------------- reading

def get_material(material_id: int) -> Material:
    material = db.session.get(Material, material_id)
    if material is None:
        raise NotFound(gettext("Unknown material."))
    return material


def can_see(actor: Any, material: Material) -> bool:
    return material.visibility == Visibility.SHARED or _is_actor(actor)


def get_visible(actor: Any, material_id: int) -> Material:
    """A material the caller may see; staff-only ones are unknown (404) to anonymous callers."""
    material = db.session.get(Material, material_id)
    if material is None or not can_see(actor, material):
        raise NotFound(gettext("Unknown material."))
    return material


def _session_scope(session_id: int) -> Any:
    session = db.session.get(TrainingSession, session_id)
    conds = [
        Material.session_id == session_id,
        Material.agenda_item_id.in_(select(AgendaItem.id).where(
            AgendaItem.session_id == session_id)),
    ]
    if session is not None and session.training_id is not None:
        conds.append(Material.training_id == session.training_id)
    return or_(*conds)


def _training_scope(training_id: int) -> Any:
    sessions = select(TrainingSession.id).where(TrainingSession.training_id == training_id)
    return or_(
        Material.training_id == training_id,
        Material.session_id.in_(sessions),
        Material.agenda_item_id.in_(select(AgendaItem.id).where(
            AgendaItem.session_id.in_(sessions))),
    )


def list_materials(actor: User, *, session_id: int | None = None,
                   training_id: int | None = None, topic: str | None = None,
                   q: str | None = None, kind: str | None = None,
                   visibility: str | None = None, newest_first: bool = False) -> Select[Any]:
    """An ordered select() of materials. `session_id` covers the session, its agenda items
    and its training; `training_id` the training and everything in its sessions."""
    require_any(actor)
    stmt = select(Material).options(selectinload(Material.versions), selectinload(Material.topic))
    if session_id is not None:
        stmt = stmt.where(_session_scope(session_id))
    if training_id is not None:
        stmt = stmt.where(_training_scope(training_id))
    if topic:
        stmt = stmt.where(Material.topic_key == topic)
    if kind in ("file", "link"):
        stmt = stmt.where(Material.kind == MaterialKind(kind))
    if visibility in ("staff", "shared"):
        stmt = stmt.where(Material.visibility == Visibility(visibility))
    for term in search_terms(q or "")[:10]:
        stmt = stmt.where(Material.title_folded.contains(term, autoescape=True))
    return stmt.order_by(Material.id.desc() if newest_first else Material.id)


def shared_for_session(session_id: int) -> list[Material]:
    """What trainees see for a session: shared materials of the session, its agenda items
    and its training."""
    stmt = (select(Material).options(selectinload(Material.versions))
            .where(_session_scope(session_id), Material.visibility == Visibility.SHARED)
            .order_by(Material.topic_key, Material.title_folded, Material.id))
    return list(db.session.scalars(stmt))


def for_session(actor: Any, session_id: int) -> list[Material]:
    """The materials a session page shows to this caller (all for accounts, else shared)."""
    if not _is_actor(actor):
        return shared_for_session(session_id)
    stmt = (select(Material).options(selectinload(Material.versions))
            .where(_session_scope(session_id))
            .order_by(Material.topic_key, Material.title_folded, Material.id))
    return list(db.session.scalars(stmt))


def get_public_session(session_id: int) -> TrainingSession:
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        raise NotFound(gettext("Unknown session."))
    return session


def attached_to(material: Material) -> tuple[str, str] | None:
    """(kind, label) of what a material is attached to, for pages."""
    if material.training_id:
        training = db.session.get(Training, material.training_id)
        return ("training", training.title) if training else None
    if material.session_id:
        session = db.session.get(TrainingSession, material.session_id)
        return ("session", session.title) if session else None
    if material.agenda_item_id:
        item = db.session.get(AgendaItem, material.agenda_item_id)
        if item is None:
            return None
        session = db.session.get(TrainingSession, item.session_id)
        return ("agenda", f"{session.title if session else ''} · {item.title}")
    return None


def session_of(material: Material) -> int | None:
    """The session whose public page lists this material, if any."""
    if material.session_id:
        return material.session_id
    if material.agenda_item_id:
        item = db.session.get(AgendaItem, material.agenda_item_id)
        return item.session_id if item else None
    return None


def attach_choices() -> dict[str, list[Any]]:
    trainings = list(db.session.scalars(select(Training).order_by(Training.id.desc())))
    sessions = list(db.session.scalars(
        select(TrainingSession).order_by(TrainingSession.starts_at.desc())))
    by_id = {s.id: s for s in sessions}
    items = [(item, by_id.get(item.session_id)) for item in db.session.scalars(
        select(AgendaItem).order_by(AgendaItem.session_id, AgendaItem.position, AgendaItem.id))]
    return {"trainings": trainings, "sessions": sessions, "agenda": items}


# --------------------------------------------------------------------------- writing

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
                data: Mapping[str, Any], *, commit: bool = True) -> Material:
    """A new file material from an upload stream (read in chunks, never whole)."""
    _write(actor)
    meta = _meta(data, title_required=False)
    staged = storage.stage(stream, filename)
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


UPDATABLE = ("title", "topic", "language", "description", "visibility", "url",
             "training_id", "session_id", "agenda_item_id", "current_version")


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


# --------------------------------------------------------------------------- files, downloads

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

