"""Importing a participant list: every row checked (all its problems at once), a preview, then the
good rows written in short slices; one import at a time per user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from trainer.auth.models import User
from trainer.auth.services import require_any, require_site
from trainer.dbtypes import utcnow
from trainer.errors import Invalid, TooLarge
from trainer.extensions import db
from trainer.offload import Turns, one_at_a_time
from trainer.people import import_report, services
from trainer.people.import_lookups import (
    Lookups,
    Slicer,
    _digits_text,
    _phone_cell,
    _text_cell,
    _year_cell,
)
from trainer.people.import_reading import (
    _DIGIT,
    BATCH,
    LABELS,
    MAX_HEADER_SCAN,
    PREVIEW_ROWS,
    Header,
    _blank,
    _header_labels,
    find_header,
    max_rows,
    read_rows,
    read_upload,
)
from trainer.people.models import Participant, Sex
from trainer.sites.models import Site
from trainer.text import fold, name_sort_key, nfc


class RowError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _invalid_message(exc: Invalid) -> str:
    parts = []
    for name, messages in (exc.errors or {}).items():
        label = LABELS.get(name, name)
        parts.append(f"{label}: {' '.join(str(m) for m in messages)}")
    return "; ".join(parts) or str(exc.detail)


NAME_PARTS = ("family_name", "middle_name", "given_name")


PERSON_FIELDS = ("full_name", "family_name", "middle_name", "given_name", "name_folded",
                 "sort_key", "sex", "birth_year", "position", "unit", "unit_id", "phone",
                 "site_id")


@dataclass
class Report:
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    header_row: int = 0
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "rows": self.rows,
            "errors": sorted(self.errors, key=lambda e: e["row"]),
            "preview": self.preview, "header_row": self.header_row, "columns": self.columns,
            "ignored_columns": self.ignored_columns,
        }


@dataclass(frozen=True)
class Actor:
    """What the rules need to know of the user, read once."""

    id: int
    is_staff: bool
    site_ids: frozenset[int]


class _Importer:
    def __init__(self, actor: Actor, header: Header, default_site: int | None,
                 report: Report, preview_limit: int) -> None:
        self.actor = actor
        self.header = header
        self.default_site = default_site
        self.report = report
        self.preview_limit = preview_limit
        self.look = Lookups.load()
        self.site_ids = set(self.look.sites)
        self.creates: dict[int, dict[str, Any]] = {}  # temporary negative id -> insert row
        self.updates: dict[int, dict[str, Any]] = {}  # id -> person after the import
        self.row_of: dict[int, int] = {}  # person id (or temporary id) -> last row number
        self.next_temp = -1
        self.now = utcnow()

    # -- rows ---------------------------------------------------------------------------

    def cells(self, values: list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, j in self.header.columns.items():
            out[name] = values[j] if j < len(values) else None
        return out

    def prepare(self, rows: list[tuple[int, list[Any]]]
                ) -> tuple[list[tuple[int, dict[str, Any]]], set[int], set[int]]:
        """Cells by field, blank rows dropped; and the sites and stored people (found by
        code) the rows refer to."""
        prepared = []
        site_ids: set[int] = set()
        code_ids: set[int] = set()
        if self.default_site is not None:
            site_ids.add(self.default_site)
        turns = Turns()
        for number, values in rows:
            turns.tick()
            if all(_blank(v) for v in values):
                continue
            cells = self.cells(values)
            if all(_blank(v) for v in cells.values()):
                continue
            prepared.append((number, cells))
            site_value = _text_cell(cells.get("site_code"))
            if site_value:
                found = self.look.site_for(site_value)
                if found is not None:
                    site_ids.add(found)
            code = _digits_text(cells.get("code"))
            if code:
                pid = self.look.code_to_id.get(services.normalise_code(code))
                if pid is not None:
                    code_ids.add(pid)
        return prepared, site_ids, code_ids

    def row_data(self, cells: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The row as service fields (only non-blank cells), and the site text given."""
        data: dict[str, Any] = {}
        for name in ("full_name", "family_name", "middle_name", "given_name", "unit",
                     "position"):
            if name in cells:
                data[name] = _text_cell(cells[name])
        if "family_middle" in cells and "family_name" not in cells:
            words = (_text_cell(cells["family_middle"]) or "").split()
            data["family_name"] = words[0] if words else None
            data["middle_name"] = " ".join(words[1:]) or None
        if "sex" in cells:
            data["sex"] = _text_cell(cells["sex"])
        if "phone" in cells:
            data["phone"] = _phone_cell(cells["phone"])
        if "birth_year" in cells:
            data["birth_year"] = _year_cell(cells["birth_year"])
        if "code" in cells:
            data["code"] = _digits_text(cells["code"])
        return data, _text_cell(cells.get("site_code"))

    def site_of_row(self, site_text: str | None) -> int:
        if site_text and site_text.strip():
            site_id = self.look.site_for(site_text)
            if site_id is None:
                raise RowError(gettext("Unknown site %(code)s.", code=nfc(site_text)))
        elif self.default_site is not None:
            site_id = self.default_site
        else:
            raise RowError(gettext("%(label)s: this field is required.",
                                   label=LABELS["site_code"]))
        if not self.actor.is_staff and site_id not in self.actor.site_ids:
            raise RowError(gettext("Site %(code)s is not yours.",
                                   code=self.look.sites[site_id].code))
        return site_id

    def _validate(self, data: dict[str, Any]) -> services.ParticipantData:
        try:
            d = services.validate(data, known_site_ids=self.site_ids)
        except Invalid as exc:
            raise RowError(_invalid_message(exc)) from None
        if _DIGIT.search(d.full_name):
            raise RowError(gettext("%(label)s: a name has no digits.",
                                   label=LABELS["full_name"]))
        return d

    def person_fields(self, d: services.ParticipantData) -> dict[str, Any]:
        unit, unit_id = self.look.unit_for(d.site_id, d.unit)
        return {
            "full_name": d.full_name, "family_name": d.family_name,
            "middle_name": d.middle_name, "given_name": d.given_name,
            "name_folded": fold(d.full_name),
            "sort_key": name_sort_key(d.family_name, d.middle_name, d.given_name),
            "sex": d.sex, "birth_year": d.birth_year, "position": d.position, "unit": unit,
            "unit_id": unit_id, "phone": d.phone, "site_id": d.site_id,
        }

    def process(self, number: int, cells: dict[str, Any]) -> dict[str, Any]:
        data, site_text = self.row_data(cells)
        has_name = any(data.get(k) for k in ("full_name", "given_name"))
        if not has_name:
            raise RowError(gettext("%(label)s: this field is required.",
                                   label=LABELS["full_name"]))
        if any(_DIGIT.search(str(data.get(k) or "")) for k in ("full_name", *NAME_PARTS)):
            raise RowError(gettext("%(label)s: a name has no digits.",
                                   label=LABELS["full_name"]))
        site_id = self.site_of_row(site_text)
        fresh = {k: v for k, v in data.items() if v is not None}
        for part in ("family_name", "middle_name", "given_name"):
            if part in data and "full_name" not in data:
                fresh[part] = data[part] or ""
        fresh["site_id"] = site_id
        d = self._validate(fresh)
        fields = self.person_fields(d)

        pid: int | None = None
        if d.code:
            pid = self.look.code_to_id.get(d.code)
            if pid is not None and pid not in self.look.people:
                pid = None  # not loaded: cannot happen, prepare() loads coded people
        if pid is None:
            pid = self.look.match(site_id, fields["name_folded"], d.birth_year, d.phone)
            if pid is not None and d.code and self.look.people[pid]["code"] != d.code:
                raise RowError(gettext(
                    "The code %(code)s is unknown, and %(name)s of this site with the same "
                    "birth year or phone has the code %(stored)s.", code=d.code,
                    name=self.look.people[pid]["full_name"],
                    stored=self.look.people[pid]["code"]))
        if pid is None:
            return self.create(number, d, fields)
        if not (site_text and site_text.strip()) and self.look.people[pid]["code"] == d.code:
            # Found by code, with no site in the row: the person stays at their site (the
            # site chosen for the file is for rows that need one).
            site_id = self.look.people[pid]["site_id"]
        return self.update(number, pid, data, site_id)

    def create(self, number: int, d: services.ParticipantData,
               fields: dict[str, Any]) -> dict[str, Any]:
        code = d.code or self.new_code()
        temp = self.next_temp
        self.next_temp -= 1
        person = {"id": temp, "code": code, **fields}
        self.look.code_to_id[code] = temp
        self.look.add_person(person)
        self.creates[temp] = person
        self.row_of[temp] = number
        self.report.created += 1
        return {"action": "create", **person}

    def update(self, number: int, pid: int, data: dict[str, Any],
               site_id: int) -> dict[str, Any]:
        stored = self.look.people[pid]
        if not self.actor.is_staff and stored["site_id"] not in self.actor.site_ids:
            raise RowError(gettext("The code %(code)s belongs to a participant of another "
                                   "site.", code=stored["code"]))
        merged: dict[str, Any] = {
            "full_name": stored["full_name"], "family_name": stored["family_name"],
            "middle_name": stored["middle_name"], "given_name": stored["given_name"],
            "sex": stored["sex"], "birth_year": stored["birth_year"],
            "position": stored["position"], "unit": stored["unit"], "phone": stored["phone"],
        }
        parts = {p: data[p] or "" for p in NAME_PARTS if p in data}
        if data.get("full_name"):
            merged["full_name"] = data["full_name"]
            if nfc(str(data["full_name"])) != stored["full_name"]:
                for part in NAME_PARTS:
                    merged.pop(part)
            merged.update(parts)
        elif parts:
            merged.pop("full_name")
            merged.update(parts)
        for name, value in data.items():
            if name in ("full_name", *NAME_PARTS, "code"):
                continue
            if value is not None and not (isinstance(value, str) and not value.strip()):
                merged[name] = value
        merged["site_id"] = site_id
        d = self._validate(merged)
        fields = self.person_fields(d)
        changed = any(stored[k] != v for k, v in fields.items())
        earlier = self.row_of.get(pid)
        old_key = (stored["site_id"], stored["name_folded"])
        stored.update(fields)
        self.look.rekey(stored, old_key)
        self.row_of[pid] = number
        if pid < 0:
            action = "update"  # a person an earlier row of this file creates
            self.report.updated += 1
        elif pid in self.updates or changed:
            self.updates[pid] = stored
            action = "update"
            self.report.updated += 1
        else:
            action = "same"
            self.report.updated += 1
            self.report.unchanged += 1
        out = {"action": action, **stored}
        if earlier is not None:
            out["note"] = gettext("Same person as row %(row)d.", row=earlier)
        return out

    def new_code(self) -> str:
        for _ in range(100):
            code = services.new_code()
            if code not in self.look.code_to_id:
                return code
        raise RuntimeError("could not find a free participant code")

    def preview_row(self, number: int, result: dict[str, Any] | None,
                    message: str | None, cells: dict[str, Any]) -> None:
        if len(self.report.preview) >= self.preview_limit:
            return
        if result is None:
            data, site_text = self.row_data(cells)
            self.report.preview.append({
                "row": number, "action": "error", "message": message,
                "full_name": nfc(str(data.get("full_name") or " ".join(
                    str(data.get(k) or "") for k in ("family_name", "middle_name",
                                                     "given_name")))),
                "sex": None, "birth_year": None, "position": None, "unit": None,
                "phone": None, "site_code": nfc(site_text or ""), "code": None,
            })
            return
        site = self.look.sites.get(result["site_id"])
        sex = result["sex"]
        self.report.preview.append({
            "row": number, "action": result["action"], "message": result.get("note"),
            "full_name": result["full_name"], "sex": sex.value if isinstance(sex, Sex) else sex,
            "birth_year": result["birth_year"], "position": result["position"],
            "unit": result["unit"], "phone": result["phone"],
            "site_code": site.code if site else "",
            "code": result["code"],
            "id": result["id"] if result["id"] > 0 else None,
        })

    # -- writing ------------------------------------------------------------------------

    def link_preview(self) -> None:
        """Give the previewed rows of created people their new ids (for links)."""
        codes = [r["code"] for r in self.report.preview
                 if r["action"] == "create" and r.get("code")]
        ids: dict[str, int] = {}
        for start in range(0, len(codes), 500):
            ids.update(db.session.execute(select(Participant.code, Participant.id).where(
                Participant.code.in_(codes[start:start + 500]))).all())
        for r in self.report.preview:
            if r["action"] == "create" and r.get("code") in ids:
                r["id"] = ids[r["code"]]

    def write(self) -> None:
        inserts = []
        for temp, person in self.creates.items():
            row = {k: person[k] for k in ("code", *PERSON_FIELDS)}
            row["created_at"] = row["updated_at"] = self.now
            inserts.append((temp, row))
        updates = []
        for pid, person in self.updates.items():
            if pid < 0:
                continue
            row = {k: person[k] for k in ("id", *PERSON_FIELDS)}
            row["updated_at"] = self.now
            updates.append((pid, row))
        self._batches(inserts, self._insert_rows, "create")
        self._batches(updates, self._update_rows, "update")

    @staticmethod
    def _insert_rows(rows: list[dict[str, Any]]) -> None:
        db.session.execute(insert(Participant), rows)

    @staticmethod
    def _update_rows(rows: list[dict[str, Any]]) -> None:
        db.session.execute(update(Participant), rows)

    def _batches(self, items: list[tuple[int, dict[str, Any]]], write: Any, kind: str) -> None:
        # Committed slice by slice (see SLICE_S): a long import never keeps SQLite's write
        # lock from check-ins for long. Re-importing after a failure midway is safe: rows
        # already written are matched and updated, not duplicated.
        slicer = Slicer()
        for start in range(0, len(items), BATCH):
            chunk = items[start:start + BATCH]
            try:
                with db.session.begin_nested():
                    write([row for _, row in chunk])
            except IntegrityError:
                for pid, row in chunk:  # one savepoint per row: a row is saved whole or not
                    self._write_one(pid, row, write, kind)
            slicer.tick()
        db.session.commit()

    def _write_one(self, pid: int, row: dict[str, Any], write: Any, kind: str) -> None:
        for attempt in range(3):
            try:
                with db.session.begin_nested():
                    write([row])
                return
            except IntegrityError:
                if kind == "create" and attempt < 2 and pid in self.creates:
                    row["code"] = self.new_code()  # taken meanwhile by another writer
                    continue
                break
        number = self.row_of.get(pid, 0)
        self.report.errors.append({"row": number, "message": gettext(
            "This row could not be saved (the code or another value clashes with a stored "
            "participant).")})
        if kind == "create":
            self.report.created -= 1
        else:
            self.report.updated -= 1


