"""deploy/nginx.conf: nginx accepts it, and a real `trainer serve` behind it answers HTTP and
Socket.IO over WebSocket (the upgrade passes through the proxy).

Needs nginx (`apt-get install nginx-light`); skipped without it. Two processes sharing
PostgreSQL and Redis are covered by tests/checkin/test_multiprocess.py."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="needs nginx")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nginx_config(tmp: Path, *, listen: int, upstreams: list[int]) -> Path:
    """deploy/nginx.conf inside a minimal main configuration, with its upstream servers and
    listening port replaced for the test."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    lines = []
    for line in site.splitlines():
        stripped = line.strip()
        if stripped.startswith("server 127.0.0.1:"):
            continue
        if stripped == "ip_hash;":
            lines.append(line)
            lines += [f"    server 127.0.0.1:{port};" for port in upstreams]
            continue
        if stripped.startswith("listen "):
            line = f"    listen 127.0.0.1:{listen};"
        lines.append(line)
    (tmp / "site.conf").write_text("\n".join(lines) + "\n")
    main = tmp / "nginx.conf"
    main.write_text(f"""
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
daemon off;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
""")
    return main


def test_the_nginx_configuration_is_valid(tmp_path: Path) -> None:
    main = nginx_config(tmp_path, listen=free_port(), upstreams=[5001, 5002])
    result = subprocess.run([NGINX, "-t", "-c", str(main), "-p", str(tmp_path)],  # noqa: S603
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


LOAD = """
import json, sys
from trainer import create_app
from trainer.auth.services import create_user, issue_token
from trainer.extensions import db
from trainer.people.services import create
from trainer.sessions.models import Registration, SessionSite, SessionStatus, TrainingSession
from trainer.sites.services import create_site
from trainer.dbtypes import utcnow
from datetime import timedelta
app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
with app.app_context():
    db.create_all()
    host = create_site(None, code="VT", name="Thành phố Việt Trì", kind="host")
    a = create_site(None, code="CK", name="Huyện Cẩm Khê")
    organiser = create_user("organiser", "correct horse battery", "organiser")
    person = create(None, {"full_name": "Nguyễn Thị Hà", "sex": "female", "site_id": a.id})
    now = utcnow()
    s = TrainingSession(title="Phiên thử", starts_at=now - timedelta(minutes=10),
                        ends_at=now + timedelta(hours=2), host_site_id=host.id,
                        status=SessionStatus.LIVE, topics=["management"])
    s.session_sites = [SessionSite(site_id=host.id), SessionSite(site_id=a.id)]
    db.session.add(s)
    db.session.flush()
    db.session.add(Registration(session_id=s.id, participant_id=person.id, site_id=a.id))
    db.session.commit()
    print(json.dumps({"token": issue_token(organiser).token, "session_id": s.id,
                      "site_id": a.id, "participant_id": person.id}))
"""


def wait_http(url: str, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.mark.processes
def test_websocket_updates_pass_through_nginx(tmp_path: Path) -> None:
    import requests
    import socketio

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'trainer.db'}",
           "TRAINER_DATA_DIR": str(tmp_path), "SECRET_KEY": "deploy-test-secret",
           "TRAINER_PROXY_COUNT": "1", "TRAINER_SOCKETIO_CHANNEL": f"deploy-{os.getpid()}"}
    env.pop("REDIS_URL", None)
    out = subprocess.run([sys.executable, "-c", LOAD], env=env, cwd=ROOT,  # noqa: S603
                         capture_output=True, text=True, timeout=120, check=True)
    import json

    world = json.loads(out.stdout.strip().splitlines()[-1])
    app_port, proxy_port = free_port(), free_port()
    trainer = Path(sys.executable).with_name("trainer")
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(  # noqa: S603
        [str(trainer), "serve", "--host", "127.0.0.1", "--port", str(app_port)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    main = nginx_config(tmp_path, listen=proxy_port, upstreams=[app_port])
    proxy = subprocess.Popen([NGINX, "-c", str(main), "-p", str(tmp_path)],  # noqa: S603
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sio = socketio.Client(reconnection=False)
    try:
        wait_http(f"http://127.0.0.1:{app_port}/healthz")
        base = f"http://127.0.0.1:{proxy_port}"
        wait_http(base + "/healthz")
        events: queue.Queue[Any] = queue.Queue()
        sio.on("attendance", lambda data: events.put(data), namespace="/live")
        sio.connect(base, namespaces=["/live"], transports=["websocket"],
                    auth={"token": world["token"]}, wait_timeout=10)
        assert sio.transport() == "websocket"
        snapshot = sio.call("watch", {"session_id": world["session_id"]}, namespace="/live",
                            timeout=10)
        assert snapshot["totals"]["present"] == 0
        answer = requests.post(
            f"{base}/api/v1/sessions/{world['session_id']}/checkins",
            json={"site_id": world["site_id"], "participant_id": world["participant_id"]},
            headers={"Authorization": f"Bearer {world['token']}"}, timeout=10)
        assert answer.status_code == 201, answer.text
        push = events.get(timeout=10)
        assert push["version"] >= answer.json()["version"]
        assert push["totals"]["present"] == 1
        # as a browser does: long-polling first, then the upgrade
        browser = socketio.Client(reconnection=False)
        browser.connect(base, namespaces=["/live"], auth={"token": world["token"]},
                        wait_timeout=10)
        try:
            again = browser.call("watch", {"session_id": world["session_id"]},
                                 namespace="/live", timeout=10)
            assert again["totals"]["present"] == 1
        finally:
            browser.disconnect()
    finally:
        if sio.connected:
            sio.disconnect()
        proxy.terminate()
        server.terminate()
        for p in (proxy, server):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
