"""Wiring of the conference feature into the app: its state, the Janus events endpoint, and
the end of the call with the end of the session."""

from __future__ import annotations

from flask import Flask

from trainer.conference import ending, hooks, runtime
from trainer.sessions import signals


def init_app(app: Flask) -> None:
    app.extensions["conference"] = runtime.Runtime.from_config(app.config)
    app.register_blueprint(hooks.bp)
    signals.status_changed.connect(ending.on_status_changed, sender=app, weak=False)
