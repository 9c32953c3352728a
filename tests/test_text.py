"""Tests for trainer.text: normalisation, folding, names, Vietnamese sort keys, phones."""

from __future__ import annotations

import random
import unicodedata

import pytest

from trainer.text import (
    SORT_KEY_MAX_LEN,
    clean,
    fold,
    has_control_chars,
    join_name,
    modern_phone,
    name_sort_key,
    nfc,
    normalize_phone,
    search_terms,
    sort_key,
    split_name,
)


def nfd(s: str) -> str:
    """Return the NFD form of `s` (decomposed input as some keyboards/OSes send it)."""
    return unicodedata.normalize("NFD", s)


# --------------------------------------------------------------------------- nfc / clean


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (nfd("Nguyễn Thị Hà"), "Nguyễn Thị Hà"),
        ("  " + nfd("Trần   Đức\tAnh") + " \n", "Trần Đức Anh"),
        ("Ph\u200bạm", "Phạm"),  # zero-width space dropped
        ("L\x00ê\x07 Văn", "Lê Văn"),  # NUL and BEL dropped
        ("e\u200b\u0301", "é"),  # accent recomposed once the format char is gone
        ("a\u00a0\u2003b", "a b"),  # no-break and em spaces collapse
        ("\u202eabc", "abc"),  # bidi override dropped
        ("", ""),
        (" \t\n ", ""),
    ],
)
def test_nfc(raw: str, expected: str) -> None:
    out = nfc(raw)
    assert out == expected
    assert unicodedata.is_normalized("NFC", out)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("   \t", None),
        ("\u200b", None),
        (nfd(" Hoà "), "Hoà"),
    ],
)
def test_clean(raw: str | None, expected: str | None) -> None:
    assert clean(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn Văn A", False),
        ("line one\nline two\ttab", False),
        ("windows\r\nbreak", False),
        ("family \U0001f468\u200d\U0001f469\u200d\U0001f467", False),  # ZWJ emoji
        ("nul\x00", True),
        ("bell\x07", True),
        ("esc\x1b[31m", True),
        ("del\x7f", True),
        ("c1\x85", True),
        ("zero\u200bwidth", True),
        ("\u202eevil", True),
        ("\ufeffbom", True),
    ],
)
def test_has_control_chars(raw: str, expected: bool) -> None:
    assert has_control_chars(raw) is expected


# --------------------------------------------------------------------------- fold


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn Thị Hà", "nguyen thi ha"),
        (nfd("Nguyễn Thị Hà"), "nguyen thi ha"),
        ("Đức", "duc"),
        ("đĐ", "dd"),
        ("Ðức", "duc"),  # eth look-alike typed for Đ
        ("Hòa", "hoa"),
        ("Hoà", "hoa"),
        ("Thanh Thuỷ", "thanh thuy"),
        ("Thanh Thủy", "thanh thuy"),
        ("  TRƯƠNG   Ngọc\tẢnh ", "truong ngoc anh"),
        ("Ứng Dụng Quản Lý", "ung dung quan ly"),
        ("Phở 24", "pho 24"),
        ("", ""),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [("Hòa", "Hoà"), ("Thanh Thuỷ", "Thanh Thủy"), ("Khỏe", "Khoẻ"), ("ĐÀO", "đào")],
)
def test_fold_variants_equal(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("  Nguyễn   thị ", ["nguyen", "thi"]),
        ("Đức", ["duc"]),
        ("", []),
    ],
)
def test_search_terms(query: str, expected: list[str]) -> None:
    assert search_terms(query) == expected


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Hà", ("", "", "Hà")),
        ("Lê Hà", ("Lê", "", "Hà")),
        ("Nguyễn Thị Hà", ("Nguyễn", "Thị", "Hà")),
        ("Tôn Nữ Thị Ngọc Hà", ("Tôn", "Nữ Thị Ngọc", "Hà")),
        ("Nguyễn Văn Minh Tuấn", ("Nguyễn", "Văn Minh", "Tuấn")),
        ("   Trần \t  Văn   An  ", ("Trần", "Văn", "An")),
        (nfd("Đỗ Thị Thuỷ"), ("Đỗ", "Thị", "Thuỷ")),
        ("", ("", "", "")),
        ("   ", ("", "", "")),
    ],
)
def test_split_name(full: str, expected: tuple[str, str, str]) -> None:
    assert split_name(full) == expected


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("Nguyễn", "Thị", "Hà"), "Nguyễn Thị Hà"),
        (("Lê", "", "Hà"), "Lê Hà"),
        (("", "", "Hà"), "Hà"),
        ((" Tôn ", "Nữ  Thị Ngọc", nfd("Hà ")), "Tôn Nữ Thị Ngọc Hà"),
    ],
)
def test_join_name(parts: tuple[str, str, str], expected: str) -> None:
    assert join_name(*parts) == expected


