"""Who issues the documents and who signs them: the parent agency, the issuing agency, the
place name of the place-date line, the signatory (authority words, title, name) and, when an
admin uploads them, images of the signature and the seal.

- One default row (no training) and, where a training is issued or signed by someone else,
  a row for that training: each field it fills in overrides the default.
- Only admins change them. Text is NFC-normalised; agencies, authority words and titles are
  kept as typed and printed in capitals.
- Images: PNG, JPEG or WebP, checked by decoding them (not by their name), at most 2 MB
  uploaded and 4,000 pixels a side; stored re-encoded as PNG at most 1,200 pixels a side
  (transparency kept), so what is printed is always a plain image of bounded size.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from trainer.audit.services import record
from trainer.auth.models import User
from trainer.auth.services import require_admin
from trainer.errors import Invalid, NotFound
from trainer.extensions import db
from trainer.reports.models import DocumentSettings
from trainer.sessions.models import Training
from trainer.text import has_control_chars, nfc

TEXT_FIELDS: dict[str, int] = {
    "parent_agency": 200, "issuing_agency": 200, "place_name": 100,
    "signer_authority": 100, "signer_title": 100, "signer_name": 100,
}
IMAGE_FIELDS = ("signature", "seal")
UPLOAD_MAX_BYTES = 2 * 1024 * 1024
STORED_MAX_BYTES = 1024 * 1024  # as the database's check constraint
MAX_SIDE_IN, MAX_SIDE_OUT = 4000, 1200
IMAGE_FORMATS = {"PNG", "JPEG", "WEBP"}


@dataclass(frozen=True)
class Letterhead:
    """What the header and the signature block of a document show."""

    parent_agency: str
    issuing_agency: str
    place_name: str
    signer_authority: str
    signer_title: str
    signer_name: str
    signature_png: bytes | None = None
    seal_png: bytes | None = None


def row_for(training_id: int | None) -> DocumentSettings | None:
    stmt = select(DocumentSettings)
    stmt = stmt.where(DocumentSettings.training_id.is_(None)) if training_id is None \
        else stmt.where(DocumentSettings.training_id == training_id)
    return db.session.scalar(stmt)


def letterhead(training: Training | None) -> Letterhead:
    """The default settings with the training's own filled-in fields over them; with nothing
    set, the issuing agency is the training's lead agency."""
    rows = [r for r in (row_for(None), row_for(training.id) if training else None) if r]
    values: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    values.update(signature_png=None, seal_png=None)
    for r in rows:
        for name in TEXT_FIELDS:
            if getattr(r, name):
                values[name] = getattr(r, name)
        for name in ("signature_png", "seal_png"):
            if getattr(r, name):
                values[name] = getattr(r, name)
    if not values["issuing_agency"] and training is not None and training.lead_agency:
        values["issuing_agency"] = training.lead_agency
    return Letterhead(**values)


def check_image(data: bytes, field: str) -> bytes:
    """The uploaded image re-encoded as a PNG of bounded size; Invalid if it is not one."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > UPLOAD_MAX_BYTES:
        raise Invalid.field(field, gettext("The image is larger than %(n)s.", n="2 MB"))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind, size = probe.format, probe.size
            probe.verify()
        if kind not in IMAGE_FORMATS:
            raise ValueError(kind)
        if max(size) > MAX_SIDE_IN or min(size) < 16:
            raise Invalid.field(field, gettext(
                "The image must be between 16 and %(n)d pixels on each side.", n=MAX_SIDE_IN))
        with Image.open(io.BytesIO(data)) as source:
            source.load()
            image = source.convert("RGBA")
        image.thumbnail((MAX_SIDE_OUT, MAX_SIDE_OUT))
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise Invalid.field(field, gettext("Not a PNG, JPEG or WebP image.")) from None
    png = out.getvalue()
    if len(png) > STORED_MAX_BYTES:
        raise Invalid.field(field, gettext("The image is larger than %(n)s.", n="1 MB"))
    return png


def _text(value: Any, name: str, limit: int, errors: dict[str, list[str]]) -> str:
    text = nfc(str(value or ""))
    if has_control_chars(str(value or "").replace("\n", " ").replace("\t", " ")):
        errors[name] = [gettext("Control characters are not allowed.")]
    elif len(text) > limit:
        errors[name] = [gettext("At most %(n)s characters.", n=limit)]
    return text


def save(actor: User | None, training_id: int | None, form: Mapping[str, Any],
         images: Mapping[str, bytes | None], remove: set[str] | frozenset[str] = frozenset()
         ) -> DocumentSettings:
    """Store the settings (the default with training_id None); `images`: new uploads by
    field ("signature", "seal"), `remove`: images to drop. Nothing is stored when a field is
    wrong."""
    user = require_admin(actor)
    if training_id is not None and db.session.get(Training, training_id) is None:
        raise NotFound(gettext("Unknown training."))
    errors: dict[str, list[str]] = {}
    values = {name: _text(form.get(name), name, limit, errors)
              for name, limit in TEXT_FIELDS.items()}
    pngs: dict[str, bytes] = {}
    for field in IMAGE_FIELDS:
        data = images.get(field)
        if data:
            try:
                pngs[field] = check_image(data, field)
            except Invalid as exc:
                errors.update(exc.errors or {})
    if errors:
        raise Invalid(gettext("Please correct the marked fields."), errors=errors)
    row = row_for(training_id)
    if row is None:
        row = DocumentSettings(training_id=training_id)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    for field in IMAGE_FIELDS:
        if field in pngs:
            setattr(row, f"{field}_png", pngs[field])
        elif field in remove:
            setattr(row, f"{field}_png", None)
    row.updated_by_id = user.id
    db.session.flush()
    record("documents.settings", user_id=user.id, training_id=training_id,
           fields=sorted(k for k, v in values.items() if v),
           images=sorted(pngs), removed=sorted(set(remove) - set(pngs)))
    db.session.commit()
    return row


def image(training_id: int | None, field: str) -> bytes:
    """A stored signature or seal image (PNG), for the settings page."""
    if field not in IMAGE_FIELDS:
        raise NotFound(gettext("There is no such image."))
    row = row_for(training_id)
    data = getattr(row, f"{field}_png") if row is not None else None
    if not data:
        raise NotFound(gettext("There is no such image."))
    return bytes(data)
