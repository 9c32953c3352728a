"""Documents as the department files them (Nghị định 30/2020/NĐ-CP): certificates and report
PDFs read back as text (pypdf), each required element checked; the register number per
year; the settings an admin edits (per training) and the images they upload."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from trainer.extensions import db
from trainer.reports.models import Certificate, DocumentSettings

DEFAULTS = {
    "parent_agency": "UBND tỉnh Phú Thọ",
    "issuing_agency": "Sở Giáo dục và Đào tạo",
    "place_name": "Phú Thọ",
    "signer_authority": "KT. GIÁM ĐỐC",
    "signer_title": "PHÓ GIÁM ĐỐC",
    "signer_name": "Nguyễn Văn Khoa",
}


def png(colour: str = "#1f3b99", size: tuple[int, int] = (300, 120)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, format="PNG")
    return out.getvalue()


def pdf_text(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def pdf_images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def documents(world: Any, client: Any, login: Any) -> dict[str, str]:
    """The default settings saved through the admin page, with a signature and a seal."""
    login(world.admin)
    response = client.post("/reports/documents", data={
        **DEFAULTS,
        "signature": (io.BytesIO(png()), "chu-ky.png"),
        "seal": (io.BytesIO(png("#c0392b", (200, 200))), "con-dau.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.data[:500]
    return DEFAULTS


def flat(text: str) -> str:
    return " ".join(text.split())


def test_certificate_has_every_element(world: Any, documents: Any, client: Any,
                                       login: Any) -> None:
    login(world.organiser)
    data = client.get(f"/certificates/{world.s1.id}/{world.p1.id}.pdf").data
    (text,) = pdf_text(data)
    lines = [line.strip() for line in text.splitlines()]
    # The header: parent agency above the issuing agency; national title and motto.
    assert lines.index("UBND TỈNH PHÚ THỌ") < lines.index("SỞ GIÁO DỤC VÀ ĐÀO TẠO")
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in lines
    assert "Độc lập - Tự do - Hạnh phúc" in lines
    assert "GIẤY CHỨNG NHẬN" in lines
    body = flat(text)
    # The person, with the year of birth; the unit's administrative word lower-case.
    assert "Bà Nguyễn Thị An" in body
    assert "Năm sinh: 1980" in body
    assert "Chức vụ, đơn vị: Phó Giám đốc, phường Gia Cẩm" in body
    assert "Đã hoàn thành buổi tập huấn: Quản lý Trung tâm học tập cộng đồng" in body
    assert "Thuộc chương trình: Tập huấn 2024" in body
    assert "Thời gian: 05/03/2024" in body
    assert "Địa điểm: điểm cầu thành phố Việt Trì" in body
    # The result is "Đạt", never a percentage.
    assert "Kết quả: Đạt" in body
    assert "%" not in body
    # The place-date line of the day of issue, and the signature block.
    cert = db.session.scalar(select(Certificate))
    issued = cert.issued_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    month = f"{issued.month:02d}" if issued.month <= 2 else str(issued.month)
    assert f"Phú Thọ, ngày {issued.day:02d} tháng {month} năm {issued.year}" in body
    assert lines.index("KT. GIÁM ĐỐC") < lines.index("PHÓ GIÁM ĐỐC") \
        < lines.index("Nguyễn Văn Khoa")
    assert pdf_images(data) == 2  # the signature and the seal
    # The register number of the year, and no English on a Vietnamese certificate.
    assert f"Số vào sổ: 1/{issued.year}" in body
    assert cert.register_number == 1 and cert.register_year == issued.year
    for english in ("Certificate", "CERTIFICATE", "Issued", "Verification", "has attended"):
        assert english not in body


def test_english_certificate_only_when_asked(world: Any, documents: Any, client: Any,
                                             login: Any) -> None:
    login(world.organiser)
    listing = client.get(f"/reports/sessions/{world.s1.id}/certificates?site_id={world.vt.id}"
                         ).get_data(as_text=True)
    assert f"/certificates/{world.s1.id}/{world.p1.id}.pdf?language=en" in listing
    (text,) = pdf_text(client.get(
        f"/certificates/{world.s1.id}/{world.p1.id}.pdf?language=en").data)
    body = flat(text)
    assert "SOCIALIST REPUBLIC OF VIET NAM" in body
    assert "Independence - Freedom - Happiness" in body
    assert "CERTIFICATE" in body and "Ms Nguyễn Thị An" in body
    assert "Result: Passed" in body
    assert "GIẤY CHỨNG NHẬN" not in body


def test_register_numbers_count_per_year(world: Any, documents: Any, client: Any,
                                         login: Any) -> None:
    login(world.organiser)
    pages = pdf_text(client.get(
        f"/sessions/{world.s1.id}/certificates.pdf?site_id={world.ck.id}").data)
    single = pdf_text(client.get(f"/certificates/{world.s1.id}/{world.p1.id}.pdf").data)[0]
    certs = list(db.session.scalars(select(Certificate).order_by(Certificate.register_number)))
    year = certs[0].register_year
    assert [c.register_number for c in certs] == [1, 2, 3]
    assert {c.register_year for c in certs} == {year}
    shown = [re.search(r"Số vào sổ: (\d+/\d{4})", flat(p)).group(1) for p in [*pages, single]]
    assert shown == [f"1/{year}", f"2/{year}", f"3/{year}"]
    # Asking again keeps the numbers; a certificate of an earlier year does not count.
    again = pdf_text(client.get(f"/certificates/{world.s1.id}/{world.p1.id}.pdf").data)[0]
    assert f"Số vào sổ: 3/{year}" in flat(again)
    code = certs[2].code
    verify = client.get(f"/verify/{code}").get_data(as_text=True)
    assert f'data-testid="register">3/{year}<' in verify
    listing = client.get(f"/reports/sessions/{world.s1.id}/certificates?site_id={world.ck.id}"
                         ).get_data(as_text=True)
    assert re.findall(r'data-k="register">([^<]*)<', listing) == [f"1/{year}", f"2/{year}"]
    certs[0].register_year = year - 1
    db.session.commit()
    from trainer.reports.issuing import _next_numbers

    assert _next_numbers(year, 2) == [4, 5]
    assert _next_numbers(year - 1, 1) == [2]


def test_place_date_line() -> None:
    from trainer.reports.documents import place_date

    assert place_date("Phú Thọ", date(2026, 12, 7)) == "Phú Thọ, ngày 07 tháng 12 năm 2026"
    assert place_date("Phú Thọ", date(2026, 2, 15)) == "Phú Thọ, ngày 15 tháng 02 năm 2026"
    assert place_date("Phú Thọ", date(2026, 3, 9)) == "Phú Thọ, ngày 09 tháng 3 năm 2026"
    assert place_date("", date(2026, 1, 1)) == "Ngày 01 tháng 01 năm 2026"


def test_session_report_pdf(world: Any, documents: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/sessions/{world.s1.id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(pdf_text(response.data))
    lines = [line.strip() for line in text.splitlines()]
    body = flat(text)
    assert lines.index("UBND TỈNH PHÚ THỌ") < lines.index("SỞ GIÁO DỤC VÀ ĐÀO TẠO")
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in lines
    assert "Độc lập - Tự do - Hạnh phúc" in lines
    assert re.search(r"Phú Thọ, ngày \d\d tháng \d{1,2} năm \d{4}", body)
    assert "BÁO CÁO" in lines
    assert "Kết quả buổi tập huấn: Quản lý Trung tâm học tập cộng đồng" in body
    # The body: per site, by sex; the totals.
    assert "Thành phố Việt Trì" in body and "Huyện Cẩm Khê" in body
    # Site, registered, present women / men / not recorded / all, attendance, share of
    # women, submitted women / men, passed women / men / all: Vietnamese numbers, "71,4%".
    assert "Huyện Cẩm Khê 4 1 1 1 3 75,0% 33,3% 1 0 1 0 2" in body
    assert "Tổng cộng 7 2 2 1 5 71,4% 40,0% 2 1 2 0 3" in body
    assert "có mặt 5 (nữ 2, nam 2, chưa rõ 1)" in body
    assert lines.index("KT. GIÁM ĐỐC") < lines.index("PHÓ GIÁM ĐỐC") \
        < lines.index("Nguyễn Văn Khoa")
    assert pdf_images(response.data) == 2
    for english in ("Registered", "Present", "Total", "Session report"):
        assert english not in body


def test_training_report_pdf(world: Any, documents: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/reports/trainings/{world.training.id}/report.pdf")
    assert response.status_code == 200
    body = flat("\n".join(pdf_text(response.data)))
    for expected in ("UBND TỈNH PHÚ THỌ", "SỞ GIÁO DỤC VÀ ĐÀO TẠO", "BÁO CÁO",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Tổng hợp kết quả tập huấn: Tập huấn 2024", "KT. GIÁM ĐỐC",
                     "Nguyễn Văn Khoa", "Lồng ghép giới", "xã, phường, thị trấn"):
        assert expected in body, expected
    year = client.get("/reports/years/2024/report.pdf")
    assert year.status_code == 200 and "Năm 2024" in flat(pdf_text(year.data)[0])


def test_xlsx_title_sheet(world: Any, documents: Any, client: Any, login: Any) -> None:
    from openpyxl import load_workbook

    login(world.organiser)
    wb = load_workbook(io.BytesIO(client.get(f"/sessions/{world.s1.id}/report.xlsx").data))
    assert wb.sheetnames[0] == "Trang đầu" and "Theo điểm cầu" in wb.sheetnames
    cells = [str(c.value) for row in wb["Trang đầu"].iter_rows() for c in row if c.value]
    for expected in ("UBND TỈNH PHÚ THỌ", "SỞ GIÁO DỤC VÀ ĐÀO TẠO",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "BÁO CÁO", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn Khoa"):
        assert expected in cells, expected
    assert any(re.fullmatch(r"Phú Thọ, ngày \d\d tháng \d{1,2} năm \d{4}", c) for c in cells)
    summary = load_workbook(io.BytesIO(
        client.get(f"/reports/trainings/{world.training.id}/report.xlsx").data))
    assert summary.sheetnames[0] == "Trang đầu"


def test_settings_per_training_override_the_default(world: Any, documents: Any, client: Any,
                                                    login: Any) -> None:
    login(world.admin)
    response = client.post(f"/reports/documents?training_id={world.training.id}", data={
        "issuing_agency": "Hội Liên hiệp Phụ nữ tỉnh", "parent_agency": "",
        "place_name": "", "signer_authority": "TM. BAN THƯỜNG VỤ",
        "signer_title": "CHỦ TỊCH", "signer_name": "Hà Thị Mai"})
    assert response.status_code == 302
    from trainer.reports.settings import letterhead

    lh = letterhead(world.training)
    assert (lh.issuing_agency, lh.signer_name, lh.signer_authority) == \
        ("Hội Liên hiệp Phụ nữ tỉnh", "Hà Thị Mai", "TM. BAN THƯỜNG VỤ")
    assert (lh.parent_agency, lh.place_name) == ("UBND tỉnh Phú Thọ", "Phú Thọ")
    assert lh.signature_png is not None  # the default's images, not overridden
    assert letterhead(None).signer_name == "Nguyễn Văn Khoa"
    page = client.get(f"/reports/documents?training_id={world.training.id}",
                      headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert 'value="Hà Thị Mai"' in page and "Tập huấn 2024" in page
    assert 'data-testid="signature-image"' not in page  # this training has none of its own
    default = client.get("/reports/documents").get_data(as_text=True)
    assert 'value="Nguyễn Văn Khoa"' in default and 'data-testid="seal-image"' in default
    image = client.get("/reports/documents/seal.png")
    assert image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    assert client.get("/reports/documents/other.png").status_code == 404
    assert client.post("/reports/documents", data={**DEFAULTS, "remove_signature": "1"}
                       ).status_code == 302
    assert letterhead(None).signature_png is None and letterhead(None).seal_png is not None
    login(world.organiser)
    (text,) = pdf_text(client.get(f"/certificates/{world.s1.id}/{world.p1.id}.pdf").data)
    assert "HỘI LIÊN HIỆP PHỤ NỮ TỈNH" in text and "Hà Thị Mai" in text


@pytest.mark.parametrize("upload, message", [
    (b"not an image at all", "Không phải ảnh PNG, JPEG hoặc WebP."),
    (b"GIF89a" + b"\x00" * 64, "Không phải ảnh PNG, JPEG hoặc WebP."),
])
def test_bad_images_are_refused_and_nothing_is_lost(world: Any, documents: Any, client: Any,
                                                    login: Any, upload: bytes,
                                                    message: str) -> None:
    login(world.admin)
    before = db.session.scalar(select(DocumentSettings)).signature_png
    response = client.post("/reports/documents", data={
        **DEFAULTS, "signer_name": "Người Khác", "signature": (io.BytesIO(upload), "x.png"),
    }, content_type="multipart/form-data", headers={"Accept-Language": "vi"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert "Người Khác" in response.get_data(as_text=True)  # the form keeps what was typed
    db.session.expire_all()
    row = db.session.scalar(select(DocumentSettings))
    assert row.signer_name == "Nguyễn Văn Khoa" and row.signature_png == before


def test_image_limits(app: Any) -> None:
    from trainer.errors import Invalid
    from trainer.reports.settings import check_image

    with app.test_request_context(headers={"Accept-Language": "vi"}):
        with pytest.raises(Invalid) as big:
            check_image(b"\x89PNG" + b"\x00" * (3 * 1024 * 1024), "seal")
        assert big.value.errors == {"seal": ["Ảnh lớn hơn 2 MB."]}
        with pytest.raises(Invalid) as huge:
            check_image(png(size=(5000, 20)), "seal")
        assert "4000" in str(huge.value.errors["seal"][0])
        # A JPEG is accepted and stored as a PNG no larger than 1,200 pixels a side.
        from PIL import Image

        jpeg = io.BytesIO()
        Image.new("RGB", (2400, 800), "#222222").save(jpeg, format="JPEG")
        stored = check_image(jpeg.getvalue(), "signature")
        with Image.open(io.BytesIO(stored)) as image:
            assert image.format == "PNG" and image.size == (1200, 400)


def test_only_admins_edit_the_settings(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    assert client.get("/reports/documents").status_code == 403
    assert client.post("/reports/documents", data=DEFAULTS).status_code == 403
    assert db.session.scalar(select(DocumentSettings)) is None
    assert "documents-link" not in client.get("/reports").get_data(as_text=True)
    login(world.admin)
    assert "documents-link" in client.get("/reports").get_data(as_text=True)
    page = client.get("/reports/documents", headers={"Accept-Language": "vi"})
    assert page.status_code == 200
    assert "Cơ quan ban hành" in page.get_data(as_text=True)


def test_printed_pages_carry_the_header_and_the_signature(world: Any, documents: Any,
                                                          client: Any, login: Any) -> None:
    """The report pages print as the department's documents (shown only on paper)."""
    login(world.organiser)
    for path, title in ((f"/reports/sessions/{world.s1.id}",
                         "Kết quả buổi tập huấn: Quản lý Trung tâm học tập cộng đồng"),
                        (f"/reports/trainings/{world.training.id}",
                         "Tổng hợp kết quả tập huấn: Tập huấn 2024")):
        html = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        head = html[html.index('data-testid="doc-header"'):]
        text = flat(re.sub(r"<[^>]+>", " ", head))
        for expected in ("UBND TỈNH PHÚ THỌ", "SỞ GIÁO DỤC VÀ ĐÀO TẠO",
                         "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                         "BÁO CÁO", title):
            assert expected in text, (path, expected)
        assert re.search(r"Phú Thọ, ngày \d\d tháng \d{1,2} năm \d{4}", text)
        sign = flat(re.sub(r"<[^>]+>", " ", html[html.index('data-testid="doc-signature"'):]))
        assert "> KT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Nguyễn Văn Khoa" in sign, sign[:80]


def test_demo_sets_who_issues_and_signs(app: Any) -> None:
    from trainer.reports.demo import documents
    from trainer.reports.settings import letterhead

    documents()
    lh = letterhead(None)
    assert (lh.parent_agency, lh.issuing_agency, lh.place_name, lh.signer_authority) == \
        ("UBND tỉnh Phú Thọ", "Sở Giáo dục và Đào tạo", "Phú Thọ", "KT. GIÁM ĐỐC")
    db.session.scalar(select(DocumentSettings)).signer_name = "Người Đã Sửa"
    db.session.commit()
    documents()  # an admin's settings are never overwritten
    assert letterhead(None).signer_name == "Người Đã Sửa"


@pytest.mark.parametrize("name", ["<b>Điểm</b> & <i>cầu", "Tên <para>lạ</para>", "a < b > c"])
def test_names_with_markup_print_as_text(app: Any, make_site: Any, make_user: Any,
                                         make_session: Any, make_participant: Any,
                                         register: Any, client: Any, login: Any,
                                         name: str) -> None:
    from trainer.sessions.models import Checkin, Training

    host = make_site(code="H1", name=name, kind="host")
    person = make_participant(host, "Nguyễn Thị Hoa", "female")
    training = Training(title=name, year=2026)
    db.session.add(training)
    db.session.commit()
    session = make_session([host], title=name, training_id=training.id)
    register(session, [person])
    db.session.add(Checkin(session_id=session.id, participant_id=person.id, site_id=host.id,
                           at=session.starts_at))
    db.session.commit()
    login(make_user("organiser"))
    for path in (f"/sessions/{session.id}/report.pdf",
                 f"/reports/trainings/{training.id}/report.pdf"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert name in flat("\n".join(pdf_text(response.data))), path
