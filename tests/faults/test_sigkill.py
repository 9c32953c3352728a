"""A `trainer serve` process killed with SIGKILL in the middle of a burst of check-ins: after a
restart, every check-in that was answered 2xx is stored, none twice; the phones' retries (same
client_id) then complete the roster without counting anybody twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.faults.conftest import bearer
from tests.support_servers import count_rows, load_world

pytestmark = [pytest.mark.processes]

PEOPLE = 200
CLIENTS = 12  # phones sending at once
KILL_AFTER = 40  # answered check-ins before the kill


def test_sigkill_during_a_burst_loses_no_answered_checkin(database: str, servers: Any,
                                                          tmp_path: Path) -> None:
    world = load_world(database, tmp_path, at_a=PEOPLE, at_b=0, at_host=0)
    server = servers("burst", database)
    url = f"{server.url}/api/v1/sessions/{world.session_id}/checkins"
    headers = bearer(world.coord_token)
    jobs = [(p["id"], str(uuid.uuid4())) for p in world.people["a"]]

    answered: dict[str, dict[str, Any]] = {}  # client_id -> the 2xx body
    statuses: dict[str, int] = {}
    failed: dict[str, str] = {}  # client_id -> what the phone saw instead of an answer
    lock = threading.Lock()
    enough = threading.Event()
    local = threading.local()
    sessions: list[requests.Session] = []  # one keep-alive connection per phone

    def send(job: tuple[int, str]) -> None:
        participant_id, client_id = job
        if not hasattr(local, "http"):
            local.http = requests.Session()
            with lock:
                sessions.append(local.http)
        try:
            response = local.http.post(url, json={"site_id": world.a_id,
                                                  "participant_id": participant_id,
                                                  "client_id": client_id},
                                       headers=headers, timeout=10)
        except requests.RequestException as exc:
            with lock:
                failed[client_id] = type(exc).__name__
            return
        with lock:
            statuses[client_id] = response.status_code
            if 200 <= response.status_code < 300:
                answered[client_id] = response.json()
                if len(answered) >= KILL_AFTER:
                    enough.set()
            else:
                failed[client_id] = f"HTTP {response.status_code}: {response.text[:200]}"

    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(send, job) for job in jobs]
        assert enough.wait(60), f"the burst did not get going: {failed}\n{server.log_tail()}"
        server.kill()
        for future in futures:
            future.result(timeout=60)

    assert len(answered) + len(failed) == PEOPLE
    assert failed, "every check-in was answered before the kill: the burst proved nothing"
    assert all(s in (200, 201) for s in statuses.values()), statuses
    # What got no answer failed in transport (refused, reset, cut short), never with an error
    # status from the server.
    assert not [v for v in failed.values() if v.startswith("HTTP")], failed

    # Restarted on the same database: every answered check-in is there, once, as answered.
    server.start()
    stored = count_rows(database, "SELECT id, client_id, participant_id, site_id FROM checkin "
                                  "WHERE session_id = :s", s=world.session_id)
    by_client = {r.client_id: r for r in stored}
    assert len(by_client) == len(stored), "a client_id stored twice"
    assert len({r.participant_id for r in stored}) == len(stored), "someone checked in twice"
    participant_of = dict((cid, pid) for pid, cid in jobs)
    for client_id, body in answered.items():
        row = by_client.get(client_id)
        assert row is not None, f"answered {body} but not stored"
        assert row.id == body["id"] and row.participant_id == participant_of[client_id]
        assert row.site_id == world.a_id
    # Stored but never answered (the process died between the commit and the answer): the
    # phone does not know; its retry must not count them again.
    unanswered_but_stored = {cid for cid in failed if cid in by_client}

    # The phones retry what got no answer, with the same client_id.
    failed_before = dict(failed)
    answered.clear()
    failed.clear()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(send, (participant_of[cid], cid)) for cid in failed_before]:
            future.result(timeout=60)
    assert not failed, failed
    for client_id in failed_before:
        expected = 200 if client_id in unanswered_but_stored else 201
        assert statuses[client_id] == expected, (client_id, answered[client_id])
        if client_id in by_client:
            assert answered[client_id]["id"] == by_client[client_id].id

    for http in sessions:
        http.close()
    final = count_rows(database, "SELECT client_id, participant_id FROM checkin "
                                 "WHERE session_id = :s", s=world.session_id)
    assert len(final) == PEOPLE
    assert {r.client_id for r in final} == {cid for _, cid in jobs}
    attendance = requests.get(f"{server.url}/api/v1/sessions/{world.session_id}/attendance",
                              headers=bearer(world.organiser_token), timeout=10).json()
    assert attendance["totals"]["present"] == PEOPLE
    site = next(s for s in attendance["sites"] if s["site_id"] == world.a_id)
    assert site["present"] == PEOPLE and site["female"] + site["male"] == PEOPLE
