"""The benchmarks of `make bench` (see bench/README.md).

Every benchmark starts its own `trainer serve` process(es) on loopback, loads its own data
(bench.loader), drives them with real clients and stops them. Load generators are built to be
cheap, because they share the machine's cores with the server they measure:
- HTTP: bench.rawhttp (pre-encoded HTTP/1.1 requests on kept-alive connections);
- Socket.IO watchers: a raw Engine.IO v4 client over an aiohttp WebSocket that reads only the
  `version` of each `attendance` message (a push can carry 1,000 sites).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import os
import random
import re
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.common import Database, Fixture, Row, Server, load, percentile
from bench.rawhttp import Connection, HTTPError, request

CONCURRENCY = 32
NS = "/live"
_VERSION = re.compile(r'"version":\s*(\d+)')


def _version(text: str | bytes) -> int | None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    m = _VERSION.search(text, 0, 300) or _VERSION.search(text)
    return int(m.group(1)) if m else None


def _cpu(servers: Sequence[Server]) -> float:
    return sum(s.cpu_seconds() for s in servers)


def checkin_request(url: str, token: str, session_id: int, person: tuple[int, int, str],
                    **extra: Any) -> bytes:
    """POST .../checkins of `person` ((id, site id, code)) at their own site."""
    pid, site_id, _ = person
    return request("POST", f"{url}/api/v1/sessions/{session_id}/checkins",
                   body={"site_id": site_id, "participant_id": pid, **extra},
                   headers={"Authorization": f"Bearer {token}"})


async def paced(count: int, rate: float, send: Callable[[int], Awaitable[None]]) -> None:
    """Open loop: start send(0), send(1), ... `rate` a second, whatever the answers take, and
    wait for all of them."""
    start = time.monotonic()
    tasks = []
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)


# --- closed loop over raw connections -------------------------------------------------------

async def closed_loop(urls: Sequence[str], n_clients: int, seconds: float,
                      make: Callable[[int, str], bytes | None],
                      ok: Callable[[int, bytes], bool]) -> tuple[int, int]:
    """`n_clients` kept-alive connections (spread over `urls`), each sending its next request
    as soon as the previous answer arrived, for `seconds`. `make` returns None when there is
    nothing left to send. Returns (successes, failures)."""
    done = failed = 0
    deadline = time.monotonic() + seconds

    async def worker(k: int) -> None:
        nonlocal done, failed
        url = urls[k % len(urls)]
        conn = await Connection.open(url)
        try:
            while time.monotonic() < deadline:
                raw = make(k, url)
                if raw is None:
                    return
                try:
                    status, body = await conn.send(raw)
                except HTTPError:
                    failed += 1
                    conn = await Connection.open(url)
                    continue
                if ok(status, body):
                    done += 1
                else:
                    failed += 1
                    if failed <= 3:
                        print(f"  unexpected answer {status}: {body[:300]!r}")
        finally:
            conn.close()

    await asyncio.gather(*(worker(k) for k in range(n_clients)))
    return done, failed


def bare_rate(servers: Sequence[Server], seconds: float) -> tuple[float, float]:
    """(requests per second, server CPU ms per request) of GET /ping."""
    reqs = {s.url: request("GET", s.url + "/ping") for s in servers}
    cpu0 = _cpu(servers)
    done, _ = asyncio.run(closed_loop([s.url for s in servers], CONCURRENCY, seconds,
                                      lambda _k, url: reqs[url], lambda st, _b: st == 200))
    cpu = _cpu(servers) - cpu0
    return done / seconds, cpu / max(done, 1) * 1000


def checkin_rate(servers: Sequence[Server], fx: Fixture, people: list[tuple[int, int, str]],
                 seconds: float) -> tuple[float, float, int, int]:
    """Check in distinct participants from `people`, as the organiser (a coordinator acts
    the same way for its own sites). Returns (rate, CPU ms per check-in, used, errors)."""
    cursor = 0

    def make(_k: int, url: str) -> bytes | None:
        nonlocal cursor
        if cursor >= len(people):
            return None
        cursor += 1
        return checkin_request(url, fx.organiser_token, fx.session_id, people[cursor - 1],
                               client_id=str(uuid.uuid4()))

    cpu0 = _cpu(servers)
    done, errors = asyncio.run(closed_loop([s.url for s in servers], CONCURRENCY, seconds,
                                           make, lambda st, _b: st == 201))
    cpu = _cpu(servers) - cpu0
    return done / seconds, cpu / max(done, 1) * 1000, cursor, errors


def bench_checkin(db: Database, runs: int, seconds: float, processes: int = 1,
                  redis: bool = False) -> list[Row]:
    """1. Closed loop, 32 clients, distinct participants over 1,000 sites, and the bare
    endpoint on the same server(s) in the same run (alternating)."""
    fx = load(db, sites=1000, participants=60000, coordinators=1)
    servers = [Server(db, redis=redis, channel="bench-c") for _ in range(processes)]
    people = list(fx.participants)
    random.Random(1).shuffle(people)  # sites in any order, as at a real conference
    try:
        bare_rate(servers, 1.0)  # warm-up: first requests compile templates, statements
        _, _, used, _ = checkin_rate(servers, fx, people, 1.0)
        bare, bare_cpu, rates, cpu, errors = [], [], [], [], 0
        for _ in range(runs):
            rate, ms = bare_rate(servers, seconds)
            bare.append(rate)
            bare_cpu.append(ms)
            rate, ms, n, errs = checkin_rate(servers, fx, people[used:], seconds)
            used += n
            rates.append(rate)
            cpu.append(ms)
            errors += errs
    finally:
        for s in servers:
            s.stop()
    ratio = [c / b for c, b in zip(rates, bare, strict=True)]
    return [
        Row("bare JSON endpoint (GET /ping)", bare, "req/s"),
        Row("check-ins (POST .../checkins)", rates, "req/s", "≥ 800",
            statistics.median(rates) >= 800),
        Row("check-ins / bare", ratio, "ratio", "≥ 0.3", statistics.median(ratio) >= 0.3),
        Row("check-in errors", [float(errors)], "count", "0", errors == 0),
        Row("server CPU per bare request", bare_cpu, "ms"),
        Row("server CPU per check-in", cpu, "ms"),
    ]


# --- Socket.IO watchers ---------------------------------------------------------------------

@dataclass
class Watcher:
    """A minimal Socket.IO client (Engine.IO v4 over a WebSocket): authenticates, emits
    `watch`, and records when each `attendance` version arrived."""

    url: str
    token: str
    session_id: int
    times: list[float] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    first_version: int | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    target: int | None = None  # when set: reached_at is the arrival of a version >= target
    reached_at: float | None = None
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None

    async def run(self, http: aiohttp.ClientSession) -> None:
        url = self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        try:
            async with http.ws_connect(url, heartbeat=None, max_msg_size=0,
                                       autoping=True) as ws:
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    self._on(ws, msg.data)
                if not self.ready.is_set():
                    self.error = f"closed before the snapshot (code {ws.close_code})"
        except (aiohttp.ClientError, OSError, RuntimeError) as e:
            self.error = repr(e)
        finally:
            self.ready.set()

    def _send(self, ws: Any, text: str) -> None:
        task = asyncio.ensure_future(ws.send_str(text))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # closed: ignored

    def _on(self, ws: Any, data: str) -> None:
        if data.startswith("42/live,"):
            if data.startswith('42/live,["attendance"'):
                v = _version(data)
                if v is not None:
                    now = time.monotonic()
                    self.times.append(now)
                    self.versions.append(v)
                    if self.target is not None and self.reached_at is None and v >= self.target:
                        self.reached_at = now
                        self.reached.set()
        elif data == "2":
            self._send(ws, "3")
        elif data.startswith("0"):
            self._send(ws, "40/live," + json.dumps({"token": self.token}))
        elif data.startswith("40/live"):
            self._send(ws, '42/live,0["watch",' + json.dumps({"session_id": self.session_id})
                       + "]")
        elif data.startswith("43/live,0"):
            self.first_version = _version(data)
            if self.first_version is None:
                self.error = "watch refused: " + data[:200]
            self.ready.set()
        elif data.startswith("44/live"):
            self.error = "connection refused: " + data[:200]
            self.ready.set()

    def expect(self, version: int) -> None:
        self.target = version
        if self.versions and max(self.versions) >= version:
            self.reached_at = self.times[self.versions.index(
                next(v for v in self.versions if v >= version))]
            self.reached.set()


async def connect_watchers(http: aiohttp.ClientSession, urls: Sequence[str], fx: Fixture,
                           n: int, timeout: float) -> tuple[list[Watcher], list[asyncio.Task]]:
    watchers = [Watcher(urls[i % len(urls)], fx.organiser_token, fx.session_id)
                for i in range(n)]
    tasks = []
    for i, w in enumerate(watchers):
        tasks.append(asyncio.create_task(w.run(http)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)  # do not flood the accept queue
    await asyncio.wait_for(asyncio.gather(*(w.ready.wait() for w in watchers)), timeout)
    failed = [w.error for w in watchers if w.error]
    if failed:
        raise RuntimeError(f"{len(failed)} watchers failed, e.g. {failed[0]}")
    return watchers, tasks


async def _stop(tasks: list[asyncio.Task]) -> None:
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# --- 2. live latency ----------------------------------------------------------------------

class Pool:
    """Kept-alive raw connections to one server, opened as needed (open-loop load)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.idle: list[Connection] = []

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        conn = self.idle.pop() if self.idle else await Connection.open(self.url)
        try:
            answer = await conn.send(raw)
        except HTTPError:
            conn.close()
            raise
        self.idle.append(conn)
        return answer

    def close(self) -> None:
        for c in self.idle:
            c.close()


