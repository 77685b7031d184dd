"""Communities, their policies and their buildings as services. A policy change is a new,
dated version, never an edit: the version in force is copied into `Policy` (what every
page reads) on its day, and its id stays available to what was issued under it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..domain.policy import PolicyChange
from ..models import (
    POLICY_FIELDS,
    Building,
    Community,
    Policy,
    PolicyVersion,
    Unit,
    User,
    record_audit,
)
from .services import Refused


@dataclass(frozen=True)
class CommunityValues:
    name: str
    kind: str
    timezone: str


@dataclass(frozen=True)
class BuildingValues:
    name: str
    address: str
    floors: int
    lat: float | None
    lon: float | None


def _name_taken(session: Session, name: str, but: int | None = None) -> bool:
    q = select(Community.id).where(func.lower(Community.name) == name.lower())
    if but is not None:
        q = q.where(Community.id != but)
    return session.scalar(q) is not None


def create_community(session: Session, by: User, values: CommunityValues,
                     today: date) -> Community:
    """A community with the default policy as its first version, in force from today."""
    if _name_taken(session, values.name):
        raise Refused(_l("A community of this name exists."), "name")
    community = Community(name=values.name, kind=values.kind, timezone=values.timezone)
    policy = Policy(community=community)
    session.add_all([community, policy])
    session.flush()
    version = PolicyVersion(community_id=community.id, valid_from=today, created_by=by.id,
                            note="", **{name: getattr(policy, name) for name in POLICY_FIELDS})
    session.add(version)
    session.flush()
    policy.version_id = version.id
    record_audit(by, "community.create", "community", community.id, name=values.name)
    session.commit()
    return community


def update_community(session: Session, by: User, community: Community,
                     values: CommunityValues) -> None:
    if _name_taken(session, values.name, but=community.id):
        raise Refused(_l("A community of this name exists."), "name")
    changed = {k: [getattr(community, k), v] for k, v in vars(values).items()
               if getattr(community, k) != v}
    for k, (_old, new) in changed.items():
        setattr(community, k, new)
    if changed:
        record_audit(by, "community.update", "community", community.id, **changed)
    session.commit()


def community_rows(session: Session) -> list[tuple[Community, int, int]]:
    """Each community with its number of buildings and of units."""
    buildings = (select(func.count()).select_from(Building)
                 .where(Building.community_id == Community.id).scalar_subquery())
    units = (select(func.count()).select_from(Unit).join(Building, Building.id == Unit.building_id)
             .where(Building.community_id == Community.id).scalar_subquery())
    return [tuple(row) for row in session.execute(
        select(Community, buildings, units).order_by(Community.name, Community.id))]


def buildings_of(session: Session, community_id: int) -> list[tuple[Building, int]]:
    """The community's buildings with their number of units."""
    units = (select(func.count()).select_from(Unit).where(Unit.building_id == Building.id)
             .scalar_subquery())
    return [tuple(row) for row in session.execute(
        select(Building, units).where(Building.community_id == community_id)
        .order_by(Building.id))]


def policy_of_community(session: Session, community: Community) -> Policy:
    """The community's policy; one with the defaults if it never had one."""
    policy = session.scalar(select(Policy).where(Policy.community_id == community.id))
    if policy is None:
        policy = Policy(community_id=community.id)
        session.add(policy)
        session.flush()
    return policy


def history(session: Session, community_id: int) -> list[PolicyVersion]:
    """Every version, the latest day first (the later decision first on one day)."""
    return list(session.scalars(
        select(PolicyVersion).where(PolicyVersion.community_id == community_id)
        .order_by(PolicyVersion.valid_from.desc(), PolicyVersion.id.desc())))


def version_in_force(session: Session, community_id: int, day: date) -> PolicyVersion | None:
    """The version that applied on `day`: the latest dated on or before it."""
    return session.scalar(
        select(PolicyVersion).where(PolicyVersion.community_id == community_id,
                                    PolicyVersion.valid_from <= day)
        .order_by(PolicyVersion.valid_from.desc(), PolicyVersion.id.desc()).limit(1))


