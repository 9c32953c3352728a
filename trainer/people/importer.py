"""Roster import: a CSV or XLSX list of participants -> created and updated participants.

Reading: XLSX (checked by content: a zip holding a workbook) through openpyxl in read-only
mode; anything else must be text: UTF-8 (with or without BOM), UTF-16 with BOM, or
Windows-1258 as Excel in Vietnam saves it, with ",", ";" or tab between columns.

Columns are found by header, in English or Vietnamese, ignoring case, accents and
punctuation; the header row may sit below a title (the first of the first 20 rows that
names the full name, or the given name, and one more known column).

Rows: a row whose code names a stored participant updates that participant; so does a row
with the same name (ignoring accents), site and birth year or phone as a stored one;
anything else creates a participant. Blank cells never erase stored values. Each row is
checked completely before anything is written, and written by one statement (inside a
savepoint when a batch has to be retried row by row), so a row is saved whole or not at
all; bad rows are reported by spreadsheet row number and never stop the good ones.

Speed: everything a row needs (sites, units, codes, stored people of the sites in the file)
is loaded once into dictionaries, and rows are written with executemany in batches.
Check-ins must not wait behind an import, and SQLite holds its write lock for a whole
transaction (this app begins every transaction IMMEDIATE): no transaction is open while the
file is parsed or rows are checked, and reading and writing go in short slices, each its
own transaction, with pauses between (see SLICE_S).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import shutil
import time
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from trainer.auth.models import User
from trainer.auth.services import require_any, require_site
from trainer.dbtypes import utcnow
from trainer.errors import DomainError, Invalid, NotFound, TooLarge
from trainer.extensions import db
from trainer.offload import off_loop, one_at_a_time
from trainer.people import import_report, services
from trainer.people.models import Participant, Sex
from trainer.sites.models import Site, Unit
from trainer.sites.services import UNIT_PREFIXES
from trainer.text import fold, modern_phone, name_sort_key, nfc

MAX_HEADER_SCAN = 20
PREVIEW_ROWS = 50
REPORT_ROWS = 1000
MAX_BLANK_RUN = 1000
DEFAULT_MAX_ROWS = 100_000
YIELD_EVERY = 200  # rows checked between two turns of the other requests
BATCH = 250
FETCH_CHUNK = 1000
CODE_CHUNK = 5000
# Database work is done in slices of about SLICE_S, each its own transaction, with a pause
# of PAUSE_S between: SQLite's busy handler polls a waiting connection at most every
# 100 ms and its locks are not fair, so a pause longer than that lets every waiting
# check-in in. Bulk work thus waits at most about half the time; check-ins about one slice.
SLICE_S = 0.1
PAUSE_S = 0.11
STASH_MAX_AGE_S = 3600

# ------------------------------------------------------------------------------- columns

FIELDS = ("full_name", "family_name", "middle_name", "family_middle", "given_name", "sex",
          "site_code", "unit", "position", "phone", "birth_year", "code")

LABELS: dict[str, Any] = {
    "full_name": _l("Full name"),
    "family_name": _l("Family name"),
    "middle_name": _l("Middle name"),
    "family_middle": _l("Family and middle name"),
    "given_name": _l("Given name"),
    "sex": _l("Sex"),
    "site_code": _l("Site code"),
    "site_id": _l("Site"),
    "unit": _l("Unit"),
    "position": _l("Position"),
    "phone": _l("Phone"),
    "birth_year": _l("Year of birth"),
    "code": _l("Participant code"),
}

# Header texts, compared after header_key() (folded, punctuation and brackets dropped).
ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": ("full_name", "full name", "fullname", "name", "họ và tên", "họ tên",
                  "họ và tên học viên", "họ tên học viên", "tên học viên", "họ và tên đại biểu",
                  "họ tên đại biểu", "participant", "participant name"),
    "family_name": ("family_name", "family name", "surname", "last name", "last_name", "họ"),
    "middle_name": ("middle_name", "middle name", "tên đệm", "tên lót", "đệm"),
    "family_middle": ("họ và tên đệm", "họ đệm", "họ và đệm", "họ và chữ đệm", "họ tên đệm",
                      "họ và tên lót", "họ lót"),
    "given_name": ("given_name", "given name", "first name", "first_name", "tên"),
    "sex": ("sex", "gender", "giới tính", "giới", "nam nữ", "nam/nữ"),
    "site_code": ("site_code", "site code", "site", "mã điểm cầu", "điểm cầu", "mã đc",
                  "bridge point", "site_id"),
    "unit": ("unit", "đơn vị", "đơn vị công tác", "nơi công tác", "xã phường",
             "xã/phường/thị trấn", "xã", "commune", "cơ sở"),
    "position": ("position", "job title", "chức vụ", "chức danh", "chức vụ chức danh"),
    "phone": ("phone", "phone number", "mobile", "telephone", "tel", "điện thoại",
              "số điện thoại", "sđt", "số đt", "đt", "điện thoại di động", "di động"),
    "birth_year": ("birth_year", "birth year", "year of birth", "born", "năm sinh",
                   "ngày sinh", "ngày tháng năm sinh", "date of birth"),
    "code": ("code", "participant code", "participant_code", "mã học viên", "mã hv",
             "mã số", "mã", "mã số học viên"),
}

# The downloadable template, in this column order.
TEMPLATE_HEADERS = ("Họ và tên", "Giới tính", "Năm sinh", "Chức vụ", "Đơn vị", "Điện thoại",
                    "Mã điểm cầu", "Mã học viên")

_BRACKETS = re.compile(r"\(.*?\)|\[.*?\]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_DATE_YEAR = re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-](\d{4})$")
_DIGIT = re.compile(r"\d")
SITE_PREFIXES = ("huyen ", "thi xa ", "thanh pho ", "tp ", "tp. ", "quan ", "thi tran ")


def header_key(value: Any) -> str:
    """A header cell reduced for comparison: "Họ và tên (*)" -> "ho va ten"."""
    text = _BRACKETS.sub(" ", fold(str(value)))
    return " ".join(_NON_ALNUM.sub(" ", text).split())


HEADERS: dict[str, str] = {header_key(a): f for f, names in ALIASES.items() for a in names}


# ------------------------------------------------------------------------------- reading


def size_mb(n: int) -> str:
    value = n / (1024 * 1024)
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def read_upload(upload: Any) -> bytes:
    """The bytes of an upload (a werkzeug FileStorage, a file object or bytes), refusing
    more than IMPORT_MAX_BYTES (TooLarge) and an empty file (Invalid)."""
    limit = int(current_app.config.get("IMPORT_MAX_BYTES") or 10 * 1024 * 1024)
    if upload is None:
        raise Invalid.field("file", gettext("Choose a file to import."))
    if isinstance(upload, bytes | bytearray | memoryview):
        data = bytes(upload)
    else:
        stream = getattr(upload, "stream", upload)
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(gettext("The file is larger than %(mb)s MB. Split the list into "
                               "smaller files.", mb=size_mb(limit)),
                       errors={"file": [gettext("At most %(mb)s MB.", mb=size_mb(limit))]})
    if not data.strip():
        raise Invalid.field("file", gettext("The file is empty."))
    return data


def _not_a_roster(detail: str) -> Invalid:
    return Invalid.field("file", detail)


def file_kind(data: bytes) -> str:
    """"xlsx" or "csv", judged by content (the file name is never trusted)."""
    limit = int(current_app.config.get("IMPORT_MAX_BYTES") or 10 * 1024 * 1024)
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                unpacked = sum(info.file_size for info in zf.infolist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise _not_a_roster(gettext("The file is damaged: it looks like an Excel file "
                                        "but cannot be opened.")) from None
        if "xl/workbook.xml" in names and "[Content_Types].xml" in names:
            if unpacked > max(50 * limit, 200 * 1024 * 1024):
                raise TooLarge(gettext("The spreadsheet is too large once unpacked. Split "
                                       "the list into smaller files."))
            return "xlsx"
        if "mimetype" in names or "content.xml" in names:
            raise _not_a_roster(gettext("This is an OpenDocument file. Save it as Excel "
                                        "(.xlsx) or CSV and import that."))
        raise _not_a_roster(gettext("This is a zip archive, not a spreadsheet. Import a CSV "
                                    "or Excel (.xlsx) file."))
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _not_a_roster(gettext("This is an old Excel (.xls) or Word file. Save it as "
                                    "Excel (.xlsx) or CSV and import that."))
    if not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        import filetype

        guessed = filetype.guess(data[:8192])
        if guessed is not None:
            raise _not_a_roster(gettext("This is a %(kind)s file, not a list. Import a CSV "
                                        "or Excel (.xlsx) file.", kind=guessed.extension.upper()))
    return "csv"


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1258; binary refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise _not_a_roster(gettext("The file cannot be read as text.")) from None
    else:
        if b"\x00" in data[:65536]:
            raise _not_a_roster(gettext("This is not a text (CSV) or Excel (.xlsx) file."))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1258")
            except UnicodeDecodeError:
                raise _not_a_roster(gettext(
                    "The file's text encoding is not UTF-8 or Windows-1258. Save it as "
                    "\"CSV UTF-8\" and try again.")) from None
    sample = text[:65536]
    controls = sum(1 for ch in sample
                   if (ord(ch) < 32 and ch not in "\t\r\n") or 0x7F <= ord(ch) <= 0x9F)
    if controls > max(10, len(sample) // 100):
        raise _not_a_roster(gettext("This is not a text (CSV) or Excel (.xlsx) file."))
    return text


def _guess_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:40] if line.strip()][:20]
    sample = "\n".join(lines)
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        sniffed = None
    best, best_score = ",", (0, 0, 0)
    for delimiter in (",", ";", "\t"):
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            continue
        wide = [w for w in widths if w > 1]
        modal = max(set(wide), key=wide.count) if wide else 1
        score = (wide.count(modal) if wide else 0, modal, 1 if delimiter == sniffed else 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _filled(values: Iterable[Any]) -> bool:
    return not all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def parse_csv(text: str, limit: int | None = None) -> list[tuple[int, list[Any]]]:
    """Rows numbered as a spreadsheet program shows them (1-based records); reading stops
    after `limit` rows that are not blank."""
    delimiter = _guess_delimiter(text)
    rows: list[tuple[int, list[Any]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    n = filled = 0
    try:
        for n, record in enumerate(reader, start=1):  # noqa: B007
            rows.append((n, list(record)))
            if limit is not None and _filled(record):
                filled += 1
                if filled >= limit:
                    break
    except csv.Error:
        raise _not_a_roster(gettext("Row %(row)d of the file cannot be read (a quote is "
                                    "not closed or a cell is too long).", row=n + 1)) from None
    return rows


def parse_xlsx(data: bytes, limit: int | None = None) -> list[tuple[int, list[Any]]]:
    """The rows of the first sheet that has a header row (else of the first sheet), streamed
    (read-only mode); reading a sheet stops after `limit` rows that are not blank."""
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise _not_a_roster(gettext("The Excel file is damaged or not a workbook.")) from None
    try:
        first: list[tuple[int, list[Any]]] | None = None
        for ws in wb.worksheets:
            if not hasattr(ws, "reset_dimensions"):
                continue  # a chart sheet
            ws.reset_dimensions()  # some writers record wrong dimensions; read every row
            rows: list[tuple[int, list[Any]]] = []
            blank = filled = 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
                    if not _filled(values):
                        blank += 1
                        if blank > MAX_BLANK_RUN:
                            break
                        rows.append((n, []))
                        continue
                    blank = 0
                    rows.append((n, list(values)))
                    filled += 1
                    if limit is not None and filled >= limit:
                        break
            if first is None:
                first = rows
            if find_header(rows) is not None:
                return rows
        return first or []
    except DomainError:
        raise
    except Exception:  # noqa: BLE001
        raise _not_a_roster(gettext("The Excel file is damaged or not a workbook.")) from None
    finally:
        wb.close()


def max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS") or DEFAULT_MAX_ROWS)


def read_rows(data: bytes, max_people: int | None = None) -> list[tuple[int, list[Any]]]:
    """The file's rows, parsed off the gevent loop (trainer.offload). Reading stops once the
    file shows more than `max_people` people (default: the import cap), so a file of
    700,000 short rows costs no more than one just over the cap; the caller then refuses it
    as too large."""
    limit = (max_people or max_rows()) + MAX_HEADER_SCAN + 2  # title rows, header, one more
    return off_loop(_read_rows, data, limit)


def _read_rows(data: bytes, limit: int) -> list[tuple[int, list[Any]]]:
    if file_kind(data) == "xlsx":
        return parse_xlsx(data, limit)
    return parse_csv(decode_text(data), limit)


# ------------------------------------------------------------------------------- header


@dataclass
class Header:
    index: int  # position in the row list
    row: int  # spreadsheet row number
    columns: dict[str, int]
    ignored: list[str]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def find_header(rows: list[tuple[int, list[Any]]]) -> Header | None:
    """The first of the first 20 rows naming the full (or given) name and one more known
    column; failing that, the first naming the full name alone."""
    candidates: list[Header] = []
    for i, (number, values) in enumerate(rows[:MAX_HEADER_SCAN]):
        columns: dict[str, int] = {}
        ignored: list[str] = []
        for j, value in enumerate(values):
            if _blank(value):
                continue
            key = HEADERS.get(header_key(value))
            if key is None:
                ignored.append(nfc(str(value))[:60])
            elif key not in columns:
                columns[key] = j
        if ("full_name" in columns or "given_name" in columns) and len(columns) >= 2:
            return Header(i, number, columns, ignored)
        if "full_name" in columns:
            candidates.append(Header(i, number, columns, ignored))
    return candidates[0] if candidates else None


def _header_labels(*fields: str) -> str:
    names = {"full_name": "Họ và tên", "site_code": "Mã điểm cầu", "given_name": "Tên"}
    return ", ".join(f"“{names[f]}” ({f})" for f in fields)


# ------------------------------------------------------------------------------- cells


def _digits_text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _phone_cell(value: Any) -> str | None:
    text = _digits_text(value)
    if text is None:
        return None
    text = text.strip().lstrip("'")
    # A spreadsheet that took the phone for a number dropped its leading 0.
    dropped_zero = (len(text) == 9 and text[:1] in tuple("2356789")) or (
        len(text) == 10 and text[:1] in ("1", "2"))
    if text.isdigit() and dropped_zero:
        text = "0" + text
    return text


def _year_cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.year
    if isinstance(value, str):
        match = _DATE_YEAR.match(value.strip())
        if match:
            return match.group(1)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text_cell(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ------------------------------------------------------------------------------- lookups


def _bare(folded: str, prefixes: Iterable[str]) -> str:
    for prefix in prefixes:
        if folded.startswith(prefix):
            return folded.removeprefix(prefix)
    return folded


class Slicer:
    """On SQLite, commits, then pauses, each time the current transaction has run SLICE_S.
    (PostgreSQL locks rows, not the database: there the work stays in one transaction.)"""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.active = db.engine.dialect.name == "sqlite"

    def tick(self) -> None:
        if self.active and time.monotonic() - self.started >= SLICE_S:
            db.session.commit()
            time.sleep(PAUSE_S)
            self.started = time.monotonic()


@dataclass(frozen=True)
class SiteInfo:
    id: int
    code: str
    name: str


@dataclass
class Lookups:
    """Everything rows are matched against, loaded once (plain values, not ORM objects, so
    rows are checked with no database transaction open)."""

    sites: dict[int, SiteInfo]
    site_by_code: dict[str, int]
    site_by_name: dict[str, int]
    units: dict[int, dict[str, tuple[int, str]]]
    code_to_id: dict[str, int]
    people: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[tuple[int, str], list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Lookups:
        sites: dict[int, SiteInfo] = {}
        by_name: dict[str, int] = {}
        for sid, code, name, folded in db.session.execute(
                select(Site.id, Site.code, Site.name, Site.name_folded).order_by(Site.id)):
            sites[sid] = SiteInfo(sid, code, name)
            by_name.setdefault(folded, sid)
            by_name.setdefault(_bare(folded, SITE_PREFIXES), sid)
        units: dict[int, dict[str, tuple[int, str]]] = {}
        for uid, site_id, name, folded in db.session.execute(
                select(Unit.id, Unit.site_id, Unit.name, Unit.name_folded)):
            units.setdefault(site_id, {}).setdefault(_bare(folded, UNIT_PREFIXES), (uid, name))
        codes: dict[str, int] = {}
        last, slicer = 0, Slicer()
        while True:
            chunk = db.session.execute(
                select(Participant.id, Participant.code).where(Participant.id > last)
                .order_by(Participant.id).limit(CODE_CHUNK)).all()
            slicer.tick()
            codes.update((code, pid) for pid, code in chunk)
            if len(chunk) < CODE_CHUNK:
                break
            last = chunk[-1][0]
        return cls(sites=sites, site_by_code={s.code: s.id for s in sites.values()},
                   site_by_name=by_name, units=units, code_to_id=codes)

    PERSON_COLUMNS = ("id", "code", "full_name", "family_name", "middle_name", "given_name",
                      "name_folded", "sort_key", "sex", "birth_year", "position", "unit",
                      "unit_id", "phone", "site_id")

    def fetch_people(self, site_ids: Iterable[int], ids: Iterable[int]) -> list[Any]:
        """The stored participants of these sites, and these ids (raw rows, indexed later),
        read a few thousand at a time, each read in its own short transaction."""
        cols = [getattr(Participant, c) for c in self.PERSON_COLUMNS]
        site_list, id_list = sorted(set(site_ids)), sorted(set(ids))
        rows: list[Any] = []
        for start in range(0, len(site_list), 500):
            sites = site_list[start:start + 500]
            last = 0
            slicer = Slicer()
            while True:
                chunk = db.session.execute(
                    select(*cols).where(Participant.site_id.in_(sites), Participant.id > last)
                    .order_by(Participant.id).limit(FETCH_CHUNK)).all()
                slicer.tick()
                rows.extend(chunk)
                if len(chunk) < FETCH_CHUNK:
                    break
                last = chunk[-1][0]
        for start in range(0, len(id_list), 500):
            rows.extend(db.session.execute(
                select(*cols).where(Participant.id.in_(id_list[start:start + 500]))))
            db.session.commit()
        return rows

    def index_people(self, rows: Iterable[Any]) -> None:
        for row in rows:
            if row[0] not in self.people:
                self.add_person(dict(zip(self.PERSON_COLUMNS, row, strict=True)))

    def add_person(self, person: dict[str, Any]) -> None:
        self.people[person["id"]] = person
        self.by_key.setdefault((person["site_id"], person["name_folded"]), []).append(
            person["id"])

    def rekey(self, person: dict[str, Any], old_key: tuple[int, str]) -> None:
        new_key = (person["site_id"], person["name_folded"])
        if new_key != old_key:
            ids = self.by_key.get(old_key, [])
            if person["id"] in ids:
                ids.remove(person["id"])
            self.by_key.setdefault(new_key, []).append(person["id"])

    def site_for(self, value: str) -> int | None:
        text = nfc(value)
        found = self.site_by_code.get(text.upper())
        if found is None:
            folded = fold(text)
            found = self.site_by_name.get(folded) or self.site_by_name.get(
                _bare(folded, SITE_PREFIXES))
        return found

    def unit_for(self, site_id: int, text: str | None) -> tuple[str | None, int | None]:
        if not text:
            return None, None
        found = self.units.get(site_id, {}).get(_bare(fold(text), UNIT_PREFIXES))
        return (found[1], found[0]) if found else (text, None)

    def match(self, site_id: int, name_folded: str, birth_year: int | None,
              phone: str | None) -> int | None:
        """A stored (or earlier imported) person with this name and site, and the same
        birth year or phone."""
        if birth_year is None and phone is None:
            return None
        for pid in self.by_key.get((site_id, name_folded), ()):
            person = self.people[pid]
            if birth_year is not None and person["birth_year"] == birth_year:
                return pid
            if phone is not None and person["phone"] and _same_phone(person["phone"], phone):
                return pid
        return None


def _same_phone(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return modern_phone(a) == modern_phone(b)
    except ValueError:
        return False


# ------------------------------------------------------------------------------- import


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
        for i, (number, values) in enumerate(rows):
            if i % YIELD_EVERY == 0:
                time.sleep(0)  # under gevent: let other requests and sockets run in between
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
    for i, (number, cells) in enumerate(prepared):
        if i % YIELD_EVERY == 0:
            time.sleep(0)  # under gevent: let other requests and sockets run in between
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


# ------------------------------------------------------------------------------- templates

TEMPLATE_EXAMPLE = ("Nguyễn Thị Hoa", "Nữ", "1985", "Phó Giám đốc", "Xã Tiên Kiên",
                    "0912345678", "LTH", "")


def template_csv() -> bytes:
    """A blank roster with Vietnamese headers, UTF-8 with BOM (Excel opens it right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADERS)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    ws.append(list(TEMPLATE_HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = (28, 10, 10, 22, 24, 14, 14, 14)
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    for col in ("C", "F", "G", "H"):  # keep leading zeros of phones and codes
        for row in range(2, 1002):
            ws[f"{col}{row}"].number_format = "@"
    ws.freeze_panes = "A2"
    help_ws = wb.create_sheet("Hướng dẫn")
    for line in (
        ("Cột", "Cách ghi"),
        ("Họ và tên", "Bắt buộc. Ví dụ: " + TEMPLATE_EXAMPLE[0]),
        ("Giới tính", "Nữ, Nam hoặc để trống"),
        ("Năm sinh", "Bốn chữ số, ví dụ 1985"),
        ("Chức vụ", "Ví dụ: " + TEMPLATE_EXAMPLE[3]),
        ("Đơn vị", "Xã, phường, thị trấn. Ví dụ: " + TEMPLATE_EXAMPLE[4]),
        ("Điện thoại", "10 chữ số, ví dụ 0912345678; số 11 chữ số cũ cũng được"),
        ("Mã điểm cầu", "Mã của điểm cầu, ví dụ LTH; bỏ trống nếu chọn điểm cầu khi nhập"),
        ("Mã học viên", "Để trống khi thêm mới; ghi mã để cập nhật người đã có"),
    ):
        help_ws.append(line)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------- pending uploads
# The import page checks a file first (dry run) and imports it when the user confirms; the
# file waits in DATA_DIR/imports/<random id>/ meanwhile, for its owner only, at most an hour.

_STASH_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _stash_root() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "imports"


def purge_stale_uploads(max_age_s: int = STASH_MAX_AGE_S) -> int:
    root = _stash_root()
    if not root.is_dir():
        return 0
    removed = 0
    cutoff = time.time() - max_age_s
    for entry in root.iterdir():
        try:
            if entry.is_dir() and _STASH_ID.match(entry.name) and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def stash_upload(actor: User, data: bytes, filename: str, site_id: int | None) -> str:
    purge_stale_uploads()
    stash_id = secrets.token_urlsafe(24)
    folder = _stash_root() / stash_id
    folder.mkdir(parents=True, mode=0o700)
    for name, content in (
        ("upload", data),
        ("meta.json", json.dumps({"user_id": actor.id, "filename": nfc(filename or "")[:200],
                                  "site_id": site_id, "at": time.time()}).encode()),
    ):
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
    return stash_id


def _stash_folder(stash_id: str) -> Path:
    if not _STASH_ID.match(stash_id or ""):
        raise NotFound(gettext("This upload has expired. Choose the file again."))
    return _stash_root() / stash_id


def load_upload(actor: User, stash_id: str) -> tuple[bytes, dict[str, Any]]:
    """The stashed file and its details; NotFound when expired or someone else's."""
    folder = _stash_folder(stash_id)
    expired = NotFound(gettext("This upload has expired. Choose the file again."))
    try:
        meta = json.loads((folder / "meta.json").read_text())
        data = (folder / "upload").read_bytes()
    except (OSError, ValueError):
        raise expired from None
    if meta.get("user_id") != actor.id or time.time() - float(meta.get("at", 0)) > \
            STASH_MAX_AGE_S:
        raise expired
    return data, meta


def discard_upload(stash_id: str) -> None:
    try:
        folder = _stash_folder(stash_id)
    except NotFound:
        return
    shutil.rmtree(folder, ignore_errors=True)


