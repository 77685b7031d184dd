"""Assembling the route list page: the rows, and on a first page or a filter change
the chips, the repair-pending section and the filter choices.

`page_data` runs the cheap queries that decide what the page shows (the page's units
in order with their versions, the chips, the units on hold); `page_context` does the
expensive rest (owners, late fees, words), only when the page is not reused."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from flask import after_this_request, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..extensions import db
from ..limits import TEXT
from ..models import Assignment, Policy, Role, User
from ..models.overdue_tally import fold_apart
from ..templating import query_args, url_with
from .services import (
    BandCount,
    PageHits,
    RouteFilters,
    building_named,
    every_building,
    find_buildings,
    held_hits,
    held_rows,
    lists_the_whole_estate,
    page_hits,
    page_hits_and_counts,
    route_page,
)
from .words import route_words, unit_link


@dataclass
class PageData:
    hits: PageHits
    counts: list[BandCount] | None  # None: a further page of rows only
    held: PageHits | None

    def identity(self) -> tuple:
        counts = tuple((c.band.key, c.units, c.arrears_fen) for c in self.counts or ())
        held = self.held.identity() if self.held else None
        return self.hits.identity(), counts, held


def page_data(session: Session, filters: RouteFilters, page: int, day: date,
              policies: dict[int, Policy], rows_only: bool) -> PageData:
    size = current_app.config["ROUTE_PAGE_SIZE"]
    if rows_only:
        return PageData(page_hits(session, filters, day, page, size, policies), None, None)
    hits, counts, held = page_hits_and_counts(session, filters, day, page, size, policies)
    on_hold = held_hits(session, filters, day, policies) if page == 1 and held else None
    return PageData(hits, counts, on_hold)


def fold_tally_once_sent(session: Session, filters: RouteFilters) -> None:
    """A page of the whole estate adds up its chips from the tally and the log of
    changes not folded into it (models/overdue_tally.py): once such a page is sent, at
    most every TALLY_FOLD_EVERY_S per process, the log is folded in, so it stays a few
    hundred rows however much is written. After the response, so the page neither
    waits for it nor holds a second connection (its own is back in the pool by then)."""
    if not lists_the_whole_estate(session, filters):
        return
    folded = current_app.extensions.setdefault("tally_folded_at", [time.monotonic()])
    if time.monotonic() - folded[0] < current_app.config["TALLY_FOLD_EVERY_S"]:
        return
    folded[0] = time.monotonic()
    engine = db.engine

    @after_this_request
    def fold_when_closed(response):
        response.call_on_close(lambda: fold_apart(engine))
        return response


def page_context(session: Session, user: User, filters: RouteFilters, page: int, day: date,
                 policies: dict[int, Policy], housekeeper: User | None, args: dict,
                 data: PageData, buildings: list | None = None) -> dict:
    """`buildings`: the patch's (id, name), read with its policies; None for every
    building, read here when the page shows the filter."""
    if data.counts is not None and buildings is None:
        # Before the rows: statements sent close together find PostgreSQL's backend
        # still awake (bench/route_pg.py, "one statement").
        buildings = every_building(session)
    result = route_page(session, filters, day, page, current_app.config["ROUTE_PAGE_SIZE"],
                        policies, data.hits)
    back = url_with(page=page if page > 1 else None)
    context = dict(result=result, filters=filters, housekeeper=housekeeper,
                   args={k: v for k, v in args.items() if k not in ("page", "saved")},
                   words=route_words(),
                   links={"card": unit_link("units.card", next=back),
                          "visit": unit_link("visits.new", next=back)})
    if data.counts is None:
        return context
    context["counts"] = data.counts
    context["held"] = held_rows(session, filters, day, policies, data.held) if data.held else []
    context["buildings"] = buildings
    if len(buildings) > current_app.config["ROUTE_BUILDING_CHOICES"]:
        context.update(building_picker_context(session, filters, args))
    if user.role != Role.HOUSEKEEPER:
        context["housekeepers"] = session.scalars(
            select(User).where(User.role == Role.HOUSEKEEPER,
                               User.id.in_(select(Assignment.user_id)))
            .order_by(User.username)).all()
    return context


def building_picker_context(session: Session, filters: RouteFilters, args) -> dict:
    """For a view of more buildings than a select can offer (the whole estate): the
    building chosen, and those whose name starts with what was typed (`bq`)."""
    typed = args.get("bq", "").strip()[:TEXT["search"]]
    return {"building_picker": True, "bq": typed,
            "chosen_building": building_named(session, filters.building_id)
            if filters.building_id is not None else None,
            "building_choices": find_buildings(session, filters.building_ids, typed),
            "choice_args": query_args(args, drop=("bq", "building", "page", "saved"))}

