"""A real Janus behind a real `trainer serve`: the server starts Janus as its child (the
binary from Debian's `janus` package) with the configuration it writes into its data folder.

`start_video_server(data_dir, host=..., prefix=[...])` starts `trainer serve` on `host`
(loopback by default; an address inside a network namespace with
`prefix=["ip", "netns", "exec", name]`), waits until it answers and until its Janus does, and
answers a `VideoServer` that knows Janus's URLs and secrets (read from the written
configuration) for python-side calls to Janus.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support_servers import ROOT, TRAINER, Server, free_port, loader_app, wait_until

JANUS = shutil.which("janus")
NO_JANUS = "Debian's janus is not installed (apt-get install janus): no real video server"


def _setting(text: str, name: str) -> str:
    match = re.search(rf"^\s*{name}\s*=\s*\"?([^\"\n]+)\"?", text, re.MULTILINE)
    assert match, f"{name} not found in the Janus configuration"
    return match.group(1)


@dataclass
class JanusSide:
    """What the child Janus was told, read back from its configuration files."""

    url: str
    admin_url: str
    admin_secret: str
    room_admin_key: str

    @classmethod
    def read(cls, data_dir: Path, host: str) -> JanusSide:
        folder = data_dir / "janus"
        core = (folder / "janus.jcfg").read_text()
        http = (folder / "janus.transport.http.jcfg").read_text()
        room = (folder / "janus.plugin.videoroom.jcfg").read_text()
        port = _setting(http.split("admin:")[0], "port")
        admin_port = _setting(http.split("admin:")[1], "admin_port")
        return cls(url=f"http://{host}:{port}/janus",
                   admin_url=f"http://127.0.0.1:{admin_port}/admin",
                   admin_secret=_setting(core, "admin_secret"),
                   room_admin_key=_setting(room, "admin_key"))

    def client(self) -> Any:
        from trainer.conference.janus import JanusClient

        return JanusClient(self.url, self.admin_url, self.admin_secret, self.room_admin_key)


class VideoServer(Server):
    """`trainer serve` on `host`, optionally behind a command prefix (a network namespace)."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, *,
                 host: str = "127.0.0.1", prefix: list[str] | None = None,
                 port: int | None = None) -> None:
        super().__init__(name, env, log_dir, port=port or free_port())
        self.host, self.prefix = host, list(prefix or [])
        self.url = f"http://{host}:{self.port}"
        self.data_dir = Path(env["TRAINER_DATA_DIR"])
        self.janus: JanusSide | None = None

    def start(self, wait: bool = True) -> VideoServer:
        self.starts += 1
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*self.prefix, str(TRAINER), "serve", "--host", self.host,
                 "--port", str(self.port)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=str(ROOT))
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        if self.prefix:  # the namespace's address is not reachable from here: ask inside it
            wait_until(lambda: self.proc is not None and self.proc.poll() is None
                       and "trainer serving on" in self.log_tail(), timeout,
                       f"{self.name} to serve")
        else:
            super().wait_ready(timeout)
        assert "video Janus at" in self.log_tail(), (
            f"trainer serve started no Janus:\n{self.log_tail()}")
        self.janus = JanusSide.read(self.data_dir, self.host)

    def janus_pid(self) -> int | None:
        """The child Janus's process id (from the server's log), to stop or kill it."""
        match = re.search(r"Janus started \(pid (\d+)\)", self.log_tail(20000))
        return int(match.group(1)) if match else None


def make_builtin(database_url: str, data_dir: Path, session_id: int) -> None:
    """Switch a session of the loaded world to trainer's built-in video room."""
    from trainer.extensions import db
    from trainer.sessions.models import TrainingSession

    app = loader_app(database_url, data_dir)
    with app.app_context():
        db.session.get(TrainingSession, session_id).conference_provider = "builtin"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
