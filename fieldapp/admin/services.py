"""Users and patches as services: each change is one transaction with its audit event.
Nothing a user did is deleted: a deactivated user's visits, promises and audit trail
stay, and so do their buildings until someone hands them over."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from ..auth.services import set_password, sign_out_everywhere
from ..models import Assignment, Building, Community, Role, Unit, User, record_audit


class Refused(Exception):
    """A change the rules do not allow; the message says why, for the user, and the
    field it belongs to."""

    def __init__(self, message, field: str = "form", status: int = 422):
        super().__init__(str(message))
        self.message, self.field, self.status = message, field, status


# Letters and digits that cannot be mistaken for each other when read out on the phone.
_TEMPORARY = "abcdefghjkmnpqrstuvwxyz23456789"


def suggested_password() -> str:
    """A temporary password to read out: three groups of four, like 'k7qm-x3fp-9wtr'."""
    return "-".join("".join(secrets.choice(_TEMPORARY) for _ in range(4)) for _ in range(3))


def username_taken(session: Session, username: str) -> bool:
    return session.scalar(select(User.id).where(User.username == username)) is not None


def create_user(session: Session, by: User, *, username: str, display_name: str, role: Role,
                locale: str, password: str) -> User:
    """A new user with a temporary password they replace at their first sign-in."""
    if username_taken(session, username):
        raise Refused(_l("This username is taken."), "username")
    user = User(username=username, display_name=display_name or username, role=role,
                locale=locale, active=True, must_change_password=True)
    user.set_password(password)
    session.add(user)
    session.flush()
    record_audit(by, "user.create", "user", user.id, role=role.value)
    session.commit()
    return user


def update_user(session: Session, by: User, user: User, *, display_name: str,
                role: Role) -> None:
    """Name and role. An administrator keeps their own role (someone must be left to
    run the data), and a housekeeper hands over their buildings before changing role."""
    changed = {}
    if role != user.role:
        if user.id == by.id:
            raise Refused(_l("You cannot change your own role."), "role")
        if user.role == Role.HOUSEKEEPER and user.assignments:
            raise Refused(_l("Hand over their buildings first: they still cover %(n)s.",
                             n=len(user.assignments)), "role")
        changed["role"] = [user.role.value, role.value]
        user.role = role
    name = display_name or user.username
    if name != user.display_name:
        changed["display_name"] = [user.display_name, name]
        user.display_name = name
    if changed:
        record_audit(by, "user.update", "user", user.id, **changed)
    session.commit()


def set_active(session: Session, by: User, user: User, active: bool) -> int:
    """Deactivating signs the user out on every device; their history stays, and so do
    their buildings (the coverage page counts them as covered by nobody). Returns how
    many sessions ended."""
    if user.id == by.id:
        raise Refused(_l("You cannot deactivate yourself."), "active")
    if user.active == active:
        return 0
    user.active = active
    revoked = sign_out_everywhere(user, by=by) if not active else 0
    record_audit(by, "user.reactivate" if active else "user.deactivate", "user", user.id,
                 buildings=len(user.assignments))
    session.commit()
    return revoked


def reset_password(session: Session, by: User, user: User, temporary: str) -> int:
    """A temporary password, which signs the user out everywhere and which they must
    replace at their next sign-in."""
    revoked = set_password(user, temporary, keep_session=None, by=by, temporary=True)
    session.commit()
    return revoked


def _require_housekeeper(user: User, field: str = "form") -> None:
    if user.role != Role.HOUSEKEEPER:
        raise Refused(_l("Only housekeepers have a patch of buildings."), field)


def set_patch(session: Session, by: User, housekeeper: User,
              building_ids: set[int]) -> tuple[list[int], list[int]]:
    """The housekeeper's patch becomes exactly these buildings; (added, removed)."""
    _require_housekeeper(housekeeper, "buildings")
    known = set(session.scalars(select(Building.id).where(Building.id.in_(building_ids))))
    if known != building_ids:
        raise Refused(_l("Some of these buildings do not exist."), "buildings", 404)
    current = {a.building_id: a for a in housekeeper.assignments}
    added = sorted(building_ids - set(current))
    removed = sorted(set(current) - building_ids)
    if added and not housekeeper.active:
        # Their buildings can still be taken away; new ones would be covered by nobody.
        raise Refused(_l("This housekeeper is deactivated."), "buildings")
    for building_id in removed:
        housekeeper.assignments.remove(current[building_id])
    for building_id in added:
        housekeeper.assignments.append(Assignment(building_id=building_id))
    if added or removed:
        record_audit(by, "user.patch", "user", housekeeper.id, added=added, removed=removed)
    session.commit()
    return added, removed


def assign_building(session: Session, by: User, building: Building, housekeeper: User) -> bool:
    """Add one building to a housekeeper's patch; False when it already was in it."""
    _require_housekeeper(housekeeper, "housekeeper")
    if not housekeeper.active:
        raise Refused(_l("This housekeeper is deactivated."), "housekeeper")
    if building.id in {a.building_id for a in housekeeper.assignments}:
        return False
    housekeeper.assignments.append(Assignment(building_id=building.id))
    record_audit(by, "user.patch", "user", housekeeper.id, added=[building.id], removed=[])
    session.commit()
    return True


