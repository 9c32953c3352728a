"""`trainer demo`, materials part: two small PDF handouts in Vietnamese (built here with
reportlab), a staff-only plan, and a few links, attached to the demo training and its
sessions when the scheduling part made them (otherwise to nothing)."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select

from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.materials import services
from trainer.sessions.models import AgendaItem, SessionStatus, Training, TrainingSession
from trainer.text import fold

log = logging.getLogger(__name__)

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)

MANAGEMENT_HANDOUT = (
    "Sổ tay quản lý, điều hành Trung tâm học tập cộng đồng",
    [
        "Trung tâm học tập cộng đồng (TTHTCĐ) là nơi học tập suốt đời của người dân ở xã, "
        "phường, thị trấn, cho mọi lứa tuổi.",
        "1. Nhiệm vụ chính: tổ chức lớp xóa mù chữ và sau xóa mù chữ; phổ biến kiến thức, "
        "chuyển giao khoa học kỹ thuật, khuyến nông; sinh hoạt văn hóa, đọc sách và tư vấn; "
        "khảo sát nhu cầu học tập của người dân; quản lý tài chính và cơ sở vật chất.",
        "2. Bộ máy: Giám đốc là Phó Chủ tịch (hoặc Chủ tịch) Ủy ban nhân dân xã, làm việc "
        "kiêm nhiệm; các Phó Giám đốc từ Hội Khuyến học và lãnh đạo một trường học trên địa "
        "bàn; giáo viên được trưng tập từ các trường.",
        "3. Kế hoạch năm học: khảo sát nhu cầu, chọn chuyên đề, lập lịch lớp học, phân công "
        "người dạy, dự kiến kinh phí và nguồn huy động.",
        "4. Theo dõi và báo cáo: ghi số lớp, số lượt người học, tách biệt theo giới "
        "(nữ / nam) để báo cáo chỉ tiêu bình đẳng giới.",
        "5. Đánh giá, xếp loại hằng năm theo tiêu chí của tỉnh (tốt, khá, trung bình, "
        "chưa đạt).",
        "Số liệu tham khảo (Phú Thọ, 2017): 277 TTHTCĐ ở 277 xã; hơn 3.200 lớp, chuyên đề; "
        "hơn 300.000 lượt người học.",
    ],
)

GENDER_HANDOUT = (
    "Luật Bình đẳng giới: các khái niệm cơ bản",
    [
        "Luật Bình đẳng giới được Quốc hội thông qua năm 2006, có hiệu lực từ ngày "
        "01/7/2007.",
        "Giới: đặc điểm, vị trí, vai trò của nam và nữ trong tất cả các mối quan hệ xã hội; "
        "do học mà có và có thể thay đổi. Giới tính: các đặc điểm sinh học của nam, nữ.",
        "Bình đẳng giới: nam, nữ có vị trí, vai trò ngang nhau, được tạo điều kiện và cơ hội "
        "phát huy năng lực như nhau và được thụ hưởng như nhau về thành quả.",
        "Định kiến giới: nhận thức, thái độ và đánh giá thiên lệch, tiêu cực về đặc điểm, vị "
        "trí, vai trò và năng lực của nam hoặc nữ.",
        "Phân biệt đối xử về giới: việc hạn chế, loại trừ, không công nhận hoặc không coi "
        "trọng vai trò, vị trí của nam và nữ, gây bất bình đẳng.",
        "Biện pháp thúc đẩy bình đẳng giới: có thời hạn, chấm dứt khi mục đích đã đạt được; "
        "không bị coi là phân biệt đối xử.",
        "Lồng ghép vấn đề bình đẳng giới: xác định vấn đề giới, dự báo tác động đối với nữ "
        "và nam, xác định trách nhiệm và nguồn lực để giải quyết.",
        "Tám lĩnh vực: chính trị; kinh tế; lao động; giáo dục và đào tạo; khoa học và công "
        "nghệ; văn hóa, thông tin, thể dục, thể thao; y tế; gia đình.",
    ],
)

PLAN = (
    "Kế hoạch tổ chức hội nghị tập huấn trực tuyến (nội bộ)",
    [
        "Các điểm cầu kết nối và thử hình, tiếng trước giờ khai mạc 30 đến 60 phút; báo cáo "
        "sẵn sàng cho điểm cầu chính.",
        "Điểm cầu chính gọi lần lượt từng điểm cầu; mỗi điểm cầu báo người chủ trì và số "
        "người dự.",
        "Điểm danh từng học viên tại điểm cầu bằng mã học viên; khi mất mạng, tiếp tục điểm "
        "danh và gửi lại khi có mạng.",
        "Cuối buổi: làm bài kiểm tra ngắn; tổng hợp số liệu theo điểm cầu và theo giới.",
    ],
)

LINKS = (
    ("https://vbpl.vn/", "Cơ sở dữ liệu quốc gia về văn bản pháp luật (tra cứu Luật Bình "
                         "đẳng giới 2006)", "gender"),
    ("https://moet.gov.vn/", "Cổng thông tin điện tử Bộ Giáo dục và Đào tạo", "management"),
)


def _font() -> tuple[str, bool]:
    """A font with Vietnamese glyphs if one is installed; else Helvetica and ASCII text."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path in FONT_PATHS:
        if path.is_file():
            try:
                pdfmetrics.registerFont(TTFont("DejaVuSans", str(path)))
            except Exception:  # noqa: BLE001 - a broken font file: fall back to ASCII
                log.warning("font %s could not be loaded", path)
                continue
            return "DejaVuSans", True
    return "Helvetica", False


