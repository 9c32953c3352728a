"""/api/v1/materials and the download address, as API.md states them."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.materials.models import Blob, Material, MaterialDownload, MaterialVersion

CONTRACT = {"id", "title", "topic", "filename", "size", "sha256", "url"}


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def post_file(api: Any, data: bytes, name: str, **fields: Any) -> Any:
    form = {"topic": "management", **{k: str(v) for k, v in fields.items()},
            "file": (io.BytesIO(data), name)}
    return finish(api.post("/api/v1/materials", data=form, content_type="multipart/form-data"))


def finish(response: Any) -> Any:
    """Read and close a response and the request body the test client spooled to disk
    (bodies over 500 kB are kept in a temporary file it does not close itself)."""
    response.get_data()
    response.close()
    response.request.input_stream.close()
    return response


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fetch(client: Any, url: str, **kw: Any) -> Any:
    response = client.get(path_of(url), **kw)
    response.get_data()
    response.close()
    return response


def disposition_filename(header: str) -> str:
    m = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    assert m, header
    return unquote(m.group(1), errors="strict")


@pytest.fixture
def api(api_as: Any, organiser: Any) -> Any:
    return api_as(organiser)


@pytest.mark.parametrize(("kind", "name"), [
    ("pdf", "Sổ tay quản lý Trung tâm học tập cộng đồng.pdf"),
    ("docx", "Kế hoạch tổ chức lớp học.docx"),
    ("png", "Sơ đồ điểm cầu.png"),
    ("mp4", "Ghi hình buổi khai mạc.mp4"),
    ("webm", "Ghi hình điểm cầu chính.webm"),
    ("opus", "Ghi hình điểm cầu chính (tiếng).opus"),
])
def test_upload_and_download(api: Any, client: Any, samples: Any, data_dir: Path,
                             helpers: Any, kind: str, name: str) -> None:
    data = getattr(samples, kind)()
    response = post_file(api, data, name, title="Tài liệu buổi 1")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) >= CONTRACT
    sha = hashlib.sha256(data).hexdigest()
    assert body["title"] == "Tài liệu buổi 1" and body["topic"] == "management"
    assert body["filename"] == name and body["size"] == len(data) and body["sha256"] == sha
    assert body["kind"] == "file" and body["visibility"] == "staff"
    assert [p.name for p in helpers.stored(data_dir)] == [sha]

    download = fetch(client, body["url"], headers=api._headers(None))
    assert download.status_code == 200
    assert download.data == data
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert disposition_filename(disposition) == name
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["ETag"].strip('"') == sha
    assert download.headers["Accept-Ranges"] == "bytes"


def test_listing_by_session_and_topic(api: Any, samples: Any, make_site: Any,
                                      make_session: Any) -> None:
    session = make_session([make_site()])
    a = post_file(api, samples.pdf("a"), "a.pdf", session_id=session.id).get_json()
    b = post_file(api, samples.pdf("b"), "b.pdf", topic="gender",
                  session_id=session.id).get_json()
    post_file(api, samples.pdf("c"), "c.pdf")
    body = api.get(f"/api/v1/materials?session_id={session.id}").get_json()
    assert body["total"] == 2 and [m["id"] for m in body["items"]] == [a["id"], b["id"]]
    body = api.get(f"/api/v1/materials?session_id={session.id}&topic=gender").get_json()
    assert [m["id"] for m in body["items"]] == [b["id"]]
    assert api.get("/api/v1/materials?per_page=2&page=2").get_json() == {
        "items": [api.get("/api/v1/materials").get_json()["items"][2]], "total": 3}
    assert api.get("/api/v1/materials?page=9").get_json()["items"] == []
    assert api.get("/api/v1/materials?per_page=501").status_code == 422


def test_same_file_twice_is_stored_once(api: Any, samples: Any, data_dir: Path,
                                        helpers: Any) -> None:
    data = samples.pdf()
    first = post_file(api, data, "lần 1.pdf").get_json()
    second = post_file(api, data, "lần 2.pdf").get_json()
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert len(helpers.stored(data_dir)) == 1 and count(Blob) == 1


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"", "rỗng.pdf", "empty"),
    ("png", "ảnh.pdf", "does not match"),
    ("exe", "Tài liệu tập huấn.pdf", "program"),
    (b"plain text", "a.txt", "not accepted"),
])
def test_bad_uploads_are_422_with_a_message(api_as: Any, organiser: Any, samples: Any,
                                             data_dir: Path, helpers: Any, data: Any,
                                             name: str, words: str) -> None:
    if isinstance(data, str):
        data = getattr(samples, data)()
    response = post_file(api_as(organiser, lang="en"), data, name)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert words in body["detail"] and words in " ".join(body["errors"]["file"])
    assert count(Material) == 0 and helpers.stored(data_dir) == [] \
        and helpers.tmp(data_dir) == []
    vi = post_file(api_as(organiser), data, name)  # Vietnamese by default: same shape
    assert vi.status_code == 422 and vi.get_json()["errors"]["file"]


def test_over_the_materials_limit_is_413_and_nothing_kept(app: Any, api: Any, samples: Any,
                                                          data_dir: Path,
                                                          helpers: Any) -> None:
    app.config["MATERIALS_MAX_BYTES"] = 50_000
    response = post_file(api, samples.mp4(60_000), "video.mp4")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert "50.0 kB" in response.get_json()["detail"]  # the limit, in the caller's language
    assert count(Material) == 0 and count(Blob) == 0
    assert helpers.stored(data_dir) == [] and helpers.tmp(data_dir) == []


def test_over_the_request_limit_is_413_before_reading(app: Any, api: Any, samples: Any,
                                                      data_dir: Path, helpers: Any) -> None:
    app.config["MATERIALS_MAX_BYTES"] = 10_000  # request limit: this + 1 MB of form
    response = post_file(api, samples.mp4(3 * 1024 * 1024), "video.mp4")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert count(Material) == 0 and helpers.stored(data_dir) == [] \
        and helpers.tmp(data_dir) == []


@pytest.mark.parametrize(("raw", "stored"), [
    ("../../../../etc/cron.d/x.pdf", "x.pdf"),
    ("..%2F..%2Fa.pdf", "%2F..%2Fa.pdf"),  # never URL-decoded; leading dots dropped
    ("tài\x01liệu\x1f.pdf", "tàiliệu.pdf"),
])
def test_unsafe_names(api: Any, client: Any, samples: Any, data_dir: Path, helpers: Any,
                      raw: str, stored: str) -> None:
    response = post_file(api, samples.pdf(), raw)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["filename"] == stored
    assert [p.name for p in helpers.stored(data_dir)] == [body["sha256"]]
    download = fetch(client, body["url"], headers=api._headers(None))
    assert disposition_filename(download.headers["Content-Disposition"]) == stored


def test_name_with_nothing_left_is_refused(api: Any, samples: Any, data_dir: Path,
                                           helpers: Any) -> None:
    response = post_file(api, samples.pdf(), "../")
    assert response.status_code == 422 and "file" in response.get_json()["errors"]
    assert helpers.stored(data_dir) == [] and helpers.tmp(data_dir) == []


def test_interrupted_upload_leaves_nothing(api: Any, samples: Any, data_dir: Path,
                                           helpers: Any, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    real_commit = db.session.commit
    calls = {"n": 0}

    def failing_commit() -> None:
        calls["n"] += 1
        raise RuntimeError("power cut")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    response = post_file(api, samples.pdf(), "tài liệu.pdf")
    monkeypatch.setattr(db.session, "commit", real_commit)
    assert calls["n"] >= 1
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert "Traceback" not in response.get_data(as_text=True)
    assert count(Material) == 0 and count(MaterialVersion) == 0 and count(Blob) == 0
    assert helpers.stored(data_dir) == [] and helpers.tmp(data_dir) == []


def test_vietnamese_name_round_trips(api: Any, client: Any, samples: Any) -> None:
    name = "Giới và bình đẳng giới – Luật 2006 (Điều 5, khoản 3).pdf"
    body = post_file(api, samples.pdf(), name).get_json()
    download = fetch(client, body["url"], headers=api._headers(None))
    header = download.headers["Content-Disposition"]
    from werkzeug.http import parse_options_header

    kind, params = parse_options_header(header)
    assert kind == "attachment" and params["filename"] == name
    assert disposition_filename(header) == name
    ascii_part = re.search(r'filename="([^"]*)"', header)
    assert ascii_part and ascii_part.group(1).isascii() and "Gioi va binh dang gioi" in \
        ascii_part.group(1)


def test_range_requests_stream_video(api: Any, client: Any, samples: Any) -> None:
    data = samples.mp4(100_000)
    body = post_file(api, data, "video.mp4", visibility="shared").get_json()
    part = fetch(client, body["url"], headers={**api._headers(None), "Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.data == data[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    tail = fetch(client, body["url"], headers={**api._headers(None), "Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.data == data[-100:]
    bad = fetch(client, body["url"], headers={**api._headers(None), "Range": f"bytes={len(data) + 10}-"})
    assert bad.status_code == 416
    # only the piece from byte 0 (or a whole download) counts as a download
    fetch(client, body["url"], headers={**api._headers(None), "Range": "bytes=0-"})
    assert count(MaterialDownload) == 1


def test_etag_revalidation_is_not_counted(api: Any, client: Any, samples: Any) -> None:
    body = post_file(api, samples.pdf(), "a.pdf", visibility="shared").get_json()
    assert fetch(client, body["url"], headers=api._headers(None)).status_code == 200
    again = fetch(client, body["url"], headers={**api._headers(None), "If-None-Match": f'"{body["sha256"]}"'})
    assert again.status_code == 304
    assert count(MaterialDownload) == 1


def test_inline_only_for_previewable_types(api: Any, client: Any, samples: Any) -> None:
    pdf = post_file(api, samples.pdf(), "a.pdf", visibility="shared").get_json()
    docx = post_file(api, samples.docx(), "b.docx", visibility="shared").get_json()
    shown = fetch(client, pdf["url"] + "?inline=1")
    assert shown.headers["Content-Disposition"].startswith("inline;")
    assert shown.mimetype == "application/pdf"
    assert "frame-ancestors 'self'" in shown.headers["Content-Security-Policy"]
    assert shown.headers["X-Frame-Options"] == "SAMEORIGIN"
    not_shown = fetch(client, docx["url"] + "?inline=1")
    assert not_shown.headers["Content-Disposition"].startswith("attachment;")


def test_visibility(api: Any, client: Any, samples: Any, make_site: Any,
                    make_session: Any) -> None:
    session = make_session([make_site()])
    staff = post_file(api, samples.pdf("staff"), "nội bộ.pdf",
                      session_id=session.id).get_json()
    shared = post_file(api, samples.pdf("shared"), "chia sẻ.pdf", session_id=session.id,
                       visibility="shared").get_json()
    # anonymous: staff-only is unknown, shared downloads without an account
    assert fetch(client, staff["url"]).status_code == 404
    assert fetch(client, shared["url"]).status_code == 200
    page = client.get(f"/s/{session.id}/materials")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "chia sẻ" in html and "nội bộ" not in html
    assert f"/materials/{shared['id']}/file" in html
    assert f"/materials/{staff['id']}/file" not in html
    assert client.get("/s/99999/materials").status_code == 404
    # the API needs an account
    assert client.get("/api/v1/materials").status_code == 401
    assert client.get(f"/api/v1/materials/{shared['id']}").status_code == 401
    # earlier versions are for accounts only
    assert fetch(client, f"/materials/{shared['id']}/versions/1/file").status_code == 404


def test_coordinators_read_but_cannot_write(api_as: Any, api: Any, make_user: Any,
                                            make_site: Any, samples: Any, data_dir: Path,
                                            helpers: Any, client: Any) -> None:
    site = make_site()
    coordinator = api_as(make_user("coordinator", sites=[site]))
    response = post_file(coordinator, samples.pdf(), "a.pdf")
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert helpers.stored(data_dir) == [] and helpers.tmp(data_dir) == []
    body = post_file(api, samples.pdf(), "a.pdf").get_json()
    assert coordinator.get("/api/v1/materials").get_json()["total"] == 1
    assert coordinator.get(f"/api/v1/materials/{body['id']}").status_code == 200
    assert coordinator.patch(f"/api/v1/materials/{body['id']}",
                             json={"title": "x"}).status_code == 403
    assert coordinator.delete(f"/api/v1/materials/{body['id']}").status_code == 403
    assert coordinator.post(f"/api/v1/materials/{body['id']}/versions",
                            data={"file": (io.BytesIO(samples.pdf("2")), "b.pdf")},
                            content_type="multipart/form-data").status_code == 403
    assert coordinator.post("/api/v1/materials/topics",
                            json={"name_vi": "Khác"}).status_code == 403
    download = fetch(client, body["url"], headers=coordinator._headers(None))
    assert download.status_code == 200  # staff-only, but coordinators have accounts
    counts = api.get(f"/api/v1/materials/{body['id']}/downloads").get_json()
    assert counts == {"material_id": body["id"], "total": 1,
                      "sites": [{"site_id": site.id, "name": site.name, "count": 1}]}


def test_public_downloads_count_for_the_site(api: Any, client: Any, samples: Any,
                                             make_site: Any, make_session: Any,
                                             app: Any) -> None:
    """The attack: anonymous requests with `?site=` inflated any site's count. Now only a
    signed trainees' page link counts for its site, once per person and day."""
    from trainer.materials.services import signed_site_args

    a, b = make_site(), make_site()
    session = make_session([a, b])
    body = post_file(api, samples.pdf(), "a.pdf", visibility="shared",
                     session_id=session.id).get_json()
    signed = signed_site_args(b.id)
    html = client.get(f"/s/{session.id}/materials?site={b.id}&sig={signed['sig']}"
                      ).get_data(as_text=True)
    link = re.search(rf'href="(/materials/{body["id"]}/file\?[^"]*)"', html)
    assert link and f"site={b.id}" in link.group(1) and "sig=" in link.group(1)
    for _ in range(3):  # the same phone, again and again: once
        assert fetch(client, link.group(1).replace("&amp;", "&")).status_code == 200
    other_phone = app.test_client()
    other_phone.environ_base["REMOTE_ADDR"] = "198.51.100.30"
    assert fetch(other_phone, link.group(1).replace("&amp;", "&")).status_code == 200
    # unsigned or forged: downloaded, never counted
    for url in (body["url"], f"{body['url']}?site={a.id}", f"{body['url']}?site={a.id}&sig=x",
                f"{body['url']}?site={a.id}&sig={signed['sig']}"):
        assert fetch(client, url).status_code == 200
    counts = api.get(f"/api/v1/materials/{body['id']}/downloads").get_json()
    assert counts["total"] == 2
    assert {s["site_id"]: s["count"] for s in counts["sites"]} == {b.id: 2}


