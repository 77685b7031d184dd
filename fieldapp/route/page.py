"""Assembling the route list page: the rows, and on a first page or a filter change
the chips, the repair-pending section and the filter choices."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Assignment, Building, Policy, Role, User
from ..templating import url_with
from .services import RouteFilters, band_counts, held_rows, route_page
from .words import route_words, unit_link


def page_context(session: Session, user: User, filters: RouteFilters, page: int, day: date,
                 policies: dict[int, Policy], housekeeper: User | None, args: dict,
                 rows_only: bool) -> dict:
    result = route_page(session, filters, day, page, current_app.config["ROUTE_PAGE_SIZE"],
                        policies)
    back = url_with(page=page if page > 1 else None)
    context = dict(result=result, filters=filters, housekeeper=housekeeper,
                   args={k: v for k, v in args.items() if k != "page"}, words=route_words(),
                   links={"card": unit_link("units.card", next=back),
                          "visit": unit_link("visits.new", next=back)})
    if rows_only:
        return context
    context["counts"], held = band_counts(session, filters, day, policies)
    context["held"] = held_rows(session, filters, day, policies) if page == 1 and held else []
    buildings = select(Building.id, Building.name).order_by(Building.id)
    if filters.building_ids is not None:
        buildings = buildings.where(Building.id.in_(filters.building_ids))
    context["buildings"] = session.connection().execute(buildings).all()
    if user.role != Role.HOUSEKEEPER:
        context["housekeepers"] = session.scalars(
            select(User).where(User.role == Role.HOUSEKEEPER,
                               User.id.in_(select(Assignment.user_id)))
            .order_by(User.username)).all()
    return context
