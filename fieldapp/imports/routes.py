from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import SEES_ALL_UNITS, role_required
from ..extensions import db
from ..htmx import render_page_or_fragment, wants_json
from ..limits import MIB, current_limits
from ..models import ImportStatus
from ..params import id_param
from . import bp
from .headers import FIELDS, KIND_LABELS
from .headers import field as field_of
from .jobs import TooLarge, create_job, effective_status, start, store_upload
from .services import (
    add_alias,
    aliases_of,
    check_upload,
    communities,
    get_job_or_404,
    problems_csv,
    recent_jobs,
    remove_alias,
)

RUNNING = (ImportStatus.QUEUED, ImportStatus.RUNNING)


@bp.record_once
def _large_uploads(state):
    """The import file is the one body larger than the app's limit: raise it for that
    route before anything (the CSRF check) reads the body."""
    def allow_import_file():
        if request.endpoint == "imports.upload":
            # The file and a few small form fields.
            request.max_content_length = current_limits().import_bytes + 64 * 1024
    state.app.before_request_funcs.setdefault(None, []).insert(0, allow_import_file)


@bp.before_request
@login_required
@role_required(*SEES_ALL_UNITS)
def require_importer():
    """Imports are for supervisors and admins."""


def _index(values, errors, status=200):
    return render_template("imports/index.html", kinds=KIND_LABELS, fields=FIELDS,
                           communities=communities(), jobs=recent_jobs(), values=values,
                           errors=errors, status_of=effective_status,
                           limit=size_text(current_limits().import_bytes)), status


def size_text(n: int) -> str:
    return f"{n // MIB} MB" if n >= MIB else f"{max(n // 1024, 1)} KB"


@bp.get("/imports")
def index():
    return _index({"kind": request.args.get("kind", "")}, {})


@bp.post("/imports")
def upload():
    upload = request.files.get("file")
    choices = communities()
    values, errors = check_upload(request.form, upload, choices)
    if not errors:
        try:
            stored, size = store_upload(upload.stream, current_limits().import_bytes)
        except TooLarge:
            errors["file"] = _("The file is larger than %(size)s.",
                               size=size_text(current_limits().import_bytes))
    if errors:
        if wants_json():
            return jsonify(error="invalid", errors=errors), 422
        return _index(request.form, errors, 422)
    job = create_job(current_user, values["kind"], upload.filename, stored_as=stored, size=size,
                     community_id=values["community_id"], dry_run=values["dry_run"],
                     locale=str(get_locale()))
    db.session.commit()
    start(current_app._get_current_object(), job.id)
    if wants_json():
        return jsonify(job_id=job.id, url=url_for("imports.job", job_id=job.id)), 202
    return redirect(url_for("imports.job", job_id=job.id), code=303)


@bp.get("/imports/<int:job_id>")
def job(job_id: int):
    job = get_job_or_404(job_id)
    status = effective_status(job)
    return render_page_or_fragment("imports/job.html", "imports/_job.html", job=job,
                                   status=status, running=status in RUNNING,
                                   kinds=KIND_LABELS,
                                   field_label=lambda name: field_of(job.kind, name).label)


@bp.get("/imports/<int:job_id>/problems.csv")
def problems(job_id: int):
    job = get_job_or_404(job_id)
    name = f"import-{job.id}-problems.csv"
    return Response(problems_csv(job), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _headers_page(community_id, values, errors, status=200):
    choices = communities()
    community = next((c for c in choices if c.id == community_id), choices[0] if choices else None)
    return render_template("imports/headers.html", fields=FIELDS, kinds=KIND_LABELS,
                           communities=choices, community=community,
                           aliases=aliases_of(community), values=values, errors=errors), status


@bp.get("/imports/headers")
def headers():
    return _headers_page(id_param(request.args.get("community")), {}, {})


@bp.post("/imports/headers")
def add_header():
    entry, errors = add_alias(request.form, current_user, communities())
    if errors:
        db.session.rollback()
        if wants_json():
            return jsonify(error="invalid", errors=errors), 422
        return _headers_page(id_param(request.form.get("community")), request.form, errors, 422)
    db.session.commit()
    flash(_("Column name added: “%(alias)s”.", alias=request.form.get("alias", "").strip()),
          "success")
    return redirect(url_for("imports.headers", community=entry.community_id), code=303)


@bp.post("/imports/headers/<int:alias_id>/delete")
def remove_header(alias_id: int):
    entry = remove_alias(alias_id, current_user)
    db.session.commit()
    flash(_("Column name removed."), "success")
    return redirect(url_for("imports.headers", community=entry.community_id), code=303)
