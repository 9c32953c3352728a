"""The library of materials: topics, what a material is attached to, who may see it, the lists of a
session or training."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import get_locale, gettext
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from trainer.auth.models import User
from trainer.auth.services import require_any, require_staff
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Invalid, NotFound
from trainer.extensions import db
from trainer.materials.models import (
    Material,
    MaterialKind,
    Topic,
    Visibility,
)
from trainer.sessions.models import AgendaItem, Training, TrainingSession
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
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[": an unclosed IPv6 bracket
        parts = urlsplit("")
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


UPDATABLE = ("title", "topic", "language", "description", "visibility", "url",
             "training_id", "session_id", "agenda_item_id", "current_version")
