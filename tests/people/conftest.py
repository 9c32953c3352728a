"""Fixtures for the participant tests: two sites with communes, users, file builders."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import pytest

TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Text as Excel in Vietnam saves "CSV" (Windows-1258): letters with a tone mark are a
    base letter followed by a combining tone, since the code page has few precomposed ones."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        nfd = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in TONES))
        out += (base + "".join(c for c in nfd if c in TONES)).encode("cp1258")
    return bytes(out)


def csv_bytes(rows: Sequence[Sequence[Any]], *, delimiter: str = ",", encoding: str = "utf-8",
              bom: bool = False) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    text = out.getvalue()
    if encoding == "cp1258":
        return to_cp1258(text)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[Any]], *, title: str | None = None) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.title = title
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def sites(make_site: Callable[..., Any]) -> dict[str, Any]:
    return {
        "LTH": make_site(code="LTH", name="Huyện Lâm Thao",
                         units=("Xã Tiên Kiên", "Thị trấn Hùng Sơn", "Xã Sơn Vi")),
        "HHO": make_site(code="HHO", name="Huyện Hạ Hòa", units=("Xã Ấm Hạ", "Xã Gia Điền")),
    }


@pytest.fixture
def organiser(make_user: Callable[..., Any]) -> Any:
    return make_user("organiser")


@pytest.fixture
def coordinator(make_user: Callable[..., Any], sites: dict[str, Any]) -> Any:
    return make_user("coordinator", sites=[sites["LTH"]])


@pytest.fixture
def upload(api_as: Callable[..., Any]) -> Callable[..., Any]:
    """upload(user, data, filename="list.csv", **form) -> the API response."""

    def do(user: Any, data: bytes, filename: str = "list.csv", lang: str = "en",
           **form: Any) -> Any:
        body: dict[str, Any] = {"file": (io.BytesIO(data), filename)}
        body.update({k: str(v) for k, v in form.items()})
        return api_as(user, lang=lang).post("/api/v1/participants/import", data=body,
                                            content_type="multipart/form-data")

    return do
