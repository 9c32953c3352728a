"""The import's files: the template to fill in (CSV and XLSX), and uploads kept between the check
and the confirmation."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext

from trainer.auth.models import User
from trainer.errors import NotFound
from trainer.people.import_reading import STASH_MAX_AGE_S, TEMPLATE_HEADERS
from trainer.text import nfc

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
