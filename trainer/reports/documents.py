"""The parts every document the department issues shares, after Nghị định 30/2020/NĐ-CP:

- the header: on the left the parent agency in capitals over the issuing agency in bold
  capitals (a short rule under it, then the document's number when it has one); on the right
  the national title in bold capitals over the motto in bold, a rule under it;
- the place-date line in italics: "Phú Thọ, ngày 07 tháng 12 năm 2026" (a day below 10 and
  the months 1 and 2 take a leading zero);
- the signature block: the authority words ("KT. GIÁM ĐỐC") and the signer's title
  ("PHÓ GIÁM ĐỐC") in bold capitals, the signature and the seal, the signer's name in bold.

Drawn on a reportlab canvas (certificates) or as flowables (reports). Everything is in
Vietnamese; English only for a document asked for in English. The fonts are DejaVu Serif,
vendored in trainer/reports/fonts (Vietnamese glyphs; licence beside them).
"""

from __future__ import annotations

import io
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reportlab.lib.colors import HexColor
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from trainer.i18n import to_local
from trainer.reports.settings import Letterhead

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SYSTEM_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD, ITALIC = "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic"
INK = HexColor("#111111")

NATIONAL_TITLE = {"vi": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                  "en": "SOCIALIST REPUBLIC OF VIET NAM"}
MOTTO = {"vi": "Độc lập - Tự do - Hạnh phúc", "en": "Independence - Freedom - Happiness"}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")

_fonts_lock = threading.Lock()
_fonts_ready = False


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
        for name in (REGULAR, BOLD, ITALIC):
            pdfmetrics.registerFont(TTFont(name, str(_font_file(name))))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC,
                                      boldItalic=BOLD)
        _fonts_ready = True


def date_words(when: datetime | date, lang: str = "vi") -> str:
    """"ngày 07 tháng 12 năm 2026" ("ngày 15 tháng 3 năm 2026", "tháng 02"), or
    "7 December 2026"."""
    day = to_local(when).date() if isinstance(when, datetime) else when
    if lang == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def place_date(place: str, when: datetime | date, lang: str = "vi") -> str:
    """The place-date line: "Phú Thọ, ngày 07 tháng 12 năm 2026"."""
    words = date_words(when, lang)
    if not place:
        return words[:1].upper() + words[1:]
    return f"{place}, {words}"


def upper(text: str) -> str:
    return text.upper() if text else ""


# --------------------------------------------------------------------------- canvas

def _line(c: Canvas, text: str, x: float, y: float, font: str, size: float,
          width: float) -> None:
    """`text` centred on x, shrunk until it fits `width`."""
    while size > 6 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.25
    c.setFont(font, size)
    c.drawCentredString(x, y, text)


def _rule(c: Canvas, text: str, x: float, y: float, font: str, size: float,
          share: float = 1.0) -> None:
    """A thin rule under a line of text, `share` of its width, centred on x."""
    half = min(pdfmetrics.stringWidth(text, font, size), 90 * mm) * share / 2
    c.setLineWidth(0.6)
    c.line(x - half, y, x + half, y)


def draw_header(c: Canvas, lh: Letterhead, left: float, right: float, top: float,
                number: str | None = None, lang: str = "vi") -> float:
    """The two header columns between `left` and `right`, from `top` down; returns the y
    under them."""
    width = right - left
    lx, rx = left + width * 0.21, left + width * 0.70
    col_l, col_r = width * 0.40, width * 0.58
    c.setFillColor(INK)
    c.setStrokeColor(INK)
    y = top
    ly = y
    if lh.parent_agency:
        _line(c, upper(lh.parent_agency), lx, ly, REGULAR, 11.5, col_l)
        ly -= 14
    issuer = upper(lh.issuing_agency)
    if issuer:
        _line(c, issuer, lx, ly, BOLD, 11.5, col_l)
        _rule(c, issuer, lx, ly - 4, BOLD, 11.5, 0.4)
        ly -= 18
    if number:
        _line(c, number, lx, ly, REGULAR, 11, col_l)
        ly -= 14
    title, motto = NATIONAL_TITLE[lang], MOTTO[lang]
    _line(c, title, rx, y, BOLD, 11.5, col_r)
    _line(c, motto, rx, y - 15, BOLD, 12.5, col_r)
    _rule(c, motto, rx, y - 19, BOLD, 12.5)
    return min(ly, y - 34)


def draw_place_date(c: Canvas, text: str, x: float, y: float, width: float) -> None:
    _line(c, text, x, y, ITALIC, 12, width)


