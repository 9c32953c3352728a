"""Rosters: who is expected at which site, registration, roster import."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext, ngettext, pgettext
from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from trainer.auth.models import User
from trainer.auth.services import require_any, require_staff
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.sessions.models import (
    Checkin,
    Registration,
    TrainingSession,
)
from trainer.sessions.rules import (
    _EXTRA_HEADERS,
    _ROSTER_COLUMNS,
    IMPORT_MAX_ROWS,
    MAX_ROSTER_NAMES,
    _audit,
)
from trainer.sessions.trainings import my_site_ids
from trainer.sessions.writing import _int, get_session_site
from trainer.sites.models import Site, Unit
from trainer.text import nfc
from trainer.validation import Errors

log = logging.getLogger(__name__)


@dataclass
class RosterResult:
    """What an addition to the roster did."""

    added: int = 0
    already: int = 0
    registered: int = 0
    sites: list[dict[str, int]] = field(default_factory=list)


def _counts_by_site(session: TrainingSession) -> list[dict[str, int]]:
    counts = dict(db.session.execute(
        select(Registration.site_id, func.count())
        .where(Registration.session_id == session.id)
        .group_by(Registration.site_id)).all())
    return [{"site_id": ss.site_id, "registered": counts.get(ss.site_id, 0)}
            for ss in sorted(session.session_sites, key=lambda s: s.site_id)]


def roster_counts(session: TrainingSession) -> RosterResult:
    sites = _counts_by_site(session)
    return RosterResult(registered=sum(s["registered"] for s in sites), sites=sites)


def _person(name: str, code: str, site: str | None) -> str:
    if site:
        return gettext("%(name)s (%(code)s, %(site)s)", name=name, code=code, site=site)
    return gettext("%(name)s (%(code)s)", name=name, code=code)


def _outsiders_message(names: list[str], total: int) -> str:
    shown = ", ".join(names[:MAX_ROSTER_NAMES])
    if total > MAX_ROSTER_NAMES:
        shown += " " + pgettext("more people", "(and %(n)d more)", n=total - MAX_ROSTER_NAMES)
    return ngettext(
        "%(num)d person belongs to a site that does not take part in this session, "
        "so nobody was added: %(names)s.",
        "%(num)d people belong to sites that do not take part in this session, "
        "so nobody was added: %(names)s.", total, names=shown)


def register_participants(actor: User, session: TrainingSession, *,
                          participant_ids: Iterable[Any] = (), site_ids: Iterable[Any] = (),
                          unit_ids: Iterable[Any] = ()) -> RosterResult:
    """Add people to the expected roster, each at their home site: by id, every participant
    of some sites, or of some units (communes / centres). All or nothing: one person whose
    home site is not in the session refuses the whole request, naming them."""
    require_staff(actor)
    errors = Errors()
    session_sites = {ss.site_id: ss.site for ss in session.session_sites}

    def ints(values: Iterable[Any], name: str) -> list[int]:
        out = []
        for raw in values:
            value = _int(raw)
            if value is None:
                errors.add(name, gettext("Not a valid whole number."))
            elif value not in out:
                out.append(value)
        return out

    pids = ints(participant_ids, "participant_ids")
    sids = ints(site_ids, "site_ids")
    uids = ints(unit_ids, "unit_ids")
    errors.check()
    if not (pids or sids or uids):
        raise Invalid.field("participant_ids", gettext(
            "Name at least one participant, site or unit to add."))

    for sid in sids:
        if sid not in session_sites:
            site = db.session.get(Site, sid)
            errors.add("site_ids", gettext("%(site)s does not take part in this session.",
                                           site=site.name) if site else
                       gettext("Unknown site: %(id)s.", id=sid))
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(uids)))}
    for uid in uids:
        unit = units.get(uid)
        if unit is None:
            errors.add("unit_ids", gettext("Unknown unit: %(id)s.", id=uid))
        elif unit.site_id not in session_sites:
            errors.add("unit_ids", gettext(
                "%(unit)s belongs to %(site)s, which does not take part in this session.",
                unit=unit.name, site=unit.site.name))
    people: dict[int, tuple[int, str, str, int]] = {}
    for chunk_start in range(0, len(pids), 900):
        chunk = pids[chunk_start:chunk_start + 900]
        for row in db.session.execute(
                select(Participant.id, Participant.full_name, Participant.code,
                       Participant.site_id).where(Participant.id.in_(chunk))):
            people[row[0]] = (row[0], row[1], row[2], row[3])
    missing = [p for p in pids if p not in people]
    if missing:
        shown = ", ".join(str(p) for p in missing[:MAX_ROSTER_NAMES])
        errors.add("participant_ids", ngettext("Unknown participant: %(ids)s.",
                                               "Unknown participants: %(ids)s.",
                                               len(missing), ids=shown))
    outsiders = [p for p in people.values() if p[3] not in session_sites]
    if outsiders:
        site_names = dict(db.session.execute(
            select(Site.id, Site.name).where(Site.id.in_({p[3] for p in outsiders}))).all())
        names = [_person(name, code, site_names.get(sid)) for _, name, code, sid in outsiders]
        errors.add("participant_ids", _outsiders_message(names, len(outsiders)))
    errors.check()

    wanted: dict[int, int] = {pid: sid for pid, _, _, sid in people.values()}
    if sids:
        for pid, sid in db.session.execute(
                select(Participant.id, Participant.site_id)
                .where(Participant.site_id.in_(sids))):
            wanted[pid] = sid
    if uids:
        for pid, sid in db.session.execute(
                select(Participant.id, Participant.site_id)
                .where(Participant.unit_id.in_(uids))):
            if sid in session_sites:
                wanted[pid] = sid
    return _insert_registrations(actor, session, wanted, source="ids")


def _insert_registrations(actor: User, session: TrainingSession, wanted: Mapping[int, int],
                          *, source: str) -> RosterResult:
    existing = set(db.session.scalars(
        select(Registration.participant_id).where(Registration.session_id == session.id)))
    now = utcnow()
    rows = [{"session_id": session.id, "participant_id": pid, "site_id": sid,
             "created_at": now, "walk_in": False}
            for pid, sid in wanted.items() if pid not in existing]
    try:
        if rows:
            db.session.execute(insert(Registration), rows)
        _audit(actor, "session.roster.add", session.id, added=len(rows), source=source)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(gettext("The roster changed while these people were being added; "
                               "nothing was added. Please try again.")) from None
    result = roster_counts(session)
    result.added = len(rows)
    result.already = len(wanted) - len(rows)
    return result


def unregister(actor: User, session: TrainingSession, participant_id: int) -> None:
    """Take someone off the expected roster (not once they are checked in)."""
    require_staff(actor)
    reg = db.session.scalar(select(Registration).where(
        Registration.session_id == session.id, Registration.participant_id == participant_id))
    if reg is None:
        raise NotFound(gettext("This person is not on the roster of this session."))
    if db.session.scalar(select(Checkin.id).where(Checkin.session_id == session.id,
                                                  Checkin.participant_id == participant_id)):
        raise Conflict(gettext("%(name)s is already checked in; undo the check-in first.",
                               name=reg.participant.full_name))
    db.session.delete(reg)
    _audit(actor, "session.roster.remove", session.id, participant_id=participant_id)
    db.session.commit()


def clear_site_roster(actor: User, session: TrainingSession, site_id: int) -> int:
    """Empty one site's roster, keeping the people already checked in; returns how many left."""
    require_staff(actor)
    get_session_site(session, site_id)
    checked = select(Checkin.participant_id).where(Checkin.session_id == session.id)
    result = db.session.execute(
        delete(Registration).where(Registration.session_id == session.id,
                                   Registration.site_id == site_id,
                                   Registration.participant_id.not_in(checked))
        .execution_options(synchronize_session=False))
    removed = int(getattr(result, "rowcount", 0) or 0)
    _audit(actor, "session.roster.clear", session.id, site_id=site_id, removed=removed)
    db.session.commit()
    return removed