def import_roster(actor: User, upload: Any, filename: str = "", *, dry_run: bool,
                  site_id: int | None = None,
                  preview_limit: int = PREVIEW_ROWS) -> dict[str, Any]:
    """Import a roster (CSV or XLSX). Returns {"created", "updated", "unchanged", "rows",
    "errors": [{"row", "message"}], "preview": [...], ...}; with `dry_run` nothing is
    written and the counts say what would happen. `site_id` is the site of rows that name
    none. The file name is shown to people only; the content decides the type.

    No database transaction stays open while the file is parsed and its rows are checked
    (SQLite holds its write lock for a whole transaction, and check-ins must not wait): the
    database is read in short transactions, rows are checked in memory, and the result is
    written in short slices (see SLICE_S)."""
    require_any(actor)
    with one_at_a_time(f"import:{actor.id}"):  # one import at a time per user
        return _import_roster(actor, upload, filename, dry_run=dry_run, site_id=site_id,
                              preview_limit=preview_limit)


def _import_roster(actor: User, upload: Any, filename: str, *, dry_run: bool,
                   site_id: int | None, preview_limit: int) -> dict[str, Any]:
    who = Actor(id=actor.id, is_staff=actor.is_staff, site_ids=frozenset(actor.site_ids))
    db.session.commit()  # end the transaction the request opened (authentication)

    rows = read_rows(read_upload(upload))
    if not any(any(not _blank(v) for v in values) for _, values in rows):
        raise Invalid.field("file", gettext("The file is empty."))
    header = find_header(rows)
    if header is None:
        raise Invalid.field("file", gettext(
            "No header row found in the first %(n)d rows. The list needs a column %(columns)s.",
            n=MAX_HEADER_SCAN, columns=_header_labels("full_name")))
    if "site_code" not in header.columns and site_id is None:
        raise Invalid.field("file", gettext(
            "The list has no column %(columns)s. Add it, or choose one site for the whole "
            "list.", columns=_header_labels("site_code")))
    report = Report(dry_run=dry_run, header_row=header.row,
                    columns=sorted(header.columns, key=header.columns.__getitem__),
                    ignored_columns=header.ignored)

    # 1. read what rows are matched against, in short read transactions
    if site_id is not None:
        if db.session.get(Site, site_id) is None:
            raise Invalid.field("site_id", gettext("Unknown site."))
        require_site(actor, site_id)
    importer = _Importer(who, header, site_id, report, preview_limit)
    db.session.commit()
    prepared, site_ids, code_ids = importer.prepare(rows[header.index + 1:])
    people = importer.look.fetch_people(site_ids, code_ids) if prepared else []
    db.session.commit()
    importer.look.index_people(people)
    if not prepared:
        raise Invalid.field("file", gettext("The list has a header row but no people under it."))
    cap = max_rows()
    if len(prepared) > cap:
        raise TooLarge(gettext("The list has more than %(max)d rows; at most %(max)d can be "
                               "imported at once. Split it into smaller files.", max=cap))

    # 2. check every row in memory
    report.rows = len(prepared)
    turns = Turns()
    for number, cells in prepared:
        turns.tick()
        try:
            result = importer.process(number, cells)
        except RowError as exc:  # every problem of the row, not only the first
            message = import_report.all_problems(importer, cells, exc.message)
            report.errors.append({"row": number, "message": message})
            importer.preview_row(number, None, message, cells)
        else:
            importer.preview_row(number, result, None, cells)
    if dry_run:
        return report.as_dict()

    # 3. write, a transaction per batch of rows (a savepoint per row when a batch is retried)
    try:
        importer.write()
        from trainer.audit.services import record

        record("participants.import", user_id=who.id, site_id=site_id,
               filename=(filename or "")[:200] or None, created=report.created,
               updated=report.updated, unchanged=report.unchanged, errors=len(report.errors),
               rows=report.rows)
        db.session.commit()
        importer.link_preview()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report.as_dict()
