"""Wiring of the conference feature into the app: its state and the Janus events endpoint."""

from __future__ import annotations

from flask import Flask

from trainer.conference import hooks, runtime


def init_app(app: Flask) -> None:
    app.extensions["conference"] = runtime.Runtime.from_config(app.config)
    app.register_blueprint(hooks.bp)
