"""Command-line tools: demo data, users, database checks, imports, nightly arrears
refresh, photo sweeping, backup and restore."""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from . import ops
from .auth.services import MIN_PASSWORD_LENGTH, set_password
from .clock import today
from .extensions import db
from .models import Assignment, Building, ImportKind, Role, Unit, User
from .photos.storage import storage


def _db_error(e: Exception) -> click.ClickException:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(
        hide_password=True)
    reason = str(getattr(e, "orig", e)).strip().splitlines()[0]
    return click.ClickException(
        f"Cannot use the database at DATABASE_URL={url}: {reason}")


def init_app(app: Flask) -> None:
    @app.cli.command("check-db")
    def check_db():
        """Check that DATABASE_URL connects; exit 1 with the reason if not."""
        try:
            db.session.execute(text("SELECT 1"))
        except OperationalError as e:
            raise _db_error(e) from None
        click.echo("database: ok")

    @app.cli.command("seed-demo")
    @click.option("--units", default=1200, show_default=True, help="Units to create.")
    @click.option("--seed", default=1, show_default=True, help="Random seed.")
    @click.option("--if-empty", is_flag=True, help="Do nothing when units already exist.")
    @click.option("--base-url", default="", metavar="URL",
                  help="Where the printed statement link points (default: PUBLIC_URL, "
                       "else http://localhost:8000).")
    def seed_demo_command(units: int, seed: int, if_empty: bool, base_url: str):
        """Create deterministic demo data and users (never in production)."""
        if current_app.config["FIELDAPP_ENV"] == "production":
            raise click.ClickException("seed-demo refuses to run with FIELDAPP_ENV=production.")
        from .demo import seed_demo
        try:
            existing = db.session.scalar(select(func.count()).select_from(Unit))
        except OperationalError as e:
            raise _db_error(e) from None
        if existing:
            if if_empty:
                click.echo(f"Demo data present ({existing} units); not seeding.")
                return
            raise click.ClickException(
                f"The database already has {existing} units; seed-demo needs an empty one.")
        if base_url:
            current_app.config["DEMO_BASE_URL"] = base_url.rstrip("/")
        started = time.perf_counter()
        counts = seed_demo(db.session, units=units, seed=seed, today=today(), echo=click.echo)
        db.session.commit()
        click.echo(f"Seeded in {time.perf_counter() - started:.1f} s: " +
                   ", ".join(f"{k} {v}" for k, v in counts.items()))

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--name", default="", help="Display name.")
    @click.option("--building", "buildings", multiple=True, type=int,
                  help="Building id for a housekeeper's patch (repeatable).")
    @click.password_option()
    def create_user(username: str, role: str, name: str, buildings: tuple[int, ...],
                    password: str):
        """Create a user (asks for the password twice)."""
        username = username.strip().lower()
        if len(password) < MIN_PASSWORD_LENGTH:
            raise click.ClickException(
                f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
        if db.session.scalar(select(User).where(User.username == username)):
            raise click.ClickException(f"User {username!r} already exists.")
        user = User(username=username, display_name=name or username, role=Role(role))
        user.set_password(password)
        for building_id in buildings:
            if db.session.get(Building, building_id) is None:
                raise click.ClickException(f"There is no building with id {building_id}.")
            user.assignments.append(Assignment(building_id=building_id))
        db.session.add(user)
        db.session.commit()
        click.echo(f"Created {role} {username}.")

    @app.cli.command("set-password")
    @click.argument("username")
    @click.password_option()
    def set_password_command(username: str, password: str):
        """Set a user's password (asks twice) and sign them out on every device."""
        user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise click.ClickException(f"There is no user {username!r}.")
        try:
            revoked = set_password(user, password, keep_session=None)
        except ValueError as e:
            raise click.ClickException(str(e)) from None
        db.session.commit()
        click.echo(f"Password set for {user.username}; signed out on {revoked} devices.")

    @app.cli.command("refresh-arrears")
    def refresh_arrears():
        """Bring arrears summaries and policies up to date with the calendar (run nightly)."""
        from .ops import nightly_refresh
        policies, n, promised = nightly_refresh(db.session, today())
        db.session.commit()
        if policies:
            click.echo(f"Put {policies} scheduled policy changes in force.")
        click.echo(f"Refreshed {n} units; resolved the promises of {promised}.")

    @app.cli.command("import")
    @click.argument("kind", type=click.Choice([k.value for k in ImportKind]))
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--community", "community_id", type=int,
                  help="Community id (needed when there is more than one).")
    @click.option("--dry-run", is_flag=True, help="Check every row and count, write nothing.")
    def import_command(kind: str, file: Path, community_id: int | None, dry_run: bool):
        """Import a CSV or XLSX file from the billing system: all rows or none."""
        from .imports.cli import import_file
        import_file(ImportKind(kind), file, community_id, dry_run)

    @app.cli.command("demo-logins")
    def demo_logins():
        """Print the demo sign-ins."""
        users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
        for u in users:
            click.echo(f"  {u.username:<14} {u.role.value}")
        if users:
            click.echo("  password: doorstep-demo")

    @app.cli.command("photos-gc")
    @click.option("--delete", is_flag=True, help="Remove the files (default: only list them).")
    @click.option("--older-than", "hours", type=click.FloatRange(min=0), default=1.0,
                  show_default=True, help="Keep files younger than this many hours.")
    def photos_gc(delete: bool, hours: float):
        """List photo files no photo record points at, and interrupted writes."""
        orphans = ops.find_orphans(db.engine, storage(), timedelta(hours=hours))
        size = sum(f.size for f in orphans)
        for f in orphans:
            click.echo(f"{'removing' if delete else 'would remove'} {f.key} ({f.size} bytes)"
                       f"{' [partial write]' if f.partial else ''}")
        if delete:
            ops.remove(storage(), orphans)
            click.echo(f"Removed {len(orphans)} files, {size} bytes.")
        else:
            click.echo(f"{len(orphans)} files, {size} bytes to remove "
                       f"(older than {hours:g} h; dry run, --delete removes them).")

    @app.cli.command("backup")
    @click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
    def backup_command(dest: Path):
        """Copy the database and the photo store into DEST, a new or empty folder."""
        try:
            manifest = ops.backup(db.engine, storage(), dest)
        except ops.OpsError as e:
            raise click.ClickException(str(e)) from None
        click.echo(f"Backed up {sum(manifest['tables'].values())} rows in "
                   f"{len(manifest['tables'])} tables and {len(manifest['photos'])} photo "
                   f"files to {dest}.")

    @app.cli.command("restore")
    @click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Replace a database that already has rows.")
    def restore_command(src: Path, force: bool):
        """Restore a backup made by `backup` into the configured database and photo store."""
        db.session.remove()
        try:
            counts = ops.restore(db.engine, storage(), src, force=force)
        except ops.OpsError as e:
            raise click.ClickException(str(e)) from None
        click.echo(f"Restored {src}:")
        for name, n in counts.items():
            click.echo(f"  {name:<20} {n:>8}")
