"""Bytes a phone downloads for the coordinator's check-in page: the first load (empty browser
cache) and a repeat load (the same phone opening it again), in Debian's Chromium at 360 x 740.

Counted with the DevTools protocol: every response's encoded (on the wire, compressed when it
is) length, headers included, until the page is ready (`data-ready`) and the network is idle.
The service worker is blocked, so the figures are what HTTP caching and compression give.

    .venv/bin/python bench/page_weight.py                 # this checkout
    .venv/bin/python bench/page_weight.py --source DIR    # another checkout (e.g. an older
                                                          # release unpacked with git archive)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PASSWORD, free_port, load, sqlite_database  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "vi-VN", "service_workers": "block"}


def serve(source: Path, db: Any) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=db.url, TRAINER_DATA_DIR=str(db.data_dir),
               SECRET_KEY="bench-secret", PYTHONPATH=str(source))
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "trainer.entry", "serve", "--host", "127.0.0.1", "--port",
         str(port)], cwd=source, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:  # noqa: S310
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def measure(page: Any, cdp: Any, url: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    kinds: dict[str, str] = {}

    def received(e: dict[str, Any]) -> None:
        kinds[e["requestId"]] = e.get("type", "Other")

    def finished(e: dict[str, Any]) -> None:
        sizes[e["requestId"]] = int(e.get("encodedDataLength", 0))

    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    page.goto(url)
    page.wait_for_selector("[data-testid=checkin-app][data-ready='1']", timeout=30_000)
    page.wait_for_load_state("networkidle")
    cdp.remove_listener("Network.responseReceived", received)
    cdp.remove_listener("Network.loadingFinished", finished)
    by_kind: dict[str, int] = defaultdict(int)
    for request_id, size in sizes.items():
        by_kind[kinds.get(request_id, "Other")] += size
    by_kind["requests"] = sum(1 for size in sizes.values() if size > 0)  # over the network
    by_kind["total"] = sum(sizes.values())
    return dict(by_kind)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the checkout whose server is measured")
    parser.add_argument("--participants", type=int, default=300,
                        help="people registered at the measured site")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print("needs Debian's chromium (/usr/bin/chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    db = sqlite_database()
    fx = load(db, sites=1, participants=args.participants, coordinators=1)
    proc, url = serve(args.source.resolve(), db)
    try:
        site_id = fx.site_ids[0]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            context = browser.new_context(**PHONE)
            page = context.new_page()
            page.goto(url + "/login")
            page.fill("#username", f"bench-c{site_id}")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda u: "/login" not in u)
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.clearBrowserCache")
            target = f"{url}/sessions/{fx.session_id}/checkin/{site_id}"
            first = measure(page, cdp, target)
            repeat = measure(page, cdp, target)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        db.drop()
    print(f"Check-in page of a site with {args.participants} people, 360 x 740, "
          f"source {args.source}")
    print(f"{'':<12}{'first load':>14}{'repeat load':>14}")
    for key in sorted(set(first) | set(repeat), key=lambda k: (k in ("requests", "total"), k)):
        unit = "" if key == "requests" else " B"
        print(f"{key:<12}{first.get(key, 0):>12,}{unit:2}{repeat.get(key, 0):>12,}{unit:2}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
