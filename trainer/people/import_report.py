"""What an import check reports beyond the counts: every problem of a bad row at once (not only
the first), and a file of the bad rows with their reasons to correct and import again.

Used by the participant import (trainer.people.importer) and the session roster import
(trainer.sessions.roster_import): both keep the checked upload in the importer's stash until
the user confirms, and the bad-rows file beside it (`errors.csv`), for its owner only.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext

from trainer.auth.models import User
from trainer.errors import Invalid, NotFound

BAD_ROWS_FILE = "errors.csv"
ROW_LABEL = "Dòng"
REASON_LABEL = "Lỗi"


def all_problems(importer: Any, cells: dict[str, Any], first: str) -> str:
    """Every problem of a participant row the import refused (`first`: the one that stopped
    it): the name, the site and each field, joined by "; ". The checks are the importer's own,
    run one by one so that one failing does not hide the next."""
    from trainer.people import import_reading, import_rows, services

    problems: list[str] = []
    data, site_text = importer.row_data(cells)
    name_label = import_reading.LABELS["full_name"]
    if not any(data.get(k) for k in ("full_name", "given_name")):
        problems.append(gettext("%(label)s: this field is required.", label=name_label))
    elif any(import_reading._DIGIT.search(str(data.get(k) or "")) for k in ("full_name", *import_rows.NAME_PARTS)):
        problems.append(gettext("%(label)s: a name has no digits.", label=name_label))
    site_id = None
    try:
        site_id = importer.site_of_row(site_text)
    except import_rows.RowError as exc:
        problems.append(exc.message)
    # Each field on its own beside valid placeholders: one bad field never hides another.
    site_for_check = site_id if site_id is not None else next(iter(importer.site_ids), 0)
    base = {"full_name": "Tên", "site_id": site_for_check, "sex": "unspecified"}
    for name, value in data.items():
        if value is None or name in ("site_id", "family_name", "middle_name", "given_name"):
            continue
        try:
            services.validate({**base, name: value}, known_site_ids=importer.site_ids)
        except Invalid as exc:
            for field_name, messages in (exc.errors or {}).items():
                if field_name == "site_id":
                    continue  # said above, in the words of the file's columns
                label = import_reading.LABELS.get(field_name, field_name)
                problems.append(f"{label}: {' '.join(str(m) for m in messages)}")
    parts = dict.fromkeys(p.strip() for p in [*first.split("; "), *problems] if p.strip())
    return " ".join(p if p.endswith((".", "!", "?")) else f"{p}." for p in parts)


def bad_rows_csv(rows: Iterable[tuple[int, list[Any]]], errors: list[dict[str, Any]],
                 header: list[Any] | None) -> bytes:
    """A CSV (UTF-8 with BOM, so Excel opens it right) of the bad rows as the file had them,
    each with its spreadsheet row number first and its reasons last."""
    reasons: dict[int, list[str]] = {}
    for e in errors:
        reasons.setdefault(int(e["row"]), []).append(str(e["message"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([ROW_LABEL, *(_text(v) for v in (header or [])), REASON_LABEL])
    for number, values in rows:
        if number in reasons:
            writer.writerow([number, *(_text(v) for v in values), "; ".join(reasons[number])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # never a formula


def save_bad_rows(stash_id: str, content: bytes) -> None:
    """Keep the bad-rows file beside a stashed upload."""
    from trainer.people import import_files

    folder = import_files._stash_folder(stash_id)
    fd = os.open(folder / BAD_ROWS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)


def load_bad_rows(actor: User, stash_id: str) -> tuple[bytes, str]:
    """(the bad-rows file, a download name) of the actor's stashed upload; NotFound when it
    has expired, is someone else's, or had no bad rows."""
    from trainer.people import import_files

    _data, meta = import_files.load_upload(actor, stash_id)
    try:
        content = (import_files._stash_folder(stash_id) / BAD_ROWS_FILE).read_bytes()
    except OSError:
        raise NotFound(gettext("This upload has expired. Choose the file again.")) from None
    stem = (meta.get("filename") or "danh-sach").rsplit(".", 1)[0][:80] or "danh-sach"
    return content, f"{stem}-dong-loi.csv"


def keep_participant_bad_rows(stash_id: str, data: bytes, report: dict[str, Any]) -> bool:
    """After a participant import check: write the bad-rows file of the stashed upload (the
    file's own header row and bad rows). False when no row was bad."""
    if not report.get("errors"):
        return False
    from trainer.people import importer

    rows = importer.read_rows(data)
    header_row = int(report.get("header_row") or 0)
    header = next((values for number, values in rows if number == header_row), None)
    save_bad_rows(stash_id, bad_rows_csv(
        ((n, v) for n, v in rows if n > header_row), report["errors"], header))
    return True


def csv_response(content: bytes, name: str) -> Any:
    """A CSV download (the name in UTF-8 for browsers that read it, ASCII for the others)."""
    from urllib.parse import quote

    from flask import current_app

    ascii_name = name.encode("ascii", "ignore").decode() or "errors.csv"
    return current_app.response_class(content, content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, no-store"})