def change_policy(session: Session, by: User, community: Community, change: PolicyChange,
                  today: date) -> PolicyVersion:
    """Record a new version; in force at once when it is dated today, else on its day."""
    policy = policy_of_community(session, community)
    if policy.version_id is None:
        _keep_as_it_stood(session, policy, today)
    version = PolicyVersion(community_id=community.id, valid_from=change.valid_from,
                            created_by=by.id, note=change.note, **change.values)
    session.add(version)
    session.flush()
    changed = sorted(k for k in POLICY_FIELDS if getattr(policy, k) != change.values[k])
    record_audit(by, "policy.change", "policy_version", version.id,
                 community_id=community.id, valid_from=change.valid_from.isoformat(),
                 changed=changed)
    if change.valid_from <= today:
        _copy(policy, version)
    session.commit()
    return version


def _keep_as_it_stood(session: Session, policy: Policy, today: date) -> None:
    """A policy from before versions (demo data, an upgrade) gets its values recorded
    first, so that the history shows what the first change changed."""
    version = PolicyVersion(community_id=policy.community_id, valid_from=today, created_by=None,
                            note="", **{name: getattr(policy, name) for name in POLICY_FIELDS})
    session.add(version)
    session.flush()
    policy.version_id = version.id


def _copy(policy: Policy, version: PolicyVersion) -> None:
    for name, value in version.values().items():
        setattr(policy, name, list(value) if name == "bands" else value)
    policy.version_id = version.id


def apply_due_versions(session: Session, today: date) -> int:
    """Put in force every version whose day has come (the nightly job and the first
    request of each day call this); how many policies changed. A policy another
    process has just changed is left to it, so each change is recorded once."""
    changed = 0
    for policy in session.scalars(select(Policy)):
        version = version_in_force(session, policy.community_id, today)
        if version is None or version.id == policy.version_id:
            continue
        won = session.execute(update(Policy).where(
            Policy.id == policy.id, _same_version(policy.version_id))
            .values(version_id=version.id, **{
                name: value for name, value in version.values().items()})).rowcount
        if won:
            record_audit(None, "policy.apply", "policy_version", version.id,
                         community_id=policy.community_id,
                         valid_from=version.valid_from.isoformat())
            changed += 1
    if changed:
        session.commit()
        session.expire_all()
    return changed


def _same_version(version_id: int | None):
    return Policy.version_id.is_(None) if version_id is None else \
        Policy.version_id == version_id


def create_building(session: Session, by: User, community: Community,
                    values: BuildingValues) -> Building:
    if building_name_taken(session, community.id, values.name):
        raise Refused(_l("Another building of this community has this name."), "name")
    building = Building(community_id=community.id, name=values.name, address=values.address,
                        floors=values.floors, lat=values.lat, lon=values.lon,
                        coordinates_source="manual" if values.lat is not None else None)
    session.add(building)
    session.flush()
    record_audit(by, "building.create", "building", building.id, community_id=community.id,
                 name=values.name)
    session.commit()
    return building


def update_building(session: Session, by: User, building: Building,
                    values: BuildingValues) -> None:
    """Coordinates typed here are "manual", and the geocoder never overwrites them;
    clearing them lets it fill them from the address."""
    changed = {k: [getattr(building, k), v] for k, v in vars(values).items()
               if getattr(building, k) != v}
    if "name" in changed and building_name_taken(session, building.community_id, values.name):
        raise Refused(_l("Another building of this community has this name."), "name")
    for k, (_old, new) in changed.items():
        setattr(building, k, new)
    if "lat" in changed or "lon" in changed:
        building.coordinates_source = "manual" if values.lat is not None else None
        building.geocoded_address = None
    if changed:
        record_audit(by, "building.update", "building", building.id, **changed)
    session.commit()


def building_name_taken(session: Session, community_id: int, name: str) -> bool:
    return session.scalar(select(Building.id).where(
        Building.community_id == community_id, Building.name == name)) is not None


@dataclass(frozen=True)
class VersionRow:
    version: PolicyVersion
    state: str  # "in_force", "scheduled" or "earlier"
    changes: list[tuple[str, object, object]]  # (field, before, after) against the version before


def history_rows(versions: list[PolicyVersion], in_force_id: int | None,
                 today: date) -> list[VersionRow]:
    """The history newest first, each version with what it changed from the one before
    it, and whether it is in force, scheduled or behind us."""
    rows, before = [], None
    for v in reversed(versions):
        changes = [] if before is None else [
            (k, before.values()[k], v.values()[k]) for k in POLICY_FIELDS
            if before.values()[k] != v.values()[k]]
        state = "in_force" if v.id == in_force_id else \
            "scheduled" if v.valid_from > today else "earlier"
        rows.append(VersionRow(v, state, changes))
        before = v
    return rows[::-1]
