"""Pages: the library, a material, upload (without JavaScript), links, editing, topics,
the trainees' page and the session panel."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.materials import services
from trainer.materials.models import Material, MaterialDownload


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def upload(actor: Any, data: bytes, name: str, **meta: Any) -> Material:
    meta.setdefault("topic", "management")
    return services.create_file(actor, io.BytesIO(data), name, meta)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_library_lists_searches_and_filters(client: Any, login: Any, organiser: Any,
                                            samples: Any) -> None:
    upload(organiser, samples.pdf("a"), "a.pdf", title="Lồng ghép bình đẳng giới",
           topic="gender", visibility="shared")
    upload(organiser, samples.pdf("b"), "b.pdf", title="Quản lý trung tâm")
    services.create_link(organiser, "https://vbpl.vn/", {"topic": "gender", "title": "Văn bản"})
    assert client.get("/materials").status_code == 302  # log in first
    login(organiser)
    html = text(client.get("/materials"))
    assert "Lồng ghép bình đẳng giới" in html and "Quản lý trung tâm" in html
    assert 'href="/materials/upload"' in html
    html = text(client.get("/materials?q=long+ghep"))
    assert "Lồng ghép bình đẳng giới" in html and "Quản lý trung tâm" not in html
    html = text(client.get("/materials?topic=management"))
    assert "Quản lý trung tâm" in html and "Lồng ghép" not in html
    html = text(client.get("/materials?kind=link"))
    assert "Văn bản" in html and "Quản lý trung tâm" not in html
    assert client.get("/materials?session_id=abc&page=x").status_code == 200


def test_coordinators_read_the_library_but_not_write(client: Any, login: Any,
                                                     make_user: Any, make_site: Any,
                                                     organiser: Any, samples: Any) -> None:
    m = upload(organiser, samples.pdf(), "a.pdf", title="Nội bộ")
    login(make_user("coordinator", sites=[make_site()]))
    html = text(client.get("/materials"))
    assert "Nội bộ" in html and 'href="/materials/upload"' not in html
    assert client.get(f"/materials/{m.id}").status_code == 200
    for path in ("/materials/upload", "/materials/link", f"/materials/{m.id}/edit"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/materials/{m.id}/delete").status_code == 403
    assert count(Material) == 1


@pytest.mark.parametrize(("kind", "name", "tag"), [
    ("pdf", "a.pdf", '<iframe class="material-preview pdf" src="/materials/{id}/file?inline=1"'),
    ("png", "a.png", '<img class="material-preview image" src="/materials/{id}/file?inline=1"'),
    ("mp4", "a.mp4", '<video class="material-preview video" src="/materials/{id}/file?inline=1"'),
    ("docx", "a.docx", "No preview"),
])
def test_material_page_previews(client: Any, login: Any, organiser: Any, samples: Any,
                                kind: str, name: str, tag: str) -> None:
    m = upload(organiser, getattr(samples, kind)(), name)
    login(organiser)
    html = text(client.get(f"/materials/{m.id}"))
    assert tag.format(id=m.id) in html
    assert f'href="/materials/{m.id}/file"' in html  # download
    # the organiser's own preview is not a download (a .docx has none: it downloads)
    shown = client.get(f"/materials/{m.id}/file?inline=1")
    shown.close()
    assert count(MaterialDownload) == (1 if kind == "docx" else 0)


def test_material_page_shows_versions_and_counts(client: Any, login: Any, organiser: Any,
                                                 samples: Any, make_site: Any) -> None:
    site = make_site(name="Huyện Hạ Hòa")
    m = upload(organiser, samples.pdf("1"), "Sổ tay.pdf", visibility="shared")
    services.add_version(organiser, m, io.BytesIO(samples.pdf("2")), "Sổ tay (bản 2).pdf")
    services.record_download(None, m, 2, site.id, visitor="phone-1")  # two trainees
    services.record_download(None, m, 2, site.id, visitor="phone-2")
    login(organiser)
    html = text(client.get(f"/materials/{m.id}"))
    assert "Sổ tay (bản 2).pdf" in html and "Sổ tay.pdf" in html
    assert f"/materials/{m.id}/versions/1/file" in html
    assert re.search(r"Huyện Hạ Hòa</td><td class=\"num\">2</td>", html)
    # serve the first version again
    assert client.post(f"/materials/{m.id}/versions/1/current").status_code == 302
    db.session.refresh(m)
    assert m.current_version == 1


def test_upload_page_without_javascript(client: Any, login: Any, organiser: Any,
                                        samples: Any, make_site: Any, make_session: Any,
                                        data_dir: Path, helpers: Any) -> None:
    session = make_session([make_site()])
    login(organiser)
    page = text(client.get(f"/materials/upload?attach=session:{session.id}"))
    assert 'id="upload-form"' in page and 'data-api="/api/v1/materials"' in page
    assert f'value="session:{session.id}" selected' in page
    assert "materials-upload.js" in page and 'multiple' in page
    response = client.post("/materials/upload", data={
        "files": [(io.BytesIO(samples.pdf()), "Bài 1.pdf"),
                  (io.BytesIO(samples.png()), "Sơ đồ.png")],
        "topic": "gender", "visibility": "shared", "language": "vi",
        "attach": f"session:{session.id}", "description": ""},
        content_type="multipart/form-data")
    assert response.status_code == 302
    titles = sorted(m.title for m in db.session.scalars(select(Material)))
    assert titles == ["Bài 1", "Sơ đồ"]
    assert all(m.session_id == session.id and m.is_shared
               for m in db.session.scalars(select(Material)))
    # one good file, one bad: the good one is kept, the bad one explained
    response = client.post("/materials/upload", data={
        "files": [(io.BytesIO(samples.pdf("x")), "Tốt.pdf"),
                  (io.BytesIO(samples.exe()), "Xấu.pdf")],
        "topic": "management", "visibility": "staff", "language": "vi", "attach": ""},
        content_type="multipart/form-data")
    html = text(response)
    assert response.status_code == 200 and "Xấu.pdf" in html and "program" in html
    assert count(Material) == 3
    # no topic: the form says so, nothing kept
    response = client.post("/materials/upload", data={
        "files": [(io.BytesIO(samples.pdf("y")), "a.pdf")], "topic": "", "attach": ""},
        content_type="multipart/form-data")
    assert response.status_code == 422 and "Unknown topic" in text(response)
    response = client.post("/materials/upload", data={"topic": "gender"},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose one or more files" in text(response)
    assert count(Material) == 3 and helpers.tmp(data_dir) == []


def test_link_form(client: Any, login: Any, organiser: Any) -> None:
    login(organiser)
    bad = client.post("/materials/link", data={"url": "javascript:alert(1)", "topic": "gender",
                                               "visibility": "shared", "attach": ""})
    assert bad.status_code == 422 and "https://" in text(bad)
    good = client.post("/materials/link", data={
        "url": "https://www.youtube.com/watch?v=abc", "title": "Ghi hình", "topic": "gender",
        "visibility": "shared", "language": "vi", "attach": "", "description": ""})
    assert good.status_code == 302
    m = db.session.scalar(select(Material))
    html = text(client.get(f"/materials/{m.id}"))
    assert 'href="https://www.youtube.com/watch?v=abc"' in html
    assert 'rel="noopener noreferrer"' in html


def test_edit_form(client: Any, login: Any, organiser: Any, samples: Any, make_site: Any,
                   make_session: Any) -> None:
    session = make_session([make_site()])
    m = upload(organiser, samples.pdf(), "a.pdf")
    login(organiser)
    assert "Edit the material" in text(client.get(f"/materials/{m.id}/edit"))
    response = client.post(f"/materials/{m.id}/edit", data={
        "title": "Tài liệu mới", "topic": "gender", "language": "en",
        "description": "Dòng 1\r\nDòng 2", "visibility": "shared",
        "attach": f"session:{session.id}"})
    assert response.status_code == 302
    db.session.refresh(m)
    assert (m.title, m.topic_key, m.language, m.description, m.is_shared, m.session_id) == (
        "Tài liệu mới", "gender", "en", "Dòng 1\nDòng 2", True, session.id)
    response = client.post(f"/materials/{m.id}/edit", data={
        "title": "", "topic": "gender", "language": "en", "visibility": "shared",
        "attach": "session:99999"})
    assert response.status_code == 422
    html = text(response)
    assert "This field is required" in html or "Unknown session" in html
    db.session.refresh(m)
    assert m.title == "Tài liệu mới"


def test_replace_and_delete_from_the_page(client: Any, login: Any, organiser: Any,
                                          samples: Any, data_dir: Path, helpers: Any) -> None:
    m = upload(organiser, samples.pdf("1"), "a.pdf")
    login(organiser)
    bad = client.post(f"/materials/{m.id}/versions",
                      data={"file": (io.BytesIO(samples.png()), "b.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "does not match" in text(bad)
    ok = client.post(f"/materials/{m.id}/versions",
                     data={"file": (io.BytesIO(samples.pdf("2")), "b.pdf")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    db.session.refresh(m)
    assert m.current_version == 2
    assert client.post(f"/materials/{m.id}/delete").status_code == 302
    assert count(Material) == 0 and helpers.stored(data_dir) == []


def test_topics_page(client: Any, login: Any, organiser: Any) -> None:
    login(organiser)
    html = text(client.get("/materials/topics"))
    assert "Quản lý, điều hành TTHTCĐ" in html and "Giới và bình đẳng giới" in html
    assert client.post("/materials/topics", data={"name_vi": "Kỹ năng số",
                                                  "name_en": ""}).status_code == 302
    assert "Kỹ năng số" in text(client.get("/materials/topics"))
    assert client.post("/materials/topics", data={"name_vi": "", "name_en": ""}
                       ).status_code == 422


def test_public_page_for_trainees(client: Any, organiser: Any, samples: Any,
                                  make_site: Any, make_session: Any) -> None:
    session = make_session([make_site()], title="Hội nghị tập huấn")
    video = upload(organiser, samples.mp4(), "Ghi hình.mp4", visibility="shared",
                   session_id=session.id)
    services.create_link(organiser, "https://vbpl.vn/", {
        "topic": "gender", "title": "Văn bản luật", "visibility": "shared",
        "session_id": session.id})
    upload(organiser, samples.pdf(), "nội bộ.pdf", title="Nội bộ", session_id=session.id)
    html = text(client.get(f"/s/{session.id}/materials"))
    assert "Hội nghị tập huấn" in html and "Ghi hình" in html and "Văn bản luật" in html
    assert "Nội bộ" not in html
    assert f'href="/materials/{video.id}/file?inline=1"' in html  # watch in the browser
    watch = client.get(f"/materials/{video.id}/file?inline=1")
    watch.close()
    assert watch.headers["Content-Disposition"].startswith("inline;")
    assert count(MaterialDownload) == 0  # an anonymous view from no signed link is not counted


def test_session_panel(app: Any, client: Any, organiser: Any, samples: Any, make_site: Any,
                       make_session: Any, login: Any) -> None:
    session = make_session([make_site()])
    upload(organiser, samples.pdf("s"), "Chia sẻ.pdf", title="Chia sẻ", visibility="shared",
           session_id=session.id)
    upload(organiser, samples.pdf("n"), "Nội bộ.pdf", title="Nội bộ", session_id=session.id)
    source = '{% include "materials/_session_panel.html" %}'
    with app.test_request_context("/"):
        html = render_template_string(source, session=session)
    assert "Chia sẻ" in html and "Nội bộ" not in html  # anonymous
    with app.test_request_context("/"):
        from flask_login import login_user

        login_user(organiser)
        html = render_template_string(source, session=session)
    assert "Chia sẻ" in html and "Nội bộ" in html
    assert f"/materials/upload?attach=session:{session.id}" in html
    assert f"/s/{session.id}/materials" in html
    # the session page includes it (when the scheduling feature provides the page)
    if "sessions.show" in app.view_functions:
        login(organiser)
        page = client.get(f"/sessions/{session.id}")
        assert page.status_code == 200 and 'id="materials"' in text(page)


def test_upload_limit_is_shown_as_configured(app: Any, client: Any, login: Any, organiser: Any,
                                             samples: Any) -> None:
    """TRAINER_MAX_UPLOAD_MB=200 reads "200 MB" on the pages, not "209,7 MB"."""
    app.config.update(MATERIALS_MAX_BYTES=None, MAX_CONTENT_LENGTH=200 * 1024 * 1024)
    m = upload(organiser, samples.pdf("1"), "Sổ tay.pdf")
    login(organiser)
    assert "Tối đa 200 MB." in text(client.get(f"/materials/{m.id}?lang=vi"))
    assert "mỗi tệp tối đa 200 MB" in text(client.get("/materials/upload?lang=vi"))
    assert "209,7" not in text(client.get("/materials/upload?lang=vi"))
