from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..urls import safe_next
from . import bp
from .forms import LANGUAGES, LanguageForm, LoginForm
from .services import authenticate, end_login_session, start_login_session


def login_page(form: LoginForm | None = None, error: str | None = None):
    return render_template("auth/login.html", form=form or LoginForm(), error=error)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return login_page(form), (422 if request.method == "POST" else 200)
    result = authenticate(db.session, form.username.data, form.password.data,
                          free_attempts=current_app.config["LOGIN_FREE_ATTEMPTS"])
    db.session.commit()
    if result.user is None:
        if result.retry_after:
            error = _("Too many failed attempts. Please wait %(seconds)s seconds and try again.",
                      seconds=result.retry_after)
            return login_page(form, error), 429
        return login_page(form, _("Wrong username or password.")), 401
    session.clear()  # new session id at sign-in (session fixation)
    start_login_session(result.user, user_agent=request.user_agent.string)
    db.session.commit()
    login_user(result.user, remember=True)
    return redirect(safe_next(request.args.get("next")), code=303)


@bp.post("/logout")
@login_required
def logout():
    end_login_session(current_user)
    db.session.commit()
    session.clear()
    logout_user()  # after clear(): it leaves the order to delete the remember cookie
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = LanguageForm(locale=current_user.locale or "zh_CN")
    if form.validate_on_submit():
        current_user.locale = form.locale.data
        db.session.commit()
        flash(_("Language changed."), "success")
        return redirect(url_for("auth.account"), code=303)
    return render_template("auth/account.html", form=form, languages=LANGUAGES)


@bp.post("/language")
def language():
    """Language switch on the sign-in page, before anyone is signed in."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
    return redirect(url_for("auth.login"), code=303)
