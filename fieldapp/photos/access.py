"""Who may see photo evidence, asked of what a photo is evidence of: the visits and the
work orders a user may see, as selects of ids. The photo route and the viewer share
them, so a photo and its viewer page open for exactly the same people."""
from __future__ import annotations

from sqlalchemy import Select, or_, select

from ..access import restrict_units
from ..models import Role, Unit, User, Visit, WorkOrder
from ..workorders.access import restrict_work_orders


def visible_visit_ids(user: User) -> Select:
    """Visits of units in the user's patch; engineers see none."""
    if user.role == Role.ENGINEER:
        return select(Visit.id).where(False)
    return select(Visit.id).where(Visit.unit_id.in_(restrict_units(select(Unit.id), user)))


def visible_work_order_ids(user: User) -> Select:
    """Work orders the user works on or, except for engineers, of units in their patch:
    a complaint's photos and the after-photos go with the work order."""
    orders = restrict_work_orders(select(WorkOrder.id), user)
    if user.role == Role.ENGINEER:
        return orders
    units = restrict_units(select(Unit.id), user)
    return select(WorkOrder.id).where(or_(WorkOrder.id.in_(orders),
                                          WorkOrder.unit_id.in_(units)))
