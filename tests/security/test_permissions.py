"""Every page and API endpoint against every kind of caller, with the exact status expected.

The table below lists one or more requests per route (method + rule of app.url_map); a route
missing from it fails `test_every_route_is_in_the_table`, so a new endpoint has to be added
here with its expected answers.

Callers (the six columns of `expect`):
  anon      nobody: no cookie, no token
  trainee   no account, but the X-Attempt-Token of their quiz attempt (site A)
  a_on_b    a coordinator of site A, acting on site B's objects (its participant, check-in,
            roster, ...)
  a_on_a    the same coordinator on site A's objects
            (whatever a coordinator of A is answered, it never names a person of site B)
  org       an organiser
  admin     an administrator
API callers with an account send their bearer token; page callers their session cookie.

Codes: a number is the status; `L` is a redirect to the login page (302 to /login?next=...);
`302` a redirect anywhere else. Pages answer 302 to the login page for anonymous callers,
403 for a wrong role, 200 (or a 302 after a successful form) for the right one; the API answers
401 without credentials and 403 for a wrong role or site.

Every request runs in a transaction that is rolled back, against the same world (see
tests/security/conftest.py), so a successful DELETE does not disturb the next caller.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.security.conftest import PASSWORD, PDF, QUESTIONS, Frozen  # type: ignore[import-not-found]
from trainer import assets

STATIC_VERSION = assets.version(Path(__file__).resolve().parents[2] / "static")
CALLERS = ("anon", "trainee", "a_on_b", "a_on_a", "org", "admin")
ACCOUNT = {"a_on_b": "coord_a", "a_on_a": "coord_a", "org": "organiser", "admin": "admin"}

Body = Callable[[SimpleNamespace], dict[str, Any]]


@dataclass(frozen=True)
class R:
    method: str
    path: str                 # str.format over the caller's context (see context())
    expect: str               # six codes, in the order of CALLERS
    json: Body | None = None
    form: Body | None = None  # form fields; (BytesIO, filename) values make it multipart

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def codes(self) -> dict[str, str]:
        codes = self.expect.split()
        assert len(codes) == len(CALLERS), self.id
        return dict(zip(CALLERS, codes, strict=True))


def csv_file(text: str, name: str = "danh-sach.csv") -> tuple[io.BytesIO, str]:
    return io.BytesIO(text.encode("utf-8")), name


def pdf_file(name: str = "moi.pdf", extra: bytes = b"% moi\n") -> tuple[io.BytesIO, str]:
    return io.BytesIO(PDF + extra), name


START, END = "2030-03-01T07:30", "2030-03-01T11:30"
START_Z, END_Z = "2030-03-01T07:30:00+07:00", "2030-03-01T11:30:00+07:00"


def session_form(c: SimpleNamespace) -> dict[str, Any]:
    return {"title": "Phiên mới", "starts_at": START, "ends_at": END, "host_site_id": c.host,
            "site_ids": [c.site_a, c.site_b], "topics": "management"}


def question_form(c: SimpleNamespace) -> dict[str, Any]:
    return {"kind": "single", "text": "Câu hỏi mới?", "topic": "management", "points": "1",
            "option_rows": "2", "option_0": "Có", "option_1": "Không", "correct": "0"}


TABLE: list[R] = [
    # ------------------------------------------------------------------ app, docs, static
    R("GET", "/favicon.ico", "200 200 200 200 200 200"),
    R("GET", "/healthz", "200 200 200 200 200 200"),
    R("GET", "/ping", "200 200 200 200 200 200"),
    R("GET", "/static/css/app.css", "200 200 200 200 200 200"),
    R("GET", "/static/js/wall.js", "200 200 200 200 200 200"),
    R("GET", f"/static/v/{STATIC_VERSION}/js/wall.js", "200 200 200 200 200 200"),
    R("GET", "/sessions/checkin.webmanifest", "200 200 200 200 200 200"),
    R("GET", "/api/v1/openapi.json", "200 200 200 200 200 200"),
    R("GET", "/api/v1/docs", "200 200 200 200 200 200"),
    # ------------------------------------------------------------------ auth
    R("GET", "/", "L L 302 302 302 302"),
    R("GET", "/login", "200 200 200 200 200 200"),
    R("POST", "/login", "302 302 302 302 302 302",
      form=lambda c: {"username": "organiser", "password": PASSWORD}),
    R("POST", "/logout", "L L L L L L"),
    R("GET", "/users", "L L 403 403 403 200"),
    R("GET", "/users/new", "L L 403 403 403 200"),
    R("POST", "/users/new", "L L 403 403 403 302",
      form=lambda c: {"username": "nguoimoi", "password": PASSWORD, "role": "coordinator",
                      "site_ids": c.site, "active": "y"}),
    R("GET", "/users/{coordinator}", "L L 403 403 403 200"),
    R("POST", "/users/{coordinator}", "L L 403 403 403 302",
      form=lambda c: {"username": "doi-ten", "role": "coordinator", "site_ids": c.site,
                      "active": "y"}),
    R("POST", "/api/v1/auth/token", "201 201 201 201 201 201",
      json=lambda c: {"username": "organiser", "password": PASSWORD}),
    R("DELETE", "/api/v1/auth/token", "401 401 204 204 204 204"),
    R("GET", "/api/v1/auth/me", "401 401 200 200 200 200"),
    # log out everywhere: the account itself (a_on_a is {coordinator} of A), or an admin
    R("POST", "/users/{coordinator}/logout", "L L 403 L 403 302"),  # oneself: to the login page
    R("POST", "/api/v1/users/{coordinator}/logout", "401 401 403 204 403 204"),
    R("GET", "/api/v1/users", "401 401 403 403 403 200"),
    R("POST", "/api/v1/users", "401 401 403 403 403 201",
      json=lambda c: {"username": "nguoimoi", "password": PASSWORD, "role": "coordinator",
                      "site_ids": [c.site]}),
    # ------------------------------------------------------------------ sites
    R("GET", "/sites", "L L 200 200 200 200"),
    R("GET", "/sites/{site}", "L L 403 200 200 200"),
    R("GET", "/sites/new", "L L 403 403 200 200"),
    R("POST", "/sites/new", "L L 403 403 302 302",
      form=lambda c: {"code": "TS", "name": "Huyện Tân Sơn", "kind": "bridge"}),
    R("GET", "/sites/{site}/edit", "L L 403 403 200 200"),
    R("POST", "/sites/{site}/edit", "L L 403 403 302 302",
      form=lambda c: {"code": c.site_code, "name": "Tên mới", "kind": "bridge"}),
    R("POST", "/sites/{site}/units", "L L 403 403 302 302", form=lambda c: {"name": "Xã Mới"}),
    R("GET", "/sites/units/{unit}/edit", "L L 403 403 200 200"),
    R("POST", "/sites/units/{unit}/edit", "L L 403 403 302 302",
      form=lambda c: {"name": "Xã Đổi Tên"}),
    R("GET", "/api/v1/sites", "401 401 200 200 200 200"),
    R("POST", "/api/v1/sites", "401 401 403 403 201 201",
      json=lambda c: {"code": "TS", "name": "Huyện Tân Sơn"}),
    R("GET", "/api/v1/sites/{site}", "401 401 403 200 200 200"),
    R("PATCH", "/api/v1/sites/{site}", "401 401 403 403 200 200",
      json=lambda c: {"name": "Tên mới"}),
    R("GET", "/api/v1/sites/{site}/units", "401 401 403 200 200 200"),
    R("POST", "/api/v1/sites/{site}/units", "401 401 403 403 201 201",
      json=lambda c: {"name": "Xã Mới"}),
    # ------------------------------------------------------------------ participants
    R("GET", "/participants", "L L 200 200 200 200"),
    R("GET", "/participants?site_id={site}", "L L 403 200 200 200"),
    R("GET", "/participants/{participant}", "L L 403 200 200 200"),
    R("GET", "/participants/{participant}/edit", "L L 403 200 200 200"),
    R("POST", "/participants/{participant}/edit", "L L 403 302 302 302",
      form=lambda c: {"full_name": "Nguyễn Thị Mới", "sex": "female", "site_id": c.site}),
    R("GET", "/participants/new", "L L 200 200 200 200"),
    R("POST", "/participants/new", "L L 403 302 302 302",
      form=lambda c: {"full_name": "Người Mới", "sex": "male", "site_id": c.site}),
    R("GET", "/participants/{participant}/qr.svg", "L L 403 200 200 200"),
    R("GET", "/participants/badges?site_id={site}", "L L 403 200 200 200"),
    R("GET", "/participants/import", "L L 200 200 200 200"),
    R("POST", "/participants/import", "L L 403 200 200 200",
      form=lambda c: {"site_id": c.site, "file": csv_file(
          f"Họ và tên,Giới tính,Mã điểm cầu\nVũ Thị Hoa,Nữ,{c.site_code}\n")}),
    # the organiser's stash: nobody else's to confirm (404: an upload of one's own expired)
    R("POST", "/participants/import/{stash}", "L L 404 404 200 404"),
    R("POST", "/participants/import/{stash}/cancel", "L L 302 302 302 302"),
    # its bad rows: none in this upload (404), and nobody else's to read
    R("GET", "/participants/import/{stash}/errors.csv", "L L 404 404 404 404"),
    R("GET", "/participants/import/template.csv", "L L 200 200 200 200"),
    R("GET", "/participants/import/template.xlsx", "L L 200 200 200 200"),
    R("GET", "/api/v1/participants", "401 401 200 200 200 200"),
    R("GET", "/api/v1/participants?site_id={site}", "401 401 403 200 200 200"),
    R("POST", "/api/v1/participants", "401 401 403 201 201 201",
      json=lambda c: {"full_name": "Người Mới", "sex": "male", "site_id": c.site}),
    R("GET", "/api/v1/participants/{participant}", "401 401 403 200 200 200"),
    R("PATCH", "/api/v1/participants/{participant}", "401 401 403 200 200 200",
      json=lambda c: {"position": "Giám đốc"}),
    R("POST", "/api/v1/participants/import", "401 401 403 200 200 200",
      form=lambda c: {"site_id": str(c.site), "file": csv_file(
          f"Họ và tên,Giới tính,Mã điểm cầu\nVũ Thị Hoa,Nữ,{c.site_code}\n")}),
    # ------------------------------------------------------------------ trainings
    R("GET", "/trainings", "L L 403 403 200 200"),
    R("GET", "/trainings/{training}", "L L 403 403 200 200"),
    R("GET", "/trainings/new", "L L 403 403 200 200"),
    R("POST", "/trainings/new", "L L 403 403 302 302",
      form=lambda c: {"title": "Tập huấn mới", "year": "2026"}),
    R("GET", "/trainings/{training}/edit", "L L 403 403 200 200"),
    R("POST", "/trainings/{training}/edit", "L L 403 403 302 302",
      form=lambda c: {"title": "Tập huấn đổi tên", "year": "2025"}),
    R("GET", "/api/v1/trainings", "401 401 403 403 200 200"),
    R("POST", "/api/v1/trainings", "401 401 403 403 201 201",
      json=lambda c: {"title": "Tập huấn mới", "year": 2026}),
    R("GET", "/api/v1/trainings/{training}", "401 401 403 403 200 200"),
    R("PATCH", "/api/v1/trainings/{training}", "401 401 403 403 200 200",
      json=lambda c: {"title": "Tập huấn đổi tên"}),
    # ------------------------------------------------------------------ sessions
    R("GET", "/sessions", "L L 302 302 200 200"),
    R("GET", "/sessions/mine", "L L 200 200 200 200"),
    R("GET", "/sessions/new", "L L 403 403 200 200"),
    R("POST", "/sessions/new", "L L 403 403 302 302", form=session_form),
    R("GET", "/sessions/{session}", "L L 200 200 200 200"),
    R("GET", "/sessions/{other_session}", "L L 403 403 200 200"),
    R("GET", "/sessions/{session}.ics", "L L 200 200 200 200"),
    R("GET", "/sessions/{session}/edit", "L L 403 403 200 200"),
    R("POST", "/sessions/{session}/edit", "L L 403 403 302 302", form=session_form),
    R("POST", "/sessions/{other_session}/delete", "L L 403 403 302 302"),
    R("POST", "/sessions/{session}/status", "L L 403 403 302 302",
      form=lambda c: {"status": "ended"}),
    R("GET", "/sessions/{session}/copy", "L L 403 403 200 200"),
    R("POST", "/sessions/{session}/copy", "L L 403 403 302 302",
      form=lambda c: {"title": "Phiên sao chép", "starts_at": START, "ends_at": END,
                      "agenda": "1"}),
    R("GET", "/sessions/{session}/agenda", "L L 200 200 200 200"),
    R("POST", "/sessions/{session}/agenda", "L L 403 403 302 302",
      form=lambda c: {"time": "09:00", "title": "Thảo luận"}),
    R("GET", "/sessions/{session}/agenda/{agenda_item}/edit", "L L 403 403 200 200"),
    R("POST", "/sessions/{session}/agenda/{agenda_item}/edit", "L L 403 403 302 302",
      form=lambda c: {"time": "08:15", "title": "Khai mạc hội nghị"}),
    R("POST", "/sessions/{session}/agenda/{agenda_item}/delete", "L L 403 403 302 302"),
    R("POST", "/sessions/{session}/agenda/{agenda_item}/move", "L L 403 403 302 302",
      form=lambda c: {"direction": "down"}),
    R("GET", "/sessions/{session}/sites/{site}", "L L 403 403 200 200"),
    R("POST", "/sessions/{session}/sites/{site}", "L L 403 403 302 302",
      form=lambda c: {"chair_name": "Ông Nguyễn Văn Chủ", "chair_title": "Phó Chủ tịch"}),
    # a coordinator of one site in the session goes straight to its roster
    R("GET", "/sessions/{session}/roster", "L L 302 302 200 200"),
    R("POST", "/sessions/{session}/roster/import", "L L 403 403 200 200",
      form=lambda c: {"file": csv_file(f"Mã học viên\n{c.newcomer_code}\n")}),
    # the organiser's stashed upload (a participant list: nobody in it can be added: 422);
    # nobody else's to confirm, cancel or read
    R("POST", "/sessions/{session}/roster/import/{stash}", "L L 403 403 422 404"),
    R("POST", "/sessions/{session}/roster/import/{stash}/cancel", "L L 403 403 302 404"),
    R("GET", "/sessions/{session}/roster/import/{stash}/errors.csv", "L L 403 403 404 404"),
    R("GET", "/sessions/{session}/sites/{site}/roster", "L L 403 200 200 200"),
    R("POST", "/sessions/{session}/sites/{site}/roster", "L L 403 403 302 302",
      form=lambda c: {"mode": "code", "code": c.newcomer_code}),
    R("POST", "/sessions/{session}/sites/{site}/roster/{newcomer}/remove",
      "L L 403 403 302 302"),
    R("POST", "/sessions/{session}/sites/{site}/roster/clear", "L L 403 403 302 302"),
    R("GET", "/calendar", "L L 200 200 200 200"),
    R("GET", "/calendar/{calendar_key}.ics", "200 200 200 200 200 200"),
    R("GET", "/calendar/not-a-key.ics", "404 404 404 404 404 404"),
    R("GET", "/api/v1/sessions", "401 401 200 200 200 200"),
    R("POST", "/api/v1/sessions", "401 401 403 403 201 201",
      json=lambda c: {"title": "Phiên mới", "starts_at": START_Z, "ends_at": END_Z,
                      "host_site_id": c.host, "site_ids": [c.site]}),
    R("GET", "/api/v1/sessions/{session}", "401 401 200 200 200 200"),
    R("GET", "/api/v1/sessions/{other_session}", "401 401 403 403 200 200"),
    R("PATCH", "/api/v1/sessions/{session}", "401 401 403 403 200 200",
      json=lambda c: {"title": "Phiên đổi tên"}),
    R("DELETE", "/api/v1/sessions/{other_session}", "401 401 403 403 204 204"),
    R("POST", "/api/v1/sessions/{session}/status", "401 401 403 403 200 200",
      json=lambda c: {"status": "ended"}),
    R("POST", "/api/v1/sessions/{session}/copy", "401 401 403 403 201 201",
      json=lambda c: {"starts_at": START_Z, "ends_at": END_Z}),
    R("GET", "/api/v1/sessions/{session}/agenda", "401 401 200 200 200 200"),
    R("PUT", "/api/v1/sessions/{session}/agenda", "401 401 403 403 200 200",
      json=lambda c: {"items": [{"time": "08:00", "title": "Khai mạc"}]}),
    R("POST", "/api/v1/sessions/{session}/agenda", "401 401 403 403 201 201",
      json=lambda c: {"title": "Thảo luận"}),
    R("PATCH", "/api/v1/sessions/{session}/agenda/{agenda_item}", "401 401 403 403 200 200",
      json=lambda c: {"title": "Khai mạc hội nghị"}),
    R("DELETE", "/api/v1/sessions/{session}/agenda/{agenda_item}", "401 401 403 403 204 204"),
    R("PATCH", "/api/v1/sessions/{session}/sites/{site}", "401 401 403 403 200 200",
      json=lambda c: {"chair_name": "Ông Nguyễn Văn Chủ"}),
    R("GET", "/api/v1/sessions/{session}/registrations", "401 401 200 200 200 200"),
    R("GET", "/api/v1/sessions/{session}/registrations?site_id={site}",
      "401 401 403 200 200 200"),
    R("POST", "/api/v1/sessions/{session}/registrations", "401 401 403 403 200 200",
      json=lambda c: {"participant_ids": [c.participant]}),
    R("POST", "/api/v1/sessions/{session}/registrations/import", "401 401 403 403 200 200",
      form=lambda c: {"file": csv_file(f"Mã học viên\n{c.newcomer_code}\n")}),
    R("DELETE", "/api/v1/sessions/{session}/registrations/{newcomer}",
      "401 401 403 403 204 204"),
    # ------------------------------------------------------------------ check-in
    R("GET", "/sessions/{session}/checkin/{site}", "L L 403 200 200 200"),
    R("GET", "/sessions/checkin", "L L 302 302 302 302"),  # on to today's desk
    R("GET", "/sessions/{session}/sites/{site}/sign-in-sheet", "L L 403 200 200 200"),
    R("GET", "/sessions/{session}/wall", "L L 200 200 200 200"),
    R("GET", "/sessions/{other_session}/wall", "L L 403 403 200 200"),
    R("GET", "/sessions/{session}/projector", "L L 200 200 200 200"),
    R("GET", "/sessions/{session}/wall/feed", "L L 200 200 200 200"),
    R("GET", "/sessions/{other_session}/wall/feed", "L L 403 403 200 200"),
    R("GET", "/sessions/{session}/flagged", "L L 403 403 200 200"),
    R("POST", "/sessions/{session}/flagged/{issue}/seen", "L L 403 403 302 302"),
    R("GET", "/sessions/checkin-sw.js", "200 200 200 200 200 200"),
    R("GET", "/api/v1/sessions/{session}/attendance", "401 401 200 200 200 200"),
    R("GET", "/api/v1/sessions/{other_session}/attendance", "401 401 403 403 200 200"),
    R("GET", "/api/v1/sessions/{other_session}/sites", "401 401 403 403 200 200"),
    R("GET", "/api/v1/sessions/{other_session}/registrations", "401 401 403 403 200 200"),
    R("GET", "/api/v1/sessions/{other_session}/agenda", "401 401 403 403 200 200"),
    R("GET", "/sessions/{other_session}/projector", "L L 403 403 200 200"),
    R("GET", "/sessions/{other_session}/agenda", "L L 403 403 200 200"),
    R("GET", "/sessions/{other_session}.ics", "L L 403 403 200 200"),
    R("GET", "/sessions/{other_session}/roster", "L L 403 403 200 200"),
    R("GET", "/sessions/{other_session}/report.csv", "L L 403 403 200 200"),
    R("GET", "/sessions/{other_session}/attendance.csv", "L L 403 403 200 200"),
    R("POST", "/api/v1/sessions/{session}/checkins", "401 401 403 201 201 201",
      json=lambda c: {"site_id": c.site, "participant_id": c.newcomer}),
    R("DELETE", "/api/v1/sessions/{session}/checkins/{checkin}", "401 401 403 204 204 204"),
    R("POST", "/api/v1/sessions/{session}/walkins", "401 401 403 201 201 201",
      json=lambda c: {"site_id": c.site, "full_name": "Người Đến Muộn", "sex": "female"}),
    R("GET", "/api/v1/sessions/{session}/roster?site_id={site}", "401 401 403 200 200 200"),
    R("GET", "/api/v1/sessions/{session}/sites", "401 401 200 200 200 200"),
    R("POST", "/api/v1/sessions/{session}/sites/{site}/status", "401 401 403 200 200 200",
      json=lambda c: {"status": "online"}),
    # the video room (this world's sessions are not on trainer's own room: 409 where the
    # caller may act; tests/conference covers builtin sessions)
    R("GET", "/api/v1/sessions/{session}/conference", "401 401 200 200 200 200"),
    R("GET", "/api/v1/sessions/{other_session}/conference", "401 401 403 403 200 200"),
    R("POST", "/api/v1/sessions/{session}/conference/join", "401 401 403 409 409 409",
      json=lambda c: {"site_id": c.site, "role": "site"}),
    R("POST", "/api/v1/sessions/{session}/conference/floor", "401 401 403 403 409 409",
      json=lambda c: {"site_id": None}),
    R("POST", "/api/v1/sessions/{session}/conference/mute", "401 401 403 403 409 409",
      json=lambda c: {"site_id": c.site, "muted": True}),
    R("POST", "/api/v1/sessions/{session}/conference/hand", "401 401 403 409 409 409",
      json=lambda c: {"site_id": c.site, "raised": True}),
    R("GET", "/api/v1/sessions/{session}/conference/recording", "401 401 200 200 200 200"),
    R("GET", "/api/v1/sessions/{other_session}/conference/recording",
      "401 401 403 403 200 200"),
    R("POST", "/api/v1/sessions/{session}/conference/recording", "401 401 403 403 409 409",
      json=lambda c: {"recording": True}),
    R("POST", "/conference/janus-events", "401 401 401 401 401 401", json=lambda c: []),
    R("GET", "/sessions/{session}/conference/host", "L L 403 403 200 200"),
    R("GET", "/sessions/{session}/conference/site/{site}", "L L 403 200 200 200"),
    R("POST", "/api/v1/sessions/{session}/rollcall", "401 401 403 403 200 200"),
    R("DELETE", "/api/v1/sessions/{session}/rollcall", "401 401 403 403 204 204"),
    R("POST", "/api/v1/sessions/{session}/rollcall/{site}", "401 401 403 200 200 200"),
    R("GET", "/api/v1/sessions/{session}/flagged", "401 401 403 403 200 200"),
    R("POST", "/api/v1/sessions/{session}/issues/{issue}/resolve", "401 401 403 403 204 204"),
    # ------------------------------------------------------------------ materials
    R("GET", "/materials", "L L 200 200 200 200"),
    R("GET", "/materials/{material_staff}", "L L 200 200 200 200"),
    R("GET", "/materials/{material_staff}/edit", "L L 403 403 200 200"),
    R("POST", "/materials/{material_staff}/edit", "L L 403 403 302 302",
      form=lambda c: {"title": "Tên mới", "topic": c.material_topic, "language": "vi",
                      "visibility": "staff"}),
    R("POST", "/materials/{material_staff}/delete", "L L 403 403 302 302"),
    # staff-only files do not exist for callers without an account; shared ones are public
    R("GET", "/materials/{material_staff}/file", "404 404 200 200 200 200"),
    R("GET", "/materials/{material_shared}/file", "200 200 200 200 200 200"),
    R("GET", "/materials/{material_link}/file", "302 302 302 302 302 302"),
    R("GET", "/materials/{material_staff}/versions/1/file", "404 404 200 200 200 200"),
    R("POST", "/materials/{material_staff}/versions", "L L 403 403 302 302",
      form=lambda c: {"file": pdf_file()}),
    R("POST", "/materials/{material_staff}/versions/1/current", "L L 403 403 302 302"),
    R("GET", "/materials/upload", "L L 403 403 200 200"),
    R("POST", "/materials/upload", "L L 403 403 302 302",
      form=lambda c: {"files": pdf_file(), "topic": c.material_topic, "language": "vi",
                      "visibility": "staff"}),
    R("GET", "/materials/link", "L L 403 403 200 200"),
    R("POST", "/materials/link", "L L 403 403 302 302",
      form=lambda c: {"url": "https://example.org/moi", "title": "Liên kết mới",
                      "topic": c.material_topic, "language": "vi", "visibility": "shared"}),
    R("GET", "/materials/topics", "L L 200 200 200 200"),
    R("POST", "/materials/topics", "L L 403 403 302 302",
      form=lambda c: {"name_vi": "Chủ đề mới", "name_en": "New topic"}),
    R("GET", "/s/{session}/materials", "200 200 200 200 200 200"),
    R("GET", "/s/{session}", "200 200 200 200 200 200"),
    R("GET", "/api/v1/materials", "401 401 200 200 200 200"),
    R("POST", "/api/v1/materials", "401 401 403 403 201 201",
      form=lambda c: {"file": pdf_file(), "title": "Tài liệu mới", "topic": c.material_topic,
                      "visibility": "staff"}),
    R("GET", "/api/v1/materials/{material_staff}", "401 401 200 200 200 200"),
    R("PATCH", "/api/v1/materials/{material_staff}", "401 401 403 403 200 200",
      json=lambda c: {"title": "Tên mới"}),
    R("DELETE", "/api/v1/materials/{material_staff}", "401 401 403 403 204 204"),
    R("GET", "/api/v1/materials/{material_staff}/downloads", "401 401 200 200 200 200"),
    R("GET", "/api/v1/materials/{material_staff}/versions", "401 401 200 200 200 200"),
    R("POST", "/api/v1/materials/{material_staff}/versions", "401 401 403 403 201 201",
      form=lambda c: {"file": pdf_file()}),
    R("GET", "/api/v1/materials/topics", "401 401 200 200 200 200"),
    R("POST", "/api/v1/materials/topics", "401 401 403 403 201 201",
      json=lambda c: {"name_vi": "Chủ đề mới"}),
    # ------------------------------------------------------------------ quizzes
    R("GET", "/q/{short_code}", "200 200 200 200 200 200"),
    R("GET", "/quizzes/{quiz}/take", "200 200 200 200 200 200"),
    R("GET", "/quizzes/bank", "L L 403 403 200 200"),
    R("GET", "/quizzes/bank/new", "L L 403 403 200 200"),
    R("POST", "/quizzes/bank/new", "L L 403 403 302 302", form=question_form),
    R("GET", "/quizzes/bank/{question}/edit", "L L 403 403 200 200"),
    R("POST", "/quizzes/bank/{question}/edit", "L L 403 403 302 302",
      form=lambda c: {"kind": "single", "text": QUESTIONS[0]["text"], "topic": "management",
                      "points": "1", "explanation": "Giải thích mới", "option_rows": "2",
                      "option_0": "Một", "option_1": "Hai", "correct": "0"}),
    R("POST", "/quizzes/bank/{question}/retire", "L L 403 403 302 302"),
    R("GET", "/quizzes/new", "L L 403 403 200 200"),
    R("POST", "/quizzes/new", "L L 403 403 302 302",
      form=lambda c: {"session_id": c.session, "title": "Bài mới", "time_limit_min": "10",
                      "pass_percent": "50", "attempts_allowed": "1",
                      "question_ids": c.question}),
    R("GET", "/quizzes/{draft_quiz}/edit", "L L 403 403 200 200"),
    R("POST", "/quizzes/{draft_quiz}/edit", "L L 403 403 302 302",
      form=lambda c: {"session_id": c.session, "title": "Nháp đổi tên",
                      "time_limit_min": "10", "pass_percent": "50", "attempts_allowed": "1",
                      "question_ids": c.question}),
    R("GET", "/quizzes/{quiz}", "L L 403 403 200 200"),
    R("POST", "/quizzes/{quiz}/status", "L L 403 403 302 302",
      form=lambda c: {"status": "closed"}),
    R("GET", "/quizzes/{quiz}/qr.svg", "L L 200 200 200 200"),
    R("GET", "/quizzes/{quiz}/screen", "L L 200 200 200 200"),
    R("GET", "/quizzes/{quiz}/stats", "L L 200 200 200 200"),
    R("GET", "/quizzes/{quiz}/preview", "L L 403 403 200 200"),
    R("GET", "/quizzes/{quiz}/live.json", "L L 200 200 200 200"),
    R("GET", "/quizzes/{quiz}/results", "L L 403 403 200 200"),
    R("GET", "/quizzes/{quiz}/results.xlsx", "L L 403 403 200 200"),
    R("GET", "/quizzes/{quiz}/paper?site_id={site}", "L L 200 200 200 200"),
    # another site's participant is not offered to a coordinator: "choose a participant"
    R("POST", "/quizzes/{quiz}/paper?site_id={site}", "L L 422 302 302 302",
      form=lambda c: {"participant_id": c.trainee, f"q_{c.question}": c.option_ok}),
    R("GET", "/api/v1/questions", "401 401 403 403 200 200"),
    R("POST", "/api/v1/questions", "401 401 403 403 201 201",
      json=lambda c: {"kind": "single", "text": "Câu hỏi mới?", "topic": "management",
                      "options": [{"text": "Có", "correct": True},
                                  {"text": "Không", "correct": False}]}),
    R("GET", "/api/v1/questions/{question}", "401 401 403 403 200 200"),
    R("PATCH", "/api/v1/questions/{question}", "401 401 403 403 200 200",
      json=lambda c: {"explanation": "Giải thích mới"}),
    R("GET", "/api/v1/questions/topics", "401 401 403 403 200 200"),
    R("POST", "/api/v1/questions/topics", "401 401 403 403 201 201",
      json=lambda c: {"key": "moi", "name": "Chủ đề mới"}),
    R("GET", "/api/v1/quizzes", "401 401 200 200 200 200"),
    R("POST", "/api/v1/quizzes", "401 401 403 403 201 201",
      json=lambda c: {"session_id": c.session, "title": "Bài mới", "questions": QUESTIONS}),
    R("GET", "/api/v1/quizzes/{quiz}", "401 401 403 403 200 200"),
    R("PATCH", "/api/v1/quizzes/{draft_quiz}", "401 401 403 403 200 200",
      json=lambda c: {"title": "Nháp đổi tên"}),
    R("POST", "/api/v1/quizzes/{quiz}/status", "401 401 403 403 200 200",
      json=lambda c: {"status": "closed"}),
    R("GET", "/api/v1/quizzes/{quiz}/intro", "200 200 200 200 200 200"),
    # the trainee's attempt resumes only for the device holding it, never for a code alone
    R("POST", "/api/v1/quizzes/{quiz}/attempts", "403 200 403 403 403 403",
      json=lambda c: {"participant_code": c.trainee_code}),
    # handing it over to another device: the trainee's site coordinator, or staff
    R("POST", "/api/v1/attempts/{attempt}/handover", "401 401 403 204 204 204"),
    R("POST", "/api/v1/quizzes/{quiz}/paper", "401 401 403 201 201 201",
      json=lambda c: {"participant_id": c.trainee,
                      "answers": {str(c.question): [c.option_ok]}}),
    R("GET", "/api/v1/quizzes/{quiz}/results", "401 401 403 403 200 200"),
    R("GET", "/api/v1/quizzes/{quiz}/results.xlsx", "401 401 403 403 200 200"),
    R("GET", "/api/v1/quizzes/{quiz}/progress", "401 401 200 200 200 200"),
    R("GET", "/api/v1/quizzes/{quiz}/participants", "401 401 200 200 200 200"),
    R("GET", "/api/v1/quizzes/{quiz}/participants?site_id={site}", "401 401 403 200 200 200"),
    # attempts answer to their X-Attempt-Token only (a bearer token is not one)
    R("GET", "/api/v1/attempts/{attempt}", "401 200 401 401 401 401"),
    R("PUT", "/api/v1/attempts/{attempt}/answers", "401 200 401 401 401 401",
      json=lambda c: {"answers": {str(c.question): [c.option_ok]}}),
    R("POST", "/api/v1/attempts/{attempt}/submit", "401 200 401 401 401 401"),
    # ... and a trainee's token opens no one else's attempt
    R("GET", "/api/v1/attempts/{other_attempt}", "401 403 401 401 401 401"),
    R("PUT", "/api/v1/attempts/{other_attempt}/answers", "401 403 401 401 401 401",
      json=lambda c: {"answers": {}}),
    R("POST", "/api/v1/attempts/{other_attempt}/submit", "401 403 401 401 401 401"),
    # a quiz of a session without site A: nothing of it for A's coordinator
    R("GET", "/api/v1/quizzes/{other_quiz}/progress", "401 401 403 403 200 200"),
    R("GET", "/api/v1/quizzes/{other_quiz}/participants", "401 401 403 403 200 200"),
    R("GET", "/quizzes/{other_quiz}/screen", "L L 403 403 200 200"),
    R("GET", "/quizzes/{other_quiz}/live.json", "L L 403 403 200 200"),
    R("GET", "/quizzes/{other_quiz}/paper", "L L 403 403 200 200"),
    # ------------------------------------------------------------------ reports
    R("GET", "/reports", "L L 200 200 200 200"),
    R("GET", "/reports/coverage?year={year}", "L L 200 200 200 200"),
    R("GET", "/reports/gender?year={year}", "L L 200 200 200 200"),
    R("GET", "/reports/sessions/{session}", "L L 200 200 200 200"),
    R("GET", "/reports/sessions/{other_session}", "L L 403 403 200 200"),
    R("GET", "/reports/sessions/{session}/certificates?site_id={site}",
      "L L 403 200 200 200"),
    R("GET", "/reports/trainings/{training}", "L L 200 200 200 200"),
    R("GET", "/reports/trainings/{training}/report.xlsx", "L L 200 200 200 200"),
    R("GET", "/reports/years/{year}", "L L 200 200 200 200"),
    R("GET", "/reports/years/{year}/report.xlsx", "L L 200 200 200 200"),
    R("GET", "/sessions/{session}/report.csv", "L L 200 200 200 200"),
    R("GET", "/sessions/{session}/report.xlsx", "L L 200 200 200 200"),
    R("GET", "/sessions/{session}/report.pdf", "L L 200 200 200 200"),
    R("GET", "/sessions/{other_session}/report.pdf", "L L 403 403 200 200"),
    R("GET", "/reports/trainings/{training}/report.pdf", "L L 200 200 200 200"),
    R("GET", "/reports/documents", "L L 403 403 403 200"),
    R("POST", "/reports/documents", "L L 403 403 403 302",
      form=lambda c: {"issuing_agency": "Sở Giáo dục và Đào tạo", "signer_name": "Lê Văn Tú"}),
    R("GET", "/reports/documents/seal.png", "L L 403 403 403 404"),
    R("GET", "/sessions/{session}/attendance.csv", "L L 200 200 200 200"),
    R("GET", "/sessions/{session}/attendance.xlsx", "L L 200 200 200 200"),
    R("GET", "/sessions/{session}/certificates.pdf?site_id={site}", "L L 403 200 200 200"),
    R("GET", "/certificates/{session}/{participant}.pdf", "L L 403 200 200 200"),
    R("GET", "/verify/{certificate}", "200 200 200 200 200 200"),
    R("GET", "/api/v1/reports/sessions/{session}", "401 401 200 200 200 200"),
    R("GET", "/api/v1/reports/sessions/{other_session}", "401 401 403 403 200 200"),
    R("GET", "/api/v1/reports/sessions/{session}/certificates?site_id={site}",
      "401 401 403 200 200 200"),
    R("GET", "/api/v1/reports/trainings/{training}", "401 401 200 200 200 200"),
    R("GET", "/api/v1/reports/years/{year}", "401 401 200 200 200 200"),
    R("GET", "/api/v1/reports/coverage?year={year}", "401 401 200 200 200 200"),
    R("GET", "/api/v1/reports/gender?year={year}", "401 401 200 200 200 200"),
]


# --------------------------------------------------------------------------- running


def context(frozen: Frozen, caller: str) -> SimpleNamespace:
    """The values a request template is filled with: the world, then the side acted on
    (site B for `a_on_b`, site A for everyone else)."""
    w = frozen.world
    side = w.b if caller == "a_on_b" else w.a
    values = {k: v for k, v in vars(w).items() if k not in ("a", "b", "users", "tokens")}
    values.update(vars(side))
    other = w.a if caller == "a_on_b" else w.b
    values.update(site_a=w.a.site, site_b=w.b.site, users=w.users,
                  other_attempt=other.attempt)
    return SimpleNamespace(**values)


def send(frozen: Frozen, route: R, caller: str) -> Any:
    ctx = context(frozen, caller)
    path = route.path.format(**vars(ctx))
    client = frozen.app.test_client()
    headers: dict[str, str] = {}
    account = ACCOUNT.get(caller)
    if path.startswith("/api/"):
        if account:
            headers["Authorization"] = f"Bearer {frozen.world.tokens[account]}"
    elif account:
        with client.session_transaction() as s:
            s["_user_id"] = f"{frozen.world.users[account]}.0"  # "<id>.<session version>"
            s["_fresh"] = True
    if caller == "trainee":
        headers["X-Attempt-Token"] = ctx.token
    kwargs: dict[str, Any] = {"headers": headers}
    if route.json is not None:
        kwargs["json"] = route.json(ctx)
    if route.form is not None:
        kwargs["data"] = route.form(ctx)
    # Pages render as in production: with CSRF on, so FlaskForm forms carry their token too
    # (a GET is never checked; the test config turns CSRF off for the POSTs of this table).
    config = frozen.app.config
    before = config["WTF_CSRF_ENABLED"]
    config["WTF_CSRF_ENABLED"] = route.method == "GET" or before
    try:
        return client.open(path, method=route.method, **kwargs), path
    finally:
        config["WTF_CSRF_ENABLED"] = before


# --------------------------------------------------------------------------- what every answer
# must carry (checked on each response of the table, so on every page, API answer and file)

FILE_ENDPOINTS = ("materials.download", "materials.download_version")


def csp(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def header_problems(response: Any, endpoint: str | None) -> list[str]:
    """Security headers: nosniff everywhere; a CSP whose scripts come from this site only and
    that nobody may frame, except uploaded files (previews framed by our own pages only)."""
    problems = []
    h = response.headers
    if h.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    policy = csp(response)
    if endpoint in FILE_ENDPOINTS and response.status_code in (200, 206):
        if policy.get("default-src") != ["'none'"] or "script-src" in policy:
            problems.append(f"file CSP lets scripts run: {h.get('Content-Security-Policy')}")
        if policy.get("frame-ancestors") != ["'self'"] or h.get("X-Frame-Options") != "SAMEORIGIN":
            problems.append("a file may be framed by other sites")
        return problems
    if policy.get("script-src") != ["'self'"] or policy.get("default-src") != ["'self'"]:
        problems.append(f"CSP script-src is not 'self' only: {h.get('Content-Security-Policy')}")
    if policy.get("object-src") != ["'none'"] or policy.get("base-uri") != ["'self'"]:
        problems.append("CSP lets plugins in or moves the base URI")
    if policy.get("frame-ancestors") != ["'none'"] or h.get("X-Frame-Options") != "DENY":
        problems.append("the answer may be framed")
    return problems


class PageScan(HTMLParser):
    """Inline scripts, event-handler attributes, javascript: links, POST forms without a CSRF
    token."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.form: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script" and not a.get("src"):
            self.problems.append(f"inline <script {a}>")
        for name, value in a.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler attribute")
            if name in ("href", "src", "action", "formaction") and \
                    value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "form":
            self.form = {"post": a.get("method", "get").lower() == "post", "token": False,
                         "action": a.get("action", "")}
        if tag == "input" and self.form is not None and a.get("name") == "csrf_token" and \
                a.get("value"):
            self.form["token"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.form is not None:
            if self.form["post"] and not self.form["token"]:
                self.problems.append(f"POST form to {self.form['action']!r} without csrf_token")
            self.form = None


def page_problems(body: str) -> list[str]:
    scan = PageScan()
    scan.feed(body)
    scan.close()
    return scan.problems


def outcome(response: Any) -> str:
    if response.status_code == 302:
        target = urlsplit(response.headers.get("Location", "")).path
        return "L" if target == "/login" else "302"
    return str(response.status_code)


@pytest.mark.parametrize("route", TABLE, ids=[r.id for r in TABLE])
def test_route(frozen: Frozen, route: R) -> None:
    wrong = []
    for caller, expected in route.codes().items():
        with frozen.isolated(files=route.method != "GET"):
            response, path = send(frozen, route, caller)
            got = outcome(response)
            body = response.get_data().decode("utf-8", "replace")
            response.close()  # a file sent by send_file stays open until then
            if got != expected:
                wrong.append(f"{caller}: {route.method} {path} -> {got}, expected {expected}"
                             f"\n    {body[:300]!r}")
            assert response.status_code < 500, f"{caller}: {path}: {body[:2000]}"
            if caller in ("a_on_a", "a_on_b") and 200 <= response.status_code < 300 \
                    and route.codes()["anon"] in ("401", "L"):
                wrong += [f"{caller}: {route.method} {path}: shows {x!r}, of site B"
                          for x in frozen.world.b.people if x in body]
            endpoint = endpoint_of(frozen, route, path)
            problems = header_problems(response, endpoint)
            if response.status_code == 200 and response.mimetype == "text/html":
                problems += page_problems(body)
            wrong += [f"{caller}: {route.method} {path}: {p}" for p in problems]
    assert not wrong, "\n".join(wrong)


def endpoint_of(frozen: Frozen, route: R, path: str) -> str | None:
    adapter = frozen.app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(urlsplit(path).path, method=route.method)
    except Exception:  # noqa: BLE001 - 404 / 405: no endpoint
        return None
    return str(endpoint)


def test_every_route_is_in_the_table(frozen: Frozen) -> None:
    """Each (rule, method) of the application is exercised by the table."""
    adapter = frozen.app.url_map.bind("localhost")
    covered = set()
    for route in TABLE:
        path = route.path.format(**vars(context(frozen, "a_on_a")))
        rule, _args = adapter.match(urlsplit(path).path, method=route.method, return_rule=True)
        covered.add((rule.rule, route.method))
    wanted = {(rule.rule, method) for rule in frozen.app.url_map.iter_rules()
              for method in rule.methods or () if method not in ("HEAD", "OPTIONS")}
    missing = sorted(wanted - covered)
    assert not missing, "routes missing from the permission table: " + ", ".join(
        f"{m} {r}" for r, m in missing)


def test_lists_hold_only_what_the_caller_may_open(frozen: Frozen) -> None:
    """A coordinator's lists leave out the sessions, quizzes and sites it may not open."""
    w = frozen.world

    def ids(path: str, account: str) -> set[int]:
        with frozen.isolated(files=False):
            response = frozen.app.test_client().get(
                path, headers={"Authorization": f"Bearer {w.tokens[account]}"})
            assert response.status_code == 200, path
            return {item["id"] for item in response.get_json()["items"]}

    assert ids("/api/v1/quizzes", "organiser") >= {w.quiz, w.other_quiz}
    assert w.other_quiz not in ids("/api/v1/quizzes", "coord_a")
    assert w.quiz in ids("/api/v1/quizzes", "coord_a")
    assert ids(f"/api/v1/quizzes?session_id={w.other_session}", "coord_a") == set()
    assert ids("/api/v1/sessions", "coord_a") == {w.session}
    assert ids("/api/v1/sessions", "organiser") == {w.session, w.other_session}
    assert ids("/api/v1/sites", "coord_a") == {w.a.site}
    assert ids("/api/v1/sites", "organiser") == {w.host, w.a.site, w.b.site}
