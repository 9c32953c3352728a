"""PostgreSQL goes away and comes back (a restart, as the app sees it: open connections closed,
new ones refused) while `trainer serve` keeps running: meanwhile requests fail fast with a 503
problem (not a hang, not a 500, never a stack trace); afterwards they succeed again without
restarting the app.

The machine's PostgreSQL is shared, so the app reaches it through a TCP proxy in this test
process, which is cut and restored.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.faults.conftest import bearer, reset_postgres
from tests.support_servers import PASSWORD, TcpProxy, count_rows, create_schema, load_world

pytestmark = [pytest.mark.processes, pytest.mark.postgres]

FAST = 10  # seconds: a client timeout; a request stuck on a dead database would exceed it


@pytest.fixture
def proxied(pg_server_database: str) -> Any:
    """(direct URL, URL through the proxy, proxy)."""
    from sqlalchemy.engine import make_url

    reset_postgres(pg_server_database)
    url = make_url(pg_server_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield (pg_server_database,
               url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
               proxy)
    finally:
        proxy.close()


def is_problem(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def page_login(base: str, username: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{base}/login", timeout=FAST).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token, form[:2000]
    response = browser.post(f"{base}/login", data={"csrf_token": token.group(1),
                                                   "username": username,
                                                   "password": PASSWORD},
                            allow_redirects=False, timeout=FAST)
    assert response.status_code == 302, response.text[:2000]
    return browser


def test_requests_fail_fast_while_postgres_is_down_and_recover_after(
        proxied: Any, servers: Any, tmp_path: Path) -> None:
    direct, through_proxy, proxy = proxied
    create_schema(direct, tmp_path)
    world = load_world(direct, tmp_path, at_a=4, at_b=2, at_host=0)
    server = servers("pg", through_proxy)
    pid = server.proc.pid
    coord, organiser = bearer(world.coord_token), bearer(world.organiser_token)
    checkins = f"{server.url}/api/v1/sessions/{world.session_id}/checkins"
    attendance = f"{server.url}/api/v1/sessions/{world.session_id}/attendance"
    people = world.people["a"]

    def check_in(person: dict[str, Any], client_id: str) -> requests.Response:
        return requests.post(checkins, json={"site_id": world.a_id, "participant_id": person["id"],
                                             "client_id": client_id},
                             headers=coord, timeout=FAST)

    # Warm: the pool holds open connections, which the outage will break.
    browser = page_login(server.url, "organiser")
    wall = f"{server.url}/sessions/{world.session_id}/wall"
    assert browser.get(wall, timeout=FAST).status_code == 200
    assert check_in(people[0], str(uuid.uuid4())).status_code == 201
    assert requests.get(attendance, headers=organiser, timeout=FAST).status_code == 200

    proxy.cut()
    during = str(uuid.uuid4())
    body = is_problem(check_in(people[1], during), 503)
    assert body["type"].endswith("database-unavailable")
    response = requests.get(attendance, headers=organiser, timeout=FAST)
    is_problem(response, 503)
    assert int(response.headers["Retry-After"]) > 0
    is_problem(requests.get(attendance, headers={"Authorization": "Bearer nonsense"},
                            timeout=FAST), 503)  # the token cannot be checked either
    assert requests.get(f"{server.url}/healthz", timeout=FAST).status_code == 503
    assert requests.get(f"{server.url}/ping", timeout=FAST).status_code == 200  # still serving
    page = browser.get(wall, timeout=FAST)  # a page answers an HTML error page
    assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
    assert "Traceback" not in page.text and int(page.headers["Retry-After"]) > 0

    proxy.restore()
    # The same process, without a restart: the first request after the outage succeeds.
    after = requests.get(attendance, headers=organiser, timeout=FAST)
    assert after.status_code == 200, after.text
    assert after.json()["totals"]["present"] == 1
    # The phone retries what failed during the outage (same client_id): stored once.
    assert check_in(people[1], during).status_code == 201
    assert check_in(people[1], during).status_code == 200
    assert check_in(people[2], str(uuid.uuid4())).status_code == 201
    assert requests.get(f"{server.url}/healthz", timeout=FAST).status_code == 200
    assert browser.get(wall, timeout=FAST).status_code == 200  # still logged in
    browser.close()
    assert server.alive() and server.proc.pid == pid

    rows = count_rows(direct, "SELECT participant_id FROM checkin WHERE session_id = :s",
                      s=world.session_id)
    assert sorted(r.participant_id for r in rows) == sorted(p["id"] for p in people[:3])


def test_a_second_outage_is_survived_too(proxied: Any, servers: Any, tmp_path: Path) -> None:
    """Recovery is not a one-off: cut, restore, cut, restore; answers follow each state."""
    direct, through_proxy, proxy = proxied
    create_schema(direct, tmp_path)
    world = load_world(direct, tmp_path, at_a=1, at_b=0, at_host=0)
    server = servers("pg2", through_proxy)
    attendance = f"{server.url}/api/v1/sessions/{world.session_id}/attendance"
    organiser = bearer(world.organiser_token)
    for _ in range(2):
        assert requests.get(attendance, headers=organiser, timeout=FAST).status_code == 200
        proxy.cut()
        is_problem(requests.get(attendance, headers=organiser, timeout=FAST), 503)
        proxy.restore()
    assert requests.get(attendance, headers=organiser, timeout=FAST).status_code == 200
