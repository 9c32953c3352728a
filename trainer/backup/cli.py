"""`trainer backup [FILE]` and `trainer restore FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from trainer.backup import services


@click.command("backup")
@click.argument("target", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path | None) -> None:
    """Write a consistent copy of the database (safe while the server runs)."""
    try:
        result = services.backup(target)
    except services.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written: {result.path} ({result.size:,} bytes).")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database with a backup (stop the servers first)."""
    if not yes:
        click.confirm("This replaces every record with the backup's. Continue?", abort=True)
    try:
        result = services.restore(source)
    except services.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {result.path} from {source}.")


def register(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
