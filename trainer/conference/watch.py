"""What `trainer serve` runs for the video: the child Janus (when it starts one) and a watch
that polls Janus's health, marks sites lost while it is down, creates the rooms of live
sessions again when it is back, closes the rooms of ended sessions it could not close at the
end, and removes the tokens whose time is over."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask

from trainer.conference import ending, recording, services
from trainer.conference import runtime as runtime_module
from trainer.conference.janus import JanusError, JanusUnavailable
from trainer.conference.process import ManagedJanus
from trainer.dbtypes import utcnow
from trainer.extensions import db, socketio

log = logging.getLogger(__name__)

POLL_S = 1.0  # Janus down -> sites "lost" within ~2 s (two failed polls)
FAILURES_FOR_DOWN = 2
SWEEP_EVERY = 60  # polls between two sweeps of expired tokens
RECONCILE_EVERY = 5  # polls between two checks that sites on the call still have a session
RESTART_AFTER = 10  # failed polls before a child Janus that exited is started again


@dataclass
class Video:
    app: Flask
    managed: ManagedJanus | None
    running: bool = True

    def describe(self) -> str:
        client = runtime_module.runtime(self.app).client
        if client is None:
            return "off (install janus or set JANUS_URL)"
        return f"Janus at {client.url}" + (" (child process)" if self.managed else "")

    def stop(self) -> None:
        self.running = False
        if self.managed is not None:
            self.managed.stop()


def start(app: Flask, host: str, port: int) -> Video:
    managed = runtime_module.start_managed(app, host, port)
    video = Video(app, managed)
    if runtime_module.runtime(app).client is not None:
        socketio.start_background_task(_watch, video)
        # stretches a stopped server left unconverted
        socketio.start_background_task(recording.convert_pending, app)
    return video


def _watch(video: Video) -> None:
    failures, polls = 0, 0
    while video.running:
        socketio.sleep(POLL_S)
        if not video.running:
            return
        polls += 1
        with video.app.app_context():
            try:
                failures = _poll(video.app, failures, sweep=polls % SWEEP_EVERY == 0,
                                 reconcile=polls % RECONCILE_EVERY == 0)
                if failures and failures % RESTART_AFTER == 0:
                    _restart(video)
            except Exception:  # noqa: BLE001 - the watch must keep watching
                log.exception("the video server's health watch failed")
            finally:
                db.session.remove()


def _restart(video: Video) -> None:
    """Start the child Janus again when it exited (crashed, killed); same ports, secrets."""
    managed = video.managed
    if managed is None or managed.running or not video.running:
        return
    log.warning("the child Janus exited: starting it again")
    try:
        managed.start()
    except JanusUnavailable:
        log.exception("the child Janus did not start again; next attempt later")


def _poll(app: Flask, failures: int, *, sweep: bool, reconcile: bool) -> int:
    state = runtime_module.runtime(app)
    client = state.client
    if client is None:
        return 0
    try:
        client.info()
    except JanusUnavailable:
        failures += 1
        if failures == FAILURES_FOR_DOWN:
            state.janus_down = True
            log.warning("the video server (Janus) is not answering: sites are shown lost")
            services.janus_unreachable()
        return failures
    if state.janus_down:
        state.janus_down = False
        log.warning("the video server (Janus) answers again")
        try:
            services.ensure_live_rooms(client)
        except JanusError:
            log.exception("could not create the rooms again")
    if reconcile:  # e.g. Janus restarted between two polls: its sessions are gone
        services.reconcile(client)
        recording.stop_ended()
        ending.end_ended_calls(client)
    if sweep:
        services.prune_handles(utcnow())
        try:
            services.sweep_tokens(client, utcnow())
        except JanusError:
            log.exception("could not remove expired video tokens")
    return 0

