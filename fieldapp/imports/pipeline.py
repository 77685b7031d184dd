"""One import of one file, the same for the command line and the web page: read every
row, check it, and only if no row is bad write them all in one transaction, then bring
the imported units' summaries and promises up to date set-based. The same file twice
changes nothing: records are matched by the billing system's ids."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.import_values import BadValue, building_key, clean, parse_unit_code
from ..domain.summary import UnitAllocationError, refresh_many
from ..models import (
    Building,
    Community,
    HeaderAlias,
    ImportKind,
    ImportStatus,
    Unit,
    User,
    record_audit,
)
from .headers import FIELDS, Mapping, field as field_of, map_headers
from .reader import UnreadableFile, open_table

# Bad rows kept in the report; a file of nothing but bad rows still says how many.
MAX_ERRORS = 10_000
PROGRESS_EVERY = 5_000
AMBIGUOUS = -1

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    value: str
    reason: str

    def as_list(self) -> list:
        return [self.line, self.column, self.value, self.reason]


@dataclass
class Outcome:
    status: ImportStatus
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    report: dict = field(default_factory=dict)
    message: str = ""


class Importer:
    """Parse rows one by one (`parse_row`), check across rows (`check_all`), then write
    (`write`, counts by what happened). Problems go to `bad`."""

    kind: ImportKind

    def __init__(self, session: Session, community_id: int | None, today: date):
        self.session = session
        self.today = today
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.bad_lines: set[int] = set()
        self.unit_ids: set[int] = set()
        self.lines_of_unit: dict[int, list[tuple[int, str]]] = {}
        self.community_id = community_id
        self.columns: dict[str, int] = {}
        self.headers: list[str] = []

    # Reading cells

    def use(self, mapping: Mapping) -> None:
        self.columns, self.headers = mapping.columns, mapping.headers

    def header(self, name: str) -> str:
        i = self.columns.get(name)
        return self.headers[i] if i is not None else str(field_of(self.kind, name).label)

    def raw(self, cells: list, name: str):
        i = self.columns.get(name)
        if i is None or i >= len(cells):
            return ""
        return cells[i]

    def text(self, cells: list, name: str, limit: int | None = None, line: int = 0) -> str:
        value = clean(self.raw(cells, name))
        if limit is not None and len(value) > limit:
            self.bad(line, name, value, _too_long(limit))
            return ""
        return value

    def value(self, line: int, cells: list, name: str, parse, required: bool = False):
        """The parsed cell; None when empty (a problem if required) or bad."""
        raw = self.raw(cells, name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.bad(line, name, "", _missing())
            return None
        try:
            return parse(raw)
        except BadValue as e:
            self.bad(line, name, clean(raw), e.reason)
            return None

    def bad(self, line: int, name: str, value, reason) -> None:
        self.problem_count += 1
        self.bad_lines.add(line)
        if len(self.problems) < MAX_ERRORS:
            column = self.header(name) if name else ""
            self.problems.append(Problem(line, column, str(value)[:200], str(reason)))

    def blame(self, unit_id: int, line: int, value: str) -> None:
        """The row to name if the unit's payments cannot be allocated."""
        self.lines_of_unit.setdefault(unit_id, []).append((line, value))

    # Stages

    def aliases(self) -> dict[str, str]:
        if self.community_id is None:
            return {}
        return {a.alias: a.field for a in self.session.scalars(select(HeaderAlias).where(
            HeaderAlias.community_id == self.community_id, HeaderAlias.kind == self.kind))}

    def check_mapping(self, mapping: Mapping, line: int) -> None:
        for name in mapping.missing:
            f = field_of(self.kind, name)
            self.bad(line, name, "", _no_column(f))
        if any(f.name == "unit_external_id" for f in FIELDS[self.kind]) and \
                "unit" not in mapping.columns and "unit_external_id" not in mapping.columns:
            self.bad(line, "unit", "", _no_column(field_of(self.kind, "unit")))

    def parse_row(self, line: int, cells: list) -> None:
        raise NotImplementedError

    def check_all(self) -> None:
        """Checks across rows and against the database, before anything is written."""

    def write(self) -> dict:
        raise NotImplementedError

    def after_refresh(self) -> None:
        """Work that needs the refreshed allocation (none by default)."""