def require_roster_access(actor: User, session: TrainingSession, site_id: int | None) -> None:
    """Staff read every roster; a coordinator the rosters of its own sites only."""
    require_any(actor)
    if site_id is not None:
        get_session_site(session, site_id)
    if actor.is_staff:
        return
    if site_id is None or site_id not in actor.site_ids:
        raise Forbidden(gettext("You coordinate other sites, not this one."))


def roster_stmt(actor: User, session: TrainingSession, site_id: int | None = None,
                q: str | None = None) -> Select[Registration, Participant]:
    """(Registration, Participant) rows, sorted by name the Vietnamese way. A coordinator
    without `site_id` gets the rosters of all its sites in this session."""
    require_any(actor)
    if site_id is not None or actor.is_staff:
        require_roster_access(actor, session, site_id)
    stmt = (select(Registration, Participant)
            .join(Participant, Participant.id == Registration.participant_id)
            .where(Registration.session_id == session.id))
    if site_id is not None:
        stmt = stmt.where(Registration.site_id == site_id)
    elif not actor.is_staff:
        mine = my_site_ids(actor, session)
        if not mine:
            raise Forbidden(gettext("This session does not include any of your sites."))
        stmt = stmt.where(Registration.site_id.in_(mine))
    if q:
        from trainer.people.services import search_filter

        where = search_filter(q)
        if where is not None:
            stmt = stmt.where(where)
    return stmt.order_by(Participant.sort_key, Participant.id)