async def _latency(urls: Sequence[str], fx: Fixture, people: Sequence[tuple[int, int, str]],
                   watchers: int, rate: int, seconds: float,
                   warm: Sequence[tuple[int, int, str]] = (),
                   cpu: Callable[[], float] = lambda: 0.0
                   ) -> tuple[list[float], int, int, float, Breakdown]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        ws, tasks = await connect_watchers(http, urls, fx, watchers, timeout=300)
        pools = {u: Pool(u) for u in urls}
        answered: list[tuple[float, int]] = []
        errors = 0
        lags: list[float] = []
        took: list[float] = []  # per check-in: sent -> answered (ms), whatever the answer
        statuses: dict[int, int] = {}

        async def sample_lag() -> None:
            """The client's own event-loop delay: how late a 10 ms sleep wakes up."""
            while True:
                t = time.monotonic()
                await asyncio.sleep(0.01)
                lags.append((time.monotonic() - t - 0.01) * 1000)

        async def one(i: int) -> None:
            nonlocal errors
            url = urls[i % len(urls)]
            sent = time.monotonic()
            try:
                status, body = await pools[url].send(
                    checkin_request(url, fx.organiser_token, fx.session_id, people[i]))
            except HTTPError:
                errors += 1
                return
            at = time.monotonic()
            took.append((at - sent) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            version = _version(body)
            if status == 201 and version is not None:
                answered.append((at, version))
            else:
                errors += 1
                if errors <= 3:
                    print(f"  unexpected answer {status}: {body[:300]!r}")

        # Warm-up, not measured: one check-in per process. A process's first `attendance` push
        # carries every site when several processes share Redis (see
        # trainer.checkin.push.next_push); later ones only the sites that changed.
        for k, person in enumerate(warm):
            url = urls[k % len(urls)]
            await pools[url].send(checkin_request(url, fx.organiser_token, fx.session_id,
                                                  person))
        if warm:
            await asyncio.sleep(1.5)
        total = min(int(rate * seconds), len(people))
        start = time.monotonic()
        cpu0, own0 = cpu(), time.process_time()
        sampler = asyncio.create_task(sample_lag())
        await paced(total, rate, one)
        elapsed = time.monotonic() - start
        busy = (cpu() - cpu0) / elapsed * 100
        own = (time.process_time() - own0) / elapsed * 100
        await asyncio.sleep(2.0)  # the last pushes
        await _stop([*tasks, sampler])
        for p in pools.values():
            p.close()

    latencies: list[float] = []
    missed = 0
    answered.sort(key=lambda a: a[1])
    for w in ws:
        maxima: list[int] = []
        running = -1
        for v in w.versions:
            running = max(running, v)
            maxima.append(running)
        for at, version in answered:
            k = bisect.bisect_left(maxima, version)
            if k == len(maxima):
                if (w.first_version or 0) < version:
                    missed += 1
                else:
                    latencies.append(0.0)  # already in the snapshot it started from
            else:
                latencies.append(max(0.0, w.times[k] - at) * 1000)
    return latencies, missed, errors, busy, _breakdown(ws, answered, lags, own, took,
                                                       statuses)


@dataclass
class Breakdown:
    """Where a push's latency goes, seen from the client."""

    first: list[float]  # per check-in: 201 -> the first watcher holds it (ms)
    spread: list[float]  # per push: its first -> its last watcher (ms)
    lags: list[float]  # the client's event-loop delay samples (ms)
    client_cpu: float  # the client's CPU while checking in, % of one core
    took: list[float]  # per check-in: request sent -> answer read (ms), whatever the status
    statuses: dict[int, int]  # the check-ins' answers by HTTP status


def _breakdown(ws: Sequence[Watcher], answered: Sequence[tuple[float, int]],
               lags: list[float], own: float, took: list[float],
               statuses: dict[int, int]) -> Breakdown:
    arrivals: dict[int, list[float]] = {}
    for w in ws:
        for t, v in zip(w.times, w.versions, strict=True):
            arrivals.setdefault(v, []).append(t)
    pushes = sorted((v, min(ts), max(ts)) for v, ts in arrivals.items())
    spread = [(hi - lo) * 1000 for _v, lo, hi in pushes if len(arrivals[_v]) == len(ws)]
    first = []
    versions = [p[0] for p in pushes]
    for at, version in answered:
        k = bisect.bisect_left(versions, version)
        if k < len(pushes):
            first.append(max(0.0, pushes[k][1] - at) * 1000)
    return Breakdown(first, spread, lags, own, took, statuses)


def bench_latency(db: Database, runs: int, seconds: float, watchers: int = 1000,
                  rate: int = 200, processes: int = 1, redis: bool = False) -> list[Row]:
    """2. 1,000 sites, 30,000 participants, `watchers` watchers, `rate` check-ins a second:
    for each (check-in, watcher), the time from the check-in's 2xx answer until the watcher
    holds an `attendance` whose version includes it."""
    per_run = int(rate * seconds)
    spare = processes * runs  # warm-up check-ins
    fx = load(db, sites=1000, participants=max(30000, per_run * runs + spare), coordinators=1)
    channel = f"bench-l-{uuid.uuid4().hex[:8]}"  # its own, whatever else uses the Redis server
    servers = [Server(db, redis=redis, channel=channel) for _ in range(processes)]
    people = list(fx.participants)
    random.Random(2).shuffle(people)
    people, warm_ups = people[spare:], people[:spare]
    p50s, p99s, maxes, cpu, misses, errs = [], [], [], [], 0, 0
    parts: list[Breakdown] = []
    try:
        for r in range(runs):
            lat, missed, errors, busy, part = asyncio.run(_latency(
                [s.url for s in servers], fx, people[r * per_run:(r + 1) * per_run],
                watchers, rate, seconds, warm_ups[r * processes:(r + 1) * processes],
                cpu=lambda: _cpu(servers)))
            cpu.append(busy)
            parts.append(part)
            p50s.append(percentile(lat, 50))
            p99s.append(percentile(lat, 99))
            maxes.append(max(lat) if lat else float("nan"))
            misses += missed
            errs += errors
    finally:
        for s in servers:
            s.stop()
    return [
        Row("p50 check-in answered -> watcher holds it", p50s, "ms", "≤ 300",
            statistics.median(p50s) <= 300),
        Row("p99 check-in answered -> watcher holds it", p99s, "ms", "≤ 500",
            statistics.median(p99s) <= 500),
        Row("max", maxes, "ms"),
        Row("missed (check-in × watcher)", [float(misses)], "count", "0", misses == 0),
        Row("check-in errors", [float(errs)], "count", "0", errs == 0),
        Row("server CPU while checking in (all processes, % of one core)", cpu, "%"),
        Row("check-in answer time p50 (sent -> answered)",
            [percentile(b.took, 50) for b in parts], "ms"),
        Row("check-in answer time p99 (sent -> answered)",
            [percentile(b.took, 99) for b in parts], "ms"),
        Row("check-ins answered 503", [float(b.statuses.get(503, 0)) for b in parts], "count"),
        Row("- p50 check-in answered -> first watcher holds it",
            [percentile(b.first, 50) for b in parts], "ms"),
        Row("- p99 check-in answered -> first watcher holds it",
            [percentile(b.first, 99) for b in parts], "ms"),
        Row("- p50 one push, first -> last watcher", [percentile(b.spread, 50) for b in parts],
            "ms"),
        Row("- p99 one push, first -> last watcher", [percentile(b.spread, 99) for b in parts],
            "ms"),
        Row("- client event-loop delay p99 (10 ms sleeps)",
            [percentile(b.lags, 99) for b in parts], "ms"),
        Row("- client CPU while checking in (% of one core)", [b.client_cpu for b in parts],
            "%"),
    ]


# --- 3. connections -----------------------------------------------------------------------

def bench_connections(db: Database, runs: int, clients: int = 5000) -> list[Row]:
    """3. `clients` Socket.IO connections on one process watching a 1,000-site session:
    resident memory, then one check-in and the time until all of them hold it."""
    fx = load(db, sites=1000, participants=max(30000, runs + 10), coordinators=1)
    server = Server(db)
    rss, base, spread = [], [], []
    try:
        for r in range(runs):
            base.append(server.rss_mib())

            async def go(r: int = r) -> tuple[float, float]:
                async with aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(limit=0)) as http:
                    ws, tasks = await connect_watchers(http, [server.url], fx, clients, 600)
                    await asyncio.sleep(1.0)
                    memory = server.rss_mib()
                    conn = await Connection.open(server.url)
                    status, body = await conn.send(checkin_request(
                        server.url, fx.organiser_token, fx.session_id, fx.participants[r]))
                    answered = time.monotonic()
                    conn.close()
                    version = _version(body)
                    if status != 201 or version is None:
                        raise RuntimeError(f"check-in failed: {status} {body[:200]!r}")
                    for w in ws:
                        w.expect(version)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            asyncio.gather(*(w.reached.wait() for w in ws)), 15)
                    last = max((w.reached_at or float("inf")) for w in ws)
                    await _stop(tasks)
                    return memory, (last - answered) * 1000

            memory, took = asyncio.run(go())
            rss.append(memory)
            spread.append(took)
            time.sleep(10.0)  # let the server close the 5,000 connections before the next run
    finally:
        server.stop()
    return [
        Row("server RSS before connecting", base, "MiB"),
        Row(f"server RSS with {clients:,} clients", rss, "MiB", "< 1024",
            statistics.median(rss) < 1024),
        Row(f"one update reaches all {clients:,}", spread, "ms", "≤ 1000",
            statistics.median(spread) <= 1000),
    ]


