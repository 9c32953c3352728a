"""Fixtures for the check-in pages: a small session over three sites with people and accounts."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from html.parser import HTMLParser
from typing import Any

import pytest


class World:
    """host and bridge take part in `session`; `other` does not. Accounts are made on first
    use (hashing a password is slow): organiser, admin, coord_bridge, coord_host (a
    coordinator of the host site) and coord_other (of a site outside the session)."""

    def __init__(self, make_user: Callable[..., Any], **parts: Any) -> None:
        self._make_user = make_user
        self.host = parts["host"]
        self.bridge = parts["bridge"]
        self.other = parts["other"]
        self.session = parts["session"]
        self.people: list[Any] = parts["people"]

    @cached_property
    def organiser(self) -> Any:
        return self._make_user("organiser")

    @cached_property
    def admin(self) -> Any:
        return self._make_user("admin")

    @cached_property
    def coord_bridge(self) -> Any:
        return self._make_user("coordinator", sites=[self.bridge])

    @cached_property
    def coord_host(self) -> Any:
        return self._make_user("coordinator", sites=[self.host])

    @cached_property
    def coord_other(self) -> Any:
        return self._make_user("coordinator", sites=[self.other])


@pytest.fixture
def world(make_site: Callable[..., Any], make_user: Callable[..., Any],
          make_participant: Callable[..., Any], make_session: Callable[..., Any],
          register: Callable[..., Any]) -> World:
    host = make_site(code="VT", name="Thành phố Việt Trì", kind="host")
    bridge = make_site(code="HH", name="Huyện Hạ Hòa", units=("Xã Ấm Hạ", "Xã Gia Điền"))
    other = make_site(code="TS", name="Huyện Tân Sơn")
    session = make_session([host, bridge], title="Quản lý trung tâm học tập cộng đồng")
    people = [
        make_participant(bridge, "Nguyễn Thị Hà", "female", unit="Xã Ấm Hạ"),
        make_participant(bridge, "Trần Văn Đức", "male", unit="Xã Gia Điền"),
        make_participant(bridge, "Lê Thị Mai", "female"),
        make_participant(host, "Phạm Văn An", "male"),
    ]
    register(session, people)
    return World(make_user, host=host, bridge=bridge, other=other, session=session,
                 people=people)


class PageScan(HTMLParser):
    """Collects what the page tests look at: scripts, event-handler attributes, elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[tuple[str, str]] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        for name, _value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append((tag, name))
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script_text.append(data)

    def by_testid(self, testid: str) -> list[dict[str, str | None]]:
        return [a for _t, a in self.elements if a.get("data-testid") == testid]

    def by_id(self, element_id: str) -> dict[str, str | None] | None:
        for _t, a in self.elements:
            if a.get("id") == element_id:
                return a
        return None


def scan(html: str) -> PageScan:
    parser = PageScan()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture
def page_scan() -> Callable[[str], PageScan]:
    return scan



DEFAULT_PASSWORD = "correct horse battery"  # make_user's default in tests/conftest.py


@pytest.fixture
def browser_as(app: Any) -> Callable[[Any], Any]:
    """browser_as(user) -> a fresh test client logged in as that user (None: anonymous)."""

    def make(user: Any) -> Any:
        client = app.test_client()
        if user is not None:
            response = client.post("/login", data={"username": user.username,
                                                   "password": DEFAULT_PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client

    return make
