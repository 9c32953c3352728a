"""The `trainer` console script. `trainer serve` monkey-patches with gevent before anything else
is imported, as gevent requires."""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        from gevent import monkey

        monkey.patch_all()
    from trainer.cli import cli

    cli(prog_name="trainer")


if __name__ == "__main__":
    main()
