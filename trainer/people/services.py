"""Participants: validation, names, codes, search in Vietnamese, create and update."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError

from trainer.auth.models import User
from trainer.auth.services import require_any, require_site, require_staff, visible_site_ids
from trainer.dbtypes import INT_MAX, utcnow
from trainer.errors import Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.people.models import Participant, Sex
from trainer.sites.models import Site
from trainer.text import (
    fold,
    modern_phone,
    name_sort_key,
    nfc,
    split_name,
)
from trainer.validation import field_text

# Printable codes without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G).
CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"
CODE_LENGTH = 6

SEX_WORDS: dict[str, Sex] = {
    "female": Sex.FEMALE, "f": Sex.FEMALE, "nu": Sex.FEMALE, "nữ": Sex.FEMALE,
    "male": Sex.MALE, "m": Sex.MALE, "nam": Sex.MALE,
    "unspecified": Sex.UNSPECIFIED, "": Sex.UNSPECIFIED, "khac": Sex.UNSPECIFIED,
    "khác": Sex.UNSPECIFIED, "other": Sex.UNSPECIFIED, "u": Sex.UNSPECIFIED,
    "khong xac dinh": Sex.UNSPECIFIED, "chua ro": Sex.UNSPECIFIED,
}


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """What a person types or a scanner sends, reduced to the stored form."""
    return "".join(ch for ch in nfc(code or "").upper() if ch.isalnum())


def parse_sex(value: str | Sex | None) -> Sex:
    if isinstance(value, Sex):
        return value
    key = nfc(value or "").lower()
    if key in SEX_WORDS:
        return SEX_WORDS[key]
    if fold(key) in SEX_WORDS:
        return SEX_WORDS[fold(key)]
    raise Invalid.field("sex", gettext("Use female, male or unspecified (Nữ, Nam)."))


def _phone(value: Any) -> str | None:
    """Digits with the leading 0; a pre-2018 11-digit mobile number is stored in its
    10-digit form (the old numbers stopped working in 2018), so both forms match."""
    if value is None or not str(value).strip():
        return None
    try:
        return modern_phone(str(value))
    except ValueError:
        raise Invalid.field("phone", gettext(
            "Not a Vietnamese phone number (10 digits starting 03, 05, 07, 08 or 09, "
            "or an older 11-digit 01 number).")) from None


def _birth_year(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        year = int(str(value).strip().split(".")[0]) if not isinstance(value, int) else value
    except ValueError:
        raise Invalid.field("birth_year", gettext("A year such as 1980.")) from None
    this_year = utcnow().year
    if not 1900 <= year <= this_year:
        raise Invalid.field("birth_year", gettext("A year between 1900 and %(year)d.",
                                                  year=this_year))
    return year


@dataclass
class ParticipantData:
    """Validated fields of a participant (from a form, the API or an import row)."""

    full_name: str
    family_name: str
    middle_name: str
    given_name: str
    sex: Sex
    site_id: int
    unit: str | None = None
    position: str | None = None
    phone: str | None = None
    birth_year: int | None = None
    code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def validate(data: Mapping[str, Any], *, partial_of: Participant | None = None,
             known_site_ids: Collection[int] | None = None) -> ParticipantData:
    """Check and normalise participant fields; raises Invalid naming the field.

    `known_site_ids` (the ids of every site, preloaded by a bulk caller such as the roster
    import) saves a database lookup per call."""
    base: dict[str, Any] = {}
    if partial_of is not None:
        p = partial_of
        base = {"full_name": p.full_name, "family_name": p.family_name,
                "middle_name": p.middle_name, "given_name": p.given_name, "sex": p.sex,
                "site_id": p.site_id, "unit": p.unit, "position": p.position, "phone": p.phone,
                "birth_year": p.birth_year}
    merged = {**base, **{k: v for k, v in data.items()}}
    name_parts_given = any(k in data for k in ("family_name", "middle_name", "given_name"))
    if name_parts_given and "full_name" not in data:
        family = field_text("family_name", merged.get("family_name"), 100) or ""
        middle = field_text("middle_name", merged.get("middle_name"), 100) or ""
        given = field_text("given_name", merged.get("given_name"), 100, required=True) or ""
        full = " ".join(x for x in (family, middle, given) if x)
    else:
        full = field_text("full_name", merged.get("full_name"), 200, required=True) or ""
        if name_parts_given:
            family = field_text("family_name", merged.get("family_name"), 100) or ""
            middle = field_text("middle_name", merged.get("middle_name"), 100) or ""
            given = field_text("given_name", merged.get("given_name"), 100) or ""
            if " ".join(x for x in (family, middle, given) if x) != full:
                family, middle, given = split_name(full)
        else:
            family, middle, given = split_name(full)
    site_id = merged.get("site_id")
    if site_id in (None, ""):
        raise Invalid.field("site_id", gettext("This field is required."))
    try:
        site_id = int(site_id)
    except (TypeError, ValueError):
        raise Invalid.field("site_id", gettext("Unknown site.")) from None
    if not 0 < site_id <= INT_MAX:  # an id; a larger number would overflow the database driver
        raise Invalid.field("site_id", gettext("Unknown site."))
    if known_site_ids is not None:
        if site_id not in known_site_ids:
            raise Invalid.field("site_id", gettext("Unknown site."))
    elif db.session.get(Site, site_id) is None:
        raise Invalid.field("site_id", gettext("Unknown site."))
    code = normalise_code(str(merged["code"])) if merged.get("code") else None
    if code is not None and not 4 <= len(code) <= 16:
        raise Invalid.field("code", gettext("A code has 4 to 16 letters or digits."))
    return ParticipantData(
        full_name=full, family_name=family, middle_name=middle, given_name=given,
        sex=parse_sex(merged.get("sex")), site_id=site_id,
        unit=field_text("unit", merged.get("unit"), 200), position=field_text("position", merged.get("position"), 200),
        phone=_phone(merged.get("phone")), birth_year=_birth_year(merged.get("birth_year")),
        code=code,
    )


def _apply(p: Participant, d: ParticipantData) -> None:
    from trainer.sites.services import find_unit

    p.full_name, p.family_name, p.middle_name, p.given_name = (
        d.full_name, d.family_name, d.middle_name, d.given_name)
    p.name_folded = fold(d.full_name)
    p.sort_key = name_sort_key(d.family_name, d.middle_name, d.given_name)
    p.sex, p.site_id, p.position, p.phone, p.birth_year = (
        d.sex, d.site_id, d.position, d.phone, d.birth_year)
    unit = find_unit(d.site_id, d.unit) if d.unit else None
    p.unit = unit.name if unit else d.unit
    p.unit_id = unit.id if unit else None


def _check_code_free(code: str, own_id: int | None = None) -> None:
    other = db.session.scalar(select(Participant.id).where(Participant.code == code))
    if other is not None and other != own_id:
        raise Invalid.field("code", gettext("The code %(code)s belongs to someone else.",
                                            code=code))


def create(actor: User | None, data: Mapping[str, Any], *, commit: bool = True) -> Participant:
    """Create a participant. Coordinators may add people to their own sites only."""
    d = validate(data)
    if actor is not None:
        require_site(actor, d.site_id)
    p = Participant()
    _apply(p, d)
    if d.code:
        if len(d.code) < 4 or len(d.code) > 16:
            raise Invalid.field("code", gettext("A code has 4 to 16 letters or digits."))
        _check_code_free(d.code)
        p.code = d.code
        db.session.add(p)
        db.session.flush()
    else:
        _insert_with_new_code(p)
    if commit:
        db.session.commit()
    return p


def _insert_with_new_code(p: Participant) -> None:
    for _ in range(20):
        p.code = new_code()
        if db.session.scalar(select(Participant.id).where(Participant.code == p.code)) is None:
            try:
                with db.session.begin_nested():
                    db.session.add(p)
                    db.session.flush()
                return
            except IntegrityError:
                continue
    raise RuntimeError("could not find a free participant code")


def update(actor: User, p: Participant, data: Mapping[str, Any], *,
           commit: bool = True) -> Participant:
    require_site(actor, p.site_id)
    d = validate(data, partial_of=p)
    if d.site_id != p.site_id:
        require_site(actor, d.site_id)
    if d.code and d.code != p.code:
        require_staff(actor)
        _check_code_free(d.code, p.id)
        p.code = d.code
    _apply(p, d)
    if commit:
        db.session.commit()
    return p


def get(actor: User, participant_id: int) -> Participant:
    require_any(actor)
    p = db.session.get(Participant, participant_id)
    if p is None:
        raise NotFound(gettext("Unknown participant."))
    ids = visible_site_ids(actor)
    if ids is not None and p.site_id not in ids:
        raise Forbidden(gettext("This participant belongs to another site."))
    return p


def by_code(code: str) -> Participant | None:
    code = normalise_code(code)
    if not code:
        return None
    return db.session.scalar(select(Participant).where(Participant.code == code))


def search_filter(q: str | None) -> Any:
    """A WHERE clause matching names with or without diacritics, or a participant code."""
    if not q or not q.strip():
        return None
    words = fold(q).split()
    if not words:  # nothing searchable (control characters only): no filter
        return None
    # Each word matches the start of a word of the name: "ha" finds "Hà", "Hạnh", not "Thanh".
    name_match = and_(*(
        or_(Participant.name_folded.startswith(w, autoescape=True),
            Participant.name_folded.contains(" " + w, autoescape=True))
        for w in words))
    code = normalise_code(q)
    if code and len(code) >= 4 and " " not in q.strip():
        return or_(name_match, Participant.code == code)
    return name_match


def search(actor: User, *, q: str | None = None, site_id: int | None = None,
           unit_id: int | None = None, sex: str | None = None) -> Select[Any]:
    """An ordered select() of participants the actor may see, sorted the Vietnamese way."""
    require_any(actor)
    stmt = select(Participant)
    ids = visible_site_ids(actor)
    if ids is not None:
        if site_id is not None and site_id not in ids:  # another site's people: refused
            raise Forbidden(gettext("You coordinate other sites, not this one."))
        stmt = stmt.where(Participant.site_id.in_(ids))
    if site_id is not None:
        stmt = stmt.where(Participant.site_id == site_id)
    if unit_id is not None:
        stmt = stmt.where(Participant.unit_id == unit_id)
    if sex:
        stmt = stmt.where(Participant.sex == parse_sex(sex))
    where = search_filter(q)
    if where is not None:
        stmt = stmt.where(where)
    return stmt.order_by(Participant.sort_key, Participant.id)


def phone_variants(phone: str) -> set[str]:
    """A phone number and the other forms it may be stored in (pre-2018 11-digit mobile
    numbers and their 10-digit replacements are the same line)."""
    from trainer.text import _OLD_MOBILE_PREFIXES

    try:
        modern = modern_phone(phone)
    except ValueError:
        return {phone}
    out = {phone, modern}
    for old, new in _OLD_MOBILE_PREFIXES.items():
        if len(modern) == 10 and modern.startswith(new) and len(new) == 3:
            out.add(old + modern[3:])
    return out


def find_existing(d: ParticipantData) -> Participant | None:
    """The stored participant a new record describes: same code, or same name and site with
    the same birth year or phone (names compared without accents or tone placement)."""
    if d.code:
        found = by_code(d.code)
        if found is not None:
            return found
    if d.birth_year is None and d.phone is None:
        return None
    conds = []
    if d.birth_year is not None:
        conds.append(Participant.birth_year == d.birth_year)
    if d.phone is not None:
        conds.append(Participant.phone.in_(sorted(phone_variants(d.phone))))
    return db.session.scalar(
        select(Participant).where(Participant.site_id == d.site_id,
                                  Participant.name_folded == fold(d.full_name), or_(*conds))
        .order_by(Participant.id).limit(1))


def counts_by_site(site_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
    from sqlalchemy import func

    stmt = select(Participant.site_id, Participant.sex, func.count()).group_by(
        Participant.site_id, Participant.sex)
    if site_ids is not None:
        stmt = stmt.where(Participant.site_id.in_(list(site_ids)))
    out: dict[int, dict[str, int]] = {}
    for site_id, sex, n in db.session.execute(stmt):
        out.setdefault(site_id, {"female": 0, "male": 0, "unspecified": 0, "total": 0})
        out[site_id][sex.value] += n
        out[site_id]["total"] += n
    return out


def sessions_of(participant: Participant) -> list[dict[str, Any]]:
    """The sessions a participant was expected at or checked in to, newest first:
    [{"session_id", "title", "starts_at", "site_id", "registered", "checked_in_at"}]."""
    from trainer.sessions.models import Checkin, Registration, TrainingSession

    rows: dict[int, dict[str, Any]] = {}
    for reg, session in db.session.execute(
            select(Registration, TrainingSession)
            .join(TrainingSession, TrainingSession.id == Registration.session_id)
            .where(Registration.participant_id == participant.id)).all():
        rows[session.id] = {"session_id": session.id, "title": session.title,
                            "starts_at": session.starts_at, "site_id": reg.site_id,
                            "registered": True, "checked_in_at": None}
    for checkin, session in db.session.execute(
            select(Checkin, TrainingSession)
            .join(TrainingSession, TrainingSession.id == Checkin.session_id)
            .where(Checkin.participant_id == participant.id)).all():
        row = rows.setdefault(session.id, {
            "session_id": session.id, "title": session.title, "starts_at": session.starts_at,
            "site_id": checkin.site_id, "registered": False, "checked_in_at": None})
        row["checked_in_at"] = checkin.at
        row["site_id"] = checkin.site_id
    return sorted(rows.values(), key=lambda r: r["starts_at"], reverse=True)
