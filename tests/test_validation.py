"""trainer.validation: one rule for text, field errors in the user's language through
marshmallow's own messages, the form errors, and the one XLSX cell writer."""

from __future__ import annotations

import io
from typing import Any

import pytest

from trainer import validation
from trainer.errors import Invalid


@pytest.mark.parametrize(("value", "kw", "expected"), [
    ("  Nguyễn   Văn  A ", {}, "Nguyễn Văn A"),
    ("Nguye\u0302\u0303n", {}, "Nguyễn"),  # decomposed accents compose (NFC)
    ("", {}, None),
    ("   ", {}, None),
    (None, {}, None),
    (2024, {}, "2024"),  # a spreadsheet cell
    ("dòng 1  \r\n\r\n  dòng   2 ", {"multiline": True}, "dòng 1\n\ndòng 2"),
])
def test_text_cleans(app: Any, value: Any, kw: dict[str, Any], expected: Any) -> None:
    assert validation.text(value, 200, **kw) == expected


@pytest.mark.parametrize(("value", "kw", "message"), [
    ("", {"required": True}, "This field is required."),
    (["a"], {}, "Not a valid text."),
    ("a\x00b", {}, "Control characters are not allowed."),
    ("a\u200eb", {}, "Control characters are not allowed."),
    ("x" * 11, {}, "At most 10 characters."),
])
def test_text_refuses(app: Any, value: Any, kw: dict[str, Any], message: str) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(validation.Rejected) as info:
            validation.text(value, 10, **kw)
        assert str(info.value.message) == message
        with pytest.raises(Invalid) as field_info:
            validation.field_text("title", value, 10, **kw)
        assert field_info.value.errors == {"title": [message]}


def test_errors_collects_every_field(app: Any) -> None:
    errors = validation.Errors()
    assert errors.text("title", "", 10, required=True) is None
    assert errors.text("note", "x" * 11, 10) is None
    assert errors.text("place", " Hà  Nội ", 10) == "Hà Nội"
    with pytest.raises(Invalid) as info:
        errors.check()
    assert info.value.errors == {"title": ["This field is required."],
                                 "note": ["At most 10 characters."]}
    assert validation.form_errors(info.value) == info.value.errors  # no repeated summary
    assert validation.form_errors(Invalid("Something else.")) == {"_": ["Something else."]}


@pytest.mark.vietnamese_default
def test_api_field_errors_are_in_vietnamese_by_default(api_as: Any, make_user: Any) -> None:
    api = api_as(make_user("admin"))
    response = api.post("/api/v1/sites", json={"code": "X" * 40, "kind": "moon", "extra": 1})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["code"] == ["Tối đa 32 ký tự."]
    assert errors["kind"] == ["Phải là một trong các giá trị: host, bridge"]
    assert errors["extra"] == ["Trường không xác định."]
    assert errors["name"] == ["Trường này là bắt buộc."]


def test_api_field_errors_in_english_on_request(api_as: Any, make_user: Any) -> None:
    api = api_as(make_user("admin"), lang="en")
    response = api.post("/api/v1/sites", json={"code": "A1", "name": "  ", "kind": 3})
    errors = response.get_json()["errors"]
    assert errors["name"] == ["This field may not be empty."]
    assert errors["kind"] == ["Not a valid text."]


def test_one_xlsx_writer_keeps_formulas_as_text(app: Any) -> None:
    from openpyxl import Workbook, load_workbook

    from trainer.spreadsheet import NUMBER, put

    wb = Workbook()
    ws = wb.active
    put(ws, 1, 1, "=HYPERLINK(\"http://evil\")")
    put(ws, 1, 2, 42, NUMBER)
    put(ws, 1, 3, None, NUMBER)
    buffer = io.BytesIO()
    wb.save(buffer)
    back = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert back.cell(1, 1).data_type == "s"
    assert back.cell(1, 1).value == "=HYPERLINK(\"http://evil\")"
    assert back.cell(1, 2).value == 42
    assert back.cell(1, 3).value is None
