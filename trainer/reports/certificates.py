"""Certificates of completion as PDF (reportlab), one A4 landscape page per person, laid out
as an administrative document (trainer.reports.documents): the header with the issuing
agency and the national title, "GIẤY CHỨNG NHẬN", the person (name, year of birth, position
and unit), the training session, its date and place, the result ("Đạt"), the place-date
line and the signature block; bottom left the register number (số vào sổ) and a QR code
(segno, drawn as vector squares) opening the public page GET /verify/<code>.

Vietnamese throughout; `lang="en"` gives an English certificate, for someone who asks for
one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import segno
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from trainer.glossary import in_sentence, term
from trainer.i18n import fmt_date
from trainer.reports.documents import (
    BOLD,
    INK,
    ITALIC,
    REGULAR,
    draw_header,
    draw_place_date,
    draw_signature,
    place_date,
    register_fonts,
)
from trainer.reports.issuing import CertificateView, format_code

MUTED = HexColor("#4a4a4a")
FRAME = HexColor("#8a6d1f")

HONORIFIC = {"vi": {"female": "Bà", "male": "Ông", "unspecified": "Ông/Bà"},
             "en": {"female": "Ms", "male": "Mr", "unspecified": ""}}

WORDS = {
    "vi": {"title": "GIẤY CHỨNG NHẬN", "certify": "Chứng nhận:", "born": "Năm sinh",
           "position": "Chức vụ, đơn vị", "session": "Đã hoàn thành buổi tập huấn",
           "training": "Thuộc chương trình", "when": "Thời gian", "where": "Địa điểm",
           "site": "điểm cầu", "result": "Kết quả", "register": "Số vào sổ",
           "code": "Mã xác thực", "check": "Kiểm tra tại"},
    "en": {"title": "CERTIFICATE", "certify": "This is to certify that", "born": "Year of birth",
           "position": "Position, unit", "session": "Has completed the training session",
           "training": "Part of the programme", "when": "Date", "where": "Place",
           "site": "site", "result": "Result", "register": "Register number",
           "code": "Verification code", "check": "Check at"},
}


def _fit(text: str, font: str, size: float, width: float, smallest: float = 8) -> float:
    """The largest size up to `size` at which `text` fits in `width`."""
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _centred(c: Canvas, text: str, y: float, font: str, size: float, width: float,
             colour: Color = INK, leading: float = 1.3, max_lines: int = 2) -> float:
    """Draw `text` centred on the page, wrapped to `width`; returns the y below it."""
    page_w = c._pagesize[0]
    c.setFillColor(colour)
    c.setFont(font, size)
    for line in simpleSplit(text, font, size, width)[:max_lines]:
        c.drawCentredString(page_w / 2, y, line)
        y -= size * leading
    return y


def _labelled(c: Canvas, label: str, value: str, x: float, y: float, width: float,
              bold: bool = False, size: float = 13) -> float:
    """"Label: value" from x, the value wrapped under itself; returns the y below."""
    head = f"{label}: "
    c.setFillColor(INK)
    c.setFont(ITALIC, size)
    c.drawString(x, y, head)
    vx = x + pdfmetrics.stringWidth(head, ITALIC, size)
    font = BOLD if bold else REGULAR
    lines = simpleSplit(value, font, size, width - (vx - x))[:2] or [""]
    c.setFont(font, size)
    for line in lines:
        c.drawString(vx, y, line)
        y -= size * 1.4
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


def _page(c: Canvas, view: CertificateView, url: str, lang: str) -> None:
    w, h = landscape(A4)
    words = WORDS[lang]
    c.setStrokeColor(FRAME)
    c.setLineWidth(2.5)
    c.rect(10 * mm, 10 * mm, w - 20 * mm, h - 20 * mm)
    c.setLineWidth(0.7)
    c.rect(13 * mm, 13 * mm, w - 26 * mm, h - 26 * mm)

    lh = view.letterhead
    y = draw_header(c, lh, 20 * mm, w - 20 * mm, h - 24 * mm, lang=lang)
    y -= 12 * mm
    y = _centred(c, words["title"], y, BOLD, 30, w - 60 * mm)
    y -= 4 * mm

    left, width = 45 * mm, w - 90 * mm
    honorific = HONORIFIC[lang].get(view.sex, "")
    name = f"{honorific} {view.full_name}".strip()
    c.setFillColor(INK)
    c.setFont(ITALIC, 13)
    c.drawString(left, y, words["certify"])
    size = _fit(name, BOLD, 20, width - 45 * mm, 12)
    c.setFont(BOLD, size)
    c.drawString(left + pdfmetrics.stringWidth(words["certify"] + "  ", ITALIC, 13), y, name)
    y -= 9 * mm
    if view.birth_year:
        y = _labelled(c, words["born"], str(view.birth_year), left, y, width)
    details = ", ".join(in_sentence(x) for x in (view.position, view.unit) if x)
    if details:
        y = _labelled(c, words["position"], details, left, y, width)
    y = _labelled(c, words["session"], view.session_title, left, y, width, bold=True)
    if view.training_title:
        y = _labelled(c, words["training"], view.training_title, left, y, width)
    y = _labelled(c, words["when"], fmt_date(view.session_starts_at), left, y, width)
    if view.site_name:
        site = in_sentence(view.site_name)
        y = _labelled(c, words["where"], f"{words['site']} {site}", left, y, width)
    _labelled(c, words["result"], term("passed", lang), left, y, width, bold=True)

    # Bottom right: the place-date line and the signature block.
    sx, sw = w * 0.72, w * 0.40
    top = 62 * mm
    draw_place_date(c, place_date(lh.place_name, view.issued_at, lang), sx, top, sw)
    draw_signature(c, lh, sx, top - 16, sw)

    # Bottom left: the register number, the QR code and the verification code.
    qx, qy, qr_size = 22 * mm, 20 * mm, 28 * mm
    c.setFillColor(INK)
    c.setFont(REGULAR, 11)
    c.drawString(qx, qy + qr_size + 8 * mm, f"{words['register']}: {view.register}")
    draw_qr(c, url, qx, qy, qr_size)
    tx = qx + qr_size + 4 * mm
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 8.5)
    c.drawString(tx, qy + qr_size - 8, f"{words['code']}:")
    c.setFillColor(INK)
    c.setFont(BOLD, 11)
    c.drawString(tx, qy + qr_size - 22, format_code(view.code))
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 8)
    c.drawString(tx, qy + qr_size - 36, f"{words['check']}:")
    c.setFont(REGULAR, _fit(url, REGULAR, 8, sx - sw / 2 - tx - 4 * mm, 5))
    c.drawString(tx, qy + qr_size - 47, url)


def render(views: Sequence[CertificateView], url_for_code: Callable[[str], str],
           title: str = "Giấy chứng nhận", lang: str = "vi") -> bytes:
    """One page per certificate, in the given order."""
    register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=landscape(A4), pageCompression=1)
    c.setTitle(title)
    c.setAuthor(views[0].letterhead.issuing_agency if views else "trainer")
    c.setSubject("Certificate" if lang == "en" else "Giấy chứng nhận hoàn thành tập huấn")
    for view in views:
        _page(c, view, url_for_code(view.code), lang)
        c.showPage()
    c.save()
    return buffer.getvalue()
