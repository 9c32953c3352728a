"""The session report and the training or year summary as PDF documents (reportlab
platypus, A4 landscape): the header and the place-date line (trainer.reports.documents), a
title block ("BÁO CÁO" and what it reports on), the body (per-site tables with women, men
and those whose sex is not recorded side by side, the gender indicators), then the
signature block. Vietnamese, with the glossary's words and Vietnamese numbers ("71,4%")."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from babel.numbers import format_decimal
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from trainer.dbtypes import utcnow
from trainer.glossary import percent_text, term
from trainer.i18n import fmt_date, fmt_time
from trainer.reports.documents import (
    esc,
    header_flowables,
    place_date_flowable,
    signature_flowables,
    styles,
)
from trainer.reports.settings import Letterhead

GRID = HexColor("#888888")
HEAD_FILL = HexColor("#eeeeee")

INDICATOR_VI = {
    "registered": "Đăng ký", "visits": "Lượt học viên", "participants": "Số học viên",
    "participant_share_percent": "Tỷ trọng trong số học viên",
    "attendance_percent": "Tỷ lệ có mặt", "submitted": "Nộp bài kiểm tra",
    "completion_percent": "Tỷ lệ hoàn thành", "passed": "Đạt", "pass_percent": "Tỷ lệ đạt",
    "mean_percent": "Điểm trung bình (%)",
}


def _n(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, format=fmt, locale="vi"))


def _pct(value: float | None) -> str:
    return percent_text(value, 1)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
           total: bool = True) -> Any:
    from reportlab.platypus import Paragraph, Table, TableStyle

    st = styles()
    data = [[Paragraph(esc(h), st["head"]) for h in head]]
    for n, row in enumerate(rows, start=1):
        bold = total and n == len(rows)
        data.append([Paragraph(f"<b>{esc(str(v))}</b>" if bold else esc(str(v)),
                               st["cell"] if i == 0 else st["cell_num"])
                     for i, v in enumerate(row)])
    table = Table(data, colWidths=list(widths), repeatRows=1)
    style = [("GRID", (0, 0), (-1, -1), 0.4, GRID),
             ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    if total and len(data) > 1:
        style.append(("LINEABOVE", (0, -1), (-1, -1), 1, GRID))
    table.setStyle(TableStyle(style))
    return table


def _document(lh: Letterhead, title: Sequence[str], body: list[Any], pdf_title: str) -> bytes:
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    st = styles()
    buffer = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(buffer, pagesize=page, leftMargin=20 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=pdf_title,
                            author=lh.issuing_agency or "trainer")
    width = page[0] - 35 * mm
    story: list[Any] = [*header_flowables(lh, width), Spacer(1, 3 * mm),
                        place_date_flowable(lh, utcnow()), Spacer(1, 5 * mm),
                        Paragraph("BÁO CÁO", st["title"])]
    story += [Paragraph(esc(line), st["subtitle"]) for line in title]
    story += [Spacer(1, 5 * mm), *body, Spacer(1, 8 * mm), *signature_flowables(lh, width)]
    doc.build(story)
    return buffer.getvalue()


def _gender(indicators: Sequence[dict[str, Any]], width: float,
            skip: Sequence[str] = ()) -> Any:
    rows = []
    for ind in indicators:
        if ind["key"] in skip:
            continue
        fmt = {"count": _n, "percent": _pct, "score": lambda v: _n(v, 1)}[ind["kind"]]
        rows.append([INDICATOR_VI[ind["key"]], fmt(ind["female"]), fmt(ind["male"]),
                     fmt(ind["unspecified"]), fmt(ind["total"]),
                     _n(ind["gap"], 0 if ind["kind"] == "count" else 1)])
    head = ["Chỉ số", term("female", capital=True), term("male", capital=True),
            term("sex_unspecified", capital=True), term("total", capital=True),
            "Chênh lệch (nữ − nam)"]
    w = width / 8
    return _table(head, rows, [w * 3, w, w, w, w, w], total=False)


def session_pdf(report: dict[str, Any], lh: Letterhead) -> bytes:
    from reportlab.platypus import Paragraph

    st = styles()
    s, quiz, t = report["session"], report["quiz"], report["totals"]
    width = landscape(A4)[0] - 35 * mm
    title = [f"Kết quả {term('session')}: {s['title']}"]
    if s["training_title"]:
        title.append(f"Chương trình: {s['training_title']}")
    title.append(f"Ngày {fmt_date(s['starts_at'])}, {fmt_time(s['starts_at'])}–"
                 f"{fmt_time(s['ends_at'])}")
    body: list[Any] = [Paragraph(
        f"{len(report['sites'])} {term('site')}; đăng ký {_n(t['registered'])} "
        f"{term('participant')}, có mặt {_n(t['present'])} (nữ {_n(t['female'])}, "
        f"nam {_n(t['male'])}, {term('sex_unspecified')} {_n(t['unspecified'])}); "
        f"tỷ lệ có mặt {_pct(t['attendance_percent'])}."
        + (f" {term('quiz', capital=True)} «{esc(quiz['title'])}» (đạt từ "
           f"{percent_text(quiz['pass_percent'])}): nộp bài {_n(t['quiz_submitted'])}, "
           f"đạt {_n(t['quiz_passed'])}." if quiz else ""), st["body"]),
        Paragraph(f"1. Theo {term('site')} và giới tính", st["h2"])]
    head = [term("site", capital=True), "Đăng ký", "Có mặt: nữ", "nam",
            term("sex_unspecified"), "Có mặt: tổng", "Tỷ lệ có mặt", "Tỷ lệ nữ"]
    if quiz:
        head += ["Nộp bài: nữ", "nam", "Đạt: nữ", "nam", "Đạt: tổng"]

    def row(name: str, r: dict[str, Any]) -> list[str]:
        by = r["by_sex"]
        out = [name, _n(r["registered"]), _n(r["female"]), _n(r["male"]),
               _n(r["unspecified"]), _n(r["present"]), _pct(r["attendance_percent"]),
               _pct(r["female_percent"])]
        if quiz:
            out += [_n(by["quiz_submitted"]["female"]), _n(by["quiz_submitted"]["male"]),
                    _n(by["quiz_passed"]["female"]), _n(by["quiz_passed"]["male"]),
                    _n(r["quiz_passed"])]
        return out

    rows = [row(r["name"], r) for r in report["sites"]]
    rows.append(row(term("total", capital=True), t))
    first = width * 0.22
    other = (width - first) / (len(head) - 1)
    body.append(_table(head, rows, [first] + [other] * (len(head) - 1)))
    body.append(Paragraph("2. Nữ và nam", st["h2"]))
    body.append(_gender(report["gender"], width, skip=("visits",)))
    return _document(lh, title, body, f"Báo cáo: {s['title']}")


def summary_pdf(summary: dict[str, Any], coverage: dict[str, Any], lh: Letterhead) -> bytes:
    from reportlab.platypus import Paragraph

    st = styles()
    width = landscape(A4)[0] - 35 * mm
    t = summary["totals"]
    what = (f"Tổng hợp kết quả tập huấn: {summary['training_title']}"
            if summary["kind"] == "training" else f"Tổng hợp kết quả tập huấn: "
                                                  f"Năm {summary['year']}")
    title = [what]
    body: list[Any] = [Paragraph(
        f"{_n(t['sessions'])} {term('session')}; {_n(t['visits'])} lượt {term('participant')}"
        f" ({_n(t['participants'])} người: nữ {_n(t['participants_female'])}, nam "
        f"{_n(t['participants_male'])}, {term('sex_unspecified')} "
        f"{_n(t['participants_unspecified'])}).", st["body"]),
        Paragraph(f"1. Theo {term('session')}", st["h2"])]
    head = ["Buổi tập huấn", "Ngày", "Đăng ký", "Có mặt: nữ", "nam", term("sex_unspecified"),
            "Có mặt: tổng", "Đạt"]
    rows = [[s["title"], fmt_date(s["starts_at"]), _n(s["registered"]), _n(s["female"]),
             _n(s["male"]), _n(s["unspecified"]), _n(s["present"]), _n(s["quiz_passed"])]
            for s in summary["sessions"]]
    first = width * 0.34
    other = (width - first) / (len(head) - 1)
    body.append(_table(head, rows, [first] + [other] * (len(head) - 1), total=False))
    body.append(Paragraph(f"2. Theo {term('site')} (số người khác nhau)", st["h2"]))
    head = [term("site", capital=True), "Đăng ký", "Nữ", "Nam", term("sex_unspecified"),
            "Tổng", "Tỷ lệ nữ"]
    rows = [[r["name"], _n(r["registered"]), _n(r["participants_female"]),
             _n(r["participants_male"]), _n(r["participants_unspecified"]),
             _n(r["participants"]), _pct(r["participants_female_percent"])]
            for r in summary["sites"]]
    rows.append([term("total", capital=True), _n(t["registered"]),
                 _n(t["participants_female"]), _n(t["participants_male"]),
                 _n(t["participants_unspecified"]), _n(t["participants"]),
                 _pct(t["participants_female_percent"])])
    first = width * 0.3
    other = (width - first) / (len(head) - 1)
    body.append(_table(head, rows, [first] + [other] * (len(head) - 1)))
    commune = term("commune_level")
    body.append(Paragraph(f"3. Độ phủ: số {commune} đã có học viên tham dự", st["h2"]))
    ct = coverage["totals"]
    head = [term("site", capital=True), f"Số {commune}", "Đã có học viên", "Tỷ lệ",
            "Có nữ tham dự"]
    rows = [[r["name"], _n(r["units"]), _n(r["reached"]), _pct(r["reached_percent"]),
             _n(r["reached_with_women"])] for r in coverage["sites"]]
    rows.append([term("total", capital=True), _n(ct["units"]), _n(ct["reached"]),
                 _pct(ct["reached_percent"]), _n(ct["reached_with_women"])])
    body.append(_table(head, rows, [first] + [(width - first) / 4] * 4))
    body.append(Paragraph("4. Nữ và nam", st["h2"]))
    body.append(_gender(summary["gender"], width))
    return _document(lh, title, body, what)
