"""`trainer quiz-bank load [FILE]`: add or update the question bank (idempotent)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


@click.group("quiz-bank")
def quiz_bank() -> None:
    """The quiz question bank."""


@quiz_bank.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def load(path: str | None) -> None:
    """Load FILE (default: the bundled bank.json); questions are matched by their text."""
    from trainer.errors import DomainError
    from trainer.quizzes.bank import load_bank

    try:
        result = load_bank(path)
    except DomainError as exc:
        raise click.ClickException(str(exc.detail)) from exc
    click.echo(result.summary())


def register(app: Flask) -> None:
    app.cli.add_command(quiz_bank)
