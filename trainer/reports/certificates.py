"""Certificates of completion as PDF (reportlab), one A4 landscape page per person.

The text is Vietnamese with an English line beneath: the certificate is a document handed on,
the same whatever language the organiser's screen uses. The fonts are DejaVu Sans, vendored
in trainer/reports/fonts (Vietnamese glyphs; licence beside them), so no system font is
needed. The QR code (segno) is drawn as vector squares and opens the public page
GET /verify/<code>.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import segno
from babel.numbers import format_decimal
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from trainer.i18n import fmt_date, to_local
from trainer.reports.services import CertificateView, format_code

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SYSTEM_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"

INK = HexColor("#1d2430")
MUTED = HexColor("#5b6574")
ACCENT = HexColor("#0b5cab")
GOLD = HexColor("#b8892b")

_fonts_lock = threading.Lock()
_fonts_ready = False

HONORIFIC = {"female": "Bà", "male": "Ông", "unspecified": "Ông/Bà"}


def _font_file(name: str) -> Path:
    for folder in (FONT_DIR, SYSTEM_FONT_DIR):
        path = folder / f"{name}.ttf"
        if path.exists():
            return path
    raise FileNotFoundError(f"{name}.ttf is missing from {FONT_DIR}")


def register_fonts() -> None:
    global _fonts_ready
    with _fonts_lock:
        if _fonts_ready:
            return
        pdfmetrics.registerFont(TTFont(REGULAR, str(_font_file(REGULAR))))
        pdfmetrics.registerFont(TTFont(BOLD, str(_font_file(BOLD))))
        _fonts_ready = True


def _fit(text: str, font: str, size: float, width: float, smallest: float = 10) -> float:
    """The largest size up to `size` at which `text` fits in `width`."""
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _centred(c: Canvas, text: str, y: float, font: str, size: float, width: float,
             colour: Color = INK, leading: float = 1.25, max_lines: int = 3) -> float:
    """Draw `text` centred, wrapped to `width`; returns the y below it."""
    page_w = c._pagesize[0]
    lines = simpleSplit(text, font, size, width)[:max_lines]
    c.setFillColor(colour)
    c.setFont(font, size)
    for line in lines:
        c.drawCentredString(page_w / 2, y, line)
        y -= size * leading
    return y


def draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """A QR code of `data` with its lower-left corner at (x, y): dark modules as runs of
    filled rectangles (a vector drawing; no image library)."""
    qr = segno.make(data, error="m")
    matrix = qr.matrix
    n = len(matrix)
    quiet = 2
    cell = size / (n + 2 * quiet)
    c.saveState()
    c.setFillColor(HexColor("#ffffff"))
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(HexColor("#000000"))
    for r, row in enumerate(matrix):
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                c.rect(x + (quiet + start) * cell, y + size - (quiet + r + 1) * cell,
                       (col - start) * cell, cell, stroke=0, fill=1)
            else:
                col += 1
    c.restoreState()


def _date_words(view: CertificateView) -> str:
    issued = to_local(view.issued_at)
    return f"Ngày {issued.day:02d} tháng {issued.month:02d} năm {issued.year}"


def _page(c: Canvas, view: CertificateView, url: str) -> None:
    w, h = landscape(A4)
    # Frame: an outer accent line and an inner thin gold line.
    c.setStrokeColor(ACCENT)
    c.setLineWidth(3)
    c.rect(10 * mm, 10 * mm, w - 20 * mm, h - 20 * mm)
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.8)
    c.rect(14 * mm, 14 * mm, w - 28 * mm, h - 28 * mm)

    text_w = w - 60 * mm
    y = h - 30 * mm
    if view.lead_agency:
        y = _centred(c, view.lead_agency.upper(), y, BOLD, 12, text_w, MUTED, max_lines=2)
    if view.partners:
        y = _centred(c, " · ".join(view.partners), y, REGULAR, 9.5, text_w, MUTED, max_lines=2)
    y -= 10 * mm if (view.lead_agency or view.partners) else 4 * mm

    y = _centred(c, "GIẤY CHỨNG NHẬN", y, BOLD, 34, text_w, ACCENT)
    y = _centred(c, "CERTIFICATE OF COMPLETION", y + 6, REGULAR, 11, text_w, MUTED)
    y -= 8 * mm

    y = _centred(c, f"Chứng nhận {HONORIFIC.get(view.sex, 'Ông/Bà')}", y, REGULAR, 14, text_w)
    y -= 2 * mm
    size = _fit(view.full_name, BOLD, 28, text_w, 14)
    y = _centred(c, view.full_name, y - 8, BOLD, size, text_w, INK, max_lines=2)
    details = ", ".join(x for x in (view.position, view.unit) if x)
    if details:
        y = _centred(c, details, y, REGULAR, 11.5, text_w, MUTED, max_lines=2)
    y -= 5 * mm

    y = _centred(c, "đã tham dự và đạt yêu cầu bài kiểm tra của buổi tập huấn", y, REGULAR,
                 13, text_w)
    y = _centred(c, view.session_title, y - 2, BOLD, _fit(view.session_title, BOLD, 17,
                                                            text_w, 12), text_w, INK)
    if view.training_title:
        y = _centred(c, f"thuộc chương trình: {view.training_title}", y, REGULAR, 12, text_w,
                     INK, max_lines=2)
    where = f"ngày {fmt_date(view.session_starts_at)}"
    if view.site_name:
        where += f", tại điểm cầu {view.site_name}"
    if view.percent is not None:
        # The certificate is Vietnamese whatever the screen language: so are its numbers.
        where += f" · kết quả: {format_decimal(view.percent, format='#,##0.0', locale='vi')} %"
    y = _centred(c, where, y, REGULAR, 12, text_w, INK, max_lines=2)
    _centred(c, "has attended this training session and passed its quiz.", y - 2, REGULAR, 9.5,
             text_w, MUTED)

    # Bottom left: QR code and verification code; bottom right: the date of issue.
    qr_size = 32 * mm
    qx, qy = 24 * mm, 22 * mm
    draw_qr(c, url, qx, qy, qr_size)
    tx = qx + qr_size + 5 * mm
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 9)
    c.drawString(tx, qy + qr_size - 10, "Mã xác thực / Verification code")
    c.setFillColor(INK)
    c.setFont(BOLD, 13)
    c.drawString(tx, qy + qr_size - 27, format_code(view.code))
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 8.5)
    c.drawString(tx, qy + qr_size - 42, "Quét mã QR hoặc mở / Scan the QR code or open:")
    link_size = _fit(url, REGULAR, 8.5, w / 2 - tx, 6)
    c.setFont(REGULAR, link_size)
    c.drawString(tx, qy + qr_size - 54, url)

    c.setFillColor(INK)
    c.setFont(REGULAR, 12)
    right = w - 30 * mm
    c.drawRightString(right, qy + qr_size - 10, _date_words(view))
    c.setFont(REGULAR, 9)
    c.setFillColor(MUTED)
    c.drawRightString(right, qy + qr_size - 24, f"Issued {fmt_date(view.issued_at)}")
    if view.lead_agency:
        c.setFillColor(INK)
        c.setFont(BOLD, 11)
        size = _fit(view.lead_agency, BOLD, 11, w / 2 - 40 * mm, 7)
        c.setFont(BOLD, size)
        c.drawRightString(right, qy + 6, view.lead_agency)


def render(views: Sequence[CertificateView], url_for_code: Callable[[str], str],
           title: str = "Giấy chứng nhận") -> bytes:
    """One page per certificate, in the given order."""
    register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=landscape(A4), pageCompression=1)
    c.setTitle(title)
    c.setAuthor("trainer")
    c.setSubject("Giấy chứng nhận hoàn thành tập huấn / Certificate of completion")
    for view in views:
        _page(c, view, url_for_code(view.code))
        c.showPage()
    c.save()
    return buffer.getvalue()