def test_links(api: Any, client: Any) -> None:
    response = api.post("/api/v1/materials", data={
        "url": "https://www.youtube.com/watch?v=xyz", "title": "Ghi hình buổi 2",
        "topic": "gender", "visibility": "shared"}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "link" and body["url"] == "https://www.youtube.com/watch?v=xyz"
    assert body["filename"] is None and body["size"] is None and body["sha256"] is None
    as_json = api.post("/api/v1/materials", json={"url": "https://vbpl.vn/", "topic": "gender"})
    assert as_json.status_code == 201 and as_json.get_json()["title"] == "https://vbpl.vn/"
    bad = api.post("/api/v1/materials", json={"url": "javascript:alert(1)", "topic": "gender"})
    assert bad.status_code == 422 and "url" in bad.get_json()["errors"]
    for broken in ("http://[", "https://[::1/x"):  # urlsplit raises on an unclosed bracket
        refused = api.post("/api/v1/materials", json={"url": broken, "topic": "gender"})
        assert refused.status_code == 422 and "url" in refused.get_json()["errors"], broken
    neither = api.post("/api/v1/materials", json={"topic": "gender"})
    assert neither.status_code == 422 and "file" in neither.get_json()["errors"]
    unknown = api.post("/api/v1/materials", json={"topic": "gender", "url": "https://a.vn",
                                                  "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.get_json()["errors"]
    anon = client.get(f"/materials/{body['id']}/file")
    assert anon.status_code == 302 and anon.headers["Location"] == body["url"]


def test_patch_versions_delete(api: Any, client: Any, samples: Any, data_dir: Path,
                               helpers: Any, make_site: Any, make_session: Any) -> None:
    session = make_session([make_site()])
    body = post_file(api, samples.pdf("v1"), "Sổ tay.pdf").get_json()
    mid = body["id"]
    patched = api.patch(f"/api/v1/materials/{mid}", json={
        "title": "Sổ tay quản lý", "visibility": "shared", "session_id": session.id,
        "description": "Dòng 1\nDòng 2", "topic": "gender", "language": "en"})
    assert patched.status_code == 200, patched.get_json()
    p = patched.get_json()
    assert (p["title"], p["visibility"], p["session_id"], p["topic"], p["language"]) == (
        "Sổ tay quản lý", "shared", session.id, "gender", "en")
    assert p["description"] == "Dòng 1\nDòng 2"
    assert api.patch(f"/api/v1/materials/{mid}", json={"title": ""}).status_code == 422
    assert api.patch(f"/api/v1/materials/{mid}", json={"topic": "x"}).status_code == 422
    assert api.patch(f"/api/v1/materials/{mid}", json={"url": "https://a.vn"}).status_code \
        == 422
    assert api.patch("/api/v1/materials/999", json={"title": "x"}).status_code == 404

    new = api.post(f"/api/v1/materials/{mid}/versions",
                   data={"file": (io.BytesIO(samples.pdf("v2")), "Sổ tay (bản 2).pdf")},
                   content_type="multipart/form-data")
    assert new.status_code == 201, new.get_json()
    assert new.get_json()["filename"] == "Sổ tay (bản 2).pdf" and new.get_json()["version"] == 2
    bad = api.post(f"/api/v1/materials/{mid}/versions",
                   data={"file": (io.BytesIO(samples.exe()), "x.pdf")},
                   content_type="multipart/form-data")
    assert bad.status_code == 422
    versions = api.get(f"/api/v1/materials/{mid}/versions").get_json()
    assert [(v["number"], v["filename"], v["current"]) for v in versions] == [
        (2, "Sổ tay (bản 2).pdf", True), (1, "Sổ tay.pdf", False)]
    old = fetch(client, versions[1]["url"], headers=api._headers(None))
    assert old.status_code == 200 and old.data == samples.pdf("v1")
    current = fetch(client, body["url"])
    assert current.data == samples.pdf("v2")
    assert len(helpers.stored(data_dir)) == 2

    assert api.delete(f"/api/v1/materials/{mid}").status_code == 204
    assert api.get(f"/api/v1/materials/{mid}").status_code == 404
    assert fetch(client, body["url"], headers=api._headers(None)).status_code == 404
    assert helpers.stored(data_dir) == []


@pytest.mark.vietnamese_default
def test_topics(api: Any, api_as: Any) -> None:
    body = api.get("/api/v1/materials/topics").get_json()
    assert [t["key"] for t in body["items"]] == ["management", "gender"]
    assert body["items"][0]["name"] == "Quản lý, điều hành TTHTCĐ"
    en = api_as(None)  # anonymous
    assert en.get("/api/v1/materials/topics").status_code == 401
    created = api.post("/api/v1/materials/topics", json={"name_vi": "Chuyển đổi số",
                                                         "name_en": "Digital change"})
    assert created.status_code == 201 and created.get_json()["key"] == "digital-change"
    assert api.post("/api/v1/materials/topics", json={"name_vi": "Chuyển đổi số",
                                                      "name_en": "Digital change"}
                    ).status_code == 409


def test_cookie_callers_need_the_csrf_header(app: Any, client: Any, organiser: Any,
                                             login: Any, samples: Any) -> None:
    login(organiser)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/materials/upload").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    form = {"topic": "management", "file": (io.BytesIO(samples.pdf()), "a.pdf")}
    refused = client.post("/api/v1/materials", data=dict(form), content_type="multipart/form-data")
    assert refused.status_code == 400
    form["file"] = (io.BytesIO(samples.pdf()), "a.pdf")
    ok = client.post("/api/v1/materials", data=form, content_type="multipart/form-data",
                     headers={"X-CSRFToken": token})
    assert ok.status_code == 201, ok.get_json()


def test_openapi_documents_materials(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/materials"]["post"]
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["$ref"].endswith("/MaterialForm")
    props = spec["components"]["schemas"]["MaterialForm"]["properties"]
    assert props["file"]["format"] == "binary" and {"title", "topic", "session_id"} <= set(props)
    out = spec["components"]["schemas"]["Material"]["properties"]
    assert set(out) >= CONTRACT
    assert "413" in post["responses"]
