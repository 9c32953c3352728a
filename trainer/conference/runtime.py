"""The conference's per-app state: which Janus trainer drives, and the child Janus it started.

One object in `app.extensions["conference"]`. With JANUS_URL the app drives that server (its
admin API at JANUS_ADMIN_URL with JANUS_ADMIN_SECRET); otherwise `trainer serve` may start a
child Janus (`start_managed`) and fill this in. Without either, `client` stays None and
everything else of trainer works.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from trainer.conference.janus import JanusClient, JanusUnavailable
from trainer.conference.process import JanusConfig, ManagedJanus, janus_binary, reachable_host

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    client: JanusClient | None = None
    public_url: str | None = None  # what browsers use; None: the client's URL, host from request
    events_password: str | None = None  # basic auth of Janus's event handler posting to us
    managed: ManagedJanus | None = None
    janus_down: bool = False  # the health watch found Janus unreachable
    # Where Janus writes recordings and trainer reads them: the child Janus's folder, or
    # JANUS_RECORDINGS_DIR for a server on this machine (None: recording is not possible).
    recordings_dir: Path | None = None
    # One conversion of recordings at a time per process (trainer.conference.recording).
    convert_lock: threading.Lock = field(default_factory=threading.Lock)
    convert_wanted: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Runtime:
        url = config.get("JANUS_URL")
        recordings = config.get("JANUS_RECORDINGS_DIR")
        recordings_dir = Path(recordings) if recordings else None
        if not url:
            return cls(public_url=config.get("JANUS_PUBLIC_URL"),
                       events_password=config.get("JANUS_EVENTS_PASSWORD"))
        parts = urlsplit(url)
        admin_url = (config.get("JANUS_ADMIN_URL")
                     or f"{parts.scheme}://{parts.hostname}:7088/admin")  # Janus's default
        client = JanusClient(url, admin_url, config.get("JANUS_ADMIN_SECRET") or "",
                             config.get("JANUS_ROOM_ADMIN_KEY"))
        return cls(client=client, public_url=config.get("JANUS_PUBLIC_URL") or url,
                   events_password=config.get("JANUS_EVENTS_PASSWORD"),
                   recordings_dir=recordings_dir)


def runtime(app: Flask | None = None) -> Runtime:
    target = app or current_app
    state: Runtime = target.extensions["conference"]
    return state


def video_possible(app: Flask | None = None) -> bool:
    """A video server is configured, or `trainer serve` will start one (janus on PATH)."""
    target = app or current_app
    return runtime(target).client is not None or bool(
        target.config.get("JANUS_MANAGED", True) and janus_binary())


def start_managed(app: Flask, host: str, port: int) -> ManagedJanus | None:
    """Start a child Janus for `trainer serve` on `host`:`port` when none is configured and
    the binary is on PATH; None otherwise (or when it fails to start: logged)."""
    state = runtime(app)
    binary = janus_binary()
    if state.client is not None or not app.config.get("JANUS_MANAGED", True) or not binary:
        return None
    target = reachable_host(host)
    config = JanusConfig(folder=Path(app.config["DATA_DIR"]) / "janus", http_host=host,
                         events_url=f"http://{target}:{port}/conference/janus-events",
                         http_port=int(app.config.get("JANUS_PORT") or 0))
    managed = ManagedJanus(config, binary)
    try:
        managed.start()
    except JanusUnavailable:
        log.exception("the video server (Janus) could not be started; video is off")
        return None
    state.client = config.client()
    state.events_password = config.events_password
    state.managed = managed
    state.recordings_dir = config.recordings
    return managed
