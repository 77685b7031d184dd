"""Who may see which work order: engineers their own and unassigned ones; supervisors
all. Engineers see the unit's location, never its owner or arrears."""
from __future__ import annotations

from flask import abort
from sqlalchemy import Select, or_, select

from ..extensions import db
from ..models import Role, User, WorkOrder

WORKS_ON_REPAIRS = (Role.ENGINEER, Role.SUPERVISOR, Role.ADMIN)


def restrict_work_orders(query: Select, user: User) -> Select:
    if user.role in (Role.SUPERVISOR, Role.ADMIN):
        return query
    if user.role == Role.ENGINEER:
        return query.where(or_(WorkOrder.engineer_id == user.id,
                               WorkOrder.engineer_id.is_(None)))
    return query.where(False)


def get_work_order_or_404(order_id: int, user: User) -> WorkOrder:
    order = db.session.scalar(restrict_work_orders(
        select(WorkOrder).where(WorkOrder.id == order_id), user))
    if order is None:
        abort(404)
    return order
