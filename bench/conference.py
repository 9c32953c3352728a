"""8. The video room: how soon the wall shows a site whose media came up, what Janus and trainer
spend per publishing site, and how many publishing sites one Janus holds on this machine.

Everything with media runs inside a network namespace (tests/support_netns.py): Janus (the
child of `trainer serve`), the server (SQLite) and Debian's Chromium with a fake camera and
microphone (headless tabs, 180p, simulcast as the room computer sends it). The host's control
room publishes too and receives the tiles of its first page (low layer); every site receives
the host. Needs root, `janus` and `/usr/bin/chromium`.

Latency, per site: from the moment its room computer's page sees its media up (the publisher's
PeerConnection is up: the page turns "on the call") until (a) a Socket.IO watcher of the
session holds `conference_status` "connected" for it, and (b) the live wall, open in another
tab, marks the site's tile connected (MutationObserver on the tile). All times are wall-clock
milliseconds of this one machine. Sites join one after another, each once its predecessor is
on the call.

CPU: user + system time of the Janus and `trainer serve` processes over a steady window with
every site on the call, divided by the number of publishing sites (the host included).

python -m bench.conference [--sites 13] [--runs 1]
python -m bench.conference --capacity [--max-sites 60 --first 30 --step 10] [--publish-only]
python -m bench.conference --capacity --browsers [--max-sites 30]

`--capacity` adds sites until one does not get on the call: by default published by
bench/conference_load.py (aiortc, see bench/conference_capacity.py), with `--browsers` each a
headless Chromium tab (the room computer's own page; about 10 fit on this machine).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    PASSWORD,
    Database,
    Row,
    _env,
    load,
    percentile,
    sqlite_database,
    table,
)
from tests.support_netns import NetNS, NsServer, cpu_seconds

GOAL_MS = 2000
JOIN_TIMEOUT_MS = 60_000
STEADY_S = 15.0

# Installed before the page's scripts: when the page turned "on the call" (room computer), and
# when each wall tile first showed its site connected (wall).
PROBE = """
window.__bench = {live: null, wall: {}};
new MutationObserver((records) => {
  for (const r of records) {
    const el = r.target;
    if (el.id === "conn-status" && el.dataset.state === "live" && !window.__bench.live)
      window.__bench.live = Date.now();
    if (el.dataset && el.dataset.testid === "tile" && el.dataset.media === "connected"
        && !window.__bench.wall[el.dataset.siteId])
      window.__bench.wall[el.dataset.siteId] = Date.now();
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-state", "data-media"]});
"""


def start_server(ns: NetNS, db: Database) -> NsServer:
    """`trainer serve` inside the namespace with its child Janus (SQLite); its log is kept
    after the run (in a temporary folder of its own)."""
    logs = Path(tempfile.mkdtemp(prefix="trainer-conference-"))
    server = NsServer(ns, "conference", _env(db, JANUS_MANAGED="1"), logs).start()
    if server.janus_pid() is None:
        server.stop()
        raise RuntimeError(f"no Janus child (is janus installed?); see {server.log}")
    return server


def cpu(server: NsServer) -> tuple[float, float]:
    """CPU seconds so far of Janus and of `trainer serve`."""
    return cpu_seconds(server.janus_pid() or 0), cpu_seconds(server.proc.pid if server.proc else 0)


class Watcher:
    """A Socket.IO client watching the session: when each site was first pushed connected."""

    def __init__(self, url: str, token: str, session_id: int) -> None:
        import socketio

        self.first: dict[int, float] = {}
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("conference_status", self._status, namespace="/live")
        self.sio.connect(url, namespaces=["/live"], transports=["websocket"],
                         auth={"token": token}, wait_timeout=10)
        self.sio.call("watch", {"session_id": session_id}, namespace="/live", timeout=10)

    def _status(self, p: dict[str, Any]) -> None:
        if p.get("media") == "connected":
            with self.lock:
                self.first.setdefault(int(p["site_id"]), time.time() * 1000)

    def close(self) -> None:
        self.sio.disconnect()


def _login(ctx: Any, base: str) -> None:
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("#username", "bench-organiser")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.close()


def _join(page: Any, path: str) -> Any:
    page.add_init_script(PROBE)
    page.goto(path)
    page.get_by_test_id("quality").select_option("180")
    page.get_by_test_id("join").click()
    page.wait_for_function("() => window.__bench.live", timeout=JOIN_TIMEOUT_MS)
    return page


@dataclass
class Call:
    """A room ready for a run (see `call_room`)."""

    fixture: Any
    ns: NetNS
    server: NsServer
    watcher: Watcher
    browser: Any
    ctx: Any
    options: dict[str, Any]


@contextmanager
def call_room(sites: int, participants_per_site: int) -> Iterator[Call]:
    """A fresh embedded database with the host site and `sites` bridge points (a builtin
    conference), `trainer serve` with its child Janus in a network namespace, a Socket.IO
    watcher of the session and headless Chromium logged in as the organiser; all stopped and
    removed at the end."""
    from playwright.sync_api import sync_playwright

    db = sqlite_database()
    try:
        fixture = load(db, sites=sites + 1, participants=(sites + 1) * participants_per_site,
                       coordinators=0, builtin_conference=True)
        with NetNS("bench") as ns:
            server = start_server(ns, db)
            watcher = Watcher(server.url, fixture.organiser_token, fixture.session_id)
            try:
                with sync_playwright() as p:
                    browser = ns.launch_chromium(p, server.url, db.data_dir)
                    options = {"base_url": server.url, "locale": "vi-VN",
                               "viewport": {"width": 1366, "height": 768}}
                    ctx = browser.new_context(**options)
                    _login(ctx, server.url)
                    yield Call(fixture, ns, server, watcher, browser, ctx, options)
                    browser.close()
            finally:
                watcher.close()
                server.stop()
    finally:
        db.drop()


def run_room(sites: int, *, capacity: bool = False) -> dict[str, Any]:
    """One room: the host, then `sites` bridge points one after another. With `capacity`,
    stop at the first site that does not get on the call (or at `sites`)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    result: dict[str, Any] = {"to_watcher": [], "to_wall": [], "joined": 0, "failed": None}
    with call_room(sites, participants_per_site=20) as call:
        fixture, server, watcher, browser = call.fixture, call.server, call.watcher, call.browser
        bridge_ids = fixture.site_ids[1:]  # the first is the host site
        options, ctx = call.options, call.ctx
        state = ctx.storage_state()
        wall = browser.new_context(storage_state=state, **options).new_page()
        wall.add_init_script(PROBE)
        wall.goto(f"/sessions/{fixture.session_id}/wall")
        _join(ctx.new_page(), f"/sessions/{fixture.session_id}/conference/host")
        for site_id in bridge_ids:
            # A context per room computer, as each is its own browser: within one,
            # Chromium allows 6 connections per server, and each page's janus.js
            # holds one in a long poll.
            page = browser.new_context(storage_state=state, **options).new_page()
            try:
                _join(page, f"/sessions/{fixture.session_id}/conference/site/{site_id}")
            except PlaywrightTimeout:
                status = page.get_by_test_id("conn-status")
                result["failed"] = (
                    f"site {result['joined'] + 1} not on the call after "
                    f"{JOIN_TIMEOUT_MS / 1000:.0f} s (its page: "
                    f"{status.get_attribute('data-state')}: {status.text_content()!r}; "
                    f"load average {os.getloadavg()[0]:.1f})")
                break
            result["joined"] += 1
            live = float(page.evaluate("window.__bench.live"))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and site_id not in watcher.first:
                time.sleep(0.02)
            if site_id in watcher.first:
                result["to_watcher"].append(watcher.first[site_id] - live)
            if _wall_has_media(wall):
                shown = wall.wait_for_function(
                    f"() => window.__bench.wall['{site_id}'] || 0", timeout=10_000)
                result["to_wall"].append(float(shown.json_value()) - live)
            if capacity:
                print(f"  {result['joined']} sites on the call; load average "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
        time.sleep(3)
        janus0, trainer0 = cpu(server)
        t0 = time.monotonic()
        time.sleep(STEADY_S)
        janus1, trainer1 = cpu(server)
        elapsed = time.monotonic() - t0
        publishers = result["joined"] + 1  # the host publishes too
        result["janus_cpu_pct"] = 100 * (janus1 - janus0) / elapsed
        result["trainer_cpu_pct"] = 100 * (trainer1 - trainer0) / elapsed
        result["publishers"] = publishers
    return result


def _wall_has_media(wall: Any) -> bool:
    """Whether this wall marks a tile with the site's media state (data-media)."""
    return bool(wall.evaluate("() => !!document.querySelector('[data-testid=tile][data-media]')"))


def bench_conference(runs: int, sites: int = 13) -> list[Row]:
    watcher: list[float] = []
    wall: list[float] = []
    janus: list[float] = []
    trainer: list[float] = []
    for _ in range(runs):
        r = run_room(sites)
        watcher += r["to_watcher"]
        wall += r["to_wall"]
        janus.append(r["janus_cpu_pct"] / r["publishers"])
        trainer.append(r["trainer_cpu_pct"] / r["publishers"])
    rows = [
        Row("media up -> watcher holds 'connected', median", [percentile(watcher, 50)], "ms"),
        Row("media up -> watcher holds 'connected', p95", [percentile(watcher, 95)], "ms",
            f"<= {GOAL_MS}", percentile(watcher, 95) <= GOAL_MS if watcher else None),
    ]
    if wall:
        rows += [
            Row("media up -> wall tile shows it, median", [percentile(wall, 50)], "ms",
                f"<= {GOAL_MS}", percentile(wall, 50) <= GOAL_MS),
            Row("media up -> wall tile shows it, p95", [percentile(wall, 95)], "ms",
                f"<= {GOAL_MS}", percentile(wall, 95) <= GOAL_MS),
        ]
    rows += [
        Row("Janus CPU per publishing site", janus, "% of a core"),
        Row("trainer serve CPU per publishing site", trainer, "% of a core"),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.conference")
    parser.add_argument("--sites", type=int, default=13)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--capacity", action="store_true",
                        help="add sites until one does not get on the call (or --max-sites)")
    parser.add_argument("--max-sites", type=int, default=60)
    parser.add_argument("--step", type=int, default=10,
                        help="with --capacity: sites added at a time")
    parser.add_argument("--first", type=int, default=30,
                        help="with --capacity: sites of the first step (measured publishing "
                             "only, then receiving the host)")
    parser.add_argument("--publish-only", action="store_true",
                        help="with --capacity: the sites do not receive the host (pushes "
                             "Janus's packets further for the same load generator CPU)")
    parser.add_argument("--browsers", action="store_true",
                        help="with --capacity: every site a headless Chromium tab (about 10 "
                             "fit on 2 cores) instead of the aiortc load generator")
    args = parser.parse_args()
    if args.capacity and not args.browsers:
        from bench.conference_capacity import print_capacity, run_capacity

        print_capacity(run_capacity(args.max_sites, args.step, args.first,
                                    receive=not args.publish_only), args.max_sites)
        return
    if args.capacity:
        r = run_room(args.max_sites, capacity=True)
        print(table(f"8c. Publishing sites on one Janus (180p, simulcast, headless tabs): "
                    f"{r['joined']} of {args.max_sites} on the call"
                    + (f"; stopped: {r['failed']}" if r["failed"] else ""), [
                        Row("publishing sites (the host included)", [r["publishers"]], ""),
                        Row("Janus CPU, all on the call", [r["janus_cpu_pct"]], "% of a core"),
                        Row("trainer serve CPU, all on the call", [r["trainer_cpu_pct"]],
                            "% of a core"),
                        Row("media up -> watcher, p95", [percentile(r["to_watcher"], 95)], "ms"),
                    ]))
        return
    print(table(f"8. The video room ({args.sites} sites + host, one Janus, 180p)",
                bench_conference(args.runs, args.sites)))


if __name__ == "__main__":
    main()