class UnitIndex:
    """Units by billing id and by building and number, in the import's communities."""

    def __init__(self, session: Session, community_id: int | None):
        q = select(Unit.id, Unit.external_id, Unit.number, Building.name).join(
            Building, Building.id == Unit.building_id)
        if community_id is not None:
            q = q.where(Building.community_id == community_id)
        self.by_ext: dict[str, int] = {}
        self.by_code: dict[tuple[str, str], int] = {}
        for unit_id, ext, number, building in session.execute(q):
            if ext:
                self.by_ext[ext] = unit_id
            key = (building_key(building), number.lower())
            self.by_code[key] = AMBIGUOUS if key in self.by_code else unit_id
        if community_id is None:
            # A billing id is unique across communities; look beyond the chosen one.
            pass

    def fast(self, columns: dict[str, int]):
        """A resolver for the common row (text cells that name a stored unit), remembering
        each unit cell; None sends the row to `resolve`, which says what is wrong."""
        i_ext, i_unit = columns.get("unit_external_id"), columns.get("unit")
        i_building, i_entrance = columns.get("building"), columns.get("entrance")
        by_ext, memo = self.by_ext, {}

        def resolve(cells):
            if i_ext is not None:
                ext = cells[i_ext].strip()
                if ext:
                    return by_ext.get(ext)
            if i_building is None and i_entrance is None:
                key = cells[i_unit]
                written = (key, "", "")
            else:
                written = key = (cells[i_unit],
                                 cells[i_building] if i_building is not None else "",
                                 cells[i_entrance] if i_entrance is not None else "")
            found = memo.get(key, AMBIGUOUS)
            if found != AMBIGUOUS:
                return found
            try:
                code = parse_unit_code(written[0])
            except BadValue:
                return None
            building = clean(written[1]) or code.building
            entrance = code.entrance or clean(written[2])
            number = f"{entrance}-{code.room}" if entrance else code.room
            unit_id = self.by_code.get((building_key(building or ""), number.lower()))
            found = memo[key] = unit_id if unit_id != AMBIGUOUS else None
            return found
        return resolve if i_unit is not None or i_ext is not None else None

    def resolve(self, importer: Importer, line: int, cells: list) -> int | None:
        ext = importer.text(cells, "unit_external_id")
        if ext:
            unit_id = self.by_ext.get(ext)
            if unit_id is None:
                importer.bad(line, "unit_external_id", ext, _no_unit_id())
            return unit_id
        raw = importer.raw(cells, "unit")
        try:
            code = parse_unit_code(raw)
        except BadValue as e:
            importer.bad(line, "unit", clean(raw), e.reason)
            return None
        building = importer.text(cells, "building") or code.building
        if not building:
            importer.bad(line, "building", "", _missing())
            return None
        entrance = code.entrance or importer.text(cells, "entrance")
        number = f"{entrance}-{code.room}" if entrance else code.room
        unit_id = self.by_code.get((building_key(building), number.lower()))
        if unit_id is None:
            importer.bad(line, "unit", clean(raw), _no_unit(building, number))
        elif unit_id == AMBIGUOUS:
            importer.bad(line, "unit", clean(raw), _ambiguous_unit())
            return None
        return unit_id


def default_community(session: Session, community_id: int | None) -> int | None:
    """The chosen community, or the only one there is."""
    if community_id is not None:
        return community_id
    ids = list(session.scalars(select(Community.id).limit(2)))
    return ids[0] if len(ids) == 1 else None


def run_import(session: Session, kind: ImportKind, path: Path, *, today: date,
               community_id: int | None = None, user: User | None = None,
               dry_run: bool = False, progress: Progress | None = None,
               job_id: int | None = None, locale: str = "en") -> Outcome:
    """Import one file. Writes nothing unless every row is good; with `dry_run`, checks
    and counts everything and then rolls back. The caller commits. Reasons are written
    in `locale`."""
    with force_locale(locale):
        return _run(session, kind, path, today, community_id, user, dry_run, progress,
                    job_id)


def _run(session, kind, path, today, community_id, user, dry_run, progress, job_id):
    from .kinds import IMPORTERS
    report = (progress or (lambda phase, done, total: None))
    report("reading", 0, 0)
    try:
        table = open_table(path)
    except UnreadableFile as e:
        return Outcome(ImportStatus.FAILED, message=str(e.reason))
    importer = IMPORTERS[kind](session, default_community(session, community_id), today)
    mapping = map_headers(kind, table.headers, importer.aliases())
    importer.use(mapping)
    summary = {"format": table.format, "encoding": table.encoding,
               "columns": {mapping.headers[i]: name for name, i in mapping.columns.items()},
               "unused": mapping.unused}
    importer.check_mapping(mapping, table.header_line)
    if importer.problems:
        return _rejected(importer, 0, summary)
    rows = 0
    for line, cells in table.rows:
        rows += 1
        importer.parse_row(line, cells)
        if rows % PROGRESS_EVERY == 0:
            report("checking", rows, max(table.rows_total, rows))
    report("checking", rows, rows)
    if rows == 0:
        return Outcome(ImportStatus.FAILED, report=summary, message=str(_no_rows()))
    if not importer.problems:
        importer.check_all()
    if importer.problems:
        return _rejected(importer, rows, summary)
    report("writing", rows, rows)
    counts = importer.write()
    report("summaries", rows, rows)
    try:
        counts["summaries"] = refresh_many(session, importer.unit_ids, today)
    except UnitAllocationError as e:
        session.rollback()
        for line, value in importer.lines_of_unit.get(e.unit_id) or [(0, "")]:
            importer.bad(line, "amount", value, _refund_too_large())
        return _rejected(importer, rows, summary)
    importer.after_refresh()
    summary["counts"] = counts
    if dry_run:
        session.rollback()
    else:
        record_audit(user, f"import.{kind.value}", "import_job", job_id, file=path.name,
                     rows=rows, **{k: v for k, v in counts.items() if isinstance(v, int)})
    return Outcome(ImportStatus.DONE, rows=rows, report=summary)


def _rejected(importer: Importer, rows: int, summary: dict) -> Outcome:
    importer.session.rollback()
    problems = sorted(importer.problems, key=lambda p: p.line)
    summary["bad_rows"] = len(importer.bad_lines)
    return Outcome(ImportStatus.REJECTED, rows=rows, problems=problems,
                   problem_count=importer.problem_count, report=summary)


def count_rows(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# Reasons, in the reader's language (lazy: rendered where the job runs).

def _too_long(limit: int):
    return _l("At most %(n)s characters.", n=limit)


def _missing():
    return _l("This column is empty: it is needed.")


def _no_column(f):
    return _l("No column for %(field)s: name one %(names)s.", field=f.label,
              names=" / ".join(f.aliases[:4]))


def _no_unit_id():
    return _l("No unit has this id: import the units first.")


def _no_unit(building: str, number: str):
    return _l("There is no unit %(number)s in building %(building)s: import the units first.",
              number=number, building=building)


def _ambiguous_unit():
    return _l("Units of more than one community have this number: choose the community.")


def _no_rows():
    return _l("The file has a header row but no rows.")


def _refund_too_large():
    return _l("The refunds of this unit are more than all it paid.")
