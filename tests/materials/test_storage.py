"""Storage helpers: file names, content checks, the Content-Disposition header."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from trainer.errors import Invalid
from trainer.materials import storage


@pytest.mark.parametrize(("raw", "clean"), [
    ("Tài liệu tập huấn.pdf", "Tài liệu tập huấn.pdf"),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\Windows\\báo cáo.docx", "báo cáo.docx"),
    ("C:\\Users\\Hà\\Slide bài 1.pptx", "Slide bài 1.pptx"),
    ("bad\x00na\x1bme\x7f.pdf", "badname.pdf"),
    ("tab\there\nnewline.pdf", "tab here newline.pdf"),
    ("...hidden.pdf", "hidden.pdf"),
    ('a<b>c:d"e|f?g*h.pdf', "a_b_c_d_e_f_g_h.pdf"),
    ("Tai lie\u0302\u0323u.pdf", "Tai liệu.pdf"),  # NFD in, NFC out
    ("right\u202eto-left.pdf", "rightto-left.pdf"),  # bidi override dropped
])
def test_clean_filename(raw: str, clean: str) -> None:
    assert storage.clean_filename(raw) == clean


@pytest.mark.parametrize("raw", ["", "../", "..", "/", "\x00\x01", " . ", ".pdf", "../.pdf",
                                 "dir/"])
def test_clean_filename_refuses_names_with_nothing_left(raw: str) -> None:
    with pytest.raises(Invalid) as info:
        storage.clean_filename(raw)
    assert "file" in (info.value.errors or {})


def test_long_names_keep_their_extension() -> None:
    name = storage.clean_filename("á" * 500 + ".pdf")
    assert len(name) <= storage.FILENAME_MAX and name.endswith(".pdf")


def parse_disposition(header: str) -> tuple[str, dict[str, str]]:
    """A small RFC 6266 reader: the disposition type and its parameters, filename* decoded."""
    kind, _, rest = header.partition(";")
    params: dict[str, str] = {}
    for m in re.finditer(r'\s*([\w*]+)=("(?:[^"\\]|\\.)*"|[^;]*)\s*;?', rest):
        key, value = m.group(1).lower(), m.group(2)
        if value.startswith('"'):
            value = value[1:-1]
        if key.endswith("*"):
            charset, _, encoded = value.partition("''")
            assert charset.upper() == "UTF-8"
            value = unquote(encoded, encoding="utf-8", errors="strict")
        params[key] = value
    return kind.strip(), params


@pytest.mark.parametrize("name", [
    "Tài liệu tập huấn quản lý TTHTCĐ (bản 2).pdf",
    "Đánh giá 100% \"chuẩn\"; hạng A.docx",
    "Giới và bình đẳng giới — phần 1.pptx",
])
def test_content_disposition_round_trips_vietnamese_names(name: str) -> None:
    header = storage.content_disposition(name)
    assert header.isascii()
    kind, params = parse_disposition(header)
    assert kind == "attachment"
    assert params["filename*"] == name
    assert params["filename"].isascii() and '"' not in params["filename"]
    from werkzeug.http import parse_options_header

    assert parse_options_header(header)[1]["filename"] == name  # Werkzeug reads it too


def test_ascii_fallback_maps_d_with_stroke() -> None:
    assert storage.ascii_fallback("Đào tạo đội ngũ.pdf") == "Dao tao doi ngu.pdf"


def test_inline_disposition() -> None:
    assert storage.content_disposition("ảnh.png", inline=True).startswith("inline; ")


def test_sniff_accepts_each_type(samples: Any, tmp_path: Path) -> None:
    cases = {"pdf": samples.pdf(), "docx": samples.docx(), "pptx": samples.pptx(),
             "xlsx": samples.xlsx(), "odt": samples.odt(), "png": samples.png(),
             "jpeg": samples.jpeg(), "gif": samples.gif(), "webp": samples.webp(),
             "mp4": samples.mp4()}
    for key, data in cases.items():
        path = tmp_path / key
        path.write_bytes(data)
        assert storage.sniff(path, data[:8192]).key == key


@pytest.mark.parametrize("data", [b"MZ\x90\x00rest", b"\x7fELF\x02", b"#!/bin/sh\nrm -rf /",
                                  b"\xcf\xfa\xed\xfe\x07"])
def test_sniff_refuses_programs(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(data)
    with pytest.raises(Invalid) as info:
        storage.sniff(path, data)
    assert "program" in str(info.value.detail)


def test_stage_reads_in_chunks(app: Any, samples: Any) -> None:
    class Stream(io.BytesIO):
        sizes: list[int] = []

        def read(self, size: int | None = -1) -> bytes:
            assert size is not None and 0 < size <= storage.CHUNK
            self.sizes.append(size)
            return super().read(size)

    stream = Stream(samples.mp4(3 * storage.CHUNK))
    staged = storage.stage(stream, "video.mp4")
    try:
        assert len(Stream.sizes) >= 4 and staged.size == len(stream.getvalue())
    finally:
        staged.discard()


OFF_LOOP = textwrap.dedent('''
    from gevent import monkey
    monkey.patch_all()
    import os, sys, tempfile
    import gevent
    from trainer.materials.storage import CHUNK, _copy_hashing
    from trainer.offload import in_thread

    class Zeros:
        """A 64 MB file, chunk by chunk."""
        left = 64 * CHUNK

        def read(self, n):
            n = min(n, self.left)
            self.left -= n
            return bytes(n)

    turns = []

    def other_request():
        while True:
            turns.append(1)
            gevent.sleep(0.001)

    gevent.spawn(other_request)
    gevent.sleep(0.01)
    before = len(turns)
    fd, path = tempfile.mkstemp()
    copy = in_thread if sys.argv[1] == "thread" else (lambda fn, *args: fn(*args))
    size, sha256, head = copy(_copy_hashing, Zeros(), fd, None)
    os.unlink(path)
    print(size, len(turns) - before)
''')


@pytest.mark.parametrize("how", ["thread", "loop"])
def test_a_file_is_copied_and_hashed_while_the_server_serves_others(how: str) -> None:
    """Under `trainer serve` (gevent) the copy and hash of a stored file run on a native
    thread: the loop keeps serving meanwhile (a greenlet gets turns during the copy). Run on
    the loop itself (how a copy ran before), the same copy gives no greenlet a single turn."""
    out = subprocess.run([sys.executable, "-c", OFF_LOOP, how], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2], timeout=120)
    size, turns = map(int, out.stdout.split())
    assert size == 64 * 1024 * 1024
    if how == "thread":
        assert turns > 0
    else:
        assert turns == 0
