"""Reading a participant list: the file's kind and text encoding, CSV and XLSX rows streamed up to
the cap, the header row and what its columns mean."""

from __future__ import annotations

import csv
import io
import pickle
import re
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from trainer.errors import DomainError, Invalid, TooLarge
from trainer.offload import Turns, off_loop
from trainer.text import fold, nfc

MAX_HEADER_SCAN = 20


PREVIEW_ROWS = 50


REPORT_ROWS = 1000


MAX_BLANK_RUN = 1000


DEFAULT_MAX_ROWS = 100_000


ROWS_PER_PIECE = 2000  # rows unpacked between two turns of the others (read_rows)


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
    as too large. The rows come back in pieces, unpacked one at a time with turns for the
    others between (100,000 rows at once would hold the loop for most of a second)."""
    limit = (max_people or max_rows()) + MAX_HEADER_SCAN + 2  # title rows, header, one more
    rows: list[tuple[int, list[Any]]] = []
    turns = Turns()
    for piece in off_loop(_read_rows, data, limit):
        turns.tick()
        rows.extend(pickle.loads(piece))  # noqa: S301 - pickled by _read_rows
    return rows


def _read_rows(data: bytes, limit: int) -> list[bytes]:
    rows = parse_xlsx(data, limit) if file_kind(data) == "xlsx" else parse_csv(
        decode_text(data), limit)
    return [pickle.dumps(rows[i:i + ROWS_PER_PIECE], pickle.HIGHEST_PROTOCOL)
            for i in range(0, len(rows), ROWS_PER_PIECE)]


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
