"""One vocabulary: the glossary (trainer/glossary.toml) enforced over the Vietnamese
catalogue, the headers of every export, and the few rules of written Vietnamese the
documents follow."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from trainer.glossary import (
    file_size,
    in_sentence,
    percent_text,
    sex_label,
    term,
    terms,
    violations,
)

ROOT = Path(__file__).resolve().parent.parent
VI_PO = ROOT / "trainer" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"

REQUIRED = ("session", "rate", "site", "host_site", "participant", "checkin", "coordinator",
            "organiser", "quiz", "sex_unspecified", "commune_level", "commune_unit")


def vi_strings() -> list[tuple[str, str]]:
    with VI_PO.open("rb") as f:
        catalogue = read_po(f)
    out = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) \
            else (message.string,)
        out += [(str(ids[0]), s) for s in strings if s]
    return out


def test_the_glossary_has_the_terms_of_the_field() -> None:
    assert set(REQUIRED) <= set(terms())
    assert term("session") == "buổi tập huấn"
    assert term("host_site") == "điểm cầu chính"
    assert term("sex_unspecified") == "chưa rõ"
    assert term("commune_level") == "xã, phường, thị trấn"
    assert term("commune_unit") == "đơn vị cấp xã"
    for key, entry in terms().items():
        assert entry["vi"] and entry["en"], key
        assert not violations(entry["vi"]), key  # a term never breaks its own rules


def test_the_vietnamese_catalogue_follows_the_glossary() -> None:
    found = [(msgid[:60], key, variant) for msgid, text in vi_strings()
             for key, variant in violations(text)]
    assert found == [], f"{len(found)} translations use words the glossary avoids: {found[:10]}"


@pytest.mark.parametrize("msgid, expected", [
    ("Unspecified", "Chưa rõ"),
    ("Site", "Điểm cầu"),
    ("Session", "Buổi tập huấn"),
    ("Quiz", "Bài kiểm tra"),
    ("Commune / ward / town", "Xã, phường, thị trấn"),
])
def test_key_words_translate_to_the_glossary(msgid: str, expected: str) -> None:
    assert dict(vi_strings())[msgid] == expected


def test_the_checker_catches_the_variants() -> None:
    caught = {key for text in ("Phiên tập huấn", "tỉ lệ nữ", "đạt 70 %", "Số xã",
                               "Xã / phường / thị trấn", "người điều phối", "bài thi",
                               "điểm cầu chủ trì", "Giới tính: không xác định")
              for key, _ in violations(text)}
    assert caught == {"session", "rate", "percent", "commune_level", "coordinator", "quiz",
                      "host_site", "sex_unspecified"}
    assert violations("phiên bản 2 của tài liệu") == []  # "version" is not a session
    assert violations("Số xã, phường, thị trấn; 70%") == []


def test_export_headers_are_vietnamese_and_follow_the_glossary() -> None:
    from trainer.reports import exports

    headers = exports.headers("vi")
    assert headers and not [(h, v) for h in headers for v in violations(h)]
    assert not [h for h in headers if "/" in h and h != "Tỷ số nữ/nam"], \
        "no bilingual headers"
    english = set(exports.headers("en"))
    assert not english & {h for h in headers if h not in ("Tỷ số nữ/nam",)} - {"Đạt"}
    assert "Chưa rõ" in headers and "Số xã, phường, thị trấn" in headers


def test_quiz_results_export_is_vietnamese(app: Any, make_site: Any, make_session: Any,
                                           make_participant: Any, make_user: Any) -> None:
    """Headers of every sheet, topic names rather than keys, "Chưa rõ" for sex."""
    from openpyxl import load_workbook

    from trainer.extensions import db
    from trainer.quizzes import services as quizzes
    from trainer.quizzes.export import export_xlsx
    from trainer.sessions.models import Checkin

    host = make_site(code="VT", name="Thành phố Việt Trì", kind="host")
    session = make_session([host], title="Buổi một")
    person = make_participant(host, "Nguyễn An", "unspecified")
    db.session.add(Checkin(session_id=session.id, participant_id=person.id, site_id=host.id,
                           at=session.starts_at))
    db.session.commit()
    organiser = make_user("organiser")
    quizzes.create_topic(None, "management", "Quản lý, điều hành TTHTCĐ", "Management")
    question = quizzes.create_question(organiser, {
        "text": "Câu hỏi?", "kind": "single", "topic": "management",
        "options": [{"text": "Đúng", "correct": True}, {"text": "Sai", "correct": False}]})
    quiz = quizzes.create_quiz(organiser, {"session_id": session.id, "title": "Kiểm tra",
                                           "question_ids": [question.id]})
    with app.test_request_context():
        data = export_xlsx(quiz.id, organiser)
    wb = load_workbook(io.BytesIO(data))
    cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert "management" not in cells
    assert "Quản lý, điều hành TTHTCĐ" in cells
    assert "Chưa rõ" in cells and "Không xác định" not in cells
    heads = [str(c.value) for ws in wb.worksheets for c in ws[1] if c.value]
    assert not [(h, v) for h in heads for v in violations(h)]


def test_written_vietnamese() -> None:
    assert in_sentence("Xã Bằng Giã") == "xã Bằng Giã"
    assert in_sentence("Huyện Hạ Hòa") == "huyện Hạ Hòa"
    assert in_sentence("Thành phố Việt Trì") == "thành phố Việt Trì"
    assert in_sentence("Thị trấn Hạ Hòa") == "thị trấn Hạ Hòa"
    assert in_sentence("Trung tâm học tập cộng đồng") == "Trung tâm học tập cộng đồng"
    assert percent_text(70) == "70%"
    assert percent_text(71.43, 1) == "71,4%"
    assert file_size(26_300) == "26,3 kB"
    assert file_size(26_300, "en") == "26.3 kB"
    assert file_size(512) == "512 B"
    assert file_size(3_400_000) == "3,4 MB"
    assert sex_label("unspecified") == "Chưa rõ"
    assert sex_label("female", "en") == "Women"


def test_pages_show_file_sizes_the_vietnamese_way(app: Any) -> None:
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        from flask import render_template_string

        assert render_template_string("{{ 26300|filesizeformat }}") == "26,3 kB"
        assert render_template_string("{{ percent(7, 10) }}") == "70%"


def test_unit_names_inside_a_vietnamese_sentence_are_lower_case(app: Any) -> None:
    from flask import render_template_string

    source = '{{ _("Roster of %(site)s", site=name|in_sentence) }}'
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        assert render_template_string(source, name="Huyện Cẩm Khê") == \
            "Danh sách học viên của huyện Cẩm Khê"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from flask_babel import refresh

        refresh()  # the locale chosen for the request before is cached on the app context
        assert render_template_string(source, name="Huyện Cẩm Khê") == "Roster of Huyện Cẩm Khê"
