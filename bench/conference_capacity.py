"""8c. How many publishing sites one Janus holds on this machine, and what Janus spends per
publishing site and per site receiving the host.

Inside the benchmark's network namespace: Janus as the child of one `trainer serve` (SQLite),
the host's control room in headless Chromium (it publishes 180p and receives the low layer of
its first page of 12 tiles), a Socket.IO watcher of the session, and the sites published by
bench/conference_load.py (aiortc: real ICE, DTLS and SRTP through Janus with trainer's tokens,
pre-encoded 320x180 VP8 and Opus, so that the load generator's cost stays small and measured).

Sites are added `--step` at a time. After each step, once every new site is on the call and
its `conference_status` reached the watcher, the CPU of Janus, `trainer serve`, the load
generator and Chromium is measured over a steady window (`/proc`, user + system). The first
step is measured twice: publishing only, then with every site receiving the host, which
separates Janus's cost per publisher from its cost per subscriber; later sites publish and
receive the host, as a room computer does. The ramp stops at `--max-sites`, or at the first
step where a site does not get on the call, the watcher sees a site degraded or lost, or the
load generator has no CPU left to send at its pace (then Janus is no longer what is measured).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ROOT, Row, table
from bench.conference import Watcher, _join, call_room, cpu
from tests.support_netns import NetNS, NsServer, cpu_seconds

STEADY_S = 10.0
SETTLE_S = 3.0
JOIN_TIMEOUT_S = 60.0
GENERATOR_FULL = 0.9  # of a core: past it the generator, not Janus, sets the pace
PACE_FULL = 65  # RTP packets/s a site sends: Opus every 20 ms, 15 video frames of one packet
PACE = 0.9 * PACE_FULL
SITES_PER_GENERATOR = 30  # one process (one core at most) per this many sites


@dataclass
class Step:
    sites: int
    subscribed: int
    janus: float  # % of a core
    trainer: float
    generator: float
    chromium: float
    load: float
    sent: float = 0.0  # RTP packets/s the sites sent to Janus
    received: float = 0.0  # RTP packets/s the sites received from Janus (the host's stream)
    lost: int = 0  # packets Janus reported lost on the sites' streams during the window
    problems: list[str] = field(default_factory=list)

    @property
    def janus_us_per_packet(self) -> float:
        """Janus's CPU per RTP packet it received from or sent to a site (the host's page's
        own streams not counted)."""
        packets = self.sent + self.received
        return 1e4 * self.janus / packets if packets else 0.0


class Generator:
    """bench/conference_load.py inside the namespace, fed commands, its results collected."""

    def __init__(self, ns: NetNS, server: NsServer, session_id: int, token: str) -> None:
        self.proc = subprocess.Popen(
            ns.command(sys.executable, "-m", "bench.conference_load", "--url", server.url,
                       "--session", str(session_id), f"--token={token}"),
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.up: dict[int, float] = {}
        self.failed: dict[int, str] = {}
        self.subscribed: set[int] = set()
        self.pc_state: dict[int, str] = {}
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stats_lines: queue.Queue[dict[str, float]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            first = self.lines.get(timeout=60)
        except queue.Empty:
            self.proc.kill()
            raise RuntimeError(f"the load generator did not start (exit code "
                               f"{self.proc.wait()}; is aiortc installed? make bench)") from None
        if not first.get("ready"):
            raise RuntimeError(f"load generator: {first}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            item = json.loads(line)
            site = item.get("site")
            if "up" in item:
                self.up[site] = float(item["up"])
            elif "failed" in item:
                self.failed[site] = item["failed"]
            elif "subscribe_failed" in item:
                self.failed[site] = "receiving the host: " + item["subscribe_failed"]
            elif item.get("subscribed"):
                self.subscribed.add(site)
            elif "pc" in item:
                self.pc_state[site] = item["pc"]
            elif "stats" in item:
                self.stats_lines.put(item["stats"])
                continue
            self.lines.put(item)

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def stats(self) -> dict[str, float]:
        self.send("stats")
        return self.stats_lines.get(timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.send("quit")
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Generators:
    """One load generator process per SITES_PER_GENERATOR sites (each is one Python thread)."""

    def __init__(self, ns: NetNS, server: NsServer, session_id: int, token: str) -> None:
        self.args = (ns, server, session_id, token)
        self.procs: list[Generator] = []
        self.count = 0
        self.subscribing = False

    def add(self, sites: list[int]) -> None:
        for site in sites:
            if self.count % SITES_PER_GENERATOR == 0:
                self.procs.append(Generator(*self.args))
                if self.subscribing:
                    self.procs[-1].send("subscribe")
            self.procs[-1].send(f"add {site}")
            self.count += 1

    def subscribe(self) -> None:
        self.subscribing = True
        for g in self.procs:
            g.send("subscribe")

    @property
    def up(self) -> dict[int, float]:
        return {k: v for g in self.procs for k, v in g.up.items()}

    @property
    def failed(self) -> dict[int, str]:
        return {k: v for g in self.procs for k, v in g.failed.items()}

    @property
    def pc_state(self) -> dict[int, str]:
        return {k: v for g in self.procs for k, v in g.pc_state.items()}

    @property
    def subscribed(self) -> set[int]:
        return {s for g in self.procs for s in g.subscribed}

    def cpu(self) -> list[float]:
        return [cpu_seconds(g.proc.pid) for g in self.procs]

    def stats(self) -> list[dict[str, float]]:
        """Each generator's counters (monotonic clocks are the machine's, so comparable)."""
        return [g.stats() for g in self.procs]

    def stop(self) -> None:
        for g in self.procs:
            g.stop()


def _wait(done: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.1)
    return bool(done())


def _chromium_pids(ns: NetNS) -> list[int]:
    pids = []
    for pid in ns.pids():
        try:
            if "chrom" in Path(f"/proc/{pid}/comm").read_text():
                pids.append(pid)
        except FileNotFoundError:
            pass
    return pids


def _measure(ns: NetNS, server: NsServer, gen: Generators, sites: int,
             subscribed: int) -> Step:
    time.sleep(SETTLE_S)
    browsers = _chromium_pids(ns)

    def sample() -> list[float]:
        return [*cpu(server), sum(cpu_seconds(p) for p in browsers), *gen.cpu()]

    packets0 = gen.stats()
    before, t0 = sample(), time.monotonic()
    time.sleep(STEADY_S)
    after, elapsed = sample(), time.monotonic() - t0
    packets1 = gen.stats()
    pct = [100 * (a - b) / elapsed for a, b in zip(after, before, strict=True)]
    janus, trainer, chromium, generators = pct[0], pct[1], pct[2], pct[3:]
    rate = {"sent": 0.0, "received": 0.0}
    lost = 0
    for a, b in zip(packets0, packets1, strict=True):  # each over its own clock's interval
        for k in rate:
            rate[k] += (b[k] - a[k]) / (b["at"] - a["at"])
        lost += int(b["lost"] - a["lost"])
    step = Step(sites, subscribed, janus, trainer, sum(generators), chromium,
                load=os.getloadavg()[0], sent=rate["sent"], received=rate["received"],
                lost=lost)
    if generators and max(generators) > 100 * GENERATOR_FULL:
        step.problems.append(f"a load generator at {max(generators):.0f} % of a core")
    if step.sent < PACE * sites:
        step.problems.append(f"the load generators sent {step.sent / sites:.0f} packets/s per "
                             f"site, behind their pace of {PACE_FULL} (CPU of the machine)")
    return step


def run_capacity(max_sites: int, step: int, first: int, *, receive: bool = True) -> list[Step]:
    steps: list[Step] = []
    with call_room(max_sites, participants_per_site=2) as call:
        bridge_ids = call.fixture.site_ids[1:]
        ns, server, watcher = call.ns, call.server, call.watcher
        bad: dict[int, str] = {}
        watcher.sio.on("conference_status", lambda p: _status(watcher, bad, p),
                       namespace="/live")
        host = _join(call.ctx.new_page(), f"/sessions/{call.fixture.session_id}/conference/host")
        gen = Generators(ns, server, call.fixture.session_id, call.fixture.organiser_token)
        try:
            joined = 0
            while joined < max_sites:
                batch = bridge_ids[joined:joined + (step if steps else first)]
                gen.add(batch)
                _wait(lambda b=batch: all(s in gen.failed or s in gen.up and (
                    not gen.subscribing or s in gen.subscribed) for s in b), JOIN_TIMEOUT_S)
                _wait(lambda b=batch: all(s in watcher.first for s in b if s in gen.up), 10)
                joined += len(batch)
                problems = [f"site {s}: {gen.failed[s]}" for s in batch if s in gen.failed]
                problems += [f"site {s}: not on the call after {JOIN_TIMEOUT_S:.0f} s"
                             for s in batch if s not in gen.up and s not in gen.failed]
                problems += [f"site {s}: on the call, the watcher never saw it connected"
                             for s in batch if s in gen.up and s not in watcher.first]
                if not steps and receive:  # publishing only, then receiving the host
                    steps.append(_measure(ns, server, gen, joined, 0))
                    _report(steps[-1])
                    gen.subscribe()
                    _wait(lambda j=joined: len(gen.subscribed) >= j, JOIN_TIMEOUT_S)
                step_row = _measure(ns, server, gen, joined, len(gen.subscribed))
                pcs = gen.pc_state
                step_row.problems += problems + [
                    f"site {s}: {why}" + (f"; its own PeerConnection {pcs[s]}" if s in pcs
                                          else "; its own PeerConnection still connected")
                    for s, why in bad.items()]
                state = host.get_by_test_id("conn-status").get_attribute("data-state")
                if state != "live":
                    step_row.problems.append(f"the host's control room: {state}")
                bad.clear()
                steps.append(step_row)
                _report(step_row)
                if step_row.problems:
                    break
        finally:
            gen.stop()
    return steps


def _status(watcher: Watcher, bad: dict[int, str], p: dict[str, Any]) -> None:
    watcher._status(p)
    site = int(p["site_id"])
    if p.get("media") in ("degraded", "lost") and site in watcher.first:
        bad[site] = f"{p['media']} (video {p.get('video')}, audio {p.get('audio')})"


def _report(s: Step) -> None:
    print(f"  {s.sites} sites ({s.subscribed} receiving the host): Janus {s.janus:.1f} %, "
          f"trainer {s.trainer:.1f} %, generator {s.generator:.1f} %, Chromium "
          f"{s.chromium:.1f} % of a core; packets/s to Janus {s.sent:.0f}, from it "
          f"{s.received:.0f}, lost {s.lost}; load average {s.load:.1f}"
          + (f"; {'; '.join(s.problems[:3])}" if s.problems else ""), flush=True)


def print_capacity(steps: list[Step], max_sites: int) -> None:
    if not steps:
        return
    pub_only, last = steps[0], steps[-1]
    rest = steps[1:] if last.subscribed else []
    held = [s for s in (rest or steps) if not s.problems]
    stop = "; ".join(last.problems[:3]) if last.problems else f"reached --max-sites {max_sites}"
    print(f"8c. Publishing sites on one Janus (aiortc publishers, 320x180 VP8 + Opus; the "
          f"host in Chromium): held {held[-1].sites if held else 0}; stopped at "
          f"{last.sites}: {stop}\n")
    print("| sites | receiving the host | Janus | trainer serve | load generator | Chromium "
          "(host) | RTP packets/s in / out | lost | Janus µs per packet | load average |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in steps:
        print(f"| {s.sites} | {s.subscribed} | {s.janus:.1f} | {s.trainer:.1f} | "
              f"{s.generator:.1f} | {s.chromium:.1f} | {s.sent:,.0f} / {s.received:,.0f} | "
              f"{s.lost} | {s.janus_us_per_packet:.1f} | {s.load:.1f} |")
    print("\n(CPU in % of one core, user + system from /proc over "
          f"{STEADY_S:.0f} s with every site on the call; packets as the sites counted them)\n")
    rows = [Row("Janus per publishing site (publishing only, the host included)",
                [pub_only.janus / (pub_only.sites + 1)], "% of a core")]
    if rest:
        first = rest[0]
        rows += [
            Row("Janus per site receiving the host",
                [(first.janus - pub_only.janus) / max(first.subscribed, 1)], "% of a core"),
            Row("Janus per RTP packet, publishing only", [pub_only.janus_us_per_packet], "µs"),
            Row("Janus per RTP packet, the host received too", [first.janus_us_per_packet],
                "µs"),
            Row("trainer serve per publishing site", [first.trainer / (first.sites + 1)],
                "% of a core"),
            Row("load generator per site (publishing and receiving)",
                [first.generator / first.sites], "% of a core"),
        ]
    ramp = rest or steps
    if len(ramp) >= 2:
        a, b = ramp[0], ramp[-1]
        rows.append(Row(f"Janus per added site, {a.sites} -> {b.sites} sites (marginal)",
                        [(b.janus - a.janus) / max(b.sites - a.sites, 1)], "% of a core"))
    print(table("8c. Per site", rows))
