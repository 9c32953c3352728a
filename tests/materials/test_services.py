"""Services: uploads, versions, links, visibility, downloads, topics and failures."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from trainer.extensions import db
from trainer.materials import services, storage
from trainer.materials.models import Blob, Material, MaterialDownload, MaterialVersion, Topic


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def upload(actor: Any, data: bytes, name: str, **meta: Any) -> Material:
    meta.setdefault("topic", "management")
    return services.create_file(actor, io.BytesIO(data), name, meta)


@pytest.mark.parametrize(("kind", "name", "content_type"), [
    ("pdf", "Sổ tay quản lý TTHTCĐ.pdf", "application/pdf"),
    ("docx", "Kế hoạch.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("pptx", "Bài giảng.pptx",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("xlsx", "Danh sách.xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("odt", "Báo cáo.odt", "application/vnd.oasis.opendocument.text"),
    ("png", "Sơ đồ.png", "image/png"),
    ("jpeg", "Ảnh lớp học.JPG", "image/jpeg"),
    ("gif", "hinh.gif", "image/gif"),
    ("webp", "anh.webp", "image/webp"),
    ("mp4", "Ghi hình buổi 1.mp4", "video/mp4"),
])
def test_good_files_are_stored_by_hash(app: Any, organiser: Any, samples: Any,
                                       data_dir: Path, kind: str, name: str,
                                       content_type: str) -> None:
    data = getattr(samples, kind)()
    material = upload(organiser, data, name)
    version = material.version
    assert version is not None and version.number == 1
    assert version.filename == name and version.size == len(data)
    assert version.content_type == content_type
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    assert version.blob_sha256 == sha
    path = data_dir / "files" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == data
    assert material.title == name.rsplit(".", 1)[0]
    assert storage.tmp_dir().exists() and not any(storage.tmp_dir().iterdir())


def test_same_file_twice_is_stored_once(app: Any, organiser: Any, samples: Any,
                                        helpers: Any, data_dir: Path) -> None:
    data = samples.pdf()
    a = upload(organiser, data, "một.pdf")
    b = upload(organiser, data, "hai.pdf", topic="gender")
    assert a.id != b.id and a.version.blob_sha256 == b.version.blob_sha256
    assert count(Blob) == 1 and count(MaterialVersion) == 2
    assert len(helpers.stored(data_dir)) == 1


def test_name_without_extension_gets_the_types(app: Any, organiser: Any, samples: Any) -> None:
    assert upload(organiser, samples.pdf(), "Công văn số 12").version.filename \
        == "Công văn số 12.pdf"


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "trống.pdf", "empty"),
    ("PNG", "ảnh.pdf", "does not match"),
    ("pdf", "tài liệu.docx", "does not match"),
    ("docx", "tài liệu.xlsx", "does not match"),
    ("exe", "Tài liệu.pdf", "program"),
    ("elf", "slide.pptx", "program"),
    (b"#!/bin/sh\necho hi\n", "readme.pdf", "program"),
    (b"<html><script>alert(1)</script></html>", "trang.pdf", "not accepted"),
    (b"just some text", "ghi chu.txt", "not accepted"),
    (b"PK\x03\x04garbage that is not a zip", "hong.docx", "damaged"),
])
def test_bad_files_are_refused_and_nothing_kept(app: Any, organiser: Any, samples: Any,
                                                helpers: Any, data_dir: Path, data: Any,
                                                name: str, message: str) -> None:
    if isinstance(data, str):
        data = samples.png() if data == "PNG" else getattr(samples, data)()
    with pytest.raises(Invalid) as info:
        upload(organiser, data, name)
    assert message in str(info.value.detail)
    assert "file" in info.value.errors
    assert count(Material) == 0 and count(Blob) == 0
    assert helpers.stored(data_dir) == [] and helpers.tmp(data_dir) == []


def test_macro_documents_are_refused(app: Any, organiser: Any, samples: Any) -> None:
    data = samples.ooxml("word", "document.xml", {"word/vbaProject.bin": b"\x00" * 10})
    with pytest.raises(Invalid, match="macros"):
        upload(organiser, data, "có macro.docx")


def test_over_the_limit_is_refused_and_nothing_kept(app: Any, organiser: Any, samples: Any,
                                                    helpers: Any, data_dir: Path) -> None:
    app.config["MATERIALS_MAX_BYTES"] = 10_000
    with pytest.raises(TooLarge):
        upload(organiser, samples.mp4(20_000), "video.mp4")
    assert count(Material) == 0 and helpers.stored(data_dir) == [] \
        and helpers.tmp(data_dir) == []
    assert upload(organiser, samples.mp4(5_000), "video.mp4").version.size < 10_000


@pytest.mark.parametrize(("raw", "stored"), [
    ("../../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\boot.pdf", "boot.pdf"),
    ("bad\x00\x07name\x1b.pdf", "badname.pdf"),
])
def test_unsafe_names_are_cleaned(app: Any, organiser: Any, samples: Any, data_dir: Path,
                                  helpers: Any, raw: str, stored: str) -> None:
    material = upload(organiser, samples.pdf(), raw)
    assert material.version.filename == stored
    files = helpers.stored(data_dir)
    assert len(files) == 1 and files[0].name == material.version.blob_sha256
    assert all(str(p.resolve()).startswith(str(data_dir.resolve())) for p in files)


@pytest.mark.parametrize("raw", ["../", "\x00\x01\x02", "..", ".pdf"])
def test_names_with_nothing_left_are_refused(app: Any, organiser: Any, samples: Any,
                                              helpers: Any, data_dir: Path, raw: str) -> None:
    with pytest.raises(Invalid, match="name"):
        upload(organiser, samples.pdf(), raw)
    assert count(Material) == 0 and helpers.stored(data_dir) == [] \
        and helpers.tmp(data_dir) == []


def test_interrupted_upload_leaves_no_orphan(app: Any, organiser: Any, samples: Any,
                                             helpers: Any, data_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def broken_commit() -> None:
        # The temp file was written and moved into place: then the commit fails.
        seen["files"] = helpers.stored(data_dir)
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        upload(organiser, samples.pdf(), "tài liệu.pdf")
    monkeypatch.undo()
    assert len(seen["files"]) == 1  # the failure came after the file was in place
    assert count(Material) == 0 and count(MaterialVersion) == 0 and count(Blob) == 0
    assert helpers.stored(data_dir) == [] and helpers.tmp(data_dir) == []


def test_interrupted_upload_keeps_content_other_materials_use(
        app: Any, organiser: Any, samples: Any, helpers: Any, data_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = upload(organiser, samples.pdf(), "một.pdf")

    def broken_commit() -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        upload(organiser, samples.pdf(), "hai.pdf")
    monkeypatch.undo()
    assert count(Material) == 1 and len(helpers.stored(data_dir)) == 1
    assert storage.blob_path(first.version.blob_sha256).exists()


def test_stream_broken_midway_leaves_nothing(app: Any, organiser: Any, samples: Any,
                                             helpers: Any, data_dir: Path) -> None:
    class Broken(io.BytesIO):
        calls = 0

        def read(self, size: int | None = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("client disconnected")
            return super().read(size)

    with pytest.raises(OSError):
        services.create_file(organiser, Broken(samples.mp4(4 * storage.CHUNK)), "v.mp4",
                             {"topic": "management"})
    assert count(Material) == 0 and helpers.stored(data_dir) == [] \
        and helpers.tmp(data_dir) == []


def test_coordinators_and_nobody_cannot_write(app: Any, make_user: Any, make_site: Any,
                                              samples: Any, helpers: Any,
                                              data_dir: Path) -> None:
    coordinator = make_user("coordinator", sites=[make_site()])
    with pytest.raises(Forbidden):
        upload(coordinator, samples.pdf(), "a.pdf")
    with pytest.raises(Forbidden):
        services.create_link(coordinator, "https://example.org", {"topic": "gender"})
    assert helpers.tmp(data_dir) == [] and helpers.stored(data_dir) == []


def test_replacing_a_file_keeps_earlier_versions(app: Any, organiser: Any, samples: Any,
                                                 data_dir: Path, helpers: Any) -> None:
    material = upload(organiser, samples.pdf("v1"), "Sổ tay.pdf")
    services.add_version(organiser, material, io.BytesIO(samples.pdf("v2")), "Sổ tay (sửa).pdf")
    assert material.current_version == 2
    assert [v.filename for v in services.versions(material)] == ["Sổ tay (sửa).pdf", "Sổ tay.pdf"]
    assert len(helpers.stored(data_dir)) == 2
    old = services.version_of(material, 1)
    assert services.file_path(old).read_bytes() == samples.pdf("v1")
    services.update(organiser, material, {"current_version": 1})
    assert material.version.filename == "Sổ tay.pdf"
    with pytest.raises(Invalid):
        services.update(organiser, material, {"current_version": 9})


def test_a_bad_new_version_changes_nothing(app: Any, organiser: Any, samples: Any) -> None:
    material = upload(organiser, samples.pdf(), "a.pdf")
    with pytest.raises(Invalid):
        services.add_version(organiser, material, io.BytesIO(samples.exe()), "a.pdf")
    db.session.refresh(material)
    assert material.current_version == 1 and count(MaterialVersion) == 1


def test_links(app: Any, organiser: Any) -> None:
    link = services.create_link(organiser, "https://www.youtube.com/watch?v=abc",
                                {"topic": "gender", "title": "Ghi hình buổi 2",
                                 "visibility": "shared"})
    assert link.kind.value == "link" and link.version is None and link.is_shared
    with pytest.raises(Conflict):
        services.add_version(organiser, link, io.BytesIO(b"%PDF-1.4"), "a.pdf")
    for bad in ("javascript:alert(1)", "ftp://example.org/x", "example.org", "https://",
                "https://exa mple.org"):
        with pytest.raises(Invalid) as info:
            services.create_link(organiser, bad, {"topic": "gender"})
        assert "url" in info.value.errors


def test_metadata_rules(app: Any, organiser: Any, samples: Any, make_site: Any,
                        make_session: Any) -> None:
    session = make_session([make_site()])
    with pytest.raises(Invalid) as info:
        upload(organiser, samples.pdf(), "a.pdf", topic="nope", language="Tiếng Việt",
               visibility="everyone")
    assert set(info.value.errors) == {"topic", "language", "visibility"}
    with pytest.raises(Invalid) as info:
        upload(organiser, samples.pdf(), "a.pdf", session_id=session.id, training_id=999)
    assert "training_id" in info.value.errors
    with pytest.raises(Invalid):
        upload(organiser, samples.pdf(), "a.pdf", session_id=session.id + 100)
    with pytest.raises(Invalid):
        upload(organiser, samples.pdf(), "a.pdf", title="bad\x00title")
    material = upload(organiser, samples.pdf(), "a.pdf", session_id=session.id,
                      title="  Tài  liệu  ")
    assert material.title == "Tài liệu" and material.session_id == session.id


def test_topics(app: Any, organiser: Any) -> None:
    keys = [t.key for t in services.list_topics()]
    assert keys[:2] == ["management", "gender"]
    topic = services.create_topic(organiser, name_vi="Kỹ năng số", name_en="Digital skills")
    assert topic.key == "digital-skills"
    assert services.create_topic(organiser, name_vi="Đọc sách").key == "doc-sach"
    with pytest.raises(Conflict):
        services.create_topic(organiser, name_vi="Khác", key="gender")
    assert count(Topic) == 4


def test_visibility(app: Any, organiser: Any, samples: Any) -> None:
    staff = upload(organiser, samples.pdf("a"), "a.pdf")
    shared = upload(organiser, samples.pdf("b"), "b.pdf", visibility="shared")
    with pytest.raises(NotFound):
        services.get_visible(None, staff.id)
    assert services.get_visible(None, shared.id) is shared
    assert services.get_visible(organiser, staff.id) is staff


def test_session_scope_covers_agenda_and_training(app: Any, organiser: Any, samples: Any,
                                                  make_site: Any, make_session: Any) -> None:
    from trainer.sessions.models import AgendaItem, Training

    training = Training(title="Tập huấn 2017", year=2017)
    db.session.add(training)
    db.session.flush()
    session = make_session([make_site()], training_id=training.id)
    other = make_session([make_site()], title="Khác")
    item = AgendaItem(session_id=session.id, title="Khai mạc")
    db.session.add(item)
    db.session.commit()
    on_training = upload(organiser, samples.pdf("t"), "t.pdf", training_id=training.id,
                         visibility="shared")
    on_item = upload(organiser, samples.pdf("i"), "i.pdf", agenda_item_id=item.id,
                     visibility="shared")
    on_session = upload(organiser, samples.pdf("s"), "s.pdf", session_id=session.id)
    elsewhere = upload(organiser, samples.pdf("o"), "o.pdf", session_id=other.id,
                       visibility="shared")
    ids = {m.id for m in db.session.scalars(services.list_materials(organiser,
                                                                    session_id=session.id))}
    assert ids == {on_training.id, on_item.id, on_session.id}
    assert {m.id for m in services.shared_for_session(session.id)} == {on_training.id,
                                                                       on_item.id}
    assert elsewhere.id not in ids


def test_search_is_accent_insensitive(app: Any, organiser: Any, samples: Any) -> None:
    upload(organiser, samples.pdf("a"), "a.pdf", title="Lồng ghép bình đẳng giới")
    upload(organiser, samples.pdf("b"), "b.pdf", title="Quản lý trung tâm")
    found = list(db.session.scalars(services.list_materials(organiser, q="long ghep DANG")))
    assert [m.title for m in found] == ["Lồng ghép bình đẳng giới"]
    assert list(db.session.scalars(services.list_materials(organiser, q="100%"))) == []


def test_download_counts_per_site(app: Any, organiser: Any, samples: Any, make_site: Any,
                                  make_user: Any) -> None:
    a, b = make_site(name="Huyện Cẩm Khê"), make_site(name="Huyện Yên Lập")
    coord_a = make_user("coordinator", sites=[a])
    coord_ab = make_user("coordinator", sites=[a, b])
    material = upload(organiser, samples.pdf(), "a.pdf", visibility="shared")
    # each account once a day; anonymous callers only through a signed link
    signed = services.signed_site_args(a.id)["sig"]
    for actor, requested, sig in ((coord_a, None, None), (coord_a, b.id, None),
                                  (coord_ab, b.id, None), (coord_ab, None, None),
                                  (None, a.id, None), (None, 99999, signed),
                                  (None, a.id, signed), (organiser, a.id, None)):
        site = services.download_site(actor, requested, sig)
        services.record_download(actor, material, 1, site, visitor="phone-1")
    by_site = {c.site_id: c.count for c in services.downloads_by_site(organiser, material)}
    assert by_site == {a.id: 2, b.id: 1, None: 1}
    assert services.download_total(material.id) == 4
    # a coordinator sees its own sites' counts
    assert {c.site_id for c in services.downloads_by_site(coord_a, material)} == {a.id}
    assert count(MaterialDownload) == 4


def test_delete_removes_unused_content_only(app: Any, organiser: Any, samples: Any,
                                            data_dir: Path, helpers: Any) -> None:
    a = upload(organiser, samples.pdf("shared"), "a.pdf")
    b = upload(organiser, samples.pdf("shared"), "b.pdf")
    services.add_version(organiser, a, io.BytesIO(samples.png()), "a.png")
    services.record_download(None, a, 1, None)
    assert len(helpers.stored(data_dir)) == 2
    services.delete_material(organiser, a)
    assert count(Material) == 1 and count(MaterialDownload) == 0
    files = helpers.stored(data_dir)
    assert [p.name for p in files] == [b.version.blob_sha256]
    services.delete_material(organiser, b)
    assert helpers.stored(data_dir) == [] and count(Blob) == 0
