"""The results of a quiz as an XLSX workbook: per site (people present, started, submitted
and passed, each split into women, men and those whose sex is not recorded), per
participant and per question. Vietnamese headers in the glossary's words; topics by their
names, never their keys."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from trainer.auth.models import User
from trainer.glossary import sex_label, term
from trainer.offload import off_loop
from trainer.quizzes import results, services
from trainer.quizzes.answers import finalise_expired
from trainer.quizzes.bysex import SEXES
from trainer.spreadsheet import kind_of, put

STATUS_VI = {"submitted": "Đã nộp", "in_progress": "Đang làm", "not_started": "Chưa làm"}
KIND_VI = {"single": "Một lựa chọn", "multiple": "Nhiều lựa chọn", "true_false": "Đúng/Sai"}
SOURCE_VI = {"web": "Trực tuyến", "paper": "Giấy"}


def _sheet(wb: Any, title: str, headers: list[str], rows: Iterable[list[Any]],
           widths: list[int], freeze: str = "A2") -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    for col, header in enumerate(headers, start=1):
        cell = put(ws, 1, col, header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            put(ws, r, col, value, kind_of(value))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = freeze


def _by_sex_headers(what: str) -> list[str]:
    return [f"{what}: {sex_label(s).lower()}" for s in SEXES]


def export_xlsx(quiz_id: int, actor: User | None = None) -> bytes:
    """Sheets: per site (with the split by sex), per participant, per question. Permissions
    are checked here; the figures are read and the workbook built off the gevent loop (30,000
    people take seconds)."""
    results._require_results(actor)
    quiz = services.get_quiz(quiz_id)
    finalise_expired(quiz_id)  # a write: here, before the read-only worker reads
    return off_loop(_workbook, quiz.id, quiz.title)


def _workbook(quiz_id: int, title: str) -> bytes:
    results = services.site_results(quiz_id, finalise=False)
    people = services.participant_results(quiz_id, finalise=False)
    topics = services.topic_names()
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    total = term("total", capital=True)
    sites = results["sites"] + [{"code": "", "name": total, **results["totals"]}]
    measures = (("present", "Có mặt"), ("started", "Đã bắt đầu"), ("submitted", "Đã nộp bài"),
                ("passed", "Đạt"))
    headers = [f"Mã {term('site')}", term("site", capital=True)]
    for _key, label in measures:
        headers += [label, *_by_sex_headers(label)]
    headers.append("Điểm trung bình (%)")
    _sheet(wb, "Theo điểm cầu", headers,
           ([s["code"], s["name"],
             *[v for key, _ in measures
               for v in (s[key], *[s.get(f"{key}_{sex}", 0) for sex in SEXES])],
             s["mean_percent"]] for s in sites),
           [14, 32] + [10, 9, 9, 9] * len(measures) + [12], freeze="C2")
    _sheet(wb, "Học viên",
           [f"Mã {term('participant')}", "Họ và tên", "Giới tính", "Đơn vị", "Chức vụ",
            term("site", capital=True), "Đã điểm danh", "Trạng thái", "Số lần làm",
            "Hình thức", "Điểm", "Điểm tối đa", "Tỷ lệ (%)", "Kết quả", "Nộp lúc"],
           ([p["code"], p["full_name"], sex_label(p["sex"]), p["unit"] or "",
             p["position"] or "", p["site_name"], "Có" if p["checked_in"] else "Không",
             STATUS_VI[p["status"]], p["attempts"], SOURCE_VI.get(p["source"] or "", ""),
             p["score"], p["max_score"], p["percent"],
             "" if p["passed"] is None else term("passed" if p["passed"] else "not_passed"),
             p["submitted_at"]] for p in people),
           [12, 28, 10, 24, 22, 24, 12, 12, 10, 12, 8, 10, 10, 10, 17])
    _sheet(wb, "Câu hỏi",
           ["Mã câu hỏi", "Câu hỏi", "Loại", "Chủ đề", "Số bài làm", "Độ dễ (0-1)",
            "Độ phân biệt (-1..1)"],
           ([q["id"], q["text"], KIND_VI[q["kind"]],
             topics.get(q["topic"], q["topic"]) if q["topic"] else "", q["attempts"],
             q["facility"], q["discrimination"]] for q in results["questions"]),
           [10, 70, 16, 30, 10, 12, 16])
    wb.properties.title = title
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
