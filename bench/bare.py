"""The ceiling the check-in is measured against: a bare Flask JSON endpoint on gevent's
pywsgi with TCP_NODELAY (as `trainer serve`), no database, no auth, no extensions.

    .venv/bin/python -m bench.bare --port 5099     # GET /ping -> {"pong": true}
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import socket  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

app = Flask(__name__)


@app.get("/ping")
def ping() -> Any:
    return {"pong": True}


class Server(WSGIServer):  # type: ignore[misc]
    def handle(self, sock: Any, address: Any) -> None:
        # pywsgi leaves Nagle on: keep-alive answers would wait ~40 ms on delayed ACKs.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5099)
    args = parser.parse_args()
    Server((args.host, args.port), app, log=None, backlog=4096).serve_forever()


if __name__ == "__main__":
    main()
