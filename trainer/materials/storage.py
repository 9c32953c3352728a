"""File storage by content hash, and content checks.

Files live under DATA_DIR/files/ab/cd/<sha256>; an upload is first copied in chunks, hashed
on the way, to DATA_DIR/tmp, checked there, then moved into place with os.replace (atomic on
one file system). The client's file name is never used as a path.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote

import filetype
from flask import current_app
from flask_babel import gettext

from trainer.errors import Invalid, TooLarge

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
HEAD_BYTES = 8192
FILENAME_MAX = 200
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileType:
    key: str
    content_type: str
    extensions: tuple[str, ...]  # the first is the one added to a name without an extension
    label: str
    preview: str | None = None  # "pdf" | "image" | "video": shown in the page


OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."
TYPES: dict[str, FileType] = {t.key: t for t in (
    FileType("pdf", "application/pdf", ("pdf",), "PDF", "pdf"),
    FileType("docx", OOXML + "wordprocessingml.document", ("docx",), "Word"),
    FileType("pptx", OOXML + "presentationml.presentation", ("pptx",), "PowerPoint"),
    FileType("xlsx", OOXML + "spreadsheetml.sheet", ("xlsx",), "Excel"),
    FileType("odt", ODF + "text", ("odt",), "OpenDocument"),
    FileType("ods", ODF + "spreadsheet", ("ods",), "OpenDocument"),
    FileType("odp", ODF + "presentation", ("odp",), "OpenDocument"),
    FileType("png", "image/png", ("png",), "PNG", "image"),
    FileType("jpeg", "image/jpeg", ("jpg", "jpeg"), "JPEG", "image"),
    FileType("gif", "image/gif", ("gif",), "GIF", "image"),
    FileType("webp", "image/webp", ("webp",), "WebP", "image"),
    FileType("mp4", "video/mp4", ("mp4", "m4v"), "MP4", "video"),
    FileType("webm", "video/webm", ("webm",), "WebM", "video"),
    FileType("opus", "audio/ogg", ("opus", "ogg", "oga"), "Opus", "audio"),
)}
BY_CONTENT_TYPE = {t.content_type: t for t in TYPES.values()}
ACCEPTED_EXTENSIONS = sorted({e for t in TYPES.values() for e in t.extensions})
# The <input accept=...> of the upload page.
ACCEPT_ATTR = ",".join("." + e for e in ACCEPTED_EXTENSIONS)

MP4_BRANDS = {"isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "M4V ",
              "M4VH", "M4VP", "mmp4", "MSNV", "f4v "}
EXECUTABLE_MAGIC = (
    b"MZ",  # Windows / DOS
    b"\x7fELF",  # Linux
    b"#!",  # scripts
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
)


# --------------------------------------------------------------------------- paths

def data_dir() -> Path:
    return Path(current_app.config["DATA_DIR"])


def files_dir() -> Path:
    return data_dir() / "files"


def tmp_dir() -> Path:
    return data_dir() / "tmp"


def blob_path(sha256: str) -> Path:
    if not SHA256_RE.match(sha256):
        raise ValueError("not a sha256 hex digest")
    return files_dir() / sha256[:2] / sha256[2:4] / sha256


def human_size(n: int) -> str:
    """A size as the page's language writes it ("48,8 kB")."""
    from trainer.i18n import fmt_size

    return fmt_size(n)


def limit_text(limit: int) -> str:
    """The upload limit as the administrator wrote it: TRAINER_MAX_UPLOAD_MB counts megabytes of
    1024 x 1024 bytes, so 200 is shown "200 MB" (not the "209,7 MB" of decimal units)."""
    mib = 1024 * 1024
    if limit >= mib and limit % mib == 0:
        from trainer.i18n import fmt_number

        return f"{fmt_number(limit // mib)} MB"
    return human_size(limit)


