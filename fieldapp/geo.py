"""Building coordinates from their addresses (geocoding). The geocoder is a function
from an address to a location, handed in, so tests use a double and no request leaves
the machine; by default geopy's Nominatim behind its RateLimiter (Nominatim's usage
policy allows one request a second, with a user agent that names the application).

Coordinates typed on the building page ("manual") or imported are never overwritten:
only buildings without coordinates, or whose geocoded ones came from an address that
has changed since, are looked up. A result is kept on the building with the address it
came from, which is the cache: the next run asks again only for what changed, and
buildings sharing an address are asked about once."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .models import Building, record_audit

GEOCODED = "geocoded"


class Location(Protocol):
    latitude: float
    longitude: float


Geocoder = Callable[[str], Location | None]


def make_geocoder(config: dict[str, Any]) -> Geocoder:
    """Nominatim at GEOCODER_URL with GEOCODER_USER_AGENT, one request a second, two
    retries on a failure, then the failure is raised (and listed)."""
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim
    url = urlsplit(config["GEOCODER_URL"])
    nominatim = Nominatim(user_agent=config["GEOCODER_USER_AGENT"],
                          domain=url.netloc + url.path.rstrip("/"), scheme=url.scheme or "https",
                          timeout=10)
    return RateLimiter(nominatim.geocode, min_delay_seconds=config["GEOCODER_MIN_DELAY"],
                       max_retries=2, swallow_exceptions=False)


def geocoder_for(config: dict[str, Any]) -> Geocoder:
    """The configured geocoder: GEOCODER (a function, for tests) or Nominatim."""
    return config.get("GEOCODER") or make_geocoder(config)


@dataclass(frozen=True)
class Found:
    building_id: int
    name: str
    address: str
    lat: float
    lon: float
    cached: bool  # from an earlier answer for the same address


@dataclass(frozen=True)
class Failed:
    building_id: int
    name: str
    address: str
    reason: str


@dataclass
class GeocodeReport:
    to_do: list[Building] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    kept: int = 0  # buildings with coordinates set by hand, imported or of unknown origin


def needs_geocoding():
    """No coordinates, or geocoded ones from an address that has changed since."""
    return or_(Building.lat.is_(None), Building.lon.is_(None),
               (Building.coordinates_source == GEOCODED) &
               (or_(Building.geocoded_address.is_(None),
                    Building.geocoded_address != Building.address)))


def geocode_buildings(session: Session, geocode: Geocoder, *, dry_run: bool = False,
                      community_id: int | None = None,
                      echo: Callable[[str], None] = lambda line: None) -> GeocodeReport:
    """Fill in the coordinates of the buildings that need them. A dry run only lists
    them, without asking the geocoder anything. Each result is committed as it comes,
    so an interrupted run keeps what it found."""
    q = select(Building).order_by(Building.id)
    if community_id is not None:
        q = q.where(Building.community_id == community_id)
    report = GeocodeReport()
    buildings = list(session.scalars(q))
    report.to_do = [b for b in buildings if b.lat is None or b.lon is None or (
        b.coordinates_source == GEOCODED and b.geocoded_address != b.address)]
    report.kept = len(buildings) - len(report.to_do)
    if dry_run:
        return report
    cache = {address.strip(): (lat, lon) for address, lat, lon in session.execute(
        select(Building.geocoded_address, Building.lat, Building.lon).where(
            Building.coordinates_source == GEOCODED, Building.geocoded_address.is_not(None),
            Building.geocoded_address == Building.address))}
    for n, building in enumerate(report.to_do, start=1):
        address = building.address.strip()
        if not address:
            report.failed.append(Failed(building.id, building.name, "", "no address"))
            continue
        cached = address in cache
        if not cached:
            try:
                cache[address] = _coordinates(geocode(address))
            except Exception as e:  # noqa: BLE001 - any geocoder error is this building's failure
                report.failed.append(Failed(building.id, building.name, address,
                                            f"{type(e).__name__}: {e}".strip()[:200]))
                continue
        if cache[address] is None:
            report.failed.append(Failed(building.id, building.name, address, "not found"))
            continue
        lat, lon = cache[address]
        if _store(session, building, address, lat, lon):
            report.found.append(Found(building.id, building.name, address, lat, lon, cached))
            echo(f"[{n}/{len(report.to_do)}] {building.name} (#{building.id}) {address}: "
                 f"{lat:.6f}, {lon:.6f}{' (cached)' if cached else ''}")
    return report


def _coordinates(location: Location | None) -> tuple[float, float] | None:
    if location is None:
        return None
    lat, lon = float(location.latitude), float(location.longitude)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return round(lat, 7), round(lon, 7)


def _store(session: Session, building: Building, address: str, lat: float, lon: float) -> bool:
    """Write the result unless someone set coordinates by hand meanwhile."""
    written = session.execute(
        update(Building).where(Building.id == building.id, needs_geocoding())
        .values(lat=lat, lon=lon, coordinates_source=GEOCODED,
                geocoded_address=building.address)
        .execution_options(synchronize_session=False)).rowcount
    if written:
        record_audit(None, "building.geocode", "building", building.id, lat=lat, lon=lon,
                     address=address)
    session.commit()
    return bool(written)