def build_pdf(title: str, paragraphs: list[str]) -> bytes:
    """A small A4 handout; byte-identical on every run (reportlab's invariant mode)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font, unicode_ok = _font()

    def text(s: str) -> str:
        s = s if unicode_ok else fold(s)
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=20 * mm, bottomMargin=20 * mm, title=text(title),
                            author="Sở Giáo dục và Đào tạo" if unicode_ok else "So GD&DT",
                            invariant=1)
    heading = ParagraphStyle("h", fontName=font, fontSize=16, leading=21, spaceAfter=8)
    body = ParagraphStyle("b", fontName=font, fontSize=11, leading=16, spaceAfter=6)
    story: list[Any] = [Paragraph(text(title), heading), Spacer(1, 4 * mm)]
    story += [Paragraph(text(p), body) for p in paragraphs]
    doc.build(story)
    return buf.getvalue()


def _targets() -> tuple[Training | None, TrainingSession | None, TrainingSession | None]:
    training = db.session.scalar(select(Training).order_by(Training.id))
    sessions = list(db.session.scalars(select(TrainingSession).order_by(
        TrainingSession.starts_at)))
    live = next((s for s in sessions if s.status == SessionStatus.LIVE), None)
    if live is None and sessions:
        now = utcnow()
        live = min(sessions, key=lambda s: abs((s.starts_at - now).total_seconds()))
    past = next((s for s in sessions if s.status == SessionStatus.ENDED), None)
    return training, live, past


def _gender_item(session: TrainingSession | None) -> AgendaItem | None:
    if session is None:
        return None
    return db.session.scalar(select(AgendaItem).where(
        AgendaItem.session_id == session.id,
        AgendaItem.title.like("%Bình đẳng giới%")).order_by(AgendaItem.position))


def load(ctx: Any) -> None:
    organiser = getattr(ctx, "users", {}).get("organiser")
    db.session.flush()
    training, live, past = _targets()
    on_training = {"training_id": training.id} if training else {}
    on_live = {"session_id": live.id} if live else {}
    item = _gender_item(live)
    on_item = {"agenda_item_id": item.id} if item else on_live

    made = 0
    for (title, paragraphs), topic, attach, visibility in (
        (MANAGEMENT_HANDOUT, "management", on_training, "shared"),
        (GENDER_HANDOUT, "gender", on_item, "shared"),
        (PLAN, "management", on_live, "staff"),
    ):
        data = build_pdf(title, paragraphs)
        services.create_file(
            organiser, io.BytesIO(data), title.replace(":", " -") + ".pdf",
            {"title": title, "topic": topic, "visibility": visibility, "language": "vi",
             **attach}, commit=False)
        made += 1
    for url, title, topic in LINKS:
        services.create_link(organiser, url, {"title": title, "topic": topic,
                                              "visibility": "shared", **on_training},
                             commit=False)
        made += 1
    if past is not None:
        services.create_link(organiser, "https://vietnam.unwomen.org/vi", {
            "title": "UN Women Việt Nam: tài liệu về bình đẳng giới", "topic": "gender",
            "visibility": "shared", "session_id": past.id}, commit=False)
        made += 1
    notes = getattr(ctx, "notes", None)
    if isinstance(notes, list):
        where = f" (trainees: /s/{live.id}/materials)" if live else ""
        notes.append(f"Materials: {made} (PDF handouts and links){where}.")