def max_bytes() -> int:
    """The largest file accepted: MATERIALS_MAX_BYTES, else the request limit
    (MAX_CONTENT_LENGTH, from TRAINER_MAX_UPLOAD_MB), else 200 MB."""
    config = current_app.config
    return int(config.get("MATERIALS_MAX_BYTES") or config.get("MAX_CONTENT_LENGTH")
               or DEFAULT_MAX_BYTES)


# --------------------------------------------------------------------------- file names

_RESERVED = re.compile(r'[<>:"|?*\\/]')


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\u200c\u200d"


def clean_filename(raw: str | None) -> str:
    """The client's file name made safe to show and to send back: the last path part only,
    NFC, no control characters, no characters Windows refuses, no leading dots, at most
    FILENAME_MAX characters (the extension kept). Raises Invalid if nothing is left."""
    name = raw or ""
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if ch in "\t\n\r" else ch for ch in name
                   if ch in "\t\n\r" or not _is_control(ch))
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    name = _RESERVED.sub("_", name)
    stem, dot, ext = name.rpartition(".")
    ext = ext.strip()
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,8}", ext):  # "Báo cáo v.2 cuối": no extension
        stem, ext = name.rstrip(" ."), ""
    stem = stem.strip(" .")
    if not stem:
        raise Invalid.field("file", gettext(
            "The file name is empty once unsafe characters are removed. Rename the file "
            "and try again."))
    budget = FILENAME_MAX - (len(ext) + 1 if ext else 0)
    stem = stem[:budget].rstrip(" .")
    return f"{stem}.{ext}" if ext else stem


def extension(filename: str) -> str:
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


def title_from_filename(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return " ".join(stem.replace("_", " ").split()) or filename


# --------------------------------------------------------------------------- content checks

def _zip_type(path: Path) -> FileType:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size <= 100:
                    mime = zf.read(info).decode("ascii", "replace").strip()
                    for t in TYPES.values():
                        if t.content_type == mime and t.key in ("odt", "ods", "odp"):
                            return t
            if "[Content_Types].xml" in names:
                if any(n.lower().endswith("vbaproject.bin") for n in names):
                    raise Invalid.field("file", gettext(
                        "Documents with macros are not accepted. Save the file without "
                        "macros (as .docx, .pptx or .xlsx) and upload it again."))
                for prefix, key in (("word/", "docx"), ("ppt/", "pptx"), ("xl/", "xlsx")):
                    if any(n.startswith(prefix) for n in names):
                        return TYPES[key]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError):
        raise Invalid.field("file", gettext(
            "The file looks damaged: it could not be opened as a document.")) from None
    raise _unsupported()


def _unsupported() -> Invalid:
    return Invalid.field("file", gettext(
        "This kind of file is not accepted. Accepted: PDF, Word, PowerPoint, Excel, "
        "OpenDocument, PNG, JPEG, GIF, WebP images, MP4 or WebM video and Opus audio."))


def _mp4(head: bytes) -> bool:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return False
    brands = {head[8:12].decode("latin-1")}
    box = int.from_bytes(head[0:4], "big")
    end = min(max(box, 16), len(head), 64)
    for i in range(16, end - 3, 4):
        brands.add(head[i:i + 4].decode("latin-1"))
    return bool(brands & MP4_BRANDS)


def sniff(path: Path, head: bytes) -> FileType:
    """The type of a stored file from its content; Invalid when not accepted."""
    if head.startswith(EXECUTABLE_MAGIC):
        raise Invalid.field("file", gettext(
            "This file is a program, not a document. Programs are never accepted."))
    if b"%PDF-" in head[:1024]:
        return TYPES["pdf"]
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    image = filetype.image_match(head)
    if image is not None:
        key = {"png": "png", "jpg": "jpeg", "gif": "gif", "webp": "webp"}.get(image.extension)
        if key:
            return TYPES[key]
    if _mp4(head):
        return TYPES["mp4"]
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:  # EBML, DocType webm
        return TYPES["webm"]
    if head.startswith(b"OggS") and b"OpusHead" in head[:64]:  # Ogg with an Opus stream
        return TYPES["opus"]
    raise _unsupported()