def hand_over(session: Session, by: User, leaver: User, successor: User) -> list[int]:
    """Every building of the leaver's patch moves to the successor (those they already
    cover stay theirs once). Promises, plans and visits belong to units, so the
    successor's route and Today lists show them from now on. The moved building ids."""
    _require_housekeeper(leaver)
    _require_housekeeper(successor, "successor")
    if successor.id == leaver.id:
        raise Refused(_l("Choose another housekeeper."), "successor")
    if not successor.active:
        raise Refused(_l("This housekeeper is deactivated."), "successor")
    moved = sorted(a.building_id for a in leaver.assignments)
    if not moved:
        raise Refused(_l("They cover no building: there is nothing to hand over."), "successor")
    theirs = {a.building_id for a in successor.assignments}
    session.execute(delete(Assignment).where(Assignment.user_id == leaver.id))
    for building_id in moved:
        if building_id not in theirs:
            session.add(Assignment(user_id=successor.id, building_id=building_id))
    record_audit(by, "user.handover", "user", leaver.id, to=successor.id, buildings=moved)
    session.commit()
    return moved


@dataclass
class BuildingCoverage:
    id: int
    name: str
    community_id: int
    community: str
    units: int = 0
    overdue_units: int = 0
    housekeepers: list[User] = field(default_factory=list)  # active ones
    inactive: list[User] = field(default_factory=list)  # deactivated, buildings not handed over


@dataclass
class HousekeeperCoverage:
    user: User
    buildings: list[BuildingCoverage]

    @property
    def overdue_units(self) -> int:
        return sum(b.overdue_units for b in self.buildings)


@dataclass
class Coverage:
    buildings: list[BuildingCoverage]  # by community, then building
    housekeepers: list[HousekeeperCoverage]  # active housekeepers, by name

    @property
    def uncovered(self) -> list[BuildingCoverage]:
        return [b for b in self.buildings if not b.housekeepers]


def coverage(session: Session) -> Coverage:
    """Who covers which building, which buildings nobody active covers, and how many
    units of each are overdue: three grouped queries, whatever the size of the estate."""
    conn = session.connection()
    buildings = {row.id: BuildingCoverage(row.id, row.name, row.community_id, row.community)
                 for row in conn.execute(
                     select(Building.id, Building.name, Building.community_id,
                            Community.name.label("community"))
                     .join(Community, Community.id == Building.community_id)
                     .order_by(Community.name, Community.id, Building.id))}
    for row in conn.execute(select(Unit.building_id, func.count().label("units"),
                                   func.sum(case((Unit.arrears_fen > 0, 1), else_=0))
                                   .label("overdue")).group_by(Unit.building_id)):
        if row.building_id in buildings:
            buildings[row.building_id].units = row.units
            buildings[row.building_id].overdue_units = int(row.overdue or 0)
    housekeepers = {u.id: HousekeeperCoverage(u, []) for u in session.scalars(
        select(User).where(User.role == Role.HOUSEKEEPER, User.active.is_(True))
        .order_by(User.display_name, User.username))}
    for building_id, user in session.execute(
            select(Assignment.building_id, User).join(User, User.id == Assignment.user_id)
            .where(User.role == Role.HOUSEKEEPER).order_by(User.display_name, User.username)):
        b = buildings[building_id]
        if user.active:
            b.housekeepers.append(user)
            housekeepers[user.id].buildings.append(b)
        else:
            b.inactive.append(user)
    return Coverage(list(buildings.values()), list(housekeepers.values()))


def housekeepers(session: Session, *, active_only: bool = True) -> list[User]:
    q = select(User).where(User.role == Role.HOUSEKEEPER)
    if active_only:
        q = q.where(User.active.is_(True))
    return list(session.scalars(q.order_by(User.display_name, User.username)))


@dataclass(frozen=True)
class UserFilters:
    role: Role | None = None
    status: str = "active"  # active, inactive, all
    q: str = ""


def list_users(session: Session, f: UserFilters, *, limit: int = 300) -> list[tuple[User, int]]:
    """Users matching the filters with the number of buildings each covers."""
    patch = (select(func.count()).select_from(Assignment)
             .where(Assignment.user_id == User.id).scalar_subquery())
    q = select(User, patch)
    if f.role is not None:
        q = q.where(User.role == f.role)
    if f.status != "all":
        q = q.where(User.active.is_(f.status == "active"))
    if f.q:
        like = f"%{like_escape(f.q.lower())}%"
        q = q.where(func.lower(User.username).like(like, escape="\\") |
                    func.lower(User.display_name).like(like, escape="\\"))
    q = q.order_by(User.role, User.display_name, User.username).limit(limit)
    return [(user, n) for user, n in session.execute(q)]


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class HubCounts:
    users: int  # active
    housekeepers: int  # active
    uncovered: int  # buildings no active housekeeper covers
    buildings: int
    communities: int


def hub_counts(session: Session) -> HubCounts:
    covered = (select(Assignment.building_id).join(User, User.id == Assignment.user_id)
               .where(User.active.is_(True), User.role == Role.HOUSEKEEPER))
    return HubCounts(
        users=session.scalar(select(func.count()).select_from(User)
                             .where(User.active.is_(True))),
        housekeepers=session.scalar(select(func.count()).select_from(User).where(
            User.active.is_(True), User.role == Role.HOUSEKEEPER)),
        uncovered=session.scalar(select(func.count()).select_from(Building)
                                 .where(Building.id.not_in(covered))),
        buildings=session.scalar(select(func.count()).select_from(Building)),
        communities=session.scalar(select(func.count()).select_from(Community)))
