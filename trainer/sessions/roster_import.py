"""Checking a session roster file (CSV / XLSX) row by row, for the preview-then-confirm import.

Each row names a participant by code, by id, or by name with a site code and a birth year or
phone. `check` reads the whole file and answers who would be added, who is already on the
roster and every bad row with its reasons, writing nothing. The page shows that, offers the
bad rows as a file (trainer.people.import_report) and adds the good rows when the organiser
confirms (`add_checked`); the JSON API keeps all-or-nothing (services.import_roster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from trainer.auth.models import User
from trainer.auth.services import require_staff
from trainer.errors import Invalid, TooLarge
from trainer.extensions import db
from trainer.i18n import in_sentence
from trainer.people.models import Participant
from trainer.sessions.models import Registration, TrainingSession
from trainer.sites.models import Site

PREVIEW_ROWS = 200


@dataclass
class RosterCheck:
    wanted: dict[int, int] = field(default_factory=dict)  # participant id -> home site
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"row", "message"}
    rows: int = 0
    already: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)
    header: list[str] | None = None
    body: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def to_add(self) -> int:
        return len(self.wanted) - self.already


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 9 else None


def check(actor: User, session: TrainingSession, data: bytes,
          max_bytes: int | None = None) -> RosterCheck:
    """Check every row of a roster file; nothing is written."""
    from trainer.people.services import by_code, find_existing, validate
    from trainer.sessions import rosters, services
    from trainer.sites.services import site_by_code

    require_staff(actor)
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(gettext("The file is larger than %(mb)d MB.", mb=max_bytes // 2**20))
    if not data.strip():
        raise Invalid.field("file", gettext("The file is empty."))
    from trainer.offload import one_at_a_time

    with one_at_a_time(f"import:{actor.id}"):  # one import at a time per user
        body, columns = rosters._read_roster_table(data)
    if len(body) > services.IMPORT_MAX_ROWS:
        raise Invalid.field("file", gettext("At most %(n)d rows.", n=services.IMPORT_MAX_ROWS))
    out = RosterCheck(body=body, header=_header(data, body, columns))
    session_sites = {ss.site_id: ss.site for ss in session.session_sites}
    site_names = dict(db.session.execute(select(Site.id, Site.name)).all())
    registered = set(db.session.scalars(
        select(Registration.participant_id).where(Registration.session_id == session.id)))

    def cell(row: list[str], key: str) -> str:
        i = columns.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    def bad(n: int, *messages: str) -> None:
        out.errors.append({"row": n, "message": " ".join(messages)})

    for n, row in body:
        code, pid = cell(row, "code"), cell(row, "participant_id")
        name, site_code = cell(row, "full_name"), cell(row, "site_code")
        if not any(cell(row, key) for key in columns):
            continue  # e.g. a footer or a note beside the list, outside the list's columns
        out.rows += 1
        if not (code or pid or name):
            bad(n, gettext("no full name, participant code or id: the row names nobody."))
            continue
        person: Participant | None = None
        if code:
            person = by_code(code)
            if person is None:
                bad(n, gettext("no participant has the code %(code)s.", code=code[:40]))
                continue
        elif pid:
            person = db.session.get(Participant, _int(pid)) if _int(pid) else None
            if person is None:
                bad(n, gettext("unknown participant %(id)s.", id=pid[:20]))
                continue
        elif name:
            problems = []
            site = site_by_code(site_code) if site_code else None
            if site is None:
                problems.append(gettext(
                    "%(name)s: the site code “%(code)s” is not a site of this province.",
                    name=name, code=site_code[:40]) if site_code else gettext(
                    "%(name)s has no site code (Mã điểm cầu).", name=name))
            elif site.id not in session_sites:
                problems.append(gettext(
                    "%(name)s is from %(site)s, which does not take part in this session.",
                    name=name, site=site.name))
            d = None
            try:
                d = validate({"full_name": name, "site_id": site.id if site else 1, "sex": "",
                              "birth_year": cell(row, "birth_year") or None,
                              "phone": cell(row, "phone") or None},
                             known_site_ids=None if site else {1})
            except Invalid as exc:
                problems.extend(str(m) for ms in (exc.errors or {}).values() for m in ms)
            if problems or d is None:
                bad(n, *problems)
                continue
            person = find_existing(d)
            if person is None:
                bad(n, gettext(
                    "%(name)s is not in the participant list of %(site)s (matched by name "
                    "with birth year or phone); import them on the Participants page first.",
                    name=name, site=in_sentence(site.name) if site else ""))
                continue
        if person is None:
            continue
        if person.site_id not in session_sites:
            bad(n, gettext(
                "%(name)s (%(code)s) belongs to %(site)s, which does not take part in this "
                "session.", name=person.full_name, code=person.code,
                site=in_sentence(site_names.get(person.site_id, "?"))))
            continue
        if person.id not in out.wanted:
            out.wanted[person.id] = person.site_id
            out.already += person.id in registered
            if len(out.preview) < PREVIEW_ROWS:
                out.preview.append({"row": n, "code": person.code, "full_name": person.full_name,
                                    "site_name": site_names.get(person.site_id, ""),
                                    "already": person.id in registered})
    return out


def _header(data: bytes, body: list[tuple[int, list[str]]],
            columns: dict[str, int]) -> list[str] | None:
    """The header row of the file (the last filled row above the first row read), for the
    bad-rows file; None for a bare list of codes."""
    from trainer.people import importer

    if not body:
        return None
    first = body[0][0]
    above = [values for n, values in importer.read_rows(data)
             if n < first and any(v not in (None, "") for v in values)]
    return [str(v) if v is not None else "" for v in above[-1]] if above else None


def add_checked(actor: User, session: TrainingSession, checked: RosterCheck) -> Any:
    """Add the good rows of a checked file (the bad ones stay out)."""
    from trainer.sessions import rosters

    if not checked.wanted:
        raise Invalid.field("file", gettext("No row can be imported. Correct the file and "
                                            "choose it again."))
    return rosters._insert_registrations(actor, session, checked.wanted, source="import")
