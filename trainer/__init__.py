"""trainer: multi-site training conferences over video bridge points.

`create_app` is the only entry into the application; importing this package imports nothing
else, so the server entry point can monkey-patch with gevent before Flask is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    from trainer.app import build_app

    return build_app(config)
