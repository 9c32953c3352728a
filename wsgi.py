"""WSGI entry point for any WSGI server. For Socket.IO with gevent, prefer `trainer serve`."""

from trainer import create_app

app = create_app()
