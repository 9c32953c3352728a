"""Redis stops while two `trainer serve` processes share it as their Socket.IO message queue:
HTTP keeps working (check-ins are taken and answered promptly on both processes), and live
updates between the processes resume by themselves once Redis is back, without restarting
anything.

The machine's Redis is shared, so the test runs a private redis-server on a free port, kills
it with SIGKILL and starts it again on the same port.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.faults.conftest import bearer, reset_postgres
from tests.support_servers import RedisServer, create_schema, load_world, sqlite_url

pytestmark = [pytest.mark.processes, pytest.mark.redis]

NS = "/live"
PROMPT = 5  # seconds: a check-in must not wait on the missing Redis (the phone gives up at 15)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def shared_database(request: Any, tmp_path: Path) -> str:
    """PostgreSQL (as several processes are deployed) when available, else SQLite."""
    if os.environ.get("TEST_DATABASE_URL"):
        url = request.getfixturevalue("pg_server_database")
        reset_postgres(url)
    else:
        url = sqlite_url(tmp_path)
    create_schema(url, tmp_path)
    return url


class Wall:
    """A Socket.IO client that behaves as the wall page (static/js/wall.js): it watches a
    session and keeps the attendance it is sent; whenever it (re)connects it asks for a fresh
    snapshot; when the connection drops it connects again (as socket.io's browser client
    does when the transport closes)."""

    def __init__(self, server_url: str, token: str, session_id: int) -> None:
        import socketio

        self.url, self.token, self.session_id = server_url, token, session_id
        self.seen: queue.Queue[dict[str, Any]] = queue.Queue()
        self.dropped = threading.Event()
        self.client = socketio.Client(reconnection=False)  # reconnects in shows()
        self.client.on("attendance", self.seen.put, namespace=NS)
        self.client.on("connect", self._watch, namespace=NS)
        self.client.on("disconnect", lambda *_: self.dropped.set(), namespace=NS)
        self._connect()

    def _connect(self) -> None:
        self.dropped.clear()
        self.client.connect(self.url, namespaces=[NS], transports=["websocket"],
                            auth={"token": self.token}, wait_timeout=10)

    def _watch(self) -> None:
        self.client.emit("watch", {"session_id": self.session_id}, namespace=NS,
                         callback=self.seen.put)

    def shows(self, present: int, timeout: float) -> bool:
        """True once the newest attendance this wall received shows `present` (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dropped.is_set() and not self.client.connected:
                try:
                    self._connect()
                except Exception:  # noqa: BLE001 - the server may be busy: try again
                    time.sleep(0.2)
                    continue
            try:
                body = self.seen.get(timeout=0.2)
            except queue.Empty:
                continue
            if body.get("session_id") == self.session_id and \
                    body["totals"]["present"] == present:
                return True
        return False

    def close(self) -> None:
        self.client.disconnect()


def test_http_works_without_redis_and_live_updates_resume_when_it_returns(
        redis_server: RedisServer, shared_database: str, servers: Any, tmp_path: Path) -> None:
    world = load_world(shared_database, tmp_path, at_a=12, at_b=0, at_host=0)
    channel = f"trainer-test-{uuid.uuid4().hex}"
    env = {"REDIS_URL": redis_server.url, "TRAINER_SOCKETIO_CHANNEL": channel}
    a = servers("a", shared_database, **env)
    b = servers("b", shared_database, **env)
    coord, people = bearer(world.coord_token), iter(world.people["a"])
    present = 0

    def check_in(server: Any) -> None:
        nonlocal present
        person = next(people)
        response = requests.post(
            f"{server.url}/api/v1/sessions/{world.session_id}/checkins",
            json={"site_id": world.a_id, "participant_id": person["id"],
                  "client_id": str(uuid.uuid4())}, headers=coord, timeout=PROMPT)
        assert response.status_code == 201, response.text
        present += 1

    wall = Wall(b.url, world.organiser_token, world.session_id)
    try:
        assert wall.shows(0, 10)
        check_in(a)  # taken by A, pushed through Redis to the wall on B
        assert wall.shows(present, 10), "no live update across processes to begin with"

        redis_server.kill()
        # Both processes keep taking check-ins, promptly. B's own pushes still reach its
        # wall; A's last one cannot, there is no queue to carry it.
        for server in (b, a, b, a):
            check_in(server)
        for server in (a, b):
            assert requests.get(f"{server.url}/healthz", timeout=PROMPT).status_code == 200
            totals = requests.get(
                f"{server.url}/api/v1/sessions/{world.session_id}/attendance",
                headers=bearer(world.organiser_token), timeout=PROMPT).json()["totals"]
            assert totals["present"] == present

        redis_server.start()  # same port; nothing is restarted or told to reconnect
        # Without any new check-in, the wall catches up with what happened meanwhile.
        assert wall.shows(present, 20), (
            "the wall did not catch up after Redis came back:\n" + b.log_tail(3000))
        # And live updates flow between the processes again.
        check_in(a)
        assert wall.shows(present, 10), "live updates did not resume:\n" + a.log_tail(3000)
        assert a.alive() and b.alive()
    finally:
        wall.close()
