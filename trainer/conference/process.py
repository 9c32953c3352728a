"""Janus as a child process of `trainer serve`: its configuration, start and stop.

When the `janus` binary is on PATH and no JANUS_URL is set, `trainer serve` writes a Janus
configuration into `<data folder>/janus/` and starts Janus with it: the HTTP API on the address
trainer serves on, the admin API on loopback only, a random admin secret, token
authentication (browsers need a token trainer issued), the VideoRoom plugin with a random
`admin_key` (browsers cannot create rooms) and the sample event handler posting every session,
handle, WebRTC, media and plugin event back to trainer with basic authentication. Other plugins
and transports are disabled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from trainer.conference.janus import JanusClient, JanusUnavailable

log = logging.getLogger(__name__)

PLUGINS = ("audiobridge", "duktape", "echotest", "lua", "nosip", "recordplay", "sip",
           "streaming", "textroom", "videocall", "voicemail")
TRANSPORTS = ("mqtt", "nanomsg", "pfunix", "rabbitmq", "websockets")
EVENT_HANDLERS = ("gelfevh", "mqttevh", "nanomsgevh", "rabbitmqevh", "wsevh")
EVENTS_USER = "janus"
ANY_ADDRESS = ("", "0.0.0.0", "::")  # noqa: S104 - recognised here, never bound to
NO_MEDIA_TIMER_S = 2  # a dying tab sends no hangup: Janus reports its media gone after this
PROTECTED = ("/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var")


def reachable_host(host: str) -> str:
    """An address to reach a server listening on `host` from this machine."""
    return "127.0.0.1" if host in ANY_ADDRESS else host


def janus_binary() -> str | None:
    return shutil.which("janus")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _so_list(names: tuple[str, ...], prefix: str) -> str:
    return _quote(",".join(f"libjanus_{prefix}{n}.so" for n in names))


@dataclass
class JanusConfig:
    """What the child Janus is told; written as Janus's .jcfg files."""

    folder: Path
    http_host: str
    events_url: str
    http_port: int = 0
    admin_port: int = 0
    admin_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    room_admin_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    events_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    rtp_port_range: str = "20000-40000"

    def __post_init__(self) -> None:
        self.http_port = self.http_port or free_port(self.local_host)
        self.admin_port = self.admin_port or free_port("127.0.0.1")

    @property
    def local_host(self) -> str:
        return reachable_host(self.http_host)

    @property
    def url(self) -> str:
        return f"http://{self.local_host}:{self.http_port}/janus"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}/admin"

    @property
    def recordings(self) -> Path:
        """Where Janus may write recordings (rooms get it as their `rec_dir`)."""
        return self.folder / "recordings"

    def protected_folders(self) -> str:
        """Folders Janus must never write a recording into; one that holds the data folder
        (e.g. /var for /var/lib/trainer) is left out, so that recordings can land there."""
        target = str(self.recordings.resolve())
        kept = [p for p in PROTECTED if not (target == p or target.startswith(p + "/"))]
        return "[" + ", ".join(_quote(p) for p in kept) + "]"

    def client(self) -> JanusClient:
        return JanusClient(self.url, self.admin_url, self.admin_secret, self.room_admin_key)

    def files(self) -> dict[str, str]:
        ip = "" if self.http_host in ANY_ADDRESS else f"\tip = {_quote(self.http_host)}\n"
        return {
            "janus.jcfg": (
                "general: {\n"
                f"\tconfigs_folder = {_quote(str(self.folder))}\n"
                "\tdebug_level = 3\n"
                "\tserver_name = \"trainer\"\n"
                f"\tadmin_secret = {_quote(self.admin_secret)}\n"
                "\ttoken_auth = true\n"
                "\tsession_timeout = 60\n"
                f"\tprotected_folders = {self.protected_folders()}\n"
                "}\n"
                "media: {\n"
                f"\trtp_port_range = {_quote(self.rtp_port_range)}\n"
                f"\tno_media_timer = {NO_MEDIA_TIMER_S}\n"
                "\tslowlink_threshold = 4\n"
                "}\n"
                "nat: {\n\tice_ignore_list = \"vmnet\"\n}\n"
                f"plugins: {{\n\tdisable = {_so_list(PLUGINS, '')}\n}}\n"
                f"transports: {{\n\tdisable = {_so_list(TRANSPORTS, '')}\n}}\n"
                "loggers: {\n\tdisable = \"libjanus_jsonlog.so\"\n}\n"
                "events: {\n\tbroadcast = true\n"
                f"\tdisable = {_so_list(EVENT_HANDLERS, '')}\n"
                "\tstats_period = 0\n}\n"
            ),
            "janus.transport.http.jcfg": (
                "general: {\n\tjson = \"plain\"\n\tbase_path = \"/janus\"\n\thttp = true\n"
                f"\tport = {self.http_port}\n{ip}\thttps = false\n\tevents = false\n}}\n"
                "admin: {\n\tadmin_base_path = \"/admin\"\n\tadmin_http = true\n"
                f"\tadmin_port = {self.admin_port}\n\tadmin_ip = \"127.0.0.1\"\n"
                "\tadmin_https = false\n}\n"
                "cors: {\n}\n"
            ),
            "janus.plugin.videoroom.jcfg": (
                "general: {\n"
                f"\tadmin_key = {_quote(self.room_admin_key)}\n"
                "\tlock_rtp_forward = true\n\tevents = true\n}\n"
            ),
            "janus.eventhandler.sampleevh.jcfg": (
                "general: {\n\tenabled = true\n"
                "\tevents = \"sessions,handles,webrtc,media,plugins\"\n"
                "\tgrouping = true\n\tjson = \"plain\"\n"
                f"\tbackend = {_quote(self.events_url)}\n"
                f"\tbackend_user = {_quote(EVENTS_USER)}\n"
                f"\tbackend_pwd = {_quote(self.events_password)}\n"
                "\tmax_retransmissions = 3\n\tretransmissions_backoff = 100\n}\n"
            ),
        }

    def write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.recordings.mkdir(exist_ok=True, mode=0o700)
        for name, text in self.files().items():
            path = self.folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM when trainer dies, even by SIGKILL,
    so that no Janus outlives the server that started it."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not Linux: stop() still stops it
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ManagedJanus:
    """One Janus child process with a configuration written by `JanusConfig`."""

    def __init__(self, config: JanusConfig, binary: str) -> None:
        self.config = config
        self.binary = binary
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, wait_s: float = 10.0) -> None:
        self.config.write()
        log_path = self.config.folder / "janus.log"
        with open(log_path, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - the janus found on PATH
                [self.binary, "-F", str(self.config.folder),
                 "-C", str(self.config.folder / "janus.jcfg"), "-o", "-e"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_die_with_parent)
        client = self.config.client()
        deadline = time.monotonic() + wait_s
        while True:
            try:
                client.info()
                client.admin("ping")
                break
            except JanusUnavailable:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise JanusUnavailable(
                        f"Janus did not start (see {log_path})") from None
                time.sleep(0.1)
        log.info("Janus started (pid %s) on %s", self.process.pid, self.config.url)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
        log.info("Janus stopped")
