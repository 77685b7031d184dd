"""`flask import KIND FILE`: the web page's job, run in the terminal with a progress bar."""
from __future__ import annotations

from pathlib import Path

import click

from ..extensions import db
from ..models import Community, ImportKind, ImportStatus
from .jobs import create_job, execute


class Bar:
    """A click progress bar over the rows as they are checked, then a line per phase."""

    def __init__(self):
        self.bar = None
        self.shown = 0
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase == "checking" and total:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label="Checking rows", width=30)
                self.bar.__enter__()
            self.bar.length = max(self.bar.length, total)
            self.bar.update(done - self.shown)
            self.shown = done
        elif phase != self.phase and phase == "writing":
            self.close()
            click.echo("Writing ...")
        self.phase = phase

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def import_file(kind: ImportKind, path: Path, community_id: int | None, dry_run: bool) -> None:
    if community_id is not None and db.session.get(Community, community_id) is None:
        raise click.ClickException(f"There is no community with id {community_id}.")
    job = create_job(None, kind, path.name, size=path.stat().st_size,
                     community_id=community_id, dry_run=dry_run)
    db.session.commit()
    bar = Bar()
    try:
        outcome = execute(job, path.resolve(), progress=bar)
    finally:
        bar.close()
    if outcome.status == ImportStatus.FAILED:
        raise click.ClickException(outcome.message)
    if outcome.status == ImportStatus.REJECTED:
        for p in outcome.problems:
            click.echo(f"line {p.line}, {p.column}: {p.reason}" +
                       (f" ({p.value})" if p.value else ""), err=True)
        raise click.ClickException(
            f"{outcome.report.get('bad_rows', 0)} bad rows in {outcome.rows}: nothing was "
            f"written (job {job.id}).")
    counts = outcome.report.get("counts", {})
    verb = "Checked" if dry_run else "Imported"
    click.echo(f"{verb} {outcome.rows} rows of {kind.value}: " +
               ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()) +
               (" (dry run: nothing written)" if dry_run else "") + f" (job {job.id}).")
    if outcome.report.get("unused"):
        click.echo("Columns not used: " + ", ".join(outcome.report["unused"]))
