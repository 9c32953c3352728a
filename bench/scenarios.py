"""The five benchmarks of `make bench` (see bench/README.md)."""

from __future__ import annotations

import asyncio
import bisect
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp

from bench.common import Database, Fixture, Row, Server, load, percentile

CONCURRENCY = 32


# --- 1. check-in throughput --------------------------------------------------------------

async def _closed_loop(n_clients: int, seconds: float,
                       make_request: Callable[[aiohttp.ClientSession, int], Any]) -> tuple[int, int]:
    """n_clients loop for `seconds`; returns (successes, errors)."""
    done = errors = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=n_clients)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def worker(w: int) -> None:
            nonlocal done, errors
            i = 0
            while time.monotonic() < deadline:
                ok = await make_request(http, w * 1_000_000 + i)
                i += 1
                if ok:
                    done += 1
                else:
                    errors += 1
        await asyncio.gather(*(worker(w) for w in range(n_clients)))
    return done, errors


def bare_rate(servers: list[Server], seconds: float) -> float:
    async def request(http: aiohttp.ClientSession, i: int) -> bool:
        async with http.get(servers[i % len(servers)].url + "/ping") as r:
            await r.read()
            return r.status == 200

    done, errors = asyncio.run(_closed_loop(CONCURRENCY, seconds, request))
    return done / seconds


def checkin_rate(servers: list[Server], fx: Fixture, seconds: float,
                 start: int) -> tuple[float, int, int]:
    """Check in distinct participants (from `start` on); returns (rate, used, errors)."""
    people = fx.participants[start:]
    cursor = 0

    async def request(http: aiohttp.ClientSession, i: int) -> bool:
        nonlocal cursor
        if cursor >= len(people):
            return False
        pid, site_id, _ = people[cursor]
        cursor += 1
        server = servers[cursor % len(servers)]
        async with http.post(
            f"{server.url}/api/v1/sessions/{fx.session_id}/checkins",
            json={"site_id": site_id, "participant_id": pid, "client_id": str(uuid.uuid4())},
            headers={"Authorization": f"Bearer {fx.organiser_token}"},
        ) as r:
            await r.read()
            return r.status == 201

    done, errors = asyncio.run(_closed_loop(CONCURRENCY, seconds, request))
    return done / seconds, cursor, errors


def bench_checkin(db: Database, runs: int, seconds: float, processes: int = 1,
                  redis: bool = False) -> list[Row]:
    fx = load(db, sites=1000, participants=60000, coordinators=1)
    servers = [Server(db, redis=redis, channel="bench-c") for _ in range(processes)]
    try:
        bare, rates, errors, used = [], [], 0, 0
        for _ in range(runs):
            bare.append(bare_rate(servers, seconds))
            rate, n, errs = checkin_rate(servers, fx, seconds, used)
            used += n
            rates.append(rate)
            errors += errs
    finally:
        for s in servers:
            s.stop()
    ratio = [c / b for c, b in zip(rates, bare, strict=True)]
    return [
        Row("bare JSON endpoint (GET /ping)", bare, "req/s"),
        Row("check-ins (POST .../checkins)", rates, "req/s", "≥ 800", min(rates) >= 800),
        Row("check-ins / bare", ratio, "ratio", "≥ 0.3", statistics.median(ratio) >= 0.3),
        Row("check-in errors", [float(errors)], "count", "0", errors == 0),
    ]


# --- 2. live latency ----------------------------------------------------------------------

