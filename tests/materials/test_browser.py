"""The upload page in Chromium against a real `trainer serve`: several files, one request
each with a progress bar, a refused file explained; the PDF preview and a download whose
Vietnamese name arrives intact. No Content-Security-Policy violation on the way."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.processes]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    db_url = f"sqlite:///{tmp_path / 'browser.db'}"
    setup = (
        "from trainer import create_app\n"
        "from trainer.extensions import db\n"
        "from trainer.auth.services import create_user\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    db.create_all()\n"
        f"    create_user('bantochuc', {PASSWORD!r}, 'organiser')\n"
    )
    env = {**os.environ, "DATABASE_URL": db_url, "TRAINER_DATA_DIR": str(tmp_path),
           "SECRET_KEY": "browser-test-secret", "TRAINER_SOCKETIO_CHANNEL": "materials-browser",
           "JANUS_MANAGED": "0"}  # no video here: no child Janus to wait for
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-c", setup], env=env, check=True, timeout=60)
    port = free_port()
    trainer = str(Path(sys.executable).with_name("trainer"))
    proc = subprocess.Popen([trainer, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a busy CI machine starts it in seconds
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("trainer serve did not start")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium")
def test_upload_several_files_preview_and_download(server: str, tmp_path: Path,
                                                   samples: Any) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    files = tmp_path / "pick"
    files.mkdir()
    good_pdf = files / "Sổ tay quản lý TTHTCĐ.pdf"
    good_pdf.write_bytes(samples.pdf())
    good_png = files / "Sơ đồ điểm cầu.png"
    good_png.write_bytes(samples.png(8, 8))
    bad = files / "Tài liệu (giả).pdf"
    bad.write_bytes(samples.exe())

    problems: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(accept_downloads=True, locale="en-GB")
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(server + "/login")
            page.fill("input[name=username]", "bantochuc")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(server + "/materials/upload?lang=en")
            page.set_input_files("#f-files", [str(good_pdf), str(bad), str(good_png)])
            page.select_option("#f-topic", "gender")
            page.check("input[name=visibility][value=shared]")
            page.click("#upload-button")
            finished = page.locator("#upload-list li.ok, #upload-list li.failed")
            finished.nth(2).wait_for(timeout=20_000)
            rows = page.locator("#upload-list li")
            assert rows.count() == 3  # no "all uploaded" line: one file failed
            assert "Uploaded" in rows.nth(0).inner_text()
            assert rows.nth(0).locator("progress").evaluate("p => p.value") == 100
            failed = rows.nth(1)
            assert "failed" in (failed.get_attribute("class") or "")
            assert "program" in failed.inner_text()
            assert "Uploaded" in rows.nth(2).inner_text()

            # the PDF's page: preview framed from our own origin, no CSP complaint
            with page.expect_response(lambda r: "inline=1" in r.url) as preview:
                rows.nth(0).locator("a").click()
            assert preview.value.status == 200
            assert page.locator("iframe.material-preview.pdf").count() == 1
            with page.expect_download() as download:
                page.click("a.button[download]")
            assert download.value.suggested_filename == good_pdf.name
            saved = tmp_path / "saved.pdf"
            download.value.save_as(saved)
            assert saved.read_bytes() == good_pdf.read_bytes()
        finally:
            browser.close()
    csp = [m for m in problems if "Content Security Policy" in m or "Refused" in m]
    assert csp == [], csp
