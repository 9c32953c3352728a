"""The glossary (trainer/glossary.toml): the words the pages, the exports and the
certificates use, and the variants they must not use; plus two small rules of written
Vietnamese the documents follow (administrative words lower-case inside a sentence, a
percentage and a file size written the Vietnamese way)."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal

GLOSSARY_FILE = Path(__file__).resolve().parent / "glossary.toml"

# Administrative level words that open a unit's name ("Huyện Hạ Hòa"), longest first.
ADMIN_WORDS = ("Thành phố", "Thị trấn", "Thị xã", "Đặc khu", "Phường", "Huyện", "Quận", "Tỉnh",
               "Xã")
_ADMIN_RE = re.compile(r"^(" + "|".join(ADMIN_WORDS) + r")(?=\s)", re.IGNORECASE)

SEX_KEYS = {"female": "female", "male": "male", "unspecified": "sex_unspecified"}


@cache
def terms() -> dict[str, dict[str, Any]]:
    with GLOSSARY_FILE.open("rb") as f:
        return dict(tomllib.load(f)["term"])


def term(key: str, lang: str = "vi", *, capital: bool = False) -> str:
    """The glossary's word for `key` in `lang` ("vi" or "en"); `capital`: first letter upper."""
    entry = terms()[key]
    word = str(entry.get(lang) or entry["vi"])
    return word[:1].upper() + word[1:] if capital else word


def sex_label(sex: str, lang: str = "vi") -> str:
    """Nữ / Nam / Chưa rõ (Women / Men / Not recorded)."""
    return term(SEX_KEYS[sex], lang, capital=True)


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    return [(key, re.compile(p, re.IGNORECASE)) for key, entry in terms().items()
            for p in entry.get("avoid", [])]


def violations(text: str) -> list[tuple[str, str]]:
    """[(term key, the variant found)] of every avoided variant in `text`."""
    return [(key, m.group(0)) for key, pattern in _patterns() for m in pattern.finditer(text)]


def in_sentence(name: str | None) -> str:
    """A unit's name as written inside a sentence: the administrative word lower-case
    ("Xã Bằng Giã" -> "xã Bằng Giã", "Huyện Hạ Hòa" -> "huyện Hạ Hòa")."""
    if not name:
        return ""
    return _ADMIN_RE.sub(lambda m: m.group(1).lower(), name.strip(), count=1)


def percent_text(value: float | None, digits: int = 0, lang: str = "vi") -> str:
    """70% (no space); "–" when there is nothing to show."""
    if value is None:
        return "–"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return f"{format_decimal(value, format=fmt, locale=lang)}%"


def file_size(n: int | float | None, lang: str = "vi") -> str:
    """A file size in decimal units with the language's decimal mark: "26,3 kB"."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            break
        size /= 1000
    fmt = "#,##0" if unit == "B" else "#,##0.0"
    return f"{format_decimal(size, format=fmt, locale=lang)} {unit}"