class Watcher:
    """A minimal Socket.IO client over a raw WebSocket (Engine.IO v4), cheap enough to open
    thousands from one process."""

    def __init__(self, url: str, token: str, session_id: int):
        self.url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.token, self.session_id = token, session_id
        self.events: list[tuple[float, int, int]] = []  # (received, version, present)
        self.ready = asyncio.Event()
        self.first_version: int | None = None

    async def run(self, http: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        async with http.ws_connect(self.url, heartbeat=None, max_msg_size=0) as ws:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                data: str = msg.data
                if data.startswith("0"):
                    await ws.send_str("40/live," + json.dumps({"token": self.token}))
                elif data == "2":
                    await ws.send_str("3")
                elif data.startswith("40/live"):
                    await ws.send_str('42/live,0["watch",' +
                                      json.dumps({"session_id": self.session_id}) + "]")
                elif data.startswith("43/live,0"):
                    body = json.loads(data[len("43/live,0"):])[0]
                    self.first_version = body.get("version")
                    self.ready.set()
                elif data.startswith("42/live,"):
                    event, payload = json.loads(data[len("42/live,"):])[:2]
                    if event == "attendance":
                        self.events.append((time.monotonic(), int(payload["version"]),
                                            int(payload["totals"]["present"])))
                elif data.startswith("44/live"):
                    raise RuntimeError("socket refused: " + data)
                if stop.is_set() and self.ready.is_set():
                    break


async def _latency(server_urls: list[str], fx: Fixture, watchers: int, rate: int,
                   seconds: float) -> tuple[list[float], int, int, int]:
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        ws = [Watcher(server_urls[i % len(server_urls)], fx.organiser_token, fx.session_id)
              for i in range(watchers)]
        tasks = []
        for i, w in enumerate(ws):
            tasks.append(asyncio.create_task(w.run(http, stop)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*(w.ready.wait() for w in ws)), timeout=120)
        answered: list[tuple[float, int]] = []
        errors = 0
        people = fx.participants
        total = int(rate * seconds)

        async def one(i: int) -> None:
            nonlocal errors
            pid, site_id, _ = people[i]
            url = server_urls[i % len(server_urls)]
            async with http.post(
                f"{url}/api/v1/sessions/{fx.session_id}/checkins",
                json={"site_id": site_id, "participant_id": pid},
                headers={"Authorization": f"Bearer {fx.organiser_token}"},
            ) as r:
                body = await r.json()
                if r.status == 201 and "version" in body:
                    answered.append((time.monotonic(), int(body["version"])))
                else:
                    errors += 1

        start = time.monotonic()
        senders = []
        for i in range(total):
            target = start + i / rate
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            senders.append(asyncio.create_task(one(i)))
        await asyncio.gather(*senders)
        await asyncio.sleep(2.0)  # let the last pushes arrive
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    latencies: list[float] = []
    missed = 0
    for w in ws:
        times = [t for t, _, _ in w.events]
        maxima: list[int] = []
        running = -1
        for _, v, _ in w.events:
            running = max(running, v)
            maxima.append(running)
        for answered_at, version in answered:
            k = bisect.bisect_left(maxima, version)
            if k == len(maxima):
                missed += 1
            else:
                latencies.append(max(0.0, times[k] - answered_at) * 1000)
    return latencies, missed, errors, len(answered)


def bench_latency(db: Database, runs: int, seconds: float, watchers: int = 1000,
                  rate: int = 200, processes: int = 1, redis: bool = False) -> list[Row]:
    per_run = int(rate * seconds)
    fx = load(db, sites=1000, participants=max(30000, per_run * runs), coordinators=1)
    servers = [Server(db, redis=redis, channel="bench-l") for _ in range(processes)]
    p50s, p99s, misses, errs = [], [], 0, 0
    try:
        for r in range(runs):
            part = Fixture(**{**fx.__dict__,
                              "participants": fx.participants[r * per_run:(r + 1) * per_run]})
            lat, missed, errors, _ = asyncio.run(
                _latency([s.url for s in servers], part, watchers, rate, seconds))
            p50s.append(percentile(lat, 50))
            p99s.append(percentile(lat, 99))
            misses += missed
            errs += errors
    finally:
        for s in servers:
            s.stop()
    return [
        Row("p50 check-in -> watcher holds it", p50s, "ms", "≤ 300", max(p50s) <= 300),
        Row("p99 check-in -> watcher holds it", p99s, "ms", "≤ 500", max(p99s) <= 500),
        Row("missed (check-in × watcher)", [float(misses)], "count", "0", misses == 0),
        Row("check-in errors", [float(errs)], "count", "0", errs == 0),
    ]


# --- 3. connections -----------------------------------------------------------------------

def bench_connections(db: Database, runs: int, clients: int = 5000) -> list[Row]:
    fx = load(db, sites=1000, participants=max(1000, runs + 10), coordinators=1)
    server = Server(db)
    rss, spread = [], []
    try:
        for r in range(runs):
            async def go(r: int = r) -> tuple[float, float]:
                stop = asyncio.Event()
                connector = aiohttp.TCPConnector(limit=0)
                async with aiohttp.ClientSession(connector=connector) as http:
                    ws = [Watcher(server.url, fx.organiser_token, fx.session_id)
                          for _ in range(clients)]
                    tasks = []
                    for i, w in enumerate(ws):
                        tasks.append(asyncio.create_task(w.run(http, stop)))
                        if i % 100 == 99:
                            await asyncio.sleep(0.05)
                    await asyncio.wait_for(asyncio.gather(*(w.ready.wait() for w in ws)),
                                           timeout=300)
                    memory = server.rss_mib()
                    pid, site_id, _ = fx.participants[r]
                    async with http.post(
                        f"{server.url}/api/v1/sessions/{fx.session_id}/checkins",
                        json={"site_id": site_id, "participant_id": pid},
                        headers={"Authorization": f"Bearer {fx.organiser_token}"},
                    ) as resp:
                        body = await resp.json()
                        answered = time.monotonic()
                        version = int(body.get("version", 0))
                    deadline = answered + 10
                    while time.monotonic() < deadline:
                        if all(any(v >= version for _, v, _ in w.events) for w in ws):
                            break
                        await asyncio.sleep(0.02)
                    last = max(min((t for t, v, _ in w.events if v >= version),
                                    default=float("inf")) for w in ws)
                    stop.set()
                    for t in tasks:
                        t.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    return memory, (last - answered) * 1000

            memory, took = asyncio.run(go())
            rss.append(memory)
            spread.append(took)
    finally:
        server.stop()
    return [
        Row(f"server RSS with {clients:,} clients", rss, "MiB", "< 1024", max(rss) < 1024),
        Row(f"one update reaches all {clients:,}", spread, "ms", "≤ 1000", max(spread) <= 1000),
    ]


# --- 4. quiz rush -------------------------------------------------------------------------

def bench_quiz(db: Database, runs: int, trainees: int = 2000, window: float = 60.0) -> list[Row]:
    fx = load(db, sites=1000, participants=trainees * runs, coordinators=1, quiz=True,
              checked_in=True)
    server = Server(db)
    p99s, p50s, errors_all = [], [], 0
    try:
        for r in range(runs):
            people = fx.participants[r * trainees:(r + 1) * trainees]

            async def go(people: list[tuple[int, int, str]] = people) -> tuple[list[float], int]:
                latencies: list[float] = []
                errors = 0
                connector = aiohttp.TCPConnector(limit=256)
                async with aiohttp.ClientSession(connector=connector) as http:
                    async def trainee(i: int, code: str) -> None:
                        nonlocal errors
                        await asyncio.sleep(random.uniform(0, window * 0.4))
                        async with http.post(f"{server.url}/api/v1/quizzes/{fx.quiz_id}/attempts",
                                             json={"participant_code": code}) as resp:
                            if resp.status not in (200, 201):
                                errors += 1
                                return
                            attempt = await resp.json()
                        headers = {"X-Attempt-Token": attempt["token"]}
                        for q in attempt["questions"]:
                            await asyncio.sleep(random.uniform(0.5, 2.0))
                            t0 = time.monotonic()
                            async with http.put(
                                f"{server.url}/api/v1/attempts/{attempt['attempt_id']}/answers",
                                json={"answers": {str(q["id"]): [q["options"][0]["id"]]}},
                                headers=headers,
                            ) as resp:
                                await resp.read()
                                latencies.append((time.monotonic() - t0) * 1000)
                                if resp.status != 200:
                                    errors += 1
                        async with http.post(
                            f"{server.url}/api/v1/attempts/{attempt['attempt_id']}/submit",
                            headers=headers,
                        ) as resp:
                            await resp.read()
                            if resp.status != 200:
                                errors += 1

                    await asyncio.gather(*(trainee(i, code) for i, (_, _, code)
                                           in enumerate(people)))
                return latencies, errors

            lat, errs = asyncio.run(go())
            p50s.append(percentile(lat, 50))
            p99s.append(percentile(lat, 99))
            errors_all += errs
    finally:
        server.stop()
    return [
        Row("answer autosave p50", p50s, "ms"),
        Row("answer autosave p99", p99s, "ms", "≤ 300", max(p99s) <= 300),
        Row("errors", [float(errors_all)], "count", "0", errors_all == 0),
    ]