@pytest.mark.parametrize("full", ["Hà", "Lê Hà", "Nguyễn Thị Hà", "Tôn Nữ Thị Ngọc Hà"])
def test_split_join_round_trip(full: str) -> None:
    assert join_name(*split_name(full)) == full


# --------------------------------------------------------------------------- sort keys


@pytest.mark.parametrize(
    "expected",
    [
        ["Anh", "Ánh", "Ân", "Bình", "Dũng", "Đào"],
        ["a", "à", "ả", "ã", "á", "ạ"],  # tone order
        ["A", "Ă", "Â", "B"],
        ["Duy", "Dương", "Dzung", "Đặng", "Đinh", "Đỗ", "Đức", "E", "Ê", "Giang"],
        ["U", "Uyên", "Ư", "Ưng", "V", "Vân"],
        ["O", "Ô", "Ơ", "P"],
        ["Y", "Yến", "Z", "Zorro"],
        ["Yên", "Yến", "Z"],
        ["Đào", "Zoe"],  # raw code points would put Đ after Z
        ["An", "An Khang", "Anh"],
        ["10", "9a", "A1", "Ba"],  # digits before letters, compared char by char
        ["Hà", "Hải", "Hạnh", "Hiền"],  # base letters decide before tones
        ["Em", "Én", "Én Hoa"],
        ["Ma", "Mà", "Mả", "Mã", "Má", "Mạ", "Mai"],
        ["Tuấn", "Tuệ", "Tùng", "Tường"],
        ["Ê", "Êm", "Fa", "Ga"],
        ["Ida", "Jan", "Kim"],
        ["Vy", "Wendy", "Xuân"],
    ],
)
def test_sort_order(expected: list[str]) -> None:
    shuffled = expected[:]
    random.Random(42).shuffle(shuffled)
    assert sorted(shuffled, key=sort_key) == expected
    keys = [sort_key(s) for s in expected]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)  # strictly increasing: no accidental ties


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hòa", "Hoà"),
        ("Thanh Thuỷ", "Thanh Thủy"),
        ("Khỏe", "Khoẻ"),
        ("Quý", "Qúy"),
        ("NGUYỄN", "nguyễn"),
        (nfd("Nguyễn Thị Hà"), "Nguyễn Thị Hà"),
        ("  Nguyễn   Thị Hà ", "Nguyễn Thị Hà"),
    ],
)
def test_sort_key_equal(a: str, b: str) -> None:
    assert sort_key(a) == sort_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Hoa", "Hòa"), ("Da", "Đa"), ("U", "Ư"), ("Lan", "Lân"), ("Ơn", "Ôn")],
)
def test_sort_key_distinct(a: str, b: str) -> None:
    assert sort_key(a) != sort_key(b)


@pytest.mark.parametrize(
    "s",
    [
        "Nguyễn Thị Hà",
        "Đặng Thuỳ Dương",
        "Trương Ngọc Ánh 2",
        "ZWJ\u200dtest",
        "漢字 Lý",
        "Ærøskøbing ß",
        "x" * 1000,
        "Đ" * 500,
    ],
)
def test_sort_key_is_short_ascii(s: str) -> None:
    key = sort_key(s)
    assert key
    assert len(key) <= SORT_KEY_MAX_LEN
    assert all(c in "0123456789abcdefghijklmnopqrstuvwxyz. " for c in key)
    assert not key.endswith(" ")


@pytest.mark.parametrize("s", ["", "   ", "—", "漢字"])
def test_sort_key_empty(s: str) -> None:
    assert sort_key(s) == ""


def test_sort_key_exact_values() -> None:
    assert sort_key("Nguyễn Thị Hà") == "nguyezn.thi.ha 351"
    assert sort_key("Đức") == "dzuzc 4"
    assert sort_key("Ưng Zô") == "uzng.yzoz 00"


def test_sort_key_truncation_keeps_order() -> None:
    low, high = "A" * 400 + "B", "A" * 400 + "C"
    assert sort_key(low) <= sort_key(high)
    assert len(sort_key(low)) == SORT_KEY_MAX_LEN


def _by_name_key(names: list[str]) -> list[str]:
    def key(full: str) -> str:
        family, middle, given = split_name(full)
        return name_sort_key(family, middle, given)

    shuffled = names[:]
    random.Random(7).shuffle(shuffled)
    return sorted(shuffled, key=key)


