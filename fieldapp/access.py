"""Who may see what: every check happens on the server, per request, per object.

Housekeepers see the units of the buildings assigned to them (their patch);
supervisors and admins see every unit; engineers see no unit cards at all (they get
work orders, which carry only the location)."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Assignment, Building, Community, Role, Unit, User
from .models.idlist import in_ids, uses_arrays

SEES_ALL_UNITS = (Role.SUPERVISOR, Role.ADMIN)
SEES_UNITS = (Role.HOUSEKEEPER, *SEES_ALL_UNITS)


def role_required(*roles: Role):
    """Refuse (403) a signed-in user whose role is not listed."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from .extensions import login_manager
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def patch_building_ids(user: User) -> list[int] | None:
    """Building ids the user may see units in; None means every building. Read once
    per request: a page asks several times (the unit, its phones, its links)."""
    if user.role in SEES_ALL_UNITS:
        return None
    if user.role != Role.HOUSEKEEPER:
        return []
    from flask import g, has_request_context
    cached = g.get("patch_of") if has_request_context() else None
    if cached is not None and cached[0] == user.id:
        return list(cached[1])
    ids = list(db.session.scalars(
        select(Assignment.building_id).where(Assignment.user_id == user.id)))
    if has_request_context():
        g.patch_of = (user.id, tuple(ids))
    return ids


def restrict_units(query: Select, user: User) -> Select:
    """Filter any select over Unit to the units this user may see."""
    ids = patch_building_ids(user)
    if ids is None:
        return query
    return query.where(in_ids(Unit.building_id, ids, uses_arrays(db.session)))


_WITH_PLACE = joinedload(Unit.building).joinedload(Building.community) \
    .joinedload(Community.policy)


def get_unit_or_404(unit_id: int, user: User, *, with_contacts: bool = False,
                    options: tuple = ()) -> Unit:
    """The unit if this user may see it; 404 otherwise, so existence does not leak.
    `options`: loader options of the page (read in the same statement)."""
    # With its building, community and policy: nearly every page of a unit shows them.
    # The card shows its contacts too: joined in, one round trip less on PostgreSQL.
    q = restrict_units(select(Unit).where(Unit.id == unit_id), user).options(_WITH_PLACE,
                                                                             *options)
    if with_contacts:
        q = q.options(joinedload(Unit.contacts))
    unit = db.session.execute(q).unique().scalar_one_or_none()
    if unit is None:
        abort(404)
    return unit


def can_see_phone_numbers(user: User, unit: Unit) -> bool:
    """Full numbers only for the unit's assigned housekeeper or a supervisor/admin."""
    ids = patch_building_ids(user)
    return ids is None or unit.building_id in ids