def checked_in_ids(session: TrainingSession, participant_ids: Sequence[int]) -> set[int]:
    if not participant_ids:
        return set()
    return set(db.session.scalars(select(Checkin.participant_id).where(
        Checkin.session_id == session.id, Checkin.participant_id.in_(list(participant_ids)))))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def _read_roster_table(data: bytes) -> tuple[list[tuple[int, list[str]]], dict[str, int]]:
    """(spreadsheet row number, cells) under the header, and the column of each field.

    Reading (XLSX by content, CSV in UTF-8, UTF-16 or Windows-1258, any of , ; tab) and the
    header names (English or Vietnamese, with or without accents) are the participant
    importer's (trainer.people.importer), so both imports accept the same files. The header
    may sit below a title; a file of one column without a header is a list of codes."""
    from trainer.people import importer

    rows = importer.read_rows(data, IMPORT_MAX_ROWS)  # off the loop, stops past the cap
    filled = [(n, [_cell_text(v) for v in values]) for n, values in rows
              if any(_cell_text(v) for v in values)]
    if not filled:
        raise Invalid.field("file", gettext("The file is empty."))
    for i, (_, values) in enumerate(filled[:importer.MAX_HEADER_SCAN]):
        columns: dict[str, int] = {}
        for j, value in enumerate(values):
            key = importer.header_key(value)
            field_name = _EXTRA_HEADERS.get(key) or importer.HEADERS.get(key)
            if field_name in _ROSTER_COLUMNS and field_name not in columns:
                columns[field_name] = j
        if {"code", "participant_id", "full_name"} & set(columns):
            return filled[i + 1:], columns
    if all(len([c for c in values if c]) == 1 for _, values in filled):
        return [(n, [next(c for c in values if c)]) for n, values in filled], {"code": 0}
    raise Invalid.field("file", gettext(
        "The file needs a column “Mã học viên” (code), or “Họ và tên” with "
        "“Mã điểm cầu” (site code) and “Năm sinh” or “Điện thoại”."))


def import_roster(actor: User, session: TrainingSession, filename: str,
                  data: bytes, max_bytes: int | None = None) -> RosterResult:
    """Add the people a CSV/XLSX file lists (by participant code, or by name and site code
    with a birth year or phone) to the roster. Every row is checked first
    (trainer.sessions.roster_import); any row that names someone unknown, or someone whose
    home site is not in this session (another district, another province), refuses the whole
    file with a message per row (numbered as the spreadsheet shows them). The pages import
    the good rows of a checked file instead, after a preview."""
    from trainer.sessions import roster_import

    checked = roster_import.check(actor, session, data, max_bytes)
    if checked.errors:
        problems = [gettext("Row %(row)d: %(message)s", row=e["row"], message=e["message"])
                    for e in checked.errors[:200]]
        detail = ngettext("%(num)d row needs attention; nobody was added.",
                          "%(num)d rows need attention; nobody was added.", len(checked.errors))
        raise Invalid(detail + " " + " ".join(problems[:3]), errors={"file": problems})
    if not checked.wanted:
        raise Invalid.field("file", gettext("The file lists nobody."))
    return _insert_registrations(actor, session, checked.wanted, source="import")
