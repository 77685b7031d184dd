"""The import page's database work: checking an upload's form, recent jobs, a job's bad
rows as CSV, and the header names a community adds."""
from __future__ import annotations

import csv
import io

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..limits import current_limits
from ..models import Community, HeaderAlias, ImportJob, ImportKind, User, record_audit
from ..params import id_param
from .headers import FIELDS, normalise


def communities() -> list[Community]:
    return list(db.session.scalars(select(Community).order_by(Community.name, Community.id)))


def check_upload(form, upload, choices: list[Community]) -> tuple[dict, dict]:
    """The kind, community and check-only flag of an upload, or errors by field."""
    errors = {}
    try:
        kind = ImportKind(form.get("kind", ""))
    except ValueError:
        kind, errors["kind"] = None, _("Choose what the file holds.")
    community_id = id_param(form.get("community"))
    if community_id is not None and community_id not in {c.id for c in choices}:
        abort(404)
    if upload is None or not upload.filename:
        errors["file"] = _("Choose a CSV or Excel file.")
    return {"kind": kind, "community_id": community_id,
            "dry_run": form.get("dry_run") == "yes"}, errors


def recent_jobs(limit: int = 20) -> list[ImportJob]:
    return list(db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def get_job_or_404(job_id: int) -> ImportJob:
    # Always read again: the job is written by another session (its thread).
    job = db.session.get(ImportJob, job_id, populate_existing=True)
    if job is None:
        abort(404)
    return job


def problems_csv(job: ImportJob) -> str:
    """The bad rows as CSV, with a BOM so that Excel reads the Chinese right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Line"), _("Column"), _("Value"), _("Reason")])
    writer.writerows(job.errors or [])
    if job.error_count > len(job.errors or []):
        writer.writerow(["", "", "", _("… and %(n)s more problems not listed.",
                                       n=job.error_count - len(job.errors))])
    return out.getvalue()


def aliases_of(community: Community | None) -> list[HeaderAlias]:
    if community is None:
        return []
    return list(db.session.scalars(select(HeaderAlias).where(
        HeaderAlias.community_id == community.id).order_by(HeaderAlias.kind, HeaderAlias.field,
                                                           HeaderAlias.alias)))


def add_alias(form, user: User, choices: list[Community]) -> tuple[HeaderAlias | None, dict]:
    """A column name for a field of one community's files; errors by field."""
    errors = {}
    community_id = id_param(form.get("community"))
    community = next((c for c in choices if c.id == community_id), None)
    if community is None:
        errors["community"] = _("Choose the community.")
    try:
        kind = ImportKind(form.get("kind", ""))
    except ValueError:
        kind, errors["kind"] = None, _("Choose the kind of file.")
    name = form.get("field", "")
    if kind is not None and name not in {f.name for f in FIELDS[kind]}:
        errors["field"] = _("Choose the field this column holds.")
    written = form.get("alias", "").strip()
    alias = normalise(written)
    limit = current_limits().text_limit("header_alias")
    if not alias:
        errors["alias"] = _("Write the column name as the file has it.")
    elif len(written) > limit or len(alias) > limit:
        errors["alias"] = _("At most %(n)s characters.", n=limit)
    if errors:
        return None, errors
    taken = db.session.scalar(select(HeaderAlias).where(
        HeaderAlias.community_id == community.id, HeaderAlias.kind == kind,
        HeaderAlias.alias == alias))
    builtin = {normalise(a): f.name for f in FIELDS[kind] for a in (f.name, *f.aliases)}
    if taken is not None or builtin.get(alias) == name:
        return None, {"alias": _("This name is known already.")}
    entry = HeaderAlias(community_id=community.id, kind=kind, field=name, alias=alias,
                        created_by=user.id)
    db.session.add(entry)
    db.session.flush()
    record_audit(user, "import.header_add", "header_alias", entry.id, kind=kind.value,
                 field=name, alias=alias, community=community.id)
    return entry, {}


def remove_alias(alias_id: int, user: User) -> HeaderAlias:
    entry = db.session.get(HeaderAlias, alias_id)
    if entry is None:
        abort(404)
    record_audit(user, "import.header_remove", "header_alias", entry.id, kind=entry.kind.value,
                 field=entry.field, alias=entry.alias, community=entry.community_id)
    db.session.delete(entry)
    return entry
