"""Command line: `trainer serve`, `trainer db ...`, `trainer create-user`, `trainer demo`."""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext


def _create_app() -> Flask:
    from trainer import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             load_dotenv=False, set_debug_flag=False)
def cli() -> None:
    """trainer: multi-site training conferences."""


def register(app: Flask) -> None:
    app.cli.add_command(serve)
    app.cli.add_command(create_user)
    app.cli.add_command(demo)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--access-log/--no-access-log", default=False, show_default=True)
@with_appcontext
def serve(host: str, port: int, access_log: bool) -> None:
    """Serve HTTP and Socket.IO from one gevent process (start it as `trainer serve`)."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        raise click.ClickException("Start the server with the `trainer serve` command.")
    from gevent.pywsgi import WSGIServer
    from geventwebsocket.handler import WebSocketHandler

    class Server(WSGIServer):  # type: ignore[misc]
        def handle(self, sock: Any, address: Any) -> None:
            # pywsgi leaves Nagle on: keep-alive answers would wait ~40 ms on delayed ACKs.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle(sock, address)

    class Handler(WebSocketHandler):  # type: ignore[misc]
        def log_request(self) -> None:
            # gevent-websocket logs every request at INFO through the root logger whatever
            # `log` says: a formatted line and a write per request. Only with --access-log.
            if access_log:
                super().log_request()

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    server = Server((host, port), app, handler_class=Handler,
                    log=sys.stderr if access_log else None, backlog=4096)
    from trainer.conference import watch

    video = watch.start(app, host, port)  # a child Janus, the video server's health watch

    import gevent

    stopping: list[Any] = []

    def stop(*_: Any) -> None:
        # Not blocking in the signal handler: the child Janus stops from its own greenlet.
        stopping.append(gevent.spawn(video.stop))
        server.stop(timeout=5)

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)
    mq = "redis" if app.config.get("REDIS_URL") else "none"
    click.echo(f"trainer serving on http://{host}:{port} (pid {os.getpid()}, "
               f"database {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
               f"message queue {mq}, video {video.describe()})", err=True)
    # Everything built so far (modules, the app, its mappers and catalogues) lives as long as
    # the process: out of the collector's sight, a full collection no longer walks it. With
    # 1,000 live watchers such a collection stopped the whole process for 150-330 ms, the
    # tail of the check-in -> watcher latency (bench/README.md).
    gc.collect()
    gc.freeze()
    try:
        server.serve_forever()
    finally:
        gevent.joinall(stopping, timeout=10)
        video.stop()


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "organiser", "coordinator"]), required=True)
@click.option("--site", "sites", multiple=True, help="Site code (coordinators); repeatable.")
@click.option("--name", "display_name", default=None, help="Display name.")
@with_appcontext
def create_user(username: str, role: str, sites: tuple[str, ...], display_name: str | None) -> None:
    """Create an account; the password comes from TRAINER_PASSWORD, else a prompt."""
    from sqlalchemy import select

    from trainer.auth.services import create_user as create
    from trainer.errors import DomainError
    from trainer.extensions import db
    from trainer.sites.models import Site

    password = os.environ.get("TRAINER_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    site_ids = []
    for code in sites:
        site_id = db.session.scalar(select(Site.id).where(Site.code == code.strip().upper()))
        if site_id is None:
            raise click.ClickException(f"Unknown site code: {code}")
        site_ids.append(site_id)
    try:
        user = create(username, password, role, site_ids, display_name=display_name)
    except DomainError as exc:
        details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in (exc.errors or {}).items()
                            if [str(m) for m in v] != [str(exc.detail)])
        raise click.ClickException(str(exc.detail) + (f" ({details})" if details else "")) from exc
    click.echo(f"Created {user.role} {user.username}.")


@click.command("demo")
@click.option("--year", type=click.Choice(["2017", "2026"]), default="2017", show_default=True,
              help="2017: 13 district bridge points over 277 communes; 2026: the new province, "
                   "one bridge point per commune-level unit (xã, phường).")
@with_appcontext
def demo(year: str) -> None:
    """Load the demo province into an empty database (does nothing on one that has data)."""
    from trainer.demo import load_demo

    result = load_demo(int(year))
    if result is None:
        click.echo("The database already holds data: the demo was not loaded again.")
    else:
        click.echo(result.summary())
    from trainer.demo import print_logins

    print_logins(click.echo)
