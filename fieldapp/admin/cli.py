"""geocode-buildings: building coordinates from their addresses."""
from __future__ import annotations

import click
from flask import current_app

from ..extensions import db
from ..geo import geocode_buildings, geocoder_for
from . import bp


@bp.cli.command("geocode-buildings")
@click.option("--dry-run", is_flag=True, help="Only list the buildings that would be looked up.")
@click.option("--community", "community_id", type=int, default=None,
              help="Only the buildings of this community (id).")
def geocode_buildings_command(dry_run: bool, community_id: int | None):
    """Fill in building coordinates from their addresses (never those set by hand)."""
    geocoder = None if dry_run else geocoder_for(current_app.config)
    report = geocode_buildings(db.session, geocoder, dry_run=dry_run, community_id=community_id,
                               echo=click.echo)
    if dry_run:
        for b in report.to_do:
            click.echo(f"would look up {b.name} (#{b.id}): {b.address or '(no address)'}")
        click.echo(f"{len(report.to_do)} buildings to look up; {report.kept} keep the "
                   "coordinates they have (dry run: nothing was asked or written).")
        return
    if report.failed:
        click.echo("Not found:")
        for f in report.failed:
            click.echo(f"  {f.name} (#{f.building_id}) {f.address or '(no address)'}: {f.reason}")
    cached = sum(1 for f in report.found if f.cached)
    click.echo(f"Geocoded {len(report.found)} buildings ({cached} from earlier answers), "
               f"{len(report.failed)} failed; {report.kept} keep the coordinates they have.")
    if report.failed:
        raise SystemExit(1)
