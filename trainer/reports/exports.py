"""Report exports: the session report as CSV and XLSX (API.md: one row per site, then the
totals), and a training or year summary as XLSX.

- Headers in Vietnamese with the English beneath (XLSX: a second header row; CSV: one header
  row, "Có mặt / Present").
- CSV: UTF-8 with a byte order mark, so Excel reads the Vietnamese right; numbers with a dot.
- XLSX: frozen header rows (and the site columns), integer / percent / one-decimal formats,
  column widths; rates are stored as fractions with a percent format.
- A figure that cannot be computed (nothing to divide by) is "–".
- No formula injection: a text cell starting with =, +, -, @, tab or CR is written as text
  (CSV: prefixed with a single quote; XLSX: data type "s" and the quote-prefix style).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trainer.i18n import to_local
from trainer.spreadsheet import DASH, DATE, DEC1, INT, PCT, TEXT, WHEN, safe_text
from trainer.spreadsheet import put as _put

SEX_VI = {"female": "Nữ", "male": "Nam", "unspecified": "Không xác định"}
STATUS_VI = {"draft": "Nháp", "open": "Đang mở", "closed": "Đã đóng",
             "scheduled": "Sắp diễn ra", "live": "Đang diễn ra", "ended": "Đã kết thúc"}

@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    kind: str = INT
    width: float = 12


SESSION_COLUMNS = (
    Column("code", "Mã điểm cầu", "Site code", TEXT, 12),
    Column("name", "Điểm cầu", "Site", TEXT, 30),
    Column("registered", "Đăng ký", "Registered", INT, 11),
    Column("present", "Có mặt", "Present", INT, 10),
    Column("attendance_percent", "Tỷ lệ có mặt", "Attendance rate", PCT, 13),
    Column("female", "Nữ", "Female", INT, 9),
    Column("male", "Nam", "Male", INT, 9),
    Column("unspecified", "Không xác định", "Unspecified", INT, 14),
    Column("female_percent", "Tỷ lệ nữ", "Share of women", PCT, 13),
    Column("quiz_submitted", "Nộp bài kiểm tra", "Quiz submitted", INT, 15),
    Column("quiz_passed", "Đạt", "Passed", INT, 9),
    Column("quiz_mean_percent", "Điểm trung bình (%)", "Mean score (%)", DEC1, 17),
)

# Sessions on trainer's own video room: each bridge point's attendance on the call.
CONFERENCE_COLUMNS = (
    Column("conference_first_joined_at", "Vào phòng họp lúc", "First joined the video room",
           WHEN, 17),
    Column("conference_minutes", "Số phút trực tuyến", "Minutes connected", INT, 14),
    Column("conference_drops", "Số lần mất kết nối", "Drops", INT, 14),
)


def session_columns(report: dict[str, Any]) -> tuple[Column, ...]:
    builtin = report.get("conference") == "builtin"
    return SESSION_COLUMNS + (CONFERENCE_COLUMNS if builtin else ())


def _csv_value(value: Any, kind: str) -> str:
    if value is None:
        return DASH if kind in (PCT, DEC1) else ""
    if kind == TEXT:
        return safe_text(str(value))
    if kind in (PCT, DEC1):
        return f"{float(value):.1f}"
    if isinstance(value, datetime):
        return to_local(value).strftime("%d/%m/%Y %H:%M")
    return str(value)


def _totals_row(totals: dict[str, Any]) -> dict[str, Any]:
    return {**totals, "code": "", "name": "Tổng cộng / Total"}


def session_csv(report: dict[str, Any]) -> bytes:
    """One row per site, then the totals; UTF-8 with BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = session_columns(report)
    writer.writerow([f"{c.vi} / {c.en}" for c in columns])
    for row in [*report["sites"], _totals_row(report["totals"])]:
        writer.writerow([_csv_value(row.get(c.key), c.kind) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- XLSX

def _header(ws: Any, columns: Sequence[Column], first_row: int = 1) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    fill = PatternFill("solid", fgColor="E6EEF7")
    line = Side(style="thin", color="9AA5B5")
    for col, column in enumerate(columns, start=1):
        vi = _put(ws, first_row, col, column.vi)
        vi.font = Font(bold=True)
        vi.fill = fill
        vi.alignment = Alignment(wrap_text=True, vertical="top")
        en = _put(ws, first_row + 1, col, column.en)
        en.font = Font(italic=True, color="5B6574", size=9)
        en.fill = fill
        en.border = Border(bottom=line)
        en.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(col)].width = column.width


def _table(ws: Any, columns: Sequence[Column], rows: Iterable[dict[str, Any]],
           totals: dict[str, Any] | None = None, freeze: str = "A3") -> int:
    """Two header rows, the rows, then a bold totals row; returns the last row written."""
    from openpyxl.styles import Border, Font, Side

    _header(ws, columns)
    r = 2
    for r, row in enumerate(rows, start=3):
        for col, column in enumerate(columns, start=1):
            _put(ws, r, col, row.get(column.key), column.kind)
    if totals is not None:
        r += 1
        top = Side(style="thin", color="1D2430")
        for col, column in enumerate(columns, start=1):
            cell = _put(ws, r, col, totals.get(column.key), column.kind)
            cell.font = Font(bold=True)
            cell.border = Border(top=top)
    ws.freeze_panes = freeze
    return r


def _about(wb: Any, lines: Sequence[tuple[str, str, Any]]) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet("Thông tin")
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 70
    for r, (vi, en, value) in enumerate(lines, start=1):
        _put(ws, r, 1, f"{vi} / {en}").font = Font(bold=True)
        _put(ws, r, 2, value)


GENDER_LABELS = {
    "registered": ("Đăng ký", "Registered"),
    "visits": ("Lượt tham dự", "Participant-visits"),
    "participants": ("Số người tham dự", "Participants"),
    "participant_share_percent": ("Tỷ trọng trong người tham dự", "Share of participants"),
    "attendance_percent": ("Tỷ lệ có mặt", "Attendance rate"),
    "submitted": ("Nộp bài kiểm tra", "Quiz submitted"),
    "completion_percent": ("Tỷ lệ hoàn thành", "Completion rate"),
    "passed": ("Đạt", "Passed"),
    "pass_percent": ("Tỷ lệ đạt", "Pass rate"),
    "mean_percent": ("Điểm trung bình (%)", "Mean score (%)"),
}

GENDER_COLUMNS = (
    Column("label", "Chỉ số", "Indicator", TEXT, 34),
    Column("female", "Nữ", "Female", INT, 11),
    Column("male", "Nam", "Male", INT, 11),
    Column("unspecified", "Không xác định", "Unspecified", INT, 14),
    Column("total", "Tổng", "Total", INT, 11),
    Column("gap", "Chênh lệch (nữ − nam)", "Gap (female − male)", DEC1, 20),
    Column("ratio", "Tỷ số nữ/nam", "Ratio female/male", DEC1, 16),
)


def _gender_sheet(wb: Any, indicators: Sequence[dict[str, Any]]) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet("Theo giới tính")
    _header(ws, GENDER_COLUMNS)
    for r, ind in enumerate(indicators, start=3):
        vi, en = GENDER_LABELS[ind["key"]]
        kind = {"count": INT, "percent": PCT, "score": DEC1}[ind["kind"]]
        _put(ws, r, 1, f"{vi} / {en}")
        for col, key in enumerate(("female", "male", "unspecified", "total"), start=2):
            _put(ws, r, col, ind[key], kind)
        # The gap: persons for counts, percentage points for rates, points for scores.
        gap = _put(ws, r, 6, ind["gap"], DEC1 if kind != INT else INT)
        if ind["gap"] is not None and kind != INT:
            gap.number_format = '+0.0;-0.0;0.0'
        elif ind["gap"] is not None:
            gap.number_format = '+#,##0;-#,##0;0'
        ratio = _put(ws, r, 7, ind["ratio"], DEC1)
        if ind["ratio"] is not None:
            ratio.number_format = "0.00"
    note = _put(ws, len(indicators) + 4, 1,
                "Chênh lệch: người (số đếm), điểm phần trăm (tỷ lệ) / Gap: persons for counts, "
                "percentage points for rates")
    note.font = Font(italic=True, color="5B6574", size=9)
    ws.freeze_panes = "B3"


def _save(wb: Any, title: str) -> bytes:
    wb.properties.title = title[:250]
    wb.properties.creator = "trainer"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _scope_text(scope: Sequence[int] | None) -> str:
    return "Tất cả điểm cầu / All sites" if scope is None else \
        "Các điểm cầu của người lập / The requester's sites only"


def session_xlsx(report: dict[str, Any]) -> bytes:
    """Sheets: the per-site table with totals, the gender view, and what the report is."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Theo điểm cầu"
    _table(ws, session_columns(report), report["sites"], _totals_row(report["totals"]),
           freeze="C3")
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    _gender_sheet(wb, report["gender"])
    s, quiz = report["session"], report["quiz"]
    _about(wb, [
        ("Buổi tập huấn", "Session", s["title"]),
        ("Chương trình", "Training", s["training_title"] or DASH),
        ("Bắt đầu", "Starts", s["starts_at"]),
        ("Trạng thái", "Status", STATUS_VI.get(s["status"], s["status"])),
        ("Bài kiểm tra", "Quiz", f"{quiz['title']} (đạt từ {quiz['pass_percent']:g} %)"
         if quiz else DASH),
        ("Phạm vi", "Scope", _scope_text(report["scope_site_ids"])),
        ("Lập lúc", "Generated", report["generated_at"]),
    ])
    return _save(wb, f"Báo cáo: {s['title']}")


SUMMARY_SESSION_COLUMNS = (
    Column("starts_at", "Ngày", "Date", DATE, 12),
    Column("title", "Buổi tập huấn", "Session", TEXT, 40),
    Column("registered", "Đăng ký", "Registered", INT, 11),
    Column("present", "Có mặt", "Present", INT, 10),
    Column("attendance_percent", "Tỷ lệ có mặt", "Attendance rate", PCT, 13),
    Column("female", "Nữ", "Female", INT, 9),
    Column("male", "Nam", "Male", INT, 9),
    Column("unspecified", "Không xác định", "Unspecified", INT, 14),
    Column("quiz_submitted", "Nộp bài", "Quiz submitted", INT, 12),
    Column("quiz_passed", "Đạt", "Passed", INT, 9),
    Column("quiz_mean_percent", "Điểm trung bình (%)", "Mean score (%)", DEC1, 17),
)

PEOPLE_COLUMNS = (
    Column("visits", "Lượt tham dự", "Participant-visits", INT, 13),
    Column("participants", "Số người", "Participants", INT, 11),
    Column("participants_female", "Nữ", "Women", INT, 9),
    Column("participants_male", "Nam", "Men", INT, 9),
    Column("participants_unspecified", "Không xác định", "Unspecified", INT, 14),
    Column("participants_female_percent", "Tỷ lệ nữ", "Share of women", PCT, 12),
)

SUMMARY_SITE_COLUMNS = (
    Column("code", "Mã điểm cầu", "Site code", TEXT, 12),
    Column("name", "Điểm cầu", "Site", TEXT, 30),
    Column("registered", "Đăng ký", "Registered", INT, 11),
    *PEOPLE_COLUMNS,
    Column("quiz_submitted", "Nộp bài", "Quiz submitted", INT, 12),
    Column("quiz_passed", "Đạt", "Passed", INT, 9),
)

SUMMARY_UNIT_COLUMNS = (
    Column("site_name", "Điểm cầu", "Site", TEXT, 26),
    Column("name", "Xã / phường / thị trấn", "Commune", TEXT, 28),
    Column("centre_name", "Trung tâm học tập cộng đồng", "Centre", TEXT, 36),
    *PEOPLE_COLUMNS,
)

COVERAGE_COLUMNS = (
    Column("code", "Mã điểm cầu", "Site code", TEXT, 12),
    Column("name", "Điểm cầu", "Site", TEXT, 30),
    Column("units", "Số xã / trung tâm", "Communes / centres", INT, 16),
    Column("reached", "Đã có người tập huấn", "Reached", INT, 18),
    Column("reached_percent", "Tỷ lệ", "Share reached", PCT, 11),
    Column("reached_with_women", "Có nữ tham dự", "Reached with women", INT, 16),
)

UNREACHED_COLUMNS = (
    Column("site_name", "Điểm cầu", "Site", TEXT, 28),
    Column("name", "Xã / phường / thị trấn", "Commune", TEXT, 30),
    Column("centre_name", "Trung tâm học tập cộng đồng", "Centre", TEXT, 40),
)


def summary_xlsx(summary: dict[str, Any], coverage: dict[str, Any]) -> bytes:
    """A training's or a year's summary: sessions, sites, communes, coverage, gender view."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Theo buổi"
    totals = summary["totals"]
    _table(ws, SUMMARY_SESSION_COLUMNS, summary["sessions"],
           {"title": "Tổng cộng / Total", "registered": totals["registered"],
            "present": totals["visits"], "attendance_percent": totals["attendance_percent"],
            "female": totals["visits_female"], "male": totals["visits_male"],
            "unspecified": totals["visits_unspecified"],
            "quiz_submitted": totals["quiz_submitted"], "quiz_passed": totals["quiz_passed"],
            "quiz_mean_percent": totals["quiz_mean_percent"]}, freeze="C3")
    _table(wb.create_sheet("Theo điểm cầu"), SUMMARY_SITE_COLUMNS, summary["sites"],
           {"name": "Tổng cộng (người khác nhau) / Total (distinct people)", **{
               k: totals[k] for k in ("registered", "visits", "participants",
                                      "participants_female", "participants_male",
                                      "participants_unspecified",
                                      "participants_female_percent", "quiz_submitted",
                                      "quiz_passed")}}, freeze="C3")
    units = [{**u, "name": u["name"] or "(chưa ghi xã / not recorded)"}
             for u in summary["units"]]
    _table(wb.create_sheet("Theo xã"), SUMMARY_UNIT_COLUMNS, units, None, freeze="C3")
    _table(wb.create_sheet("Độ phủ"), COVERAGE_COLUMNS, coverage["sites"],
           {"name": "Tổng cộng / Total", **coverage["totals"]}, freeze="C3")
    unreached = [{**u, "site_name": s["name"]} for s in coverage["sites"]
                 for u in s["not_reached"]]
    _table(wb.create_sheet("Chưa tiếp cận"), UNREACHED_COLUMNS, unreached, None, freeze="A3")
    _gender_sheet(wb, summary["gender"])
    what = (f"{summary['training_title']}" if summary["kind"] == "training"
            else f"Năm / Year {summary['year']}")
    _about(wb, [
        ("Báo cáo", "Report", what),
        ("Số buổi", "Sessions", str(len(summary["sessions"]))),
        ("Phạm vi", "Scope", _scope_text(summary["scope_site_ids"])),
        ("Lập lúc", "Generated", summary["generated_at"]),
    ])
    return _save(wb, f"Báo cáo tổng hợp: {what}")