def _image(c: Canvas, png: bytes, x: float, y: float, w: float, h: float) -> None:
    """The image fitted into the box (x, y, w, h), centred, proportions kept."""
    reader = ImageReader(io.BytesIO(png))
    iw, ih = reader.getSize()
    scale = min(w / iw, h / ih)
    dw, dh = iw * scale, ih * scale
    c.drawImage(reader, x + (w - dw) / 2, y + (h - dh) / 2, dw, dh, mask="auto")


def draw_signature(c: Canvas, lh: Letterhead, x: float, top: float, width: float) -> float:
    """The signature block centred on x from `top` down; returns the y under the name."""
    c.setFillColor(INK)
    y = top
    for words in (lh.signer_authority, lh.signer_title):
        if words:
            _line(c, upper(words), x, y, BOLD, 12, width)
            y -= 15
    space = 30 * mm
    box_top = y - 2
    if lh.seal_png:
        _image(c, lh.seal_png, x - 32 * mm, box_top - space, space, space)
    if lh.signature_png:
        _image(c, lh.signature_png, x - 22 * mm, box_top - space + 3 * mm, 44 * mm,
               space - 6 * mm)
    y = box_top - space - 10
    if lh.signer_name:
        _line(c, lh.signer_name, x, y, BOLD, 12.5, width)
        y -= 15
    return y


# --------------------------------------------------------------------------- flowables

def styles() -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    register_fonts()
    base = ParagraphStyle("base", fontName=REGULAR, fontSize=10.5, leading=13.5, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=10.5),
        "centre": ParagraphStyle("centre", parent=base, alignment=TA_CENTER),
        "centre_bold": ParagraphStyle("centre_bold", parent=base, alignment=TA_CENTER,
                                      fontName=BOLD),
        "title": ParagraphStyle("title", parent=base, alignment=TA_CENTER, fontName=BOLD,
                                fontSize=14, leading=18, spaceBefore=6),
        "subtitle": ParagraphStyle("subtitle", parent=base, alignment=TA_CENTER,
                                   fontName=BOLD, fontSize=11.5, leading=15),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=11.5, leading=15,
                             spaceBefore=8, spaceAfter=4),
        "place_date": ParagraphStyle("place_date", parent=base, alignment=TA_RIGHT,
                                     fontName=ITALIC, fontSize=11),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5,
                               alignment=TA_LEFT),
        "cell_num": ParagraphStyle("cell_num", parent=base, fontSize=8.5, leading=10.5,
                                   alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=8.5, leading=10.5,
                               alignment=TA_CENTER),
    }


def esc(text: str) -> str:
    """Text for a platypus Paragraph (which reads markup): <, > and & escaped."""
    from xml.sax.saxutils import escape

    return escape(text or "")


def header_flowables(lh: Letterhead, width: float, lang: str = "vi",
                     number: str | None = None) -> list[Any]:
    """The header as a two-column table (agency | national title), no borders."""
    from reportlab.platypus import Paragraph, Table, TableStyle

    st = styles()
    left = []
    if lh.parent_agency:
        left.append(Paragraph(esc(upper(lh.parent_agency)), st["centre"]))
    if lh.issuing_agency:
        left.append(Paragraph(f"<u>{esc(upper(lh.issuing_agency))}</u>", st["centre_bold"]))
    if number:
        left.append(Paragraph(esc(number), st["centre"]))
    right = [Paragraph(esc(NATIONAL_TITLE[lang]), st["centre_bold"]),
             Paragraph(f"<u>{esc(MOTTO[lang])}</u>", st["centre_bold"])]
    table = Table([[left, right]], colWidths=[width * 0.42, width * 0.58])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return [table]


def place_date_flowable(lh: Letterhead, when: datetime, lang: str = "vi") -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(esc(place_date(lh.place_name, when, lang)), styles()["place_date"])


def signature_flowables(lh: Letterhead, width: float) -> list[Any]:
    """The signature block in the right half of the page."""
    from reportlab.platypus import Image, Paragraph, Spacer, Table, TableStyle

    st = styles()
    block: list[Any] = []
    for words in (lh.signer_authority, lh.signer_title):
        if words:
            block.append(Paragraph(esc(upper(words)), st["centre_bold"]))
    images = [png for png in (lh.signature_png, lh.seal_png) if png]
    if images:
        cells = []
        for png in images:
            reader = ImageReader(io.BytesIO(png))
            iw, ih = reader.getSize()
            scale = min(40 * mm / iw, 26 * mm / ih)
            cells.append(Image(io.BytesIO(png), iw * scale, ih * scale))
        block.append(Table([cells]))
    else:
        block.append(Spacer(1, 24 * mm))
    if lh.signer_name:
        block.append(Paragraph(esc(lh.signer_name), st["centre_bold"]))
    table = Table([["", block]], colWidths=[width * 0.45, width * 0.55])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [table]