# --- 4. quiz rush -------------------------------------------------------------------------

def bench_quiz(db: Database, runs: int, trainees: int = 2000, window: float = 60.0
               ) -> list[Row]:
    """4. `trainees` trainees arrive over the first half of `window`, start the quiz, save
    each of 10 answers after some thought (0.5 to 2.5 s for a 60 s window), and submit: all
    within `window`."""
    fx = load(db, sites=1000, participants=trainees * runs, coordinators=1, quiz=True,
              checked_in=True)
    server = Server(db)
    p50s, p99s, starts99, spans, cpu, errors_all = [], [], [], [], [], 0
    try:
        for r in range(runs):
            people = fx.participants[r * trainees:(r + 1) * trainees]
            cpu0 = server.cpu_seconds()

            async def go(people: list[tuple[int, int, str]] = people, r: int = r
                         ) -> tuple[list[float], list[float], int, float]:
                latencies: list[float] = []
                start_lat: list[float] = []
                errors = 0
                rng = random.Random(r)
                t0 = time.monotonic()

                async def trainee(code: str) -> None:
                    nonlocal errors
                    await asyncio.sleep(rng.uniform(0, window * 0.5))
                    conn = await Connection.open(server.url)
                    try:
                        t = time.monotonic()
                        status, body = await conn.send(request(
                            "POST", f"{server.url}/api/v1/quizzes/{fx.quiz_id}/attempts",
                            body={"participant_code": code}))
                        start_lat.append((time.monotonic() - t) * 1000)
                        if status not in (200, 201):
                            errors += 1
                            return
                        attempt = json.loads(body)
                        headers = {"X-Attempt-Token": attempt["token"]}
                        url = f"{server.url}/api/v1/attempts/{attempt['attempt_id']}"
                        for q in attempt["questions"]:
                            await asyncio.sleep(rng.uniform(0.25, 1.25) * window / 30)
                            raw = request("PUT", url + "/answers", headers=headers, body={
                                "answers": {str(q["id"]): [rng.choice(q["options"])["id"]]}})
                            t = time.monotonic()
                            status, _ = await conn.send(raw)
                            latencies.append((time.monotonic() - t) * 1000)
                            if status != 200:
                                errors += 1
                        status, _ = await conn.send(request("POST", url + "/submit",
                                                            headers=headers))
                        if status != 200:
                            errors += 1
                    except HTTPError:
                        errors += 1
                    finally:
                        conn.close()

                await asyncio.gather(*(trainee(code) for _, _, code in people))
                return latencies, start_lat, errors, time.monotonic() - t0

            lat, start_lat, errs, span = asyncio.run(go())
            cpu.append((server.cpu_seconds() - cpu0) / span * 100)
            p50s.append(percentile(lat, 50))
            p99s.append(percentile(lat, 99))
            starts99.append(percentile(start_lat, 99))
            spans.append(span)
            errors_all += errs
    finally:
        server.stop()
    return [
        Row("answer autosave p50", p50s, "ms"),
        Row("answer autosave p99", p99s, "ms", "≤ 300", statistics.median(p99s) <= 300),
        Row("start (POST .../attempts) p99", starts99, "ms"),
        Row("all done after", spans, "s", f"≤ {window:.0f}",
            statistics.median(spans) <= window),
        Row("errors", [float(errors_all)], "count", "0", errors_all == 0),
        Row("server CPU (% of one core)", cpu, "%"),
    ]


