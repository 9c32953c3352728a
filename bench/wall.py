"""7. The live wall in a real browser (Debian's Chromium through Playwright) at 1,000 sites and
30,000 participants, half of them checked in: how long the page takes to show, and whether it
stays smooth while check-ins stream in at 200 a second.

Measured in the page itself (Performance API): navigation start until the load event (the
1,000 tiles are in the HTML) and until the live connection is up; during the stream, the
frames drawn per second (requestAnimationFrame), the long tasks (main thread busy over 50 ms,
PerformanceObserver) and their total blocking time, and how far behind the server the wall's
"present" total is when the stream stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import threading
import time
from pathlib import Path

from bench.common import PASSWORD, Database, Row, Server, load
from bench.rawhttp import HTTPError
from bench.scenarios import Pool, checkin_request, paced

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

# Installed before the page's own scripts: counts frames and long tasks from the first paint.
PROBE = """
window.__bench = {frames: 0, longTasks: [], counting: false};
const tick = () => { if (window.__bench.counting) window.__bench.frames++;
                     requestAnimationFrame(tick); };
requestAnimationFrame(tick);
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__bench.longTasks.push([e.startTime, e.duration]);
}).observe({type: "longtask", buffered: true});
"""


async def _stream(url: str, token: str, session_id: int, people: list[tuple[int, int, str]],
                  rate: int, seconds: float) -> None:
    pool = Pool(url)

    async def one(i: int) -> None:
        with contextlib.suppress(HTTPError):  # the wall's total is compared with the server's
            await pool.send(checkin_request(url, token, session_id, people[i]))

    await paced(min(int(rate * seconds), len(people)), rate, one)
    pool.close()


def bench_wall(db: Database, runs: int, seconds: float = 10.0, rate: int = 200) -> list[Row]:
    if not CHROMIUM.exists():
        return [Row("skipped: Debian's chromium is not installed", [float("nan")], "")]
    from playwright.sync_api import sync_playwright

    fx = load(db, sites=1000, participants=30000, coordinators=1, checked_in=True,
              checked_in_share=0.5)
    server = Server(db)
    # bench.loader checks in every other participant by id: stream the others.
    waiting = [p for i, p in enumerate(sorted(fx.participants)) if i % 2 == 1]
    random.Random(3).shuffle(waiting)
    loaded, live, fps, long_tasks, blocking, longest, behind = [], [], [], [], [], [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            context = browser.new_context(viewport={"width": 1920, "height": 1080},
                                          locale="vi-VN")
            context.add_init_script(PROBE)
            page = context.new_page()
            page.goto(server.url + "/login")
            page.fill("#username", "bench-organiser")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda u: "/login" not in u)
            wall = f"{server.url}/sessions/{fx.session_id}/wall"
            page.goto(wall)  # warm-up: templates, statements, browser caches
            for r in range(runs):
                page.goto(wall, wait_until="load")
                page.wait_for_selector("#live-state[data-state=live]", timeout=30000)
                loaded.append(page.evaluate(
                    "performance.getEntriesByType('navigation')[0].loadEventEnd"))
                live.append(page.evaluate("performance.now()"))
                page.evaluate("window.__bench.longTasks = []; window.__bench.frames = 0;"
                              "window.__bench.counting = true; window.__bench.t0 = "
                              "performance.now()")
                people = waiting[r * rate * int(seconds):(r + 1) * rate * int(seconds)]
                # In a thread of its own: Playwright's sync API keeps an event loop here.
                streamer = threading.Thread(target=asyncio.run, args=(_stream(
                    server.url, fx.organiser_token, fx.session_id, people, rate, seconds),))
                streamer.start()
                streamer.join()
                probe = page.evaluate(
                    "(() => { const b = window.__bench; b.counting = false;"
                    " return {frames: b.frames, ms: performance.now() - b.t0,"
                    " tasks: b.longTasks.filter(t => t[0] >= b.t0).map(t => t[1])}; })()")
                fps.append(probe["frames"] / probe["ms"] * 1000)
                long_tasks.append(float(len(probe["tasks"])))
                blocking.append(sum(max(0.0, d - 50) for d in probe["tasks"]))
                longest.append(max(probe["tasks"], default=0.0))
                time.sleep(1.0)  # the last push (pushes are coalesced, 4 a second)
                shown = int(page.inner_text("[data-total=present]").replace(".", "")
                            .replace(",", "").strip() or 0)
                stored = _present(server.url, fx.organiser_token, fx.session_id)
                behind.append(float(stored - shown))
            browser.close()
    finally:
        server.stop()
    return [
        Row("wall page loaded (navigation -> load event, 1,000 tiles)", loaded, "ms", "≤ 1000",
            statistics.median(loaded) <= 1000),
        Row("wall live (navigation -> live connection up)", live, "ms"),
        Row(f"frames drawn per second while {rate} check-ins/s stream in", fps, "fps"),
        Row("long tasks (> 50 ms) during the stream", long_tasks, "count"),
        Row("total blocking time during the stream", blocking, "ms"),
        Row("longest task during the stream", longest, "ms"),
        Row("check-ins the wall's total lacks 1 s after the stream stops", behind, "count",
            "0", max(behind) == 0),
    ]


def _present(url: str, token: str, session_id: int) -> int:
    """The present total the server has (the loopback server's own URL)."""
    import json
    import urllib.request

    req = urllib.request.Request(f"{url}/api/v1/sessions/{session_id}/attendance",  # noqa: S310
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as answer:  # noqa: S310
        return int(json.load(answer)["totals"]["present"])
