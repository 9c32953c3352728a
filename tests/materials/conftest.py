"""Fixtures for materials: a data folder per test, accounts, and minimal valid files."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask


@pytest.fixture(autouse=True)
def data_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Each test stores files in its own folder, so "nothing kept" can be checked."""
    folder = tmp_path / "data"
    folder.mkdir()
    if "app" in request.fixturenames:
        app: Flask = request.getfixturevalue("app")
        app.config["DATA_DIR"] = str(folder)
    return folder


def stored_files(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "files").rglob("*") if p.is_file()) \
        if (folder / "files").exists() else []


def tmp_files(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "tmp").rglob("*") if p.is_file()) \
        if (folder / "tmp").exists() else []


class Samples:
    """Small files that are what they claim to be."""

    @staticmethod
    def pdf(text: str = "Tài liệu") -> bytes:
        body = text.encode("utf-8")
        return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
                b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n% " + body +
                b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")

    @staticmethod
    def png(width: int = 2, height: int = 2, seed: int = 0) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return (struct.pack(">I", len(data)) + kind + data
                    + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

        raw = b"".join(b"\x00" + bytes((seed + x + y) % 256 for x in range(width * 3))
                       for y in range(height))
        return (b"\x89PNG\r\n\x1a\n"
                + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

    @staticmethod
    def jpeg() -> bytes:
        return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" \
               + b"\x00" * 64 + b"\xff\xd9"

    @staticmethod
    def gif() -> bytes:
        return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00"
                b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

    @staticmethod
    def webp() -> bytes:
        payload = b"VP8 " + struct.pack("<I", 10) + b"\x00" * 10
        return b"RIFF" + struct.pack("<I", 4 + len(payload)) + b"WEBP" + payload

    @staticmethod
    def mp4(payload: int = 4096) -> bytes:
        ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 0x200) + b"isommp41"
        data = bytes(i % 251 for i in range(payload))
        return ftyp + struct.pack(">I", 8 + len(data)) + b"mdat" + data

    @staticmethod
    def webm(payload: int = 4096) -> bytes:
        """An EBML header with DocType "webm" (as janus-pp-rec writes), then data."""
        ebml = (b"\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
                b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02")
        return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(ebml)]) + ebml + bytes(
            i % 251 for i in range(payload))

    @staticmethod
    def opus(payload: int = 2048) -> bytes:
        """An Ogg page holding an OpusHead (an .opus file's start), then data."""
        head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
        page = (b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8
                + b"\x01" + bytes([len(head)]))
        return page + head + bytes(i % 251 for i in range(payload))

    @staticmethod
    def _zip(entries: dict[str, bytes], *, first: str | None = None) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            if first:
                zf.writestr(zipfile.ZipInfo(first), entries[first])
            for name, data in entries.items():
                if name != first:
                    zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        return buf.getvalue()

    @classmethod
    def ooxml(cls, part: str = "word", main: str = "document.xml", extra: dict[str, bytes]
              | None = None) -> bytes:
        entries = {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.'
                                   b'openxmlformats.org/package/2006/content-types"/>',
            "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
            f"{part}/{main}": "<doc>Tài liệu tập huấn</doc>".encode(),
            **(extra or {}),
        }
        return cls._zip(entries)

    @classmethod
    def docx(cls) -> bytes:
        return cls.ooxml("word", "document.xml")

    @classmethod
    def pptx(cls) -> bytes:
        return cls.ooxml("ppt", "presentation.xml")

    @classmethod
    def xlsx(cls) -> bytes:
        return cls.ooxml("xl", "workbook.xml")

    @classmethod
    def odt(cls) -> bytes:
        return cls._zip({"mimetype": b"application/vnd.oasis.opendocument.text",
                         "content.xml": "<office>Bình đẳng giới</office>".encode()},
                        first="mimetype")

    @staticmethod
    def exe() -> bytes:
        return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200

    @staticmethod
    def elf() -> bytes:
        return b"\x7fELF\x02\x01\x01" + b"\x00" * 200


@pytest.fixture
def samples() -> type[Samples]:
    return Samples


@pytest.fixture
def organiser(make_user: Callable[..., Any]) -> Any:
    return make_user("organiser", username="bantochuc")


@pytest.fixture
def helpers() -> Any:
    class H:
        stored = staticmethod(stored_files)
        tmp = staticmethod(tmp_files)

    return H
