"""The live wall page, served by one of two processes that share a private Redis: Redis is
killed while the other process takes check-ins, then started again. The page catches up by
itself (no reload, no new check-in) and then follows new check-ins again."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import LAPTOP, Pages, login
from tests.support_servers import RedisServer, Server, child_env, load_world

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.redis]


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


def test_wall_catches_up_by_itself_after_redis_comes_back(
        e2e_server: tuple[Server, str, Path], pages: Pages, redis_server: RedisServer) -> None:
    from playwright.sync_api import expect

    wall_server, url, data_dir = e2e_server
    world = load_world(url, data_dir, at_a=8, at_b=0, at_host=0)
    queue_env = {"REDIS_URL": redis_server.url,
                 "TRAINER_SOCKETIO_CHANNEL": f"trainer-test-{uuid.uuid4().hex}"}
    wall_server.env.update(queue_env)
    wall_server.start()
    other = Server("other", child_env(url, data_dir, **queue_env), data_dir).start()
    try:
        people = iter(world.people["a"])

        def check_in_on_other() -> None:
            response = requests.post(
                f"{other.url}/api/v1/sessions/{world.session_id}/checkins",
                json={"site_id": world.a_id, "participant_id": next(people)["id"],
                      "client_id": str(uuid.uuid4())},
                headers={"Authorization": f"Bearer {world.coord_token}"}, timeout=10)
            assert response.status_code == 201, response.text

        wall = pages.page("wall", pages.context(**LAPTOP))
        login(wall, "organiser")
        wall.goto(f"/sessions/{world.session_id}/wall")
        expect(wall.get_by_test_id("live-state")).to_have_attribute("data-state", "live")
        wall.evaluate("window.__notReloaded = true")
        present = wall.get_by_test_id("total-present")

        check_in_on_other()
        expect(present).to_have_text("1")

        redis_server.kill()
        check_in_on_other()
        check_in_on_other()
        redis_server.start()
        # Nothing else happens; the page catches up with the two check-ins it missed.
        expect(present).to_have_text("3", timeout=20_000)
        expect(wall.get_by_test_id("live-state")).to_have_attribute("data-state", "live")
        check_in_on_other()
        expect(present).to_have_text("4", timeout=10_000)
        assert wall.evaluate("window.__notReloaded") is True
        assert not pages.errors, pages.errors
    finally:
        other.stop()