# --- 6. pages at scale --------------------------------------------------------------------

def bench_pages(db: Database, runs: int) -> list[Row]:
    """6. Pages and reads at 1,000 sites and 30,000 participants (half of them checked in):
    the wall, the attendance body, a site's roster, participant search, the session report."""
    fx = load(db, sites=1000, participants=30000, coordinators=1, checked_in=True,
              checked_in_share=0.5)
    server = Server(db)
    auth = {"Authorization": f"Bearer {fx.organiser_token}"}
    site = fx.site_ids[len(fx.site_ids) // 2]
    s = fx.session_id
    targets = [
        ("wall page (GET /sessions/<id>/wall)", f"/sessions/{s}/wall", "≤ 1000", 1000),
        ("attendance body (GET .../attendance)", f"/api/v1/sessions/{s}/attendance", "", None),
        ("site board (GET .../sites, 500 a page)", f"/api/v1/sessions/{s}/sites?per_page=500",
         "", None),
        ("a site's roster (GET .../roster)", f"/api/v1/sessions/{s}/roster?site_id={site}",
         "", None),
        ("roster search (GET /api/v1/participants?q=)",
         "/api/v1/participants?q=nguyen%20thi%20ha&per_page=50", "≤ 100", 100),
        ("session report (GET /sessions/<id>/report.csv)", f"/sessions/{s}/report.csv",
         "≤ 5000", 5000),
        ("session report (GET /sessions/<id>/report.xlsx)", f"/sessions/{s}/report.xlsx",
         "≤ 5000", 5000),
    ]
    rows = []
    try:
        async def timed(path: str) -> tuple[int, float]:
            conn = await Connection.open(server.url)
            try:
                t = time.monotonic()
                status, _ = await conn.send(request("GET", server.url + path, headers=auth))
                return status, (time.monotonic() - t) * 1000
            finally:
                conn.close()

        for name, path, goal, limit in targets:
            asyncio.run(timed(path))  # warm-up
            times, statuses = [], set()
            for _ in range(max(runs, 3)):
                status, ms = asyncio.run(timed(path))
                statuses.add(status)
                times.append(ms)
            if statuses != {200}:
                rows.append(Row(f"{name}: HTTP {sorted(statuses)}", times, "ms", goal, False))
                continue
            rows.append(Row(name, times, "ms", goal,
                            None if limit is None else statistics.median(times) <= limit))
    finally:
        server.stop()
    return rows


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"