@pytest.mark.parametrize(
    "expected",
    [
        ["Trần Văn An", "Nguyễn Thị Bình"],  # given name first
        ["Lê Thị Hà", "Nguyễn Thị Hà", "Trần Hà"],  # same given: family decides
        ["Nguyễn Hà", "Nguyễn Thị Hà", "Nguyễn Văn Hà"],  # then middle; empty first
        ["Phạm Thị Anh", "Đỗ Văn Ánh", "Bùi Ân", "Vũ Thị Bình", "Hoàng Dũng", "Lý Đào"],
        ["Zô An", "Đinh Anh"],  # given name decides even if family would not
        ["Hoa", "Đặng Hoa", "Đặng Thị Hòa"],  # single word = given, empty family first
    ],
)
def test_name_sort_order(expected: list[str]) -> None:
    assert _by_name_key(expected) == expected


def test_name_sort_key_tone_placement_and_length() -> None:
    assert name_sort_key("Lê", "Thị", "Hòa") == name_sort_key("Lê", "Thị", "Hoà")
    assert name_sort_key("Lê", "Thị", "Hòa") == "hoa 1!lez 0!thi 5"
    long_key = name_sort_key("Tôn" * 100, "Nữ" * 100, "Hà" * 100)
    assert len(long_key) == SORT_KEY_MAX_LEN
    assert long_key.startswith(sort_key("Hà" * 100)[:100])


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "0912345678"),
        ("091 234 5678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("091-234-5678", "0912345678"),
        ("(091) 234-5678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("+84 91 234 5678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084 912 345 678", "0912345678"),
        ("0321234567", "0321234567"),
        ("0561234567", "0561234567"),
        ("0701234567", "0701234567"),
        ("0861234567", "0861234567"),
        ("01683456789", "01683456789"),  # pre-2018 mobile kept as given
        ("0168 345 6789", "01683456789"),
        ("+84 168 345 6789", "01683456789"),
        ("841683456789", "01683456789"),
        ("01993456789", "01993456789"),
        ("024 3825 1234", "02438251234"),  # Hà Nội landline, 11 digits
        ("(028) 3822 1234", "02838221234"),  # TP HCM landline
        ("0236 382 1234", "02363821234"),
        ("0203123456", "0203123456"),  # 10-digit landline form
        ("+84 24 3825 1234", "02438251234"),
        (" \t0912345678\n", "0912345678"),
    ],
)
def test_normalize_phone_valid(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "091234567",  # 9 digits
        "09123456789",  # 11 digits mobile
        "0112345678",  # 10 digits starting 01
        "01123456789",  # 01xx not an old mobile prefix
        "0412345678",  # 04 not allowed
        "0612345678",
        "1912345678",  # no leading 0
        "912345678",
        "+1 202 555 0123",  # not Vietnam
        "+8491234567",  # too short after +84
        "+84 91 234 567 899",  # too long after +84
        "0912 345 abc",
        "0912345678 ext 1",
        "091+2345678",
        "++84912345678",
        "021234567",  # landline too short
        "021234567890",  # landline too long
        "０９１２３４５６７８",  # full-width digits rejected
    ],
)
def test_normalize_phone_invalid(raw: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        normalize_phone(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01623456789", "0323456789"),
        ("01633456789", "0333456789"),
        ("01643456789", "0343456789"),
        ("01653456789", "0353456789"),
        ("01663456789", "0363456789"),
        ("01673456789", "0373456789"),
        ("01683456789", "0383456789"),
        ("01693456789", "0393456789"),
        ("01203456789", "0703456789"),
        ("01213456789", "0793456789"),
        ("01223456789", "0773456789"),
        ("01263456789", "0763456789"),
        ("01283456789", "0783456789"),
        ("01233456789", "0833456789"),
        ("01243456789", "0843456789"),
        ("01253456789", "0853456789"),
        ("01273456789", "0813456789"),
        ("01293456789", "0823456789"),
        ("01863456789", "0563456789"),
        ("01883456789", "0583456789"),
        ("01993456789", "0593456789"),
        ("+84 168 345 6789", "0383456789"),
        ("0912 345 678", "0912345678"),  # already modern
        ("024 3825 1234", "02438251234"),  # landline untouched
    ],
)
def test_modern_phone(raw: str, expected: str) -> None:
    assert modern_phone(raw) == expected


def test_modern_phone_rejects_invalid() -> None:
    with pytest.raises(ValueError):
        modern_phone("12345")
