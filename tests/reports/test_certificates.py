"""Certificates: PDFs opened with pypdf, codes stored once, refusals saying why, the public
verification page showing only what it should, forged codes, permissions."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.reports.models import Certificate

CODE_RE = re.compile(r"\b([ACDEFHJKMNPQRTUVWXY3479]{4}(?:-[ACDEFHJKMNPQRTUVWXY3479]{4}){3})\b")


def pdf_pages(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def stored(session: Any, participant: Any) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(
        Certificate.session_id == session.id, Certificate.participant_id == participant.id))


def test_one_certificate(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/certificates/{world.s1.id}/{world.p1.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    (text,) = pdf_pages(response.data)
    for expected in ("GIẤY CHỨNG NHẬN", "Chứng nhận:", "Bà Nguyễn Thị An",
                     "Quản lý Trung tâm học tập cộng đồng", "Tập huấn 2024", "05/03/2024",
                     "điểm cầu thành phố Việt Trì", "Đạt", "SỞ GIÁO DỤC VÀ ĐÀO TẠO"):
        assert expected in text, expected
    assert "%" not in text  # "Đạt", not the score
    cert = stored(world.s1, world.p1)
    assert cert is not None and cert.quiz_id == world.main.id and cert.percent == 100.0
    shown = CODE_RE.findall(text)
    assert shown and shown[0].replace("-", "") == cert.code
    assert f"/verify/{shown[0]}" in text  # the address the QR code opens
    # Asking again gives the same certificate, not a second one.
    again = pdf_pages(client.get(f"/certificates/{world.s1.id}/{world.p1.id}.pdf").data)[0]
    assert CODE_RE.findall(again)[0] == shown[0]
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_codes_are_random_and_unique(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    for p in (world.p4, world.p6, world.p1):
        assert client.get(f"/certificates/{world.s1.id}/{p.id}.pdf").status_code == 200
    codes = [c.code for c in db.session.scalars(select(Certificate))]
    assert len(codes) == len(set(codes)) == 3
    assert all(len(c) == 16 and set(c) <= set("ACDEFHJKMNPQRTUVWXY3479") for c in codes)
    ids = {str(x) for x in (world.p1.id, world.p4.id, world.p6.id, world.s1.id)}
    assert not any(c in ids for c in codes)


def test_one_pdf_per_site(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/sessions/{world.s1.id}/certificates.pdf?site_id={world.ck.id}")
    assert response.status_code == 200
    pages = pdf_pages(response.data)
    # CK: p4 (80 %) and p6 (70 %) passed; p5 never submitted. Vietnamese name order: by given
    # name, Dung before Giang.
    assert len(pages) == 2
    assert "Bà Phạm Thị Dung" in pages[0]
    assert "Ông/Bà Đỗ Minh Giang" in pages[1]
    assert "Hoàng Văn Em" not in "".join(pages)
    codes = [CODE_RE.findall(p)[0].replace("-", "") for p in pages]
    assert codes == [stored(world.s1, world.p4).code, stored(world.s1, world.p6).code]
    # The single certificate later carries the same code.
    single = pdf_pages(client.get(f"/certificates/{world.s1.id}/{world.p4.id}.pdf").data)[0]
    assert CODE_RE.findall(single)[0].replace("-", "") == codes[0]


@pytest.mark.parametrize("who, reason, words", [
    ("p2", "not_passed", ["Trần Văn Bình", "did not pass", "40", "60"]),
    ("p5", "not_submitted", ["Hoàng Văn Em", "did not submit"]),
    ("p3", "not_present", ["Lê Thị Cúc", "was not checked in"]),
    ("p9", "not_present", ["Bùi Thị Lan"]),  # not even registered for s1
])
def test_refused_saying_why(world: Any, api_as: Any, client: Any, login: Any, who: str,
                            reason: str, words: list[str]) -> None:
    person = getattr(world, who)
    response = client.get(f"/certificates/{world.s1.id}/{person.id}.pdf",
                          headers={"Authorization": f"Bearer {api_as(world.organiser).token}",
                                   "Accept": "application/json", "Accept-Language": "en"})
    assert response.status_code == 409
    body = response.get_json()
    assert body["reason"] == reason
    for word in words:
        assert word in body["detail"]
    assert stored(world.s1, person) is None  # nothing issued
    login(world.organiser)
    page = client.get(f"/certificates/{world.s1.id}/{person.id}.pdf?lang=en")
    assert page.status_code == 409 and page.mimetype == "text/html"
    assert words[0] in page.get_data(as_text=True)


def test_no_quiz_no_certificate(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/certificates/{world.s2.id}/{world.p1.id}.pdf?lang=en")
    assert response.status_code == 409
    assert "no quiz" in response.get_data(as_text=True)
    site = client.get(f"/sessions/{world.s2.id}/certificates.pdf?site_id={world.vt.id}")
    assert site.status_code == 409
    assert client.get(f"/sessions/{world.s1.id}/certificates.pdf?site_id={world.yl.id}"
                      ).status_code == 404  # nobody passed there
    assert client.get(f"/sessions/{world.s1.id}/certificates.pdf").status_code == 422


def test_verification_page_shows_only_what_it_should(world: Any, client: Any,
                                                     login: Any) -> None:
    login(world.organiser)
    text = pdf_pages(client.get(f"/certificates/{world.s1.id}/{world.p1.id}.pdf").data)[0]
    code = CODE_RE.findall(text)[0]
    client.post("/logout")
    response = client.get(f"/verify/{code}?lang=en")  # anyone, no account
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for shown in ("Nguyễn Thị An", "Quản lý Trung tâm học tập cộng đồng", "Tập huấn 2024",
                  "05/03/2024", "genuine"):
        assert shown in html, shown
    p1 = world.p1
    for hidden in (p1.code, p1.phone, str(p1.birth_year), "Gia Cẩm", "Phó Giám đốc",
                   "Thành phố Việt Trì", code, code.replace("-", ""), "100"):
        assert hidden not in html, hidden
    assert response.headers["X-Robots-Tag"] == "noindex"
    # Typed by hand: lower case, without dashes.
    assert client.get(f"/verify/{code.replace('-', '').lower()}").status_code == 200


@pytest.mark.parametrize("forged", ["AAAA-AAAA-AAAA-AAAA", "ACDE-FHJK-MNPQ-RTUV", "x", "1" * 200,
                                    "%27%20OR%201=1--", "ACDEFHJKMNPQRTUV%00"])
def test_forged_codes_are_404_and_leak_nothing(world: Any, client: Any, login: Any,
                                               forged: str) -> None:
    login(world.organiser)
    client.get(f"/certificates/{world.s1.id}/{world.p1.id}.pdf")  # a real one exists
    client.post("/logout")
    response = client.get(f"/verify/{forged}?lang=en")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "There is no certificate with this code." in html
    for secret in ("Nguyễn Thị An", "Quản lý Trung tâm", "Traceback"):
        assert secret not in html
    api = client.get(f"/verify/{forged}", headers={"Accept": "application/json"})
    assert api.status_code == 404 and set(api.get_json()) == {"type", "title", "status",
                                                              "detail"}


def test_certificate_permissions(world: Any, client: Any, token_for: Any) -> None:
    def get(path: str, user: Any | None) -> Any:
        headers = {"Accept": "application/json"}
        if user is not None:
            headers["Authorization"] = f"Bearer {token_for(user)}"
        return client.get(path, headers=headers)

    one = f"/certificates/{world.s1.id}/{world.p4.id}.pdf"
    site = f"/sessions/{world.s1.id}/certificates.pdf?site_id={world.ck.id}"
    assert get(one, None).status_code == 401
    assert get(site, None).status_code == 401
    assert client.get(one).status_code == 302  # a browser: to the login page
    assert get(one, world.coord_ck).status_code == 200  # its site's participant
    assert get(site, world.coord_ck).status_code == 200
    assert get(f"/certificates/{world.s1.id}/{world.p1.id}.pdf", world.coord_ck
               ).status_code == 403  # p1 is at VT
    assert get(f"/sessions/{world.s1.id}/certificates.pdf?site_id={world.vt.id}",
               world.coord_ck).status_code == 403
    assert get(one, world.coord_other).status_code == 403
    assert get(one, world.admin).status_code == 200
    assert get(f"/certificates/{world.s1.id}/99999.pdf", world.organiser).status_code == 404
    assert get(f"/certificates/99999/{world.p1.id}.pdf", world.organiser).status_code == 404


def test_certificates_due_api(world: Any, api_as: Any) -> None:
    api = api_as(world.organiser)
    body = api.get(f"/api/v1/reports/sessions/{world.s1.id}/certificates?site_id={world.ck.id}"
                   ).get_json()
    assert body["total"] == 2
    assert [(i["full_name"], i["percent"], i["code"]) for i in body["items"]] == [
        ("Phạm Thị Dung", 80.0, None), ("Đỗ Minh Giang", 70.0, None)]
    assert body["items"][0]["pdf_url"] == f"/certificates/{world.s1.id}/{world.p4.id}.pdf"
    assert api.get(body["items"][0]["pdf_url"]).status_code == 200
    after = api.get(f"/api/v1/reports/sessions/{world.s1.id}/certificates?site_id={world.ck.id}"
                    ).get_json()
    code = after["items"][0]["code"]
    assert CODE_RE.fullmatch(code) and after["items"][0]["verify_url"].endswith(f"/verify/{code}")
    assert api.get(f"/api/v1/reports/sessions/{world.s1.id}/certificates").status_code == 422
    assert api_as(world.coord_ck).get(
        f"/api/v1/reports/sessions/{world.s1.id}/certificates?site_id={world.vt.id}"
    ).status_code == 403


def test_long_and_odd_names_render(app: Any, make_site: Any, make_user: Any, make_session: Any,
                                   make_participant: Any, register: Any, add_checkin: Any,
                                   add_quiz: Any, add_attempt: Any, client: Any,
                                   login: Any) -> None:
    site = make_site(code="H1", name="=Điểm cầu @chính")
    long_name = "Tôn Nữ Thị Hoàng Phương Thảo Nguyên Khánh Ngọc Bích Diễm Lệ Hằng Nga"
    person = make_participant(site, long_name, "female")
    formula = make_participant(site, "=cmd|' /C calc'!A0", "male")
    session = make_session([site], title="Buổi " + "rất dài " * 30)
    register(session, [person, formula])
    quiz = add_quiz(session, "Kiểm tra")
    for p in (person, formula):
        add_checkin(session, p)
        add_attempt(quiz, p, 9)
    login(make_user("organiser"))
    response = client.get(f"/sessions/{session.id}/certificates.pdf?site_id={site.id}")
    assert response.status_code == 200
    pages = pdf_pages(response.data)
    assert len(pages) == 2
    joined = " ".join(" ".join(p.split()) for p in pages)
    assert long_name in joined and "=cmd|' /C calc'!A0" in joined