def check_name_matches(filename: str, ftype: FileType) -> str:
    """The stored name: the client's, with the type's extension added when it has none."""
    ext = extension(filename)
    if not ext:
        return f"{filename}.{ftype.extensions[0]}"
    if ext not in ftype.extensions:
        raise Invalid.field("file", gettext(
            "The file's content does not match its name: it ends in .%(ext)s but holds "
            "%(kind)s (.%(expected)s). Check that it is the right file.",
            ext=ext, kind=ftype.label, expected=ftype.extensions[0]))
    return filename


# --------------------------------------------------------------------------- staging

@dataclass
class Staged:
    """A checked upload waiting in DATA_DIR/tmp to be moved into place."""

    tmp: Path
    sha256: str
    size: int
    filename: str
    ftype: FileType

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


class _PastLimit(Exception):
    pass


def _copy_hashing(stream: IO[bytes], fd: int, limit: int | None) -> tuple[int, str, bytes]:
    """Copy `stream` in chunks into the file `fd` (closed here) while hashing it: (size,
    sha256, the first HEAD_BYTES). Raises _PastLimit past `limit` bytes. Pure file work and
    hashing, which leave the GIL: it runs on a native thread under the server."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if limit is not None and size > limit:
                raise _PastLimit
            if len(head) < HEAD_BYTES:
                head += chunk[:HEAD_BYTES - len(head)]
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest(), head


def stage(stream: IO[bytes], filename: str | None, *, made_here: bool = False) -> Staged:
    """Copy `stream` in chunks to a temp file while hashing it, then check its content and
    name. On any error the temp file is removed and the error raised. The copy runs off the
    gevent loop (a 200 MB file is ~0.6 s of reading, hashing and writing, a recording of a
    day several seconds). `made_here`: a file trainer made itself (a recording of the video
    room), which the upload limit does not bound."""
    from trainer.offload import in_thread

    name = clean_filename(filename)
    limit = None if made_here else max_bytes()
    tmp_dir().mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        clean_tmp()  # what a killed process may have left, a day ago or more
    tmp = tmp_dir() / f"upload-{secrets.token_hex(12)}.part"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            size, sha256, head = in_thread(_copy_hashing, stream, fd, limit)
        except _PastLimit:
            raise TooLarge(gettext("The file is larger than the limit of %(size)s.",
                                   size=limit_text(limit or 0))) from None
        if size == 0:
            raise Invalid.field("file", gettext("The file is empty."))
        ftype = sniff(tmp, head)
        name = check_name_matches(name, ftype)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return Staged(tmp=tmp, sha256=sha256, size=size, filename=name, ftype=ftype)


def place(staged: Staged) -> bool:
    """Move a staged file to its place; True when no file was there before (the caller
    removes it again if its transaction fails). The same content is stored once."""
    final = blob_path(staged.sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    existed = final.exists()
    # Replacing an existing copy is harmless (same bytes) and restores a lost file.
    os.replace(staged.tmp, final)
    return not existed


def remove_blob_file(sha256: str) -> None:
    path = blob_path(sha256)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    for parent in (path.parent, path.parent.parent):
        try:
            parent.rmdir()
        except OSError:
            break


def clean_tmp(older_than_s: float = 24 * 3600) -> int:
    """Remove temp files left by a crashed process; returns how many."""
    import time

    removed = 0
    folder = tmp_dir()
    if not folder.is_dir():
        return 0
    limit = time.time() - older_than_s
    for path in folder.glob("upload-*.part"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


# --------------------------------------------------------------------------- serving

_ATTR_CHARS = "!#$&+-.^_`|~"


def ascii_fallback(filename: str) -> str:
    """A plain-ASCII stand-in for old clients: accents dropped, đ -> d."""
    text = filename.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in text)
    return text.strip() or "download"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266 header with an ASCII fallback and the UTF-8 name (RFC 5987 / 8187)."""
    kind = "inline" if inline else "attachment"
    encoded = quote(filename.encode("utf-8"), safe=_ATTR_CHARS)
    return f"{kind}; filename=\"{ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"
