"""Text helpers for Vietnamese input: normalisation, search folding, names, sorting, phones.

Standard library only. Everything here is pure and deterministic, so it is safe to call
from validators, models, migrations and report code alike.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "SORT_KEY_MAX_LEN",
    "clean",
    "fold",
    "has_control_chars",
    "join_name",
    "modern_phone",
    "name_sort_key",
    "nfc",
    "normalize_phone",
    "phone_pattern",
    "search_terms",
    "sort_key",
    "split_name",
]

# --------------------------------------------------------------------------- normalisation

# Format characters that carry meaning in ordinary text (emoji sequences, Indic scripts).
_KEEP_FORMAT = frozenset({"\u200c", "\u200d"})  # ZWNJ, ZWJ
# Control characters a multi-line text field may legitimately contain. CR is allowed
# because browsers submit textarea line breaks as CRLF.
_ALLOWED_CONTROLS = frozenset({"\t", "\n", "\r"})


def _is_control(ch: str) -> bool:
    """Return True for control (Cc), format (Cf) and surrogate (Cs) code points.

    ZWJ and ZWNJ are not counted: they are part of normal text.
    """
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in _KEEP_FORMAT


def nfc(s: str) -> str:
    """Return `s` NFC-normalised and stripped, whitespace runs collapsed, controls dropped.

    Whitespace control characters (tab, newline, ...) become a single space; all other
    control and format characters are removed before composing, so that a stray
    zero-width character cannot keep a base letter and its accent apart.
    """
    collapsed = " ".join(s.split())
    kept = "".join(ch for ch in collapsed if not _is_control(ch))
    # Removing characters can leave doubled spaces or new edges; collapse once more.
    return " ".join(unicodedata.normalize("NFC", kept).split())


def clean(s: str | None) -> str | None:
    """Return `nfc(s)`, or None when `s` is None or blank after normalisation."""
    if s is None:
        return None
    out = nfc(s)
    return out or None


def has_control_chars(s: str) -> bool:
    """Return True if `s` holds control/format characters other than tab, LF or CR."""
    return any(_is_control(ch) and ch not in _ALLOWED_CONTROLS for ch in s)


# --------------------------------------------------------------------------- search folding


# Đ/đ have no decomposition; Ð/ð (eth) are look-alikes often typed in their place.
_FOLD_D = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def fold(s: str) -> str:
    """Return the accent-insensitive search form of `s`.

    NFD, combining marks dropped, đ/Đ mapped to d, case-folded, whitespace collapsed:
    ``fold("Nguyễn Thị Hà") == "nguyen thi ha"``, ``fold("Hòa") == fold("Hoà") == "hoa"``.
    """
    spaced = " ".join(unicodedata.normalize("NFD", s).split())
    out = "".join(ch for ch in spaced if unicodedata.category(ch) != "Mn" and not _is_control(ch))
    out = out.translate(_FOLD_D).casefold()
    return " ".join(out.split())


def search_terms(q: str) -> list[str]:
    """Split a search query into folded words."""
    return fold(q).split()


# --------------------------------------------------------------------------- names


def split_name(full: str) -> tuple[str, str, str]:
    """Split a Vietnamese full name into (family, middle, given).

    Họ is the first word, tên the last word and tên đệm everything in between (possibly
    empty or several words). A single word is taken as the given name.
    """
    words = nfc(full).split(" ")
    if words == [""]:
        return ("", "", "")
    if len(words) == 1:
        return ("", "", words[0])
    return (words[0], " ".join(words[1:-1]), words[-1])


def join_name(family: str, middle: str, given: str) -> str:
    """Join name parts in Vietnamese order, skipping empty parts."""
    return " ".join(p for p in (nfc(family), nfc(middle), nfc(given)) if p)


# --------------------------------------------------------------------------- sort keys
#
# A key is built from two layers, compared byte-wise (use a C / binary collation):
#
#   <base letters of every word, joined by "."> " " <one tone digit per word>
#
# Base letters are encoded in lower-case ASCII so that byte order is Vietnamese order
#     a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z
# (f, j, w and z, which Vietnamese does not use, keep their Latin places). Plain letters
# a..y encode as themselves; a letter with a Vietnamese modifier adds one or two "z"
# after its base (ă "az", â "azz", đ "dz", ê "ez", ô "oz", ơ "ozz", ư "uz") and z itself
# is "yz". No code starts with "z", so "z" after a base always sorts after whatever can
# follow that base. Digits encode as themselves and so sort before letters.
#
# Tones are a tie-breaker, one digit per word in order: 0 none, 1 huyền, 2 hỏi, 3 ngã,
# 4 sắc, 5 nặng. The tone belongs to the word, not to a vowel, so "hòa" and "hoà" share a
# key. Separators: " " before tones < "." between words < digits < letters, which puts
# "An" before "An Khang" before "Anh". Keys contain no trailing space.

SORT_KEY_MAX_LEN = 255
_WORD_SEP = "."
_TONE_SEP = " "
_PART_SEP = "!"

_ENCODE: dict[str, str] = {ch: ch for ch in "0123456789abcdefghijklmnopqrstuvwxy"}
_ENCODE.update(
    {"z": "yz", "ă": "az", "â": "azz", "đ": "dz", "ê": "ez", "ô": "oz", "ơ": "ozz", "ư": "uz"}
)
# Letters without a decomposition that still read as Latin letters.
_EXTRA_LETTERS: dict[str, str] = {
    "ð": "đ",
    "ø": "o",
    "ł": "l",
    "ı": "i",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
}
# (base letter, combining modifier) -> Vietnamese letter.
_MODIFIED: dict[tuple[str, str], str] = {
    ("a", "\u0306"): "ă",
    ("a", "\u0302"): "â",
    ("e", "\u0302"): "ê",
    ("o", "\u0302"): "ô",
    ("o", "\u031b"): "ơ",
    ("u", "\u031b"): "ư",
}
_TONES: dict[str, str] = {
    "\u0300": "1",  # huyền (grave)
    "\u0309": "2",  # hỏi (hook above)
    "\u0303": "3",  # ngã (tilde)
    "\u0301": "4",  # sắc (acute)
    "\u0323": "5",  # nặng (dot below)
}


def _words_and_tones(s: str) -> list[tuple[list[str], str]]:
    """Parse `s` into words of Vietnamese letters/digits, each with its tone digit."""
    words: list[tuple[list[str], str]] = []
    letters: list[str] = []
    tone = "0"
    attached = False  # whether a combining mark would attach to letters[-1]
    for ch in unicodedata.normalize("NFKD", s.casefold()):
        for c in _EXTRA_LETTERS.get(ch, ch):
            if c in _ENCODE:
                letters.append(c)
                attached = True
            elif unicodedata.category(c) == "Mn":
                if not attached:
                    continue
                if c in _TONES:
                    if tone == "0":
                        tone = _TONES[c]
                else:
                    letters[-1] = _MODIFIED.get((letters[-1], c), letters[-1])
            elif c.isalpha():
                attached = False  # letter of another script: dropped, not a boundary
            else:
                attached = False
                if letters:
                    words.append((letters, tone))
                letters, tone = [], "0"
    if letters:
        words.append((letters, tone))
    return words


def sort_key(s: str) -> str:
    """Return an ASCII key whose byte order is Vietnamese alphabetical order of `s`.

    Compared on the base letters of the whole string first, then on tones; case- and
    tone-placement-insensitive. Punctuation separates words; letters of non-Latin
    scripts are ignored. At most SORT_KEY_MAX_LEN characters (truncating a key keeps
    the order of keys, only ties may appear). Empty for text without letters or digits.
    """
    words = _words_and_tones(s)
    if not words:
        return ""
    base = _WORD_SEP.join("".join(_ENCODE[c] for c in letters) for letters, _ in words)
    tones = "".join(tone for _, tone in words)
    return (base + _TONE_SEP + tones)[:SORT_KEY_MAX_LEN]


def name_sort_key(family: str, middle: str, given: str) -> str:
    """Return a key ordering people by given name, then family name, then middle name.

    Part keys are joined with "!", which sorts before any letter or digit, so an empty
    part sorts first. At most SORT_KEY_MAX_LEN characters.
    """
    key = _PART_SEP.join((sort_key(given), sort_key(family), sort_key(middle)))
    return key[:SORT_KEY_MAX_LEN]


# --------------------------------------------------------------------------- phones

# Pre-2018 11-digit mobile prefixes and their 10-digit replacements (conversion of 2018).
_OLD_MOBILE_PREFIXES: dict[str, str] = {
    **{f"016{d}": f"03{d}" for d in "23456789"},
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    "0186": "056",
    "0188": "058",
    "0199": "059",
}
_MOBILE_PREFIXES = ("03", "05", "07", "08", "09")
_PHONE_SEPARATORS = " .()-"  # ignored between digits; "-" last, so literal in a class
_PHONE_CHARS = re.compile(rf"\+?[0-9{re.escape(_PHONE_SEPARATORS)}]+")


def normalize_phone(s: str) -> str:
    """Return a Vietnamese phone number as digits with the leading 0.

    Spaces, dots, dashes and parentheses are ignored; "+84", "84" or "0084" followed by
    9 or 10 digits stands for a leading 0 ("+84 (0)912..." is accepted too). Valid:
    10-digit mobiles 03/05/07/08/09, 11-digit pre-2018 mobiles 01xx (kept as given) and
    10- or 11-digit landlines 02. Raises ValueError otherwise.
    """
    raw = nfc(s)
    if not raw:
        raise ValueError("phone number is empty")
    if not _PHONE_CHARS.fullmatch(raw):
        raise ValueError("phone number contains invalid characters")
    digits = re.sub(r"[^0-9]", "", raw)
    if raw.startswith("+"):
        if not digits.startswith("84"):
            raise ValueError("only Vietnamese (+84) phone numbers are accepted")
        rest = digits[2:]
        if rest.startswith("0") and len(rest) in (10, 11):
            rest = rest[1:]  # "+84 (0)912 ..."
        digits = "0" + rest if len(rest) in (9, 10) else ""
    elif digits.startswith("0084") and len(digits) in (13, 14):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if len(digits) == 10 and digits.startswith(_MOBILE_PREFIXES):
        return digits
    if len(digits) == 11 and digits[:4] in _OLD_MOBILE_PREFIXES:
        return digits
    if len(digits) in (10, 11) and digits.startswith("02"):
        return digits
    raise ValueError("not a valid Vietnamese phone number")


def phone_pattern() -> str:
    """The numbers `normalize_phone` accepts, as a JSON Schema (ECMA-262) pattern, for an
    OpenAPI document: its prefixes and lengths, separators between any digits. (It also
    reads other whitespace as a space; the pattern names the plain space only.)"""
    sep = f"[{_PHONE_SEPARATORS}]*"

    def digits(cls: str, times: str = "") -> str:  # `cls`, each digit followed by separators
        return f"(?:{cls}{sep}){times}"

    def literal(number: str) -> str:
        return "".join(digits(d) for d in number)

    mobile = digits(f"[{''.join(p[1:] for p in _MOBILE_PREFIXES)}]") + digits("[0-9]", "{8}")
    old = "|".join(literal(p[1:]) for p in sorted(_OLD_MOBILE_PREFIXES))
    national = (f"(?:{mobile}|{literal('2')}{digits('[0-9]', '{8,9}')}"
                f"|(?:{old}){digits('[0-9]', '{7}')})")  # after the leading 0
    forms = "|".join((f"{sep}{literal('0')}", f"{sep}{literal('84')}", f"{sep}{literal('0084')}",
                      f" *\\+{sep}{literal('84')}{digits('0')}?"))
    return f"^(?:(?:{forms}){national})?$"


def modern_phone(s: str) -> str:
    """Normalise `s` and map a pre-2018 11-digit mobile number to its 10-digit form."""
    digits = normalize_phone(s)
    new_prefix = _OLD_MOBILE_PREFIXES.get(digits[:4]) if len(digits) == 11 else None
    return digits if new_prefix is None else new_prefix + digits[4:]
